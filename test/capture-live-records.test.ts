// The eBPF path's decoding, without a kernel: synthetic probe records (struct sf_rec) -> libscap events -> the
// Collector, checked record by record. Each case targets one mechanism: open flags to PPM_O_*, cgroup paths to a
// container id, the tuple orientation of accepted connections, a fork taking its parent's state, sendmmsg bytes.
import test from 'ava'
import {Collector} from '../src/capture/collector.js'
import {LIVE_EVENT_TABLE} from '../src/capture/live/events.js'
import {cgroupList, K_EXEC, K_EXIT, K_FORK, K_IOAGG, openFlagsToScap, RecordDecoder} from '../src/capture/live/records.js'
import {preflightEbpf} from '../src/capture/preflight.js'
import {OpFlag} from '../src/format/flags.js'
import {File, FileFlow, Kind, NetworkFlow, Process, ProcessEvent, SysFlowRecord} from '../src/format/records.js'
import type {ScapThread} from '../src/native/scap.js'

interface Rec {
  kind: number
  tid: number
  pid?: number
  ts?: bigint
  ret?: number
  args?: number[]
  tuple?: [fam: number, sip: number, sport: number, dip: number, dport: number]
  blobs?: string[]
  aux?: bigint
}

/** A probe record laid out as struct sf_rec. */
function rec(r: Rec): Buffer {
  const blobs = (r.blobs ?? []).map((s) => Buffer.from(s, 'utf8'))
  const b = Buffer.alloc(104 + blobs.reduce((n, x) => n + x.length, 0))
  b.writeBigUInt64LE(r.ts ?? 1000n, 0)
  b.writeUInt32LE(r.tid, 8)
  b.writeUInt32LE(r.pid ?? r.tid, 12)
  b.writeUInt16LE(r.kind, 16)
  b.writeUInt16LE(b.length, 18)
  blobs.forEach((x, i) => b.writeUInt16LE(x.length, 20 + 2 * i))
  if (r.tuple) {
    const [fam, sip, sport, dip, dport] = r.tuple
    b[26] = fam
    b.writeUInt16LE(sport, 28)
    b.writeUInt16LE(dport, 30)
    b.writeUInt32LE(sip, 32)
    b.writeUInt32LE(dip, 36)
  }
  b.writeBigInt64LE(BigInt(r.ret ?? 0), 40)
  ;(r.args ?? []).forEach((a, i) => b.writeBigInt64LE(BigInt(a), 48 + 8 * i))
  b.writeBigUInt64LE(r.aux ?? 0n, 96)
  let at = 104
  for (const x of blobs) at += x.copy(b, at)
  return b
}

function thread(tid: number, ptid: number, exe: string, args: string[]): ScapThread {
  return {
    tid: BigInt(tid), pid: BigInt(tid), ptid: BigInt(ptid), sid: 0n, comm: exe.split('/').pop()!, exe, exepath: exe, args, env: [], cwd: '/srv/',
    flags: 0, uid: 1000, gid: 1000, vtid: BigInt(tid), vpid: BigInt(tid), cgroups: [], root: '/', cloneTs: 5n, tty: 0, loginuid: -1, fds: [],
  }
}

/** Decode records through a Collector (offset 0: the probe's ts is the event ts) and return everything it wrote. */
function run(threads: ScapThread[], recs: Rec[]): SysFlowRecord[] {
  const c = new Collector(LIVE_EVENT_TABLE, {})
  c.loadState(threads, {users: [], groups: []})
  const dec = new RecordDecoder(c, 0n, (ev, at) => c.event(ev, at))
  for (const r of recs) {
    const b = rec(r)
    dec.record(b, 0, b.length)
  }
  c.finish()
  return c.out
}

const ip = (a: number, b: number, c: number, d: number) => (a | (b << 8) | (c << 16) | (d << 24)) >>> 0

test('open(2) flags become PPM_O_* flags', (t) => {
  t.is(openFlagsToScap(0), 1) // O_RDONLY
  t.is(openFlagsToScap(0o1 | 0o100 | 0o1000 | 0o2000000), 2 | 4 | 256 | 4096) // O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC
  t.is(openFlagsToScap(0o2 | 0o200000), 3 | 1024) // O_RDWR|O_DIRECTORY
  t.is(openFlagsToScap(0o4010000), 1 | 16 | 128) // O_SYNC includes O_DSYNC
})

test('cgroup blobs (names leaf first, per hierarchy) become subsys=path entries', (t) => {
  t.deepEqual(cgroupList(`${'a'.repeat(64)}\0docker\0\0\0`), [`unified=/docker/${'a'.repeat(64)}`, 'pids=/'])
  t.deepEqual(cgroupList('\0x\0y\0\0'), ['unified=/', 'pids=/y/x'])
  t.deepEqual(cgroupList(''), ['unified=/'])
})

test('an accepted connection: the peer is the source, bytes and ops counted, flow written at close', (t) => {
  const out = run([thread(100, 1, '/usr/sbin/httpd', [])], [
    {kind: 288, tid: 100, ret: 7, args: [3, 0, 0, 0], tuple: [2, ip(10, 0, 0, 1), 80, ip(10, 0, 0, 2), 5555]},
    {kind: 0, tid: 100, ret: 10, args: [7, 0, 4096]},
    {kind: 1, tid: 100, ret: 3, args: [7, 0, 3]},
    {kind: 3, tid: 100, ret: 0, args: [7]},
  ])
  const nf = out.filter((r): r is NetworkFlow => r.kind === Kind.NetworkFlow)
  t.is(nf.length, 1)
  t.like(nf[0], {sip: ip(10, 0, 0, 2), sport: 5555, dip: ip(10, 0, 0, 1), dport: 80, proto: 6, fd: 7, numRRecvBytes: 10n, numRRecvOps: 1n, numWSendBytes: 3n, numWSendOps: 1n})
  t.is(nf[0].opFlags, OpFlag.ACCEPT | OpFlag.READ_RECV | OpFlag.WRITE_SEND | OpFlag.CLOSE)
})

test('fork takes the parent state, exec the new image and its cgroup container, exit its status', (t) => {
  const id = 'b'.repeat(64)
  const out = run([thread(100, 1, '/bin/bash', ['-l'])], [
    {kind: K_FORK, tid: 101, pid: 101, ts: 2000n, args: [100, 100, 0, 100], blobs: ['', '', '\0\0']},
    {kind: K_EXEC, tid: 101, pid: 101, ts: 3000n, args: [1000, 1000, 100, 101], blobs: ['/usr/bin/x', 'x\0-a\0b c\0', `${id}\0docker\0\0\0`]},
    {kind: K_EXIT, tid: 101, pid: 101, ts: 4000n, ret: 256},
  ])
  const pes = out.filter((r): r is ProcessEvent => r.kind === Kind.ProcessEvent)
  t.deepEqual(pes.map((e) => [e.opFlags, e.procOID.hpid, e.ts, e.ret]), [
    [OpFlag.CLONE, 101n, 2000n, 0],
    [OpFlag.EXEC, 101n, 3000n, 0],
    [OpFlag.EXIT, 101n, 4000n, 256],
  ])
  const procs = out.filter((r): r is Process => r.kind === Kind.Process && r.oid.hpid === 101n)
  t.like(procs[0], {state: 'CREATED', exe: '/bin/bash', exeArgs: '-l', cwd: '/srv/', uid: 1000, oid: {hpid: 101n, createTS: 2000n}, poid: {hpid: 100n, createTS: 5n}, containerId: null})
  const last = procs.at(-1)!
  t.like(last, {exe: '/usr/bin/x', exeArgs: '-a b c'})
})

test('a process forked inside a container cgroup carries the container id', (t) => {
  const id = 'c'.repeat(64)
  const out = run([thread(100, 1, '/bin/sh', [])], [
    {kind: K_FORK, tid: 102, pid: 102, ts: 2000n, args: [100, 100, 0, 100], blobs: ['', '', `${id}\0docker\0\0\0`]},
    {kind: 2, tid: 102, ret: 4, args: [0, 0], blobs: ['/etc/hosts\0']},
  ])
  const p = out.find((r): r is Process => r.kind === Kind.Process && r.oid.hpid === 102n)!
  t.is(p.containerId, 'c'.repeat(12))
  t.true(out.some((r) => r.kind === Kind.Container && r.id === 'c'.repeat(12)))
})

test('sendmmsg counts the bytes of its messages; an unconnected UDP send keeps the peer from msg_name', (t) => {
  const out = run([thread(100, 1, '/usr/bin/dig', [])], [
    {kind: 41, tid: 100, ret: 5, args: [2, 2, 0]},
    {kind: 307, tid: 100, ret: 2, args: [5, 0, 2], tuple: [2, ip(127, 0, 0, 1), 4000, ip(127, 0, 0, 53), 53], aux: 300n},
    {kind: 3, tid: 100, ret: 0, args: [5]},
  ])
  const nf = out.filter((r): r is NetworkFlow => r.kind === Kind.NetworkFlow)
  t.is(nf.length, 1)
  t.like(nf[0], {proto: 17, sport: 4000, dport: 53, numWSendBytes: 300n, numWSendOps: 1n})
})

test('eBPF preflight: one message naming what is missing and what to do, exit code 3', (t) => {
  const err = t.throws(() => preflightEbpf(() => undefined, {SYSFLOW_BTF_PATH: '/nonexistent/vmlinux'}))
  t.is((err as Error & {exitCode: number}).exitCode, 3)
  t.regex(err!.message, /^live capture unavailable: .*the kernel has no BTF \(\/nonexistent\/vmlinux missing\).*libbpf is not installed\. To fix: .*CONFIG_DEBUG_INFO_BTF.*install libbpf1/)
  // with BTF and libbpf present, only the rights remain (root here, or CAP_BPF + CAP_PERFMON)
  const root = process.geteuid?.() === 0
  if (root) t.notThrows(() => preflightEbpf(() => '/usr/lib/libbpf.so.1', {SYSFLOW_BTF_PATH: process.execPath}))
})

test('probe time (CLOCK_MONOTONIC) plus the wall-clock offset, carried across the 32-bit halves, exactly', (t) => {
  const c = new Collector(LIVE_EVENT_TABLE, {})
  c.loadState([thread(100, 1, '/bin/sh', [])], {users: [], groups: []})
  const seen: bigint[] = []
  const offset = 1_796_287_469_123_456_789n - 0xfffffff0n
  const dec = new RecordDecoder(c, offset, (ev, at) => seen.push(ev.readBigUInt64LE(at)))
  const b = rec({kind: K_EXIT, tid: 100, ts: 0x1_ffff_fff0n, ret: 0})
  dec.record(b, 0, b.length)
  t.deepEqual(seen, [0x1_ffff_fff0n + offset])
})

test('a process recorded on the host, then exec-ing inside a container cgroup, is that container\'s from its exec on', (t) => {
  // The gap this closes: the Process record was made before the process joined the cgroup; libsinsp resolves the
  // container again from the exec's cgroups, and the MODIFIED Process (after its Container) carries it.
  const id = 'd'.repeat(64)
  const out = run([thread(100, 1, '/bin/sh', [])], [
    {kind: K_FORK, tid: 103, pid: 103, ts: 2000n, args: [100, 100, 0, 100], blobs: ['', '', '\0\0']},
    {kind: 2, tid: 103, ts: 2500n, ret: 4, args: [0, 0], blobs: ['/etc/hosts\0']},
    {kind: 3, tid: 103, ts: 2600n, ret: 0, args: [4]},
    {kind: K_EXEC, tid: 103, pid: 103, ts: 3000n, args: [0, 0, 100, 103], blobs: ['/usr/bin/y', 'y\0', `${id}\0docker\0\0\0`]},
    {kind: 2, tid: 103, ts: 3500n, ret: 5, args: [0, 0], blobs: ['/etc/passwd\0']},
  ])
  const procs = out.filter((r): r is Process => r.kind === Kind.Process && r.oid.hpid === 103n)
  t.deepEqual(procs.map((p) => [p.state, p.exe, p.containerId]), [['CREATED', '/bin/sh', null], ['MODIFIED', '/usr/bin/y', 'd'.repeat(12)]])
  const ci = out.findIndex((r) => r.kind === Kind.Container && r.id === 'd'.repeat(12))
  const mi = out.findIndex((r) => r.kind === Kind.Process && r.state === 'MODIFIED' && r.oid.hpid === 103n)
  t.true(ci >= 0 && ci < mi)
  const files = out.filter((r) => r.kind === Kind.File).map((f) => [f.path, f.containerId])
  t.deepEqual(files, [['/etc/hosts', null], ['/etc/passwd', 'd'.repeat(12)]])
})

test('under --compat collector the exec keeps the Process record\'s container id (the collector\'s updateProcess)', (t) => {
  const id = 'e'.repeat(64)
  const c = new Collector(LIVE_EVENT_TABLE, {compat: 'collector'})
  c.loadState([thread(100, 1, '/bin/sh', [])], {users: [], groups: []})
  const dec = new RecordDecoder(c, 0n, (ev, at) => c.event(ev, at))
  for (const r of [
    {kind: K_FORK, tid: 104, pid: 104, ts: 2000n, args: [100, 100, 0, 100], blobs: ['', '', '\0\0']},
    {kind: K_EXEC, tid: 104, pid: 104, ts: 3000n, args: [0, 0, 100, 104], blobs: ['/usr/bin/y', 'y\0', `${id}\0docker\0\0\0`]},
  ]) {
    const b = rec(r)
    dec.record(b, 0, b.length)
  }
  c.finish()
  const procs = c.out.filter((r): r is Process => r.kind === Kind.Process && r.oid.hpid === 104n)
  t.deepEqual(procs.map((p) => [p.state, p.containerId]), [['CREATED', null], ['MODIFIED', null]])
})

test('a new container is announced once (for the runtime lookup); its answer rewrites the incomplete Container', (t) => {
  const id = 'f'.repeat(64)
  const c = new Collector(LIVE_EVENT_TABLE, {})
  c.loadState([thread(100, 1, '/bin/sh', [])], {users: [], groups: []})
  const seen: string[] = []
  c.onNewContainer = (_cg, cid) => seen.push(cid)
  const dec = new RecordDecoder(c, 0n, (ev, at) => c.event(ev, at))
  for (const r of [
    {kind: K_FORK, tid: 105, pid: 105, ts: 2000n, args: [100, 100, 0, 100], blobs: ['', '', `${id}\0docker\0\0\0`]},
    {kind: K_FORK, tid: 106, pid: 106, ts: 2100n, args: [105, 105, 0, 105], blobs: ['', '', `${id}\0docker\0\0\0`]},
    {kind: 2, tid: 106, ts: 2500n, ret: 4, args: [0, 0], blobs: ['/etc/hosts\0']},
  ]) {
    const b = rec(r)
    dec.record(b, 0, b.length)
  }
  t.deepEqual(seen, ['f'.repeat(12)])
  c.addContainer({id: 'f'.repeat(12), name: 'web', image: 'nginx:latest', imageid: 'abc', type: 'CT_DOCKER', privileged: false})
  c.finish()
  const cs = c.out.filter((r) => r.kind === Kind.Container).map((r) => [r.id, r.name, r.image])
  t.deepEqual(cs, [['f'.repeat(12), 'incomplete', 'incomplete'], ['f'.repeat(12), 'web', 'nginx:latest']])
})

test('one container-id matcher: an id must be a whole cgroup component of 64 hex (libsinsp), not any 64 hex', (t) => {
  const id = 'a1'.repeat(32)
  const out = run([thread(100, 1, '/bin/sh', [])], [
    // docker's own init cgroup below the container: the old matcher took any 64 hex next to "docker"
    {kind: K_FORK, tid: 107, pid: 107, ts: 2000n, args: [100, 100, 0, 100], blobs: ['', '', `init\0${id}\0docker\0\0\0`]},
    {kind: 2, tid: 107, ts: 2500n, ret: 4, args: [0, 0], blobs: ['/etc/hosts\0']},
    {kind: K_FORK, tid: 108, pid: 108, ts: 2600n, args: [100, 100, 0, 100], blobs: ['', '', `docker-${id}.scope\0system.slice\0\0\0`]},
    {kind: 2, tid: 108, ts: 2700n, ret: 4, args: [0, 0], blobs: ['/etc/hosts\0']},
  ])
  const cid = (hpid: bigint) => out.find((r): r is Process => r.kind === Kind.Process && r.oid.hpid === hpid)?.containerId
  t.is(cid(107n), null)
  t.is(cid(108n), id.slice(0, 12))
})

test('reads and writes decoded straight into the collector, one by one or as the probe\'s aggregates, give exactly the records of the libscap-event path', (t) => {
  // The direct path skips the event bytes; it must change the same state: fds of files and sockets, a failed call,
  // an unknown fd, an fd closed and reopened as another file, a thread of another process; in every mode.
  const recs: Rec[] = [
    {kind: 2, tid: 100, ts: 1000n, ret: 4, args: [0o1, 0], blobs: ['/tmp/a\0']},
    {kind: 1, tid: 100, ts: 1100n, ret: 5, args: [4, 0, 5]},
    {kind: 20, tid: 100, ts: 1200n, ret: 7, args: [4, 0, 2]},
    {kind: 0, tid: 100, ts: 1300n, ret: -11, args: [4, 0, 9]},
    {kind: 0, tid: 100, ts: 1400n, ret: 3, args: [99, 0, 3]},
    {kind: 288, tid: 100, ts: 1500n, ret: 7, args: [3, 0, 0, 0], tuple: [2, ip(10, 0, 0, 1), 80, ip(10, 0, 0, 2), 5555]},
    {kind: 0, tid: 100, ts: 1600n, ret: 10, args: [7, 0, 4096]},
    {kind: 18, tid: 100, ts: 1700n, ret: 2, args: [7, 0, 2, 0]},
    {kind: 3, tid: 100, ts: 1800n, ret: 0, args: [4]},
    {kind: 2, tid: 100, ts: 1900n, ret: 4, args: [0, 0], blobs: ['/etc/b\0']},
    {kind: 17, tid: 100, ts: 2_000_002_000n, ret: 1, args: [4, 0, 1, 0]},
    {kind: 1, tid: 200, ts: 2_000_003_000n, ret: 1, args: [1, 0, 1]},
    {kind: 3, tid: 100, ts: 2_000_004_000n, ret: 0, args: [7]},
  ]
  const runBoth = (opts: ConstructorParameters<typeof Collector>[1], direct: boolean, list = recs): SysFlowRecord[] => {
    const c = new Collector(LIVE_EVENT_TABLE, opts)
    const other = {...thread(200, 1, '/bin/cat', []), fds: [{fd: 1, ino: 0n, type: 1, name: '/var/log/x', openFlags: 2, sip: 0, dip: 0, sport: 0, dport: 0, l4proto: 0}]}
    c.loadState([thread(100, 1, '/usr/sbin/httpd', []), other], {users: [], groups: []})
    const dec = new RecordDecoder(c, 0n, (ev, at) => c.event(ev, at), direct)
    for (const r of list) {
      const b = rec(r)
      dec.record(b, 0, b.length)
    }
    c.finish()
    return c.out
  }
  // The probe's aggregates (K_IOAGG): the runs of reads and writes of one thread on one fd between other records,
  // summed (ops, bytes of the calls that succeeded), first and last time.
  const IO: Record<number, 'r' | 'w'> = {0: 'r', 17: 'r', 19: 'r', 295: 'r', 1: 'w', 18: 'w', 20: 'w', 296: 'w'}
  const aggregated: Rec[] = []
  for (const r of recs) {
    const dir = IO[r.kind]
    if (dir === undefined) {
      aggregated.push(r)
      continue
    }
    const prev = aggregated[aggregated.length - 1]
    const fd = r.args![0]
    const a = prev?.kind === K_IOAGG && prev.tid === r.tid && prev.args![0] === fd ? prev : undefined
    const sum = a ?? {kind: K_IOAGG, tid: r.tid, ts: r.ts, args: [fd, 0, 0, 0, 0]}
    if (!a) aggregated.push(sum)
    const i = dir === 'r' ? 1 : 3
    sum.args![i]++
    sum.args![i + 1] += Math.max(r.ret ?? 0, 0)
    sum.aux = r.ts
  }
  t.is(aggregated.length, recs.length - 3, 'the three calls on fd 4 and the two on socket 7 became a record each')
  for (const opts of [{}, {mode: 'consume' as const}, {containersOnly: true}, {fileReadMode: 2 as const}]) {
    const viaEvents = runBoth(opts, false)
    t.deepEqual(runBoth(opts, true), viaEvents, JSON.stringify(opts))
    t.deepEqual(runBoth(opts, false, aggregated), viaEvents, `aggregated ${JSON.stringify(opts)}`)
    if (Object.keys(opts).length === 0) {
      // not vacuous: the flows carry the counts
      const ff = viaEvents.filter((r) => r.kind === Kind.FileFlow).map((r) => [r.numWSendBytes, r.numWSendOps, r.numRRecvBytes, r.numRRecvOps])
      t.deepEqual(ff, [[12n, 2n, 0n, 1n], [0n, 0n, 1n, 1n], [1n, 1n, 0n, 0n]])
      const nf = viaEvents.filter((r): r is NetworkFlow => r.kind === Kind.NetworkFlow)
      t.like(nf[0], {numRRecvBytes: 10n, numRRecvOps: 1n, numWSendBytes: 2n, numWSendOps: 1n})
    }
  }
})

test('opens and closes decoded straight into the collector give exactly the records of the libscap-event path', (t) => {
  // every open form (open, creat, openat relative to the cwd and to a directory fd, openat2 with its flags in
  // open_how), paths that normalize() must clean and ones it may leave alone, a failed open, a close of an unknown
  // fd, a failed close, a directory
  const recs: Rec[] = [
    {kind: 257, tid: 100, ts: 1000n, ret: 5, args: [-100, 0, 0o1], blobs: ['rel/x\0']},
    {kind: 257, tid: 100, ts: 1010n, ret: 6, args: [-100, 0, 0o200000], blobs: ['/srv/dir/\0']},
    {kind: 257, tid: 100, ts: 1020n, ret: 7, args: [6, 0, 0o2], blobs: ['../y//z/.\0']},
    {kind: 85, tid: 100, ts: 1030n, ret: 8, args: [0, 0o644], blobs: ['/tmp/c\0']},
    {kind: 437, tid: 100, ts: 1040n, ret: 9, args: [-100, 0, 0, 24], blobs: ['/a/./b/../c\0'], aux: 0o1101n},
    {kind: 2, tid: 100, ts: 1050n, ret: -2, args: [0, 0], blobs: ['/nope\0']},
    {kind: 2, tid: 100, ts: 1060n, ret: 10, args: [0, 0], blobs: ['/etc/hostname\0']},
    {kind: 1, tid: 100, ts: 1070n, ret: 3, args: [5, 0, 3]},
    {kind: 0, tid: 100, ts: 1080n, ret: 4, args: [10, 0, 4]},
    {kind: 3, tid: 100, ts: 1090n, ret: 0, args: [5]},
    {kind: 3, tid: 100, ts: 1100n, ret: -9, args: [55]},
    {kind: 3, tid: 100, ts: 1110n, ret: 0, args: [10]},
    {kind: 3, tid: 100, ts: 1120n, ret: -9, args: [7]},
  ]
  const runWith = (opts: ConstructorParameters<typeof Collector>[1], direct: boolean): SysFlowRecord[] => {
    const c = new Collector(LIVE_EVENT_TABLE, opts)
    c.loadState([thread(100, 1, '/usr/sbin/httpd', [])], {users: [], groups: []})
    const dec = new RecordDecoder(c, 0n, (ev, at) => c.event(ev, at), direct)
    for (const r of recs) {
      const b = rec(r)
      dec.record(b, 0, b.length)
    }
    c.finish()
    return c.out
  }
  for (const opts of [{}, {mode: 'consume' as const}, {mode: 'nofiles' as const}, {fileOnly: true}, {fileReadMode: 2 as const}]) {
    t.deepEqual(runWith(opts, true), runWith(opts, false), JSON.stringify(opts))
  }
  // not vacuous: the paths as the collector names them, and the flows' open flags and counts
  const files = runWith({}, true).filter((r): r is File => r.kind === Kind.File).map((r) => r.path)
  t.deepEqual(files, ['/srv/rel/x', '/srv/dir', '/srv/y/z', '/tmp/c', '/a/c', '/etc/hostname'])
  const ff = runWith({}, true).filter((r): r is FileFlow => r.kind === Kind.FileFlow).map((r) => [r.fd, r.openFlags, r.numWSendBytes, r.numRRecvBytes])
  // written at their close (even a failed one), the rest at the end; O_DIRECTORY is PPM_O_DIRECTORY (1024)
  t.deepEqual(ff, [[5, 2, 3n, 0n], [10, 1, 0n, 4n], [7, 3, 0n, 0n], [6, 1 | 1024, 0n, 0n], [8, 2 | 4 | 256, 0n, 0n], [9, 2 | 4 | 256, 0n, 0n]])
})

test('processes that exited leave the process table after the deletion delay (a long capture stays bounded)', (t) => {
  // 100 short-lived children of one shell, each writing a file, then 9 s later one more event: the collector's
  // deletion check drops the exits over a second old, and with them the processes nothing live refers to.
  const c = new Collector(LIVE_EVENT_TABLE, {})
  c.loadState([thread(100, 1, '/bin/sh', [])], {users: [], groups: []})
  const dec = new RecordDecoder(c, 0n, (ev, at) => c.event(ev, at), true)
  const feed = (r: Rec) => {
    const b = rec(r)
    dec.record(b, 0, b.length)
  }
  let ts = 1_000_000_000n
  for (let i = 0; i < 100; i++) {
    const tid = 1000 + i
    feed({kind: K_FORK, tid, pid: tid, ts: ts++, args: [100, 100, 0, 100], blobs: ['', '', '\0\0']})
    feed({kind: 2, tid, ts: ts++, ret: 3, args: [0o1, 0], blobs: [`/w/f${i}\0`]})
    feed({kind: 1, tid, ts: ts++, ret: 2, args: [3, 0, 2]})
    feed({kind: K_EXIT, tid, pid: tid, ts: ts++, ret: 0})
  }
  // the last exit's thread leaves at the next event (libsinsp removes it after the exit is processed)
  t.deepEqual(c.stateSizes(), {threads: 2, processes: 101, flows: 0})
  feed({kind: 1, tid: 100, ts: 10_000_000_000n, ret: 1, args: [1, 0, 1]})
  // the shell only: a live thread (its write's fd 1 is not a file it has open, so no flow)
  t.deepEqual(c.stateSizes(), {threads: 1, processes: 1, flows: 0})
  c.finish()
  t.is(c.out.filter((r) => r.kind === Kind.FileFlow).length, 100)
})
