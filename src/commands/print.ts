import {Args, Flags} from '@oclif/core'
import {commonFlags, SysflowCommand} from '../cli/base.js'
import {Output} from '../cli/output.js'
import {resolveInputs} from '../format/inputs.js'
import {printRecords} from '../format/printers/print.js'

export default class Print extends SysflowCommand {
  static override summary = 'Print the records of SysFlow traces.'
  static override description = 'Reads .sf files, directories of rotated traces, globs or - (stdin) and prints every event and flow record joined with its process, file, container and pod.'
  static override examples = ['<%= config.bin %> print trace.sf', '<%= config.bin %> print -o flatjson traces/ | jq .']
  static override strict = false
  static override args = {paths: Args.string({description: 'trace files, directories, globs, or - for stdin', required: true})}
  static override flags = {
    ...commonFlags,
    output: Flags.string({char: 'o', description: 'Output format.', options: ['flatjson', 'json'], default: 'flatjson'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Print)
    await this.guard(async (reporter) => {
      const inputs = resolveInputs(argv as string[], {stdin: process.stdin})
      const out = new Output(process.stdout)
      try {
        await printRecords(inputs, out, {format: flags.output as 'flatjson' | 'json', strict: flags.strict, onWarning: reporter.warn, onError: reporter.error})
      } finally {
        // Whatever was read before an error is still printed.
        await out.end()
      }
    })
  }
}
