// What every output of `convert` shares: the record selection (filter, time window, limit) over the joined view,
// inputs that count the bytes read (for progress), and the abort check.
import fs from 'node:fs'
import {Joined} from '../join.js'
import {joinedBatches, PipelineOptions, PipelineStats} from '../pipeline.js'
import {TraceInput} from '../reader.js'
import {ConvertAbortedError} from './errors.js'

/** Which event and flow records to keep. */
export interface RecordSelection {
  /** Keep a record only if this holds (on the joined view). */
  filter?: (j: Joined) => boolean
  /** Keep records with since <= ts < until (nanoseconds since the epoch). */
  since?: bigint
  until?: bigint
  /** Stop after this many kept records. */
  limit?: number
}

/** Whether a record passes the time window and the filter (the limit is the caller's). */
export function selects(sel: RecordSelection, j: Joined): boolean {
  const ts = j.rec.ts
  if ((sel.since !== undefined && ts < sel.since) || (sel.until !== undefined && ts >= sel.until)) return false
  return sel.filter === undefined || sel.filter(j)
}

/** Throws ConvertAbortedError when the signal has fired. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ConvertAbortedError(signal.reason)
}


/** The same inputs, reporting every chunk's size to `onBytes` as it is read. */
export function countingInputs(inputs: readonly TraceInput[], onBytes: (n: number) => void): TraceInput[] {
  return inputs.map((input) => ({
    name: input.name,
    async *open() {
      for await (const chunk of input.open()) {
        onBytes(chunk.length)
        yield chunk
      }
    },
  }))
}

/** Total size of the inputs that are regular files (stdin and pipes count 0). */
export function inputBytes(inputs: readonly TraceInput[]): number {
  let n = 0
  for (const i of inputs) {
    try {
      const st = fs.statSync(i.name)
      if (st.isFile()) n += st.size
    } catch {
      // not a file (stdin): unknown size
    }
  }
  return n
}

/**
 * The joined records that pass the selection, in batches (empty batches are dropped). Without a selection the
 * pipeline's batches pass through untouched. The signal is checked once per batch.
 */
export async function* selectedBatches(
  inputs: readonly TraceInput[],
  sel: RecordSelection,
  opts: PipelineOptions = {},
  stats = new PipelineStats(),
  signal?: AbortSignal,
): AsyncGenerator<Joined[]> {
  const limit = sel.limit ?? Infinity
  const plain = sel.filter === undefined && sel.since === undefined && sel.until === undefined
  let kept = 0
  if (limit <= 0) return
  for await (const batch of joinedBatches(inputs, opts, stats)) {
    checkAborted(signal)
    let out = batch
    if (!plain) out = batch.filter((j) => selects(sel, j))
    if (kept + out.length > limit) out = out.slice(0, limit - kept)
    kept += out.length
    if (out.length > 0) yield out
    if (kept >= limit) break
  }
  checkAborted(signal)
}
