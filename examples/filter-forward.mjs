// Forward the records matching a SysFlow condition as JSON lines (for a SIEM, say).
// usage: node filter-forward.mjs CONDITION TRACE...
import {records, attr, opFlagNames, Kind} from 'sysflow'

const [condition, ...inputs] = process.argv.slice(2)
for await (const r of records(inputs, {filter: condition})) {
  const line = {
    ts: String(r.rec.ts), // nanoseconds, exact: bigint as a string
    type: attr(r, 'sf.type'),
    exe: attr(r, 'sf.proc.exe') ?? null,
    container: r.container?.name ?? null,
    ops: 'opFlags' in r.rec ? opFlagNames(r.rec.opFlags, r.rec.kind === Kind.NetworkFlow || r.rec.kind === Kind.NetworkEvent) : [],
    path: attr(r, 'sf.file.path') ?? null,
  }
  process.stdout.write(JSON.stringify(line) + '\n')
}
