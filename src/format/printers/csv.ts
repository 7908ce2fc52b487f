// CSV (RFC 4180): a header row of keys, then one row per record; fields quoted when they hold a comma, a quote or a
// line break; CRLF line ends. Values are exact (bigints in full) and machine-friendly: booleans `true`/`false`,
// lists and objects as JSON, absent values empty (sysprint leaks Python reprs instead: True, (), ['a']).
import {PrintValue} from '../attributes.js'
import {ByteBuilder} from './bytes.js'
import {Column, compileTemplate, jsonValue, LineRenderer, Piece} from './json.js'

const NEEDS_QUOTES = /[",\r\n]/

export function csvField(s: string): string {
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** One value as a CSV field (the row printer's cell writer). */
export function csvCell(b: ByteBuilder, v: PrintValue): void {
  switch (typeof v) {
    case 'string':
      return b.csvText(v)
    case 'bigint':
    case 'number':
      return b.integer(v)
    case 'boolean':
      return b.text(v ? 'true' : 'false')
    default:
      if (v === null) return
      return b.text(csvField(jsonValue(v)))
  }
}

export function csvHeader(cols: readonly Column[]): string {
  return cols.map((c) => csvField(c.key)).join(',') + '\r\n'
}

/** Renders one record as a CSV row, CRLF included. */
export function csvLine(cols: readonly Column[]): LineRenderer {
  const pieces: Piece[] = []
  cols.forEach((_, i) => {
    if (i > 0) pieces.push(',')
    pieces.push(i)
  })
  pieces.push('\r\n')
  return compileTemplate(pieces, cols, csvCell, false, 'csvText')
}
