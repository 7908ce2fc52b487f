// Exports for `sysflow convert`: joined records -> Parquet (one file, or a Hive-style partitioned directory) or a
// DuckDB database file that `sysflow query --db` opens. Both go through the loader's narrow tables in DuckDB.
// A plain Parquet file (no filter, no partitions, zstd/gzip/brotli/none) is written by src/format/parquet instead,
// straight from the column tables: 2-3x as fast and in a third of the memory. This export writes the rest.
//
// Parquet is written a slice of rows at a time, while loading goes on. The narrow fact and aux rows of each slice
// (a fixed number of records) go into tables of their own; once the slice is loaded, a COPY of it (sliceSelectSql
// in ./ddl.ts: hash joins to the values of the entities the slice references) writes it to a part file on another
// connection while this thread loads the next, and drops its tables. The parts are then joined into the target
// without re-encoding (./parquet-concat.ts). So time is linear in the trace; memory is the entity tables plus, per
// writer, a slice and a row group, whatever the length of the trace; and this thread and DuckDB's work at once.
// What each slice's COPY freed is handed back to the system after it (../native/duckdb-allocator.ts): DuckDB's
// allocator would otherwise keep it, and resident memory grew to ~1 GB though DuckDB itself held far less.
// (One COPY of the whole view, as before, took ~100 ns per value through its list lookups and buffered the trace.)
//
// Why DuckDB writes the Parquet (issue #17, measured 2026-12-03 on the 2-core bench machine, shared and loaded, so
// ratios matter more than rates; wide = the `events` record batches of src/format/arrow/wide.ts, held in memory):
//
// | writer                                          | rows/s          | zstd | bytes/row | types as DuckDB reads them          |
// |-------------------------------------------------|-----------------|------|-----------|-------------------------------------|
// | DuckDB COPY, events already in a table, 2 thr.  | 356k-408k       | yes  | 25.6      | ours (JSON, TIMESTAMP_NS, INT_64)   |
// | parquet-wasm 0.8 (arrow-rs), wide batches       | 44k-78k         | yes  | 29.8      | JSON columns become plain strings   |
// | hyparquet-writer 0.17, wide batches as JS arrays| 36k (+5 s/134k  | no*  | 32.5 snappy | needs a hand-written schema       |
// |                                                 | rows to convert)|      |           |                                     |
// | building the wide batches themselves            | 133k (read+join+build) | | |                                        |
//
// (*) Node 20 has no zstd; hyparquet-writer needs a compressor package for it. Both JavaScript-side writers need
// the wide batches, which alone cost more than this whole export (7.5 us per row: a value() call per cell), and
// then write 5-10x slower than DuckDB; this export hands DuckDB only the narrow batches (~375k records/s to load)
// and lets it join and encode. Both files read back in DuckDB with the same row counts and values.
//
// Order. Rows are written in record order: each COPY runs in one thread (DuckDB threads=1; the parallelism is
// between slices), scans its slice in order, and keeps it: joins are not reordered or flipped (the slice stays the
// probe side), and every fact row finds exactly one row in each joined table (see sliceSelectSql).
import fs from 'node:fs'
import path from 'node:path'
import {DuckDBConnection} from '@duckdb/node-api'
import {NarrowBuilder} from '../format/arrow/index.js'
import {Joined} from '../format/join.js'
import {purgeDuckDbAllocator} from '../native/duckdb-allocator.js'
import {createTableSql, DERIVABLE, GENERATION_TABLES, GenerationTable, lit, q, SLICE_TABLES, sliceSelectSql} from './ddl.js'
import {SourceMaps} from './ingest.js'
import {QueryError} from './errors.js'
import {rollbackLoad} from './load.js'
import {concatParquet, mergeDatasets, parquetShape} from './parquet-concat.js'
import {QuerySession, SessionOptions} from './session.js'

export type PartitionKey = 'type' | 'date' | 'hour' | 'node' | 'container'

export interface ParquetExportOptions {
  /** Hive-style directories by these keys, in this order (`type=FF/date=2019-03-25/...`). */
  partitionBy?: readonly PartitionKey[]
  /** Parquet compression codec (default zstd): zstd, snappy, gzip, lz4, brotli, uncompressed. */
  compression?: string
  /**
   * Rows per row group. By default row groups are DuckDB's default size, or smaller when their values would take
   * more than ROW_GROUP_BYTES in memory (rows with long ancestries, command lines and pod metadata are wide).
   */
  rowGroupSize?: number
  /** Records per slice (tests use small ones to exercise the joining of parts). */
  sliceRecords?: number
  /**
   * Slices written at a time besides the loading (default 2). One, with smaller slices, holds about half the memory
   * and takes about twice as long (see WRITERS).
   */
  writers?: number
}

/** How each partition key is computed from the `events` columns. */
const PARTITION_SQL: Record<PartitionKey, string> = {
  type: 'type',
  date: "strftime(time, '%Y-%m-%d')",
  hour: "strftime(time, '%H')",
  node: 'node_id',
  container: 'container_id',
}

const COMPRESSIONS = new Set(['zstd', 'snappy', 'gzip', 'lz4', 'lz4_raw', 'brotli', 'uncompressed'])

/** Memory DuckDB may use while exporting before it spills to disk. */
const EXPORT_MEMORY = '1GB'
/**
 * DuckDB's default rows per row group, and the most a row group may take in memory while it is written (DuckDB's
 * estimate): wide rows (long ancestries, command lines, pod metadata) make smaller row groups, so that memory does
 * not grow with the width of the rows. (64MB made files ~20% smaller and peak memory ~150 MB larger.)
 */
const ROW_GROUP_ROWS = 122880
const ROW_GROUP_BYTES = '64MB'
/**
 * Resident size above which DuckDB's freed pages are handed back after a slice: a safety net that keeps long
 * exports from growing, not a target. A purge costs a sweep of every arena and the page faults of reusing what it
 * returned: purging after every slice brought a 2M-record export from 1.07-1.18 GB to 0.81-0.86 GB but made it
 * 5-10% slower (8.7-9.1 s against 9.7-10.1 s, same minutes), and an 800 MB line still ~7% slower.
 */
const PURGE_ABOVE_RSS = 2 ** 30

function purgeWhenLarge(): void {
  if (process.memoryUsage.rss() > PURGE_ABOVE_RSS) purgeDuckDbAllocator()
}

/**
 * Records per slice: large enough that what a slice costs besides its rows is small, small enough to overlap.
 * (65536 with one writer peaks at ~0.52 GB on 2M records but takes ~1.8x as long: see WRITERS.)
 */
const SLICE_RECORDS = 131072
/**
 * A partitioned COPY keeps a buffer for every partition it writes to until it ends (at least a block per column
 * each, whatever the rows), so its slices are smaller.
 */
const PARTITIONED_SLICE_RECORDS = 32768
/**
 * A partition file whose row groups average fewer rows than the row group size over this is rewritten as one piece
 * (see regroupPartitions).
 */
const FRAGMENTED = 8
/**
 * Slices written at a time (connections), besides this thread's loading. Two: one COPY thread writes ~170k rows/s,
 * slower than this thread loads, so with one writer loading waits for it (measured on 2M records, one writer and
 * slices of 65536: 15.8-18.4 s against 8.6-8.8 s, peak RSS 516-537 MiB against 809-826 MiB).
 */
const WRITERS = 2

/**
 * Load joined batches (the entities they reference become the entity tables' rows) into the session's database,
 * as one transaction. Returns the number of event and flow records loaded.
 */
export async function loadJoined(session: QuerySession, batches: AsyncIterable<Joined[]>): Promise<number> {
  await session.connection.run('BEGIN TRANSACTION')
  const ingester = await session.ingester()
  try {
    const builder = new NarrowBuilder(DERIVABLE)
    const maps = new SourceMaps()
    let records = 0
    for await (const batch of batches) {
      builder.addJoined(batch)
      if (builder.ready) {
        const b = builder.take()
        records += b.events
        await ingester.add(b, maps)
      }
    }
    const b = builder.take()
    records += b.events
    await ingester.add(b, maps)
    ingester.close()
    await session.checkKeys()
    await session.connection.run('COMMIT')
    return records
  } catch (e) {
    await rollbackLoad(session, ingester)
    throw e
  }
}

function removeDb(file: string): void {
  for (const f of [file, `${file}.wal`]) fs.rmSync(f, {force: true})
}

/**
 * A scratch directory next to `target` (same file system), named after it: the convert layer removes what is
 * named after its temporary target when it is interrupted.
 */
function workDirFor(target: string): string {
  const abs = path.resolve(target)
  return path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${Date.now().toString(36)}.work`)
}

/**
 * A loaded slice: its own narrow tables (named as SLICE_TABLES), dropped once it is written, and the SQL sources of
 * the generation tables' rows it may reference (see Chunks).
 */
interface Slice {
  index: number
  own: Record<(typeof SLICE_TABLES)[number], string>
  entities: Record<GenerationTable, string>
}

/**
 * The rows of the generation tables (processes, files, contexts: see GENERATION_TABLES in ./ddl.ts) in chunks, one
 * per slice: what was ingested while the slice loaded, renamed `_processes_7`... when it ends. A record references
 * only entities of its own generation (its header, or its input), so a slice needs the chunks from the one in which
 * the oldest generation it has records of began, to its own; a chunk that no slice left to write (nor the one
 * loading) needs is dropped. So these tables hold the entities of about one generation, not of the whole trace:
 * before, they grew with the trace (~100 MB per million records of the bench trace, one header per ~25,000
 * records) and every slice scanned all of them. A trace without headers is one generation: nothing is dropped, as
 * before.
 */
export class Chunks {
  /** The chunk (slice index) in which the generation of the last record added began. */
  private generationStart = 0
  /** Where the oldest generation of the loading slice began. */
  private loadingFrom = 0
  /** Slices handed to the writers and not written yet, with the first chunk each reads. */
  private readonly writing = new Map<number, number>()
  private dropped = 0
  private lastHeader: unknown = undefined
  private seen = false

  /** Note the generations of records about to be added to slice `slice`. */
  observe(batch: readonly Joined[], slice: number): void {
    for (let i = 0; i < batch.length; i++) {
      const h = batch[i].header
      if (h !== this.lastHeader || !this.seen) {
        // A new header, or a new input (the joiner starts afresh at each): a new generation, whose entities are
        // ingested from now on, so into this slice's chunk or later ones.
        if (this.seen && h !== this.lastHeader) this.generationStart = slice
        this.lastHeader = h
        this.seen = true
      }
    }
  }

  /** Slice `index` ends: the SQL sources of its generation tables (chunks loadingFrom..index). */
  end(index: number): Record<GenerationTable, string> {
    const from = this.loadingFrom
    this.writing.set(index, from)
    this.loadingFrom = this.generationStart
    return Object.fromEntries(GENERATION_TABLES.map((t) => {
      const names = []
      for (let c = from; c <= index; c++) names.push(`SELECT * FROM ${q(chunkName(t, c))}`)
      return [t, names.length === 1 ? q(chunkName(t, index)) : `(${names.join(' UNION ALL ')})`]
    })) as Record<GenerationTable, string>
  }

  written(index: number): void {
    this.writing.delete(index)
  }

  /** The chunks that nothing left to write needs, to drop now (each once). */
  droppable(): number[] {
    let floor = this.loadingFrom
    for (const from of this.writing.values()) floor = Math.min(floor, from)
    const out: number[] = []
    for (; this.dropped < floor; this.dropped++) out.push(this.dropped)
    return out
  }
}

export const chunkName = (t: GenerationTable, chunk: number): string => `${t}_${chunk}`

/** The Parquet export's `time` column: the events view's, in microseconds. */
export const PARQUET_TIME = 'CAST(time AS TIMESTAMP)'

/** COPYs of slices to part files, at most one per connection at a time. */
class SliceWriter {
  readonly parts: string[] = []
  private readonly idle: DuckDBConnection[]
  private readonly running = new Set<Promise<void>>()
  private failure: {error: unknown} | undefined

  constructor(
    private readonly connections: DuckDBConnection[],
    private readonly dir: string,
    private readonly select: (s: Slice) => string,
    private readonly options: string,
    private readonly partitioned: boolean,
    private readonly onWritten: (index: number) => void,
  ) {
    this.idle = [...connections]
  }

  /** Start writing a slice; waits while every connection is busy (so loading waits for writing). */
  async write(slice: Slice): Promise<void> {
    while (this.idle.length === 0) await Promise.race(this.running)
    this.check()
    const c = this.idle.pop()!
    const part = path.join(this.dir, `part-${this.parts.length}${this.partitioned ? '' : '.parquet'}`)
    this.parts.push(part)
    const job = (async () => {
      try {
        await c.run(`COPY (${this.select(slice)}) TO ${lit(part)} (${this.options})`)
        for (const t of Object.values(slice.own)) await c.run(`DROP TABLE ${q(t)}`)
        // What the COPY freed goes back to the system now (see ../native/duckdb-allocator.ts), not the next slice's
        // on top of it, once the process holds more than PURGE_ABOVE_RSS.
        purgeWhenLarge()
        this.onWritten(slice.index)
      } catch (e) {
        this.failure ??= {error: e}
      } finally {
        this.idle.push(c)
      }
    })()
    this.running.add(job)
    void job.then(() => this.running.delete(job))
  }

  /** Wait for every slice; throws the first failure. */
  async finish(): Promise<void> {
    await Promise.all(this.running)
    this.check()
  }

  private check(): void {
    if (this.failure) throw this.failure.error
  }

  close(): void {
    for (const c of this.connections) c.closeSync()
  }
}

/**
 * Load joined batches into the session's narrow tables a slice at a time: after every `sliceRecords` event and flow
 * records, the slice's own tables are renamed and handed to `onSlice`, and loading goes on into new ones. Returns
 * the number of records loaded.
 */
async function loadSlices(session: QuerySession, batches: AsyncIterable<Joined[]>, sliceRecords: number, chunks: Chunks, onSlice: (s: Slice) => Promise<void>): Promise<number> {
  const ingester = await session.ingester()
  const builder = new NarrowBuilder(DERIVABLE)
  const maps = new SourceMaps()
  let records = 0
  let inSlice = 0
  let pending = 0
  let slices = 0
  const flush = async () => {
    const b = builder.take()
    await ingester.add(b, maps)
    inSlice += b.events
    records += b.events
    pending = 0
  }
  const endSlice = async () => {
    await flush()
    // Closing the appenders commits their rows: the slice and the entities it references are visible to the
    // connections that write slices. The next rows go to new appenders (the keys go on where they were).
    ingester.close()
    const n = slices++
    const own = Object.fromEntries(SLICE_TABLES.map((t) => [t, `${t}_${n}`])) as Slice['own']
    for (const t of SLICE_TABLES) {
      await session.connection.run(`ALTER TABLE ${q(t)} RENAME TO ${q(own[t])}`)
      await session.connection.run(createTableSql(t))
    }
    for (const t of GENERATION_TABLES) {
      await session.connection.run(`ALTER TABLE ${q(t)} RENAME TO ${q(chunkName(t, n))}`)
      await session.connection.run(createTableSql(t))
    }
    for (const c of chunks.droppable()) for (const t of GENERATION_TABLES) await session.connection.run(`DROP TABLE ${q(chunkName(t, c))}`)
    // The dropped chunks' pages, before this thread waits for a writer.
    purgeWhenLarge()
    const slice: Slice = {index: n, own, entities: chunks.end(n)}
    inSlice = 0
    await onSlice(slice)
  }
  try {
    for await (const batch of batches) {
      // A slice ends exactly after `sliceRecords` records: a batch may be split between two.
      for (let from = 0; from < batch.length;) {
        const n = Math.min(batch.length - from, sliceRecords - inSlice - pending)
        const part = n === batch.length ? batch : batch.slice(from, from + n)
        chunks.observe(part, slices)
        builder.addJoined(part)
        pending += n
        from += n
        if (inSlice + pending >= sliceRecords) await endSlice()
        else if (builder.ready) await flush()
      }
    }
    await flush()
    // The last slice; an empty one when there is no record at all (its Parquet file still has the columns).
    if (inSlice > 0 || slices === 0) await endSlice()
    ingester.close()
    // The generation tables' keys are checked as they are handed out (they are in chunks, some dropped).
    await session.checkKeys(new Set(GENERATION_TABLES))
    return records
  } catch (e) {
    try {
      ingester.close()
    } catch {
      // the appenders may be unusable after an error; the database is thrown away
    }
    throw e
  }
}

/** The COPY options of one Parquet file of the export (a compression DuckDB knows; rows per row group if not ours). */
export function parquetFileOptions(compression: string, rowGroupSize?: number): string {
  const options = [`FORMAT parquet`, `COMPRESSION ${compression}`, `ROW_GROUP_SIZE ${rowGroupSize ?? ROW_GROUP_ROWS}`]
  if (!rowGroupSize) options.push(`ROW_GROUP_SIZE_BYTES '${ROW_GROUP_BYTES}'`)
  return options.join(', ')
}

/**
 * Write the `events` columns of the batches as Parquet at `target`: one file, or with `partitionBy` a directory of
 * Hive-style partitions (`type=FF/date=2019-03-25/data_0.parquet`; the partition values are in the paths, as Hive
 * readers expect). Column names, types and values are those of the `events` view, rows in record order.
 */
export async function exportParquet(batches: AsyncIterable<Joined[]>, target: string, opts: ParquetExportOptions = {}): Promise<{records: number}> {
  const compression = (opts.compression ?? 'zstd').toLowerCase()
  if (!COMPRESSIONS.has(compression)) throw new QueryError(`unknown Parquet compression '${opts.compression}' (use one of ${[...COMPRESSIONS].join(', ')})`)
  if (opts.writers !== undefined && !(Number.isInteger(opts.writers) && opts.writers > 0)) throw new QueryError(`writers must be a positive integer (got ${opts.writers})`)
  if (opts.rowGroupSize !== undefined && !(Number.isInteger(opts.rowGroupSize) && opts.rowGroupSize > 0)) throw new QueryError(`row group size must be a positive integer (got ${opts.rowGroupSize})`)
  const keys = opts.partitionBy ?? []
  for (const k of keys) if (!(k in PARTITION_SQL)) throw new QueryError(`unknown partition key '${k}' (use ${Object.keys(PARTITION_SQL).join(', ')})`)
  const extra = keys.filter((k) => k !== 'type').map((k) => `${PARTITION_SQL[k]} AS ${q(k)}`)
  // `time` is written in microseconds: Spark (3.2 to 3.5) refuses Parquet's TIMESTAMP(NANOS) ("Illegal Parquet
  // type", SPARK-40819/SPARK-44988), and the exact nanoseconds are in `ts` anyway.
  const select = (s: Slice) => {
    const sql = sliceSelectSql(s.own._events, s.own._aux, s.entities)
    return `SELECT * REPLACE (${PARQUET_TIME} AS time)${extra.length > 0 ? `, ${extra.join(', ')}` : ''} FROM (${sql})`
  }
  const fileOptions = parquetFileOptions(compression, opts.rowGroupSize)
  const options = keys.length > 0 ? `${fileOptions}, PARTITION_BY (${keys.map(q).join(', ')})` : fileOptions

  const work = workDirFor(target)
  fs.mkdirSync(work)
  const t0 = process.hrtime.bigint()
  let session: QuerySession | undefined
  let writer: SliceWriter | undefined
  try {
    // One thread per query, so that each COPY keeps its slice's order; the parallelism is between slices.
    session = await QuerySession.open({memoryLimit: EXPORT_MEMORY, tempDirectory: path.join(work, 'spill'), threads: 1} satisfies SessionOptions)
    // Order is kept as described at the top; without the insertion order guarantee DuckDB streams row groups and
    // can bound them in bytes.
    await session.connection.run('SET GLOBAL preserve_insertion_order = false')
    await session.connection.run("SET GLOBAL disabled_optimizers = 'join_order,build_side_probe_side'")
    const connections: DuckDBConnection[] = []
    for (let i = 0; i < (opts.writers ?? WRITERS); i++) connections.push(await session.instance.connect())
    const chunks = new Chunks()
    const w = (writer = new SliceWriter(connections, work, select, options, keys.length > 0, (i) => chunks.written(i)))
    const records = await loadSlices(session, batches, opts.sliceRecords ?? (keys.length > 0 ? PARTITIONED_SLICE_RECORDS : SLICE_RECORDS), chunks, (s) => w.write(s))
    const t1 = process.hrtime.bigint()
    await w.finish()
    const t2 = process.hrtime.bigint()
    if (keys.length > 0) await regroupPartitions(connections, mergeDatasets(w.parts, target), fileOptions, (opts.rowGroupSize ?? ROW_GROUP_ROWS) / FRAGMENTED)
    else concatParquet(w.parts, target)
    if (process.env.SYSFLOW_QUERY_TIMING) {
      const ms = (a: bigint, b: bigint) => (Number(b - a) / 1e6).toFixed(0)
      process.stderr.write(`export timing: load ${ms(t0, t1)} ms, last slices ${ms(t1, t2)} ms, joining ${w.parts.length} parts ${ms(t2, process.hrtime.bigint())} ms\n`)
    }
    return {records}
  } finally {
    if (writer) {
      // After a failure COPYs may still run: let them end before their connections close.
      await writer.finish().catch(() => undefined)
      writer.close()
    }
    session?.close()
    fs.rmSync(work, {recursive: true, force: true})
  }
}

/**
 * Each slice puts a row group into every partition it has rows for, so a partition that few rows of each slice go
 * to (many dates, types or containers interleaved) ends up in hundreds of tiny row groups, which scans pay for.
 * Such files are rewritten whole, in one thread (so in order), with the export's options; the others stay as they
 * were joined. The rewriting costs at most one more encoding of the rows of the fragmented partitions.
 */
async function regroupPartitions(connections: readonly DuckDBConnection[], files: readonly string[], options: string, minRows: number): Promise<void> {
  const todo = files.filter((file) => {
    const {rows, rowGroups} = parquetShape(file)
    return rowGroups > 1 && rows / rowGroups < minRows
  })
  // One file at a time per connection (each in one thread, so in order), the connections side by side.
  await Promise.all(connections.map(async (c) => {
    for (let file = todo.shift(); file !== undefined; file = todo.shift()) {
      const tmp = `${file}.regroup`
      await c.run(`COPY (SELECT * FROM read_parquet(${lit(file)}, hive_partitioning = false)) TO ${lit(tmp)} (${options})`)
      fs.renameSync(tmp, file)
    }
  }))
}

/** Write the batches into a new DuckDB database file (the tables `sysflow query --db FILE` queries). */
export async function exportDuckDb(batches: AsyncIterable<Joined[]>, dbFile: string): Promise<{records: number}> {
  if (fs.existsSync(dbFile)) throw new QueryError(`${dbFile}: already exists`)
  const session = await QuerySession.open({db: dbFile, memoryLimit: EXPORT_MEMORY})
  let ok = false
  try {
    const records = await loadJoined(session, batches)
    await session.connection.run('CHECKPOINT')
    ok = true
    return {records}
  } finally {
    session.close()
    if (!ok) removeDb(dbFile)
  }
}
