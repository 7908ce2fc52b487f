// Shared command plumbing: common flags and the error boundary (one line, exit code, no stack without --debug).
import {Command, Flags} from '@oclif/core'
import {Reporter} from './report.js'

export const commonFlags = {
  debug: Flags.boolean({description: 'Show stack traces with errors.', default: false}),
  strict: Flags.boolean({description: 'Fail on the first damaged block instead of skipping it.', default: false}),
}

/** Every command that writes a file refuses an existing one without it (see checkOutputPath). */
export const forceFlag = Flags.boolean({description: 'Replace an existing output file.', default: false})

export abstract class SysflowCommand extends Command {
  protected reporter = new Reporter(process.argv.includes('--debug'))

  /** Run the command body; library errors become one line and an exit code. */
  protected async guard(body: (reporter: Reporter) => Promise<void>): Promise<void> {
    let code: number
    try {
      await body(this.reporter)
      code = this.reporter.exitCode()
    } catch (e) {
      code = this.reporter.fail(e)
    }
    process.exitCode = code
  }
}
