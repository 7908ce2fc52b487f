// exportParquet and exportDuckDb (the library calls `sysflow convert` uses): Parquet with the `events` columns and
// types, Hive partitions, a database file `sysflow query --db` opens; temporary files cleaned up. The Parquet export
// writes slices through joins (not the view): its rows equal `SELECT * FROM events` value for value and in record
// order, on the fixtures and on the real traces, however the records are sliced.
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'ava'
import {DuckDBConnection} from '@duckdb/node-api'
import {EVENT_COLUMNS} from '../src/format/arrow/index.js'
import {joinedBatches} from '../src/format/pipeline.js'
import {fileInput, recordsInput} from '../src/format/reader.js'
import {SysFlowRecord} from '../src/format/records.js'
import {duckdbType, exportDuckDb, exportParquet, loadTraces, QuerySession} from '../src/query/index.js'
import {PARQUET_TIME} from '../src/query/export.js'
import {parquetShape} from '../src/query/parquet-concat.js'
import {listTraces, sharedDir} from './helpers/shared.js'
import {withDuck} from './helpers/duck.js'
import {withTempDir} from './helpers/tmp.js'
import {fixtureRecords} from '../scripts/fixture-records.js'

const FIXTURES = ['v5.sf', 'v4.sf', 'v2.sf'].map((f) => path.resolve('test/fixtures', f))
const batches = () => joinedBatches(FIXTURES.map(fileInput))


/** The events view as the Parquet export writes it: `time` in microseconds (Spark reads no TIMESTAMP(NANOS)). */
const PARQUET_EVENTS = `(SELECT * REPLACE (${PARQUET_TIME} AS time) FROM events)`
/** The Parquet export's column types: the events view's, `time` in microseconds. */
const parquetTypes = () => EVENT_COLUMNS.map((col) => `${col.name} ${col.type === 'timestamp' ? 'TIMESTAMP' : duckdbType(col.type)}`)

/** The rows of `events` (as Parquet has them) of the files loaded the query way in one thread (record order), as JSON texts. */
async function viewRows(files: readonly string[], from = PARQUET_EVENTS): Promise<string[]> {
  const s = await QuerySession.open()
  try {
    await loadTraces(s, files.map(fileInput), {workers: 0})
    return (await s.connection.runAndReadAll(`SELECT to_json(e)::VARCHAR FROM ${from} e`)).getRows().map((r) => r[0] as string)
  } finally {
    s.close()
  }
}

/** The rows of a Parquet file in file order, as JSON texts (the columns in the file only, not those of its path). */
async function parquetRows(c: DuckDBConnection, file: string): Promise<string[]> {
  return (await c.runAndReadAll(`SELECT to_json(e)::VARCHAR FROM read_parquet('${file}', hive_partitioning = false) e`)).getRows().map((r) => r[0] as string)
}

/** The rows of `events` loaded the query way (`from`: as Parquet has them), as sorted JSON texts. */
async function eventsAsJson(from = 'events'): Promise<string[]> {
  const s = await QuerySession.open()
  try {
    await loadTraces(s, FIXTURES.map(fileInput), {workers: 0})
    return (await s.connection.runAndReadAll(`SELECT to_json(e)::VARCHAR FROM ${from} e`)).getRows().map((r) => r[0] as string).sort()
  } finally {
    s.close()
  }
}

test('exportParquet: one file with the events columns, their types and values', (t) =>
  withTempDir(async (dir) => {
    const file = path.join(dir, 'events.parquet')
    const r = await exportParquet(batches(), file, {})
    t.is(r.records, 11 + 11 + 10)
    t.deepEqual(fs.readdirSync(dir), ['events.parquet'], 'no temporary file left behind')
    await withDuck(async (c) => {
      const types = (await c.runAndReadAll(`DESCRIBE SELECT * FROM '${file}'`)).getRows().map((x) => `${x[0]} ${x[1]}`)
      t.deepEqual(types, parquetTypes())
      const rows = (await c.runAndReadAll(`SELECT to_json(e)::VARCHAR FROM '${file}' e`)).getRows().map((x) => x[0] as string).sort()
      t.deepEqual(rows, await eventsAsJson(PARQUET_EVENTS))
      // a type Spark reads: TIMESTAMP(MICROS), not NANOS
      const [[conv]] = (await c.runAndReadAll(`SELECT converted_type FROM parquet_schema('${file}') WHERE name = 'time'`)).getRows()
      t.is(conv, 'TIMESTAMP_MICROS')
      const meta = (await c.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)).getRows().map((x) => x[0])
      t.deepEqual(meta, ['ZSTD'])
    })
  }))

test('exportParquet: Hive partitions by type and date, another codec, row groups', (t) =>
  withTempDir(async (dir) => {
    const target = path.join(dir, 'ds')
    const r = await exportParquet(batches(), target, {partitionBy: ['type', 'date'], compression: 'snappy', rowGroupSize: 4})
    t.is(r.records, 32)
    const types = fs.readdirSync(target).sort()
    t.deepEqual(types, ['type=FE', 'type=FF', 'type=KE', 'type=NE', 'type=NF', 'type=PE', 'type=PF'])
    t.deepEqual(fs.readdirSync(path.join(target, 'type=PE')), ['date=2023-11-14'])
    await withDuck(async (c) => {
      const counts = (await c.runAndReadAll(`SELECT type, count(*) FROM read_parquet('${target}/**/*.parquet', hive_partitioning = true) GROUP BY type ORDER BY type`)).getRows().map((x) => `${x[0]} ${x[1]}`)
      t.deepEqual(counts, ['FE 6', 'FF 3', 'KE 2', 'NE 3', 'NF 3', 'PE 12', 'PF 3'])
      const codecs = (await c.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${target}/**/*.parquet')`)).getRows().map((x) => x[0])
      t.deepEqual(codecs, ['SNAPPY'])
    })
    t.deepEqual(fs.readdirSync(dir), ['ds'])
  }))

test('exportParquet: node, hour and container partitions', (t) =>
  withTempDir(async (dir) => {
    const target = path.join(dir, 'ds')
    await exportParquet(batches(), target, {partitionBy: ['node', 'hour', 'container']})
    t.deepEqual(fs.readdirSync(target), ['node=fixture-node'])
    t.deepEqual(fs.readdirSync(path.join(target, 'node=fixture-node')), ['hour=22'])
    t.deepEqual(fs.readdirSync(path.join(target, 'node=fixture-node', 'hour=22')).sort(), ['container=__HIVE_DEFAULT_PARTITION__', 'container=c0ffee123456'])
  }))

test('exportParquet: node and container ids from the trace cannot lead partitions out of the dataset', (t) =>
  withTempDir(async (dir) => {
    // The fixture's node and container ids replaced by path tricks, everywhere they occur.
    const evil: Record<string, string> = {'fixture-node': '../../node', c0ffee123456: 'a/../../../c\nq\'=x'}
    const recs = fixtureRecords('5').map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' ? evil[v] ?? v : v])) as unknown as SysFlowRecord)
    const target = path.join(dir, 'ds')
    const r = await exportParquet(joinedBatches([recordsInput('evil', async function* () {
      yield recs
    })]), target, {partitionBy: ['node', 'container'], sliceRecords: 3})
    t.is(r.records, 11)
    t.deepEqual(fs.readdirSync(dir), ['ds'])
    t.deepEqual(fs.readdirSync(target), ['node=..%2F..%2Fnode'])
    t.deepEqual(fs.readdirSync(path.join(target, 'node=..%2F..%2Fnode')).sort(), ['container=__HIVE_DEFAULT_PARTITION__', 'container=a%2F..%2F..%2F..%2Fc%0Aq%27%3Dx'])
    await withDuck(async (c) => {
      const rows = (await c.runAndReadAll(`SELECT node, container, count(*) FROM read_parquet('${target}/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL`)).getRows().map((x) => x.map(String).join(' | '))
      t.deepEqual(rows, ['../../node | a/../../../c\nq\'=x | 10', '../../node | null | 1'])
    })
  }))

test('exportParquet: bad options are refused before anything is written', async (t) =>
  withTempDir(async (dir) => {
    await t.throwsAsync(exportParquet(batches(), path.join(dir, 'x.parquet'), {compression: 'rar'}), {message: /unknown Parquet compression 'rar'/})
    await t.throwsAsync(exportParquet(batches(), path.join(dir, 'x.parquet'), {rowGroupSize: 0}), {message: /row group size/})
    await t.throwsAsync(exportParquet(batches(), path.join(dir, 'x.parquet'), {partitionBy: ['week' as never]}), {message: /unknown partition key 'week'/})
    t.deepEqual(fs.readdirSync(dir), [])
  }))

test('exportDuckDb: a database `sysflow query --db` opens, with the same events and entity rows', (t) =>
  withTempDir(async (dir) => {
    const db = path.join(dir, 'out.duckdb')
    t.is((await exportDuckDb(batches(), db)).records, 32)
    const s = await QuerySession.open({db, readOnly: true})
    try {
      const rows = (await s.connection.runAndReadAll('SELECT to_json(e)::VARCHAR FROM events e')).getRows().map((x) => x[0] as string).sort()
      t.deepEqual(rows, await eventsAsJson())
      const [[p, f, c, pods, h]] = (await s.connection.runAndReadAll('SELECT (SELECT count(*) FROM processes), (SELECT count(*) FROM files), (SELECT count(*) FROM containers), (SELECT count(*) FROM pods), (SELECT count(*) FROM headers)')).getRows()
      // Only the entities the records reference (from joined records there is nothing else to see).
      t.deepEqual([p, f, c, pods, h].map(Number), [9, 9, 3, 2, 3])
    } finally {
      s.close()
    }
    const r = spawnSync(process.execPath, [path.resolve('bin/run.js'), 'query', 'select count(*) as n from events', '--db', db, '-o', 'csv'], {encoding: 'utf8'})
    t.is(r.status, 0, r.stderr)
    t.is(r.stdout, 'n\n32\n')
    await t.throwsAsync(exportDuckDb(batches(), db), {message: /already exists/})
  }))

test('a database file keeps views DuckDB can prune: a count reads no list, a group by one column reads one', (t) =>
  withTempDir(async (dir) => {
    const db = path.join(dir, 'x.duckdb')
    await exportDuckDb(batches(), db)
    const s = await QuerySession.open({db, readOnly: true})
    try {
      const plan = async (sql: string) => String((await s.connection.runAndReadAll(`EXPLAIN ${sql}`)).getRows()[0][1])
      const count = await plan('SELECT count(*) FROM events')
      t.notRegex(count, /CTE|list\(/, 'no list is built for a count')
      t.notRegex(count, /pod_services/)
      const group = await plan('SELECT proc_exe, count(*) FROM events GROUP BY 1')
      t.notRegex(group, /CTE/, 'no CTE is materialised')
      t.notRegex(group, /pod_services|file_path/)
    } finally {
      s.close()
    }
  }))

const MULTIBLOCK = path.resolve('test/fixtures/multiblock.sf')

for (const slice of [1, 3, 7, undefined]) {
  test(`exportParquet in slices of ${slice ?? 'the default'} records: the rows of the events view, in record order`, (t) =>
    withTempDir(async (dir) => {
      const files = [...FIXTURES, MULTIBLOCK]
      const file = path.join(dir, 'events.parquet')
      const r = await exportParquet(joinedBatches(files.map(fileInput)), file, {sliceRecords: slice})
      const expected = await viewRows(files)
      t.is(r.records, expected.length)
      await withDuck(async (c) => t.deepEqual(await parquetRows(c, file), expected))
      t.deepEqual(fs.readdirSync(dir), ['events.parquet'])
    }))
}

for (const writers of [1, 3]) {
  test(`exportParquet in slices of 3 records, ${writers} written at a time: the rows of the events view, in record order`, (t) =>
    withTempDir(async (dir) => {
      const files = [...FIXTURES, MULTIBLOCK]
      const file = path.join(dir, 'events.parquet')
      const r = await exportParquet(joinedBatches(files.map(fileInput)), file, {sliceRecords: 3, writers})
      const expected = await viewRows(files)
      t.is(r.records, expected.length)
      // one row group per part at least: the parts were joined, not rewritten
      t.true(parquetShape(file).rowGroups >= Math.ceil(expected.length / 3) - 1)
      await withDuck(async (c) => t.deepEqual(await parquetRows(c, file), expected))
      t.deepEqual(fs.readdirSync(dir), ['events.parquet'])
    }))
}

test('exportParquet: writers must be a positive integer', async (t) =>
  withTempDir(async (dir) => {
    await t.throwsAsync(exportParquet(batches(), path.join(dir, 'x.parquet'), {writers: 0}), {message: /writers must be a positive integer \(got 0\)/})
    t.deepEqual(fs.readdirSync(dir), [])
  }))

test('exportParquet: a partitioned dataset in slices: each partition holds its rows of the view, in record order', (t) =>
  withTempDir(async (dir) => {
    const files = [...FIXTURES, MULTIBLOCK]
    const target = path.join(dir, 'ds')
    await exportParquet(joinedBatches(files.map(fileInput)), target, {partitionBy: ['type', 'date'], sliceRecords: 2})
    let total = 0
    await withDuck(async (c) => {
      for (const type of fs.readdirSync(target)) {
        for (const date of fs.readdirSync(path.join(target, type))) {
          const leaf = fs.readdirSync(path.join(target, type, date))
          t.is(leaf.length, 1, `one file in ${type}/${date}`)
          // Slices of 2 records leave a row group of a row or two per slice in each partition: such files are
          // rewritten as one row group.
          t.is(parquetShape(path.join(target, type, date, leaf[0])).rowGroups, 1, `one row group in ${type}/${date}`)
          const got = await parquetRows(c, path.join(target, type, date, leaf[0]))
          // The partition columns are in the paths, not in the files.
          const want = await viewRows(files, `(SELECT * EXCLUDE (type) FROM ${PARQUET_EVENTS} WHERE type = '${type.slice(5)}' AND strftime(time, '%Y-%m-%d') = '${date.slice(5)}')`)
          t.deepEqual(got, want, `${type}/${date}`)
          total += got.length
        }
      }
    })
    t.is(total, (await viewRows(files)).length)
    t.deepEqual(fs.readdirSync(dir), ['ds'])
  }))

test('exportParquet: no record at all makes a file with the columns and no row', (t) =>
  withTempDir(async (dir) => {
    const file = path.join(dir, 'empty.parquet')
    async function* none(): AsyncGenerator<never[]> {}
    t.is((await exportParquet(none(), file)).records, 0)
    await withDuck(async (c) => {
      const types = (await c.runAndReadAll(`DESCRIBE SELECT * FROM '${file}'`)).getRows().map((x) => `${x[0]} ${x[1]}`)
      t.deepEqual(types, parquetTypes())
      t.is(Number((await c.runAndReadAll(`SELECT count(*) FROM '${file}'`)).getRows()[0][0]), 0)
    })
  }))

const traces = sharedDir('traces')
if (!traces) {
  test.skip('exportParquet equals the events view on the real traces: SKIPPED, ../shared/traces not found', () => {})
} else {
  for (const trace of listTraces(traces)) {
    test(`exportParquet equals the events view, in order: ${path.relative(traces, trace)}`, (t) =>
      withTempDir(async (dir) => {
        const file = path.join(dir, 'events.parquet')
        await exportParquet(joinedBatches([fileInput(trace)]), file, {sliceRecords: 100})
        const expected = await viewRows([trace])
        await withDuck(async (c) => t.deepEqual(await parquetRows(c, file), expected))
      }))
  }
}
