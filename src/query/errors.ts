// Errors of the query layer. SqlError carries DuckDB's own message (with its LINE/caret position lines) and, for
// an unknown table or column, a hint to run `sysflow query --schema`. Both exit with 2: the input was the problem.

/** A problem with how the query layer was asked to work (database file, options). */
export class QueryError extends Error {
  readonly exitCode = 2
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** DuckDB rejected the SQL. `message` is DuckDB's (several lines: the error, then `LINE n:` and a caret). */
export class SqlError extends Error {
  readonly exitCode = 2
  constructor(
    message: string,
    /** The SQL as given. */
    readonly sql: string,
    /** A line to show after DuckDB's message, or undefined. */
    readonly hint: string | undefined,
  ) {
    super(message)
    this.name = new.target.name
  }

  /** DuckDB's message and position lines, then the hint, ready for stderr (no trailing newline). */
  render(): string {
    const text = this.message.replace(/\s+$/, '')
    return this.hint ? `${text}\n${this.hint}` : text
  }
}

const UNKNOWN = /^(Catalog Error: (Table|Table Function|Scalar Function|Function)? ?with name .* does not exist|Binder Error: (Referenced column|Values list|Table) .* not found|Binder Error: Referenced table .* not found|Catalog Error: Table with name)/m

/** Wrap an error DuckDB raised for this SQL. */
export function sqlError(e: unknown, sql: string): SqlError {
  const message = (e instanceof Error ? e.message : String(e)).replace(/^Failed to extract statements: /, '')
  const hint = UNKNOWN.test(message) || /does not exist|not found in FROM clause|Referenced column .* not found/.test(message)
    ? 'hint: `sysflow query --schema` lists the tables and their columns'
    : undefined
  return new SqlError(message, sql, hint)
}
