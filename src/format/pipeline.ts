// The shared pipeline: inputs -> typed records -> joined view, in batches. Every command reads through here.
import {JoinTables, Joined, describeUnresolved} from './join.js'
import {ReadOptions, ReadStats, readTraces, TraceInput} from './reader.js'
import {ReadWarning, TraceError} from './errors.js'
import {EventRecord, isEvent, KIND_ABBREV} from './records.js'

export interface PipelineOptions extends ReadOptions {
  onError?: (e: TraceError) => void
}

export class PipelineStats extends ReadStats {
  /** Records per sysprint type abbreviation (H, P, FF, ...). */
  readonly counts: Record<string, number> = {}
  events = 0
}

/**
 * Joined event and flow records, one batch per block. Entities are taken into the join tables (reset at each
 * header and each input) and not yielded. At the end, unresolved references are reported once per input as a warning.
 */
export async function* joinedBatches(inputs: readonly TraceInput[], opts: PipelineOptions = {}, stats = new PipelineStats()): AsyncGenerator<Joined[]> {
  const tables = new JoinTables()
  const counts = new Array<number>(KIND_ABBREV.length).fill(0)
  let lastFile: string | undefined
  const flushUnresolved = (file: string | undefined) => {
    const text = describeUnresolved(tables.unresolved)
    if (file !== undefined && text) {
      const w: ReadWarning = {file, offset: -1, message: text, skippedRecords: 0, skippedBytes: 0}
      opts.onWarning?.(w)
    }
    Object.assign(tables.unresolved, {process: 0, parent: 0, file: 0, container: 0, pod: 0})
  }
  // Each input is its own entity scope: its references never resolve to another input's entities.
  const onOpen: PipelineOptions['onOpen'] = (info) => {
    flushUnresolved(lastFile)
    lastFile = info.file
    tables.reset(undefined)
    opts.onOpen?.(info)
  }
  try {
    for await (const batch of readTraces(inputs, {...opts, onOpen}, stats)) {
      const out: Joined[] = []
      for (const r of batch.records) {
        counts[r.kind]++
        if (isEvent(r)) out.push(tables.join(r as EventRecord))
        else tables.add(r)
      }
      stats.events += out.length
      if (out.length > 0) yield out
    }
  } finally {
    flushUnresolved(lastFile)
    counts.forEach((n, k) => {
      if (n > 0) stats.counts[KIND_ABBREV[k]] = n
    })
  }
}
