// The loader fed from the columnar decoder (decode: 'columns') against the row path: every row of `events` and of
// every entity view the same multiset, in one thread and in worker threads reading ranges, on fixtures, schema
// variants, a trace of many headers (several per block), and the shared traces.
import fs from 'node:fs'
import path from 'node:path'
import test, {ExecutionContext} from 'ava'
import {DuckDBListValue, DuckDBTimestampNanosecondsValue, DuckDBValue} from '@duckdb/node-api'
import {fileInput} from '../src/format/reader.js'
import {BytesColumn} from '../src/format/columnar/columns.js'
import {BytesIds} from '../src/format/arrow/narrow-columns.js'
import {Container, FileEvent, FileFlow, Kind, NetworkFlow, Pod, Process, ProcessEvent, File as SFFile, SysFlowRecord} from '../src/format/records.js'
import {bufferSink, TraceWriter, WriterOptions} from '../src/format/writer.js'
import {loadTraces, QuerySession} from '../src/query/index.js'
import {COLUMNS_MIN_BYTES, defaultDecode, type ScanDecode} from '../src/query/scan.js'
import {listTraces, sharedDir} from './helpers/shared.js'
import {withTempDir} from './helpers/tmp.js'

const FIXTURES = path.resolve('test/fixtures')
const VARIANTS = path.resolve('test/fixtures/variants')
const VIEWS = ['events', 'headers', 'processes', 'files', 'containers', 'pods', 'k8s_events']

function canon(v: unknown): string {
  if (v === undefined || v === null) return 'null'
  if (typeof v === 'bigint' || typeof v === 'number') return `i:${v}`
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'string') return JSON.stringify(v)
  if (v instanceof DuckDBTimestampNanosecondsValue) return `i:${v.nanos}`
  if (v instanceof DuckDBListValue) return `[${v.items.map(canon).join(',')}]`
  return `?${String(v)}`
}

/** Every view's rows (sorted canonical text), and the load's counts. */
async function load(files: string[], decode: ScanDecode, workers = 0, rangeBytes?: number): Promise<{views: Record<string, string[]>; result: unknown; warnings: string[]}> {
  const session = await QuerySession.open()
  const warnings: string[] = []
  try {
    const r = await loadTraces(session, files.map(fileInput), {decode, workers, rangeBytes, onWarning: (w) => warnings.push(`${w.file} ${w.offset} ${w.message}`)})
    const views: Record<string, string[]> = {}
    for (const v of VIEWS) {
      const rows = await session.connection.runAndReadAll(`SELECT * FROM ${v}`)
      views[v] = rows.getRows().map((row: DuckDBValue[]) => row.map(canon).join('\t')).sort()
    }
    const {seconds: _s, ...result} = r
    return {views, result, warnings: warnings.sort()}
  } finally {
    session.close()
  }
}

async function same(t: ExecutionContext, files: string[], workers = 0, rangeBytes?: number): Promise<number> {
  const rows = await load(files, 'rows', workers, rangeBytes)
  const cols = await load(files, 'columns', workers, rangeBytes)
  for (const v of VIEWS) {
    const a = rows.views[v]
    const b = cols.views[v]
    const firstDiff = a.findIndex((x, i) => x !== b[i])
    t.is(b.length, a.length, `${v}: row count`)
    t.is(firstDiff, -1, `${v}: first differing row ${firstDiff}:\n rows:    ${a[firstDiff]}\n columns: ${b[firstDiff]}`)
  }
  t.deepEqual(cols.result, rows.result, 'load counts')
  t.deepEqual(cols.warnings, rows.warnings, 'warnings')
  return rows.views.events.length
}

const sfIn = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.sf')).sort().map((n) => path.join(dir, n))

test('columns load the same rows as records: every fixture and schema variant, loaded together', async (t) => {
  const n = await same(t, [...sfIn(FIXTURES), ...sfIn(VARIANTS)])
  t.true(n > 300)
})

test('columns load the same rows as records: each schema variant alone (absent fields, promotions, unknown types)', async (t) => {
  for (const f of sfIn(VARIANTS)) await same(t, [f])
})

test('columns load the same rows as records: many headers (several per block), one thread and worker ranges', (t) =>
  withTempDir(async (dir) => {
    const {loadSources, writeBenchTrace} = await import('../bench/generate.js')
    const {sources} = await loadSources(path.join(dir, 'none'), FIXTURES)
    const file = path.join(dir, 'many-headers.sf')
    await writeBenchTrace(file, sources, 20_000)
    const size = fs.statSync(file).size
    t.true((await same(t, [file])) > 5_000)
    await same(t, [file], 2, Math.floor(size / 5))
  }))

const traces = sharedDir('traces')
if (!traces) {
  test.skip('columns load the same rows as records on the shared traces: SKIPPED, ../shared/traces not found', () => {})
} else {
  test('columns load the same rows as records on every shared trace', async (t) => {
    const files = listTraces(traces)
    t.true(files.length > 0)
    for (const f of files) await same(t, [f])
  })
}

// --- synthetic traces built to break the narrow tables made from columns (narrow-columns.ts, addEntityColumns) ---

const oid = (hpid: bigint, createTS: bigint) => ({hpid, createTS})
/** FOIDs: 20 bytes; `i` picks them, `tail` makes ones that share the first 16 bytes. */
const foid = (i: number, tail = 0) => (i.toString(16).padStart(8, '0') + 'cd'.repeat(12) + tail.toString(16).padStart(8, '0')).slice(-40)
const TEXTS = ['', 'ascii', 'héllo wörld', '日本語/🙂', '\u0000ctl\u001b[31m\ttab\nnl', 'x'.repeat(23), 'x'.repeat(24), '/shared/prefix/'.repeat(9) + 'a', '/shared/prefix/'.repeat(9) + 'b', '\ud800lone']
/** OIDs the row path would lose digits of as numbers: above 2^53, negative, the extremes. */
/** Timestamps (the views show them as TIMESTAMP_NS, which has a narrower range than a long). */
const TS = 1_700_000_000_123_456_789n
const BIG = [2n ** 53n + 1n, 2n ** 62n + 3n, 2n ** 63n - 1n, -(2n ** 63n), -1n, 0n, 9_007_199_254_740_993n, 1_700_000_000_123_456_789n]

/**
 * Entities replaced (the same OID/FOID exported again with other values, and again with the same ones), referenced
 * before they arrive and never, parents that come later, cycles, containers and pods missing; every string edge.
 */
function breakingRecords(round: number, distinct = 40): SysFlowRecord[] {
  const out: SysFlowRecord[] = [{kind: Kind.Header, version: 5n, exporter: `break-${round}`, ip: '10.0.0.2', filename: TEXTS[round % TEXTS.length]}]
  const pod: Pod = {kind: Kind.Pod, ts: 1n, id: 'pod-a', name: 'p', nodeName: 'n', hostIP: [1n], internalIP: [], namespace: 'ns', restartCount: 0n, labels: {}, selectors: {}, services: []}
  const ctr: Container = {kind: Kind.Container, id: 'ctr-a', name: 'c', image: 'i', imageid: 'id', type: 'CT_DOCKER', privileged: false, podId: 'pod-a'}
  for (let i = 0; i < distinct; i++) {
    const s = TEXTS[(i + round) % TEXTS.length]
    const me = oid(BIG[i % BIG.length] + BigInt(i), BIG[(i + 3) % BIG.length])
    const parent = oid(BIG[(i + 1) % BIG.length] + BigInt(i + 1), BIG[(i + 4) % BIG.length])
    const proc: Process = {
      kind: Kind.Process, state: (['CREATED', 'MODIFIED', 'REUP', 'MODIFIED'] as const)[i % 4], oid: me, poid: i % 7 === 0 ? null : parent, ts: TS + BigInt(i),
      exe: `${s}/exe${i % 5}`, exeArgs: i % 3 ? s : `${s} --arg=${i}`, uid: i % 2 ? -1 : 2 ** 31 - 1, userName: s, gid: -(2 ** 31), groupName: TEXTS[i % TEXTS.length], tty: i % 2 === 0,
      containerId: [null, 'ctr-a', 'ctr-missing', ''][i % 4], entry: i % 3 === 0, cwd: `/cwd/${i % 3}/${s}`, env: i % 2 ? [] : [s, 'K=V', s],
    }
    const file: SFFile = {kind: Kind.File, state: i % 2 ? 'MODIFIED' : 'CREATED', oid: foid(i % 9, i), ts: TS - BigInt(i), restype: i, path: `/p/${s}/${i % 4}`, containerId: i % 2 ? null : 'ctr-a'}
    const base = {procOID: me, ts: TS + BigInt(i * 1000), tid: BIG[i % BIG.length], opFlags: (i * 37) & 0xfff}
    const ff: FileFlow = {kind: Kind.FileFlow, ...base, openFlags: i, endTs: TS + BigInt(i * 1000 + 7), fileOID: file.oid, fd: i, numRRecvOps: BIG[(i + 1) % BIG.length], numWSendOps: 1n, numRRecvBytes: -1n, numWSendBytes: BIG[(i + 2) % BIG.length]}
    const fe: FileEvent = {kind: Kind.FileEvent, ...base, fileOID: file.oid, ret: -i, newFileOID: [null, file.oid, foid(99, 99)][i % 3]}
    const nf: NetworkFlow = {kind: Kind.NetworkFlow, ...base, endTs: 5n, sip: -1, sport: 65535, dip: 2 ** 31 - 1, dport: 0, proto: 17, fd: -i, numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n}
    const pe: ProcessEvent = {kind: Kind.ProcessEvent, ...base, args: [s], ret: i}
    // Referenced before it arrives (unresolved), then the entities, then resolved records.
    out.push(ff)
    if (i === 3) out.push(ctr)
    if (i === 6) out.push(pod)
    out.push(proc, file, ff, fe, nf, pe)
    // The parent arrives after its child (the child's contexts change), and is exported again unchanged.
    const parentProc: Process = {...proc, oid: parent, poid: i % 5 === 0 ? me : null, exe: `${s}/parent`}
    out.push(parentProc, ff)
    if (i % 4 === 1) out.push({...parentProc}, pe)
    // A grandparent exported again with another exe: the same process and parent, another ancestry (proc_aexe).
    if (i % 4 === 2) {
      const grand: Process = {...proc, oid: oid(BigInt(-1000 - i), TS), poid: null, exe: `${s}/grand`}
      out.push(grand, {...parentProc, poid: grand.oid}, ff, {...grand, exe: `${s}/grand-again`}, ff, pe)
    }
    // The same process and file exported again with other values (the latest wins), and again as they were.
    if (i % 3 === 2) out.push({...proc, exe: `${s}/updated`, env: null as unknown as string[]}, {...file, path: `${file.path}/updated`}, ff, fe, {...proc}, ff)
    // A record of a process never exported, and of a file never exported.
    if (i % 6 === 5) out.push({...ff, procOID: oid(-5n, BIG[i % BIG.length])}, {...ff, fileOID: foid(77, i)})
  }
  out.push({kind: Kind.K8sEvent, component: 'K8S_PODS', action: 'K8S_COMPONENT_ADDED', ts: 2n ** 62n, message: '{"m":"日本"}\n\u0000'})
  return out
}

async function writeTrace(file: string, records: SysFlowRecord[], opts: WriterOptions): Promise<string> {
  const sink = bufferSink()
  const w = new TraceWriter(sink, opts)
  for (const r of records) await w.write(r)
  await w.close()
  fs.writeFileSync(file, sink.result())
  return file
}

test('columns load the same rows as records: replaced, late and missing entities, OIDs above 2^53, string edges, several inputs', (t) =>
  withTempDir(async (dir) => {
    const a = await writeTrace(path.join(dir, 'a.sf'), [...breakingRecords(0), ...breakingRecords(1)], {codec: 'null', blockBytes: 700})
    // The same entities in a second input (its own scope: its own rows), a header in the middle of blocks.
    const b = await writeTrace(path.join(dir, 'b.sf'), [...breakingRecords(2), ...breakingRecords(0)], {codec: 'deflate', blockBytes: 5000})
    t.true((await same(t, [a])) > 500)
    await same(t, [a, b])
    await same(t, [b, a, b])
    // Worker ranges that start at the headers inside the files.
    await same(t, [a, b], 2, 4000)
  }))

test('columns load the same rows as records: fields the writer lacks or wrote null take the record path for that row', (t) =>
  withTempDir(async (dir) => {
    const recs = [...breakingRecords(0), ...breakingRecords(3)]
    // One field at a time (a row lacking any one field must take the record path), the inputs loaded together.
    const omits = [['Process.cwd'], ['Process.env'], ['Process.tty'], ['Process.uid'], ['File.restype'], ['File.containerId'], ['Process.containerId']]
    const files: string[] = []
    for (const [n, omit] of omits.entries()) files.push(await writeTrace(path.join(dir, `omit-${n}.sf`), recs, {codec: 'null', omit, blockBytes: 900}))
    t.true((await same(t, files)) > 500 * omits.length)
    const omitted = files[0]
    // Nullable plain fields: some processes and files lack exe or path (those rows are made from records).
    const holes = recs.map((r, n) => (r.kind === Kind.Process && n % 3 === 0 ? {...r, exe: undefined} : r.kind === Kind.File && n % 2 ? {...r, path: undefined} : r)) as SysFlowRecord[]
    const nullable = await writeTrace(path.join(dir, 'nullable.sf'), holes, {codec: 'null', nullable: ['Process.exe', 'File.path', 'Process.containerId'], blockBytes: 900})
    await same(t, [nullable, omitted])
  }))

test('columns load the same rows as records: more distinct strings than a dictionary holds at first (rehash), long shared prefixes', (t) =>
  withTempDir(async (dir) => {
    const recs: SysFlowRecord[] = []
    for (let round = 0; round < 4; round++) recs.push(...breakingRecords(round, 900))
    const file = await writeTrace(path.join(dir, 'many.sf'), recs, {codec: 'deflate', blockBytes: 20000})
    t.true((await same(t, [file])) > 20_000)
  }))

test('BytesIds: one id per distinct byte string, a fresh dictionary past its limit, every byte compared', (t) => {
  const pending: string[] = []
  const ids = new BytesIds({add: (s) => pending.push(s)}, 5)
  const col = new BytesColumn('text', 64)
  const values = ['a', 'b', 'a', '', 'héllo', 'prefix'.repeat(20) + '1', 'prefix'.repeat(20) + '2', 'b', '']
  for (const [i, v] of values.entries()) {
    const bytes = Buffer.from(v, 'utf8')
    const at = col.bp
    col.reserve(bytes.length).set(bytes, at)
    col.bp += bytes.length
    col.st[i] = at
    col.ln[i] = bytes.length
    col.s[i] = 0
  }
  const got = values.map((_, i) => ids.id(col, i))
  // ids are 1-based positions in `pending`: every id names its own value.
  t.deepEqual(got.map((id) => pending[id - 1]), values)
  // Five distinct values fill the dictionary; the sixth starts a fresh one, where 'b' and '' get new ids.
  t.deepEqual(got, [1, 2, 1, 3, 4, 5, 6, 7, 8])
  t.deepEqual(pending, ['a', 'b', '', 'héllo', 'prefix'.repeat(20) + '1', 'prefix'.repeat(20) + '2', 'b', ''])
})

test('defaultDecode: columns from COLUMNS_MIN_BYTES a thread reads, rows below or when the size is unknown; SYSFLOW_QUERY_DECODE wins', (t) => {
  const saved = process.env.SYSFLOW_QUERY_DECODE
  try {
    delete process.env.SYSFLOW_QUERY_DECODE
    t.is(defaultDecode(), 'rows')
    t.is(defaultDecode(COLUMNS_MIN_BYTES - 1), 'rows')
    t.is(defaultDecode(COLUMNS_MIN_BYTES), 'columns')
    process.env.SYSFLOW_QUERY_DECODE = 'rows'
    t.is(defaultDecode(COLUMNS_MIN_BYTES * 4), 'rows')
    process.env.SYSFLOW_QUERY_DECODE = 'columns'
    t.is(defaultDecode(1), 'columns')
    process.env.SYSFLOW_QUERY_DECODE = 'bogus'
    t.is(defaultDecode(1), 'rows')
  } finally {
    if (saved === undefined) delete process.env.SYSFLOW_QUERY_DECODE
    else process.env.SYSFLOW_QUERY_DECODE = saved
  }
})
