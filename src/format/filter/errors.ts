// Errors of the filter language. A FilterSyntaxError knows the expression and the 0-based column of the problem,
// so the CLI can show a caret under it (caretLine) and exit 2. A RulesError is the same thing inside a rules file:
// it also names the file and the 1-based line; its `expression` is that line.

export class FilterSyntaxError extends Error {
  constructor(
    /** The problem alone, without position (the caret line shows where). */
    readonly problem: string,
    /** The text the position refers to. */
    readonly expression: string,
    /** 0-based column in `expression` (may equal its length: "at the end"). */
    readonly position: number,
    message?: string,
  ) {
    super(message ?? problem)
    this.name = new.target.name
  }
}

export class RulesError extends FilterSyntaxError {
  constructor(
    readonly file: string,
    /** 1-based line number in the file. */
    readonly line: number,
    /** 0-based column in that line. */
    column: number,
    problem: string,
    /** The text of the line. */
    lineText: string,
  ) {
    super(problem, lineText, column, `${file}:${line}:${column + 1}: ${problem}`)
  }
}

/**
 * Three lines for a terminal: the expression (the line holding the position, for multi-line text), a caret under
 * the position, and the message. Tabs before the caret are kept so it lines up.
 */
export function caretLine(err: FilterSyntaxError): string {
  const text = err.expression
  const pos = Math.max(0, Math.min(err.position, text.length))
  const start = text.lastIndexOf('\n', pos - 1) + 1
  let end = text.indexOf('\n', pos)
  if (end < 0) end = text.length
  const line = text.slice(start, end).replace(/\r$/, '')
  const pad = text.slice(start, pos).replace(/[^\t]/g, ' ')
  return `${line}\n${pad}^\n${err.message}`
}
