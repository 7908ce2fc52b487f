// The narrow, load-oriented form of the `events` columns: what the DuckDB loader ingests.
//
// A wide row of ~90 catalogue values per record costs far too much to compute and to hand over one string at a
// time. Instead each event or flow record becomes one row of a narrow *fact* table (`_events`) of fixed-width
// columns: the numbers most records carry (ts, endts, tid, fd, the four flow counters) and integer keys:
//   ctx      -> `_ctx`: the record's process context, one row per distinct (header, process, parent, container,
//               pod, ancestry chain), itself made of keys into the entity tables (and the record's own OID numbers)
//   file     -> `_files`: the entity row
//   shape    -> `_shape`: the values that depend only on the kind and its flags (type, opflags, openflags,
//               is_open_*, ke.action, ke.kind), computed by the catalogue's value() once per distinct shape
//   aux      -> `_aux`: the fields only a few kinds carry (ret, ports, IPs, protocol, process-flow counters, the new
//               file of a rename), one row per record that has any (0 for the others)
// The entity tables hold each raw entity record once (`processes`, `files`, ... are views of them). The attributes
// that read entities are computed by the consumer (the query layer's SQL) from those raw fields, per entity, and
// checked against value() by the tests; an attribute the consumer cannot derive is stored per record in the fact
// table through value() (correct, only slower). Strings of the large entity tables are interned per column into a
// strings table (dense integer ids), so they cross into the database once per distinct value.
//
// Keys and string ids are local to one builder and dense from 1 (key k is row k of its table); the loader maps
// them to the database's own when it ingests, so several builders (worker threads) can feed one database.
import {Data, Field, makeData, RecordBatch, Schema, Struct} from 'apache-arrow'
import {Attribute, keMessageJson} from '../attributes.js'
import {ipv4} from '../flags.js'
import {Joined} from '../join.js'
import {Container, File, K8sEvent, Kind, Pod, Process, SFHeader, SysFlowRecord} from '../records.js'
import {BufferKind, ColumnBuffer, makeBuffer} from './buffers.js'
import {bufferKind, EVENT_COLUMNS, SHAPE_ATTRIBUTES} from './columns.js'
import {EVENTS_SPEC, IntColumn, LongColumn, PRESENT} from '../columnar/columns.js'
import {EntityStore} from '../columnar/join.js'
import {JoinedColumns, JoinScope} from '../columnar/join.js'
import {joinedAt} from '../columnar/read.js'
import {BytesIds, fileRowFromColumns, FileIds, processRowFromColumns, ProcessIds} from './narrow-columns.js'

/** A column of a narrow table. `ref`: its values (list elements) are string ids, or keys of that table. */
export interface NarrowColumn {
  name: string
  kind: BufferKind
  ref?: 'sid' | string
  /** JSON text (the query layer casts it). */
  json?: boolean
}

export interface NarrowTable {
  name: string
  columns: readonly NarrowColumn[]
}

/** How an events column is stored. */
export type Storage =
  /** A column of `_events` holding the value itself. */
  | {at: 'fact'; column: string}
  /** A column of `_aux` (reached through `_events.aux`). */
  | {at: 'aux'; column: string}
  /** A column of `_shape` (reached through `_events.shape`). */
  | {at: 'shape'; column: string}
  /** Computed by the consumer from the raw fields (the consumer said it can). */
  | {at: 'derived'}

// --- the plan -------------------------------------------------------------------------------------------------

/**
 * Record fields stored as they are, where (`_events`, or `_aux` for the fields few kinds carry), and the catalogue
 * attributes that are exactly those fields.
 */
export const RECORD_FIELDS: readonly {field: string; kind: 'int64' | 'int32'; table: '_events' | '_aux'; sf?: string}[] = [
  {field: 'ts', kind: 'int64', table: '_events', sf: 'sf.ts'},
  {field: 'endts', kind: 'int64', table: '_events', sf: 'sf.endts'},
  {field: 'tid', kind: 'int64', table: '_events', sf: 'sf.proc.tid'},
  {field: 'fd', kind: 'int32', table: '_events', sf: 'sf.file.fd'},
  {field: 'rbytes', kind: 'int64', table: '_events', sf: 'sf.flow.rbytes'},
  {field: 'rops', kind: 'int64', table: '_events', sf: 'sf.flow.rops'},
  {field: 'wbytes', kind: 'int64', table: '_events', sf: 'sf.flow.wbytes'},
  {field: 'wops', kind: 'int64', table: '_events', sf: 'sf.flow.wops'},
  {field: 'ret', kind: 'int32', table: '_aux', sf: 'sf.ret'},
  {field: 'proto', kind: 'int32', table: '_aux', sf: 'sf.net.proto'},
  {field: 'sport', kind: 'int32', table: '_aux', sf: 'sf.net.sport'},
  {field: 'dport', kind: 'int32', table: '_aux', sf: 'sf.net.dport'},
  {field: 'sip', kind: 'int32', table: '_aux'},
  {field: 'dip', kind: 'int32', table: '_aux'},
  {field: 'nthreads', kind: 'int64', table: '_aux', sf: 'sf.pf.nthreads'},
  {field: 'nexits', kind: 'int64', table: '_aux', sf: 'sf.pf.nexits'},
  {field: 'nerrors', kind: 'int64', table: '_aux', sf: 'sf.pf.nerrors'},
]
const FACT_FIELDS = RECORD_FIELDS.filter((f) => f.table === '_events')
const AUX_FIELDS = RECORD_FIELDS.filter((f) => f.table === '_aux')
/** Attributes that depend only on the record kind, its opFlags/openFlags, or a K8s event's action and kind. */

/** The fact table's keys: column name and the table it points into. */
export const FACT_KEYS: readonly {name: string; table: string}[] = [
  {name: 'ctx', table: '_ctx'},
  {name: 'file', table: '_files'},
  {name: 'shape', table: '_shape'},
  {name: 'aux', table: '_aux'},
]


const key: NarrowColumn = {name: 'key', kind: 'int32'}
const sid = (name: string): NarrowColumn => ({name, kind: 'int32', ref: 'sid'})
const sidList = (name: string): NarrowColumn => ({name, kind: 'list<int32>', ref: 'sid'})
const text = (name: string, json = false): NarrowColumn => ({name, kind: 'utf8', json})
const texts = (name: string): NarrowColumn => ({name, kind: 'list<utf8>'})
const i32 = (name: string): NarrowColumn => ({name, kind: 'int32'})
const i64 = (name: string): NarrowColumn => ({name, kind: 'int64'})
const u32 = (name: string): NarrowColumn => ({name, kind: 'uint32'})
const bool = (name: string): NarrowColumn => ({name, kind: 'bool'})

/**
 * The raw entity records, one row each (`key` = row number), fields in snake_case of their Avro names (OIDs
 * flattened as `<field>_hpid`/`<field>_create_ts`), plus `trace`: the input they were read from. Pod IPs are
 * dotted text; labels, selectors and services (clusterIP dotted) are JSON; a k8s message is JSON without the
 * trailing newline and NUL the collector leaves on it.
 */
export const ENTITY_TABLES: readonly NarrowTable[] = [
  {name: '_headers', columns: [key, text('trace'), i64('version'), text('exporter'), text('ip'), text('filename')]},
  {name: '_processes', columns: [key, sid('trace'), sid('state'), i64('oid_hpid'), i64('oid_create_ts'), i64('poid_hpid'), i64('poid_create_ts'), i64('ts'), sid('exe'), sid('exe_args'), i32('uid'), sid('user_name'), i32('gid'), sid('group_name'), bool('tty'), sid('container_id'), bool('entry'), sid('cwd'), sidList('env')]},
  // The FOID as five big-endian 32-bit words (`oid_text` only when it is not 40 hex digits).
  {name: '_files', columns: [key, sid('trace'), sid('state'), u32('oid1'), u32('oid2'), u32('oid3'), u32('oid4'), u32('oid5'), text('oid_text'), i64('ts'), i32('restype'), sid('path'), sid('container_id')]},
  {name: '_containers', columns: [key, text('trace'), text('id'), text('name'), text('image'), text('imageid'), text('type'), bool('privileged'), text('pod_id')]},
  {name: '_pods', columns: [key, text('trace'), i64('ts'), text('id'), text('name'), text('node_name'), texts('host_ip'), texts('internal_ip'), text('namespace'), i64('restart_count'), text('labels', true), text('selectors', true), text('services', true)]},
  {name: '_k8s_events', columns: [text('trace'), i64('ts'), text('kind'), text('action'), text('message', true)]},
]

/** The user-facing name of each entity table (the query layer makes a view of each). */
export const ENTITY_VIEWS: Readonly<Record<string, string>> = {
  _headers: 'headers', _processes: 'processes', _files: 'files', _containers: 'containers', _pods: 'pods', _k8s_events: 'k8s_events',
}

/** `_ctx`: a process context. `proc`/`pproc` are `_processes` keys, `anc` the ancestry (self first). */
/** `_aux`: the fields few record kinds carry, and the new file of a rename/link (a `_files` key). */
const AUX_TABLE: NarrowTable = {
  name: '_aux',
  columns: [key, {name: 'newfile', kind: 'int32', ref: '_files'}, ...AUX_FIELDS.map((f): NarrowColumn => ({name: f.field, kind: f.kind}))],
}

const CTX_TABLE: NarrowTable = {
  name: '_ctx',
  columns: [
    key, {name: 'header', kind: 'int32', ref: '_headers'}, {name: 'proc', kind: 'int32', ref: '_processes'}, {name: 'pproc', kind: 'int32', ref: '_processes'},
    {name: 'container', kind: 'int32', ref: '_containers'}, {name: 'pod', kind: 'int32', ref: '_pods'},
    i64('pid'), i64('create_ts'), {name: 'anc', kind: 'list<int32>', ref: '_processes'},
  ],
}

export interface NarrowPlan {
  /** Storage of every events column, by name. */
  storage: ReadonlyMap<string, Storage>
  shape: readonly {attr: Attribute; col: NarrowColumn}[]
  generic: readonly {attr: Attribute; col: NarrowColumn; on: ReadonlySet<Kind> | undefined}[]
  /** Every narrow table, in ingest order: entity tables, `_ctx`, `_shape`, `_events`. */
  tables: readonly NarrowTable[]
}

/**
 * The plan for a consumer that can compute the attributes in `derivable` (sf names) from the raw entity fields
 * and record fields; `time` and the attributes it lists are not stored. Deterministic: two builders (threads)
 * with the same `derivable` make the same tables.
 */
export function narrowPlan(derivable: ReadonlySet<string>): NarrowPlan {
  const storage = new Map<string, Storage>()
  const shape: {attr: Attribute; col: NarrowColumn}[] = []
  const generic: {attr: Attribute; col: NarrowColumn; on: ReadonlySet<Kind> | undefined}[] = []
  const bySf = new Map(RECORD_FIELDS.filter((f) => f.sf).map((f) => [f.sf!, f]))
  for (const c of EVENT_COLUMNS) {
    if (c.attr === undefined) {
      storage.set(c.name, {at: 'derived'})
      continue
    }
    const sf = c.attr.sf!
    const field = bySf.get(sf)
    const col: NarrowColumn = {name: c.name, kind: bufferKind(c.type), json: c.type === 'json'}
    if (field) storage.set(c.name, field.table === '_aux' ? {at: 'aux', column: field.field} : {at: 'fact', column: field.field})
    else if (derivable.has(sf)) storage.set(c.name, {at: 'derived'})
    else if (SHAPE_ATTRIBUTES.has(sf)) {
      shape.push({attr: c.attr, col})
      storage.set(c.name, {at: 'shape', column: c.name})
    } else {
      generic.push({attr: c.attr, col, on: c.attr.on ? new Set(c.attr.on) : undefined})
      storage.set(c.name, {at: 'fact', column: c.name})
    }
  }
  const tables: NarrowTable[] = [
    ...ENTITY_TABLES,
    CTX_TABLE,
    {name: '_shape', columns: [key, ...shape.map((s) => s.col)]},
    AUX_TABLE,
    {
      name: '_events',
      columns: [
        ...FACT_KEYS.map((k): NarrowColumn => ({name: k.name, kind: 'int32', ref: k.table})),
        ...FACT_FIELDS.map((f): NarrowColumn => ({name: f.field, kind: f.kind})),
        ...generic.map((g) => g.col),
      ],
    },
  ]
  return {storage, shape, generic, tables}
}

// --- building -------------------------------------------------------------------------------------------------

/** What one take() hands to the loader: new strings (ids first, first+1, ...) and rows of narrow tables. */
export interface NarrowBatch {
  strings: {first: number; values: string[]}
  /** In the plan's table order; only tables with rows. */
  tables: {name: string; batch: RecordBatch}[]
  /** Rows of `_events` in this batch. */
  events: number
}

/**
 * String ids, dense from 1, shared by every interned column. Each column keeps its own small map (and the last
 * string it saw), so lookups stay cheap; a map past `limit` entries starts afresh (a string seen again then gets a
 * second id: harmless, and memory stays bounded).
 */
export class StringIds {
  private next = 1
  private pending: string[] = []
  private pendingFirst = 1

  constructor(readonly limit = 1 << 17) {}

  column(): (s: string) => number {
    let map = new Map<string, number>()
    let last: string | undefined
    let lastId = 0
    return (s: string): number => {
      if (s === last) return lastId
      let id = map.get(s)
      if (id === undefined) {
        if (map.size >= this.limit) map = new Map()
        id = this.next++
        map.set(s, id)
        this.pending.push(s)
      }
      last = s
      lastId = id
      return id
    }
  }

  /** A new id for `s` (for a column that keeps its own dictionary, as BytesIds does). */
  add(s: string): number {
    this.pending.push(s)
    return this.next++
  }

  take(): {first: number; values: string[]} {
    const out = {first: this.pendingFirst, values: this.pending}
    this.pending = []
    this.pendingFirst = this.next
    return out
  }
}

/** JSON text the database can cast to JSON: as it is when valid, else a JSON string holding the text. */
export function jsonText(v: string): string {
  try {
    JSON.parse(v)
    return v
  } catch {
    return JSON.stringify(v)
  }
}

function encodeValue(col: NarrowColumn, v: unknown): unknown {
  if (v === undefined || v === null) return undefined
  if (col.json) return jsonText(String(v))
  if (col.kind === 'list<utf8>') return (v as unknown[]).map(String)
  if (col.kind === 'utf8') return String(v)
  return v
}

export class TableBuffer {
  readonly buffers: ColumnBuffer[]
  readonly schema: Schema
  length = 0

  constructor(readonly def: NarrowTable, capacity?: number) {
    this.buffers = def.columns.map((c) => makeBuffer(c.kind, capacity))
    this.schema = new Schema(def.columns.map((c, i) => new Field(c.name, this.buffers[i].type, true)))
  }

  /** A row, values in column order (already encoded). */
  row(values: readonly unknown[]): void {
    for (let i = 0; i < values.length; i++) this.buffers[i].push(values[i])
    this.length++
  }

  take(): RecordBatch | undefined {
    if (this.length === 0) return undefined
    const n = this.length
    this.length = 0
    return recordBatch(this.schema, n, this.buffers.map((b) => b.finish()))
  }
}

function recordBatch(schema: Schema, n: number, children: Data[]): RecordBatch {
  return new RecordBatch(schema, makeData({type: new Struct(schema.fields), length: n, nullCount: 0, children}))
}

/** Narrow keys of one join scope's rows (0: not yet) and its narrow contexts by process row. */
interface ScopeKeys {
  header: number
  ctx: Int32Array
  file: Int32Array
  proc: Int32Array
  container: Int32Array
  pod: Int32Array
  ctxByProc: Map<number, ColumnCtx[]>
}

/** A narrow context made from a scope's rows (CtxEntry with rows for objects). */
interface ColumnCtx {
  key: number
  pproc: number
  container: number
  pod: number
  chain: Int32Array
}

function sameRows(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

interface CtxEntry {
  key: number
  header: SFHeader | undefined
  proc: Process | undefined
  pproc: Process | undefined
  container: Container | undefined
  pod: Pod | undefined
  chain: readonly Process[]
}

interface Col64 {
  v: BigInt64Array
  valid: Uint8Array
  count: number
}
interface Col32 {
  v: Int32Array
  valid: Uint8Array
  count: number
}
/** Set one fact value; a field the writer schema lacked (undefined) stays NULL. */
function put64(c: Col64, i: number, byte: number, bit: number, v: bigint | undefined): void {
  if (v === undefined) return
  c.v[i] = v
  c.valid[byte] |= bit
  c.count++
}
function put32(c: Col32, i: number, byte: number, bit: number, v: number | undefined): void {
  if (v === undefined) return
  c.v[i] = v
  c.valid[byte] |= bit
  c.count++
}
/** Rows [from, to) of a long column of the events table (as words) into a fact column from row `row0`. */
function copyLongs(c: Col64, words: Int32Array, src: LongColumn | undefined, from: number, to: number, row0: number): void {
  if (src === undefined) return
  words.set(src.w.subarray(2 * from, 2 * to), 2 * row0)
  c.count += validity(c.valid, src.s, from, to, row0)
}

/** Set the validity bits (from row `row0`) of the rows of [from, to) whose state is PRESENT; returns how many. */
function validity(valid: Uint8Array, states: Uint8Array, from: number, to: number, row0: number): number {
  let n = 0
  for (let i = from, r = row0; i < to; i++, r++) {
    if (states[i] === PRESENT) {
      valid[r >> 3] |= 1 << (r & 7)
      n++
    }
  }
  return n
}

function pushNulls(b: ColumnBuffer, count: number): void {
  if (b.pushNulls !== undefined) b.pushNulls(count)
  else for (let k = 0; k < count; k++) b.push(undefined)
}

function grownInts(a: Int32Array, need: number): Int32Array {
  let n = a.length * 2
  while (n < need) n *= 2
  const b = new Int32Array(n)
  b.set(a)
  return b
}

/** Events table column indexes. */
const EV = (name: string) => EVENTS_SPEC.col(name)
const EV_TS = EV('ts')
const EV_TID = EV('tid')
const EV_END = EV('endTs')
const EV_RB = EV('numRRecvBytes')
const EV_RO = EV('numRRecvOps')
const EV_WB = EV('numWSendBytes')
const EV_WO = EV('numWSendOps')
const EV_FD = EV('fd')
const EV_FLAGS = EV('opFlags')
const EV_PID = EV('procOID.hpid')
const EV_PTS = EV('procOID.createTS')
const EV_OPEN = EV('openFlags')
const EV_PROTO = EV('proto')
const EV_SPORT = EV('sport')
const EV_DPORT = EV('dport')
const EV_SIP = EV('sip')
const EV_DIP = EV('dip')
const EV_RET = EV('ret')
const EV_NTC = EV('numThreadsCloned')
const EV_NTE = EV('numThreadsExited')
const EV_NCE = EV('numCloneErrors')

/** An int field of events row i (undefined when the record lacks it, as in the typed record). */
function num(C: readonly unknown[], k: number, i: number): number | undefined {
  const c = C[k] as IntColumn | undefined
  return c !== undefined && c.s[i] === PRESENT ? c.v[i] : undefined
}

function big(C: readonly unknown[], k: number, i: number): bigint | undefined {
  const c = C[k] as LongColumn | undefined
  return c !== undefined && c.s[i] === PRESENT ? c.v[i] : undefined
}

/** Intern a string column value, or NULL for a field the writer schema lacked. */
function opt(intern: (s: string) => number, v: string | undefined): number | undefined {
  return v === undefined ? undefined : intern(v)
}
function json(v: unknown): string | undefined {
  return v === undefined ? undefined : JSON.stringify(v)
}
const col64 = (cap: number): Col64 => ({v: new BigInt64Array(cap), valid: new Uint8Array(cap >> 3), count: 0})
const col32 = (cap: number): Col32 => ({v: new Int32Array(cap), valid: new Uint8Array(cap >> 3), count: 0})

/** Fact columns filled by hand per record kind: values plus validity bits (LSB first). */
class FactBuffers {
  n = 0
  readonly keys: Int32Array[]
  readonly ts: BigInt64Array
  readonly endts: Col64
  readonly tid: Col64
  readonly fd: Col32
  readonly rbytes: Col64
  readonly rops: Col64
  readonly wbytes: Col64
  readonly wops: Col64

  /** The long columns as 32-bit word pairs (the columnar path copies words, not bigints). */
  readonly words: Record<'ts' | 'tid' | 'endts' | 'rbytes' | 'rops' | 'wbytes' | 'wops', Int32Array>

  constructor(readonly cap: number) {
    this.keys = FACT_KEYS.map(() => new Int32Array(cap))
    this.ts = new BigInt64Array(cap)
    this.endts = col64(cap)
    this.tid = col64(cap)
    this.fd = col32(cap)
    this.rbytes = col64(cap)
    this.rops = col64(cap)
    this.wbytes = col64(cap)
    this.wops = col64(cap)
    const ww = (a: BigInt64Array) => new Int32Array(a.buffer, a.byteOffset, a.length * 2)
    this.words = {ts: ww(this.ts), tid: ww(this.tid.v), endts: ww(this.endts.v), rbytes: ww(this.rbytes.v), rops: ww(this.rops.v), wbytes: ww(this.wbytes.v), wops: ww(this.wops.v)}
  }

  /** Empty again (validity cleared), for reuse. */
  reset(): this {
    this.n = 0
    for (const rf of FACT_FIELDS) {
      if (rf.field === 'ts') continue
      const c = this.field(rf.field)
      c.valid.fill(0)
      c.count = 0
    }
    return this
  }

  /** The buffer of a fact field (ts has no validity: every record has one). */
  field(name: string): Col64 | Col32 {
    if (name === 'ts') return {v: this.ts, valid: new Uint8Array(0), count: this.n}
    return (this as unknown as Record<string, Col64 | Col32>)[name]
  }

  /** Was any of the arrays transferred to another thread (its memory is gone)? */
  detached(): boolean {
    if (this.keys.some((k) => k.buffer.byteLength === 0) || this.ts.buffer.byteLength === 0) return true
    for (const rf of FACT_FIELDS) {
      if (rf.field === 'ts') continue
      const c = this.field(rf.field)
      if (c.v.buffer.byteLength === 0 || c.valid.buffer.byteLength === 0) return true
    }
    return false
  }

  /** The same columns with twice the room. */
  grown(): FactBuffers {
    const f = new FactBuffers(this.cap * 2)
    f.n = this.n
    this.keys.forEach((k, i) => f.keys[i].set(k))
    f.ts.set(this.ts)
    for (const rf of FACT_FIELDS) {
      if (rf.field === 'ts') continue
      const a = this.field(rf.field)
      const b = f.field(rf.field)
      ;(b.v as Int32Array).set(a.v as Int32Array)
      b.valid.set(a.valid)
      b.count = a.count
    }
    return f
  }
}

/**
 * Keys of entity objects, by identity. Entities belong to one header, so a new header starts a new generation; the
 * previous ones are kept until the end of the batch (records of the same block before the header still use them).
 */
class EntityKeys<T extends object> {
  private current = new Map<T, number>()
  private olds: Map<T, number>[] = []
  next = 1
  get(o: T): number | undefined {
    const k = this.current.get(o)
    if (k !== undefined || this.olds.length === 0) return k
    for (const m of this.olds) {
      const x = m.get(o)
      if (x !== undefined) return x
    }
    return undefined
  }
  add(o: T): number {
    const k = this.next++
    this.current.set(o, k)
    return k
  }
  rotate(): void {
    if (this.current.size > 0) this.olds.push(this.current)
    this.current = new Map()
  }
  endBatch(): void {
    if (this.olds.length > 0) this.olds = []
  }
}

export const FACT_ROWS = 32 * 1024

/**
 * Builds narrow batches. The loader gives it every raw entity record (addEntity, in file order) and the joined
 * records (addJoined, after the entities of the same block), and calls take() whenever `ready`, and once at the end. A caller that has only joined records
 * may skip addEntity: the entities the records reference are then added when first referenced.
 */
export class NarrowBuilder {
  readonly plan: NarrowPlan
  private readonly ids = new StringIds()
  private trace: string | undefined
  private pendingRows = 0

  private readonly tables: Record<string, TableBuffer>
  private readonly shapeAttrs: NarrowPlan['shape']
  /** `onKind`: `on` by Kind (1: the attribute applies). */
  private readonly generic: {buf: ColumnBuffer; attr: Attribute; col: NarrowColumn; on: ReadonlySet<Kind> | undefined; onKind: Uint8Array | undefined}[]
  private fact = new FactBuffers(FACT_ROWS)
  private readonly factSchema: Schema

  private readonly headerKeys = new EntityKeys<SFHeader>()
  private readonly processKeys = new EntityKeys<Process>()
  private readonly fileKeys = new EntityKeys<File>()
  private readonly containerKeys = new EntityKeys<Container>()
  private readonly podKeys = new EntityKeys<Pod>()
  private ctxNext = 1
  private shapeNext = 1
  private readonly shapeKeys = new Map<number | string, number>()
  private readonly ctxByProc = new WeakMap<Process, CtxEntry[]>()
  private ctxByOid = new Map<string, CtxEntry>()
  private lastCtx: CtxEntry | undefined
  private lastHeader: SFHeader | undefined | null = null
  private lastHeaderKey: number | undefined = undefined

  // Interned columns.
  private readonly pTrace; private readonly pState; private readonly pExe; private readonly pArgs; private readonly pUser
  private readonly pGroup; private readonly pContainer; private readonly pCwd; private readonly pEnv
  private readonly fTrace; private readonly fState; private readonly fPath; private readonly fContainer
  // The same columns interned by their bytes (entities read from column tables).
  private readonly pIds: ProcessIds
  private readonly fIds: FileIds

  constructor(derivable: ReadonlySet<string>) {
    this.plan = narrowPlan(derivable)
    const byName = new Map(this.plan.tables.map((t) => [t.name, t]))
    this.tables = Object.fromEntries(this.plan.tables.filter((t) => t.name !== '_events').map((t) => [t.name, new TableBuffer(t)]))
    this.shapeAttrs = this.plan.shape
    this.generic = this.plan.generic.map((g) => ({...g, buf: makeBuffer(g.col.kind, FACT_ROWS), onKind: g.on && Uint8Array.from({length: 16}, (_, k) => (g.on!.has(k) ? 1 : 0))}))
    const factDef = byName.get('_events')!
    this.factSchema = new Schema(factDef.columns.map((c) => new Field(c.name, makeBuffer(c.kind, 1).type, true)))
    const col = () => this.ids.column()
    this.pTrace = col(); this.pState = col(); this.pExe = col(); this.pArgs = col(); this.pUser = col()
    this.pGroup = col(); this.pContainer = col(); this.pCwd = col(); this.pEnv = col()
    this.fTrace = col(); this.fState = col(); this.fPath = col(); this.fContainer = col()
    const bytes = () => new BytesIds(this.ids)
    this.pIds = {state: this.pState, exe: bytes(), args: bytes(), user: bytes(), group: bytes(), container: bytes(), cwd: bytes(), env: this.pEnv}
    this.fIds = {state: this.fState, path: bytes(), container: bytes()}
  }

  /** The input the next records come from (the `trace` column of entity rows). */
  setTrace(name: string | undefined): void {
    this.trace = name
  }

  /** Rows are waiting: take() now to keep batches (and memory) bounded. */
  get ready(): boolean {
    return this.fact.n >= FACT_ROWS - FACT_ROWS / 8 || this.pendingRows >= FACT_ROWS
  }

  // --- entities ---

  /** A raw entity record (header, container, process, file, pod); other records are ignored. */
  addEntity(r: SysFlowRecord): void {
    switch (r.kind) {
      case Kind.Header:
        this.headerRow(r)
        return
      case Kind.Process:
        this.processRow(r)
        return
      case Kind.File:
        this.fileRow(r)
        return
      case Kind.Container:
        this.containerRow(r)
        return
      case Kind.Pod:
        this.podRow(r)
        return
      default:
    }
  }

  private headerRow(h: SFHeader): number {
    const k = this.headerKeys.add(h)
    this.pendingRows++
    this.tables._headers.row([k, this.trace, h.version, h.exporter, h.ip, h.filename])
    // Entities belong to one header: the old ones go at the end of this batch.
    if (this.ctxByOid.size > 65536) this.ctxByOid = new Map()
    this.processKeys.rotate()
    this.fileKeys.rotate()
    this.containerKeys.rotate()
    this.podKeys.rotate()
    return k
  }

  private processRow(p: Process): number {
    const k = this.processKeys.add(p)
    this.pendingRows++
    const env = p.env
    let envIds: number[] | undefined
    if (env) {
      envIds = new Array<number>(env.length)
      for (let i = 0; i < env.length; i++) envIds[i] = this.pEnv(env[i])
    }
    this.tables._processes.row([
      k, opt(this.pTrace, this.trace), opt(this.pState, p.state), p.oid.hpid, p.oid.createTS, p.poid?.hpid, p.poid?.createTS, p.ts,
      opt(this.pExe, p.exe), opt(this.pArgs, p.exeArgs), p.uid, opt(this.pUser, p.userName), p.gid, opt(this.pGroup, p.groupName), p.tty,
      p.containerId === null ? undefined : this.pContainer(p.containerId), p.entry, opt(this.pCwd, p.cwd), envIds,
    ])
    return k
  }

  private fileRow(f: File): number {
    const k = this.fileKeys.add(f)
    this.pendingRows++
    const w = foidWords(f.oid)
    this.tables._files.row([
      k, opt(this.fTrace, this.trace), opt(this.fState, f.state),
      w?.[0], w?.[1], w?.[2], w?.[3], w?.[4], w ? undefined : f.oid, f.ts, f.restype, opt(this.fPath, f.path),
      f.containerId === null ? undefined : this.fContainer(f.containerId),
    ])
    return k
  }

  private containerRow(c: Container): number {
    const k = this.containerKeys.add(c)
    this.pendingRows++
    this.tables._containers.row([k, this.trace, c.id, c.name, c.image, c.imageid, c.type, c.privileged, c.podId ?? undefined])
    return k
  }

  private podRow(p: Pod): number {
    const k = this.podKeys.add(p)
    this.pendingRows++
    // The services as the catalogue shows them (sf.pod.services): clusterIP as dotted strings.
    // (Fields the writer schema lacked are null, as in the catalogue.)
    const services = p.services?.map((s) => ({
      name: s.name ?? null, id: s.id ?? null, namespace: s.namespace ?? null,
      portList: (s.portList ?? []).map((pt) => ({port: pt.port ?? null, targetPort: pt.targetPort ?? null, nodePort: pt.nodePort ?? null, proto: pt.proto ?? null})),
      clusterIP: (s.clusterIP ?? []).map(ipv4),
    }))
    this.tables._pods.row([
      k, this.trace, p.ts, p.id, p.name, p.nodeName, p.hostIP?.map(ipv4), p.internalIP?.map(ipv4), p.namespace, p.restartCount,
      json(p.labels), json(p.selectors), json(services),
    ])
    return k
  }

  private k8sEventRow(e: K8sEvent): void {
    this.pendingRows++
    this.tables._k8s_events.row([this.trace, e.ts, e.component, e.action, e.message === undefined ? undefined : jsonText(keMessageJson(e.message))])
  }

  private processKey(p: Process | undefined): number | undefined {
    return p === undefined ? undefined : (this.processKeys.get(p) ?? this.processRow(p))
  }

  // --- joined records ---

  /** One batch of joined event and flow records (one block). */
  addJoined(batch: readonly Joined[]): void {
    for (let n = 0; n < batch.length; n++) {
      if (this.fact.n >= this.fact.cap) this.fact = this.fact.grown()
      this.addOne(batch[n])
    }
    this.processKeys.endBatch()
    this.fileKeys.endBatch()
    this.containerKeys.endBatch()
    this.podKeys.endBatch()
  }

  private addOne(j: Joined): void {
    const f = this.fact
    const i = f.n++
    const r = j.rec
    const bit = 1 << (i & 7)
    const byte = i >> 3
    f.keys[0][i] = this.ctxKey(j)
    f.keys[1][i] = j.file === undefined ? 0 : (this.fileKeys.get(j.file) ?? this.fileRow(j.file))
    f.keys[2][i] = this.shapeKey(j)
    f.ts[i] = r.ts
    let aux = 0
    switch (r.kind) {
      case Kind.FileFlow:
      case Kind.NetworkFlow:
        put64(f.tid, i, byte, bit, r.tid)
        put64(f.endts, i, byte, bit, r.endTs)
        put32(f.fd, i, byte, bit, r.fd)
        put64(f.rbytes, i, byte, bit, r.numRRecvBytes)
        put64(f.rops, i, byte, bit, r.numRRecvOps)
        put64(f.wbytes, i, byte, bit, r.numWSendBytes)
        put64(f.wops, i, byte, bit, r.numWSendOps)
        if (r.kind === Kind.NetworkFlow) aux = this.auxRow(undefined, undefined, r.proto, r.sport, r.dport, r.sip, r.dip)
        break
      case Kind.ProcessEvent:
        put64(f.tid, i, byte, bit, r.tid)
        aux = this.auxRow(undefined, r.ret)
        break
      case Kind.FileEvent:
        put64(f.tid, i, byte, bit, r.tid)
        aux = this.auxRow(j.newFile === undefined ? undefined : (this.fileKeys.get(j.newFile) ?? this.fileRow(j.newFile)), r.ret)
        break
      case Kind.NetworkEvent:
        put64(f.tid, i, byte, bit, r.tid)
        aux = this.auxRow(undefined, r.ret, r.proto, r.sport, r.dport, r.sip, r.dip)
        break
      case Kind.ProcessFlow:
        put64(f.endts, i, byte, bit, r.endTs)
        aux = this.auxRow(undefined, undefined, undefined, undefined, undefined, undefined, undefined, r.numThreadsCloned, r.numThreadsExited, r.numCloneErrors)
        break
      case Kind.K8sEvent:
        this.k8sEventRow(r)
        break
    }
    f.keys[3][i] = aux
    const g = this.generic
    for (let k = 0; k < g.length; k++) {
      const x = g[k]
      x.buf.push(x.on !== undefined && !x.on.has(r.kind) ? undefined : encodeValue(x.col, x.attr.value(j)))
    }
  }

  /**
   * One joined block in columns (src/format/columnar): the same rows addJoined makes from Joined objects, read from
   * the column tables. Fact values are copied as 32-bit words (no bigint per value); contexts and files are keyed
   * once per scope row, shapes once per distinct shape; a Joined object is built only for what needs the catalogue's
   * value() (a new context or shape, K8s events).
   */
  addJoinedColumns(j: JoinedColumns): void {
    const ev = j.block.events
    const kinds = j.block.eventKind
    const C = ev.cols
    const ts = (C[EV_TS] as LongColumn | undefined)?.w
    const tid = C[EV_TID] as LongColumn | undefined
    const endTs = C[EV_END] as LongColumn | undefined
    const rb = C[EV_RB] as LongColumn | undefined
    const ro = C[EV_RO] as LongColumn | undefined
    const wb = C[EV_WB] as LongColumn | undefined
    const wo = C[EV_WO] as LongColumn | undefined
    const fd = C[EV_FD] as IntColumn | undefined
    const procPid = C[EV_PID] as LongColumn | undefined
    const procTs = C[EV_PTS] as LongColumn | undefined
    const opFlags = C[EV_FLAGS] as IntColumn | undefined
    const openFlags = C[EV_OPEN] as IntColumn | undefined
    const g = this.generic
    for (const seg of j.segments) {
      const s = seg.scope
      const keys = this.keysOf(s)
      let lastC = -1
      let lastCk = 0
      // Room for the whole segment: its fixed-width fields are copied column by column below.
      while (this.fact.n + (seg.to - seg.from) > this.fact.cap) this.fact = this.fact.grown()
      const f = this.fact
      const row0 = f.n
      f.n += seg.to - seg.from
      for (let i = seg.from; i < seg.to; i++) {
        const row = row0 + (i - seg.from)
        const kind = kinds[i]
        // Context: once per scope context row (unresolved processes and K8s events go the row way: rare).
        const c = j.ctx[i]
        let ck: number
        if (c >= 0 && c === lastC) ck = lastCk
        else if (c >= 0) {
          if (c >= keys.ctx.length) keys.ctx = grownInts(keys.ctx, c + 1)
          ck = keys.ctx[c]
          if (ck === 0) ck = keys.ctx[c] = this.ctxKeyOf(s, keys, c, procPid!.v[i], procTs!.v[i])
          lastC = c
          lastCk = ck
        } else ck = this.ctxKey(joinedAt(j, s, i) as unknown as Joined)
        f.keys[0][row] = ck
        const fr = j.fileRow[i]
        f.keys[1][row] = fr < 0 ? 0 : this.fileKeyOf(fr, s, keys)
        // Shape: kind and flags, the key addJoined's shapeKey computes; a shape not seen yet is made from the record.
        let shape = 0
        if (kind !== Kind.K8sEvent) {
          const flags = opFlags !== undefined && opFlags.s[i] === PRESENT ? opFlags.v[i] : undefined
          const open = kind === Kind.FileFlow ? (openFlags !== undefined && openFlags.s[i] === PRESENT ? openFlags.v[i] : undefined) : 0
          if (kind === this.lastShapeKind && flags === this.lastShapeFlags && open === this.lastShapeOpen) shape = this.lastShape
          else {
            const sk = flags !== undefined && open !== undefined && flags >= 0 && flags < 0x1000000 && open >= 0 && open < 0x100000 ? kind + 16 * (flags + 0x1000000 * open) : `${kind}:${flags}:${open}`
            const known = this.shapeKeys.get(sk)
            if (known !== undefined) {
              this.lastShapeKind = kind
              this.lastShapeFlags = flags
              this.lastShapeOpen = open
              this.lastShape = known
              shape = known
            }
          }
        }
        f.keys[2][row] = shape !== 0 ? shape : this.shapeKey(joinedAt(j, s, i) as unknown as Joined)
        let aux = 0
        switch (kind) {
          case Kind.FileFlow:
            break
          case Kind.NetworkFlow:
            aux = this.auxRow(undefined, undefined, num(C, EV_PROTO, i), num(C, EV_SPORT, i), num(C, EV_DPORT, i), num(C, EV_SIP, i), num(C, EV_DIP, i))
            break
          case Kind.ProcessEvent:
            aux = this.auxRow(undefined, num(C, EV_RET, i))
            break
          case Kind.FileEvent:
            aux = this.auxRow(j.newFileRow[i] >= 0 ? this.fileKeyOf(j.newFileRow[i], s, keys) : undefined, num(C, EV_RET, i))
            break
          case Kind.NetworkEvent:
            aux = this.auxRow(undefined, num(C, EV_RET, i), num(C, EV_PROTO, i), num(C, EV_SPORT, i), num(C, EV_DPORT, i), num(C, EV_SIP, i), num(C, EV_DIP, i))
            break
          case Kind.ProcessFlow:
            aux = this.auxRow(undefined, undefined, undefined, undefined, undefined, undefined, undefined, big(C, EV_NTC, i), big(C, EV_NTE, i), big(C, EV_NCE, i))
            break
          case Kind.K8sEvent:
            this.k8sEventRow((joinedAt(j, s, i) as unknown as Joined).rec as K8sEvent)
            break
        }
        f.keys[3][row] = aux
      }
      // The attributes stored per record, a column at a time: the rows of kinds that lack one are NULL in runs.
      for (let k = 0; k < g.length; k++) {
        const x = g[k]
        let nulls = 0
        for (let i = seg.from; i < seg.to; i++) {
          if (x.onKind !== undefined && x.onKind[kinds[i]] === 0) {
            nulls++
            continue
          }
          if (nulls > 0) pushNulls(x.buf, nulls)
          nulls = 0
          x.buf.push(encodeValue(x.col, x.attr.value(joinedAt(j, s, i) as unknown as Joined)))
        }
        if (nulls > 0) pushNulls(x.buf, nulls)
      }
      // The fixed-width fields, a column at a time: the words as they are, a validity bit where the record has the
      // field (every record has a ts); a row without the field keeps whatever its words were, under a clear bit.
      const words = f.words
      const from = seg.from
      const to = seg.to
      words.ts.set(ts!.subarray(2 * from, 2 * to), 2 * row0)
      copyLongs(f.tid, words.tid, tid, from, to, row0)
      copyLongs(f.endts, words.endts, endTs, from, to, row0)
      copyLongs(f.rbytes, words.rbytes, rb, from, to, row0)
      copyLongs(f.rops, words.rops, ro, from, to, row0)
      copyLongs(f.wbytes, words.wbytes, wb, from, to, row0)
      copyLongs(f.wops, words.wops, wo, from, to, row0)
      if (fd !== undefined) {
        f.fd.v.set(fd.v.subarray(from, to), row0)
        f.fd.count += validity(f.fd.valid, fd.s, from, to, row0)
      }
    }
    this.processKeys.endBatch()
    this.fileKeys.endBatch()
    this.containerKeys.endBatch()
    this.podKeys.endBatch()
  }

  /** Per join scope: narrow keys of its rows (0: not yet), and its narrow contexts by process row. */
  private readonly scopeKeys = new WeakMap<JoinScope, ScopeKeys>()

  private keysOf(s: JoinScope): ScopeKeys {
    let keys = this.scopeKeys.get(s)
    if (keys === undefined) {
      const ints = (n: number) => new Int32Array(Math.max(64, n * 2))
      keys = {header: 0, ctx: ints(s.nctx), file: ints(s.files.n), proc: ints(s.processes.n), container: ints(s.containers.n), pod: ints(s.pods.n), ctxByProc: new Map()}
      this.scopeKeys.set(s, keys)
    }
    return keys
  }

  /**
   * A raw entity of a join scope, from its column table (the loader gives them in file order, as addEntity's):
   * global row g of the scope's store of `kind` (a header: -1). Processes and files are copied from their columns;
   * the few headers, containers and pods, and rows the column path does not handle, are made from their records.
   */
  addEntityColumns(s: JoinScope, kind: number, g: number): void {
    const keys = this.keysOf(s)
    switch (kind) {
      case Kind.Header:
        keys.header = this.headerRow(s.header() as SFHeader)
        return
      case Kind.Process:
        this.processKeyOf(g, s, keys)
        return
      case Kind.File:
        this.fileKeyOf(g, s, keys)
        return
      case Kind.Container:
        if (g >= keys.container.length) keys.container = grownInts(keys.container, g + 1)
        keys.container[g] = this.containerRow(s.containers.record(g, Kind.Container) as Container)
        return
      case Kind.Pod:
        if (g >= keys.pod.length) keys.pod = grownInts(keys.pod, g + 1)
        keys.pod[g] = this.podRow(s.pods.record(g, Kind.Pod) as Pod)
        return
      default:
    }
  }

  private processKeyOf(g: number, s: JoinScope, keys: ScopeKeys): number {
    if (g >= keys.proc.length) keys.proc = grownInts(keys.proc, g + 1)
    let k = keys.proc[g]
    if (k === 0) {
      const store = s.processes
      store.locate(g)
      k = this.processKeys.next++
      this.pendingRows++
      if (!processRowFromColumns(this.tables._processes, k, this.trace === undefined ? undefined : this.pTrace(this.trace), store.table, store.row, this.pIds)) {
        this.processKeys.next--
        this.pendingRows--
        k = this.processRow(store.record(g, Kind.Process) as Process)
      }
      keys.proc[g] = k
    }
    return k
  }

  private fileKeyOf(g: number, s: JoinScope, keys: ScopeKeys): number {
    if (g >= keys.file.length) keys.file = grownInts(keys.file, g + 1)
    let k = keys.file[g]
    if (k === 0) {
      const store = s.files
      store.locate(g)
      k = this.fileKeys.next++
      this.pendingRows++
      if (!fileRowFromColumns(this.tables._files, k, this.trace === undefined ? undefined : this.fTrace(this.trace), store.table, store.row, this.fIds)) {
        this.fileKeys.next--
        this.pendingRows--
        k = this.fileRow(store.record(g, Kind.File) as File)
      }
      keys.file[g] = k
    }
    return k
  }

  /** The key of a container or pod row of a scope (made from its record if not yet added). */
  private entityKeyOf(g: number, store: EntityStore, kind: Kind.Container | Kind.Pod, keys: ScopeKeys): number {
    const which = kind === Kind.Container ? 'container' : 'pod'
    if (g >= keys[which].length) keys[which] = grownInts(keys[which], g + 1)
    let k = keys[which][g]
    if (k === 0) k = keys[which][g] = kind === Kind.Container ? this.containerRow(store.record(g, kind) as Container) : this.podRow(store.record(g, kind) as Pod)
    return k
  }

  /**
   * The narrow context of context row c of a scope (ctxEntry's rows, keyed by scope rows rather than objects):
   * contexts of one process with the same parent, container and pod share a row while their ancestry holds the same
   * processes. `hpid`/`createTS`: the procOID of the record that asks first.
   */
  private ctxKeyOf(s: JoinScope, keys: ScopeKeys, c: number, hpid: bigint, createTS: bigint): number {
    const p = s.ctxProc[c]
    const pproc = s.ctxPproc[c]
    const container = s.ctxContainer[c]
    const pod = s.ctxPod[c]
    const chain = s.ancestry(c)
    let list = keys.ctxByProc.get(p)
    if (list === undefined) keys.ctxByProc.set(p, (list = []))
    for (let i = 0; i < list.length; i++) {
      const e = list[i]
      if (e.pproc !== pproc || e.container !== container || e.pod !== pod) continue
      if (sameRows(e.chain, chain)) return e.key
      list[i] = this.newCtxOf(s, keys, p, pproc, container, pod, chain, hpid, createTS)
      return list[i].key
    }
    const e = this.newCtxOf(s, keys, p, pproc, container, pod, chain, hpid, createTS)
    list.push(e)
    return e.key
  }

  private newCtxOf(s: JoinScope, keys: ScopeKeys, p: number, pproc: number, container: number, pod: number, chain: Int32Array, hpid: bigint, createTS: bigint): ColumnCtx {
    const key = this.ctxNext++
    this.pendingRows++
    const anc = new Array<number>(chain.length)
    for (let i = 0; i < chain.length; i++) anc[i] = this.processKeyOf(chain[i], s, keys)
    this.tables._ctx.row([
      key, keys.header || undefined, this.processKeyOf(p, s, keys), pproc < 0 ? undefined : this.processKeyOf(pproc, s, keys),
      container < 0 ? undefined : this.entityKeyOf(container, s.containers, Kind.Container, keys),
      pod < 0 ? undefined : this.entityKeyOf(pod, s.pods, Kind.Pod, keys),
      hpid, createTS, anc,
    ])
    // The ancestry is a view of the scope's (growing) array: keep a copy.
    return {key, pproc, container, pod, chain: chain.slice()}
  }

  private auxNext = 1
  /** A `_aux` row (in AUX_TABLE's column order); returns its key. */
  private auxRow(newfile?: number, ret?: number, proto?: number, sport?: number, dport?: number, sip?: number, dip?: number, nthreads?: bigint, nexits?: bigint, nerrors?: bigint): number {
    const k = this.auxNext++
    const t = this.tables._aux
    const b = t.buffers
    b[0].push(k)
    b[1].push(newfile)
    b[2].push(ret)
    b[3].push(proto)
    b[4].push(sport)
    b[5].push(dport)
    b[6].push(sip)
    b[7].push(dip)
    b[8].push(nthreads)
    b[9].push(nexits)
    b[10].push(nerrors)
    t.length++
    return k
  }

  private headerKey(h: SFHeader | undefined): number {
    if (h === this.lastHeader) return this.lastHeaderKey ?? 0
    this.lastHeader = h
    this.lastHeaderKey = h === undefined ? 0 : (this.headerKeys.get(h) ?? this.headerRow(h))
    return this.lastHeaderKey
  }

  private ctxKey(j: Joined): number {
    const e = this.lastCtx
    if (e !== undefined && e.proc === j.proc && e.proc !== undefined && e.pproc === j.pproc && e.container === j.container && e.pod === j.pod && e.header === j.header && e.chain === j.ancestry) return e.key
    const found = this.ctxEntry(j)
    this.lastCtx = found
    return found.key
  }

  private ctxEntry(j: Joined): CtxEntry {
    const p = j.proc
    if (p === undefined) {
      // No process entity: only the record's own OID (nothing at all for K8s events).
      const r = j.rec
      const h = this.headerKey(j.header)
      const k = r.kind === Kind.K8sEvent ? `${h}:KE` : `${h}:${r.procOID.hpid}:${r.procOID.createTS}`
      let e = this.ctxByOid.get(k)
      if (e === undefined) {
        e = this.newCtx(j, j.ancestry)
        this.ctxByOid.set(k, e)
      }
      return e
    }
    let list = this.ctxByProc.get(p)
    if (list === undefined) {
      list = []
      this.ctxByProc.set(p, list)
    }
    for (let i = 0; i < list.length; i++) {
      const e = list[i]
      if (e.pproc !== j.pproc || e.container !== j.container || e.pod !== j.pod || e.header !== j.header) continue
      if (e.chain === j.ancestry) return e
      // The join took the ancestry anew (an ancestor was exported again): the same processes keep the row.
      if (sameChain(e.chain, j.ancestry)) {
        e.chain = j.ancestry
        return e
      }
      list[i] = this.newCtx(j, j.ancestry)
      return list[i]
    }
    const e = this.newCtx(j, j.ancestry)
    list.push(e)
    return e
  }

  private newCtx(j: Joined, chain: readonly Process[]): CtxEntry {
    const key = this.ctxNext++
    const r = j.rec
    const oid = r.kind === Kind.K8sEvent ? undefined : r.procOID
    const c = j.container
    const pod = j.pod
    this.pendingRows++
    this.tables._ctx.row([
      key, this.headerKey(j.header) || undefined, this.processKey(j.proc), this.processKey(j.pproc),
      c === undefined ? undefined : (this.containerKeys.get(c) ?? this.containerRow(c)),
      pod === undefined ? undefined : (this.podKeys.get(pod) ?? this.podRow(pod)),
      oid?.hpid, oid?.createTS, chain.map((p) => this.processKey(p)!),
    ])
    return {key, header: j.header, proc: j.proc, pproc: j.pproc, container: c, pod, chain}
  }

  private lastShapeKind = -1
  private lastShapeFlags: number | undefined = -1
  private lastShapeOpen: number | undefined = -1
  private lastShape = 0
  private shapeKey(j: Joined): number {
    const r = j.rec
    let sk: number | string
    if (r.kind === Kind.K8sEvent) {
      sk = `KE\u0000${r.action}\u0000${r.component}`
    } else {
      const flags = r.opFlags
      const open = r.kind === Kind.FileFlow ? r.openFlags : 0
      if (r.kind === this.lastShapeKind && flags === this.lastShapeFlags && open === this.lastShapeOpen) return this.lastShape
      // Flags the writer schema lacked (undefined) get a text key of their own ("undefined").
      sk = flags !== undefined && open !== undefined && flags >= 0 && flags < 0x1000000 && open >= 0 && open < 0x100000 ? r.kind + 16 * (flags + 0x1000000 * open) : `${r.kind}:${flags}:${open}`
    }
    let k = this.shapeKeys.get(sk)
    if (k === undefined) {
      k = this.shapeNext++
      this.shapeKeys.set(sk, k)
      const row: unknown[] = [k]
      for (const {attr, col} of this.shapeAttrs) row.push(encodeValue(col, attr.value(j)))
      this.tables._shape.row(row)
    }
    if (r.kind !== Kind.K8sEvent) {
      this.lastShapeKind = r.kind
      this.lastShapeFlags = r.opFlags
      this.lastShapeOpen = r.kind === Kind.FileFlow ? r.openFlags : 0
      this.lastShape = k
    }
    return k
  }

  // --- output ---

  /** Everything added since the last take(), as narrow record batches in the plan's table order. */
  take(): NarrowBatch {
    const tables: {name: string; batch: RecordBatch}[] = []
    for (const def of this.plan.tables) {
      if (def.name === '_events') {
        if (this.fact.n > 0) tables.push({name: '_events', batch: this.takeFact()})
        continue
      }
      const b = this.tables[def.name].take()
      if (b) tables.push({name: def.name, batch: b})
    }
    const events = tables.find((t) => t.name === '_events')?.batch.numRows ?? 0
    this.pendingRows = 0
    return {strings: this.ids.take(), tables, events}
  }

  private takeFact(): RecordBatch {
    const f = this.fact
    this.lastFact = f
    const n = f.n
    const children: Data[] = []
    const fields = this.factSchema.fields
    let col = 0
    for (let k = 0; k < FACT_KEYS.length; k++) {
      children.push(makeData({type: fields[col++].type, length: n, nullCount: 0, data: f.keys[k].subarray(0, n)} as never) as Data)
    }
    for (const rf of FACT_FIELDS) {
      const c = f.field(rf.field)
      const nulls = n - c.count
      children.push(makeData({type: fields[col++].type, length: n, nullCount: nulls, data: c.v.subarray(0, n), nullBitmap: nulls === 0 ? undefined : c.valid.subarray(0, (n + 7) >> 3)} as never) as Data)
    }
    for (const g of this.generic) children.push(g.buf.finish())
    // The batch views these buffers: the next ones are fresh (a reader of the batch may keep it).
    this.fact = this.spare !== undefined && this.spare.cap === FACT_ROWS ? this.spare.reset() : new FactBuffers(FACT_ROWS)
    this.spare = undefined
    return recordBatch(this.factSchema, n, children)
  }

  private spare: FactBuffers | undefined
  private lastFact: FactBuffers | undefined

  /**
   * The caller is done with every batch take() returned so far (its rows are in the database): their buffers may
   * be written again. Saves allocating (and collecting) fresh fact buffers for every batch.
   */
  recycle(): void {
    // Buffers posted to another thread without a copy are gone (detached): those are not reused.
    if (this.lastFact !== undefined && this.lastFact !== this.fact && !this.lastFact.detached()) this.spare = this.lastFact
    this.lastFact = undefined
  }
}

const HEX = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) HEX[48 + i] = i
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i

/** A FOID's 40 lowercase hex digits as five 32-bit words (int32 bit patterns); undefined for anything else. */
export function foidWords(hex: string): number[] | undefined {
  if (hex.length !== 40) return undefined
  const out = [0, 0, 0, 0, 0]
  for (let w = 0; w < 5; w++) {
    let v = 0
    for (let i = w * 8; i < w * 8 + 8; i++) {
      const c = hex.charCodeAt(i)
      const d = c < 128 ? HEX[c] : -1
      if (d < 0) return undefined
      v = (v << 4) | d
    }
    out[w] = v
  }
  return out
}

function sameChain(a: readonly Process[], b: readonly Process[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
