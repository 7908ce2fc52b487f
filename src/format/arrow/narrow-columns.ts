// Narrow entity rows straight from column tables (src/format/columnar): the `_processes` and `_files` rows that
// NarrowBuilder's processRow/fileRow make from record objects, made from the typed columns instead. Longs are
// copied as their two 32-bit words, FOIDs as words read from their bytes, strings are interned by their UTF-8
// bytes (a string is decoded once per distinct value per column): no record object, no bigint, no string per row.
// A row with a field state the record path treats specially (a field the writer schema lacks, a null where the
// collector never writes one) is not handled here: the caller builds the record and takes the record path.
import {BoolColumn, BytesColumn, ColumnTable, IntColumn, LongColumn, NULL, ObjectColumn, PRESENT, specOf} from '../columnar/columns.js'
import {BytesTable} from '../columnar/bytes-table.js'
import {Kind} from '../records.js'
import {BoolBuffer, ColumnBuffer, Int32Buffer, Int64Buffer} from './buffers.js'

/** Where new string ids come from (StringIds). */
export interface IdSource {
  add(s: string): number
}

/**
 * String ids of one column, keyed by the value's bytes: open addressing over a copy of each distinct value's bytes.
 * Past `limit` values it starts afresh (as StringIds' columns do: a value seen again then gets a second id).
 */
export class BytesIds {
  private table = new BytesTable()
  /** Slot of the last value looked up (-1: none): runs of one value cost one comparison. */
  private last = -1

  constructor(private readonly source: IdSource, private readonly limit = 1 << 17) {}

  /** The id of row `row` of a text column. */
  id(c: BytesColumn, row: number): number {
    const b = c.b
    const at = c.st[row]
    const len = c.ln[row]
    const t = this.table
    const last = this.last
    if (last >= 0 && t.matches(last, b, at, len)) return t.vals[last]
    let s = t.slot(b, at, len)
    if (t.vals[s] === 0) {
      if (t.size >= this.limit) {
        t.clear()
        s = t.slot(b, at, len)
      }
      s = t.insert(s, b, at, len, this.source.add(c.text(row)))
    }
    this.last = s
    return t.vals[s]
  }
}

/** The rows a table buffer takes (NarrowBuilder's TableBuffer). */
export interface RowSink {
  readonly buffers: ColumnBuffer[]
  length: number
}

const P = specOf(Kind.Process)
const P_STATE = P.col('state')
const P_TS = P.col('oid.createTS')
const P_PID = P.col('oid.hpid')
const P_PTS = P.col('poid.createTS')
const P_PPID = P.col('poid.hpid')
const P_T = P.col('ts')
const P_EXE = P.col('exe')
const P_ARGS = P.col('exeArgs')
const P_UID = P.col('uid')
const P_USER = P.col('userName')
const P_GID = P.col('gid')
const P_GROUP = P.col('groupName')
const P_TTY = P.col('tty')
const P_CONTAINER = P.col('containerId')
const P_ENTRY = P.col('entry')
const P_CWD = P.col('cwd')
const P_ENV = P.col('env')

/** The interned columns of `_processes`. */
export interface ProcessIds {
  state: (s: string) => number
  exe: BytesIds
  args: BytesIds
  user: BytesIds
  group: BytesIds
  container: BytesIds
  cwd: BytesIds
  env: (s: string) => number
}

const present = (t: ColumnTable, k: number, r: number): boolean => {
  const c = t.cols[k] as LongColumn | undefined
  return c !== undefined && c.s[r] === PRESENT
}
/** Present, or a null (a nullable field the collector leaves null). */
const presentOrNull = (t: ColumnTable, k: number, r: number): boolean => {
  const c = t.cols[k] as LongColumn | undefined
  return c !== undefined && (c.s[r] === PRESENT || c.s[r] === NULL)
}

/**
 * Process row r of `t` as a `_processes` row of key k (processRow's values, in ENTITY_TABLES' column order); false,
 * and nothing appended, when the row is not one this path handles.
 */
export function processRowFromColumns(sink: RowSink, k: number, trace: number | undefined, t: ColumnTable, r: number, ids: ProcessIds): boolean {
  if (!(present(t, P_STATE, r) && present(t, P_TS, r) && present(t, P_PID, r) && present(t, P_T, r) && present(t, P_EXE, r) &&
    present(t, P_ARGS, r) && present(t, P_UID, r) && present(t, P_USER, r) && present(t, P_GID, r) && present(t, P_GROUP, r) &&
    present(t, P_TTY, r) && present(t, P_ENTRY, r) && present(t, P_CWD, r) && presentOrNull(t, P_CONTAINER, r) && t.cols[P_ENV] !== undefined)) return false
  const pts = t.cols[P_PTS] as LongColumn | undefined
  const pps = t.cols[P_PPID] as LongColumn | undefined
  // The parent OID: both words present, or null (a record lacking it takes the record path).
  const poidNull = pts === undefined || pts.s[r] !== PRESENT
  if (poidNull && !(pts !== undefined && pts.s[r] === NULL)) return false
  if (!poidNull && (pps === undefined || pps.s[r] !== PRESENT)) return false
  const b = sink.buffers
  ;(b[0] as Int32Buffer).push(k)
  ;(b[1] as Int32Buffer).push(trace)
  ;(b[2] as Int32Buffer).push(ids.state(t.symbols[(t.cols[P_STATE] as IntColumn).v[r]]))
  words(b[3], t.cols[P_PID] as LongColumn, r)
  words(b[4], t.cols[P_TS] as LongColumn, r)
  if (poidNull) {
    b[5].push(undefined)
    b[6].push(undefined)
  } else {
    words(b[5], pps!, r)
    words(b[6], pts!, r)
  }
  words(b[7], t.cols[P_T] as LongColumn, r)
  ;(b[8] as Int32Buffer).push(ids.exe.id(t.cols[P_EXE] as BytesColumn, r))
  ;(b[9] as Int32Buffer).push(ids.args.id(t.cols[P_ARGS] as BytesColumn, r))
  ;(b[10] as Int32Buffer).push((t.cols[P_UID] as IntColumn).v[r])
  ;(b[11] as Int32Buffer).push(ids.user.id(t.cols[P_USER] as BytesColumn, r))
  ;(b[12] as Int32Buffer).push((t.cols[P_GID] as IntColumn).v[r])
  ;(b[13] as Int32Buffer).push(ids.group.id(t.cols[P_GROUP] as BytesColumn, r))
  ;(b[14] as BoolBuffer).push((t.cols[P_TTY] as BoolColumn).v[r] === 1)
  const cid = t.cols[P_CONTAINER] as BytesColumn
  ;(b[15] as Int32Buffer).push(cid.s[r] === PRESENT ? ids.container.id(cid, r) : undefined)
  ;(b[16] as BoolBuffer).push((t.cols[P_ENTRY] as BoolColumn).v[r] === 1)
  ;(b[17] as Int32Buffer).push(ids.cwd.id(t.cols[P_CWD] as BytesColumn, r))
  // Environments are arrays (the row decoder's value): interned a string at a time, as the record path does.
  const env = (t.cols[P_ENV] as ObjectColumn).v[r] as readonly string[] | null | undefined
  let envIds: number[] | undefined
  if (env) {
    envIds = new Array<number>(env.length)
    for (let i = 0; i < env.length; i++) envIds[i] = ids.env(env[i])
  }
  b[18].push(envIds)
  sink.length++
  return true
}

const F = specOf(Kind.File)
const F_STATE = F.col('state')
const F_OID = F.col('oid')
const F_TS = F.col('ts')
const F_RESTYPE = F.col('restype')
const F_PATH = F.col('path')
const F_CONTAINER = F.col('containerId')

/** The interned columns of `_files`. */
export interface FileIds {
  state: (s: string) => number
  path: BytesIds
  container: BytesIds
}

/** File row r of `t` as a `_files` row of key k (fileRow's values); false, nothing appended, when not handled here. */
export function fileRowFromColumns(sink: RowSink, k: number, trace: number | undefined, t: ColumnTable, r: number, ids: FileIds): boolean {
  if (!(present(t, F_STATE, r) && present(t, F_OID, r) && present(t, F_TS, r) && present(t, F_RESTYPE, r) && present(t, F_PATH, r) &&
    presentOrNull(t, F_CONTAINER, r))) return false
  const b = sink.buffers
  ;(b[0] as Int32Buffer).push(k)
  ;(b[1] as Int32Buffer).push(trace)
  ;(b[2] as Int32Buffer).push(ids.state(t.symbols[(t.cols[F_STATE] as IntColumn).v[r]]))
  // The FOID: 20 bytes are five big-endian words (foidWords of their hex); anything else is kept as hex text.
  const oid = t.cols[F_OID] as BytesColumn
  const at = oid.st[r]
  if (oid.ln[r] === 20) {
    const ob = oid.b
    for (let w = 0; w < 5; w++) {
      const x = at + 4 * w
      ;(b[3 + w] as Int32Buffer).push((ob[x] << 24) | (ob[x + 1] << 16) | (ob[x + 2] << 8) | ob[x + 3])
    }
    b[8].push(undefined)
  } else {
    for (let w = 0; w < 5; w++) b[3 + w].push(undefined)
    b[8].push(oid.text(r))
  }
  words(b[9], t.cols[F_TS] as LongColumn, r)
  ;(b[10] as Int32Buffer).push((t.cols[F_RESTYPE] as IntColumn).v[r])
  ;(b[11] as Int32Buffer).push(ids.path.id(t.cols[F_PATH] as BytesColumn, r))
  const cid = t.cols[F_CONTAINER] as BytesColumn
  ;(b[12] as Int32Buffer).push(cid.s[r] === PRESENT ? ids.container.id(cid, r) : undefined)
  sink.length++
  return true
}

function words(b: ColumnBuffer, c: LongColumn, r: number): void {
  ;(b as Int64Buffer).pushWords(c.w[2 * r], c.w[2 * r + 1])
}
