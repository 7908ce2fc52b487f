// The Parquet written from columns (src/format/parquet) against the one DuckDB writes (src/query/export.ts): read
// back in DuckDB, every cell of every row in order, the schema, each row group's statistics against its values,
// on fixtures, schema variants, shared traces and traces built to break the writer's keys; and the hybrid
// encoding against an independent decoder.
import fs from 'node:fs'
import path from 'node:path'
import test, {ExecutionContext} from 'ava'
import {DuckDBConnection} from '@duckdb/node-api'
import {convert} from '../src/format/convert/index.js'
import {selectedBatches} from '../src/format/convert/select.js'
import {ReadWarning} from '../src/format/errors.js'
import {PipelineStats} from '../src/format/pipeline.js'
import {fileInput} from '../src/format/reader.js'
import {File as SFFile, Kind, SysFlowRecord} from '../src/format/records.js'
import {Bytes} from '../src/format/parquet/bytes.js'
import {bitWidth, writeHybrid} from '../src/format/parquet/encode.js'
import {Codec} from '../src/format/parquet/file.js'
import {writeEventsParquet} from '../src/format/parquet/write.js'
import {exportParquet} from '../src/query/export.js'
import {breakingRecords, writeTrace} from './helpers/breaking-trace.js'
import {listTraces, sharedDir} from './helpers/shared.js'
import {withTempDir} from './helpers/tmp.js'
import {withDuck} from './helpers/duck.js'

const FIXTURES = path.resolve('test/fixtures')
const VARIANTS = path.resolve('test/fixtures/variants')
const sfIn = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.sf')).sort().map((n) => path.join(dir, n))

interface Sel {
  since?: bigint
  until?: bigint
  limit?: number
}

async function viaDuckDb(files: string[], out: string, sel: Sel = {}, rowGroupSize?: number): Promise<{records: number; warnings: string[]; stats: PipelineStats}> {
  const warnings: string[] = []
  const stats = new PipelineStats()
  const pipe = {onWarning: (w: ReadWarning) => warnings.push(`${w.file} ${w.offset} ${w.message}`), onError: (e: Error) => warnings.push(`error ${e.message}`)}
  const r = await exportParquet(selectedBatches(files.map(fileInput), sel, pipe, stats), out, {rowGroupSize})
  return {records: r.records, warnings, stats}
}

async function viaColumns(files: string[], out: string, sel: Sel = {}, rowGroupSize?: number, codec?: Codec): Promise<{records: number; warnings: string[]; stats: PipelineStats}> {
  const warnings: string[] = []
  const stats = new PipelineStats()
  const r = await writeEventsParquet(files.map(fileInput), out, {
    ...sel, rowGroupSize, codec,
    onWarning: (w) => warnings.push(`${w.file} ${w.offset} ${w.message}`),
    onError: (e) => warnings.push(`error ${e.message}`),
  }, stats)
  return {records: r.records, warnings, stats}
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`

const withDb = withDuck

async function one(c: DuckDBConnection, sql: string): Promise<string> {
  const r = await c.runAndReadAll(sql)
  return String(r.getRows()[0][0])
}

/** Both files read back: the same columns and types, and every cell of every row, in order. */
async function sameRows(t: ExecutionContext, a: string, b: string): Promise<number> {
  return withDb(async (c) => {
    await c.run(`CREATE TABLE a AS SELECT row_number() OVER () AS rn, * FROM read_parquet(${lit(a)})`)
    await c.run(`CREATE TABLE b AS SELECT row_number() OVER () AS rn, * FROM read_parquet(${lit(b)})`)
    const describe = async (x: string) => (await c.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE ${x})`)).getRows().map((r) => r.join(' '))
    t.deepEqual(await describe('b'), await describe('a'), 'columns and types')
    const n = Number(await one(c, 'SELECT count(*) FROM a'))
    t.is(Number(await one(c, 'SELECT count(*) FROM b')), n, 'rows')
    // Row by row (rn), every column: a difference names the column and the row.
    const cols = (await c.runAndReadAll(`SELECT column_name FROM (DESCRIBE a) WHERE column_name <> 'rn'`)).getRows().map((r) => String(r[0]))
    const diff = cols.map((k) => `CASE WHEN a."${k}" IS DISTINCT FROM b."${k}" THEN '${k} ' ELSE '' END`).join(' || ')
    const bad = await c.runAndReadAll(`SELECT a.rn, ${diff} AS d FROM a JOIN b USING (rn) WHERE (${diff}) <> '' ORDER BY a.rn LIMIT 3`)
    t.deepEqual(bad.getRows().map((r) => `row ${r[0]}: ${r[1]}`), [], 'cells that differ')
    return n
  })
}

/** Our schema as DuckDB's (the root's name aside). */
async function sameSchema(t: ExecutionContext, a: string, b: string): Promise<void> {
  await withDb(async (c) => {
    const schema = async (f: string) => (await c.runAndReadAll(`SELECT name, type, repetition_type, num_children, converted_type, logical_type FROM parquet_schema(${lit(f)}) OFFSET 1`)).getRows().map((r) => r.map(String).join(' '))
    t.deepEqual(await schema(b), await schema(a))
  })
}

/**
 * Every row group's statistics (null count, min, max of each plain column) equal what its rows hold, as DuckDB
 * computes them: a reader that prunes row groups by them (DuckDB, Spark, Trino) must never skip a match.
 */
async function statsHold(t: ExecutionContext, file: string, rowGroupSize: number): Promise<number> {
  return withDb(async (c) => {
    await c.run(`CREATE TABLE d AS SELECT (row_number() OVER () - 1) // ${rowGroupSize} AS g, * FROM read_parquet(${lit(file)})`)
    const meta = (await c.runAndReadAll(`SELECT row_group_id, path_in_schema, stats_null_count, stats_min_value, stats_max_value FROM parquet_metadata(${lit(file)}) WHERE path_in_schema NOT LIKE '%, list, element'`)).getRows()
    const types = new Map((await c.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE d)`)).getRows().map((r) => [String(r[0]), String(r[1])]))
    let checked = 0
    const wrong: string[] = []
    for (const [g, col, nulls, min, max] of meta) {
      const k = String(col)
      // The min and max as the stats text shows them: strings and JSON as text, times as microseconds.
      const v = types.get(k) === 'TIMESTAMP' ? `epoch_us("${k}")` : types.get(k) === 'JSON' ? `"${k}"::VARCHAR` : `"${k}"`
      const r = (await c.runAndReadAll(`SELECT count(*) - count("${k}"), min(${v})::VARCHAR, max(${v})::VARCHAR FROM d WHERE g = ${g}`)).getRows()[0]
      const shown = (x: unknown) => (x === null ? 'null' : types.get(k) === 'TIMESTAMP' && x !== null ? String(x) : String(x))
      const got = [String(nulls), min === null ? 'null' : String(min), max === null ? 'null' : String(max)]
      // A long string's min and max are left out (the footer stays small): only the null count is then checked.
      const want = [String(r[0]), shown(r[1]), shown(r[2])]
      if (min === null && max === null && r[1] !== null) want[1] = want[2] = 'null'
      if (types.get(k) === 'TIMESTAMP' && min !== null) {
        got[1] = await one(c, `SELECT epoch_us(${lit(String(min))}::TIMESTAMP)::VARCHAR`)
        got[2] = await one(c, `SELECT epoch_us(${lit(String(max))}::TIMESTAMP)::VARCHAR`)
      }
      if (got.join('|') !== want.join('|')) wrong.push(`group ${g} ${k}: file says ${got.join('|')}, rows hold ${want.join('|')}`)
      checked++
    }
    t.deepEqual(wrong.slice(0, 5), [], 'row group statistics')
    return checked
  })
}

async function compare(t: ExecutionContext, dir: string, files: string[], sel: Sel = {}, rowGroupSize?: number): Promise<number> {
  const a = path.join(dir, `duckdb-${Math.random().toString(36).slice(2)}.parquet`)
  const b = path.join(dir, `columns-${Math.random().toString(36).slice(2)}.parquet`)
  const ra = await viaDuckDb(files, a, sel, rowGroupSize)
  const rb = await viaColumns(files, b, sel, rowGroupSize)
  t.is(rb.records, ra.records, 'records written')
  t.deepEqual(rb.warnings, ra.warnings, 'warnings')
  t.is(rb.stats.records, ra.stats.records, 'records read')
  const n = await sameRows(t, a, b)
  t.is(n, ra.records)
  await sameSchema(t, a, b)
  fs.rmSync(a)
  fs.rmSync(b)
  return n
}

test('Parquet from columns: the same rows, values and schema as DuckDB writes, every fixture and schema variant', (t) =>
  withTempDir(async (dir) => {
    const n = await compare(t, dir, [...sfIn(FIXTURES), ...sfIn(VARIANTS)])
    t.true(n > 300)
    for (const f of sfIn(VARIANTS)) await compare(t, dir, [f])
  }))

test('Parquet from columns: replaced, late and missing entities, several inputs, row groups of 97 rows across scopes', (t) =>
  withTempDir(async (dir) => {
    const a = await writeTrace(path.join(dir, 'a.sf'), [...breakingRecords(0), ...breakingRecords(1)], {codec: 'null', blockBytes: 700})
    const b = await writeTrace(path.join(dir, 'b.sf'), [...breakingRecords(2), ...breakingRecords(0)], {codec: 'deflate', blockBytes: 5000})
    t.true((await compare(t, dir, [a])) > 500)
    await compare(t, dir, [a, b, a], {}, 97)
    // Many distinct keys in one row group (dictionaries of thousands of entries, wide indexes).
    const recs: SysFlowRecord[] = []
    for (let round = 0; round < 3; round++) recs.push(...breakingRecords(round, 600))
    const many = await writeTrace(path.join(dir, 'many.sf'), recs, {codec: 'deflate', blockBytes: 20000})
    t.true((await compare(t, dir, [many])) > 10_000)
    // Fields the writer lacks, or wrote null.
    const omitted = await writeTrace(path.join(dir, 'omit.sf'), recs.slice(0, 3000), {codec: 'null', omit: ['Process.cwd', 'Process.tty', 'File.restype'], blockBytes: 900})
    const holes = recs.slice(0, 3000).map((r, k) => (r.kind === Kind.Process && k % 3 === 0 ? {...r, exe: undefined} : r.kind === Kind.File && k % 2 ? {...r, path: undefined} : r)) as SysFlowRecord[]
    const nullable = await writeTrace(path.join(dir, 'nullable.sf'), holes, {codec: 'null', nullable: ['Process.exe', 'File.path', 'Process.containerId', 'FileFlow.endTs'], blockBytes: 900})
    await compare(t, dir, [omitted, nullable], {}, 250)
  }))

test('Parquet from columns: file values written from the File rows\' bytes equal the catalogue\'s (slashes, sockets, non-ASCII, file types, nulls)', (t) =>
  withTempDir(async (dir) => {
    // Every edge of basename, dirname and the socket split, and file types around ASCII and Unicode's ends: the
    // bytes path takes the plain ones, value() the rest, and both must give what DuckDB's export (the catalogue) does.
    const paths = ['', '/', '//', '///', 'a', 'a/', 'a//', '/a', '/a/', '/a//', '/a/b', '/a/b/', 'a/b', 'a//b//', '//a', '/x->y', 'tcp:1.2.3.4:5->6.7.8.9:10', '->',
      '-', '>', 'a->', '-/>', 'a- >', '/a/b->c d/e', '/é/x', 'é', '/dir/\u0000\u007f', '/d/\ud800', `${'/long'.repeat(80)}/leaf`, 'x'.repeat(300), '/日本/語/']
    const types = [-1, 0, 0x3f, 0x66, 0x7f, 0x80, 0xff, 0xd800, 0xffff, 0x10ffff, 0x110000, -(2 ** 31), 2 ** 31 - 1]
    const me = {hpid: 7n, createTS: 8n}
    const recs: SysFlowRecord[] = [{kind: Kind.Header, version: 5n, exporter: 'files', ip: '10.0.0.1', filename: 'f'},
      {kind: Kind.Process, state: 'CREATED', oid: me, poid: null, ts: 1n, exe: '/bin/x', exeArgs: '', uid: 0, userName: 'u', gid: 0, groupName: 'g', tty: false, containerId: null, entry: false, cwd: '/', env: []}]
    const foid = (k: number) => k.toString(16).padStart(40, 'f')
    paths.forEach((p, k) => {
      for (const [x, restype] of types.entries()) {
        const id = k * 100 + x
        const file: SFFile = {kind: Kind.File, state: 'CREATED', oid: foid(id), ts: 2n, restype, path: p, containerId: null}
        recs.push(file)
        const base = {procOID: me, ts: 3n + BigInt(id), tid: 1n, opFlags: 1}
        recs.push({kind: Kind.FileEvent, ...base, fileOID: file.oid, ret: 0, newFileOID: foid(((k + 1) % paths.length) * 100 + x)})
        recs.push({kind: Kind.FileFlow, ...base, openFlags: 1, endTs: 4n, fileOID: file.oid, fd: 3, numRRecvOps: 1n, numWSendOps: 1n, numRRecvBytes: 1n, numWSendBytes: 1n})
      }
    })
    const f = await writeTrace(path.join(dir, 'files.sf'), recs, {codec: 'null', blockBytes: 3000})
    t.true((await compare(t, dir, [f], {}, 211)) > 2 * paths.length * types.length - 1)
    // Paths and file types the writer left null (value() gives no value, not '' or '\u0000').
    const holes = recs.map((r, k) => (r.kind === Kind.File ? {...r, ...(k % 3 === 0 ? {path: undefined} : k % 3 === 1 ? {restype: undefined} : {})} : r)) as SysFlowRecord[]
    const g = await writeTrace(path.join(dir, 'holes.sf'), holes, {codec: 'null', nullable: ['File.path', 'File.restype'], blockBytes: 3000})
    await compare(t, dir, [g], {}, 211)
    const out = path.join(dir, 'files.parquet')
    await viaColumns([f, g], out, {}, 211)
    t.true((await statsHold(t, out, 211)) > 100)
  }))

test('Parquet from columns: times before 1970 and far ahead, microseconds as DuckDB casts them; the time window and limit', (t) =>
  withTempDir(async (dir) => {
    const recs = breakingRecords(4, 12).map((r, k) => ('ts' in r && r.kind !== Kind.Process && r.kind !== Kind.File && r.kind !== Kind.Pod ? {...r, ts: [-1500n, -1000n, -999n, -1n, 0n, 999n, 1001n, 2n ** 62n + 999n, 1_700_000_000_123_456_789n][k % 9]} : r)) as SysFlowRecord[]
    const f = await writeTrace(path.join(dir, 'times.sf'), recs, {codec: 'null', blockBytes: 600})
    t.true((await compare(t, dir, [f])) > 100)
    await compare(t, dir, [f], {since: 0n, until: 2n ** 62n})
    await compare(t, dir, [f], {since: -1000n, limit: 17})
    await compare(t, dir, [f], {limit: 0})
  }))

test('Parquet from columns: row group statistics hold for their rows (nulls, signed ints and longs, strings by bytes, times)', (t) =>
  withTempDir(async (dir) => {
    const recs: SysFlowRecord[] = []
    for (let round = 0; round < 3; round++) recs.push(...breakingRecords(round, 60))
    const f = await writeTrace(path.join(dir, 's.sf'), recs, {codec: 'null', blockBytes: 2000})
    const out = path.join(dir, 's.parquet')
    await viaColumns([f], out, {}, 131)
    t.true((await statsHold(t, out, 131)) > 1000)
    const fx = path.join(dir, 'fx.parquet')
    await viaColumns(sfIn(FIXTURES), fx, {}, 50)
    t.true((await statsHold(t, fx, 50)) > 500)
  }))

test('Parquet from columns: gzip, brotli and uncompressed pages read back the same', (t) =>
  withTempDir(async (dir) => {
    const files = sfIn(FIXTURES)
    const base = path.join(dir, 'zstd.parquet')
    await viaColumns(files, base)
    for (const codec of ['gzip', 'brotli', 'uncompressed'] as const) {
      const out = path.join(dir, `${codec}.parquet`)
      await viaColumns(files, out, {}, 64, codec)
      await sameRows(t, base, out)
      await withDb(async (c) => t.is(await one(c, `SELECT DISTINCT compression FROM parquet_metadata(${lit(out)})`), codec.toUpperCase()))
    }
  }))

test('Parquet from columns: a damaged trace gives the same rows and warnings as DuckDB; convert picks the writer', (t) =>
  withTempDir(async (dir) => {
    const src = fs.readFileSync(path.join(FIXTURES, 'v5.sf'))
    const bad = Buffer.from(src)
    for (let k = Math.floor(bad.length / 2); k < bad.length / 2 + 40; k++) bad[k] ^= 0x5a
    const f = path.join(dir, 'bad.sf')
    fs.writeFileSync(f, bad)
    await compare(t, dir, [f])
    // convert: from columns by default (created_by sysflow), DuckDB for a filter, partitions, snappy or when asked.
    const createdBy = async (opts: Partial<Parameters<typeof convert>[1]>, env?: string) => {
      const out = path.join(dir, `c-${Math.random().toString(36).slice(2)}.parquet`)
      const old = process.env.SYSFLOW_PARQUET_WRITER
      if (env) process.env.SYSFLOW_PARQUET_WRITER = env
      try {
        await convert([fileInput(path.join(FIXTURES, 'v5.sf'))], {format: 'parquet', output: out, exporters: {parquet: exportParquet}, ...opts})
      } finally {
        if (env) process.env.SYSFLOW_PARQUET_WRITER = old
      }
      return withDb((c) => one(c, `SELECT created_by FROM parquet_file_metadata(${lit(out)})`))
    }
    t.regex(await createdBy({}), /^sysflow/)
    t.regex(await createdBy({compression: 'gzip'}), /^sysflow/)
    t.regex(await createdBy({compression: 'snappy'}), /^DuckDB/)
    t.regex(await createdBy({filter: () => true}), /^DuckDB/)
    t.regex(await createdBy({}, 'duckdb'), /^DuckDB/)
  }))

test('Parquet from columns: the writer thread gives the same bytes as one thread; a failing write is an error and leaves no file', (t) =>
  withTempDir(async (dir) => {
    const recs: SysFlowRecord[] = []
    for (let round = 0; round < 2; round++) recs.push(...breakingRecords(round, 200))
    const f = await writeTrace(path.join(dir, 't.sf'), recs, {codec: 'deflate', blockBytes: 4000})
    const write = async (out: string, thread: boolean) => (await writeEventsParquet([fileInput(f)], out, {rowGroupSize: 333, thread})).records
    const a = path.join(dir, 'one-thread.parquet')
    const b = path.join(dir, 'writer-thread.parquet')
    const n = await write(a, false)
    t.true(n > 333 * 4, 'several row groups')
    t.is(await write(b, true), n)
    t.true(fs.readFileSync(a).equals(fs.readFileSync(b)), 'identical files')
    await withDb(async (c) => t.is(Number(await one(c, `SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${lit(b)})`)), Math.ceil(n / 333)))
    // The file cannot be made (its directory is gone): the same error from either thread, and nothing left behind.
    for (const thread of [false, true]) {
      const out = path.join(dir, 'gone', 'x.parquet')
      await t.throwsAsync(writeEventsParquet([fileInput(f)], out, {rowGroupSize: 333, thread}), {message: /ENOENT/})
      t.false(fs.existsSync(out))
    }
  }))

const traces = sharedDir('traces')
test(traces ? 'Parquet from columns: the same rows as DuckDB writes, every shared trace' : 'SKIP: ../shared/traces absent (Parquet from columns on shared traces)', async (t) => {
  if (!traces) return t.pass()
  await withTempDir(async (dir) => {
    let rows = 0
    for (const f of listTraces(traces)) rows += await compare(t, dir, [f])
    t.true(rows > 10_000)
  })
})

/** An independent reader of the RLE / bit-packed hybrid (the Parquet spec's grammar). */
function readHybrid(b: Uint8Array, width: number, n: number): number[] {
  const out: number[] = []
  let pos = 0
  const varint = () => {
    let v = 0
    let mul = 1
    for (;;) {
      const x = b[pos++]
      v += (x & 0x7f) * mul
      if (x < 0x80) return v
      mul *= 128
    }
  }
  while (out.length < n) {
    const h = varint()
    if (h % 2 === 0) {
      let v = 0
      for (let k = 0; k < (width + 7) >> 3; k++) v |= b[pos++] << (8 * k)
      for (let k = 0; k < h / 2; k++) out.push(v)
    } else {
      const count = ((h - 1) / 2) * 8
      let bit = 0
      for (let k = 0; k < count; k++) {
        let v = 0
        for (let w = 0; w < width; w++, bit++) if (b[pos + (bit >> 3)] & (1 << (bit & 7))) v |= 1 << w
        out.push(v)
      }
      pos += ((h - 1) / 2) * width
    }
  }
  t0.is(pos, b.length, 'every byte read')
  return out.slice(0, n)
}
let t0: ExecutionContext

test('hybrid encoding: runs of 7, 8 and 9, groups cut by runs, every width 0 to 24, odd lengths, typed arrays', (t) => {
  t0 = t
  let seed = 7
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  for (let width = 0; width <= 24; width++) {
    const max = width === 0 ? 0 : 2 ** width - 1
    for (const n of [1, 7, 8, 9, 15, 16, 17, 100, 1001]) {
      const v: number[] = []
      while (v.length < n) {
        const x = Math.floor(rnd() * (max + 1))
        const run = [1, 1, 2, 7, 8, 9, 30][Math.floor(rnd() * 7)]
        for (let k = 0; k < run && v.length < n; k++) v.push(x)
      }
      if (n > 3) v[n - 1] = max
      // As the writer passes them: plain arrays, Int32Array (indexes), Uint8Array (levels, up to 8 bits).
      const inputs: ArrayLike<number>[] = [v, Int32Array.from(v), ...(width <= 8 ? [Uint8Array.from(v)] : [])]
      for (const input of inputs) {
        const out = new Bytes(16)
        writeHybrid(out, input, n, width)
        t.deepEqual(readHybrid(out.take(), width, n), v, `width ${width}, ${n} values, ${input.constructor.name}`)
      }
    }
  }
  t.is(bitWidth(0), 0)
  t.is(bitWidth(1), 1)
  t.is(bitWidth(255), 8)
  t.is(bitWidth(256), 9)
})
