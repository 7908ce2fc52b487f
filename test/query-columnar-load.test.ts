// The loader fed from the columnar decoder (decode: 'columns') against the row path: every row of `events` and of
// every entity view the same multiset, in one thread and in worker threads reading ranges, on fixtures, schema
// variants, a trace of many headers (several per block), and the shared traces.
import fs from 'node:fs'
import path from 'node:path'
import test, {ExecutionContext} from 'ava'
import {DuckDBListValue, DuckDBTimestampNanosecondsValue, DuckDBValue} from '@duckdb/node-api'
import {fileInput} from '../src/format/reader.js'
import {loadTraces, QuerySession} from '../src/query/index.js'
import type {ScanDecode} from '../src/query/scan.js'
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
