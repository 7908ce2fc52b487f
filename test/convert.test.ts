// convert: .sf, json/ndjson/flatjson/csv and stdout outputs; the entity closure of filtered .sf (exact layout on a
// built trace, equality with print and no unreferenced entity on every real trace); rotation; merging; safe
// output (refusal without --force, nothing left after an error, SIGINT and SIGTERM mid-way).
import test from 'ava'
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {loadSources, writeBenchTrace} from '../bench/generate.js'
import {convert, ConvertFormat, ConvertOptionError, formatFromPath, OutputExistsError, planSfSchema, schemaVersionOf, writeSf} from '../src/format/convert/index.js'
import {ReadWarning} from '../src/format/errors.js'
import {Joined} from '../src/format/join.js'
import {joinedBatches} from '../src/format/pipeline.js'
import {printRecords, PrintOptions} from '../src/format/printers/print.js'
import {bufferInput, fileInput, readTrace, TraceInput} from '../src/format/reader.js'
import {
  Container, EventRecord, File as SFFile, Kind, KIND_ABBREV, OID, Pod, Process, SFHeader, SysFlowRecord,
} from '../src/format/records.js'
import {SchemaVersion, sysflowSchema} from '../src/format/schema.js'
import {bufferSink, TraceWriter} from '../src/format/writer.js'
import {runCli} from './helpers/cli.js'
import {listTraces, sharedDir} from './helpers/shared.js'
import {withTempDir} from './helpers/tmp.js'

const traces = sharedDir('traces')
const fixtures = path.resolve('test/fixtures')
const RUN = path.resolve('bin/run.js')

// ---------------------------------------------------------------------------------------------------------------
// Helpers

async function encode(records: SysFlowRecord[], opts: {schema?: SchemaVersion; blockBytes?: number} = {}): Promise<Buffer> {
  const sink = bufferSink()
  const w = new TraceWriter(sink, {schema: opts.schema ?? '5', blockBytes: opts.blockBytes ?? 1 << 20})
  for (const r of records) await w.write(r)
  await w.close()
  return sink.result()
}

async function readAll(input: TraceInput): Promise<{records: SysFlowRecord[]; warnings: string[]}> {
  const records: SysFlowRecord[] = []
  const warnings: string[] = []
  for await (const b of readTrace(input, {onWarning: (w) => warnings.push(w.message)})) records.push(...b.records)
  return {records, warnings}
}

/** Joined-view warnings (unresolved references) of reading some inputs. */
async function joinWarnings(inputs: TraceInput[]): Promise<string[]> {
  const warnings: string[] = []
  for await (const _ of joinedBatches(inputs, {onWarning: (w: ReadWarning) => warnings.push(w.message)})) {
    // drain
  }
  return warnings
}

async function printed(inputs: TraceInput[], opts: Partial<PrintOptions> = {}): Promise<string> {
  const chunks: Buffer[] = []
  await printRecords(inputs, {write: (b) => void chunks.push(Buffer.from(b))}, {format: 'flatjson', ...opts})
  return Buffer.concat(chunks).toString('utf8')
}

/** Run writeSf into memory. */
async function sfToBuffer(inputs: TraceInput[], opts: Parameters<typeof writeSf>[2] = {}): Promise<{bytes: Buffer; result: Awaited<ReturnType<typeof writeSf>>}> {
  const sink = bufferSink()
  const result = await writeSf(inputs, {sink}, opts)
  return {bytes: sink.result(), result}
}

const oidKey = (o: OID) => `${o.hpid}/${o.createTS}`
const short = (r: SysFlowRecord): string => {
  switch (r.kind) {
    case Kind.Header:
      return `H:${r.exporter}`
    case Kind.Pod:
      return `POD:${r.id}`
    case Kind.Container:
      return `C:${r.id}`
    case Kind.Process:
      return `P:${r.oid.hpid}:${r.state}:${r.exe}`
    case Kind.File:
      return `F:${r.path}:${r.state}`
    default:
      return `${KIND_ABBREV[r.kind]}@${r.ts - T0}`
  }
}

/**
 * Check the layout of a trace: the header first; every reference of an event or flow resolves (through the
 * latest entity written before it, tables reset at each header); and every entity record written is the one some
 * later record resolves to: its process, an ancestor, a container or pod of those, a file or the file's
 * container or pod. Returns the problems found.
 */
function layoutProblems(records: SysFlowRecord[]): string[] {
  const problems: string[] = []
  if (records[0]?.kind !== Kind.Header) problems.push('the first record is not a header')
  const procs = new Map<string, number>()
  const files = new Map<string, number>()
  const conts = new Map<string, number>()
  const pods = new Map<string, number>()
  const used = new Set<number>()
  const useContainer = (id: string | null | undefined, i: number): void => {
    if (!id) return
    const c = conts.get(id)
    if (c === undefined) return void problems.push(`record ${i}: container ${id} not written before use`)
    used.add(c)
    const podId = (records[c] as Container).podId
    if (!podId) return
    const p = pods.get(podId)
    if (p === undefined) return void problems.push(`record ${i}: pod ${podId} not written before use`)
    used.add(p)
  }
  const useFile = (foid: string, i: number): void => {
    const f = files.get(foid)
    if (f === undefined) return void problems.push(`record ${i}: file ${foid} not written before use`)
    used.add(f)
    useContainer((records[f] as SFFile).containerId, i)
  }
  for (const [i, r] of records.entries()) {
    switch (r.kind) {
      case Kind.Header:
        procs.clear()
        files.clear()
        conts.clear()
        pods.clear()
        break
      case Kind.Process:
        procs.set(oidKey(r.oid), i)
        break
      case Kind.File:
        files.set(r.oid, i)
        break
      case Kind.Container:
        conts.set(r.id, i)
        break
      case Kind.Pod:
        pods.set(r.id, i)
        break
      case Kind.K8sEvent:
        break
      default: {
        let at = procs.get(oidKey(r.procOID))
        if (at === undefined) problems.push(`record ${i}: process ${oidKey(r.procOID)} not written before use`)
        // The process and its ancestors (a parent never written ends the line, as in the join).
        for (let n = 0; at !== undefined && n < 1024; n++) {
          used.add(at)
          const p = records[at] as Process
          useContainer(p.containerId, i)
          at = p.poid ? procs.get(oidKey(p.poid)) : undefined
        }
        if (r.kind === Kind.FileFlow || r.kind === Kind.FileEvent) useFile(r.fileOID, i)
        if (r.kind === Kind.FileEvent && r.newFileOID) useFile(r.newFileOID, i)
      }
    }
  }
  for (const [i, r] of records.entries()) {
    if (r.kind === Kind.Process || r.kind === Kind.File || r.kind === Kind.Container || r.kind === Kind.Pod) {
      if (!used.has(i)) problems.push(`record ${i}: ${short(r)} is referenced by nothing after it`)
    }
  }
  return problems
}

// ---------------------------------------------------------------------------------------------------------------
// A built trace with a process tree, containers, pods and files, some of them unrelated to the kept records.

const T0 = 1_700_000_000_000_000_000n
const oid = (hpid: number, createTS = 0n): OID => ({hpid: BigInt(hpid), createTS: createTS === 0n ? 0n : T0 + createTS})
const foid = (n: number) => n.toString(16).padStart(40, '0')

function header(exporter = 'node-a', ip = '10.0.0.1'): SFHeader {
  return {kind: Kind.Header, version: 5n, exporter, ip, filename: `/data/${exporter}`}
}
function pod(id: string): Pod {
  return {kind: Kind.Pod, ts: T0, id, name: `name-${id}`, nodeName: 'node-a', hostIP: [16777343n], internalIP: [], namespace: 'ns', restartCount: 0n, labels: {app: id}, selectors: {}, services: []}
}
function container(id: string, podId: string | null): Container {
  return {kind: Kind.Container, id, name: `c-${id}`, image: 'img', imageid: 'sha', type: 'CT_DOCKER', privileged: false, podId}
}
function proc(hpid: number, poid: OID | null, containerId: string | null, exe: string, state: Process['state'] = 'CREATED'): Process {
  return {
    kind: Kind.Process, state, oid: oid(hpid, BigInt(hpid)), poid, ts: T0 + BigInt(hpid), exe, exeArgs: '-x', uid: 0, userName: 'root',
    gid: 0, groupName: 'root', tty: false, containerId, entry: false, cwd: '/', env: [],
  }
}
function file(n: number, p: string, containerId: string | null): SFFile {
  return {kind: Kind.File, state: 'CREATED', oid: foid(n), ts: T0, restype: 102, path: p, containerId}
}
function ff(hpid: number, f: number, ts: bigint): EventRecord {
  return {kind: Kind.FileFlow, procOID: oid(hpid, BigInt(hpid)), ts: T0 + ts, tid: BigInt(hpid), opFlags: 128 | 1024, openFlags: 1, endTs: T0 + ts + 5n, fileOID: foid(f), fd: 3, numRRecvOps: 1n, numWSendOps: 0n, numRRecvBytes: 10n, numWSendBytes: 0n}
}
function pe(hpid: number, opFlags: number, ts: bigint): EventRecord {
  return {kind: Kind.ProcessEvent, procOID: oid(hpid, BigInt(hpid)), ts: T0 + ts, tid: BigInt(hpid), opFlags, args: [], ret: 0}
}
function fe(hpid: number, f: number, nf: number | null, ts: bigint): EventRecord {
  return {kind: Kind.FileEvent, procOID: oid(hpid, BigInt(hpid)), ts: T0 + ts, tid: BigInt(hpid), opFlags: 1 << 20, fileOID: foid(f), ret: 0, newFileOID: nf === null ? null : foid(nf)}
}
function nf(hpid: number, ts: bigint): EventRecord {
  return {kind: Kind.NetworkFlow, procOID: oid(hpid, BigInt(hpid)), ts: T0 + ts, tid: BigInt(hpid), opFlags: 64, endTs: T0 + ts + 9n, sip: 16777343, sport: 40000, dip: 16777343, dport: 443, proto: 6, fd: 4, numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n}
}

const root = proc(1, null, null, '/sbin/init')
const parent = proc(10, root.oid, 'c1', '/bin/sh')
const child = proc(11, parent.oid, 'c1', '/bin/cat')
const other = proc(20, root.oid, 'c2', '/bin/other')
const childExec = {...proc(11, parent.oid, 'c1', '/bin/curl', 'MODIFIED')}

function treeTrace(): SysFlowRecord[] {
  return [
    header(),
    pod('pod-1'), pod('pod-2'),
    container('c1', 'pod-1'), container('c2', null),
    root, parent, child, other,
    file(1, '/etc/passwd', 'c1'), file(2, '/etc/other', 'c2'), file(3, '/tmp/new', 'c1'),
    ff(11, 1, 100n),
    ff(20, 2, 200n),
    pe(20, 2, 300n),
    fe(11, 1, 3, 400n),
    childExec,
    pe(11, 2, 500n),
    nf(11, 600n),
    {kind: Kind.K8sEvent, component: 'K8S_PODS', action: 'K8S_COMPONENT_MODIFIED', ts: T0 + 700n, message: '{}'},
  ]
}

const isChild = (j: Joined) => j.rec.kind !== Kind.K8sEvent && j.rec.procOID.hpid === 11n

test('filtered .sf: header first, then exactly the entities the kept records need, each just before its first use', async (t) => {
  const input = bufferInput('tree.sf', await encode(treeTrace()))
  const {bytes, result} = await sfToBuffer([input], {filter: isChild})
  const {records, warnings} = await readAll(bufferInput('out.sf', bytes))
  t.deepEqual(warnings, [])
  t.deepEqual(records.map(short), [
    'H:node-a', 'P:1:CREATED:/sbin/init', 'POD:pod-1', 'C:c1', 'P:10:CREATED:/bin/sh', 'P:11:CREATED:/bin/cat',
    'F:/etc/passwd:CREATED', 'FF@100', 'F:/tmp/new:CREATED', 'FE@400', 'P:11:MODIFIED:/bin/curl', 'PE@500', 'NF@600',
  ])
  t.is(result.selected, 4)
  t.is(result.written, 13)
  t.is(result.records, treeTrace().length)
  t.deepEqual(layoutProblems(records), [])
  t.deepEqual(await joinWarnings([bufferInput('out.sf', bytes)]), [])
  t.is(await printed([bufferInput('out.sf', bytes)]), await printed([input], {filter: isChild}))
})

test('unfiltered .sf keeps every record that a record references and drops entities nothing references', async (t) => {
  const input = bufferInput('tree.sf', await encode(treeTrace()))
  const {bytes} = await sfToBuffer([input])
  const {records} = await readAll(bufferInput('out.sf', bytes))
  // pod-2 is referenced by nothing; c2 only by `other`, which is kept.
  t.false(records.some((r) => r.kind === Kind.Pod && r.id === 'pod-2'))
  t.true(records.some((r) => r.kind === Kind.Container && r.id === 'c2'))
  t.deepEqual(layoutProblems(records), [])
  t.is(await printed([bufferInput('out.sf', bytes)]), await printed([input]))
})

test('ancestry is taken at each record: a header and new entities later in the same block do not leak backwards', async (t) => {
  // One block: the first section's records, then a header of the same node with other processes under the same OIDs.
  const p1 = proc(1, null, null, '/first/root')
  const p2 = proc(2, p1.oid, null, '/first/child')
  const q1 = proc(1, null, null, '/second/root')
  const q2 = proc(2, q1.oid, null, '/second/child')
  const recs: SysFlowRecord[] = [header(), p1, p2, pe(2, 1, 10n), header(), q1, q2, pe(2, 1, 20n)]
  const {bytes} = await sfToBuffer([bufferInput('two.sf', await encode(recs))])
  const out = (await readAll(bufferInput('out.sf', bytes))).records
  // The second header starts a section of its own in the output too (a reader's tables start over there).
  t.deepEqual(out.map(short), ['H:node-a', 'P:1:CREATED:/first/root', 'P:2:CREATED:/first/child', 'PE@10', 'H:node-a', 'P:1:CREATED:/second/root', 'P:2:CREATED:/second/child', 'PE@20'])
})

test('merging traces: each input keeps its own header, and its entities are written again after it', async (t) => {
  const a = [header('node-a'), root, pe(1, 1, 10n)]
  const b = [header('node-a'), root, pe(1, 1, 20n)]
  const c = [header('node-b', '10.0.0.2'), root, pe(1, 1, 30n)]
  const inputs = [bufferInput('a.sf', await encode(a)), bufferInput('b.sf', await encode(b)), bufferInput('c.sf', await encode(c))]
  const {bytes} = await sfToBuffer(inputs)
  const out = (await readAll(bufferInput('out.sf', bytes))).records
  // Every input is a section of its own (entity identity is scoped to its input): header, then its entities.
  t.deepEqual(out.map(short), ['H:node-a', 'P:1:CREATED:/sbin/init', 'PE@10', 'H:node-a', 'P:1:CREATED:/sbin/init', 'PE@20', 'H:node-b', 'P:1:CREATED:/sbin/init', 'PE@30'])
  t.is(await printed([bufferInput('out.sf', bytes)]), await printed(inputs))
})

test('an input whose first kept record comes from another node gets that node\'s header, not an unused one', async (t) => {
  const a = [header('node-a'), root, pe(1, 1, 10n)]
  const b = [header('node-b'), root, pe(1, 2, 20n)]
  const {bytes} = await sfToBuffer([bufferInput('a.sf', await encode(a)), bufferInput('b.sf', await encode(b))], {filter: (j) => j.rec.kind === Kind.ProcessEvent && j.rec.opFlags === 2})
  t.deepEqual((await readAll(bufferInput('out.sf', bytes))).records.map(short), ['H:node-b', 'P:1:CREATED:/sbin/init', 'PE@20'])
})

test('no record kept: a header-only trace (the first input\'s header); no header at all: a synthesized one', async (t) => {
  const {bytes} = await sfToBuffer([bufferInput('tree.sf', await encode(treeTrace()))], {filter: () => false})
  t.deepEqual((await readAll(bufferInput('out.sf', bytes))).records.map(short), ['H:node-a'])
  const empty = await sfToBuffer([])
  const recs = (await readAll(bufferInput('out.sf', empty.bytes))).records
  t.is(recs.length, 1)
  t.like(recs[0], {kind: Kind.Header, version: 5n, exporter: ''})
})

test('time window and limit apply to .sf output', async (t) => {
  const input = bufferInput('tree.sf', await encode(treeTrace()))
  const {bytes, result} = await sfToBuffer([input], {since: T0 + 200n, until: T0 + 600n, limit: 2})
  t.is(result.selected, 2)
  const out = (await readAll(bufferInput('out.sf', bytes))).records.filter((r) => r.kind >= Kind.ProcessEvent && r.kind !== Kind.Pod)
  t.deepEqual(out.map(short), ['FF@200', 'PE@300'])
})

test('rotation: one self-contained file per window; late records stay; entities of earlier files come again as REUP', async (t) => {
  const s = 1_000_000_000n
  const recs: SysFlowRecord[] = [
    header(), root, parent, file(1, '/etc/passwd', null),
    ff(10, 1, 0n), // window 0
    ff(10, 1, 2n * s + 5n), // window 2
    ff(10, 1, s), // late: started in window 1, exported in window 2's file
    pe(10, 4, 7n * s), // window 6
  ]
  const files = new Map<bigint, ReturnType<typeof bufferSink>>()
  const result = await writeSf([bufferInput('r.sf', await encode(recs.map((r) => (r.kind === Kind.Process ? {...r, containerId: null} : r))))], {
    rotate: 2,
    open: (epoch) => {
      const sink = bufferSink()
      files.set(epoch, sink)
      return sink
    },
  })
  const base = T0 / s
  const w0 = base - (base % 2n)
  t.deepEqual([...files.keys()], [w0, w0 + 2n, w0 + 6n])
  t.deepEqual(result.windows, [w0, w0 + 2n, w0 + 6n])
  const content = []
  for (const sink of files.values()) {
    const {records} = await readAll(bufferInput('part', sink.result()))
    t.deepEqual(layoutProblems(records), [])
    content.push(records.map(short))
  }
  t.deepEqual(content, [
    ['H:node-a', 'P:1:CREATED:/sbin/init', 'P:10:CREATED:/bin/sh', 'F:/etc/passwd:CREATED', 'FF@0'],
    ['H:node-a', 'P:1:REUP:/sbin/init', 'P:10:REUP:/bin/sh', 'F:/etc/passwd:REUP', `FF@${2n * s + 5n}`, `FF@${s}`],
    ['H:node-a', 'P:1:REUP:/sbin/init', 'P:10:REUP:/bin/sh', `PE@${7n * s}`],
  ])
})

test('schema detection from the writer schema, for every version the writer knows', (t) => {
  for (const v of ['1000ms', '1000', '1001', '2', '3', '4', '5'] as SchemaVersion[]) t.is(schemaVersionOf(JSON.stringify(sysflowSchema(v))), v, v)
})

test('.sf output keeps the inputs\' schema version (legacy stays legacy); inputs with other fields merge in the union of their schemas, or are forced', async (t) => {
  const legacy = path.join(fixtures, 'v1000ms.sf')
  const {bytes, result} = await sfToBuffer([fileInput(legacy)])
  t.is(result.schema, '1000ms')
  t.is(await printed([bufferInput('out.sf', bytes)]), await printed([fileInput(legacy)]))
  // v1000ms and v4: schema 4, with the three fields v1000ms lacks made nullable (null in its records).
  const inputs = [fileInput(legacy), fileInput(path.join(fixtures, 'v4.sf'))]
  t.deepEqual(await planSfSchema(inputs), {schema: '4', omit: [], nullable: ['SFHeader.ip', 'SFHeader.filename', 'Process.entry'], symbols: {}, forced: false})
  const merged = await sfToBuffer(inputs)
  t.is(merged.result.schema, '4')
  t.is(await printed([bufferInput('m.sf', merged.bytes)]), (await printed([inputs[0]])) + (await printed([inputs[1]])))
  const back = (await readAll(bufferInput('m.sf', merged.bytes))).records.filter((r): r is SFHeader => r.kind === Kind.Header)
  t.deepEqual(back.map((h) => [h.version, h.ip]), [[1000n, undefined], [4n, '10.0.0.7']])
  const forced = await sfToBuffer(inputs, {schema: '4'})
  t.is(forced.result.schema, '4')
  // A stream is not looked at in advance: one whose schema differs from the files' is refused when it opens;
  // a stream alone is written in its own schema.
  const stream = bufferInput('<stdin>', fs.readFileSync(path.join(fixtures, 'v4.sf')))
  await t.throwsAsync(sfToBuffer([stream, fileInput(legacy)]), {instanceOf: ConvertOptionError, message: /<stdin> \(schema 4\) has SFHeader\.ip, SFHeader\.filename, Container\.podId, Process\.entry, ProcessFlow, Pod, K8sEvent, which the output's schema 1000ms lacks/})
  t.is((await sfToBuffer([bufferInput('<stdin>', fs.readFileSync(legacy))])).result.schema, '1000ms')
})

test('CLI: convert v1000.sf v5.sf -o merged.sf exits 0 and prints as the inputs; --schema 5 still forces, with a warning', async (t) => {
  const a = path.join(fixtures, 'v1000.sf')
  const b = path.join(fixtures, 'v5.sf')
  await withTempDir(async (dir) => {
    const out = path.join(dir, 'merged.sf')
    const r = runCli(['convert', a, b, '-o', out])
    t.is(r.status, 0, r.stderr)
    t.is(r.stderr.split('\n').filter((l) => l.startsWith('sysflow:')).length, 0, r.stderr)
    t.is(runCli(['print', '-o', 'flatjson', out]).stdout, runCli(['print', '-o', 'flatjson', a]).stdout + runCli(['print', '-o', 'flatjson', b]).stdout)
    const forced = runCli(['convert', a, b, '--schema', '5', '-o', path.join(dir, 'forced.sf')])
    t.is(forced.status, 0, forced.stderr)
    t.regex(forced.stderr, /sysflow: warning: .*v1000\.sf: .*lacks SFHeader\.ip, SFHeader\.filename, Process\.entry, Process\.cwd, Process\.env: written with schema 5's defaults/)
    // The forced file invents values: node.ip "NA" where the v1000 trace had none.
    t.regex(runCli(['print', '-o', 'flatjson', path.join(dir, 'forced.sf')]).stdout, /"node\.ip": "NA"/)
  })
})

const formatMacro = test.macro({
  exec(t, file: string, expected: ConvertFormat | undefined) {
    t.is(formatFromPath(file), expected)
  },
  title: (_, file: string, expected: ConvertFormat | undefined) => `format of ${file}: ${expected ?? 'none'}`,
})
for (const [file, f] of [
  ['a.sf', 'sf'], ['x/a.json', 'json'], ['a.NDJSON', 'ndjson'], ['a.jsonl', 'ndjson'], ['a.flatjson', 'flatjson'], ['a.csv', 'csv'],
  ['a.parquet', 'parquet'], ['dataset.parquet/', 'parquet'], ['a.arrow', 'arrow'], ['a.arrows', 'arrow-stream'], ['a.duckdb', 'duckdb'],
  ['trace', undefined], ['a.txt', undefined], ['.sf', undefined],
] as [string, ConvertFormat | undefined][]) {
  test(formatMacro, file, f)
}

test('library: bad option combinations and an existing output are typed errors, before anything is written', async (t) => {
  await withTempDir(async (dir) => {
    const inputs = [fileInput(path.join(fixtures, 'v5.sf'))]
    const out = path.join(dir, 'o.parquet')
    await t.throwsAsync(convert(inputs, {format: 'parquet', output: out, rotate: 5}), {instanceOf: ConvertOptionError, message: /rotation applies to \.sf output only/})
    await t.throwsAsync(convert(inputs, {format: 'sf', output: out, partitionBy: ['type']}), {instanceOf: ConvertOptionError, message: /partitioning applies to Parquet/})
    await t.throwsAsync(convert(inputs, {format: 'parquet', output: out, partitionBy: ['nope' as 'type']}), {instanceOf: ConvertOptionError, message: /unknown partition key 'nope'/})
    await t.throwsAsync(convert(inputs, {format: 'sf', output: out, compression: 'zstd'}), {instanceOf: ConvertOptionError, message: /compression 'zstd' is not one of/})
    await t.throwsAsync(convert(inputs, {format: 'duckdb', output: '-', stdout: bufferSink()}), {instanceOf: ConvertOptionError, message: /cannot go to stdout/})
    await t.throwsAsync(convert(inputs, {format: 'sf', output: path.join(dir, 'no/such/dir.sf')}), {instanceOf: ConvertOptionError, message: /no such directory/})
    fs.writeFileSync(path.join(dir, 'there.sf'), 'keep')
    await t.throwsAsync(convert(inputs, {format: 'sf', output: path.join(dir, 'there.sf')}), {instanceOf: OutputExistsError})
    t.is(fs.readFileSync(path.join(dir, 'there.sf'), 'utf8'), 'keep')
    t.deepEqual(fs.readdirSync(dir), ['there.sf'])
  })
})

test('library: an abort removes the temporary output at once and ends with ConvertAbortedError', async (t) => {
  await withTempDir(async (dir) => {
    const controller = new AbortController()
    const out = path.join(dir, 'o.sf')
    let seen = false
    const p = convert([fileInput(path.join(fixtures, 'v5.sf')), fileInput(path.join(fixtures, 'v5.sf'))], {
      format: 'sf', output: out, signal: controller.signal,
      onProgress: () => {
        if (seen) return
        seen = true
        t.is(fs.readdirSync(dir).filter((n) => n.includes('.tmp-')).length, 1, 'the temporary file exists while writing')
        controller.abort('test')
        t.deepEqual(fs.readdirSync(dir), [], 'removed synchronously on abort')
      },
    })
    await t.throwsAsync(p, {name: 'ConvertAbortedError'})
    t.deepEqual(fs.readdirSync(dir), [])
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Real traces

if (!traces) {
  test.skip('convert on real traces: SKIPPED, ../shared/traces not found', () => {})
} else {
  const files = listTraces(traces)
  for (const file of files) {
    const name = path.relative(traces, file)
    test(`real trace ${name}: .sf -> filtered .sf reads back as the filtered print, with no unreferenced entity and nothing unresolved`, async (t) => {
      const input = fileInput(file)
      const inputWarnings = await joinWarnings([input])
      // The most frequent process of the trace, for a narrow filter.
      const pids = new Map<bigint, number>()
      for await (const b of joinedBatches([input])) for (const j of b) if (j.rec.kind !== Kind.K8sEvent) pids.set(j.rec.procOID.hpid, (pids.get(j.rec.procOID.hpid) ?? 0) + 1)
      const top = [...pids.entries()].sort((a, b) => b[1] - a[1])[0]?.[0]
      const cases: [string, ((j: Joined) => boolean) | undefined][] = [
        ['everything', undefined],
        ['file flows', (j) => j.rec.kind === Kind.FileFlow],
        ['process events and network flows', (j) => j.rec.kind === Kind.ProcessEvent || j.rec.kind === Kind.NetworkFlow],
        [`pid ${top}`, (j) => j.rec.kind !== Kind.K8sEvent && j.rec.procOID.hpid === top],
      ]
      for (const [what, filter] of cases) {
        const {bytes, result} = await sfToBuffer([input], {filter})
        const out = bufferInput(`${name} (${what})`, bytes)
        const {records, warnings} = await readAll(out)
        t.deepEqual(warnings, [], what)
        t.deepEqual(layoutProblems(records), [], what)
        t.is(records.length, result.written, what)
        t.is(await printed([out]), await printed([input], {filter}), what)
        // A trace without unresolved references gives none; one with (a dangling event) gives them no worse.
        const outWarnings = await joinWarnings([out])
        if (inputWarnings.length === 0) t.deepEqual(outWarnings, [], what)
        if (!filter) t.deepEqual(outWarnings, inputWarnings, what)
      }
    })
  }

  const k8s = path.join(traces, 'sysflow/sf-processor/k8s_small.sf')
  const mon = path.join(traces, 'sysflow/sf-apis/attacks/express/mon.1531776712.sf')

  test('CLI: .sf -> filtered .sf equals print -f of the input (k8s_small, with pods)', async (t) => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'f.sf')
      const filter = 'sf.type in (NF, PE) and sf.pod.name exists'
      const r = runCli(['convert', k8s, '-f', filter, '-o', out])
      t.is(r.status, 0, r.stderr)
      t.regex(r.stderr, /^converted: read 6173 records \(\d+ events and flows \+ \d+ headers and entities\) from 1 input; wrote \d+ events and flows with \d+ header and entity records they reference to .*f\.sf in \d+\.\d\d s\n$/)
      const a = runCli(['print', '-o', 'flatjson', out])
      const b = runCli(['print', '-o', 'flatjson', '-f', filter, k8s])
      t.is(a.status, 0)
      t.true(a.lines.length > 0)
      t.is(a.stdout, b.stdout)
      t.is(a.stderr, '')
      const {records} = await readAll(fileInput(out))
      t.true(records.some((x) => x.kind === Kind.Pod))
      t.deepEqual(layoutProblems(records), [])
    })
  })

  for (const [file, ext, printFormat] of [[k8s, 'ndjson', 'json'], [k8s, 'json', 'json'], [k8s, 'csv', 'csv'], [k8s, 'flatjson', 'flatjson'], [mon, 'ndjson', 'json'], [mon, 'csv', 'csv']] as const) {
    test(`CLI: ${path.basename(file)} -> .${ext} equals print -o ${printFormat}`, async (t) => {
      await withTempDir(async (dir) => {
        const out = path.join(dir, `o.${ext}`)
        const r = runCli(['convert', file, '-o', out])
        t.is(r.status, 0, r.stderr)
        t.is(fs.readFileSync(out, 'utf8'), runCli(['print', '-o', printFormat, file]).stdout)
        t.deepEqual(fs.readdirSync(dir), [`o.${ext}`])
      })
    })
  }

  test('CLI: filters and time windows apply to text outputs too (.csv with -c, --since/--until)', async (t) => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'o.csv')
      const args = ['-f', 'sf.type = FF', '--since', '2019-06-14T22:14:00Z', '--until', '1560550600000000000', '-c', 'ts_uts,type,proc.exe,file.path']
      const r = runCli(['convert', path.join(traces, 'sysflow/sf-apis/nginx/nginx.sf'), '-o', out, ...args])
      t.is(r.status, 0, r.stderr)
      t.is(fs.readFileSync(out, 'utf8'), runCli(['print', '-o', 'csv', path.join(traces, 'sysflow/sf-apis/nginx/nginx.sf'), ...args]).stdout)
    })
  })

  test('CLI: --rotate writes PREFIX.<epoch> files, each self-contained, together holding every record', async (t) => {
    await withTempDir(async (dir) => {
      const prefix = path.join(dir, 'mon')
      const r = runCli(['convert', mon, '--rotate', '5', '-o', prefix])
      t.is(r.status, 0, r.stderr)
      // Expected windows: where the kept records' start times move into a later 5-second window.
      const windows: bigint[] = []
      let end = -1n
      for await (const b of joinedBatches([fileInput(mon)])) {
        for (const j of b) {
          if (j.rec.ts >= end) {
            const start = j.rec.ts - (j.rec.ts % 5_000_000_000n)
            windows.push(start / 1_000_000_000n)
            end = start + 5_000_000_000n
          }
        }
      }
      t.true(windows.length > 2)
      t.deepEqual(fs.readdirSync(dir).sort(), windows.map((w) => `mon.${w}`).sort())
      t.regex(r.stderr, new RegExp(`to ${windows.length} files .*mon\\.<epoch>`))
      let reup = 0
      for (const w of windows) {
        const part = fileInput(`${prefix}.${w}`)
        const {records, warnings} = await readAll(part)
        t.deepEqual(warnings, [])
        t.deepEqual(layoutProblems(records), [], `mon.${w}`)
        t.deepEqual(await joinWarnings([part]), [], `mon.${w}: every reference resolves within the file`)
        reup += records.filter((x) => (x.kind === Kind.Process || x.kind === Kind.File) && x.state === 'REUP').length
      }
      t.true(reup > 0, 'entities of earlier files are written again as REUP')
      // Together: the input's records (the entity state of re-exported entities aside).
      const strip = (s: string) => s.replace(/"state": "[A-Z]*", /g, '').split('\n').sort().join('\n')
      const parts = runCli(['print', '-o', 'flatjson', dir]).stdout
      t.is(strip(parts), strip(runCli(['print', '-o', 'flatjson', mon]).stdout))
      // Merging the rotated files back: one section (header) per file, the records exactly as the files print.
      const merged = path.join(dir, 'merged.sf')
      t.is(runCli(['convert', dir, '-o', merged]).status, 0)
      const back = await readAll(fileInput(merged))
      t.is(back.records.filter((x) => x.kind === Kind.Header).length, windows.length)
      t.deepEqual(layoutProblems(back.records), [])
      t.is(runCli(['print', '-o', 'flatjson', merged]).stdout, parts)
    })
  })
}

// ---------------------------------------------------------------------------------------------------------------
// CLI behaviour on the fixtures (no ../shared needed)

const v5 = path.join(fixtures, 'v5.sf')

test('CLI: an existing output is refused without --force (exit 2, file untouched) and replaced with it', async (t) => {
  await withTempDir(async (dir) => {
    const out = path.join(dir, 'o.sf')
    fs.writeFileSync(out, 'precious')
    const r = runCli(['convert', v5, '-o', out])
    t.is(r.status, 2)
    t.is(r.stderr, `sysflow: error: ${out}: output exists already (use --force to replace it)\n`)
    t.is(fs.readFileSync(out, 'utf8'), 'precious')
    const f = runCli(['convert', v5, '-o', out, '--force'])
    t.is(f.status, 0, f.stderr)
    t.is(runCli(['print', '-o', 'flatjson', out]).stdout, runCli(['print', '-o', 'flatjson', v5]).stdout)
    t.deepEqual(fs.readdirSync(dir), ['o.sf'])
    // Rotated outputs: any PREFIX.<digits> counts as existing.
    fs.writeFileSync(path.join(dir, 'r.123'), 'old')
    const rr = runCli(['convert', v5, '--rotate', '60', '-o', path.join(dir, 'r')])
    t.is(rr.status, 2)
    t.regex(rr.stderr, /r\.123: rotated output \(1 file .*\) exists already \(use --force to replace it\)/)
    const rf = runCli(['convert', v5, '--rotate', '60', '-o', path.join(dir, 'r'), '--force'])
    t.is(rf.status, 0, rf.stderr)
    t.false(fs.existsSync(path.join(dir, 'r.123')), '--force replaces the old rotated set')
  })
})

test('CLI: usage errors (exit 2) for formats, stdout and option combinations; a broken .scap input (exit 1)', async (t) => {
  await withTempDir(async (dir) => {
    const cases: [string[], number, RegExp][] = [
      [['convert', v5, '-o', path.join(dir, 'o.txt')], 2, /cannot tell the output format from '.*o\.txt': use one of the extensions \.sf .* or --to/],
      [['convert', v5, '-o', '-'], 2, /output - \(stdout\) needs --to FORMAT/],
      [['convert', v5, '-o', '-', '--to', 'parquet'], 2, /parquet output cannot go to stdout: give a file name/],
      [['convert', v5, '-o', '-', '--to', 'arrow'], 2, /arrow output cannot go to stdout/],
      [['convert', v5, '-o', '-', '--to', 'duckdb'], 2, /duckdb output cannot go to stdout/],
      [['convert', v5, '-o', path.join(dir, 'o.csv'), '--rotate', '10'], 2, /rotation applies to \.sf output only, not csv/],
      [['convert', v5, '-o', path.join(dir, 'o.sf'), '--compression', 'zstd'], 2, /compression 'zstd' is not one of deflate, snappy, null, none \(for sf\)/],
      [['convert', v5, '-o', path.join(dir, 'o.sf'), '-f', 'sf.nope = 1'], 2, /sf\.nope/],
      [['convert', '-o', path.join(dir, 'o.sf')], 2, /no input/],
      [['convert', path.join(dir, 'capture.scap'), '-o', path.join(dir, 'o.sf')], 1, /capture\.scap: too short to be a \.scap capture/],
    ]
    fs.writeFileSync(path.join(dir, 'capture.scap'), 'not really')
    for (const [args, code, message] of cases) {
      const r = runCli(args)
      t.is(r.status, code, args.join(' '))
      t.regex(r.stderr, message, args.join(' '))
      t.deepEqual(fs.readdirSync(dir), ['capture.scap'], `${args.join(' ')}: nothing written`)
    }
  })
})

test('CLI: -o - writes .sf, ndjson, csv to stdout; the summary goes to stderr', async (t) => {
  await withTempDir(async (dir) => {
    // Binary on stdout: taken as bytes, not through runCli's UTF-8 decoding.
    let stderr = ''
    const r = await new Promise<Buffer>((resolve, reject) => {
      const p = spawn(process.execPath, [RUN, 'convert', v5, '-o', '-', '--to', 'sf', '-f', 'sf.type = FF'], {stdio: ['ignore', 'pipe', 'pipe']})
      const chunks: Buffer[] = []
      p.stdout.on('data', (c: Buffer) => chunks.push(c))
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      p.on('error', reject)
      p.on('close', () => resolve(Buffer.concat(chunks)))
    })
    t.regex(stderr, /^converted: read \d+ records \(\d+ events and flows \+ \d+ headers and entities\) from 1 input; wrote \d+ events and flows with \d+ header and entity records they reference to stdout in \d+\.\d\d s\n$/)
    fs.writeFileSync(path.join(dir, 's.sf'), r)
    t.is(runCli(['print', '-o', 'flatjson', path.join(dir, 's.sf')]).stdout, runCli(['print', '-o', 'flatjson', '-f', 'sf.type = FF', v5]).stdout)
    t.deepEqual(layoutProblems((await readAll(fileInput(path.join(dir, 's.sf')))).records), [])
  })
  const nd = runCli(['convert', v5, '-o', '-', '--to', 'ndjson'])
  t.is(nd.stdout, runCli(['print', '-o', 'json', v5]).stdout)
  const csv = runCli(['convert', v5, '-o', '-', '--to', 'csv'])
  t.is(csv.stdout, runCli(['print', '-o', 'csv', v5]).stdout)
})

test('CLI: an input error with --strict leaves no output behind (exit 1)', async (t) => {
  await withTempDir(async (dir) => {
    const bytes = fs.readFileSync(path.join(fixtures, 'multiblock.sf'))
    const cut = path.join(dir, 'cut.sf')
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.8)))
    for (const ext of ['sf', 'ndjson', 'csv']) {
      const r = runCli(['convert', '--strict', cut, '-o', path.join(dir, `o.${ext}`)])
      t.is(r.status, 1, ext)
      t.regex(r.stderr, /cut\.sf/)
    }
    t.deepEqual(fs.readdirSync(dir), ['cut.sf'])
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Interrupting a conversion

let bigTrace: Promise<string> | undefined
/** A trace large enough that converting it takes a while (the bench generator; about 400,000 records). */
function big(): Promise<string> {
  bigTrace ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-convert-big-'))
    const file = path.join(dir, 'big.sf')
    const {sources} = await loadSources(path.resolve('../shared/traces'), fixtures)
    await writeBenchTrace(file, sources, 400_000)
    return file
  })()
  return bigTrace
}
test.after.always(async () => {
  if (bigTrace) fs.rmSync(path.dirname(await bigTrace), {recursive: true, force: true})
})

/** Start a conversion, send `signal` once its temporary output appears, and report how it ended. */
async function interrupt(args: string[], dir: string, signal: NodeJS.Signals): Promise<{code: number | null; stderr: string; sawTemp: boolean}> {
  const p = spawn(process.execPath, [RUN, 'convert', ...args], {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)))
  let sawTemp = false
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && p.exitCode === null) {
    if (fs.readdirSync(dir).some((n) => n.includes('.tmp-'))) {
      sawTemp = true
      // Let it write a little.
      await new Promise((r) => setTimeout(r, 150))
      p.kill(signal)
      break
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  const code = await exited
  return {code, stderr, sawTemp}
}

for (const [ext, extra, signal, code] of [
  ['sf', [], 'SIGINT', 130],
  ['ndjson', [], 'SIGINT', 130],
  ['sf', ['--rotate', '1'], 'SIGINT', 130],
  ['sf', [], 'SIGTERM', 143],
] as [string, string[], NodeJS.Signals, number][]) {
  test(`CLI: ${signal} mid-way through a conversion to .${ext} ${extra.join(' ')} leaves no output and no temporary file (exit ${code})`, async (t) => {
    const input = await big()
    await withTempDir(async (dir) => {
      const out = path.join(dir, `out${extra.length ? '' : `.${ext}`}`)
      const r = await interrupt([input, '-o', out, ...extra], dir, signal)
      t.true(r.sawTemp, 'the temporary output appeared')
      t.is(r.code, code, r.stderr)
      t.regex(r.stderr, new RegExp(`${signal}: conversion interrupted, no output written`))
      t.deepEqual(fs.readdirSync(dir), [])
    })
  })
}

const collectorScap = path.resolve('../shared/traces/collector/setuid/setuid.scap')
if (fs.existsSync(collectorScap)) {
  test('CLI: a .scap input goes through the capture pipeline: the same records as sysflow capture -r', async (t) => {
    await withTempDir(async (dir) => {
      const viaConvert = path.join(dir, 'c.sf')
      const viaCapture = path.join(dir, 'k.sf')
      t.is(runCli(['convert', collectorScap, '-o', viaConvert]).status, 0)
      t.is(runCli(['capture', '-r', collectorScap, '-o', viaCapture]).status, 0)
      const a = runCli(['print', viaConvert, '-o', 'csv', '-c', 'ts_uts,type,proc.pid,proc.exe,opflags,file.path'])
      const b = runCli(['print', viaCapture, '-o', 'csv', '-c', 'ts_uts,type,proc.pid,proc.exe,opflags,file.path'])
      t.is(a.stdout, b.stdout)
      t.is(a.stdout.split('\r\n').length - 2, 12, 'the 12 event and flow records of setuid.scap')
    })
  })
} else {
  test.skip('.scap conversion: ../shared/traces not found', () => {})
}
