// Traces -> one Parquet file of `events` rows, from the joined column tables (./events.ts), with the selection a
// conversion has without a filter (time window, limit). A filter needs record objects: that conversion goes
// through DuckDB (src/query/export.ts), as does a partitioned one.
import fs from 'node:fs'
import {joinedColumns} from '../columnar/read.js'
import {LongColumn} from '../columnar/columns.js'
import {PipelineOptions, PipelineStats} from '../pipeline.js'
import {TraceInput} from '../reader.js'
import {EVENTS_SPEC} from '../columnar/columns.js'
import {EventsParquetOptions, EventsParquetWriter} from './events.js'

export interface ParquetWriteOptions extends PipelineOptions, EventsParquetOptions {
  since?: bigint
  until?: bigint
  limit?: number
  /** Checked once per block: throws what `check` throws. */
  check?: () => void
}

const TS = EVENTS_SPEC.col('ts')

/** Write the event and flow records of `inputs` to a new Parquet file at `path`. Returns the rows written. */
export async function writeEventsParquet(inputs: readonly TraceInput[], path: string, opts: ParquetWriteOptions = {}, stats = new PipelineStats()): Promise<{records: number}> {
  const {since, until} = opts
  const limit = opts.limit ?? Infinity
  const w = new EventsParquetWriter(path, opts)
  let ok = false
  try {
    if (limit > 0) {
      for await (const j of joinedColumns(inputs, opts, stats)) {
        opts.check?.()
        const tsCol = j.block.events.cols[TS] as LongColumn | undefined
        for (const seg of j.segments) {
          // Runs of selected rows, up to the limit.
          let run = seg.from
          for (let i = seg.from; i <= seg.to; i++) {
            let keep = i < seg.to && w.written + (i - run) < limit
            if (keep && (since !== undefined || until !== undefined)) {
              // As the row path compares rec.ts (absent: undefined, null: null), whatever it holds.
              const ts = (tsCol === undefined ? undefined : tsCol.get(i)) as bigint
              keep = !((since !== undefined && ts < since) || (until !== undefined && ts >= until))
            }
            if (keep) continue
            if (i > run) w.addRange(j, seg.scope, run, i)
            run = i + 1
            if (w.written >= limit) break
          }
          if (w.written >= limit) break
        }
        j.release()
        await w.ready()
        if (w.written >= limit) break
      }
      opts.check?.()
    }
    await w.close()
    ok = true
    return {records: w.written}
  } finally {
    if (!ok) {
      await w.abandon().catch(() => undefined)
      fs.rmSync(path, {force: true})
    }
  }
}
