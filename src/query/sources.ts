// What a database file holds: one row per trace file loaded into it (table sysflow_sources), so that loading the
// same trace again (query --db X --append trace.sf, twice) does not double every row. A trace is the same when its
// size and the SHA-256 of its first 64 KiB are: that block holds the Avro header, whose 16-byte sync marker the
// writer draws at random for each file, and the SFHeader record, so a copy or a renamed file is recognised and two
// captures are told apart. The path and mtime are kept to say what was loaded, and to notice a file that changed
// since it was loaded (a trace still being written): loading it again would repeat the records it had then.
// Inputs that are no regular file (stdin) have no identity and are always loaded.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {DuckDBConnection} from '@duckdb/node-api'
import {TraceInput} from '../format/reader.js'
import {lit} from './ddl.js'

export const SOURCES_TABLE = 'sysflow_sources'

/** Bytes hashed at the start of a trace. */
const HEAD_BYTES = 64 * 1024

export interface TraceSource {
  /** Absolute path when loaded. */
  path: string
  size: bigint
  /** Modification time, nanoseconds since the epoch. */
  mtimeNs: bigint
  /** SHA-256 (hex) of the first 64 KiB. */
  headSha256: string
}

export const SOURCES_DDL = `CREATE TABLE IF NOT EXISTS ${SOURCES_TABLE} (path VARCHAR, size BIGINT, mtime_ns BIGINT, head_sha256 VARCHAR, loaded_at TIMESTAMP)`

/** The identity of an input, or undefined when it is not a regular file. */
export function identify(input: TraceInput): TraceSource | undefined {
  let fd: number
  try {
    fd = fs.openSync(input.name, 'r')
  } catch {
    return undefined
  }
  try {
    const st = fs.fstatSync(fd, {bigint: true})
    if (!st.isFile()) return undefined
    const buf = Buffer.alloc(Number(st.size < BigInt(HEAD_BYTES) ? st.size : BigInt(HEAD_BYTES)))
    let off = 0
    while (off < buf.length) {
      const n = fs.readSync(fd, buf, off, buf.length - off, off)
      if (n === 0) break
      off += n
    }
    const headSha256 = crypto.createHash('sha256').update(buf.subarray(0, off)).digest('hex')
    return {path: path.resolve(input.name), size: st.size, mtimeNs: st.mtimeNs, headSha256}
  } finally {
    fs.closeSync(fd)
  }
}

/** The traces a database holds (none for a database written before sysflow_sources existed). */
export async function heldSources(c: DuckDBConnection): Promise<TraceSource[]> {
  const t = await c.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ${lit(SOURCES_TABLE)}`)
  if (Number(t.getRows()[0][0]) === 0) return []
  const r = await c.runAndReadAll(`SELECT path, size, mtime_ns, head_sha256 FROM ${SOURCES_TABLE}`)
  return r.getRows().map(([p, size, mtime, sha]) => ({path: String(p), size: BigInt(size as bigint), mtimeNs: BigInt(mtime as bigint), headSha256: String(sha)}))
}

/** Record loaded traces (inside the load's transaction, so a failed load records nothing). */
export async function recordSources(c: DuckDBConnection, sources: readonly TraceSource[]): Promise<void> {
  if (sources.length === 0) return
  await c.run(SOURCES_DDL)
  const values = sources.map((s) => `(${lit(s.path)}, ${s.size}, ${s.mtimeNs}, ${lit(s.headSha256)}, now()::TIMESTAMP)`)
  await c.run(`INSERT INTO ${SOURCES_TABLE} VALUES ${values.join(', ')}`)
}

export interface SourcePlan {
  /** Inputs to load, and the identities to record for them. */
  load: TraceInput[]
  record: TraceSource[]
  /** Inputs the database (or an earlier input of the same load) already holds. */
  repeats: TraceInput[]
  /** Inputs at a path the database loaded, whose contents changed since: [input, what changed]. */
  changed: [TraceInput, string][]
}

const same = (a: TraceSource, b: TraceSource) => a.size === b.size && a.headSha256 === b.headSha256

/**
 * Sort the inputs into those to load, repeats, and changed files, against what the database holds. With force,
 * every input is loaded (and recorded); without dedupe (an in-memory database), every input is loaded, unrecorded.
 */
export function planSources(inputs: readonly TraceInput[], held: readonly TraceSource[], opts: {force?: boolean; dedupe?: boolean} = {}): SourcePlan {
  const plan: SourcePlan = {load: [], record: [], repeats: [], changed: []}
  if (opts.dedupe === false) return {...plan, load: [...inputs]}
  const seen = [...held]
  for (const input of inputs) {
    const id = identify(input)
    if (!id) {
      plan.load.push(input)
      continue
    }
    if (opts.force) {
      plan.load.push(input)
      plan.record.push(id)
      continue
    }
    if (seen.some((s) => same(s, id))) {
      plan.repeats.push(input)
      continue
    }
    const old = held.find((s) => s.path === id.path)
    if (old) plan.changed.push([input, old.size === id.size ? 'same size, other contents' : `${old.size} -> ${id.size} bytes`])
    plan.load.push(input)
    plan.record.push(id)
    seen.push(id)
  }
  return plan
}

/** "a.sf, b.sf and 3 more". */
export function nameList(inputs: readonly TraceInput[], max = 3): string {
  const names = inputs.slice(0, max).map((i) => i.name)
  return inputs.length > max ? `${names.join(', ')} and ${inputs.length - max} more` : names.join(', ')
}
