// The eBPF path's user-space cost alone, without a kernel: synthetic probe records (a read and a write of one byte
// per record pair, as the dd bs=1 load makes) through RecordDecoder and the Collector, records/s. For profiling
// (`node --cpu-prof dist/bench/live-decode.js`); the live bench measures the whole path.
//   node dist/bench/live-decode.js [RECORDS=4000000] [events]   prints one JSON line ('events': through libscap
//   event bytes, as before the direct read/write path)
import {Collector} from '../src/capture/collector.js'
import {LIVE_EVENT_TABLE} from '../src/capture/live/events.js'
import {RecordDecoder} from '../src/capture/live/records.js'

const n = Number(process.argv[2] ?? 4_000_000)
const REC = 104
// 1024 records laid out as in the ring: read(0, 1) and write(1, 1) by one thread, alternating
const ring = Buffer.alloc(1024 * REC)
for (let i = 0; i < 1024; i++) {
  const at = i * REC
  ring.writeBigUInt64LE(BigInt(1_000_000 + i), at)
  ring.writeUInt32LE(4242, at + 8)
  ring.writeUInt32LE(4242, at + 12)
  ring.writeUInt16LE(i & 1, at + 16)
  ring.writeUInt16LE(REC, at + 18)
  ring.writeBigInt64LE(1n, at + 40)
  ring.writeBigInt64LE(BigInt(i & 1), at + 48)
}
const c = new Collector(LIVE_EVENT_TABLE, {})
c.loadState([{tid: 4242n, pid: 4242n, ptid: 1n, sid: 0n, comm: 'dd', exe: 'dd', exepath: '/usr/bin/dd', args: [], env: [], cwd: '/', flags: 0,
  uid: 0, gid: 0, vtid: 4242n, vpid: 4242n, cgroups: [], root: '/', cloneTs: 5n, tty: 0, loginuid: -1,
  fds: [{fd: 0, ino: 0n, type: 1, name: '/dev/zero', openFlags: 1, sip: 0, dip: 0, sport: 0, dport: 0, l4proto: 0},
    {fd: 1, ino: 0n, type: 1, name: '/dev/null', openFlags: 2, sip: 0, dip: 0, sport: 0, dport: 0, l4proto: 0}]}], {users: [], groups: []})
const direct = process.argv[3] !== 'events'
const dec = new RecordDecoder(c, 0n, (ev, at) => c.event(ev, at), direct)
const t0 = process.hrtime.bigint()
for (let i = 0; i < n; i++) {
  dec.record(ring, (i & 1023) * REC, REC)
  if ((i & 1023) === 1023) c.out.length = 0
}
const sec = Number(process.hrtime.bigint() - t0) / 1e9
console.log(JSON.stringify({records: n, seconds: Number(sec.toFixed(3)), recordsPerSec: Math.round(n / sec), direct}))
