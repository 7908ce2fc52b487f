// print: the joined records of some inputs, rendered line by line into a text sink.
import {DEFAULT_KEYS} from '../attributes.js'
import {joinedBatches, PipelineOptions, PipelineStats} from '../pipeline.js'
import {TraceInput} from '../reader.js'
import {columns, flatJsonLine, nestedJsonLine} from './json.js'

/** Where text goes; write may ask the caller to wait (backpressure). */
export interface TextSink {
  write(text: string): void | Promise<void>
}

export interface PrintOptions extends PipelineOptions {
  format: 'flatjson' | 'json'
  /** Output keys (sysprint names); default: all of sysprint's keys. */
  keys?: readonly string[]
}

export async function printRecords(inputs: readonly TraceInput[], sink: TextSink, opts: PrintOptions, stats = new PipelineStats()): Promise<PipelineStats> {
  const cols = columns(opts.keys ?? DEFAULT_KEYS)
  const line = opts.format === 'json' ? nestedJsonLine(cols) : flatJsonLine(cols)
  for await (const batch of joinedBatches(inputs, opts, stats)) {
    let text = ''
    for (const j of batch) text += line(j) + '\n'
    const wait = sink.write(text)
    if (wait) await wait
  }
  return stats
}
