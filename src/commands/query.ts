import fs from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {commonFlags, SysflowCommand} from '../cli/base.js'
import {checkOutputPath} from '../format/convert/safe.js'
import {Output} from '../cli/output.js'
import {loadingText} from '../cli/progress.js'
import {UsageError} from '../cli/report.js'
import {cliInputs} from '../cli/inputs.js'
import {LoadProgress, OUTPUT_FORMATS, OutputFormat, runQuery, SqlError} from '../query/index.js'

/** Progress on stderr while loading (a terminal only), redrawn at most ten times a second. */
function progressLine(): {update: (p: LoadProgress) => void; clear: () => void} {
  let shown = false
  const t0 = Date.now()
  return {
    update: (p) => {
      if (!process.stderr.isTTY) return
      process.stderr.write(`\r${loadingText(p, Date.now() - t0)}\x1b[K`)
      shown = true
    },
    clear: () => {
      if (shown) process.stderr.write('\r\x1b[K')
    },
  }
}

const SQL_START = /^\s*\(?\s*(select|with|from|pragma|describe|show|summarize|explain|create|insert|copy|attach|values|table)\b/i

/** Whether a trace-path argument is really SQL (arguments swapped, or SQL given twice): not a file, reads like SQL. */
function looksLikeSql(arg: string): boolean {
  return SQL_START.test(arg) && /\s/.test(arg.trim()) && !fs.existsSync(arg)
}

export default class Query extends SysflowCommand {
  static override summary = 'Run SQL over SysFlow traces (DuckDB).'
  static override description = `Loads .sf files, directories or globs into DuckDB (as Arrow batches) and runs the SQL. Tables: events (one column per sf.* attribute: type, ts, proc_exe, file_path, net_dport, pod_name, ...; ts/endts are exact BIGINT nanoseconds, time is TIMESTAMP_NS; pod_services, pod_hostip, pod_labels and ke_message are JSON), and processes, files, containers, pods, k8s_events, headers with the records' own fields. Rows have no order: use ORDER BY ts.

With --db FILE the tables are kept in a database file: load once, then query it without trace paths (--append adds traces). --schema lists every table, column and type.`
  static override examples = [
    `<%= config.bin %> query "select type, count(*) from events group by type" trace.sf`,
    `<%= config.bin %> query "select pod_name, sum(flow_rbytes + flow_wbytes) from events group by 1" k8s.sf`,
    `<%= config.bin %> query "select count(*) from events" traces/ --db traces.duckdb`,
    `<%= config.bin %> query "select proc_exe, count(*) from events group by all" --db traces.duckdb`,
    `<%= config.bin %> query "select * from events where proc_exe like '%curl%'" trace.sf --out curl.parquet`,
    '<%= config.bin %> query --schema',
  ]
  static override strict = false
  static override args = {
    sql: Args.string({description: 'the SQL to run (the last statement\'s result is shown)'}),
    paths: Args.string({description: 'trace files, directories or globs to load first'}),
  }
  static override flags = {
    ...commonFlags,
    db: Flags.string({description: 'Keep the tables in this DuckDB database file (without trace paths: query what it holds).'}),
    append: Flags.boolean({description: 'Add the traces to the --db database, which already holds some (those it holds are skipped).', dependsOn: ['db']}),
    force: Flags.boolean({description: 'Load traces the --db database already holds all the same; replace an existing --out file.'}),
    output: Flags.string({char: 'o', description: 'Output format.', options: [...OUTPUT_FORMATS], default: 'table'}),
    'max-rows': Flags.integer({description: 'Table output: show at most this many rows (the middle ones are elided).', min: 1, default: 40}),
    all: Flags.boolean({description: 'Table output: show every row.'}),
    out: Flags.string({description: 'Write the result to this file instead (.parquet, .csv, .json, .ndjson): DuckDB COPY. An existing file needs --force.'}),
    schema: Flags.boolean({description: 'List the tables, their columns and types.'}),
    workers: Flags.integer({description: 'Threads reading the traces (0: none; default: by input size).', min: 0, hidden: true}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Query)
    const args = argv as string[]
    const sql = flags.schema ? undefined : args[0]
    const paths = flags.schema ? args : args.slice(1)
    let sqlFailed = false
    await this.guard(async (reporter) => {
      const misplaced = paths.find((p) => looksLikeSql(p))
      if (misplaced !== undefined) {
        const swapped = sql !== undefined && !looksLikeSql(sql) && paths.length === 1
        throw new UsageError(swapped
          ? `the SQL comes first, then the traces: sysflow query "${misplaced}" ${sql}`
          : `'${misplaced}' is in the place of a trace path but reads like SQL: give one SQL argument first, then the traces`)
      }
      if (!flags.schema && sql === undefined) throw new UsageError('no SQL: give the SQL to run and the traces to load (or --db FILE), or --schema')
      if (!flags.schema && paths.length === 0 && !flags.db) throw new UsageError('no input: give trace files, directories or globs to load, or --db FILE')
      if (flags.out !== undefined) checkOutputPath(flags.out, {force: flags.force})
      const inputs = cliInputs(paths)
      const out = new Output(process.stdout)
      const progress = progressLine()
      const width = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS) || undefined
      try {
        await runQuery({
          sql, inputs, db: flags.db, append: flags.append, force: flags.force, onNote: (m) => process.stderr.write(`sysflow: note: ${m}\n`), schema: flags.schema, out: flags.out, strict: flags.strict, workers: flags.workers,
          render: {format: flags.output as OutputFormat, maxRows: flags['max-rows'], all: flags.all || flags.schema, width},
          onWarning: reporter.warn, onError: reporter.error, onProgress: progress.update, onLoaded: progress.clear,
        }, out)
      } catch (e) {
        progress.clear()
        if (!(e instanceof SqlError)) throw e
        process.stderr.write(`sysflow: error: ${e.render()}\n`)
        sqlFailed = true
      } finally {
        await out.end()
      }
    })
    if (sqlFailed) process.exitCode = 2
  }
}
