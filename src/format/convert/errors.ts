// Typed errors of the conversion library. src/cli turns them into one line and an exit code.

/** Options that do not go together (rotation of a Parquet output, `-` for a database, ...). */
export class ConvertOptionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConvertOptionError'
  }
}

/** The output is there already and `force` was not given. */
export class OutputExistsError extends Error {
  constructor(readonly target: string, what = 'output') {
    super(`${target}: ${what} exists already (use --force to replace it)`)
    this.name = 'OutputExistsError'
  }
}


/** The conversion was stopped through its AbortSignal (SIGINT, SIGTERM); nothing was left behind. */
export class ConvertAbortedError extends Error {
  constructor(reason?: unknown) {
    super(`conversion interrupted${typeof reason === 'string' ? ` (${reason})` : ''}; no output was written`)
    this.name = 'ConvertAbortedError'
  }
}
