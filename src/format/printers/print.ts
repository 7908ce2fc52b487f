// print: the joined records of some inputs, selected (time window, filter, limit) and rendered into a byte sink.
import {ATTRIBUTES, attributeNames, DEFAULT_KEYS, findAttribute} from '../attributes.js'
import {Joined} from '../join.js'
import {joinedBatches, PipelineOptions, PipelineStats} from '../pipeline.js'
import {TraceInput} from '../reader.js'
import {closestNames} from '../suggest.js'
import {ByteBuilder} from './bytes.js'
import {csvHeader, csvLine} from './csv.js'
import {printCsvColumns} from './csv-columns.js'
import {Column, columns, flatJsonLine, LineRenderer, nestedJsonLine} from './json.js'
import {StrPrinter} from './str.js'
import {TablePrinter} from './table.js'

export const PRINT_FORMATS = ['str', 'table', 'json', 'flatjson', 'csv'] as const
export type PrintFormat = (typeof PRINT_FORMATS)[number]

/** sysprint's default `str` columns, and its `-k` / `-K` variants (sysflow-format.md §5.2). */
export const STR_KEYS = ['idx', 'ts_uts', 'type', 'proc.exe', 'proc.args', 'pproc.pid', 'proc.pid', 'proc.tid', 'opflags', 'res', 'flow.rbytes', 'flow.wbytes', 'container.id'] as const
export const K8S_EVENT_KEYS = ['ts_uts', 'type', 'k8s.action', 'k8s.kind', 'k8s.msg'] as const
/**
 * `-o table`: sysprint's default columns with the time readable; the table leaves out what the terminal has no room
 * for, and says so (table.ts).
 */
export const TABLE_KEYS = ['ts', 'type', 'proc.exe', 'proc.args', 'pproc.pid', 'proc.pid', 'proc.tid', 'opflags', 'res', 'flow.rbytes', 'flow.wbytes', 'container.id'] as const
const TABLE_K8S_EVENT_KEYS = ['ts', 'type', 'k8s.action', 'k8s.kind', 'k8s.msg'] as const

/** Where output goes; write may ask the caller to wait (backpressure). The sink owns each chunk it is given. */
export interface ByteOutput {
  write(chunk: Buffer): void | Promise<void>
  /**
   * Optional: write a chunk that is only lent (the caller reuses its memory once this returns, or its promise
   * resolves). A printer then renders block after block into one warm buffer instead of fresh memory each time.
   */
  writeLent?(chunk: Buffer): void | Promise<void>
}

export class UnknownFieldError extends Error {
  constructor(readonly field: string, readonly suggestions: string[]) {
    super(`unknown field '${field}'${suggestions.length ? ` (did you mean ${suggestions.join(', ')}?)` : ''}; 'sysflow print --list' shows them all`)
    this.name = 'UnknownFieldError'
  }
}

export interface ColumnChoice {
  /** -c: explicit fields, in order. */
  fields?: readonly string[]
  /** -A: every field. */
  all?: boolean
  /** -k: add pod.name to the str columns. */
  pods?: boolean
  /** -K: the k8s event columns for str. */
  k8sEvents?: boolean
}

/** The output columns for a format, as sysprint chooses them; unknown fields throw UnknownFieldError. */
export function chooseColumns(format: PrintFormat, choice: ColumnChoice = {}): Column[] {
  let keys: readonly string[]
  if (choice.all) keys = DEFAULT_KEYS
  else if (choice.fields?.length) keys = choice.fields
  else if (choice.k8sEvents && format === 'str') keys = K8S_EVENT_KEYS
  else if (choice.k8sEvents && format === 'table') keys = TABLE_K8S_EVENT_KEYS
  else if (format === 'table') keys = choice.pods ? [...TABLE_KEYS, 'pod.name'] : TABLE_KEYS
  else if (format === 'str') keys = choice.pods ? [...STR_KEYS, 'pod.name'] : STR_KEYS
  else keys = DEFAULT_KEYS
  for (const k of keys) {
    if (!findAttribute(k)) throw new UnknownFieldError(k, closestNames(k, attributeNames()))
  }
  return columns(keys)
}

export interface PrintOptions extends PipelineOptions {
  format: PrintFormat
  columns?: Column[]
  /** Keep a record only if this holds. */
  filter?: (j: Joined) => boolean
  /** Keep records with since <= ts < until (nanoseconds). */
  since?: bigint
  until?: bigint
  /** Stop after this many records. */
  limit?: number
  /** Terminal width for str and table (default 80, sysprint's fallback). */
  termColumns?: number
  color?: boolean
  /** Render from joined record objects even where the columnar printer could (CSV without a filter): the reference. */
  rows?: boolean
}

export interface PrintResult extends PipelineStats {
  printed: number
}

/** Print the selected records of `inputs` in one format. Returns the pipeline's counters and how many printed. */
export async function printRecords(inputs: readonly TraceInput[], out: ByteOutput, opts: PrintOptions): Promise<PrintResult> {
  const cols = opts.columns ?? chooseColumns(opts.format)
  // A filter reads record objects: with one, CSV goes the row way too.
  if (opts.format === 'csv' && !opts.filter && !opts.rows) return printCsvColumns(inputs, out, opts, cols)
  const stats = new PipelineStats() as PrintResult
  stats.printed = 0
  const termColumns = opts.termColumns ?? 80
  const color = opts.color ?? false
  let line: LineRenderer | undefined
  let chunked: StrPrinter | TablePrinter | undefined
  switch (opts.format) {
    case 'json':
      line = nestedJsonLine(cols)
      break
    case 'flatjson':
      line = flatJsonLine(cols)
      break
    case 'csv':
      line = csvLine(cols)
      break
    case 'str':
      chunked = new StrPrinter(cols, {termColumns, color})
      break
    case 'table':
      chunked = new TablePrinter(cols, {termColumns, color})
      break
  }
  const newline = opts.format !== 'csv' // csv rows carry their CRLF
  const {filter, since, until} = opts
  const limit = opts.limit ?? Infinity
  let size = 1 << 16
  let first = true
  for await (const batch of joinedBatches(inputs, opts, stats)) {
    // A fresh buffer per batch, handed over to the sink: no copy of the output on its way out.
    const b = new ByteBuilder(size)
    if (first && opts.format === 'csv') b.text(csvHeader(cols))
    first = false
    for (const j of batch) {
      // Checked before a record is written, so that --limit 0 writes none (CSV keeps its header).
      if (stats.printed >= limit) break
      const ts = j.rec.ts
      if ((since !== undefined && ts < since) || (until !== undefined && ts >= until)) continue
      if (filter && !filter(j)) continue
      if (line) {
        line(j, b)
        if (newline) b.byte(0x0a)
      } else {
        const text = chunked!.add(j, stats.printed)
        if (text) b.text(text)
      }
      ++stats.printed
    }
    size = Math.max(size, b.pos + (b.pos >> 3))
    if (b.pos > 0) {
      const wait = out.write(b.view())
      if (wait) await wait
    }
    if (stats.printed >= limit) break
  }
  const b = new ByteBuilder(1 << 12)
  if (first && opts.format === 'csv') b.text(csvHeader(cols))
  const rest = chunked?.flush()
  if (rest) b.text(rest)
  if (b.pos > 0) await out.write(b.view())
  return stats
}

/** The attribute catalogue as `--list` shows it. */
export function listAttributes(json: boolean): string {
  if (json) {
    return JSON.stringify(ATTRIBUTES.map((a) => ({
      name: a.sf ?? a.key, sf: a.sf ?? null, sysprint: a.key ?? null, aliases: a.aliases ?? [], type: a.type,
      description: a.description, queryOnly: a.queryOnly ?? false, default: a.key !== undefined && !a.queryOnly,
    })), null, 2) + '\n'
  }
  const rows = ATTRIBUTES.map((a) => [a.sf ?? '', a.key ?? '', a.type, a.description + (a.queryOnly ? ' (query only)' : '')])
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['sf.* name', 'sysprint', 'type'][i].length))
  const fmt = (r: string[]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${r[3]}`.trimEnd()
  return [fmt(['sf.* name', 'sysprint', 'type', 'description']), fmt(['-'.repeat(w[0]), '-'.repeat(w[1]), '-'.repeat(w[2]), '-----------']), ...rows.map(fmt)].join('\n') + '\n'
}
