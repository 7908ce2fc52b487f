// print: the joined records of some inputs, rendered line by line into a text sink.
import {DEFAULT_KEYS} from '../attributes.js'
import {joinedBatches, PipelineOptions, PipelineStats} from '../pipeline.js'
import {TraceInput} from '../reader.js'
import {ByteBuilder} from './bytes.js'
import {columns, flatJsonLine, nestedJsonLine} from './json.js'

/** Where output goes; write may ask the caller to wait (backpressure). The sink owns each chunk it is given. */
export interface TextSink {
  write(chunk: Buffer): void | Promise<void>
}

export interface PrintOptions extends PipelineOptions {
  format: 'flatjson' | 'json'
  /** Output keys (sysprint names); default: all of sysprint's keys. */
  keys?: readonly string[]
}

export async function printRecords(inputs: readonly TraceInput[], sink: TextSink, opts: PrintOptions, stats = new PipelineStats()): Promise<PipelineStats> {
  const cols = columns(opts.keys ?? DEFAULT_KEYS)
  let size = 1 << 16
  const line = opts.format === 'json' ? nestedJsonLine(cols) : flatJsonLine(cols)
  for await (const batch of joinedBatches(inputs, opts, stats)) {
    // A fresh buffer per batch, handed over to the sink: no copy of the output on its way out.
    const b = new ByteBuilder(size)
    for (const j of batch) {
      line(j, b)
      b.byte(0x0a)
    }
    size = Math.max(size, b.pos + (b.pos >> 3))
    const wait = sink.write(b.view())
    if (wait) await wait
  }
  return stats
}
