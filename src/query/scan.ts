// The reading half of the loader: inputs -> typed records -> joined view -> narrow batches. It is the pipeline of
// src/format/pipeline.ts (same join tables, same per-block batches, same warnings), except that the entity
// records are handed to the builder too, for the entity tables. Runs in the main thread or in a worker.
//
// Ranges. Every header resets the join tables, so the records from one header to the next can be joined without
// anything before them. A large file can therefore be read by several threads at once, each from a header on. The
// rule that decides where a range begins needs no coordination: range j (j > 0, nominal start S_j in bytes) begins
// at the first header in the first SEARCH_BLOCKS blocks that start at or after S_j; when there is none there, range
// j is empty and the range before it goes on. Every reader applies the same rule to the same blocks, so each record
// is read into exactly one range.
import {NarrowBatch, NarrowBuilder} from '../format/arrow/index.js'
import {ReadWarning, TraceError} from '../format/errors.js'
import {describeUnresolved, Joined, JoinTables, Unresolved} from '../format/join.js'
import {PipelineStats} from '../format/pipeline.js'
import {readTrace, ReadOptions, TraceInput} from '../format/reader.js'
import {EventRecord, isEvent, KIND_ABBREV, Kind} from '../format/records.js'
import {ColumnJoin} from '../format/columnar/join.js'
import {readColumns} from '../format/columnar/read.js'
import {DERIVABLE} from './ddl.js'

export interface ScanOptions extends ReadOptions {
  onError?: (e: TraceError) => void
  /** Unresolved references of an input (default: a warning per input, as the pipeline gives). */
  onUnresolved?: (file: string, u: Unresolved) => void
  /** Rows or columns (default: defaultDecode()). */
  decode?: ScanDecode
}

/** How many blocks after its nominal start a range looks for its first header. */
export const SEARCH_BLOCKS = 64

/** One range of one input (whole inputs when absent). */
export interface ScanRange {
  /** The range begins at the first header of its search window (not at the input's first record). */
  fromHeader?: boolean
  /** Nominal starts (file offsets) of the ranges after this one, ascending: the scan ends where the first that begins does. */
  nextStarts?: readonly number[]
  /** Added to the block offsets the reader reports (the input is a tail of the file behind a copy of its header). */
  offsetBase?: number
  /** The file offset of each block as it is read (for progress). */
  onBlock?: (offset: number) => void
}

/**
 * How blocks are decoded and joined: 'columns' (src/format/columnar: column tables, row indexes; the narrow rows,
 * entity tables included, are copied from the columns) or 'rows' (typed record objects and JoinTables, as the other
 * commands read). Both make the same narrow rows (test/query-columnar-load.test.ts).
 */
export type ScanDecode = 'columns' | 'rows'

/**
 * Bytes a reading thread needs for the column path to pay for its longer warm-up (its generated decoders and
 * loops are compiled as they run): measured slower on a 4 MB trace (about 0.3 CPU s), faster on 40 MB (about 1 s).
 */
export const COLUMNS_MIN_BYTES = 16 << 20

/**
 * The path for a thread that reads `bytes` (unknown: the row path): SYSFLOW_QUERY_DECODE=rows|columns if set, else
 * columns from COLUMNS_MIN_BYTES on.
 */
export function defaultDecode(bytes?: number): ScanDecode {
  const env = process.env.SYSFLOW_QUERY_DECODE
  if (env === 'rows' || env === 'columns') return env
  return bytes !== undefined && bytes >= COLUMNS_MIN_BYTES ? 'columns' : 'rows'
}

/** Scan inputs in order; each batch of narrow rows goes to `emit` (awaited: back-pressure). */
export async function scanTraces(
  inputs: readonly TraceInput[],
  opts: ScanOptions,
  stats: PipelineStats,
  emit: (b: NarrowBatch, builder: NarrowBuilder) => void | Promise<void>,
  range: ScanRange = {},
): Promise<void> {
  if ((opts.decode ?? defaultDecode()) === 'columns') return scanColumns(inputs, opts, stats, emit, range)
  const builder = new NarrowBuilder(DERIVABLE)
  const tables = new JoinTables()
  const counts = new Array<number>(KIND_ABBREV.length).fill(0)
  const reportUnresolved = unresolvedReporter(opts, tables.unresolved)
  // While a range looks for its first header, what it reads belongs to the range before: no warnings from there.
  const bounds = new RangeBounds(range)
  const readOpts = rangeReadOptions(opts, range, () => bounds.started)
  await eachInput(inputs, opts, stats, range, counts, reportUnresolved, builder, emit, async (input) => {
    // Each input is its own entity scope, as in the pipeline (join.ts).
    tables.reset(undefined)
    for await (const batch of readTrace(input, readOpts, stats)) {
      const offset = batch.offset + (range.offsetBase ?? 0)
      range.onBlock?.(offset)
      const span = bounds.of(offset, batch.records.findIndex((r) => r.kind === Kind.Header), batch.records.length)
      if (span === 'end') return true
      if (span === 'skip') continue
      const {from, to, stop} = span
      const out: Joined[] = []
      for (let i = from; i < to; i++) {
        const r = batch.records[i]
        counts[r.kind]++
        if (isEvent(r)) out.push(tables.join(r as EventRecord))
        else {
          tables.add(r)
          builder.addEntity(r)
        }
      }
      stats.events += out.length
      builder.addJoined(out)
      if (builder.ready) await emit(builder.take(), builder)
      if (stop) return true
    }
    return false
  })
}

/** Per input: the references the join could not resolve (opts.onUnresolved, else a warning), then counted anew. */
function unresolvedReporter(opts: ScanOptions, unresolved: Unresolved): (file: string) => void {
  return (file) => {
    const u = {...unresolved}
    Object.assign(unresolved, {process: 0, parent: 0, file: 0, container: 0, pod: 0})
    if (opts.onUnresolved) opts.onUnresolved(file, u)
    else {
      const text = describeUnresolved(u)
      if (text) opts.onWarning?.({file, offset: -1, message: text, skippedRecords: 0, skippedBytes: 0})
    }
  }
}

/** The reader's options for a range: warnings at the range's offsets, and none before it has `started`. */
function rangeReadOptions(opts: ScanOptions, range: ScanRange, started: () => boolean): ReadOptions {
  return {...opts, onWarning: (w: ReadWarning) => {
    if (started()) opts.onWarning?.(range.offsetBase && w.offset >= 0 ? {...w, offset: w.offset + range.offsetBase} : w)
  }}
}

/**
 * Which records of each block a range reads. Until it has started, a range looks for its first header (for
 * SEARCH_BLOCKS blocks at most, else it has nothing: 'end'); it stops at the first header of a block at or after the
 * start of a later range, if that range will find it there (within its own SEARCH_BLOCKS).
 */
class RangeBounds {
  started: boolean
  private searched = 0
  private readonly next: readonly number[]
  private readonly seen: number[]

  constructor(range: ScanRange) {
    this.started = !range.fromHeader
    this.next = range.nextStarts ?? []
    this.seen = new Array<number>(this.next.length).fill(0)
  }

  /** The block at `offset` of `count` records, its first header at `firstHeader` (-1: none). */
  of(offset: number, firstHeader: number, count: number): {from: number; to: number; stop: boolean} | 'skip' | 'end' {
    let from = 0
    if (!this.started) {
      if (firstHeader < 0) return ++this.searched >= SEARCH_BLOCKS ? 'end' : 'skip'
      this.searched++
      this.started = true
      from = firstHeader
    }
    // Does a later range begin in this block?
    const next = this.next
    for (let j = 0; j < next.length && offset >= next[j]; j++) this.seen[j]++
    if (firstHeader >= from && firstHeader >= 0) {
      for (let j = 0; j < next.length && offset >= next[j]; j++) {
        if (this.seen[j] <= SEARCH_BLOCKS) return {from, to: firstHeader, stop: true}
      }
    }
    return {from, to: count, stop: false}
  }
}

/**
 * The inputs in order, each read by `read` (true: the range is done, stop reading): a failing input goes to
 * opts.onError (strict: throws), its unresolved references are reported; then the builder's last batch, and the
 * counts by kind into stats (whatever happened).
 */
async function eachInput(
  inputs: readonly TraceInput[],
  opts: ScanOptions,
  stats: PipelineStats,
  range: ScanRange,
  counts: number[],
  reportUnresolved: (file: string) => void,
  builder: NarrowBuilder,
  emit: (b: NarrowBatch, builder: NarrowBuilder) => void | Promise<void>,
  read: (input: TraceInput) => Promise<boolean>,
): Promise<void> {
  try {
    for (const input of inputs) {
      builder.setTrace(input.name)
      try {
        if (await read(input)) break
      } catch (e) {
        if (opts.strict || !(e instanceof TraceError) || !opts.onError) throw e
        opts.onError(range.offsetBase && e.offset >= 0 ? relocate(e, range.offsetBase) : e)
      } finally {
        reportUnresolved(input.name)
      }
    }
    await emit(builder.take(), builder)
  } finally {
    counts.forEach((n, k) => {
      if (n > 0) stats.counts[KIND_ABBREV[k]] = (stats.counts[KIND_ABBREV[k]] ?? 0) + n
    })
  }
}

/** The same error at a file offset moved by `base` (a range read behind a copy of the header). */
function relocate(e: TraceError, base: number): TraceError {
  const Ctor = e.constructor as new (file: string, offset: number, problem: string) => TraceError
  return new Ctor(e.file, e.offset + base, e.problem)
}

/** scanTraces over column tables: the same ranges, warnings, counts and narrow rows. */
async function scanColumns(
  inputs: readonly TraceInput[],
  opts: ScanOptions,
  stats: PipelineStats,
  emit: (b: NarrowBatch, builder: NarrowBuilder) => void | Promise<void>,
  range: ScanRange,
): Promise<void> {
  const builder = new NarrowBuilder(DERIVABLE)
  const join = new ColumnJoin()
  const counts = new Array<number>(KIND_ABBREV.length).fill(0)
  const reportUnresolved = unresolvedReporter(opts, join.unresolved)
  const bounds = new RangeBounds(range)
  const readOpts = rangeReadOptions(opts, range, () => bounds.started)
  await eachInput(inputs, opts, stats, range, counts, reportUnresolved, builder, emit, async (input) => {
    join.reset()
    for await (const b of readColumns(input, readOpts, stats)) {
      const block = b.block
      const offset = b.offset + (range.offsetBase ?? 0)
      range.onBlock?.(offset)
      // Record indexes here count the members we do not read too (seqKind 255); they are neither joined nor counted.
      let firstHeader = -1
      if (block.kindCounts[Kind.Header] > 0) {
        for (let k = 0; k < block.count; k++) {
          if (block.seqKind[k] === Kind.Header) {
            firstHeader = k
            break
          }
        }
      }
      const span = bounds.of(offset, firstHeader, block.count)
      if (span === 'end') return true
      if (span === 'skip') continue
      const {from, to, stop} = span
      // The decoder counted the block's records by kind; a part of a block is counted here.
      if (from === 0 && to === block.count) for (let k = 0; k < counts.length; k++) counts[k] += block.kindCounts[k]
      else {
        for (let k = from; k < to; k++) {
          const kind = block.seqKind[k]
          if (kind !== 255) counts[kind]++
        }
      }
      const joined = join.join(b.file, offset, block, from, to)
      // Entities in file order (the builder keys them by scope and row, and copies them from their columns), then the events.
      for (let e = 0; e < joined.entSeq.length; e++) builder.addEntityColumns(joined.entScope[e], block.seqKind[joined.entSeq[e]], joined.entRow[e])
      for (const seg of joined.segments) stats.events += seg.to - seg.from
      builder.addJoinedColumns(joined)
      // The builder copied what it needs: the block's tables may be reused.
      joined.release()
      if (builder.ready) await emit(builder.take(), builder)
      if (stop) return true
    }
    return false
  })
}
