// convert to columnar formats: Arrow IPC (file and stream) read back with apache-arrow; Parquet read back with
// DuckDB (counts of manifest.jsonl, exact timestamps); a Hive-partitioned dataset of all real traces; a DuckDB
// database; SIGINT during a Parquet export.
import test from 'ava'
import {DuckDBInstance} from '@duckdb/node-api'
import {RecordBatchStreamReader, Table, tableFromIPC} from 'apache-arrow'
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {loadSources, writeBenchTrace} from '../bench/generate.js'
import {eventsRecordBatch} from '../src/format/arrow/index.js'
import {Joined} from '../src/format/join.js'
import {joinedBatches} from '../src/format/pipeline.js'
import {fileInput} from '../src/format/reader.js'
import {KIND_ABBREV} from '../src/format/records.js'
import {readManifest} from './helpers/manifest.js'
import {runCli} from './helpers/cli.js'
import {listTraces, sharedDir} from './helpers/shared.js'
import {withTempDir} from './helpers/tmp.js'

const traces = sharedDir('traces')
const fixtures = path.resolve('test/fixtures')
const RUN = path.resolve('bin/run.js')

async function joined(files: string[], filter?: (j: Joined) => boolean): Promise<Joined[]> {
  const out: Joined[] = []
  for await (const b of joinedBatches(files.map(fileInput))) for (const j of b) if (!filter || filter(j)) out.push(j)
  return out
}

/**
 * The events rows of the records as the library builds them, batch by batch while reading: a joined record's
 * ancestry is looked up in the live join tables, so it must be built before reading on.
 */
async function expectedRows(files: string[], filter?: (j: Joined) => boolean): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const b of joinedBatches(files.map(fileInput))) {
    const kept = filter ? b.filter(filter) : b
    if (kept.length) out.push(...rows(new Table(eventsRecordBatch(kept))))
  }
  return out
}

/** Rows of a table as plain values (bigints kept), for exact comparison. */
function rows(t: Table): unknown[] {
  return t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))))
}

async function sql<T = Record<string, unknown>>(query: string, db = ':memory:'): Promise<T[]> {
  const instance = await DuckDBInstance.create(db)
  const con = await instance.connect()
  try {
    return (await con.runAndReadAll(query)).getRowObjectsJS() as T[]
  } finally {
    con.closeSync()
    instance.closeSync()
  }
}

const quote = (p: string) => `'${p.replace(/'/g, "''")}'`

// ---------------------------------------------------------------------------------------------------------------
// Arrow IPC

const arrowInputs = traces
  ? [path.join(traces, 'sysflow/sf-processor/k8s_small.sf'), path.join(traces, 'sysflow/sf-apis/attacks/express/mon.1531776712.sf')]
  : [path.join(fixtures, 'v5.sf'), path.join(fixtures, 'v1000.sf')]

for (const file of arrowInputs) {
  test(`.sf -> .arrow (${path.basename(file)}): apache-arrow reads back the events rows of the records`, async (t) => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'o.arrow')
      const r = runCli(['convert', file, '-o', out])
      t.is(r.status, 0, r.stderr)
      const table = tableFromIPC(fs.readFileSync(out))
      const records = await joined([file])
      t.is(table.numRows, records.length)
      t.regex(r.stderr, new RegExp(`; wrote ${records.length} events and flows as rows to `))
      // The record's own values, independently of the column builder...
      t.deepEqual(table.getChild('ts')!.toArray(), BigInt64Array.from(records.map((j) => j.rec.ts)))
      t.deepEqual([...table.getChild('type')!], records.map((j) => KIND_ABBREV[j.rec.kind]))
      // ...and every column as the library builds it for these records.
      t.deepEqual(rows(table), await expectedRows([file]))
    })
  })
}

test('.sf -> filtered .arrow, and -o - --to arrow-stream: the stream format on stdout', async (t) => {
  const file = arrowInputs[0]
  const filter = 'sf.type = FF and sf.file.fd > 2'
  const keep = (j: Joined) => j.rec.kind === 6 && 'fd' in j.rec && j.rec.fd! > 2
  const expected = await joined([file], keep)
  t.true(expected.length > 0)
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const p = spawn(process.execPath, [RUN, 'convert', file, '-f', filter, '-o', '-', '--to', 'arrow-stream'], {stdio: ['ignore', 'pipe', 'ignore']})
    const chunks: Buffer[] = []
    p.stdout.on('data', (c: Buffer) => chunks.push(c))
    p.on('error', reject)
    p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`exit ${code}`))))
  })
  const reader = RecordBatchStreamReader.from(bytes)
  const table = new Table(reader.readAll())
  t.is(table.numRows, expected.length)
  t.deepEqual(rows(table), await expectedRows([file], keep))
  await withTempDir(async (dir) => {
    const out = path.join(dir, 'f.arrow')
    t.is(runCli(['convert', file, '-f', filter, '-o', out]).status, 0)
    t.deepEqual(rows(tableFromIPC(fs.readFileSync(out))), rows(table))
    // Nothing selected: still a valid file with the schema.
    const none = path.join(dir, 'none.arrow')
    t.is(runCli(['convert', file, '-f', 'sf.proc.exe = /no/such/exe', '-o', none]).status, 0)
    const empty = tableFromIPC(fs.readFileSync(none))
    t.is(empty.numRows, 0)
    t.is(empty.schema.fields.length, table.schema.fields.length)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Parquet and DuckDB

const manifest = () => readManifest(path.join(traces!, 'manifest.jsonl'))
const EVENT_TYPES = new Set(['PE', 'NF', 'FF', 'FE', 'NE', 'PF', 'KE'])

if (!traces) {
  test.skip('Parquet round trips on real traces: SKIPPED, ../shared/traces not found', () => {})
} else {
  for (const entry of manifest()) {
    test(`.sf -> .parquet -> DuckDB: ${entry.path} has the manifest's counts and exact first/last timestamps`, async (t) => {
      await withTempDir(async (dir) => {
        const out = path.join(dir, 'o.parquet')
        const r = runCli(['convert', path.join(traces, entry.path), '-o', out])
        t.is(r.status, 0, r.stderr)
        t.deepEqual(fs.readdirSync(dir), ['o.parquet'])
        const got = await sql<{type: string; n: bigint}>(`SELECT type, count(*) AS n FROM read_parquet(${quote(out)}) GROUP BY type`)
        const expected = Object.fromEntries(Object.entries(entry.counts).filter(([k]) => EVENT_TYPES.has(k)))
        t.deepEqual(Object.fromEntries(got.map((x) => [x.type, Number(x.n)])), expected)
        const [span] = await sql<{first: string; last: string; same: boolean}>(
          `SELECT CAST(min(ts) AS VARCHAR) AS first, CAST(max(ts) AS VARCHAR) AS last, bool_and(epoch_us(time) = ts // 1000) AS same FROM read_parquet(${quote(out)})`)
        t.is(span.first, String(entry.firstTs))
        t.is(span.last, String(entry.lastTs))
        t.true(span.same, 'time is the instant of ts, to the microsecond (Parquet for Spark; ts keeps the nanoseconds)')
      })
    })
  }

  test('a Hive-partitioned Parquet dataset of all real traces reads back in DuckDB with the right total per partition', async (t) => {
    const files = listTraces(traces)
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'dataset')
      const r = runCli(['convert', ...files, '-o', out, '--partition-by', 'type,date'])
      t.is(r.status, 0, r.stderr)
      // Expected partitions: (type, UTC date of ts) of every event and flow record.
      const expected = new Map<string, number>()
      for (const j of await joined(files)) {
        const k = `${KIND_ABBREV[j.rec.kind]}/${new Date(Number(j.rec.ts / 1_000_000n)).toISOString().slice(0, 10)}`
        expected.set(k, (expected.get(k) ?? 0) + 1)
      }
      // Hive layout on disk.
      const dirs = fs.readdirSync(out).sort()
      t.deepEqual(dirs, [...new Set([...expected.keys()].map((k) => `type=${k.split('/')[0]}`))].sort())
      for (const k of expected.keys()) {
        const [type, date] = k.split('/')
        const leaf = path.join(out, `type=${type}`, `date=${date}`)
        t.true(fs.readdirSync(leaf).some((n) => n.endsWith('.parquet')), leaf)
      }
      const got = await sql<{type: string; date: string; n: bigint}>(
        `SELECT type, CAST(date AS VARCHAR) AS date, count(*) AS n FROM read_parquet(${quote(path.join(out, '**', '*.parquet'))}, hive_partitioning = true) GROUP BY ALL`)
      const sorted = (m: Iterable<[string, number]>) => Object.fromEntries([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
      t.deepEqual(sorted(got.map((x) => [`${x.type}/${x.date}`, Number(x.n)])), sorted(expected))
      const total = manifest().reduce((n, e) => n + Object.entries(e.counts).filter(([k]) => EVENT_TYPES.has(k)).reduce((m, [, v]) => m + v, 0), 0)
      t.is([...expected.values()].reduce((a, b) => a + b, 0), total)
      // An existing dataset is refused without --force and replaced with it.
      t.is(runCli(['convert', files[0], '-o', out, '--partition-by', 'type,date']).status, 2)
      const again = runCli(['convert', files[0], '-o', out, '--partition-by', 'type', '--force'])
      t.is(again.status, 0, again.stderr)
      t.true(fs.readdirSync(out).every((n) => n.startsWith('type=')))
      t.deepEqual(fs.readdirSync(dir), ['dataset'])
    })
  })

  test('.sf -> .duckdb: a database with the events of the trace', async (t) => {
    const file = path.join(traces, 'sysflow/sf-processor/k8s_small.sf')
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'k8s.duckdb')
      const r = runCli(['convert', file, '-o', out, '-f', 'sf.type != KE'])
      t.is(r.status, 0, r.stderr)
      t.deepEqual(fs.readdirSync(dir), ['k8s.duckdb'])
      const [row] = await sql<{n: bigint}>('SELECT count(*) AS n FROM events', out)
      const expected = (await joined([file])).filter((j) => KIND_ABBREV[j.rec.kind] !== 'KE').length
      t.is(Number(row.n), expected)
    })
  })
}

test('.parquet options: zstd by default, --compression and --row-group-size reach the file', async (t) => {
  await withTempDir(async (dir) => {
    // DuckDB cuts row groups at multiples of its 2048-row vectors: a trace of several thousand rows shows the option.
    const file = path.join(dir, 'in.sf')
    const {sources} = await loadSources(path.resolve('../shared/traces'), fixtures)
    await writeBenchTrace(file, sources, 12_000)
    const zstd = path.join(dir, 'z.parquet')
    const snappy = path.join(dir, 's.parquet')
    t.is(runCli(['convert', file, '-o', zstd]).status, 0)
    const r = runCli(['convert', file, '-o', snappy, '--compression', 'snappy', '--row-group-size', '2048'])
    t.is(r.status, 0, r.stderr)
    const meta = async (p: string) => (await sql<{c: string; g: bigint; n: bigint}>(
      `SELECT list(DISTINCT compression)::VARCHAR AS c, count(DISTINCT row_group_id) AS g, (SELECT count(*) FROM read_parquet(${quote(p)})) AS n FROM parquet_metadata(${quote(p)})`))[0]
    const z = await meta(zstd)
    const s = await meta(snappy)
    t.is(z.c, '[ZSTD]')
    t.is(s.c, '[SNAPPY]')
    t.true(Number(s.n) > 4096)
    t.true(Number(s.g) >= Math.ceil(Number(s.n) / 2048), `${s.g} row groups for ${s.n} rows`)
    t.true(Number(z.g) < Number(s.g), 'the default row groups are larger')
  })
})

test('SIGINT during a Parquet export leaves no output and no temporary file (exit 130)', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-convert-pq-'))
  try {
    const input = path.join(tmp, 'big.sf')
    const {sources} = await loadSources(path.resolve('../shared/traces'), fixtures)
    await writeBenchTrace(input, sources, 600_000)
    const dir = path.join(tmp, 'out')
    fs.mkdirSync(dir)
    for (const extra of [[], ['--partition-by', 'type']]) {
      const p = spawn(process.execPath, [RUN, 'convert', input, '-o', path.join(dir, extra.length ? 'ds' : 'o.parquet'), ...extra], {stdio: ['ignore', 'ignore', 'pipe']})
      let stderr = ''
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)))
      let saw = false
      for (const deadline = Date.now() + 30_000; Date.now() < deadline && p.exitCode === null;) {
        if (fs.readdirSync(dir).some((n) => n.includes('.tmp-'))) {
          saw = true
          await new Promise((r) => setTimeout(r, 200))
          p.kill('SIGINT')
          break
        }
        await new Promise((r) => setTimeout(r, 5))
      }
      t.true(saw, 'the temporary output appeared')
      t.is(await exited, 130, stderr)
      t.deepEqual(fs.readdirSync(dir), [], extra.join(' '))
    }
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true})
  }
})
