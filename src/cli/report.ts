// The one place that turns library errors and warnings into lines on stderr and an exit code.
import {ReadWarning, TraceError} from '../format/errors.js'
import {printable} from '../format/avro/container.js'
import {caretLine, FilterSyntaxError} from '../format/filter/index.js'
import {UnknownFieldError} from '../format/printers/print.js'
import {OutputClosed} from './output.js'
import {ConvertOptionError, OutputExistsError} from '../format/convert/errors.js'

export const EXIT_OK = 0
export const EXIT_INPUT = 1
export const EXIT_USAGE = 2

/** Collects what went wrong while a command ran and decides its exit code. */
export class Reporter {
  errors = 0
  /** Warnings that mean records were lost (skipped blocks or records). */
  losses = 0
  /** What the losses add up to. */
  skippedRecords = 0
  skippedBytes = 0
  /** Records of record types the reader does not know (or that lack an identity field): decoded and skipped. */
  unreadableRecords = 0
  /** The exit code of an error that ended the command, once reported. */
  private ended: number | undefined

  constructor(private readonly debug = false, private readonly stderr: NodeJS.WritableStream = process.stderr) {}

  warn = (w: ReadWarning): void => {
    if (w.unreadableType) this.unreadableRecords += w.skippedRecords
    else {
      if (w.skippedRecords > 0 || w.skippedBytes > 0) this.losses++
      this.skippedRecords += w.skippedRecords
      this.skippedBytes += w.skippedBytes
    }
    const where = w.offset >= 0 ? `${printable(w.file)}: byte ${w.offset}: ` : `${printable(w.file)}: `
    this.stderr.write(`sysflow: warning: ${where}${w.message}\n`)
  }

  error = (e: TraceError): void => {
    this.errors++
    this.stderr.write(`sysflow: error: ${printable(e.message)}\n`)
    if (this.debug && e.stack) this.stderr.write(`${e.stack}\n`)
  }

  /** Report an exception that ended the command; returns the exit code, which exitCode() returns from then on. */
  fail(e: unknown): number {
    const code = this.describe(e)
    if (!(e instanceof OutputClosed)) this.ended = Math.max(this.ended ?? 0, code)
    return code
  }

  private describe(e: unknown): number {
    if (e instanceof OutputClosed) return this.exitCode()
    if (e instanceof TraceError) {
      this.error(e)
      return EXIT_INPUT
    }
    if (e instanceof FilterSyntaxError) {
      // The expression, a caret under the column, and the problem.
      this.stderr.write(`sysflow: error: bad filter\n${caretLine(e)}\n`)
      return EXIT_USAGE
    }
    if (e instanceof UnknownFieldError || e instanceof ConvertOptionError || e instanceof OutputExistsError) {
      this.stderr.write(`sysflow: error: ${e.message}\n`)
      return EXIT_USAGE
    }
    const err = e instanceof Error ? e : new Error(String(e))
    const code = (err as {exitCode?: number}).exitCode
    this.stderr.write(`sysflow: error: ${printable(err.message)}\n`)
    if (this.debug && err.stack) this.stderr.write(`${err.stack}\n`)
    return typeof code === 'number' ? code : EXIT_INPUT
  }

  /**
   * When something was lost (damaged blocks skipped, an input unreadable) but the command went on: what was lost,
   * for the line that says an output is partial. Undefined when everything was read.
   */
  lossSummary(): string | undefined {
    if (this.losses === 0 && this.errors === 0 && this.unreadableRecords === 0) return undefined
    const n = (k: number, w: string) => `${k.toLocaleString('en-US')} ${w}${k === 1 ? '' : 's'}`
    const parts: string[] = []
    // A block whose size is damaged has no known record count: bytes only, then.
    const records = this.skippedRecords > 0 ? `, ${n(this.skippedRecords, 'record')}` : ''
    if (this.losses > 0) parts.push(`${n(this.losses, 'damaged part')} skipped (${n(this.skippedBytes, 'byte')}${records})`)
    if (this.unreadableRecords > 0) parts.push(`${n(this.unreadableRecords, 'record')} of record types this version cannot read skipped`)
    if (this.errors > 0) parts.push(`${n(this.errors, 'input')} not read to the end`)
    return parts.join(', ')
  }

  exitCode(): number {
    if (this.ended !== undefined) return this.ended
    return this.errors > 0 || this.losses > 0 || this.unreadableRecords > 0 ? EXIT_INPUT : EXIT_OK
  }
}

/** An error whose message is for the user as it stands, with its own exit code. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE
}
