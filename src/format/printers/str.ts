// `-o str`: sysprint's table, byte for byte where the values are safe (sysflow-format.md §5.2): tabulate's
// "github" layout, cells left-justified to sysprint's column widths (a longer value shows as `..` and its last
// characters), numeric columns right-aligned, chunks of 1000 records (the first 1001, with the header).
// Differences: control characters in trace strings are escaped, and colour may mark headers and record types.
import {PrintValue} from '../attributes.js'
import {Joined} from '../join.js'
import {escapeControl} from './escape.js'
import {Column} from './json.js'

export interface StrOptions {
  /** Terminal width for sysprint's width factor (sysprint falls back to 80). */
  termColumns: number
  color: boolean
}

const FIRST_CHUNK = 1001
const CHUNK = 1000

/** Python's str() of a print value as sysprint shows it: bools 1/0, None empty, lists and dicts as json.dumps. */
export function pyText(v: PrintValue): string {
  switch (typeof v) {
    case 'string':
      return v
    case 'boolean':
      return v ? '1' : '0'
    case 'number':
    case 'bigint':
      return String(v)
    default:
      return v === null ? '' : pyJson(v)
  }
}

function pyJson(v: PrintValue): string {
  if (v === null) return 'null'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'bigint' || typeof v === 'number') return String(v)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`
  return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ')}}`
}

// Python's float() grammar, which tabulate uses to call a column numeric.
const PY_NUMBER = /^\s*[+-]?(?:(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?|inf(?:inity)?|nan)\s*$/i

/** Display length in code points, as Python's len(). */
function cpLength(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0xd800 || c > 0xdbff) n++
  }
  return n
}

function lastCodePoints(s: string, n: number): string {
  const cps = Array.from(s)
  return cps.slice(cps.length - n).join('')
}

/** sysprint's column widths: base widths scaled by a factor that fits the terminal, at most 1.25. */
export function strWidths(bases: readonly number[], termColumns: number): number[] {
  const total = bases.reduce((a, b) => a + b, 0)
  const wf = Math.min((termColumns - (6 * bases.length + 10)) / total, 1.25)
  return bases.map((base) => {
    const w = Math.trunc(wf * base)
    return w > 8 ? w : base
  })
}

/**
 * The widest str's lines can be for these columns on a terminal this wide, so a caller can tell whether str fits:
 * a column is as wide as its header plus two, or its width plus two when a value is cut (`..` and its end).
 */
export function strLineWidth(cols: readonly Column[], termColumns: number): number {
  const widths = strWidths(cols.map((c) => c.attr?.width ?? 10), termColumns)
  return widths.reduce((a, w, i) => a + Math.max(w, cpLength(cols[i].attr?.header ?? cols[i].key)) + 2 + 3, 1)
}

const TYPE_COLOURS: Record<string, string> = {PE: '35', PF: '35', FF: '32', FE: '33', NF: '34', NE: '34', KE: '36'}

export class StrPrinter {
  private readonly widths: number[]
  private readonly getters: ((j: Joined) => PrintValue)[]
  private readonly typeCol: number
  private rows: string[][] = []
  private chunks = 0

  constructor(private readonly cols: readonly Column[], private readonly opts: StrOptions) {
    this.widths = strWidths(cols.map((c) => c.attr?.width ?? 10), opts.termColumns)
    this.getters = cols.map((c) => c.attr?.print ?? (() => ''))
    this.typeCol = cols.findIndex((c) => c.key === 'type')
  }

  /** Add a record; returns text when a chunk is complete. */
  add(j: Joined, idx: number): string | undefined {
    const row: string[] = []
    for (let i = 0; i < this.cols.length; i++) {
      const v = this.cols[i].key === 'idx' ? idx : this.getters[i](j)
      const text = escapeControl(pyText(v))
      const w = this.widths[i]
      const len = cpLength(text)
      row.push(len > w ? `..${lastCodePoints(text, w)}` : text + ' '.repeat(w - len))
    }
    this.rows.push(row)
    if (this.rows.length === (this.chunks === 0 ? FIRST_CHUNK : CHUNK)) return this.flush()
    return undefined
  }

  /** Emit what is buffered (nothing when no record came: sysprint prints no table then). */
  flush(): string | undefined {
    if (this.rows.length === 0) return undefined
    const withHeader = this.chunks === 0
    this.chunks++
    const rows = this.rows
    this.rows = []
    const n = this.cols.length
    const numeric: boolean[] = []
    const widths: number[] = []
    for (let i = 0; i < n; i++) {
      let w = withHeader ? cpLength(this.cols[i].attr?.header ?? this.cols[i].key) + 2 : 0
      let num = true
      for (const r of rows) {
        w = Math.max(w, cpLength(r[i]))
        if (num && !PY_NUMBER.test(r[i])) num = false
      }
      widths.push(w)
      numeric.push(num)
    }
    const pad = (s: string, i: number) => {
      const fill = ' '.repeat(Math.max(0, widths[i] - cpLength(s)))
      return numeric[i] ? fill + s : s + fill
    }
    const paint = (s: string, code: string) => (this.opts.color ? `\u001b[${code}m${s}\u001b[0m` : s)
    const lines: string[] = []
    if (withHeader) lines.push(`| ${this.cols.map((c, i) => paint(pad(c.attr?.header ?? c.key, i), '1')).join(' | ')} |`)
    lines.push(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
    for (const r of rows) {
      lines.push(`| ${r.map((cell, i) => {
        const text = pad(cell, i)
        const colour = i === this.typeCol ? TYPE_COLOURS[cell.trim()] : undefined
        return colour ? paint(text, colour) : text
      }).join(' | ')} |`)
    }
    return lines.join('\n') + '\n'
  }
}
