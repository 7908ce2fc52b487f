// .sf re-encoding keeps every value: `print -o flatjson` of an input equals `print -o flatjson` of `convert X -o Y.sf`,
// record by record and key by key, on every real trace and every fixture; merges equal their inputs printed one by
// one (each input is its own entity scope, as in sysprint); each record keeps the header it was read under; a
// field an input lacks stays absent, never an invented value: a merge of inputs whose fields differ is written in
// the union of their schemas (Avro's way: ["null", T] where only some inputs have the field), and avsc reads it.
import test from 'ava'
import avro from 'avsc'
import fs from 'node:fs'
import path from 'node:path'
import {avscBigintLong} from '../src/format/avro/avsc-long.js'
import {ConvertOptionError, fitSchema, planSfSchema, writeSf} from '../src/format/convert/index.js'
import {ReadWarning} from '../src/format/errors.js'
import {printRecords} from '../src/format/printers/print.js'
import {loadTraces, QuerySession} from '../src/query/index.js'
import {bufferInput, fileInput, readTrace, TraceInput} from '../src/format/reader.js'
import {EventRecord, Kind, OID, Process, SFHeader, SysFlowRecord} from '../src/format/records.js'
import {SchemaVersion, sysflowSchema} from '../src/format/schema.js'
import {bufferSink, TraceWriter} from '../src/format/writer.js'
import {runCli} from './helpers/cli.js'
import {sharedManifest} from './helpers/manifest.js'
import {sharedDir} from './helpers/shared.js'
import {withTempDir} from './helpers/tmp.js'

const traces = sharedDir('traces')
const manifest = sharedManifest()
const fixtures = path.resolve('test/fixtures')
const fixtureFiles = fs.readdirSync(fixtures).filter((n) => n.endsWith('.sf')).sort()
const variantFiles = fs.readdirSync(path.join(fixtures, 'variants')).filter((n) => n.endsWith('.sf')).sort().map((n) => path.join('variants', n))

// ---------------------------------------------------------------------------------------------------------------
// Helpers

async function encode(records: SysFlowRecord[], schema: SchemaVersion = '5', omit: string[] = []): Promise<Buffer> {
  const sink = bufferSink()
  const w = new TraceWriter(sink, {schema, omit, blockBytes: 1 << 20})
  for (const r of records) await w.write(r)
  await w.close()
  return sink.result()
}

async function readAll(input: TraceInput): Promise<SysFlowRecord[]> {
  const out: SysFlowRecord[] = []
  for await (const b of readTrace(input)) out.push(...b.records)
  return out
}

/** `print -o flatjson` of some inputs, one line per event or flow record (library call). */
async function flat(inputs: TraceInput[]): Promise<string[]> {
  const chunks: Buffer[] = []
  await printRecords(inputs, {write: (b) => void chunks.push(Buffer.from(b))}, {format: 'flatjson', onWarning: () => undefined, onError: () => undefined})
  const text = Buffer.concat(chunks).toString('utf8')
  return text === '' ? [] : text.replace(/\n$/, '').split('\n')
}

/** `convert INPUTS -o out.sf` into memory. */
async function reencode(inputs: TraceInput[], opts: Parameters<typeof writeSf>[2] = {}): Promise<{bytes: Buffer; warnings: string[]}> {
  const sink = bufferSink()
  const warnings: string[] = []
  await writeSf(inputs, {sink}, {onWarning: (w: ReadWarning) => warnings.push(w.message), ...opts})
  return {bytes: sink.result(), warnings}
}

/** How many lines differ (position by position, plus any difference in length): 0 when equal. */
function differing(a: string[], b: string[]): number {
  let n = Math.abs(a.length - b.length)
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++
  return n
}

/** Key-by-key comparison of two flatjson lines, for a readable failure. */
function keyDiff(a: string | undefined, b: string | undefined): string {
  if (a === undefined || b === undefined) return `${a === undefined ? 'missing' : 'extra'} record`
  const x = JSON.parse(a) as Record<string, unknown>
  const y = JSON.parse(b) as Record<string, unknown>
  const keys = new Set([...Object.keys(x), ...Object.keys(y)])
  return [...keys].filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k])).map((k) => `${k}: ${JSON.stringify(x[k])} -> ${JSON.stringify(y[k])}`).join(', ')
}

function assertSame(t: import('ava').ExecutionContext, got: string[], want: string[], what: string): void {
  const n = differing(got, want)
  const first = got.findIndex((l, i) => l !== want[i])
  t.is(n, 0, `${what}: ${n} of ${want.length} records differ${n ? ` (first at ${first}: ${keyDiff(want[first], got[first])})` : ''}`)
  t.is(got.length, want.length)
}

/** A .sf file decoded by avsc alone (another Avro implementation; longs as exact bigints, unions wrapped). */
async function avscRead(file: string): Promise<{schema: {fields: {type: {name: string; fields: {name: string; type: unknown; default?: unknown}[]}[]}[]}; records: Record<string, unknown>[]}> {
  const LongType = avscBigintLong as unknown as avro.Type
  let schema: unknown
  const records: Record<string, unknown>[] = []
  await new Promise<void>((resolve, reject) => {
    avro
      .createFileDecoder(file, {
        parseHook: (s: avro.Schema) => {
          schema = s
          return avro.Type.forSchema(s, {wrapUnions: true, registry: {long: LongType}, typeHook: (x: avro.Schema) => (typeof x === 'object' && (x as {type?: unknown}).type === 'long' ? LongType : undefined)})
        },
      })
      .on('data', (r: Record<string, unknown>) => records.push(r))
      .on('error', reject)
      .on('end', resolve)
  })
  return {schema: schema as never, records}
}

/** Every input printed alone, concatenated: what a merge of them must print. */
async function eachAlone(inputs: TraceInput[]): Promise<string[]> {
  const out: string[] = []
  for (const i of inputs) out.push(...(await flat([i])))
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// The property on every real trace and every fixture

const realTraces = traces && manifest ? manifest.map((m) => path.join(traces, m.path)) : []
if (realTraces.length === 0) test.skip('re-encoding real traces: ../shared/traces not found', () => {})

for (const file of [...realTraces, ...[...fixtureFiles, ...variantFiles].map((n) => path.join(fixtures, n))]) {
  const name = traces && file.startsWith(traces) ? path.relative(traces, file) : `fixture ${path.relative(fixtures, file)}`
  test(`${name}: print of the re-encoded .sf equals print of the input, key by key`, async (t) => {
    const input = fileInput(file)
    const want = await flat([input])
    const {bytes} = await reencode([input])
    assertSame(t, await flat([bufferInput('out.sf', bytes)]), want, name)
  })
}

if (traces) {
  const apis = realTraces.filter((f) => f.includes(`${path.sep}sf-apis${path.sep}`))
  test('merge of every sf-apis trace: the merged .sf prints each input as it prints alone, in order', async (t) => {
    t.true(apis.length >= 6)
    const inputs = apis.map(fileInput)
    const want = await eachAlone(inputs)
    const {bytes} = await reencode(inputs)
    assertSame(t, await flat([bufferInput('merged.sf', bytes)]), want, 'sf-apis merge')
    // The reading side: printing the inputs together joins nothing across them either.
    assertSame(t, await flat(inputs), want, 'print of the sf-apis traces together')
  })

  const collector = realTraces.filter((f) => f.includes(`${path.sep}collector${path.sep}`))
  test('merge of every collector trace (v5): each record keeps its own header, nothing joins across inputs', async (t) => {
    // Before sections, 5,636 of these 5,660 records printed another file name (the first input's).
    t.true(collector.length >= 11)
    const inputs = collector.map(fileInput)
    const {bytes} = await reencode(inputs)
    assertSame(t, await flat([bufferInput('merged.sf', bytes)]), await eachAlone(inputs), 'collector merge')
    t.is((await readAll(bufferInput('merged.sf', bytes))).filter((r) => r.kind === Kind.Header).length, collector.length)
  })

  for (const rel of ['collector/mpm-event/full_capture.sf', 'sysflow/sf-processor/k8s_small.sf', 'sysflow/sf-apis/attacks/express/mon.1531776712.sf']) {
    test(`${rel} merged with itself: twice its records, each copy joined within its own input`, async (t) => {
      const input = fileInput(path.join(traces, rel))
      const once = await flat([input])
      const {bytes} = await reencode([input, input])
      assertSame(t, await flat([bufferInput('twice.sf', bytes)]), [...once, ...once], `${rel} twice`)
      t.is((await readAll(bufferInput('twice.sf', bytes))).filter((r) => r.kind === Kind.Header).length, 2)
    })
  }

  test('CLI: convert of several collector traces to one .sf prints as the inputs print one by one', async (t) => {
    const files = ['collector/files/files.sf', 'collector/files/filesat.sf', 'collector/setuid/setuid.sf', 'collector/objectstore/download.sf'].map((p) => path.join(traces, p))
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'merged.sf')
      const r = runCli(['convert', ...files, '-o', out])
      t.is(r.status, 0, r.stderr)
      const want = files.map((f) => runCli(['print', '-o', 'flatjson', f]).stdout).join('')
      t.is(runCli(['print', '-o', 'flatjson', out]).stdout, want)
      t.is(runCli(['print', '-o', 'flatjson', ...files]).stdout, want)
    })
  })
}

// Every .sf trace of the shared corpus (when present) and every fixture, variants included, in one merge: their
// writers span schema 1000ms to 5 and several collector variants, so this is the union of many schemas.
const everyTrace = [...(traces && manifest ? manifest.filter((m) => m.path.endsWith('.sf')).map((m) => path.join(traces, m.path)) : []), ...fixtureFiles.map((n) => path.join(fixtures, n)), ...variantFiles.map((n) => path.join(fixtures, n))]
if (!traces || !manifest) test.skip('merge of every shared trace: ../shared/traces not found (the fixtures-only merge below still runs)', () => {})
test('CLI: merge of every trace and fixture into one .sf: each input prints as alone (multiset per input), avsc reads it', async (t) => {
  // The merge was refused (exit 2) while the inputs' fields differed; now it is the union of their schemas.
  const skipping = new Set(['unknown-type.sf', 'collector-2018.sf']) // records of types we do not know: skipped, exit 1
  const want = await Promise.all(everyTrace.map((f) => flat([fileInput(f)])))
  await withTempDir(async (dir) => {
    const out = path.join(dir, 'merged.sf')
    const r = runCli(['convert', ...everyTrace, '-o', out])
    t.is(r.status, 1, r.stderr)
    t.deepEqual(r.stderr.split('\n').filter((l) => l.startsWith('sysflow:')).map((l) => l.replace(/: skipped (\d+) .*\((.*)\)$/, ' $1 $2')), [
      `sysflow: warning: ${path.join(fixtures, 'variants/collector-2018.sf')} 2 sysflow.flow.AtomicFileFlow`,
      `sysflow: warning: ${path.join(fixtures, 'variants/unknown-type.sf')} 3 sysflow.event.SignalEvent`,
      `sysflow: warning: ${out} is partial: 5 records of record types this version cannot read skipped; the rest was converted`,
    ])
    const got = await flat([fileInput(out)])
    const total = want.reduce((n, w) => n + w.length, 0)
    t.is(got.length, total, 'event and flow records: the sum of the inputs\'')
    let at = 0
    let differ = 0
    everyTrace.forEach((f, i) => {
      const mine = got.slice(at, at + want[i].length)
      at += want[i].length
      const a = [...mine].sort()
      const b = [...want[i]].sort()
      const n = differing(a, b)
      if (n > 0) t.fail(`${f}: ${n} of ${b.length} records differ (${keyDiff(b[a.findIndex((l, k) => l !== b[k])], a[a.findIndex((l, k) => l !== b[k])])})`)
      differ += n
    })
    t.is(differ, 0)
    // Every record, header and entity included, as our reader and as avsc read it.
    const ours = await readAll(fileInput(out))
    const theirs = await avscRead(out)
    t.is(theirs.records.length, ours.length)
    t.is(ours.filter((x) => x.kind === Kind.Header).length, everyTrace.length)
    // Without the two inputs whose unknown record types are skipped, nothing is skipped: exit 0.
    const clean = everyTrace.filter((f) => !skipping.has(path.basename(f)))
    const r2 = runCli(['convert', ...clean, '-o', path.join(dir, 'clean.sf')])
    t.is(r2.status, 0, r2.stderr)
    t.is((await flat([fileInput(path.join(dir, 'clean.sf'))])).length, total - want[everyTrace.findIndex((f) => f.endsWith('unknown-type.sf'))].length - want[everyTrace.findIndex((f) => f.endsWith('collector-2018.sf'))].length)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Mechanisms, on built traces

const T0 = 1_700_000_000_000_000_000n
const oid = (hpid: number): OID => ({hpid: BigInt(hpid), createTS: T0 + BigInt(hpid)})
const hdr = (filename: string, exporter = 'node-a', ip = '10.0.0.1'): SFHeader => ({kind: Kind.Header, version: 5n, exporter, ip, filename})
function proc(hpid: number, poid: OID | null, exe: string): Process {
  return {
    kind: Kind.Process, state: 'CREATED', oid: oid(hpid), poid, ts: T0 + BigInt(hpid), exe, exeArgs: '', uid: 0, userName: 'root',
    gid: 0, groupName: 'root', tty: false, containerId: null, entry: true, cwd: '/', env: ['A=1'],
  }
}
const pe = (hpid: number, ts: bigint): EventRecord => ({kind: Kind.ProcessEvent, procOID: oid(hpid), ts: T0 + ts, tid: BigInt(hpid), opFlags: 2, args: [], ret: 0})
const key = (line: string, k: string): unknown => (JSON.parse(line) as Record<string, unknown>)[k]

test('a file with several headers: each record keeps its own header, and its entities are written again under it', async (t) => {
  const init = proc(1, null, '/sbin/init')
  const sh = proc(2, init.oid, '/bin/sh')
  // The second section uses the same processes: a reader's tables were reset by the header, so they come again.
  const recs: SysFlowRecord[] = [hdr('/a/first.sf'), init, sh, pe(2, 10n), hdr('/a/second.sf'), init, sh, pe(2, 20n), pe(1, 30n)]
  const input = bufferInput('two-headers.sf', await encode(recs))
  const want = await flat([input])
  t.deepEqual(want.map((l) => key(l, 'filename')), ['/a/first.sf', '/a/second.sf', '/a/second.sf'])
  const {bytes} = await reencode([input])
  const got = await flat([bufferInput('out.sf', bytes)])
  assertSame(t, got, want, 'two headers')
  const out = await readAll(bufferInput('out.sf', bytes))
  t.deepEqual(out.map((r) => (r.kind === Kind.Header ? `H:${r.filename}` : r.kind === Kind.Process ? `P:${r.exe}` : `PE:${(r as EventRecord).ts - T0}`)), [
    'H:/a/first.sf', 'P:/sbin/init', 'P:/bin/sh', 'PE:10', 'H:/a/second.sf', 'P:/sbin/init', 'P:/bin/sh', 'PE:20', 'PE:30',
  ])
})

test('a header that only changes the file name (same node) still starts a new section', async (t) => {
  const a = [hdr('/x/a.sf'), proc(1, null, '/sbin/init'), pe(1, 10n)]
  const b = [hdr('/x/b.sf'), proc(1, null, '/sbin/init'), pe(1, 20n)]
  const inputs = [bufferInput('a.sf', await encode(a)), bufferInput('b.sf', await encode(b))]
  const {bytes} = await reencode(inputs)
  const got = await flat([bufferInput('out.sf', bytes)])
  t.deepEqual(got.map((l) => key(l, 'filename')), ['/x/a.sf', '/x/b.sf'])
  assertSame(t, got, await eachAlone(inputs), 'filename change')
})

test('entity identity is scoped to its input: the same OID in another file is not a parent', async (t) => {
  // a.sf has process 1; b.sf's process 2 names 1 as its parent but b.sf never wrote it (as real traces do).
  const a = [hdr('/x/a.sf'), proc(1, null, '/sbin/init'), pe(1, 10n)]
  const b = [hdr('/x/a.sf'), proc(2, oid(1), '/bin/orphan'), pe(2, 20n)]
  const inputs = [bufferInput('a.sf', await encode(a)), bufferInput('b.sf', await encode(b))]
  const want = await eachAlone(inputs)
  t.is(key(want[1], 'pproc.exe'), '')
  const {bytes} = await reencode(inputs)
  const got = await flat([bufferInput('out.sf', bytes)])
  t.is(key(got[1], 'pproc.exe'), '', 'the merged output gives b\'s process no parent from a')
  assertSame(t, got, want, 'scoped merge')
})

test('print of several inputs: a later input without a header of its own does not join against the one before', async (t) => {
  const a = [hdr('/x/a.sf'), proc(1, null, '/sbin/init'), proc(2, oid(1), '/bin/sh'), pe(2, 10n)]
  // b.sf: no header, and an event of process 2, which only a.sf defines.
  const b = [proc(3, oid(1), '/bin/late'), pe(3, 20n), pe(2, 30n)]
  const inputs = [bufferInput('a.sf', await encode(a)), bufferInput('b.sf', await encode(b))]
  const together = await flat(inputs)
  t.is(together.length, 3)
  t.is(key(together[1], 'pproc.exe'), '')
  t.is(key(together[2], 'proc.exe'), '')
  t.deepEqual(together, await eachAlone(inputs))
  // Re-encoded: b.sf alone stays headerless and prints the same; after a.sf it gets a header (and a warning), so
  // that its records still do not join with a.sf's processes.
  const alone = await reencode([inputs[1]])
  t.false((await readAll(bufferInput('b-out.sf', alone.bytes))).some((r) => r.kind === Kind.Header))
  t.deepEqual(await flat([bufferInput('b-out.sf', alone.bytes)]), await flat([inputs[1]]))
  const merged = await reencode(inputs)
  const got = await flat([bufferInput('m.sf', merged.bytes)])
  t.deepEqual(got.map((l) => [key(l, 'proc.exe'), key(l, 'pproc.exe')]), [['/bin/sh', '/sbin/init'], ['/bin/late', ''], ['', '']])
  t.deepEqual(merged.warnings.filter((w) => /no header before its first records/.test(w)).length, 1)
})

test('legacy v1000 input re-encodes as v1000: node.ip, proc.entry, filename, cwd and env stay absent', async (t) => {
  const legacy = path.join(fixtures, 'v1000.sf')
  const {bytes} = await reencode([fileInput(legacy)])
  const out = await readAll(bufferInput('out.sf', bytes))
  const h = out[0] as SFHeader
  t.is(h.kind, Kind.Header)
  t.is(h.ip, undefined)
  t.is(h.filename, undefined)
  t.is(h.version, 1000n)
  const procs = out.filter((r): r is Process => r.kind === Kind.Process)
  t.true(procs.length > 0)
  t.deepEqual(procs.map((p) => [p.entry, p.cwd, p.env]), procs.map(() => [undefined, undefined, undefined]))
  const lines = await flat([bufferInput('out.sf', bytes)])
  t.deepEqual([...new Set(lines.map((l) => `${key(l, 'node.ip')}|${key(l, 'proc.entry')}`))], ['|'])
})

/** Schema 5 with `fields` (`Record.field`) made ["null", T] with default null: the union of a v5 and an older writer. */
function nullableIn(v: SchemaVersion, fields: string[]): unknown {
  const s = sysflowSchema(v) as {fields: {type: {name: string; fields: {name: string; type: unknown; default?: unknown}[]}[]}[]}
  for (const m of s.fields[0].type) {
    if (!Array.isArray(m.fields)) continue
    m.fields = m.fields.map((f) => (fields.includes(`${m.name}.${f.name}`) ? {name: f.name, type: ['null', f.type], default: null} : f))
  }
  return s
}

test('merge of a v1000 and a v5 trace: the union of their schemas, fields only v5 has nullable, null where v1000 lacked them', async (t) => {
  const legacy = fileInput(path.join(fixtures, 'v1000.sf'))
  const v5 = fileInput(path.join(fixtures, 'v5.sf'))
  const lacked = ['SFHeader.ip', 'SFHeader.filename', 'Process.entry', 'Process.cwd', 'Process.env']
  t.deepEqual(await planSfSchema([legacy, v5]), {schema: '5', omit: [], nullable: lacked, symbols: {}, forced: false})
  const merged = await reencode([legacy, v5])
  t.deepEqual(merged.warnings, [])
  let schemaJson = ''
  const out: SysFlowRecord[] = []
  for await (const b of readTrace(bufferInput('m.sf', merged.bytes), {onOpen: (i) => (schemaJson = i.schemaJson)})) out.push(...b.records)
  // Exactly v5's schema, but for the five fields v1000 lacks, now ["null", T] with default null.
  t.deepEqual(JSON.parse(schemaJson), nullableIn('5', lacked))
  // Absent stays absent: the processes of the v1000 section have no entry, cwd or env; the v5 ones keep theirs.
  const second = out.findIndex((r, i) => i > 0 && r.kind === Kind.Header)
  const procsOf = (rs: SysFlowRecord[]) => rs.filter((r): r is Process => r.kind === Kind.Process).map((p) => [p.entry, p.cwd, p.env])
  const v1000Procs = procsOf(out.slice(0, second))
  t.true(v1000Procs.length > 0)
  t.deepEqual(v1000Procs, v1000Procs.map(() => [undefined, undefined, undefined]))
  t.deepEqual(procsOf(out.slice(second)).sort(), procsOf(await readAll(v5)).sort())
  const headers = out.filter((r): r is SFHeader => r.kind === Kind.Header)
  t.deepEqual(headers.map((h) => [h.version, h.ip === undefined, h.filename === undefined]), [[1000n, true, true], [5n, false, false]])
  assertSame(t, await flat([bufferInput('m.sf', merged.bytes)]), await eachAlone([legacy, v5]), 'v1000 + v5')
  // Another Avro implementation reads it: v1000's processes have null where v5's have values.
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'm.sf')
    fs.writeFileSync(file, merged.bytes)
    const {records} = await avscRead(file)
    t.is(records.length, out.length)
    const procs = records.map((r) => (r.rec as Record<string, Record<string, unknown>>)['sysflow.entity.Process']).filter((p) => p !== undefined)
    const entries = procs.map((p) => (p.entry === null ? 'null' : String((p.entry as {boolean: boolean}).boolean)))
    const legacyProcs = (await readAll(legacy)).filter((r) => r.kind === Kind.Process).length
    t.true(legacyProcs > 0)
    t.deepEqual(entries.slice(0, legacyProcs), entries.slice(0, legacyProcs).map(() => 'null'))
    t.false(entries.slice(legacyProcs).includes('null'))
    // The CLI: exit 0, and the merge prints as the inputs one by one.
    const cli = runCli(['convert', legacy.name, v5.name, '-o', path.join(dir, 'cli.sf')])
    t.is(cli.status, 0, cli.stderr)
    t.is(runCli(['print', '-o', 'flatjson', path.join(dir, 'cli.sf')]).stdout, runCli(['print', '-o', 'flatjson', legacy.name, v5.name]).stdout)
  })
  // --schema forces one version, with its defaults for what an input lacks, and says so.
  const forced = await reencode([legacy, v5], {schema: '5'})
  t.true(forced.warnings.some((w) => /lacks SFHeader\.ip, SFHeader\.filename, Process\.entry, Process\.cwd, Process\.env: written with schema 5's defaults/.test(w)), forced.warnings.join('; '))
  // 1000ms and 1000 carry the same fields: merged without a word, values kept, nothing nullable.
  const ms = fileInput(path.join(fixtures, 'v1000ms.sf'))
  t.deepEqual((await planSfSchema([ms, legacy])).nullable, [])
  const both = await reencode([ms, legacy])
  assertSame(t, await flat([bufferInput('m.sf', both.bytes)]), await eachAlone([ms, legacy]), '1000ms + 1000')
})

test('merge with a writer of narrower types and extra enum symbols: the wider type is written, the symbols appended', async (t) => {
  // promoted.sf writes NetworkFlow.tid and numRRecvOps as int, exeArgs as bytes, CT_PODMAN first in ContainerType
  // and ZOMBIE in SFObjectState; v5 writes long and string. The union writes the wider (ours: the reader promoted
  // every value to it) and appends the symbols, so that every value is kept and our indices do not move.
  const promoted = fileInput(path.join(fixtures, 'variants/promoted.sf'))
  const v5 = fileInput(path.join(fixtures, 'v5.sf'))
  const plan = await planSfSchema([promoted, v5])
  t.deepEqual(plan.symbols, {ContainerType: ['CT_PODMAN'], SFObjectState: ['ZOMBIE']})
  const merged = await reencode([promoted, v5])
  let schemaJson = ''
  for await (const _ of readTrace(bufferInput('m.sf', merged.bytes), {onOpen: (i) => (schemaJson = i.schemaJson)})) break
  const nf = (JSON.parse(schemaJson) as {fields: {type: {name: string; fields: {name: string; type: unknown}[]}[]}[]}).fields[0].type.find((m) => m.name === 'NetworkFlow')!
  t.deepEqual(['tid', 'numRRecvOps'].map((n) => nf.fields.find((f) => f.name === n)!.type), ['long', 'long'])
  t.regex(schemaJson, /"symbols":\["CT_DOCKER",[^\]]*"CT_BPM","CT_PODMAN"\]/)
  t.regex(schemaJson, /"symbols":\["CREATED","MODIFIED","REUP","ZOMBIE"\]/)
  assertSame(t, await flat([bufferInput('m.sf', merged.bytes)]), await eachAlone([promoted, v5]), 'promoted + v5')
})

test('query of several inputs: a later input without a header does not join against the one before', async (t) => {
  const a = [hdr('/x/a.sf'), proc(1, null, '/sbin/init'), proc(2, oid(1), '/bin/sh'), pe(2, 10n)]
  const b = [proc(3, oid(1), '/bin/late'), pe(3, 20n), pe(2, 30n)]
  const session = await QuerySession.open()
  try {
    await loadTraces(session, [bufferInput('a.sf', await encode(a)), bufferInput('b.sf', await encode(b))], {workers: 0})
    const rows = (await session.connection.runAndReadAll('SELECT ts - 1700000000000000000, proc_exe, pproc_exe FROM events ORDER BY ts')).getRows()
    t.deepEqual(rows.map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v))), [[10, '/bin/sh', '/sbin/init'], [20, '/bin/late', null], [30, null, null]])
  } finally {
    session.close()
  }
})

/** A schema's fields of one record, from its JSON text. */
function fieldsOf(schemaJson: string, record: string): string[] {
  const union = (JSON.parse(schemaJson) as {fields: {type: {name: string; fields: {name: string}[]}[]}[]}).fields[0].type
  return union.find((m) => m.name === record || m.name.endsWith(`.${record}`))!.fields.map((f) => f.name)
}

test('the schema that fits a writer: its own version, or for a variant the version less what it lacked', (t) => {
  for (const v of ['1000ms', '1000', '1001', '2', '3', '4', '5'] as SchemaVersion[]) t.deepEqual(fitSchema(JSON.stringify(sysflowSchema(v))), {version: v, omit: []}, v)
  const without = (v: SchemaVersion, record: string, ...names: string[]): string => {
    const s = sysflowSchema(v) as {fields: {type: {name: string; fields: {name: string}[]}[]}[]}
    const m = s.fields[0].type.find((x) => x.name === record)!
    m.fields = m.fields.filter((f) => !names.includes(f.name))
    return JSON.stringify(s)
  }
  t.deepEqual(fitSchema(without('1000', 'NetworkFlow', 'fd')), {version: '1000', omit: ['NetworkFlow.fd']})
  t.deepEqual(fitSchema(without('5', 'Process', 'cwd')), {version: '5', omit: ['Process.cwd']})
  t.deepEqual(fitSchema(without('5', 'File', 'restype')), {version: '5', omit: ['File.restype']})
  // v5 without cwd and env is v4's layout exactly.
  t.deepEqual(fitSchema(without('5', 'Process', 'cwd', 'env')), {version: '4', omit: []})
})

test('a variant writer (v5 without Process.cwd) re-encodes without cwd: the value stays absent, not empty', async (t) => {
  const p = {...proc(1, null, '/sbin/init'), cwd: undefined}
  const input = bufferInput('no-cwd.sf', await encode([hdr('/x/v.sf'), p, pe(1, 10n)], '5', ['Process.cwd']))
  const before = await readAll(input)
  t.is((before[1] as Process).cwd, undefined)
  const {bytes, warnings} = await reencode([input])
  t.deepEqual(warnings, [])
  let schemaJson = ''
  const out: SysFlowRecord[] = []
  for await (const b of readTrace(bufferInput('out.sf', bytes), {onOpen: (i) => (schemaJson = i.schemaJson)})) out.push(...b.records)
  t.false(fieldsOf(schemaJson, 'Process').includes('cwd'))
  t.true(fieldsOf(schemaJson, 'Process').includes('env'))
  t.deepEqual(out, before)
  t.deepEqual(await flat([bufferInput('out.sf', bytes)]), await flat([input]))
  // Merged with a v5 trace that has cwd: cwd is nullable, null in the variant's records (absent when read back).
  const full = bufferInput('full.sf', await encode([hdr('/x/f.sf'), proc(2, null, '/bin/sh'), pe(2, 20n)]))
  await withTempDir(async (dir) => {
    const files = [path.join(dir, 'full.sf'), path.join(dir, 'no-cwd.sf')]
    fs.writeFileSync(files[0], await encode([hdr('/x/f.sf'), proc(2, null, '/bin/sh'), pe(2, 20n)]))
    fs.writeFileSync(files[1], await encode([hdr('/x/v.sf'), p, pe(1, 10n)], '5', ['Process.cwd']))
    const inputs = files.map(fileInput)
    t.deepEqual(await planSfSchema(inputs), {schema: '5', omit: [], nullable: ['Process.cwd'], symbols: {}, forced: false})
    const merged = await reencode(inputs)
    t.deepEqual(merged.warnings, [])
    const back = (await readAll(bufferInput('m.sf', merged.bytes))).filter((r): r is Process => r.kind === Kind.Process)
    t.deepEqual(back.map((x) => x.cwd), ['/', undefined])
    assertSame(t, await flat([bufferInput('m.sf', merged.bytes)]), await eachAlone(inputs), 'v5 + v5 without cwd')
  })
  // Inputs not looked at in advance (streams) cannot widen a schema already written: still refused.
  await t.throwsAsync(reencode([full, input]), {instanceOf: ConvertOptionError, message: /no-cwd\.sf \(schema 4\) lacks Process\.cwd, which the output's schema 5 requires/})
})
