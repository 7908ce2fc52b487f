import {Args, Flags} from '@oclif/core'
import {commonFlags, forceFlag, SysflowCommand} from '../cli/base.js'
import {outputTarget, selectionFlags, selectionOptions} from '../cli/selection.js'
import {fieldList} from '../cli/fields.js'
import {UsageError} from '../cli/report.js'
import {cliInputs} from '../cli/inputs.js'
import {chooseColumns, listAttributes, PRINT_FORMATS, PrintFormat, printRecords} from '../format/printers/print.js'
import {defaultFormat} from '../cli/layout.js'

export default class Print extends SysflowCommand {
  static override summary = 'Print the records of SysFlow traces (sysprint, exact and fast).'
  static override description = `Reads .sf files, directories of rotated traces, globs or - (stdin), joins every event and flow record with its process, parent, file, container and pod, and prints it.

Formats: str (sysprint's table, the default on a terminal wide enough for it), table (boxed, fits the terminal: the default on a narrower one), json (nested keys), flatjson (dotted keys, the default in a pipe), csv. JSON formats write one object per line, also with -w.`
  static override examples = [
    '<%= config.bin %> print trace.sf',
    "<%= config.bin %> print traces/ -f 'sf.type = NF and sf.net.dport = 443' -o csv -w out.csv",
    "<%= config.bin %> print k8s.sf -f 'sf.pod.services[0.clusterip.0] = 10.111.214.104' -o json",
    '<%= config.bin %> print --list',
  ]
  static override strict = false
  static override args = {paths: Args.string({description: 'trace files, directories, globs, or - for stdin'})}
  static override flags = {
    ...commonFlags,
    ...selectionFlags,
    output: Flags.string({char: 'o', description: 'Output format (default: str on a terminal wide enough for it, else table; flatjson in a pipe).', options: [...PRINT_FORMATS]}),
    write: Flags.string({char: 'w', description: 'Write to this file instead of stdout (an existing file needs --force).'}),
    force: forceFlag,
    columns: Flags.string({char: 'c', description: 'Comma-separated fields to print, in order (see --list).'}),
    all: Flags.boolean({char: 'A', description: 'Print every field (overrides -c).'}),
    pods: Flags.boolean({char: 'k', description: 'Add the pod name to the str columns.', exclusive: ['k8s-events']}),
    'k8s-events': Flags.boolean({char: 'K', description: 'Show the k8s event columns (combine with -f "sf.type = KE").', exclusive: ['pods']}),
    list: Flags.boolean({char: 'l', description: 'List every field and attribute, then exit.'}),
    json: Flags.boolean({description: 'With --list: print the catalogue as JSON.', dependsOn: ['list']}),
    color: Flags.string({description: 'Colour str and table output (NO_COLOR is honoured by auto).', options: ['auto', 'always', 'never'], default: 'auto'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Print)
    await this.guard(async (reporter) => {
      if (flags.list) {
        process.stdout.write(listAttributes(flags.json))
        return
      }
      if (argv.length === 0) throw new UsageError('no input: give trace files, directories, globs, or - for stdin')
      const target = outputTarget(flags.write, flags.color, flags.force)
      const choice = {fields: fieldList(flags.columns), all: flags.all, pods: flags.pods, k8sEvents: flags['k8s-events']}
      const format = (flags.output ?? defaultFormat(target, choice)) as PrintFormat
      const columns = chooseColumns(format, choice)
      const selection = selectionOptions(flags)
      const inputs = cliInputs(argv as string[])
      try {
        await printRecords(inputs, target.out, {
          format, columns, ...selection, termColumns: target.columns, color: target.color,
          strict: flags.strict, onWarning: reporter.warn, onError: reporter.error,
        })
        // As convert: a file holds what could be read, which looks complete; say that it is not everything.
        const lost = flags.write === undefined ? undefined : reporter.lossSummary()
        if (lost) process.stderr.write(`sysflow: warning: ${flags.write} is partial: ${lost}; the rest was printed\n`)
      } finally {
        // Whatever was read before an error is still printed.
        await target.out.end()
      }
    })
  }
}
