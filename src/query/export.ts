// Exports for `sysflow convert`: joined records -> Parquet (one file, or a Hive-style partitioned directory) or a
// DuckDB database file that `sysflow query --db` opens. Both go through the loader's narrow tables in a DuckDB
// database on disk (a temporary one next to the target for Parquet), with a memory limit, so memory stays
// bounded in the size of the trace; Parquet is then written by DuckDB's COPY.
import fs from 'node:fs'
import path from 'node:path'
import {NarrowBuilder} from '../format/arrow/index.js'
import {Joined} from '../format/join.js'
import {DERIVABLE, q} from './ddl.js'
import {SourceMaps} from './ingest.js'
import {QueryError} from './errors.js'
import {QuerySession, SessionOptions} from './session.js'

export type PartitionKey = 'type' | 'date' | 'hour' | 'node' | 'container'

export interface ParquetExportOptions {
  /** Hive-style directories by these keys, in this order (`type=FF/date=2019-03-25/...`). */
  partitionBy?: readonly PartitionKey[]
  /** Parquet compression codec (default zstd): zstd, snappy, gzip, lz4, brotli, uncompressed. */
  compression?: string
  /** Rows per row group (DuckDB's default when absent). */
  rowGroupSize?: number
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
    try {
      ingester.close()
    } catch {
      // rolled back below
    }
    await session.connection.run('ROLLBACK').catch(() => undefined)
    throw e
  }
}

function removeDb(file: string): void {
  for (const f of [file, `${file}.wal`]) fs.rmSync(f, {force: true})
}

/** A temporary database file next to `target` (same file system), with DuckDB's spill directory beside it. */
function tempDbFor(target: string): {db: string; tmpdir: string} {
  const dir = path.dirname(path.resolve(target))
  const base = `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}`
  return {db: path.join(dir, `${base}.duckdb`), tmpdir: path.join(dir, `${base}.tmp`)}
}

/**
 * Write the `events` columns of the batches as Parquet at `target`: one file, or with `partitionBy` a directory of
 * Hive-style partitions (`type=FF/date=2019-03-25/data_0.parquet`; the partition values are in the paths, as Hive
 * readers expect). Column names and types are those of the `events` view.
 */
export async function exportParquet(batches: AsyncIterable<Joined[]>, target: string, opts: ParquetExportOptions = {}): Promise<{records: number}> {
  const compression = (opts.compression ?? 'zstd').toLowerCase()
  if (!COMPRESSIONS.has(compression)) throw new QueryError(`unknown Parquet compression '${opts.compression}' (use one of ${[...COMPRESSIONS].join(', ')})`)
  if (opts.rowGroupSize !== undefined && !(Number.isInteger(opts.rowGroupSize) && opts.rowGroupSize > 0)) throw new QueryError(`row group size must be a positive integer (got ${opts.rowGroupSize})`)
  const keys = opts.partitionBy ?? []
  for (const k of keys) if (!(k in PARTITION_SQL)) throw new QueryError(`unknown partition key '${k}' (use ${Object.keys(PARTITION_SQL).join(', ')})`)
  const {db, tmpdir} = tempDbFor(target)
  const session = await QuerySession.open({db, memoryLimit: EXPORT_MEMORY, tempDirectory: tmpdir} satisfies SessionOptions)
  try {
    const records = await loadJoined(session, batches)
    const extra = keys.filter((k) => k !== 'type').map((k) => `${PARTITION_SQL[k]} AS ${q(k)}`)
    const select = `SELECT *${extra.length ? ', ' + extra.join(', ') : ''} FROM events`
    const options = [`FORMAT parquet`, `COMPRESSION ${compression}`]
    if (opts.rowGroupSize) options.push(`ROW_GROUP_SIZE ${opts.rowGroupSize}`)
    if (keys.length > 0) options.push(`PARTITION_BY (${keys.map(q).join(', ')})`, 'OVERWRITE_OR_IGNORE true')
    await session.connection.run(`COPY (${select}) TO '${target.replace(/'/g, "''")}' (${options.join(', ')})`)
    return {records}
  } finally {
    session.close()
    removeDb(db)
    fs.rmSync(tmpdir, {recursive: true, force: true})
  }
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
