// `-o table`: a boxed table that fits the terminal and hides nothing that matters. Rows are rendered per chunk (one
// box per chunk, so memory stays bounded): each chunk's columns get their natural width, then
//   - numbers, times and codes (type, op flags, container id) are never cut;
//   - text gives way, widest first, cut in the middle so its end survives (elide.ts: paths keep their last
//     component, network resources their ports and peer);
//   - when even that does not fit, whole columns are left out (empty ones first, then the least telling) and a line
//     under the box names them.
// Times are shown readably in UTC (the header says so, with the day when the chunk spans one day).
// Cells are computed once per record into strings; values a record kind cannot carry are constants per kind, and
// a process's or container's cells are reused while consecutive records share the entity.
import {PrintValue} from '../attributes.js'
import {Joined} from '../join.js'
import {isoNanos} from '../time.js'
import {cellFloor, elide, textWidth, wrapWords} from './elide.js'
import {escapeControl} from './escape.js'
import {Column} from './json.js'
import {pyText} from './str.js'

export interface TableOptions {
  termColumns: number
  color: boolean
  /** Rows per box (default 1000, as str's chunks). */
  chunk?: number
}

/** Text may be cut down to this many characters (or its header's width, if smaller), not less. */
const MIN_TEXT = 8
/** Text is not squeezed below this width (or its natural one) to make room for a column that was left out. */
const COMFORTABLE = 16
/** Left out first when the terminal is too narrow, in this order (then the rightmost columns). */
const DROP_ORDER = ['proc.tid', 'pproc.pid', 'flow.wbytes', 'flow.rbytes', 'container.id', 'proc.args', 'idx', 'proc.pid']
/** Text columns whose values are codes: shown whole, like numbers. */
const CODES = new Set(['type', 'opflags', 'state', 'container.id', 'file.type'])

type CellFn = (j: Joined, idx: number) => string

interface Spec {
  key: string
  header: string
  /** Right-aligned, never cut. */
  numeric: boolean
  /** Never cut (numbers, times, codes). */
  whole: boolean
  /** An ISO time column shown as UTC date and time. */
  time: boolean
  /** Rank in the drop order (lower goes first). */
  drop: number
}

const text = (v: PrintValue): string => escapeControl(pyText(v)).trimEnd()

/** The cell function of column `c` for records of `sample`'s kind. */
function cellFn(c: Column, sample: Joined): CellFn | string {
  const a = c.attr
  if (c.key === 'idx') return (_j, idx) => String(idx)
  if (!a) return ''
  if (a.nanos) {
    const nanos = a.nanos
    if (a.on && !a.on.includes(sample.rec.kind)) return ''
    return (j) => {
      const ns = nanos(j)
      return ns === undefined ? '' : isoNanos(ns)
    }
  }
  // Constant for this kind: the attribute is absent from it, or depends on nothing else.
  if (a.byKind || (a.on && !a.on.includes(sample.rec.kind))) return text(a.print(sample))
  const print = a.print
  const dep = a.dep
  if (dep === undefined) return (j) => text(print(j))
  // Consecutive records usually share their process and container: reuse the last entity's cell.
  let last: unknown = null
  let lastText = ''
  return (j) => {
    const e = j[dep]
    if (e !== last || e === undefined) {
      last = e
      lastText = text(print(j))
    }
    return lastText
  }
}

export class TablePrinter {
  private readonly specs: Spec[]
  private readonly perKind: ((CellFn | string)[] | undefined)[] = []
  private rows: string[][] = []
  private readonly chunk: number

  constructor(private readonly cols: readonly Column[], private readonly opts: TableOptions) {
    this.chunk = opts.chunk ?? 1000
    const n = cols.length
    this.specs = cols.map((c, i) => {
      const numeric = c.key === 'idx' || ['int', 'int64'].includes(c.attr?.type ?? '')
      const time = c.attr?.nanos !== undefined
      const at = DROP_ORDER.indexOf(c.key)
      return {
        key: c.key, header: c.attr?.header ?? c.key, numeric, time, whole: numeric || time || CODES.has(c.key) || ['bool', 'char'].includes(c.attr?.type ?? ''),
        // Listed columns go first, in their order; then the others from the right.
        drop: at >= 0 ? at : DROP_ORDER.length + (n - i),
      }
    })
  }

  add(j: Joined, idx: number): string | undefined {
    const kind = j.rec.kind
    let fns = this.perKind[kind]
    if (fns === undefined) fns = this.perKind[kind] = this.cols.map((c) => cellFn(c, j))
    const row = new Array<string>(fns.length)
    for (let i = 0; i < fns.length; i++) {
      const f = fns[i]
      row[i] = typeof f === 'string' ? f : f(j, idx)
    }
    this.rows.push(row)
    return this.rows.length >= this.chunk ? this.flush() : undefined
  }

  flush(): string | undefined {
    if (this.rows.length === 0) return undefined
    const rows = this.rows
    this.rows = []
    return renderBox(this.specs, rows, this.opts)
  }
}

/** UTC times of one column, readable: `HH:MM:SS.nnnnnnnnn` under a header naming the day when all share it. */
function timeColumn(rows: string[][], i: number, header: string): string {
  let day: string | undefined
  let oneDay = true
  for (const r of rows) {
    const iso = r[i]
    if (iso === '') continue
    const d = iso.slice(0, iso.indexOf('T'))
    if (day === undefined) day = d
    else if (d !== day) {
      oneDay = false
      break
    }
  }
  for (const r of rows) {
    const iso = r[i]
    if (iso === '') continue
    const t = iso.indexOf('T')
    r[i] = oneDay ? iso.slice(t + 1, -1) : `${iso.slice(0, t)} ${iso.slice(t + 1, -1)}`
  }
  const name = header.replace(/ Time$/, '')
  return oneDay && day !== undefined ? `${name} ${day} UTC` : `${header} (UTC)`
}

const SPACES = ' '.repeat(256)
function spaces(n: number): string {
  return n <= 256 ? SPACES.slice(0, n) : ' '.repeat(n)
}

function renderBox(specs: readonly Spec[], rows: string[][], opts: TableOptions): string {
  const n = specs.length
  const term = Math.max(20, opts.termColumns)
  const heads = specs.map((s, i) => (s.time ? timeColumn(rows, i, s.header) : s.header))
  const natural: number[] = []
  const floor: number[] = []
  const empty: boolean[] = []
  for (let i = 0; i < n; i++) {
    const hw = textWidth(heads[i])
    let w = 0
    let f = 0
    for (const r of rows) {
      const cell = r[i]
      if (cell.length === 0) continue
      const cw = textWidth(cell)
      if (cw > w) w = cw
      if (!specs[i].whole && cw > f) {
        const cf = cellFloor(cell, MIN_TEXT)
        if (cf > f) f = cf
      }
    }
    empty.push(w === 0)
    natural.push(Math.max(w, hw))
    floor.push(specs[i].whole ? Math.max(w, hw) : Math.max(f, Math.min(hw, MIN_TEXT)))
  }
  // Each column costs its content, two spaces and a border; one more border closes the line.
  const cost = (idx: readonly number[], w: readonly number[]) => idx.reduce((a, i) => a + w[i] + 3, 1)
  let shown = specs.map((_, i) => i)
  const dropped: number[] = []
  // Empty columns take no room that text would need: they go as soon as the natural widths do not fit.
  for (let i = n - 1; i >= 0 && shown.length > 1 && cost(shown, natural) > term; i--) {
    if (!empty[i]) continue
    shown = shown.filter((k) => k !== i)
    dropped.push(i)
  }
  const emptyDropped = dropped.length
  while (shown.length > 1 && cost(shown, floor) > term) {
    let victim = shown[0]
    for (const i of shown) {
      const better = empty[i] !== empty[victim] ? empty[i] : specs[i].drop < specs[victim].drop
      if (better) victim = i
    }
    shown = shown.filter((i) => i !== victim)
    dropped.push(victim)
  }
  // Dropping went in order until everything fit at the floors: an earlier, narrower victim may come back (most
  // telling first) if text keeps a readable width (COMFORTABLE) with it.
  const comfortable = natural.map((w, i) => (specs[i].whole ? w : Math.max(floor[i], Math.min(w, COMFORTABLE))))
  for (let k = dropped.length - 1; k >= emptyDropped; k--) {
    const i = dropped[k]
    const back = [...shown, i].sort((a, b) => a - b)
    if (cost(back, comfortable) <= term) {
      shown = back
      dropped.splice(k, 1)
    }
  }
  const width = natural.slice()
  let total = cost(shown, width)
  while (total > term) {
    let widest = -1
    for (const i of shown) if (width[i] > floor[i] && (widest < 0 || width[i] > width[widest])) widest = i
    if (widest < 0) break
    width[widest]--
    total--
  }
  // One column wider than the terminal on its own: it is cut after all.
  if (total > term) width[shown[0]] = Math.max(1, term - 4)

  const paint = (s: string) => (opts.color ? `\u001b[1;36m${s}\u001b[0m` : s)
  const rule = (l: string, m: string, r: string) => l + shown.map((i) => '─'.repeat(width[i] + 2)).join(m) + r
  const cell = (s: string, i: number): string => {
    const w = width[i]
    const len = textWidth(s)
    if (len > w) return elide(s, w)
    return specs[i].numeric ? spaces(w - len) + s : s + spaces(w - len)
  }
  const lines: string[] = [rule('┌', '┬', '┐')]
  lines.push('│ ' + shown.map((i) => paint(cell(heads[i], i))).join(' │ ') + ' │')
  lines.push(rule('├', '┼', '┤'))
  for (const r of rows) {
    let line = '│ '
    for (let k = 0; k < shown.length; k++) {
      const i = shown[k]
      line += (k === 0 ? '' : ' │ ') + cell(r[i], i)
    }
    lines.push(line + ' │')
  }
  lines.push(rule('└', '┴', '┘'))
  if (dropped.length > 0) {
    const names = dropped.sort((a, b) => a - b).map((i) => heads[i] + (empty[i] ? ' (empty)' : ''))
    lines.push(...wrapWords(`Left out for width: ${names.join(', ')} (choose columns with -c).`, term))
  }
  return lines.join('\n') + '\n'
}
