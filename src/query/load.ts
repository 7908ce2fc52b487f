// The loader: traces -> narrow batches -> DuckDB, streamed batch by batch in bounded memory (no per-row SQL, no
// CSV/JSON detour). Small inputs load in this thread; large files are read by worker threads (a file is split
// into byte ranges that start at a header, see ./workers.ts) while this thread only moves their columns into
// DuckDB. Everything a load adds is one transaction: an error that ends it leaves the database as it was.
import fs from 'node:fs'
import os from 'node:os'
import {TraceInput} from '../format/reader.js'
import {PipelineStats} from '../format/pipeline.js'
import {KIND_ABBREV} from '../format/records.js'
import {Ingester, SourceMaps} from './ingest.js'
import {defaultDecode, scanTraces, ScanOptions} from './scan.js'
import {QuerySession} from './session.js'
import {recordSources, TraceSource} from './sources.js'

export interface LoadProgress {
  /** Event and flow records in the database so far (this load). */
  events: number
  /** Input bytes read so far, and in all (0 when unknown, e.g. stdin). */
  bytes: number
  totalBytes: number
}

export interface LoadOptions extends ScanOptions {
  /** Worker threads reading the inputs: 0 reads in this thread; default: by input size and cores. */
  workers?: number
  /** Called now and then while loading. */
  onProgress?: (p: LoadProgress) => void
  /** Workers: split files into ranges of at least this many bytes (default 4 MiB; tests use less). */
  rangeBytes?: number
  /** The identities of the inputs, recorded in the database with the load (sources.ts). */
  sources?: readonly TraceSource[]
}

export interface LoadResult {
  /** Inputs read. */
  files: number
  /** Records read, of every type. */
  records: number
  /** Event and flow records loaded (rows of `events`). */
  events: number
  /** Records per type abbreviation (H, P, FF, ...). */
  counts: Record<string, number>
  seconds: number
}

/** Inputs at least this big (in all) are read by worker threads. */
const WORKER_THRESHOLD = 8 << 20

/**
 * How many worker threads read when the caller does not say (0: this thread reads). They pay off on a large input
 * when cores are free, one being left to this thread (it ingests) and the collector; on a busy machine one thread
 * does better. On two cores, reading here took 2.7-3.1 s and 3.6-4.0 CPU s for the 2M-record bench trace, one
 * worker 3.0-3.7 s and 4.8-5.6 CPU s, two 3.3-3.6 s and 6.2-7.0 CPU s.
 */
export function autoWorkers(totalBytes: number, cores: number, loadAverage: number): number {
  return totalBytes >= WORKER_THRESHOLD && cores >= 3 && loadAverage < cores * 0.75 ? Math.min(cores - 1, 4) : 0
}

function fileSize(input: TraceInput): number | undefined {
  try {
    const st = fs.statSync(input.name)
    return st.isFile() ? st.size : undefined
  } catch {
    return undefined
  }
}

/** Load traces into the session's database. */
export async function loadTraces(session: QuerySession, inputs: readonly TraceInput[], opts: LoadOptions = {}): Promise<LoadResult> {
  const t0 = process.hrtime.bigint()
  const sizes = inputs.map(fileSize)
  const totalBytes = sizes.every((s) => s !== undefined) ? sizes.reduce<number>((a, b) => a + b!, 0) : 0
  const workers = opts.workers ?? autoWorkers(totalBytes, os.availableParallelism(), os.loadavg()[0])
  const useWorkers = workers > 0 && totalBytes > 0 && inputs.every((i) => fileSize(i) !== undefined)
  // Rows or columns, by what each reading thread reads (the column path pays off on large inputs only).
  opts = {...opts, decode: opts.decode ?? defaultDecode(totalBytes > 0 ? totalBytes / (useWorkers ? workers : 1) : undefined)}

  await session.connection.run('BEGIN TRANSACTION')
  const ingester = await session.ingester()
  let result: Omit<LoadResult, 'seconds'>
  try {
    if (useWorkers) {
      const {loadWithWorkers} = await import('./workers.js')
      result = await loadWithWorkers(ingester, inputs.map((i, n) => ({name: i.name, size: sizes[n]!})), {...opts, workers, totalBytes})
    } else {
      const stats = new PipelineStats()
      const maps = new SourceMaps()
      let events = 0
      let last = 0
      await scanTraces(inputs, opts, stats, async (b, builder) => {
        await ingester.add(b, maps)
        builder.recycle()
        events += b.events
        const now = Date.now()
        if (opts.onProgress && now - last >= 100) {
          last = now
          opts.onProgress({events, bytes: stats.bytes, totalBytes})
        }
      })
      result = {files: stats.files, records: Object.values(stats.counts).reduce((a, b) => a + b, 0), events, counts: sortCounts(stats.counts)}
    }
    const t1 = process.hrtime.bigint()
    ingester.close()
    const t2 = process.hrtime.bigint()
    await session.checkKeys()
    await recordSources(session.connection, opts.sources ?? [])
    const t3 = process.hrtime.bigint()
    await session.connection.run('COMMIT')
    const t4 = process.hrtime.bigint()
    if (process.env.SYSFLOW_QUERY_TIMING) {
      const ms = (a: bigint, b: bigint) => (Number(b - a) / 1e6).toFixed(0)
      process.stderr.write(`load timing: read+ingest ${ms(t0, t1)} ms, appender close ${ms(t1, t2)} ms, key check ${ms(t2, t3)} ms, commit ${ms(t3, t4)} ms\n`)
    }
  } catch (e) {
    await rollbackLoad(session, ingester)
    throw e
  }
  return {...result, seconds: Number(process.hrtime.bigint() - t0) / 1e9}
}

/** Undo a load that failed: its appenders closed (they may be unusable after the error), its transaction rolled back. */
export async function rollbackLoad(session: QuerySession, ingester: Ingester): Promise<void> {
  try {
    ingester.close()
  } catch {
    // the rollback drops their rows anyway
  }
  await session.connection.run('ROLLBACK').catch(() => undefined)
}

/** Counts in the union's order (H, C, P, F, PE, ...). */
export function sortCounts(c: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of KIND_ABBREV) if (c[k]) out[k] = c[k]
  return out
}
