// `sysflow query` as one library call: open (or create) the database, load the traces, run the SQL, render the
// last statement's result (or COPY it to a file), close.
import path from 'node:path'
import {TraceInput} from '../format/reader.js'
import {lit, USER_VIEWS} from './ddl.js'
import {QueryError, sqlError} from './errors.js'
import {loadTraces, LoadOptions, LoadResult} from './load.js'
import {RenderOptions, renderResult, resultSource, TextSink} from './render.js'
import {QuerySession} from './session.js'
import {heldSources, nameList, planSources} from './sources.js'
import {splitStatements} from './sql.js'

export interface QueryOptions extends LoadOptions {
  /** The SQL (one or more statements; the last one's result is shown). */
  sql?: string
  /** Traces to load first. */
  inputs?: readonly TraceInput[]
  /** A database file that keeps the loaded tables. */
  db?: string
  /** Add the inputs to a database file that already holds traces. */
  append?: boolean
  /** Load traces the database already holds (or that changed since it loaded them) all the same. */
  force?: boolean
  /** Told what was not done and why (traces the database already holds), one line. */
  onNote?: (message: string) => void
  /** List the tables, their columns and types instead of running SQL. */
  schema?: boolean
  /** Write the result to this file with COPY (format from the extension: .parquet, .csv, .json, .ndjson/.jsonl). */
  out?: string
  render: RenderOptions
  /** Told once the traces are loaded. */
  onLoaded?: (r: LoadResult) => void
}

export interface QueryResult {
  load?: LoadResult
  /** Rows of the result shown or written. */
  rows: number
}

const COPY_FORMATS: Record<string, string> = {
  '.parquet': 'FORMAT parquet, COMPRESSION zstd',
  '.csv': 'FORMAT csv, HEADER true',
  '.json': 'FORMAT json, ARRAY true',
  '.ndjson': 'FORMAT json',
  '.jsonl': 'FORMAT json',
}

/** The COPY options for an output file, by its extension. */
export function copyOptions(file: string): string {
  const opts = COPY_FORMATS[path.extname(file).toLowerCase()]
  if (!opts) throw new QueryError(`--out ${file}: unknown extension (use ${Object.keys(COPY_FORMATS).join(', ')})`)
  return opts
}

/** The tables and views a user queries, with their columns and types, as a query. */
export const SCHEMA_SQL = `SELECT table_name AS "table", column_name AS "column", data_type AS "type"
FROM information_schema.columns
WHERE table_schema = 'main' AND table_name IN (${USER_VIEWS.map((v) => `'${v}'`).join(', ')})
ORDER BY list_position([${USER_VIEWS.map((v) => `'${v}'`).join(', ')}], table_name), ordinal_position`

export async function runQuery(opts: QueryOptions, out: TextSink): Promise<QueryResult> {
  const inputs = opts.inputs ?? []
  if (opts.append && !opts.db) throw new QueryError('--append needs --db FILE (the database to add the traces to)')
  if (opts.out) copyOptions(opts.out)
  const loading = inputs.length > 0
  const session = await QuerySession.open({db: opts.db, readOnly: opts.db !== undefined && !loading})
  try {
    let load: LoadResult | undefined
    if (loading) {
      // A database remembers the traces it holds (sources.ts): a repeat is not loaded again, with a note, whether
      // or not --append is given (query --db X trace.sf, run twice, queries what X holds); --force loads it anyway.
      const held = opts.db ? await heldSources(session.connection) : []
      const plan = planSources(inputs, held, {force: opts.force, dedupe: opts.db !== undefined})
      const [changed, what] = plan.changed[0] ?? []
      if (changed) {
        throw new QueryError(`${changed.name} changed since ${opts.db} loaded it (${what}): loading it again would repeat the records it held then; --force loads it anyway`)
      }
      if (plan.load.length > 0 && opts.db && !opts.append && (await session.headerCount()) > 0) {
        throw new QueryError(`${opts.db} already holds traces: add --append to add ${nameList(plan.load)}, or leave out the trace paths to query what it holds`)
      }
      if (plan.repeats.length > 0) {
        const them = plan.repeats.length === 1 ? 'it' : 'them'
        opts.onNote?.(`${opts.db} already holds ${nameList(plan.repeats)}: not loaded again (--force loads ${them} anyway)`)
      }
      if (plan.load.length > 0) {
        load = await loadTraces(session, plan.load, {...opts, sources: plan.record})
        opts.onLoaded?.(load)
      }
    }
    const sql = opts.schema ? SCHEMA_SQL : opts.sql
    if (sql === undefined) return {load, rows: 0}
    const rows = await execute(session, sql, opts, out)
    return {load, rows}
  } finally {
    session.close()
  }
}

async function execute(session: QuerySession, sql: string, opts: QueryOptions, out: TextSink): Promise<number> {
  const c = session.connection
  let statements
  try {
    statements = await c.extractStatements(sql)
  } catch (e) {
    throw sqlError(e, sql)
  }
  if (statements.count === 0) throw new QueryError('the SQL holds no statement')
  for (let i = 0; i < statements.count - 1; i++) {
    try {
      await (await statements.prepare(i)).run()
    } catch (e) {
      throw sqlError(e, sql)
    }
  }
  if (opts.out) {
    const parts = splitStatements(sql)
    const last = parts[parts.length - 1]
    try {
      const r = await c.run(`COPY (${last}) TO ${lit(opts.out)} (${copyOptions(opts.out)})`)
      return r.rowsChanged
    } catch (e) {
      throw sqlError(e, last)
    }
  }
  let result
  try {
    result = await (await statements.prepare(statements.count - 1)).stream()
  } catch (e) {
    throw sqlError(e, sql)
  }
  try {
    const {rows} = await renderResult(resultSource(result), out, opts.render)
    return rows
  } catch (e) {
    // Errors raised while the rows stream (e.g. a failing cast in a later chunk) are SQL errors too.
    if (e instanceof Error && /Error:/.test(e.message) && !('code' in e)) throw sqlError(e, sql)
    throw e
  }
}

