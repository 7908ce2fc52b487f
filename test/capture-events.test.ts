// The events the collector forgets (execveat, clone3, creat, openat2): mapped by default, ignored with
// --compat collector. Events are built from libscap's own event table, so they have the live layout.
import test from 'ava'
import {Collector} from '../src/capture/collector.js'
import {Kind, SysFlowRecord} from '../src/format/records.js'
import {OpFlag} from '../src/format/flags.js'
import {findSystemLibscap} from '../src/native/loader.js'

const haveLibscap = Boolean(process.env.SYSFLOW_LIBSCAP) || findSystemLibscap() !== undefined

type Value = number | string | Buffer

async function table() {
  const {eventInfoTable} = await import('../src/native/scap.js')
  return eventInfoTable()
}

/** ppm_evt_hdr + u16 lengths + values; numbers become 8-byte integers (the decoder reads the width it finds). */
function event(tbl: Awaited<ReturnType<typeof table>>, name: string, exit: boolean, ts: bigint, tid: number, params: Record<string, Value>): Buffer {
  // The newest version of the event (the last table entry with that name and direction).
  const candidates = tbl.map((e, i) => [e, i] as const).filter(([e, i]) => e.name === name && (i & 1) === (exit ? 1 : 0))
  if (candidates.length === 0) throw new Error(`no event ${name}`)
  const [info, ty] = candidates[candidates.length - 1]
  const values = info.params.map((p) => {
    const v = params[p.name] ?? 0
    if (typeof v === 'number') {
      const b = Buffer.alloc(8)
      b.writeBigInt64LE(BigInt(v))
      return b
    }
    return typeof v === 'string' ? Buffer.from(`${v}\0`) : v
  })
  const lens = Buffer.alloc(values.length * 2)
  values.forEach((v, i) => lens.writeUInt16LE(v.length, i * 2))
  const body = Buffer.concat([lens, ...values])
  const hdr = Buffer.alloc(26)
  hdr.writeBigUInt64LE(ts, 0)
  hdr.writeBigInt64LE(BigInt(tid), 8)
  hdr.writeUInt32LE(26 + body.length, 16)
  hdr.writeUInt16LE(ty, 20)
  hdr.writeUInt32LE(values.length, 22)
  return Buffer.concat([hdr, body])
}

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
