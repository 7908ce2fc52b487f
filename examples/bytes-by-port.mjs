// Bytes per container and destination port, summed over NetworkFlow records (exact: bigints).
// usage: node bytes-by-port.mjs TRACE...
import {records, Kind} from 'sysflow'

const totals = new Map()
for await (const r of records(process.argv.slice(2))) {
  if (r.rec.kind !== Kind.NetworkFlow) continue
  const container = r.container?.name ?? 'host'
  const key = `${JSON.stringify(container)}:${r.rec.dport}`
  const t = totals.get(key) ?? {container, dport: r.rec.dport, flows: 0, recv: 0n, sent: 0n}
  t.flows++
  t.recv += r.rec.numRRecvBytes ?? 0n // absent where the trace's writer lacked the field
  t.sent += r.rec.numWSendBytes ?? 0n
  totals.set(key, t)
}
const rows = [...totals.values()].sort((a, b) => (a.container < b.container ? -1 : a.container > b.container ? 1 : a.dport - b.dport))
console.log('container\tdport\tflows\trecv_bytes\tsent_bytes\ttotal_bytes')
for (const t of rows) console.log(`${JSON.stringify(t.container)}\t${t.dport}\t${t.flows}\t${t.recv}\t${t.sent}\t${t.recv + t.sent}`)
