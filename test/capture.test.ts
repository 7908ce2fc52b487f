// capture: the collector golden pairs, the Falco captures, damaged inputs, live preflight, and libscap reading.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import {spawn, spawnSync} from 'node:child_process'
import {captureRecords, foid} from '../src/capture/index.js'
import {compareRecords} from '../src/capture/compare.js'
import {captureToFile} from '../src/capture/run.js'
import {preflight} from '../src/capture/preflight.js'
import {fileInput, readTrace} from '../src/format/reader.js'
import {Kind, SysFlowRecord} from '../src/format/records.js'
import {findSystemLibscap} from '../src/native/loader.js'
import {sharedDir, sharedPath} from './helpers/shared.js'
import {withTempDir} from './helpers/tmp.js'

const haveLibscap = Boolean(process.env.SYSFLOW_LIBSCAP) || findSystemLibscap() !== undefined
const collectorDir = sharedDir('traces', 'collector')
const falcoDir = sharedDir('traces', 'falco')

async function collect(it: AsyncIterable<SysFlowRecord[]>): Promise<SysFlowRecord[]> {
  const out: SysFlowRecord[] = []
  for await (const b of it) out.push(...b)
  return out
}

async function readAll(file: string): Promise<SysFlowRecord[]> {
  const out: SysFlowRecord[] = []
  for await (const b of readTrace(fileInput(file))) out.push(...b.records)
  return out
}

// Measured agreement with --compat collector: [pair, golden event records, matching]. Raise as it improves.
const PAIRS: [string, number, number][] = [
  ['alpine/alpine', 24, 24],
  ['client-server/tcp-client-server', 10, 10],
  ['files/files', 21, 21],
  ['files/filesat', 22, 22],
  ['mpm-event/cold_start_capture', 125, 125],
  ['mpm-event/full_capture', 4707, 4707],
  ['mpm-preforked/cold_start_capture', 67, 67],
  ['namespaces/setns', 408, 408],
  ['objectstore/download', 236, 236],
  ['rename/rename', 28, 28],
  ['setuid/setuid', 12, 12],
]
const FULL = new Set(PAIRS.filter(([, g, m]) => g === m).map(([p]) => p))

for (const [pair, golden, matching] of PAIRS) {
  if (!collectorDir || !haveLibscap) {
    test.skip(`collector pair ${pair} (needs ../shared/traces and libscap)`, () => {})
    continue
  }
  test(`collector pair ${pair}: counts and key fields`, async (t) => {
    const ours = await collect(captureRecords(path.join(collectorDir, `${pair}.scap`), {exporter: 'tests', compat: 'collector'}))
    const theirs = await readAll(path.join(collectorDir, `${pair}.sf`))
    const a = compareRecords(ours, theirs)
    t.is(a.goldenEvents, golden)
    t.is(a.matchingEvents, matching, a.onlyTheirs.slice(0, 5).join('\n'))
    if (FULL.has(pair)) for (const ty of a.types) t.deepEqual([ty.type, ty.ours, ty.matching], [ty.type, ty.theirs, ty.theirs])
  })
}

if (!falcoDir || !haveLibscap) test.skip('falco captures convert (needs ../shared/traces and libscap)', () => {})
else {
  test('every falco capture converts into a readable trace; privileged.scap keeps its container', async (t) => {
    await withTempDir(async (dir) => {
      for (const f of fs.readdirSync(falcoDir).filter((f) => f.endsWith('.scap'))) {
        const out = path.join(dir, `${f}.sf`)
        await captureToFile({input: path.join(falcoDir, f), output: out})
        const recs = await readAll(out)
        t.is(recs[0].kind, Kind.Header, f)
        if (f === 'privileged.scap') {
          const c = recs.find((r) => r.kind === Kind.Container)
          t.like(c, {id: '9dbcbd0c435f', name: 'epic_cray', privileged: true})
        }
      }
    })
  })

  // Runs in a child process, so a crash inside libscap would show up as a failure (signal) instead of killing ava.
  const FUZZ = `
import fs from 'node:fs'; import zlib from 'node:zlib'
const [, runJs, src, seedS, nS, dir] = process.argv
const {captureToFile} = await import(runJs)
let s = Number(seedS) >>> 0
const rnd = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
let raw = fs.readFileSync(src); if (raw[0] === 0x1f) raw = zlib.gunzipSync(raw)
let off = 0, headEnd = raw.length
while (off + 8 <= raw.length) { const t = raw.readUInt32LE(off), l = raw.readUInt32LE(off + 4); if ([0x204, 0x216, 0x221].includes(t)) { headEnd = off; break } off += l }
for (let i = 0; i < Number(nS); i++) {
  const buf = Buffer.from(raw)
  const k = i % 3
  if (k === 0) for (let j = 0; j < 1 + Math.floor(rnd() * 8); j++) buf[Math.floor(rnd() * headEnd)] = Math.floor(rnd() * 256)
  if (k === 1) for (let j = 0; j < 1 + Math.floor(rnd() * 8); j++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256)
  const data = k === 2 ? buf.subarray(0, Math.floor(rnd() * buf.length)) : buf
  const file = dir + '/m.scap'
  fs.writeFileSync(file, i % 2 ? zlib.gzipSync(data) : data)
  console.log('start ' + i)
  const run = captureToFile({input: file, output: dir + '/m.sf', force: true}).then(() => 'ok', (e) => (e.exitCode === 1 ? 'error' : 'unexpected ' + e.name + ': ' + e.message))
  const outcome = await Promise.race([run, new Promise((r) => setTimeout(() => r('hang'), 2000).unref())])
  console.log('case ' + i + ' ' + outcome)
  if (outcome === 'hang') process.exit(3)
}
`
  for (const [name, seed] of [['falco/cat_write.scap', 61], ['falco/privileged.scap', 62], ['collector/setuid/setuid.scap', 63]] as const) {
    test(`damaged ${name} (seed ${seed}): a clean error or a valid trace, never a crash or hang`, async (t) => {
      await withTempDir(async (dir) => {
        const cases = 60
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', FUZZ, path.resolve('dist/src/capture/run.js'), sharedPath('traces', name), String(seed), String(cases), dir], {encoding: 'utf8', timeout: cases * 2000 + 20_000})
        const lines = r.stdout.split('\n').filter(Boolean)
        const last = lines.filter((l) => l.startsWith('start ')).pop()
        t.is(r.signal, null, `killed by ${r.signal} during ${last}: ${r.stderr}`)
        t.is(r.status, 0, `${last}: ${r.stderr}`)
        const outcomes = lines.filter((l) => l.startsWith('case '))
        t.is(outcomes.length, cases)
        for (const l of outcomes) t.regex(l, /^case \d+ (ok|error)$/)
      })
    })
  }
}

test('FOID is the SHA-1 of container id + path', (t) => {
  t.is(foid('', '/etc/ld.so.cache'), '8d57b8c634ff3c042c2d003a93f46a7bc6cc86da')
})

if (fs.existsSync('/dev/scap0')) test.skip('live preflight failure (a scap driver is present here)', () => {})
else {
  test('live capture without a driver: one clear message, exit code 3', (t) => {
    const err = t.throws(() => preflight('kmod'))
    t.is((err as Error & {exitCode: number}).exitCode, 3)
    t.regex(err!.message, /live capture unavailable: .*\/dev\/scap0 missing/)
    const bpf = t.throws(() => preflight('bpf', {}))
    t.regex(bpf!.message, /BPF_PROBE is not set/)
    const script = `const m = await import(${JSON.stringify(path.resolve('dist/src/commands/capture.js'))}); await m.default.run(['-o', '/nonexistent/x.sf', '--driver', 'kmod'], ${JSON.stringify(process.cwd())})`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8', timeout: 30_000})
    t.is(r.status, 3, r.stderr)
    t.regex(r.stderr, /live capture unavailable/)
  })
}

if (!collectorDir || !haveLibscap) test.skip('SIGINT and rotation (needs ../shared/traces and libscap)', () => {})
else {
  const captureCmd = (args: string[], opts: {signalWhen?: () => boolean} = {}) =>
    new Promise<{status: number | null; stderr: string}>((resolve) => {
      const script = `const m = await import(${JSON.stringify(path.resolve('dist/src/commands/capture.js'))}); await m.default.run(${JSON.stringify(args)}, ${JSON.stringify(process.cwd())})`
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'ignore', 'pipe']})
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      if (opts.signalWhen) {
        const poll = setInterval(() => {
          if (opts.signalWhen!()) {
            clearInterval(poll)
            child.kill('SIGINT')
          }
        }, 5)
        child.on('close', () => clearInterval(poll))
      }
      child.on('close', (status) => resolve({status, stderr}))
    })

  test('SIGINT stops a capture, flushes open flows with OP_TRUNCATE and leaves a valid file', async (t) => {
    await withTempDir(async (dir) => {
      // The setns capture's events repeated 150 times (timestamps shifted): several seconds of work.
      const src = path.join(collectorDir, 'namespaces/setns.scap')
      const raw = fs.readFileSync(src)
      let off = 0
      const head: Buffer[] = []
      const evs: Buffer[] = []
      while (off < raw.length) {
        const len = raw.readUInt32LE(off + 4)
        const b = raw.subarray(off, off + len)
        ;(raw.readUInt32LE(off) === 0x216 || raw.readUInt32LE(off) === 0x221 ? evs : head).push(b)
        off += len
      }
      const input = path.join(dir, 'big.scap')
      const fd = fs.openSync(input, 'w')
      for (const b of head) fs.writeSync(fd, b)
      for (let k = 0n; k < 150n; k++) {
        const chunk = Buffer.concat(evs)
        let o = 0
        for (const b of evs) {
          chunk.writeBigUInt64LE(BigInt.asUintN(64, chunk.readBigUInt64LE(o + 10) + k * 10_000_000_000n), o + 10)
          o += b.length
        }
        fs.writeSync(fd, chunk)
      }
      fs.closeSync(fd)
      const out = path.join(dir, 'out.sf')
      // Interrupt as soon as the output file is being written.
      const r = await captureCmd(['-r', input, '-o', out, '--stats'], {signalWhen: () => fs.readdirSync(dir).some((f) => f.includes('.tmp-'))})
      t.is(r.status, 0, r.stderr)
      const m = /capture: (\d+) events/.exec(r.stderr)
      t.truthy(m, r.stderr)
      t.true(Number(m![1]) < 150 * 9947, `stopped early (${m![1]} events)`)
      const recs = await readAll(out)
      t.is(recs[0].kind, Kind.Header)
      t.true(recs.some((r) => (r.kind === Kind.FileFlow || r.kind === Kind.NetworkFlow) && (r.opFlags! & 2048) !== 0))
      t.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), [])
    })
  })

  test('-G rotates into a directory: every file is complete and self-contained', async (t) => {
    await withTempDir(async (dir) => {
      const outDir = path.join(dir, 'rot') + '/'
      const r = await captureCmd(['-r', path.join(collectorDir, 'namespaces/setns.scap'), '-o', outDir, '-G', '1', '-e', 'tests'])
      t.is(r.status, 0, r.stderr)
      const files = fs.readdirSync(outDir).sort()
      t.true(files.length > 5)
      t.true(files.every((f) => /^\d+(\.\d+)?$/.test(f)))
      for (const f of files) {
        const recs = await readAll(path.join(outDir, f))
        t.like(recs[0], {kind: Kind.Header, exporter: 'tests'})
        const procs = new Set(recs.filter((r) => r.kind === Kind.Process).map((r) => (r.kind === Kind.Process ? `${r.oid.hpid}:${r.oid.createTS}` : '')))
        const fileIds = new Set(recs.filter((r) => r.kind === Kind.File).map((r) => (r.kind === Kind.File ? r.oid : '')))
        for (const r of recs) {
          if (r.kind === Kind.FileFlow || r.kind === Kind.NetworkFlow || r.kind === Kind.ProcessEvent || r.kind === Kind.FileEvent) t.true(procs.has(`${r.procOID.hpid}:${r.procOID.createTS}`), `${f}: process of record kind ${r.kind}`)
          if (r.kind === Kind.FileFlow) t.true(fileIds.has(r.fileOID), `${f}: file of FF`)
        }
      }
    })
  })
}

if (!collectorDir || !haveLibscap) test.skip('-c, -m and -f (needs ../shared/traces and libscap)', () => {})
else {
  test('-c keeps only records of processes in containers', async (t) => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'c.sf')
      await captureToFile({input: path.join(collectorDir, 'mpm-preforked/cold_start_capture.scap'), output: out, containersOnly: true})
      const recs = await readAll(out)
      const inContainer = new Set(recs.flatMap((r) => (r.kind === Kind.Process && r.containerId !== null ? [`${r.oid.hpid}:${r.oid.createTS}`] : [])))
      const events = recs.filter((r) => r.kind >= Kind.ProcessEvent)
      t.is(events.length, 67)
      for (const r of events) if ('procOID' in r) t.true(inContainer.has(`${r.procOID.hpid}:${r.procOID.createTS}`))
    })
  })

  test('-m consume writes one FileFlow per open and no reads or writes; -m nofiles has no FileEvent', async (t) => {
    await withTempDir(async (dir) => {
      const consume = path.join(dir, 'consume.sf')
      await captureToFile({input: path.join(collectorDir, 'files/files.scap'), output: consume, mode: 'consume'})
      const ff = (await readAll(consume)).filter((r) => r.kind === Kind.FileFlow)
      t.true(ff.length > 0)
      for (const r of ff) if (r.kind === Kind.FileFlow) t.deepEqual([r.opFlags, r.endTs], [128, r.ts])
      const nofiles = path.join(dir, 'nofiles.sf')
      await captureToFile({input: path.join(collectorDir, 'files/files.scap'), output: nofiles, mode: 'nofiles'})
      t.false((await readAll(nofiles)).some((r) => r.kind === Kind.FileEvent))
    })
  })

  test('-f keeps the matching events and the entities they need', async (t) => {
    const {compileFilter} = await import('../src/format/filter/index.js')
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'f.sf')
      await captureToFile({input: path.join(collectorDir, 'mpm-preforked/cold_start_capture.scap'), output: out, filter: compileFilter('sf.type = NF and sf.net.dport = 80')})
      const recs = await readAll(out)
      t.deepEqual([...new Set(recs.filter((r) => r.kind >= Kind.ProcessEvent).map((r) => r.kind))], [Kind.NetworkFlow])
      t.is(recs.filter((r) => r.kind === Kind.NetworkFlow).length, 27)
    })
  })
}
