// Rendering query results: a DuckDB-style box table (names with types under them, at most N rows with the middle
// elided, a row-count footer, fitted to the terminal width), a JSON array, NDJSON, CSV with a header row, or a
// Markdown table. Results stream chunk by chunk; only the table keeps rows (its first and last ones). BIGINT and
// HUGEINT values stay exact; TIMESTAMP_NS values are shown to the nanosecond.
import {
  DuckDBDataChunk, DuckDBListType, DuckDBListValue, DuckDBMapValue, DuckDBResult, DuckDBStructType, DuckDBStructValue,
  DuckDBTimestampNanosecondsValue, DuckDBType, DuckDBTypeId, DuckDBValue, DuckDBArrayType, DuckDBArrayValue, DuckDBMapType,
} from '@duckdb/node-api'
import {elide, wrapWords} from '../format/printers/elide.js'
import {escapeControl} from '../format/printers/escape.js'

export const OUTPUT_FORMATS = ['table', 'json', 'ndjson', 'csv', 'markdown'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/** Where rendered text goes: write() may ask to wait (back-pressure), as the CLI's Output does. */
export interface TextSink {
  write(text: string): void | Promise<void>
}

export interface RenderOptions {
  format: OutputFormat
  /** table: rows shown at most (default 40); the middle ones are elided. */
  maxRows?: number
  /** table: show every row. */
  all?: boolean
  /** table: the terminal width to fit (default: no limit). */
  width?: number
}

/** A result to render: column names and types, and its chunks. */
export interface ResultSource {
  names: readonly string[]
  types: readonly DuckDBType[]
  chunks: AsyncIterable<DuckDBValue[][]>
}

/** The rows of a DuckDB result, chunk by chunk. */
export function resultSource(result: DuckDBResult): ResultSource {
  return {
    names: result.columnNames(),
    types: result.columnTypes(),
    chunks: (async function* () {
      for (;;) {
        const chunk: DuckDBDataChunk | null = await result.fetchChunk()
        if (!chunk || chunk.rowCount === 0) return
        yield chunk.getRows()
      }
    })(),
  }
}

// --- values -----------------------------------------------------------------------------------------------------

const pad2 = (n: number) => String(n).padStart(2, '0')

/** A TIMESTAMP_NS as `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` (all nine digits), exact. */
export function timestampNs(v: DuckDBTimestampNanosecondsValue): string {
  if (!v.isFinite) return v.nanos > 0n ? 'infinity' : '-infinity'
  let sub = v.nanos % 1_000_000_000n
  if (sub < 0n) sub += 1_000_000_000n
  const seconds = (v.nanos - sub) / 1_000_000_000n
  const d = new Date(Number(seconds) * 1000)
  const year = d.getUTCFullYear()
  const y = year < 0 ? `-${String(-year).padStart(4, '0')}` : String(year).padStart(4, '0')
  return `${y}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${sub.toString().padStart(9, '0')}`
}

const isJsonType = (t: DuckDBType | undefined): boolean => t?.alias === 'JSON'

/** The text of a value, as DuckDB shows it (NULL as undefined). */
export function valueText(v: DuckDBValue, t?: DuckDBType): string | undefined {
  if (v === null || v === undefined) return undefined
  if (v instanceof DuckDBTimestampNanosecondsValue) return timestampNs(v)
  if (typeof v === 'string') return v
  if (typeof v === 'number' && t?.typeId === DuckDBTypeId.DOUBLE && Number.isInteger(v) && Math.abs(v) < 1e21) return v.toFixed(1)
  return String(v)
}

/** A JSON text of a value: numbers exact (bigint), JSON columns embedded as they are. */
export function valueJson(v: DuckDBValue, t?: DuckDBType): string {
  if (v === null || v === undefined) return 'null'
  switch (typeof v) {
    case 'bigint':
      return v.toString()
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null'
    case 'boolean':
      return v ? 'true' : 'false'
    case 'string':
      return isJsonType(t) ? v : JSON.stringify(v)
    default:
  }
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) {
    const et = t instanceof DuckDBListType || t instanceof DuckDBArrayType ? t.valueType : undefined
    return `[${v.items.map((x) => valueJson(x, et)).join(',')}]`
  }
  if (v instanceof DuckDBStructValue) {
    const st = t instanceof DuckDBStructType ? t : undefined
    return `{${Object.entries(v.entries).map(([k, x]) => `${JSON.stringify(k)}:${valueJson(x, st?.typeForEntry(k))}`).join(',')}}`
  }
  if (v instanceof DuckDBMapValue) {
    const vt = t instanceof DuckDBMapType ? t.valueType : undefined
    return `{${v.entries.map((e) => `${JSON.stringify(valueText(e.key) ?? 'NULL')}:${valueJson(e.value, vt)}`).join(',')}}`
  }
  if (v instanceof DuckDBTimestampNanosecondsValue) return JSON.stringify(timestampNs(v))
  if (t?.typeId === DuckDBTypeId.DECIMAL) return String(v)
  return JSON.stringify(String(v))
}

// --- formats ----------------------------------------------------------------------------------------------------

const NUMERIC = new Set<DuckDBTypeId>([
  DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL, DuckDBTypeId.BIGNUM,
])
const isNumeric = (t: DuckDBType): boolean => NUMERIC.has(t.typeId)

const SHORT_TYPES: Record<string, string> = {
  BIGINT: 'int64', INTEGER: 'int32', SMALLINT: 'int16', TINYINT: 'int8', HUGEINT: 'int128',
  UBIGINT: 'uint64', UINTEGER: 'uint32', USMALLINT: 'uint16', UTINYINT: 'uint8', UHUGEINT: 'uint128',
}

/** The type name the table shows under a column name (DuckDB's CLI style: `int64`, `varchar`, `json`, `varchar[]`). */
export function typeLabel(t: DuckDBType): string {
  if (t.alias) return t.alias.toLowerCase()
  if (t instanceof DuckDBListType) return `${typeLabel(t.valueType)}[]`
  const s = t.toString()
  return SHORT_TYPES[s] ?? s.toLowerCase()
}

/** Render a result to `out` in the chosen format; returns the number of rows. */
export async function renderResult(src: ResultSource, out: TextSink, opts: RenderOptions): Promise<{rows: number}> {
  switch (opts.format) {
    case 'json':
      return renderJson(src, out, true)
    case 'ndjson':
      return renderJson(src, out, false)
    case 'csv':
      return renderCsv(src, out)
    case 'markdown':
      return renderMarkdown(src, out)
    case 'table':
      return renderTable(src, out, opts)
  }
}

async function renderJson(src: ResultSource, out: TextSink, array: boolean): Promise<{rows: number}> {
  const keys = src.names.map((n) => `${JSON.stringify(n)}:`)
  let rows = 0
  for await (const chunk of src.chunks) {
    let text = ''
    for (const row of chunk) {
      const obj = `{${row.map((v, i) => keys[i] + valueJson(v, src.types[i])).join(',')}}`
      text += array ? `${rows === 0 ? '[' : ',\n'}${obj}` : `${obj}\n`
      rows++
    }
    if (text) await out.write(text)
  }
  if (array) await out.write(rows === 0 ? '[]\n' : ']\n')
  return {rows}
}

/** RFC 4180 field: quoted when it holds a comma, a quote or a line break (or spaces at either end). */
function csvField(s: string | undefined): string {
  if (s === undefined) return ''
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

async function renderCsv(src: ResultSource, out: TextSink): Promise<{rows: number}> {
  await out.write(`${src.names.map(csvField).join(',')}\n`)
  let rows = 0
  for await (const chunk of src.chunks) {
    let text = ''
    for (const row of chunk) {
      text += `${row.map((v, i) => csvField(valueText(v, src.types[i]))).join(',')}\n`
      rows++
    }
    if (text) await out.write(text)
  }
  return {rows}
}

const mdCell = (s: string | undefined): string => (s === undefined ? 'NULL' : escapeControl(s).replace(/\|/g, '\\|'))

async function renderMarkdown(src: ResultSource, out: TextSink): Promise<{rows: number}> {
  await out.write(`| ${src.names.map(mdCell).join(' | ')} |\n|${src.types.map((t) => (isNumeric(t) ? '---:' : '---')).join('|')}|\n`)
  let rows = 0
  for await (const chunk of src.chunks) {
    let text = ''
    for (const row of chunk) {
      text += `| ${row.map((v, i) => mdCell(valueText(v, src.types[i]))).join(' | ')} |\n`
      rows++
    }
    if (text) await out.write(text)
  }
  return {rows}
}

// --- the box table --------------------------------------------------------------------------------------------

const MAX_CELL = 50
const MIN_CELL = 3
/** The footer names at most this many left-out columns of a kind (else it counts them). */
const NAMED_LEFT_OUT = 6

const chars = (s: string): string[] => Array.from(s)
const width = (s: string): number => chars(s).length


function center(s: string, w: number): string {
  const gap = w - width(s)
  const left = Math.floor(gap / 2)
  return ' '.repeat(left) + s + ' '.repeat(gap - left)
}
const leftPad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - width(s)))
const right = (s: string, w: number): string => ' '.repeat(Math.max(0, w - width(s))) + s

const plural = (n: number, one: string, many: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`

async function renderTable(src: ResultSource, out: TextSink, opts: RenderOptions): Promise<{rows: number}> {
  const max = opts.all ? Infinity : Math.max(1, opts.maxRows ?? 40)
  const headCount = Math.ceil(max / 2)
  const tailCount = max - headCount
  // NULL stays undefined until the layout: a column NULL on every shown row gives way first.
  const cell = (v: DuckDBValue, i: number): string | undefined => {
    const s = valueText(v, src.types[i])
    return s === undefined ? undefined : escapeControl(s)
  }
  const head: (string | undefined)[][] = []
  let tail: (string | undefined)[][] = []
  let rows = 0
  for await (const chunk of src.chunks) {
    for (const row of chunk) {
      rows++
      if (head.length < headCount) head.push(row.map(cell))
      else if (tailCount > 0) {
        tail.push(row.map(cell))
        if (tail.length > tailCount * 2) tail = tail.slice(-tailCount)
      }
    }
  }
  if (tail.length > tailCount) tail = tail.slice(-tailCount)
  const elided = rows > head.length + tail.length
  const allNull = src.names.map((_, i) => head.every((r) => r[i] === undefined) && tail.every((r) => r[i] === undefined))
  const shown = (r: (string | undefined)[]) => r.map((c) => c ?? 'NULL')
  await out.write(boxTable(src.names, src.types.map(typeLabel), src.types.map(isNumeric), head.map(shown), tail.map(shown), elided, rows, opts.width, allNull))
  return {rows}
}

type TableCol = {w: number; name: string; type: string; num: boolean; index: number} | 'gap'

/** Types whose values are never cut (like numbers): a cut time or id loses its end. */
const WHOLE_TYPE = /^(timestamp|date|time|interval|uuid)/

/**
 * The box table text, fitted to `termWidth`: numbers and times keep their full width; text is cut in the middle,
 * keeping its end; when that is not enough, columns NULL on every shown row are left out first, then columns from
 * the middle (a `…` column stands for them), and the footer names them.
 */
export function boxTable(names: readonly string[], types: readonly string[], numeric: readonly boolean[], head: string[][], tail: string[][], elided: boolean, rows: number, termWidth?: number, allNull?: readonly boolean[]): string {
  const all = [...head, ...tail]
  const whole = names.map((_, i) => numeric[i] || WHOLE_TYPE.test(types[i]))
  const widths = names.map((n, i) => Math.max(width(n), width(types[i]), ...all.map((r) => (whole[i] ? width(r[i]) : Math.min(width(r[i]), MAX_CELL))), elided ? 1 : 0))
  const total = (idx: number[], w: readonly number[]) => idx.reduce((a, i) => a + w[i] + 3, 1) + (idx.length < names.length ? 4 : 0)
  let shown = names.map((_, i) => i)
  const nullOnly = names.map((_, i) => all.length > 0 && (allNull?.[i] ?? false))
  if (termWidth !== undefined) {
    // Text may shrink to the width of its name and type (at least MIN_CELL, at most 12); numbers and times may not.
    const floor = names.map((n, i) => (whole[i] ? widths[i] : Math.min(widths[i], Math.max(MIN_CELL, Math.min(Math.max(width(n), width(types[i])), 12)))))
    // Leave columns out until the rest fits: NULL-only ones first (they show nothing), from the right, then from
    // the middle until the rest fits at their floors.
    // NULL-only columns do not take room that text would need: they go as soon as the natural widths do not fit.
    for (let i = names.length - 1; i >= 0 && total(shown, widths) > termWidth; i--) if (nullOnly[i] && shown.length > 1) shown = shown.filter((k) => k !== i)
    const middle: number[] = []
    while (shown.length > 1 && total(shown, floor) > termWidth) {
      middle.push(shown[Math.floor(shown.length / 2)])
      shown = shown.filter((_, k) => k !== Math.floor(shown.length / 2))
    }
    // A narrow column left out early may fit again once wider ones went (the last left out first).
    for (let k = middle.length - 1; k >= 0; k--) {
      const back = [...shown, middle[k]].sort((a, b) => a - b)
      if (total(back, floor) <= termWidth) shown = back
    }
    // Then shrink the widest text first.
    let sum = total(shown, widths)
    while (sum > termWidth) {
      let widest = -1
      for (const i of shown) if (widths[i] > floor[i] && (widest < 0 || widths[i] > widths[widest])) widest = i
      if (widest < 0) break
      widths[widest]--
      sum--
    }
    if (sum > termWidth) widths[shown[0]] = Math.max(MIN_CELL, widths[shown[0]] - (sum - termWidth))
  }
  const left = names.map((_, i) => i).filter((i) => !shown.includes(i))
  const cols: TableCol[] = shown.map((i) => ({w: widths[i], name: names[i], type: types[i], num: numeric[i], index: i}))
  if (shown.length < names.length) {
    const at = shown.findIndex((c, k) => k > 0 && c !== shown[k - 1] + 1)
    cols.splice(at >= 0 ? at : cols.length, 0, 'gap')
  }
  let foot = plural(rows, 'row', 'rows')
  if (elided) foot += ` (${(head.length + tail.length).toLocaleString('en-US')} shown)`
  if (shown.length < names.length) foot += `  ${plural(names.length, 'column', 'columns')} (${shown.length.toLocaleString('en-US')} shown)`
  const nullLeft = left.filter((i) => nullOnly[i])
  const wideLeft = left.filter((i) => !nullOnly[i])
  // Name a few; of many (select * over a wide table), say how many.
  const which = (idx: number[]) => (idx.length <= NAMED_LEFT_OUT ? idx.map((i) => names[i]).join(', ') : plural(idx.length, 'column', 'columns'))
  if (nullLeft.length > 0) foot += `; NULL on every shown row: ${which(nullLeft)}`
  if (wideLeft.length > 0) foot += `; left out for width: ${which(wideLeft)}`
  const cw = (c: TableCol) => (c === 'gap' ? 1 : c.w)
  let inner = cols.reduce((a, c) => a + cw(c) + 3, -1)
  // The footer wraps inside the box; a narrow box widens for it, up to the terminal.
  const maxInner = termWidth === undefined ? Infinity : termWidth - 2
  const footLines = wrapWords(foot, (inner >= 40 ? inner : Math.max(inner, Math.min(maxInner, width(foot) + 2))) - 2)
  const footWidth = Math.max(...footLines.map(width))
  if (footWidth + 2 > inner) {
    const last = cols[cols.length - 1]
    if (last !== 'gap') last.w += footWidth + 2 - inner
    else cols.push({w: Math.max(1, footWidth + 2 - inner - 3), name: '', type: '', num: false, index: -1})
    inner = cols.reduce((a, c) => a + cw(c) + 3, -1)
  }
  const line = (l: string, m: string, r: string) => l + cols.map((c) => '─'.repeat(cw(c) + 2)).join(m) + r + '\n'
  const row = (f: (c: Exclude<TableCol, 'gap'>) => string) => '│' + cols.map((c) => ` ${c === 'gap' ? '…' : f(c)} `).join('│') + '│\n'
  const value = (r: string[], c: Exclude<TableCol, 'gap'>) => (c.index < 0 ? '' : elide(r[c.index], c.w))
  const dataRow = (r: string[]) => row((c) => (c.num ? right(value(r, c), c.w) : leftPad(value(r, c), c.w)))
  let text = line('┌', '┬', '┐')
  text += row((c) => center(elide(c.name, c.w), c.w))
  text += row((c) => center(elide(c.type, c.w), c.w))
  if (head.length > 0) {
    text += line('├', '┼', '┤')
    for (const r of head) text += dataRow(r)
    if (elided) for (let i = 0; i < 3; i++) text += row((c) => center('·', c.w))
    for (const r of tail) text += dataRow(r)
  }
  text += line('├', '┴', '┤')
  for (const f of footLines) text += `│ ${leftPad(f, inner - 2)} │\n`
  text += '└' + '─'.repeat(inner) + '┘\n'
  return text
}
