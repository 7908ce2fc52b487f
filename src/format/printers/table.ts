// `-o table`: a boxed table (cli-table3) that fits the terminal. Columns get their natural width (capped) and the
// widest shrink first until the table fits; long values are cut with an ellipsis. Rendered per chunk of rows, so
// memory stays bounded on long traces.
import Table from 'cli-table3'
import {PrintValue} from '../attributes.js'
import {Joined} from '../join.js'
import {escapeControl} from './escape.js'
import {Column} from './json.js'
import {pyText} from './str.js'

export interface TableOptions {
  termColumns: number
  color: boolean
  /** Rows per rendered table (default 500). */
  chunk?: number
}

const MAX_NATURAL = 60
const MIN_WIDTH = 3

/**
 * Column widths (content, without padding) that fit `total` characters of terminal. Text columns (commands,
 * paths) give way first, widest first; numbers and times keep their width unless nothing else is left.
 */
export function fitWidths(natural: readonly number[], total: number, shrinkFirst: readonly boolean[] = natural.map(() => true)): number[] {
  const w = natural.map((n) => Math.min(n, MAX_NATURAL))
  // Each column costs its content + 2 padding + 1 border, plus one closing border.
  const budget = total - 1 - 3 * w.length
  let sum = w.reduce((a, b) => a + b, 0)
  for (const pass of [true, false]) {
    while (sum > budget) {
      let widest = -1
      for (let i = 0; i < w.length; i++) if ((!pass || shrinkFirst[i]) && w[i] > MIN_WIDTH && (widest < 0 || w[i] > w[widest])) widest = i
      if (widest < 0) break
      w[widest]--
      sum--
    }
  }
  return w
}

export class TablePrinter {
  private readonly getters: ((j: Joined) => PrintValue)[]
  private rows: string[][] = []
  private readonly chunk: number

  constructor(private readonly cols: readonly Column[], private readonly opts: TableOptions) {
    this.getters = cols.map((c) => c.attr?.print ?? (() => ''))
    this.chunk = opts.chunk ?? 500
  }

  add(j: Joined, idx: number): string | undefined {
    this.rows.push(this.cols.map((c, i) => escapeControl(pyText(c.key === 'idx' ? idx : this.getters[i](j)))))
    return this.rows.length >= this.chunk ? this.flush() : undefined
  }

  flush(): string | undefined {
    if (this.rows.length === 0) return undefined
    const heads = this.cols.map((c) => c.attr?.header ?? c.key)
    const natural = heads.map((h, i) => this.rows.reduce((m, r) => Math.max(m, Array.from(r[i]).length), Array.from(h).length))
    const numeric = this.cols.map((c) => ['int', 'int64'].includes(c.attr?.type ?? '') || c.key === 'idx')
    // Codes (type, op flags, container ids) stay readable; free text gives way.
    const textual = this.cols.map((c, i) => !numeric[i] && c.attr?.type === 'string' && c.key !== 'container.id' && c.key !== 'state')
    const widths = fitWidths(natural, this.opts.termColumns, textual)
    // Colour is ours, not cli-table3's: its colour library guesses from the environment (CI, TTY), we were told.
    const table = new Table({
      head: this.opts.color ? heads.map((h) => `\u001b[1;36m${h}\u001b[0m`) : heads,
      colWidths: widths.map((w) => w + 2),
      colAligns: numeric.map((n) => (n ? 'right' : 'left')),
      wordWrap: false,
      truncate: '…',
      style: {head: [], border: [], compact: true},
    })
    for (const r of this.rows) table.push(r)
    this.rows = []
    return table.toString() + '\n'
  }
}
