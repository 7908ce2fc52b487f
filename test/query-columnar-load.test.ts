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
import {Kind, SysFlowRecord} from '../src/format/records.js'
import {loadTraces, QuerySession} from '../src/query/index.js'
import {COLUMNS_MIN_BYTES, defaultDecode, type ScanDecode} from '../src/query/scan.js'
import {listTraces, sharedDir} from './helpers/shared.js'
import {withTempDir} from './helpers/tmp.js'
import {breakingRecords, writeTrace} from './helpers/breaking-trace.js'

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
// (breakingRecords, writeTrace: test/helpers/breaking-trace.ts)

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
