import {Args, Flags} from '@oclif/core'
import {commonFlags, forceFlag, SysflowCommand} from '../cli/base.js'
import {Output} from '../cli/output.js'
import {fieldList} from '../cli/fields.js'
import {Progress} from '../cli/progress.js'
import {UsageError} from '../cli/report.js'
import {selectionFlags, selectionOptions} from '../cli/selection.js'
import {
  COMPRESSIONS, convert, ConvertFormat, CONVERT_FORMATS, DuckDbExporter, formatFromPath,
  inputBytes, KNOWN_EXTENSIONS, ParquetExporter, PartitionKey, type ConvertResult, ConvertAbortedError, ConvertOptionError,
  OutputExistsError,
} from '../format/convert/index.js'
import {cliInputs} from '../cli/inputs.js'
import {SCHEMA_VERSIONS, SchemaVersion} from '../format/schema.js'

// DuckDB is loaded only for the outputs that need it.
const exporters = {
  parquet: async (...a: Parameters<ParquetExporter>) => (await import('../query/export.js')).exportParquet(...a),
  duckdb: async (...a: Parameters<DuckDbExporter>) => (await import('../query/export.js')).exportDuckDb(...a),
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/**
 * The closing line. Records read count entities (processes, files, containers, pods) and headers as well as events
 * and flows; only events and flows become rows, so both are named, or a smaller number written looks like loss.
 */
function convertSummary(r: ConvertResult, inputsGiven: number, target: string, seconds: number): string {
  const entities = r.recordsIn - r.events
  const read = `read ${plural(r.recordsIn, 'record')} (${r.events} events and flows + ${entities} headers and entities) from ${plural(inputsGiven, 'input')}`
  const wrote = r.format === 'sf'
    ? `wrote ${r.eventsOut} events and flows with ${plural(r.recordsOut - r.eventsOut, 'header and entity record')} they reference`
    : `wrote ${r.eventsOut} events and flows as ${r.format === 'duckdb' ? 'rows of events' : 'rows'}`
  return `converted: ${read}; ${wrote} to ${target} in ${seconds.toFixed(2)} s`
}

export default class Convert extends SysflowCommand {
  static override summary = 'Convert SysFlow traces to .sf, JSON, CSV, Parquet, Arrow or a DuckDB database.'
  static override description = `Reads what print reads (files, directories of rotated traces, globs, - for stdin) and writes one output, in the format its extension names unless --to says otherwise:
  .sf (re-encoded, merged, filtered), .json/.ndjson (sysprint's nested keys, one object per line), .flatjson, .csv,
  .parquet (the events columns of query; --partition-by for a Hive-style dataset), .arrow (Arrow IPC file;
  --to arrow-stream or .arrows for the stream format), .duckdb (a database for query --db).
-f/--rules/--since/--until/--limit select the records of every format. A filtered .sf keeps exactly the processes (with their ancestors), files, containers and pods its records reference.
The output is written under a temporary name and renamed when complete: after an error or an interrupt nothing is left behind. An existing output is refused without --force. -o - writes .sf, json, flatjson, csv and arrow-stream to stdout.`
  static override examples = [
    '<%= config.bin %> convert traces/ -o all.parquet',
    "<%= config.bin %> convert trace.sf -f 'sf.proc.exe = /usr/bin/curl' -o curl.sf",
    '<%= config.bin %> convert traces/ -o dataset --partition-by type,date',
    '<%= config.bin %> convert big.sf --rotate 60 -o out/trace',
    '<%= config.bin %> convert trace.sf -o - --to ndjson | jq -r .proc.exe',
    '<%= config.bin %> convert trace.sf -o - --to arrow-stream | python3 read_arrow_stream.py',
  ]
  static override strict = false
  static override args = {paths: Args.string({description: 'trace files, directories, globs, or - for stdin'})}
  static override flags = {
    ...commonFlags,
    ...selectionFlags,
    output: Flags.string({char: 'o', description: 'Output file (with --rotate: the prefix of the files; with --partition-by: a directory), or - for stdout.', required: true}),
    to: Flags.string({description: 'Output format (default: from the output\'s extension).', options: [...CONVERT_FORMATS]}),
    force: forceFlag,
    rotate: Flags.integer({description: '.sf: split into OUTPUT.<epoch> files, one per this many seconds of record time.', min: 1}),
    'partition-by': Flags.string({description: 'Parquet: a Hive-style directory partitioned by these comma-separated keys (type, date, hour, node, container).'}),
    compression: Flags.string({description: 'Parquet: zstd (default), snappy, gzip, lz4, brotli, none. .sf: deflate (default), snappy, none.', options: [...COMPRESSIONS]}),
    'row-group-size': Flags.integer({description: 'Parquet: rows per row group.', min: 1}),
    schema: Flags.string({description: '.sf: schema version to write, forced: fields it needs that an input lacks get its defaults (default: the inputs\' own; fields only some inputs have are written nullable, null where absent).', options: [...SCHEMA_VERSIONS]}),
    columns: Flags.string({char: 'c', description: 'json, ndjson, flatjson, csv: comma-separated fields, in order (default: all; see print --list).'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Convert)
    await this.guard(async (reporter) => {
      if (argv.length === 0) throw new UsageError('no input: give trace files, directories, globs, or - for stdin')
      const partitionBy = flags['partition-by']?.split(',').map((s) => s.trim()).filter(Boolean) as PartitionKey[] | undefined
      const format = (flags.to ?? formatFromPath(flags.output) ?? (flags.rotate ? 'sf' : partitionBy?.length ? 'parquet' : undefined)) as ConvertFormat | undefined
      if (!format) {
        throw new UsageError(flags.output === '-'
          ? 'output - (stdout) needs --to FORMAT'
          : `cannot tell the output format from '${flags.output}': use one of the extensions ${KNOWN_EXTENSIONS.join(' ')} or --to`)
      }
      const selection = selectionOptions(flags)
      const inputs = cliInputs(argv as string[])
      const total = inputBytes(inputs)
      const progress = process.stderr.isTTY && total > 4 * 1024 * 1024 ? new Progress(total) : undefined
      const stdout = flags.output === '-' ? new Output(process.stdout) : undefined
      const fields = fieldList(flags.columns) // a usage error, before anything starts
      // Interrupted: the library removes its temporary files synchronously on abort; then leave at once.
      const controller = new AbortController()
      const onSignal = (signal: NodeJS.Signals): void => {
        controller.abort(signal)
        progress?.clear()
        process.stderr.write(`sysflow: ${signal}: conversion interrupted, no output written\n`)
        process.exit(signal === 'SIGINT' ? 130 : 143)
      }
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      const t0 = process.hrtime.bigint()
      try {
        const r = await convert(inputs, {
          format, output: flags.output, force: flags.force, ...selection,
          stdout: stdout && {write: (chunk) => stdout.write(chunk), close: () => stdout.end()},
          rotate: flags.rotate, partitionBy, compression: flags.compression, rowGroupSize: flags['row-group-size'],
          schema: flags.schema as SchemaVersion | undefined,
          fields,
          strict: flags.strict, onWarning: reporter.warn, onError: reporter.error, onProgress: progress?.update,
          signal: controller.signal, exporters,
        })
        progress?.clear()
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9
        const target = flags.rotate ? `${plural(r.outputs.length, 'file')} ${flags.output}.<epoch>` : flags.output === '-' ? 'stdout' : flags.output
        process.stderr.write(`${convertSummary(r, inputs.length, target, seconds)}\n`)
        // Keeping what could be read is right, silently is not: say the output is partial (exit code 1).
        const lost = reporter.lossSummary()
        if (lost) process.stderr.write(`sysflow: warning: ${target} is partial: ${lost}; the rest was converted\n`)
      } catch (e) {
        progress?.clear()
        const written = e instanceof ConvertOptionError || e instanceof OutputExistsError || e instanceof ConvertAbortedError
        if (written || flags.output === '-') throw e
        // An error that stops the conversion (--strict, a failing writer) leaves no file: say so after the error.
        reporter.fail(e)
        const why = flags.strict ? ' (--strict stops at the first damaged block; without it damaged parts are skipped)' : ''
        process.stderr.write(`sysflow: warning: nothing was written to ${flags.output}: the conversion stopped at the error above${why}\n`)
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    })
  }
}
