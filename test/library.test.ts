// The consumer API (src/index.ts): SysFlowDriver's callback contract, records(), attr(), writer(), stop and
// backpressure, filters, and .scap input through the capture path.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'
import {setTimeout as sleep} from 'node:timers/promises'
import {attr, Kind, printAttr, records, SysFlowDriver, SysFlowStats, writer, type JoinedRecord} from '../src/index.js'
import {ATTRIBUTES} from '../src/format/attributes.js'
import {fileInput} from '../src/format/reader.js'
import {chooseColumns, printRecords} from '../src/format/printers/print.js'
import {jsonValue} from '../src/format/printers/json.js'
import {captureToFile} from '../src/capture/run.js'
import {findSystemLibscap} from '../src/native/loader.js'
import {parseJsonExact} from './helpers/json-exact.js'
import {sharedDir} from './helpers/shared.js'
import {withTempDir} from './helpers/tmp.js'
import {spawnSync} from 'node:child_process'
import {preflightEbpf} from '../src/capture/preflight.js'
import {findLibbpf} from '../src/native/bpf.js'

const V5 = 'test/fixtures/v5.sf'
const MULTI = 'test/fixtures/multiblock.sf'
const KEYS = ATTRIBUTES.filter((a) => a.key !== undefined).map((a) => a.key!)

/** print -o flatjson -c <every key> of some trace files, one exact-parsed object per record. */
async function printed(files: string[], keys = KEYS): Promise<Record<string, unknown>[]> {
  const chunks: Buffer[] = []
  await printRecords(files.map(fileInput), {write: (b) => void chunks.push(Buffer.from(b))}, {format: 'flatjson', columns: chooseColumns('flatjson', {fields: keys})})
  return Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((l) => parseJsonExact(l) as Record<string, unknown>)
}

/** One record's values for every key, through attr's print face, parsed the same way. */
function viaAttr(j: JoinedRecord, keys = KEYS): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, parseJsonExact(jsonValue(printAttr(j, k)))]))
}

test('driver: every record of v5.sf, with exact statistics', async (t) => {
  const kinds: string[] = []
  const driver = new SysFlowDriver({input: V5, callback: (_h, _c, _p, _f, _f2, r) => void kinds.push(String(r.kind))})
  const stats = await driver.run()
  t.deepEqual(kinds, ['4', '4', '6', '5', '8', '7', '7', '4', '4', '9', '11'])
  t.is(stats.records, 11)
  t.is(stats.filtered, 0)
  t.false(stats.stopped)
  t.deepEqual(stats.counts, {H: 1, C: 1, P: 3, F: 3, PE: 4, NF: 1, FF: 1, FE: 2, NE: 1, PF: 1, POD: 1, KE: 1})
  t.is(stats.files, 1)
  t.is(stats.bytes, fs.statSync(V5).size)
})

test('driver: the callback gets header, container, process, file, file2 resolved, in print order', async (t) => {
  const seen: unknown[] = []
  await new SysFlowDriver({
    input: V5,
    callback: (h, c, p, f, f2, r, j) => {
      seen.push({...viaAttr(j), cb: [h?.exporter ?? null, c?.name ?? null, p?.exe ?? null, f?.path ?? null, f2?.path ?? null, r.kind]})
    },
  }).run()
  const ref = await printed([V5])
  t.is(seen.length, ref.length)
  // The callback's arguments are the joined record's entities, and its values are print's, line by line.
  seen.forEach((s, i) => {
    const {cb, ...rest} = s as {cb: unknown[]}
    t.deepEqual(rest, ref[i], `record ${i}`)
    const exp = ref[i]
    t.deepEqual(cb.slice(0, 3), [exp['node.id'], exp['container.name'] === '' ? null : exp['container.name'], exp['proc.exe'] === '' ? null : exp['proc.exe']], `record ${i}`)
  })
  // The rename: file is the old path, file2 the new one; the unlink has no file2; the k8s event has no process.
  const cbs = seen.map((s) => (s as {cb: unknown[]}).cb)
  t.deepEqual(cbs[5], ['fixture-node', 'web', '/usr/bin/curl', '/tmp/out.part', '/tmp/out.html', Kind.FileEvent])
  t.deepEqual(cbs[6], ['fixture-node', 'web', '/usr/bin/curl', '/tmp/out.html', null, Kind.FileEvent])
  t.deepEqual(cbs[10], ['fixture-node', null, null, null, null, Kind.K8sEvent])
})

test('records(): the same joined records as the callback, in the same order, across blocks', async (t) => {
  const fromCb: JoinedRecord[] = []
  await new SysFlowDriver({input: [MULTI], callback: (...a) => void fromCb.push(a[6])}).run()
  const stats = new SysFlowStats()
  const fromIter: JoinedRecord[] = []
  for await (const j of records(MULTI, {stats})) fromIter.push(j)
  t.is(fromIter.length, 211)
  t.is(stats.records, 211)
  t.deepEqual(fromIter.map((j) => viaAttr(j)), fromCb.map((j) => viaAttr(j)))
  t.deepEqual(fromIter.map((j) => viaAttr(j)), await printed([MULTI]))
})

test('attr(): every catalogue attribute by every name, typed values agree with the printers', async (t) => {
  const ref = await printed([V5])
  let i = 0
  let checked = 0
  await new SysFlowDriver({
    input: V5,
    callback: (_h, _c, _p, _f, _f2, record, j) => {
      for (const a of ATTRIBUTES) {
        const names = [a.sf, a.key, ...(a.aliases ?? [])].filter((n): n is string => n !== undefined)
        const v = a.value(j)
        for (const n of names) {
          // The plain record argument works inside the callback, like the joined one.
          t.deepEqual(attr(record, n), v, `${n} on record ${i}`)
          t.deepEqual(attr(j, n), v)
          if (a.key) t.deepEqual(parseJsonExact(jsonValue(printAttr(record, n))), ref[i][a.key], `${n} on record ${i}`)
          checked++
        }
      }
      i++
    },
  }).run()
  t.true(checked > ATTRIBUTES.length * 11)
  // Typed faces: bigint timestamps, exact; lists; absent is undefined.
  const first = (await collect(V5))[0]
  t.is(attr(first, 'sf.ts'), 1700000000123458789n)
  t.is(attr(first, 'sf.proc.exe'), '/bin/bash')
  t.is(attr(first, 'sf.file.path'), undefined)
  t.throws(() => attr(first, 'sf.proc.nonesuch'), {instanceOf: RangeError, message: /unknown SysFlow attribute "sf.proc.nonesuch"/})
  // Outside a callback, a plain record cannot be joined: a clear error rather than empty values.
  t.throws(() => attr(first.rec, 'sf.proc.exe'), {instanceOf: TypeError, message: /needs the joined record/})
})

async function collect(input: string | string[], opts = {}): Promise<JoinedRecord[]> {
  const out: JoinedRecord[] = []
  for await (const j of records(input, opts)) out.push(j)
  return out
}

test('backpressure: a callback that awaits sees records strictly one after another', async (t) => {
  let active = 0
  let maxActive = 0
  const order: bigint[] = []
  const stats = await new SysFlowDriver({
    input: V5,
    callback: async (_h, _c, _p, _f, _f2, r) => {
      active++
      maxActive = Math.max(maxActive, active)
      await sleep(2)
      order.push(r.ts)
      active--
    },
  }).run()
  t.is(maxActive, 1)
  t.is(stats.records, 11)
  t.deepEqual(order, (await collect(V5)).map((j) => j.rec.ts))
})

test('backpressure: any thenable is awaited; plain returns and non-thenables are not', async (t) => {
  const log: string[] = []
  await new SysFlowDriver({
    input: V5,
    callback: (_h, _c, _p, _f, _f2, r) => {
      log.push(`start ${r.ts}`)
      if (r.kind === Kind.FileEvent) {
        // A hand-made thenable resolving later: the next record must wait for it.
        return {then: (res: () => void) => void setTimeout(() => (log.push(`done ${r.ts}`), res()), 5)} as unknown as PromiseLike<void>
      }
      return ({then: 42} as unknown) as void
    },
  }).run()
  const fe = log.findIndex((l) => l.startsWith('done'))
  t.is(log[fe - 1].slice(6), log[fe].slice(5))
  t.is(log.filter((l) => l.startsWith('done')).length, 2)
  t.is(log.length, 13)
})

test('exit() from the callback stops after that record, with exact statistics', async (t) => {
  let n = 0
  const driver: SysFlowDriver = new SysFlowDriver({
    input: MULTI,
    callback: () => {
      if (++n === 150) driver.exit()
    },
  })
  const stats = await driver.run()
  t.is(n, 150)
  t.is(stats.records, 150)
  t.true(stats.stopped)
  // exit() before run(): nothing is delivered.
  let m = 0
  const d2 = new SysFlowDriver({input: V5, callback: () => void m++})
  d2.exit()
  t.is((await d2.run()).records, 0)
  t.is(m, 0)
})

test('an AbortSignal stops the driver and records() mid-stream', async (t) => {
  const ac = new AbortController()
  let n = 0
  const stats = await new SysFlowDriver({
    input: MULTI,
    signal: ac.signal,
    callback: async () => {
      if (++n === 37) ac.abort()
      await Promise.resolve()
    },
  }).run()
  t.is(stats.records, 37)
  t.true(stats.stopped)

  const ac2 = new AbortController()
  const st = new SysFlowStats()
  let k = 0
  for await (const _ of records(MULTI, {signal: ac2.signal, stats: st})) if (++k === 5) ac2.abort()
  t.is(k, 5)
  t.is(st.records, 5)
  t.true(st.stopped)
})

test('filter option: our condition language; a syntax error throws at construction', async (t) => {
  const kinds: number[] = []
  const stats = await new SysFlowDriver({input: V5, filter: 'sf.type in (FF, FE)', callback: (...a) => void kinds.push(a[5].kind)}).run()
  t.deepEqual(kinds, [Kind.FileFlow, Kind.FileEvent, Kind.FileEvent])
  t.is(stats.records, 3)
  t.is(stats.filtered, 8)
  const curl = await collect([V5], {filter: (j: JoinedRecord) => j.proc?.exe === '/usr/bin/curl'})
  t.is(curl.length, 7)
  // filterContainers: only records whose process is in a container (the k8s event is not).
  const inCont = await collect(V5, {filterContainers: true})
  t.is(inCont.length, 10)
  t.throws(() => new SysFlowDriver({input: V5, filter: 'sf.type = = FF', callback: () => undefined}), {name: 'FilterSyntaxError'})
})

test('inputs: a directory, a glob, an array, a stream; a missing path rejects', async (t) => {
  await withTempDir(async (dir) => {
    fs.copyFileSync(V5, path.join(dir, 'trace.2'))
    fs.copyFileSync(MULTI, path.join(dir, 'trace.10'))
    const ts = async (input: Parameters<typeof collect>[0] | NodeJS.ReadableStream) => {
      const out: bigint[] = []
      await new SysFlowDriver({input: input as string, callback: (...a) => void out.push(a[5].ts)}).run()
      return out
    }
    const v5 = (await collect(V5)).map((j) => j.rec.ts)
    const multi = (await collect(MULTI)).map((j) => j.rec.ts)
    // Rotated files in rotation order (numeric suffix): trace.2 before trace.10.
    t.deepEqual(await ts(dir), [...v5, ...multi])
    t.deepEqual(await ts(path.join(dir, 'trace.*')), [...v5, ...multi])
    t.deepEqual(await ts([MULTI, V5] as unknown as string), [...multi, ...v5])
    t.deepEqual(await ts(fs.createReadStream(V5)), v5)
  })
  await t.throwsAsync(new SysFlowDriver({input: 'no/such.sf', callback: () => undefined}).run(), {name: 'InputPathError'})
})

test('writer(): a filtered copy and rotated, self-contained files that read back the same', async (t) => {
  await withTempDir(async (dir) => {
    // Raw records (entities and events, as read) into one file, filtered.
    const one = path.join(dir, 'one.sf')
    const w = writer(one, {filter: 'sf.type = FF'})
    for await (const j of records(MULTI)) {
      const p = w.write(j)
      if (p) await p
    }
    const r1 = await w.close()
    t.deepEqual(r1.files, [one])
    // 201 FileFlows plus the header, the container, the pod, curl and its parent bash (ancestry), its file.
    const back = await collect(one)
    t.is(back.length, 201)
    t.deepEqual(back.map((j) => viaAttr(j)), (await printed([MULTI])).filter((r) => r.type === 'FF'))

    // Rotation every 50 ms of event time into a directory: each file reads back alone, nothing unresolved.
    const rot = path.join(dir, 'rot') + '/'
    const w2 = writer(rot, {rotateInterval: 0.05, batchRecords: 7})
    for await (const j of records(MULTI)) {
      const p = w2.write(j)
      if (p) await p
    }
    const r2 = await w2.close()
    t.true(r2.files.length >= 4, `${r2.files.length} files`)
    const all: Record<string, unknown>[] = []
    for (const f of r2.files) {
      const warnings: string[] = []
      const chunks: Buffer[] = []
      await printRecords([fileInput(f)], {write: (b) => void chunks.push(Buffer.from(b))}, {format: 'flatjson', columns: chooseColumns('flatjson', {fields: KEYS}), onWarning: (x) => void warnings.push(x.message)})
      t.deepEqual(warnings, [], f)
      all.push(...Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((l) => parseJsonExact(l) as Record<string, unknown>))
    }
    const ref = await printed([MULTI])
    // filename differs (the header is the source's); everything else is the source's, record by record.
    t.deepEqual(all, ref)
    t.throws(() => writer(path.join(dir, 'x.sf'), {rotateInterval: 1}), {instanceOf: RangeError, message: /needs a directory/})
  })
})

test('writer(): raw records (entities and events as read) make the same trace', async (t) => {
  await withTempDir(async (dir) => {
    const {readTrace} = await import('../src/format/reader.js')
    const out = path.join(dir, 'raw.sf')
    const w = writer(out)
    for await (const b of readTrace(fileInput(V5))) for (const r of b.records) await w.write(r)
    const res = await w.close()
    t.is(res.records, 20)
    t.deepEqual(await printed([out]), await printed([V5]))
  })
})

const haveLibscap = Boolean(process.env.SYSFLOW_LIBSCAP) || findSystemLibscap() !== undefined
const collectorDir = sharedDir('traces', 'collector')
const scapTest = haveLibscap && collectorDir ? test : test.skip
if (!haveLibscap || !collectorDir) test('scap input: SKIPPED (needs libscap and ../shared/traces/collector)', (t) => t.pass())

scapTest('.scap input: the records capture -r writes, through the callback', async (t) => {
  const scap = path.join(collectorDir!, 'files', 'files.scap')
  await withTempDir(async (dir) => {
    const sf = path.join(dir, 'files.sf')
    await captureToFile({input: scap, output: sf, fileReadMode: 0})
    const ref = await printed([sf])
    const got: Record<string, unknown>[] = []
    // capture's own defaults: every read flow, directories and pipes too, no rotation.
    const stats = await new SysFlowDriver({input: scap, fileReadMode: 0, fileOnly: false, rotateInterval: 0, callback: (...a) => void got.push(viaAttr(a[6]))}).run()
    const strip = (r: Record<string, unknown>) => ({...r, filename: ''})
    t.deepEqual(got.map(strip), ref.map(strip))
    t.is(stats.records, ref.length)
    t.is(stats.records, 21)
    t.is(stats.events, 2186)
    t.deepEqual(stats.counts, {H: 1, C: 2, P: 7, F: 12, PE: 2, FF: 6, FE: 13})
    // LibSysFlow's defaults: FILE_READ_MODE 2 drops one read-only flow; rotateInterval 300 (event time) starts a
    // second header, after which the collector re-emits the entities it needs.
    const dflt = await new SysFlowDriver({input: scap, callback: () => undefined}).run()
    t.is(dflt.records, 20)
    t.deepEqual(dflt.counts, {H: 2, C: 2, P: 7, F: 12, PE: 2, FF: 5, FE: 13})
  })
})

test('live capture without a driver rejects with CaptureUnavailableError naming what is missing', async (t) => {
  if (process.geteuid?.() === 0 && fs.existsSync('/dev/scap0')) return t.pass('a live driver is present: nothing to check')
  const e = await t.throwsAsync(new SysFlowDriver({callback: () => undefined, driver: 'kmod'}).run(), {name: 'CaptureUnavailableError'})
  t.regex(e!.message, /^live capture unavailable: /)
  t.is((e as unknown as {exitCode: number}).exitCode, 3)
})

const tracesDir = sharedDir('traces')
if (!tracesDir) test('shared traces: SKIPPED (../shared/traces absent)', (t) => t.pass())
else {
  test('shared traces: the callback sees, for every record of every trace, what print -o flatjson shows', async (t) => {
    const {listTraces} = await import('./helpers/shared.js')
    const files = listTraces(tracesDir)
    let total = 0
    for (const f of files) {
      const got: Record<string, unknown>[] = []
      const warnings: string[] = []
      const stats = await new SysFlowDriver({input: f, onWarning: (w) => void warnings.push(w.message), callback: (...a) => void got.push(viaAttr(a[6]))}).run()
      const ref = await printed([f])
      t.is(got.length, ref.length, f)
      t.is(stats.records, ref.length, f)
      for (let i = 0; i < ref.length; i++) {
        if (!isDeepStrictEqual(got[i], ref[i])) {
          t.deepEqual(got[i], ref[i], `${f} record ${i}`)
          break
        }
      }
      total += ref.length
    }
    t.log(`${files.length} traces, ${total} records`)
    t.true(files.length > 0)
  })
}

test('config -> capture options: LibSysFlow defaults, names mapped, the driver choice passed through untouched', async (t) => {
  const {captureOptions} = await import('../src/lib/source.js')
  const stop = () => false
  const d = captureOptions({}, false, stop) as Record<string, unknown>
  t.like(d, {mode: 'flow', containersOnly: false, fileReadMode: 2, processFlows: true, fileOnly: true, exporter: undefined})
  t.false('driver' in d)
  t.is(typeof d.onRotate, 'function')
  const o = captureOptions({collectionMode: 'consume', filterContainers: true, exporterID: 'n1', nodeIP: '10.1.2.3', fileReadMode: 0, enableProcessFlow: false, fileOnly: false, rotateInterval: 0, driver: 'ebpf'}, true, stop) as Record<string, unknown>
  t.like(o, {mode: 'consume', containersOnly: true, exporter: 'n1', nodeIp: '10.1.2.3', fileReadMode: 0, processFlows: false, fileOnly: false, driver: 'ebpf', onRotate: undefined})
  // Offline rotation follows event time: the first event starts the interval, 300 s later a new header.
  const rot = captureOptions({rotateInterval: 300}, false, stop).onRotate!
  t.deepEqual([rot(1_000_000_000_000n), rot(1_299_999_999_999n), rot(1_300_000_000_000n), rot(1_300_000_000_001n)], [false, false, true, false])
})

// Live, through the library: no input means live capture with the same driver choice as the command (the eBPF probe
// here). Root and BPF rights needed; skips visibly otherwise. The probe is detached when run() resolves.
const liveProblem = (() => {
  try {
    preflightEbpf(() => findLibbpf())
    return undefined
  } catch (e) {
    return (e as Error).message
  }
})()
if (liveProblem !== undefined) test(`live SysFlowDriver: SKIPPED (${liveProblem})`, (t) => t.pass())
else {
  test('live SysFlowDriver: records of a child exec reach the callback with its process resolved, and an AbortSignal stops it', async (t) => {
    const ac = new AbortController()
    const marker = `sysflow-lib-${process.pid}-${Date.now()}`
    const seen: string[] = []
    let started = false
    const driver = new SysFlowDriver({
      signal: ac.signal,
      collectionMode: 'nofiles',
      callback: (_h, _c, proc, _f, _f2, record) => {
        started = true
        if (record.kind === Kind.ProcessEvent && proc?.exeArgs?.includes(marker)) seen.push(`${proc.exe} ${proc.exeArgs}`)
      },
    })
    const done = driver.run()
    // the probe attaches within a few seconds; run the workload until its exec has been seen (bounded)
    for (let i = 0; i < 40 && seen.length === 0; i++) {
      await sleep(250)
      if (i % 4 === 3) spawnSync('/bin/echo', [marker])
    }
    ac.abort()
    const stats = await done
    t.true(started)
    t.true(stats.stopped)
    t.true(seen.includes(`/bin/echo ${marker}`), JSON.stringify(seen))
  })
}
