// The events the collector forgets (execveat, clone3, creat, openat2): mapped by default, ignored with
// --compat collector. Events are built from libscap's own event table, so they have the live layout.
import test from 'ava'
import {Collector} from '../src/capture/collector.js'
import {eventTable as table, haveLibscap, scapEvent as event, Value} from './helpers/scap-events.js'
import {Kind, SysFlowRecord} from '../src/format/records.js'
import {OpFlag} from '../src/format/flags.js'

async function run(compat: boolean): Promise<SysFlowRecord[]> {
  const tbl = await table()
  const c = new Collector(tbl, compat ? {compat: 'collector'} : {})
  const ts = 1_700_000_000_000_000_000n
  const ev = (name: string, exit: boolean, dt: number, tid: number, p: Record<string, Value>) => c.event(event(tbl, name, exit, ts + BigInt(dt), tid, p))
  ev('execveat', false, 1, 100, {dirfd: -100, pathname: '/usr/bin/true', flags: 0})
  ev('execveat', true, 2, 100, {res: 0, exe: '/usr/bin/true', args: Buffer.from('a\0b\0'), tid: 100, pid: 100, ptid: 1, cwd: '/', comm: 'true', env: Buffer.from('X=1\0')})
  ev('creat', false, 3, 100, {name: '/tmp/c', mode: 0o644})
  ev('creat', true, 4, 100, {fd: 3, name: '/tmp/c', mode: 0o644, dev: 0})
  ev('openat2', false, 5, 100, {dirfd: -100, name: '/tmp/o2', flags: 1, mode: 0, resolve: 0})
  ev('openat2', true, 6, 100, {fd: 4, dirfd: -100, name: '/tmp/o2', flags: 1, mode: 0, resolve: 0})
  ev('clone3', true, 7, 101, {res: 0, exe: '/usr/bin/true', args: Buffer.alloc(0), tid: 101, pid: 101, ptid: 100, cwd: '/', comm: 'true', flags: 0, uid: 0, gid: 0, vtid: 101, vpid: 101})
  c.finish()
  return c.out
}

if (!haveLibscap) test.skip('forgotten events (needs libscap for its event table)', () => {})
else {
  test('execveat, clone3, creat and openat2 are mapped by default', async (t) => {
    const out = await run(false)
    const pe = out.filter((r) => r.kind === Kind.ProcessEvent)
    t.deepEqual(pe.map((r) => (r.kind === Kind.ProcessEvent ? [r.opFlags, Number(r.tid), r.ret] : [])), [[OpFlag.EXEC, 100, 0], [OpFlag.CLONE, 101, 0]])
    const paths = out.filter((r) => r.kind === Kind.File).map((r) => (r.kind === Kind.File ? r.path : ''))
    t.deepEqual(paths.sort(), ['/tmp/c', '/tmp/o2'])
    const ff = out.filter((r) => r.kind === Kind.FileFlow)
    t.is(ff.length, 2)
    for (const r of ff) if (r.kind === Kind.FileFlow) t.is(r.opFlags, OpFlag.OPEN | OpFlag.TRUNCATE)
    const exe = out.find((r) => r.kind === Kind.Process && r.oid.hpid === 100n)
    t.like(exe, {exe: '/usr/bin/true', exeArgs: 'a b'})
  })

  test('--compat collector ignores them, like the collector', async (t) => {
    const out = await run(true)
    t.deepEqual(out.filter((r) => r.kind !== Kind.Process && r.kind !== Kind.Container).map((r) => r.kind), [])
  })
}
