// A DuckDB session over SysFlow tables: an in-memory database, or a database file that keeps the loaded tables
// (load once, query many times). Nothing is ever downloaded: extension auto-install and auto-load are off, and
// only the json and parquet extensions built into the DuckDB binary are used.
import fs from 'node:fs'
import {DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'
import {entityViewsSql, eventsViewSql, layoutFingerprint, plan, tableDdl} from './ddl.js'
import {Ingester} from './ingest.js'
import {QueryError} from './errors.js'

export interface SessionOptions {
  /** A database file; undefined for an in-memory database. */
  db?: string
  /** Open the file read-only (querying only): other processes may read it at the same time. */
  readOnly?: boolean
  /** DuckDB memory_limit, e.g. '2GB'. */
  memoryLimit?: string
  /** Where DuckDB spills when over its memory limit. */
  tempDirectory?: string
  threads?: number
}

/** DuckDB settings every session gets: no network, no extension installs. */
export function baseConfig(opts: SessionOptions = {}): Record<string, string> {
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
  }
  if (opts.readOnly) config.access_mode = 'READ_ONLY'
  if (opts.memoryLimit) config.memory_limit = opts.memoryLimit
  if (opts.tempDirectory) config.temp_directory = opts.tempDirectory
  if (opts.threads) config.threads = String(opts.threads)
  return config
}

const META = '_sysflow_meta'

export class QuerySession {
  private constructor(
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly db: string | undefined,
  ) {}

  /** Open (and for a new or in-memory database, create) the SysFlow tables and views. */
  static async open(opts: SessionOptions = {}): Promise<QuerySession> {
    if (opts.readOnly && opts.db && !fs.existsSync(opts.db)) throw new QueryError(`${opts.db}: no such database file`)
    let instance: DuckDBInstance
    try {
      instance = await DuckDBInstance.create(opts.db ?? ':memory:', baseConfig(opts))
    } catch (e) {
      throw new QueryError(`${opts.db ?? 'in-memory database'}: ${(e as Error).message}`)
    }
    const connection = await instance.connect()
    const s = new QuerySession(instance, connection, opts.db)
    try {
      await s.prepareSchema(opts.readOnly === true)
    } catch (e) {
      s.close()
      throw e
    }
    return s
  }

  private async prepareSchema(readOnly: boolean): Promise<void> {
    const fingerprint = layoutFingerprint()
    const tables = await this.connection.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`)
    const names = new Set(tables.getRows().map((r) => String(r[0])))
    if (names.has(META)) {
      const r = await this.connection.runAndReadAll(`SELECT value FROM ${META} WHERE name = 'layout'`)
      const stored = r.getRows()[0]?.[0]
      if (stored !== fingerprint) {
        throw new QueryError(`${this.db}: written by another version of sysflow (its tables differ from this version's); load the traces again into a new database file`)
      }
      if (readOnly) return
    } else if (names.size > 0) {
      throw new QueryError(`${this.db}: not a sysflow database (it holds other tables)`)
    } else if (readOnly) {
      throw new QueryError(`${this.db}: holds no traces yet; give trace files to load`)
    }
    for (const sql of tableDdl()) await this.connection.run(sql)
    await this.connection.run(`CREATE TABLE IF NOT EXISTS ${META} (name VARCHAR, value VARCHAR)`)
    await this.connection.run(`DELETE FROM ${META} WHERE name = 'layout'`)
    await this.connection.run(`INSERT INTO ${META} VALUES ('layout', $1)`, [fingerprint])
    await this.connection.run(eventsViewSql())
    for (const sql of entityViewsSql()) await this.connection.run(sql)
  }

  /** Event and flow records in the database. */
  async eventCount(): Promise<number> {
    const r = await this.connection.runAndReadAll('SELECT count(*) FROM _events')
    return Number(r.getRows()[0][0])
  }

  /** Headers (one per loaded trace file) in the database. */
  async headerCount(): Promise<number> {
    const r = await this.connection.runAndReadAll('SELECT count(*) FROM _headers')
    return Number(r.getRows()[0][0])
  }

  /** An ingester that continues the database's numbering (call init() first). */
  async ingester(): Promise<Ingester> {
    const ing = new Ingester(this.connection, plan().tables)
    await ing.init()
    return ing
  }

  /** Check that every dimension's keys are dense (key k is its k-th row): the views rely on it. */
  async checkKeys(skip: ReadonlySet<string> = new Set()): Promise<void> {
    for (const t of plan().tables) {
      if (!t.columns.some((c) => c.name === 'key') || skip.has(t.name)) continue
      // Keys are handed out one by one from 1, so count = max means none is missing.
      const r = await this.connection.runAndReadAll(`SELECT count(*), coalesce(max(key), 0) FROM "${t.name}"`)
      const [n, max] = r.getRows()[0].map(Number)
      if (n !== max) throw new Error(`internal error: ${t.name} keys are not dense (${n} rows, largest key ${max})`)
    }
  }

  close(): void {
    try {
      this.connection.closeSync()
    } finally {
      this.instance.closeSync()
    }
  }
}
