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
import {DERIVABLE} from './ddl.js'

export interface ScanOptions extends ReadOptions {
  onError?: (e: TraceError) => void
  /** Unresolved references of an input (default: a warning per input, as the pipeline gives). */
  onUnresolved?: (file: string, u: Unresolved) => void
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

/** Scan inputs in order; each batch of narrow rows goes to `emit` (awaited: back-pressure). */
export async function scanTraces(
  inputs: readonly TraceInput[],
  opts: ScanOptions,
  stats: PipelineStats,
  emit: (b: NarrowBatch, builder: NarrowBuilder) => void | Promise<void>,
  range: ScanRange = {},
): Promise<void> {
  const builder = new NarrowBuilder(DERIVABLE)
  const tables = new JoinTables()
  const counts = new Array<number>(KIND_ABBREV.length).fill(0)
  const reportUnresolved = (file: string) => {
    const u = {...tables.unresolved}
    Object.assign(tables.unresolved, {process: 0, parent: 0, file: 0, container: 0, pod: 0})
    if (opts.onUnresolved) opts.onUnresolved(file, u)
    else {
      const text = describeUnresolved(u)
      if (text) opts.onWarning?.({file, offset: -1, message: text, skippedRecords: 0, skippedBytes: 0})
    }
  }
  // While a range looks for its first header, what it reads belongs to the range before: no warnings from there.
  let started = !range.fromHeader
  const readOpts: ReadOptions = {...opts, onWarning: (w: ReadWarning) => {
    if (started) opts.onWarning?.(range.offsetBase && w.offset >= 0 ? {...w, offset: w.offset + range.offsetBase} : w)
  }}
  const next = range.nextStarts ?? []
  const seen = new Array<number>(next.length).fill(0)
  let searched = 0
  try {
    input: for (const input of inputs) {
      builder.setTrace(input.name)
      // Each input is its own entity scope, as in the pipeline (join.ts).
      tables.reset(undefined)
      try {
        for await (const batch of readTrace(input, readOpts, stats)) {
          const offset = batch.offset + (range.offsetBase ?? 0)
          range.onBlock?.(offset)
          let from = 0
          const firstHeader = batch.records.findIndex((r) => r.kind === Kind.Header)
          if (!started) {
            if (firstHeader < 0) {
              if (++searched >= SEARCH_BLOCKS) break input
              continue
            }
            searched++
            started = true
            from = firstHeader
          }
          // Does a later range begin in this block?
          let to = batch.records.length
          let stop = false
          for (let j = 0; j < next.length && offset >= next[j]; j++) seen[j]++
          if (firstHeader >= from && firstHeader >= 0) {
            for (let j = 0; j < next.length && offset >= next[j]; j++) {
              if (seen[j] <= SEARCH_BLOCKS) {
                to = firstHeader
                stop = true
                break
              }
            }
          }
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
          if (stop) break input
        }
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
