// The collector's mechanisms, each on a synthetic event sequence built to break it: process events with process
// flows off, related flows, IPv4-mapped IPv6 sockets, libsinsp's last formatted string, placeholder leaders, the
// parent found by pid, SETUID args and cwd.
import test from 'ava'
import {decodeTuple} from '../src/capture/decoder.js'
import {OpFlag} from '../src/format/flags.js'
import {Kind, SysFlowRecord} from '../src/format/records.js'
import {feeder, haveLibscap, LOCALHOST, T0, tuple4, tuple6, tupleUnix} from './helpers/scap-events.js'

const CLONE_THREAD = 1 << 13
const O_WRONLY = 2
const {CLONE, EXEC, EXIT, SETUID, OPEN, ACCEPT, CONNECT, CLOSE, READ_RECV, WRITE_SEND, TRUNCATE} = OpFlag

/** Event and flow records as short strings, in output order; times relative to T0. */
function events(out: SysFlowRecord[]): string[] {
  const rel = (t: bigint | undefined) => (t === undefined ? 'absent' : String(t - T0))
  const res: string[] = []
  for (const r of out) {
    if (r.kind === Kind.ProcessEvent) res.push(`PE ${r.opFlags} ${r.procOID.hpid}:${rel(r.procOID.createTS)} tid=${r.tid} ret=${r.ret} ${JSON.stringify(r.args)}`)
    else if (r.kind === Kind.FileFlow) res.push(`FF ${r.opFlags} tid=${r.tid} fd=${r.fd} ${rel(r.ts)}-${rel(r.endTs)}`)
    else if (r.kind === Kind.NetworkFlow) res.push(`NF ${r.opFlags} tid=${r.tid} fd=${r.fd} ${r.sip}:${r.sport}->${r.dip}:${r.dport} ${rel(r.ts)}-${rel(r.endTs)}`)
    else if (r.kind === Kind.ProcessFlow) res.push(`PF ${r.opFlags} ${r.procOID.hpid} c=${r.numThreadsCloned} e=${r.numThreadsExited} err=${r.numCloneErrors}`)
  }
  return res
}

function processes(out: SysFlowRecord[]): string[] {
  const rel = (t: bigint) => (t === 0n ? '0' : String(t - T0))
  return out.flatMap((r) => (r.kind === Kind.Process ? [`P ${r.state} ${r.oid.hpid}:${rel(r.oid.createTS)} ${r.poid ? `${r.poid.hpid}:${rel(r.poid.createTS)}` : '-'} ${r.exe} ${r.uid}/${r.gid} ${r.containerId ?? ''}`] : []))
}

const exec = (pid: number, ptid = 1, exe = '/bin/app') => ({res: 0, exe, args: Buffer.from(`${exe}\0`), tid: pid, pid, ptid, cwd: '/', comm: 'app', uid: 0, gid: 0})

if (!haveLibscap) test.skip('collector mechanisms (need libscap for its event table)', () => {})
else {
  /** Process 100, a thread 101 cloned (both sides), a failed thread clone, 101 writes a file and exits, then 100. */
  async function threadLife(opts: {compat?: 'collector'}) {
    const {c, ev} = await feeder(opts)
    ev('execve', true, 1, 100, exec(100))
    ev('clone', true, 10, 100, {...exec(100), res: 101, flags: CLONE_THREAD})
    ev('clone', true, 11, 101, {...exec(100), res: 0, tid: 101, flags: CLONE_THREAD})
    ev('clone', true, 12, 100, {...exec(100), res: -11, flags: CLONE_THREAD})
    ev('open', false, 20, 101, {name: '/tmp/a', flags: O_WRONLY})
    ev('open', true, 21, 101, {fd: 3, name: '/tmp/a', flags: O_WRONLY})
    ev('write', false, 22, 101, {fd: 3, size: 5})
    ev('write', true, 23, 101, {res: 5})
    ev('procexit', false, 30, 101, {status: 7})
    ev('procexit', false, 40, 100, {status: 0})
    c.finish()
    return c.out
  }

  test('process flows off (--compat collector): every clone and exit is a ProcessEvent; a thread exit writes its flows first', async (t) => {
    t.deepEqual(events(await threadLife({compat: 'collector'})), [
      `PE ${EXEC} 100:${-T0} tid=100 ret=0 []`,
      `PE ${CLONE} 100:${-T0} tid=100 ret=101 []`,
      `PE ${CLONE} 100:${-T0} tid=101 ret=0 []`,
      `PE ${CLONE} 100:${-T0} tid=100 ret=-11 []`,
      `FF ${OPEN | WRITE_SEND | TRUNCATE} tid=101 fd=3 21-30`,
      `PE ${EXIT} 100:${-T0} tid=101 ret=7 []`,
      `PE ${EXIT} 100:${-T0} tid=100 ret=0 []`,
    ])
  })

  test('process flows on (default): thread clones and exits are counted in a ProcessFlow, a thread exit flushes nothing', async (t) => {
    t.deepEqual(events(await threadLife({})), [
      `PE ${EXEC} 100:${-T0} tid=100 ret=0 []`,
      `FF ${OPEN | WRITE_SEND | TRUNCATE} tid=101 fd=3 21-40`,
      `PF ${CLONE | EXIT} 100 c=1 e=1 err=0`,
      `PE ${EXIT} 100:${-T0} tid=100 ret=0 []`,
    ])
  })

  test('related flows: a close writes the other threads\' flows of the same fd and 4-tuple first, truncated, the ACCEPT one first', async (t) => {
    const {c, ev} = await feeder({compat: 'collector'})
    ev('execve', true, 1, 200, exec(200))
    for (const tid of [201, 202]) ev('clone', true, 2, tid, {...exec(200), res: 0, tid, flags: CLONE_THREAD})
    const tu = tuple4(LOCALHOST, 40000, LOCALHOST, 80)
    ev('read', false, 3, 202, {fd: 5, size: 10}) // no fd 5 yet: nothing
    ev('accept', true, 10, 200, {fd: 5, tuple: tu})
    ev('accept', true, 11, 200, {fd: 6, tuple: tuple4(LOCALHOST, 40001, LOCALHOST, 80)})
    ev('read', false, 20, 202, {fd: 5, size: 10})
    ev('read', true, 21, 202, {res: 10})
    ev('write', false, 30, 201, {fd: 5, size: 4})
    ev('write', true, 31, 201, {res: 4})
    ev('close', false, 40, 201, {fd: 5})
    ev('close', true, 41, 201, {res: 0})
    // A thread exit writes its flows, each after its related ones: 202 reads fd 6 accepted by 200, then exits.
    ev('read', false, 50, 202, {fd: 6, size: 10})
    ev('read', true, 51, 202, {res: 3})
    ev('procexit', false, 60, 202, {status: 0})
    const net = events(c.out).filter((s) => s.startsWith('NF'))
    t.deepEqual(net, [
      `NF ${ACCEPT | TRUNCATE} tid=200 fd=5 ${LOCALHOST}:40000->${LOCALHOST}:80 10-41`,
      `NF ${READ_RECV | TRUNCATE} tid=202 fd=5 ${LOCALHOST}:40000->${LOCALHOST}:80 21-41`,
      `NF ${WRITE_SEND | CLOSE} tid=201 fd=5 ${LOCALHOST}:40000->${LOCALHOST}:80 31-41`,
      `NF ${ACCEPT | TRUNCATE} tid=200 fd=6 ${LOCALHOST}:40001->${LOCALHOST}:80 11-60`,
      `NF ${READ_RECV | TRUNCATE} tid=202 fd=6 ${LOCALHOST}:40001->${LOCALHOST}:80 51-60`,
    ])
    c.finish()
    t.is(events(c.out).filter((s) => s.startsWith('NF')).length, 5, 'nothing left for the end of input')
  })

  test('related file flows: same fd and path on other threads, the OPEN one first; another path or fd is left alone', async (t) => {
    const {c, ev} = await feeder()
    ev('execve', true, 1, 300, exec(300))
    ev('clone', true, 2, 301, {...exec(300), res: 0, tid: 301, flags: CLONE_THREAD})
    ev('open', true, 10, 300, {fd: 7, name: '/tmp/f', flags: O_WRONLY})
    ev('open', true, 11, 300, {fd: 8, name: '/tmp/g', flags: O_WRONLY})
    ev('write', false, 20, 301, {fd: 8, size: 1})
    ev('write', true, 21, 301, {res: 1})
    ev('write', false, 22, 301, {fd: 7, size: 1})
    ev('write', true, 23, 301, {res: 1})
    ev('close', false, 30, 301, {fd: 7})
    ev('close', true, 31, 301, {res: 0})
    t.deepEqual(events(c.out).filter((s) => s.startsWith('FF')), [
      `FF ${OPEN | TRUNCATE} tid=300 fd=7 10-31`,
      `FF ${WRITE_SEND | CLOSE} tid=301 fd=7 23-31`,
    ])
  })

  test('IPv4-mapped IPv6 tuples are IPv4 on accept and connect; a real IPv6 one is still dropped', async (t) => {
    t.deepEqual(decodeTuple(tuple6(LOCALHOST, 44292, LOCALHOST, 9000)), {family: 2, sip: LOCALHOST, sport: 44292, dip: LOCALHOST, dport: 9000})
    const v6 = Buffer.alloc(16)
    v6[15] = 1 // ::1
    t.is(decodeTuple(tuple6(v6, 1, LOCALHOST, 2))?.family, 10, 'both ends must be mapped')
    const {c, ev} = await feeder({compat: 'collector'})
    ev('execve', true, 1, 400, exec(400))
    ev('accept', true, 10, 400, {fd: 5, tuple: tuple6(LOCALHOST, 44292, LOCALHOST, 9000)})
    ev('accept', true, 11, 400, {fd: 6, tuple: tuple6(v6, 44293, v6, 9000)})
    ev('socket', false, 20, 400, {domain: 10, type: 1, proto: 0})
    ev('socket', true, 21, 400, {fd: 7})
    ev('connect', false, 22, 400, {fd: 7, addr: Buffer.alloc(0)})
    ev('connect', true, 23, 400, {res: 0, tuple: tuple6(LOCALHOST, 50000, 0x0100000a, 443)})
    c.finish()
    t.deepEqual(events(c.out).filter((s) => s.startsWith('NF')).sort(), [
      `NF ${ACCEPT | TRUNCATE} tid=400 fd=5 ${LOCALHOST}:44292->${LOCALHOST}:9000 10-23`,
      `NF ${CONNECT | TRUNCATE} tid=400 fd=7 ${LOCALHOST}:50000->${0x0100000a}:443 23-23`,
    ])
  })

  test('a failed unix connect whose enter has no address is named with libsinsp\'s last formatted string', async (t) => {
    const {c, ev} = await feeder({compat: 'collector'})
    ev('execve', true, 1, 500, exec(500))
    const unixSocket = (dt: number, fd: number) => {
      ev('socket', false, dt, 500, {domain: 1, type: 1, proto: 0})
      ev('socket', true, dt + 1, 500, {fd})
    }
    // A successful connect: named from its tuple (and that string is now the last formatted one).
    unixSocket(10, 3)
    ev('connect', false, 12, 500, {fd: 3}, 1)
    ev('connect', true, 13, 500, {res: 0, tuple: tupleUnix(0xabcn, 0xdefn, '/run/a.sock')})
    // Failed, no address in the enter: the last formatted string.
    unixSocket(20, 4)
    ev('connect', false, 22, 500, {fd: 4}, 1)
    ev('connect', true, 23, 500, {res: -2, tuple: tupleUnix(0n, 0n, '/run/missing.sock')})
    // The setuid enter's uid formats "0": the next one is named "0".
    ev('setuid', false, 30, 500, {uid: 0})
    ev('setuid', true, 31, 500, {res: 0})
    unixSocket(40, 5)
    ev('connect', false, 42, 500, {fd: 5}, 1)
    ev('connect', true, 43, 500, {res: -111, tuple: tupleUnix(0n, 0n, '/run/missing.sock')})
    c.finish()
    const files = new Map(c.out.flatMap((r) => (r.kind === Kind.File ? [[r.oid, r.path] as const] : [])))
    const named = c.out.flatMap((r) => (r.kind === Kind.FileFlow ? [`${r.fd} ${files.get(r.fileOID)}`] : []))
    t.deepEqual(named.sort(), ['3 abc->def /run/a.sock', '4 abc->def /run/a.sock', '5 0'])
  })

  test('threads seen before their process share one placeholder leader (pid, clone time 0, uid -1), MODIFIED at its exec', async (t) => {
    const {c, ev} = await feeder({compat: 'collector'})
    const cg = Buffer.from(`cpu:/docker/${'ab'.repeat(32)}\0`)
    for (const [dt, tid] of [[10, 601], [11, 602], [12, 603]]) ev('clone', true, dt, tid, {...exec(600, 590, 'runc'), res: 0, tid, flags: CLONE_THREAD, cgroups: cg})
    for (const [dt, tid] of [[20, 601], [21, 602], [22, 603]]) ev('procexit', false, dt, tid, {status: 0})
    ev('execve', false, 30, 600, {filename: '/bin/sh'})
    ev('execve', true, 31, 600, {...exec(600, 590, '/bin/sh'), cgroups: cg})
    t.deepEqual(processes(c.out), [
      `P CREATED 600:0 - runc -1/-1 ${'ab'.repeat(6)}`,
      `P MODIFIED 600:0 - /bin/sh -1/-1 ${'ab'.repeat(6)}`,
    ])
    t.deepEqual(events(c.out).map((s) => s.split(' ').slice(0, 4).join(' ')), [
      `PE ${CLONE} 600:${-T0} tid=601`, `PE ${CLONE} 600:${-T0} tid=602`, `PE ${CLONE} 600:${-T0} tid=603`,
      `PE ${EXIT} 600:${-T0} tid=601`, `PE ${EXIT} 600:${-T0} tid=602`, `PE ${EXIT} 600:${-T0} tid=603`,
      `PE ${EXEC} 600:${-T0} tid=600`,
    ])
  })

  /** 700 forks 701 and exits; 701's first own event comes `delay` ns later. */
  async function orphan(delay: bigint, opts: {compat?: 'collector'} = {}) {
    const {c, ev} = await feeder(opts)
    ev('execve', true, 1, 700, exec(700))
    ev('clone', true, 10, 700, {...exec(700), res: 701})
    ev('procexit', false, 20, 700, {status: 0})
    ev('clone', true, 30n + delay, 701, {...exec(701, 1), res: 0})
    return processes(c.out)
  }

  test('a process whose parent exited is given the parent by pid while the collector still holds it (under 1 s)', async (t) => {
    t.deepEqual(await orphan(0n), ['P CREATED 700:0 - /bin/app -1/-1 ', 'P CREATED 701:10 700:0 /bin/app 0/0 '])
    t.deepEqual(await orphan(3_000_000_000n), ['P CREATED 700:0 - /bin/app -1/-1 ', 'P CREATED 701:10 - /bin/app 0/0 '])
  })

  test('--compat collector: a new process seen before its unknown parent gets libs 0.10\'s fake parent', async (t) => {
    const child = async (opts: {compat?: 'collector'}) => {
      const {c, ev} = await feeder(opts)
      ev('clone', true, 10, 801, {...exec(801, 800, 'runc'), res: 0})
      return processes(c.out)
    }
    t.deepEqual(await child({compat: 'collector'}), ['P REUP 800:0 - runc -1/-1 ', 'P CREATED 801:10 800:0 runc 0/0 '])
    t.deepEqual(await child({}), ['P CREATED 801:10 - runc 0/0 '])
  })

  test('SETUID args as the collector\'s m_uid: the user\'s name on the host, <NA> in a container, "" for setresuid', async (t) => {
    const {c, ev} = await feeder({compat: 'collector'})
    c.loadState([], {users: [{uid: 0, gid: 0, name: 'root'}], groups: []})
    ev('execve', true, 1, 900, exec(900))
    ev('execve', true, 2, 910, {...exec(910), cgroups: Buffer.from(`cpu:/docker/${'cd'.repeat(32)}\0`)})
    ev('setuid', false, 10, 900, {uid: 0})
    ev('setuid', true, 11, 900, {res: 0})
    ev('setuid', false, 20, 910, {uid: 0})
    ev('setuid', true, 21, 910, {res: 0})
    ev('setresuid', false, 30, 900, {ruid: 0, euid: 0, suid: 0})
    ev('setresuid', true, 31, 900, {res: 0})
    ev('setuid', false, 40, 900, {uid: 12345})
    ev('setuid', true, 41, 900, {res: -1})
    t.deepEqual(events(c.out).filter((s) => s.startsWith(`PE ${SETUID} `)).map((s) => s.replace(/ \d+:-?\d+ /, ' ')), [
      `PE ${SETUID} tid=900 ret=0 ["root"]`,
      `PE ${SETUID} tid=910 ret=0 ["<NA>"]`,
      `PE ${SETUID} tid=900 ret=0 [""]`,
      `PE ${SETUID} tid=900 ret=-1 ["<NA>"]`,
    ])
  })

  test('Process cwd as libsinsp stores it: a trailing /, and / when empty', async (t) => {
    const {c, ev} = await feeder()
    ev('clone', true, 1, 1000, {...exec(1000), res: 0, cwd: '/srv/www'})
    ev('clone', true, 2, 1001, {...exec(1001), res: 0, cwd: ''})
    ev('clone', true, 3, 1002, {...exec(1002), res: 0, cwd: '/'})
    t.deepEqual(c.out.flatMap((r) => (r.kind === Kind.Process ? [r.cwd] : [])), ['/srv/www/', '/', '/'])
  })
}
