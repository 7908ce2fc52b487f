// The `events` columns (../arrow/columns.ts: the catalogue's, plus `time`) written as Parquet straight from the
// joined column tables (issue #17): no record object, no DuckDB. Columns come in three kinds:
//   - the record's own fixed-width fields (ts, endts, ret, ports, counters...), PLAIN, copied from their arrays
//     (longs as their two 32-bit words);
//   - values that depend on one thing a row is joined to or carries (its process, parent, context, container,
//     pod, file, new file, header; its kind and op flags, its open flags, its IPs and ports): each distinct
//     such key gets a number in the row group, the first time it is met, and the catalogue's value() is asked
//     once per key, on that row (joinedAt). The key numbers are the dictionary indexes of every column of the
//     group: one index sequence (and one compressed page, where the same keys are null) serves all of them, and
//     each column's dictionary lists its value per key;
//   - lists (ancestry, op flags, ports, IPs): their elements dictionary-encoded per column, levels per row.
// Anything a key cannot vouch for (a K8s event's own fields) gets a key of its own per row.
// Values are exactly the catalogue's, as the DuckDB-written export's are: test/parquet-columns.test.ts reads both
// back in DuckDB and compares every cell, on every fixture, shared trace and traces built to break this.
import {Attribute, AttrValue} from '../attributes.js'
import {EVENT_COLUMNS, EventColumn} from '../arrow/columns.js'
import {EVENTS_SPEC, IntColumn, LongColumn, PRESENT} from '../columnar/columns.js'
import {JoinedColumns, JoinScope} from '../columnar/join.js'
import {ancestryOf} from '../columnar/read.js'
import {Joined} from '../join.js'
import {Kind, Process} from '../records.js'
import {splitRest, splitSeconds} from '../time.js'
import {Bytes} from './bytes.js'
import {writeIndexes, writeLevels, writePlainBools} from './encode.js'
import {Codec, ColumnChunk, Compressed, Compressor, ENC_PLAIN, ENC_PLAIN_DICTIONARY, LeafColumn, ParquetFileWriter, Physical, Stats} from './file.js'

/** DuckDB's default rows per row group, which the DuckDB-written export used too. */
export const ROW_GROUP_ROWS = 122880

// --- what each column reads --------------------------------------------------------------------------------------

/** Key groups: what a keyed column's value depends on. */
type GroupName =
  | 'proc' | 'pproc' | 'ctx' | 'container' | 'pod' | 'file' | 'newFile' | 'header'
  | 'procOid' | 'kind' | 'opflags' | 'openflags' | 'sip' | 'dip' | 'ports' | 'ips' | 'k8s'

const C = (name: string) => EVENTS_SPEC.col(name)

/** The record's fixed-width fields copied as they are, by events column. */
const DIRECT: Record<string, {field: string; long: boolean}> = {
  ts: {field: 'ts', long: true},
  endts: {field: 'endTs', long: true},
  proc_tid: {field: 'tid', long: true},
  ret: {field: 'ret', long: false},
  file_fd: {field: 'fd', long: false},
  net_proto: {field: 'proto', long: false},
  net_sport: {field: 'sport', long: false},
  net_dport: {field: 'dport', long: false},
  flow_rbytes: {field: 'numRRecvBytes', long: true},
  flow_rops: {field: 'numRRecvOps', long: true},
  flow_wbytes: {field: 'numWSendBytes', long: true},
  flow_wops: {field: 'numWSendOps', long: true},
  pf_nthreads: {field: 'numThreadsCloned', long: true},
  pf_nexits: {field: 'numThreadsExited', long: true},
  pf_nerrors: {field: 'numCloneErrors', long: true},
}

/** The key group of a column computed by value(). */
function groupOf(c: EventColumn): GroupName {
  const a = c.attr!
  switch (c.name) {
    case 'type':
      return 'kind'
    case 'opflags':
      return 'opflags'
    case 'file_openflags':
    case 'file_is_open_write':
    case 'file_is_open_read':
      return 'openflags'
    case 'net_sip':
      return 'sip'
    case 'net_dip':
      return 'dip'
    case 'net_port':
      return 'ports'
    case 'net_ip':
      return 'ips'
    case 'proc_pid':
    case 'proc_createts':
      // The process's OID, or when it is missing the one the record carries.
      return 'procOid'
    case 'pproc_pid':
    case 'pproc_createts':
      // The parent's OID, or when it is missing the one the process names: both are the context's.
      return 'ctx'
    case 'proc_aname':
    case 'proc_aexe':
    case 'proc_acmdline':
    case 'proc_apid':
      return 'ctx'
  }
  if (a.dep !== undefined) return a.dep
  if (a.on !== undefined && a.on.length === 1 && a.on[0] === Kind.K8sEvent) return 'k8s'
  throw new Error(`events column ${c.name}: no key group for the columnar Parquet writer`)
}

function leafOf(c: EventColumn): LeafColumn {
  switch (c.type) {
    case 'string':
    case 'char':
      return {name: c.name, physical: 'BYTE_ARRAY', annotation: 'UTF8', list: false}
    case 'json':
      return {name: c.name, physical: 'BYTE_ARRAY', annotation: 'JSON', list: false}
    case 'int':
      return {name: c.name, physical: 'INT32', annotation: 'INT_32', list: false}
    case 'int64':
      return {name: c.name, physical: 'INT64', annotation: 'INT_64', list: false}
    case 'bool':
      return {name: c.name, physical: 'BOOLEAN', annotation: undefined, list: false}
    case 'strlist':
      return {name: c.name, physical: 'BYTE_ARRAY', annotation: 'UTF8', list: true}
    case 'intlist':
      return {name: c.name, physical: 'INT64', annotation: 'INT_64', list: true}
    case 'timestamp':
      return {name: c.name, physical: 'INT64', annotation: 'TIMESTAMP_MICROS', list: false}
  }
}

/** The Parquet schema of the events columns, as the DuckDB-written export has it. */
export const EVENTS_LEAVES: readonly LeafColumn[] = EVENT_COLUMNS.map(leafOf)

// --- per row group state -------------------------------------------------------------------------------------------

/** A value of a keyed column as Parquet stores it (null: no value); strings stay strings until they are written. */
type Stored = string | number | bigint | boolean | null
type StoredList = (string | bigint | null)[] | null

interface KeyedColumn {
  index: number
  col: EventColumn
  value: Attribute['value']
  /** Per key of the row group: the stored value (scalars) or elements (lists). */
  vals: (Stored | StoredList)[]
}

// Key groups by number; the first ENTITY_GROUPS are keyed by a row of the join scope.
const G_PROC = 0
const G_PROC_OID = 1
const G_PPROC = 2
const G_CTX = 3
const G_CONTAINER = 4
const G_POD = 5
const G_FILE = 6
const G_NEW_FILE = 7
const G_HEADER = 8
const ENTITY_GROUPS = 9
const G_KIND = 9
const G_OPFLAGS = 10
const G_OPENFLAGS = 11
const G_SIP = 12
const G_DIP = 13
const G_PORTS = 14
const G_IPS = 15
const G_K8S = 16
const GROUP_NAMES: readonly GroupName[] = ['proc', 'procOid', 'pproc', 'ctx', 'container', 'pod', 'file', 'newFile', 'header', 'kind', 'opflags', 'openflags', 'sip', 'dip', 'ports', 'ips', 'k8s']

class Group {
  /** Key number of each row of the row group. */
  idx: Int32Array
  keys = 0
  readonly columns: KeyedColumn[] = []
  /** Record-level groups: key number by the number that tells their inputs apart. */
  readonly map = new Map<number, number>()
  readonly texts = new Map<string, number>()
  /** The last input number looked up (record-level groups), and its key, valid in row group `serial`. */
  last = NaN
  lastKey = 0
  lastSerial = -1
  constructor(readonly name: GroupName, rows: number) {
    this.idx = new Int32Array(rows)
  }
}

/**
 * Per join scope and entity group: the key number of each entity row (+1: row -1 is "none") in the current row
 * group (valid where its stamp is the row group's serial), and the values of the group's columns for that row,
 * asked of the catalogue once per scope (entity rows never change: a replaced entity is a new row).
 */
class ScopeCache {
  idx = new Int32Array(64)
  stamp = new Int32Array(64).fill(-1)
  vals: ((Stored | StoredList)[] | undefined)[] = []

  grow(at: number): void {
    const cap = Math.max(64, (at + 1) * 2)
    const idx = new Int32Array(cap)
    idx.set(this.idx)
    const stamp = new Int32Array(cap).fill(-1)
    stamp.set(this.stamp)
    this.idx = idx
    this.stamp = stamp
  }
}

interface DirectColumn {
  index: number
  col: number
  long: boolean
  /** Kinds that carry the field (others are null). */
  on: Uint8Array
  /** Row group values: words (longs) or ints, and 1 where present. */
  w: Int32Array
  present: Uint8Array
}

function store(type: EventColumn['type'], v: AttrValue | null): Stored | StoredList {
  if (v === undefined || v === null) return null
  switch (type) {
    case 'string':
    case 'char':
    case 'json':
    case 'int':
    case 'int64':
    case 'bool':
      return v as Stored
    case 'strlist':
    case 'intlist':
      return (v as (string | bigint | null | undefined)[]).map((e) => (e === undefined ? null : e))
    case 'timestamp':
      throw new Error('time is not a keyed column')
  }
}

const NONE_KEY = -1
const NO_ANCESTRY: readonly Process[] = Object.freeze([])

/**
 * The joined view of one row that the catalogue's value() reads, each part made when first read: a new entity key
 * reads only its entity (whose record object the scope keeps), never the event record.
 */
class LazyJoined {
  private j!: JoinedColumns
  private s!: JoinScope
  private i = 0
  private recObj: unknown = undefined

  reset(j: JoinedColumns, s: JoinScope, i: number): void {
    this.j = j
    this.s = s
    this.i = i
    this.recObj = undefined
  }

  get rec(): unknown {
    this.recObj ??= this.j.block.events.record(this.j.block.eventKind[this.i], this.i)
    return this.recObj
  }

  private get c(): number {
    return this.j.ctx[this.i]
  }

  get header(): unknown {
    return this.s.header()
  }

  get proc(): Process | undefined {
    const c = this.c
    return c >= 0 ? (this.s.processes.record(this.s.ctxProc[c], Kind.Process) as Process) : undefined
  }

  get pproc(): Process | undefined {
    const c = this.c
    return c >= 0 && this.s.ctxPproc[c] >= 0 ? (this.s.processes.record(this.s.ctxPproc[c], Kind.Process) as Process) : undefined
  }

  get container(): unknown {
    const c = this.c
    return c >= 0 && this.s.ctxContainer[c] >= 0 ? this.s.containers.record(this.s.ctxContainer[c], Kind.Container) : undefined
  }

  get pod(): unknown {
    const c = this.c
    return c >= 0 && this.s.ctxPod[c] >= 0 ? this.s.pods.record(this.s.ctxPod[c], Kind.Pod) : undefined
  }

  get ancestry(): readonly Process[] {
    const c = this.c
    return c >= 0 ? ancestryOf(this.s, c) : NO_ANCESTRY
  }

  get file(): unknown {
    const f = this.j.fileRow[this.i]
    return f >= 0 ? this.s.files.record(f, Kind.File) : undefined
  }

  get newFile(): unknown {
    const f = this.j.newFileRow[this.i]
    return f >= 0 ? this.s.files.record(f, Kind.File) : undefined
  }
}

export interface EventsParquetOptions {
  codec?: Codec
  /** zstd level (default 3, as DuckDB's). */
  level?: number
  rowGroupSize?: number
  createdBy?: string
}

/**
 * Writes joined column blocks as Parquet rows: `add` each row (block, scope, row), `close` at the end. Row groups
 * are encoded and written as they fill; memory is one row group's keys and fixed-width values, and per scope the
 * values of the entities met.
 */
export class EventsParquetWriter {
  private readonly file: ParquetFileWriter
  private readonly compressor: Compressor
  private readonly groupSize: number
  private readonly groups: Group[]
  private readonly direct: DirectColumn[] = []
  private readonly tsCol = C('ts')
  private readonly time: {present: Uint8Array; w: Int32Array}
  private readonly timeIndex: number
  private rows = 0
  /** The row group's number: stamps of keys met in it. */
  private serial = 0
  private readonly caches = new WeakMap<JoinScope, ScopeCache[]>()
  private readonly kindKey = new Int32Array(16)
  private readonly kindStamp = new Int32Array(16).fill(-1)
  private readonly row = new LazyJoined()
  private readonly levels = new LevelCache()
  written = 0

  // The last scope, context, file and new file rows, and their keys (valid in row group ctxSerial/fileSerial...).
  private lastScope: JoinScope | undefined
  private sc: ScopeCache[] = []
  private lastCtx = -2
  private ctxSerial = -1
  private kProc = 0
  private kProcOid = 0
  private kPproc = 0
  private kCtx = 0
  private kContainer = 0
  private kPod = 0
  private kHeader = 0
  private lastFile = -2
  private fileSerial = -1
  private kFile = 0
  private lastNewFile = -2
  private newFileSerial = -1
  private kNewFile = 0

  constructor(path: string, opts: EventsParquetOptions = {}) {
    this.groupSize = opts.rowGroupSize ?? ROW_GROUP_ROWS
    const codec = opts.codec ?? 'zstd'
    this.compressor = new Compressor(codec, opts.level ?? 3)
    this.file = new ParquetFileWriter(path, EVENTS_LEAVES, codec, opts.createdBy ?? 'sysflow')
    this.groups = GROUP_NAMES.map((name) => new Group(name, this.groupSize))
    let timeIndex = -1
    EVENT_COLUMNS.forEach((c, index) => {
      if (c.attr === undefined) {
        timeIndex = index
        return
      }
      const d = DIRECT[c.name]
      if (d !== undefined) {
        const on = new Uint8Array(16)
        for (const k of c.attr.on ?? [4, 5, 6, 7, 8, 9, 11]) on[k] = 1
        this.direct.push({index, col: C(d.field), long: d.long, on, w: new Int32Array((d.long ? 2 : 1) * this.groupSize), present: new Uint8Array(this.groupSize)})
        return
      }
      this.groups[GROUP_NAMES.indexOf(groupOf(c))].columns.push({index, col: c, value: c.attr.value, vals: []})
    })
    this.timeIndex = timeIndex
    this.time = {present: new Uint8Array(this.groupSize), w: new Int32Array(2 * this.groupSize)}
  }

  /** The values of group g's columns for the current row. */
  private compute(g: Group): (Stored | StoredList)[] {
    const jn = this.row as unknown as Joined
    return g.columns.map((c) => store(c.col.type, c.value(jn)))
  }

  private push(g: Group, v: readonly (Stored | StoredList)[]): number {
    const cols = g.columns
    for (let k = 0; k < cols.length; k++) cols[k].vals.push(v[k])
    return g.keys++
  }

  /** The key of entity row `e` (-1: none) of entity group gi in the current scope. */
  private entityKey(gi: number, e: number): number {
    const sc = this.sc[gi]
    const at = e + 1
    if (at >= sc.idx.length) sc.grow(at)
    if (sc.stamp[at] === this.serial) return sc.idx[at]
    const g = this.groups[gi]
    const vals = sc.vals
    while (vals.length <= at) vals.push(undefined)
    let v = vals[at]
    if (v === undefined) vals[at] = v = this.compute(g)
    const key = this.push(g, v)
    sc.idx[at] = key
    sc.stamp[at] = this.serial
    return key
  }

  /** The key of a record-level group for input number k (the last one is remembered). */
  private mapKey(gi: number, k: number): number {
    const g = this.groups[gi]
    if (k === g.last && g.lastSerial === this.serial) return g.lastKey
    let key = g.map.get(k)
    if (key === undefined) g.map.set(k, (key = this.push(g, this.compute(g))))
    g.last = k
    g.lastKey = key
    g.lastSerial = this.serial
    return key
  }

  private textKey(gi: number, k: string): number {
    const g = this.groups[gi]
    let key = g.texts.get(k)
    if (key === undefined) g.texts.set(k, (key = this.push(g, this.compute(g))))
    return key
  }

  /** Append events row i of joined block j (in scope s). */
  add(j: JoinedColumns, s: JoinScope, i: number): void {
    const r = this.rows
    const ev = j.block.events
    const cols = ev.cols
    const kind = j.block.eventKind[i]
    const c = j.ctx[i]
    const gs = this.groups
    this.row.reset(j, s, i)
    if (s !== this.lastScope) {
      let sc = this.caches.get(s)
      if (sc === undefined) {
        sc = Array.from({length: ENTITY_GROUPS}, () => new ScopeCache())
        this.caches.set(s, sc)
      }
      this.sc = sc
      this.lastScope = s
      this.lastCtx = this.lastFile = this.lastNewFile = -2
    }
    if (c !== this.lastCtx || this.ctxSerial !== this.serial) {
      // Everything the context decides: process, parent, ancestry, container, pod (and the scope's header).
      this.kProc = this.entityKey(G_PROC, c >= 0 ? s.ctxProc[c] : -1)
      this.kProcOid = c >= 0 ? this.entityKey(G_PROC_OID, s.ctxProc[c]) : -1
      this.kPproc = this.entityKey(G_PPROC, c >= 0 ? s.ctxPproc[c] : -1)
      this.kCtx = this.entityKey(G_CTX, c)
      this.kContainer = this.entityKey(G_CONTAINER, c >= 0 ? s.ctxContainer[c] : -1)
      this.kPod = this.entityKey(G_POD, c >= 0 ? s.ctxPod[c] : -1)
      this.kHeader = this.entityKey(G_HEADER, 0)
      this.lastCtx = c
      this.ctxSerial = this.serial
    }
    gs[G_PROC].idx[r] = this.kProc
    gs[G_PPROC].idx[r] = this.kPproc
    gs[G_CTX].idx[r] = this.kCtx
    gs[G_CONTAINER].idx[r] = this.kContainer
    gs[G_POD].idx[r] = this.kPod
    gs[G_HEADER].idx[r] = this.kHeader
    // Without its process, a record's pid and createts are the OID it carries.
    gs[G_PROC_OID].idx[r] = c >= 0
      ? this.kProcOid
      : kind === Kind.K8sEvent ? this.mapKey(G_PROC_OID, NONE_KEY) : this.textKey(G_PROC_OID, `${longKey(cols[C_HPID] as LongColumn | undefined, i)}|${longKey(cols[C_CREATETS] as LongColumn | undefined, i)}`)
    const f = j.fileRow[i]
    if (f !== this.lastFile || this.fileSerial !== this.serial) {
      this.kFile = this.entityKey(G_FILE, f)
      this.lastFile = f
      this.fileSerial = this.serial
    }
    gs[G_FILE].idx[r] = this.kFile
    const nf = j.newFileRow[i]
    if (nf !== this.lastNewFile || this.newFileSerial !== this.serial) {
      this.kNewFile = this.entityKey(G_NEW_FILE, nf)
      this.lastNewFile = nf
      this.newFileSerial = this.serial
    }
    gs[G_NEW_FILE].idx[r] = this.kNewFile
    // The record's kind and flags.
    if (this.kindStamp[kind] !== this.serial) {
      this.kindKey[kind] = this.push(gs[G_KIND], this.compute(gs[G_KIND]))
      this.kindStamp[kind] = this.serial
    }
    gs[G_KIND].idx[r] = this.kindKey[kind]
    gs[G_OPFLAGS].idx[r] = this.mapKey(G_OPFLAGS, intKey(cols[C_OPFLAGS] as IntColumn | undefined, kind, i))
    gs[G_OPENFLAGS].idx[r] = this.mapKey(G_OPENFLAGS, kind === Kind.FileFlow ? intKey(cols[C_OPENFLAGS] as IntColumn | undefined, kind, i) : NONE_KEY)
    if (kind === Kind.NetworkFlow || kind === Kind.NetworkEvent) {
      const sip = intKey(cols[C_SIP] as IntColumn | undefined, kind, i)
      const dip = intKey(cols[C_DIP] as IntColumn | undefined, kind, i)
      gs[G_SIP].idx[r] = this.mapKey(G_SIP, sip)
      gs[G_DIP].idx[r] = this.mapKey(G_DIP, dip)
      gs[G_IPS].idx[r] = this.textKey(G_IPS, `${sip} ${dip}`)
      gs[G_PORTS].idx[r] = this.textKey(G_PORTS, `${intKey(cols[C_SPORT] as IntColumn | undefined, kind, i)} ${intKey(cols[C_DPORT] as IntColumn | undefined, kind, i)}`)
    } else {
      gs[G_SIP].idx[r] = this.mapKey(G_SIP, NONE_KEY)
      gs[G_DIP].idx[r] = this.mapKey(G_DIP, NONE_KEY)
      gs[G_IPS].idx[r] = this.mapKey(G_IPS, NONE_KEY)
      gs[G_PORTS].idx[r] = this.mapKey(G_PORTS, NONE_KEY)
    }
    // A K8s event's own fields: a key per row.
    gs[G_K8S].idx[r] = kind === Kind.K8sEvent ? this.push(gs[G_K8S], this.compute(gs[G_K8S])) : this.mapKey(G_K8S, NONE_KEY)
    const direct = this.direct
    for (let k = 0; k < direct.length; k++) {
      const d = direct[k]
      const col = cols[d.col] as LongColumn | IntColumn | undefined
      if (d.on[kind] === 0 || col === undefined || col.s[i] !== PRESENT) {
        d.present[r] = 0
        continue
      }
      d.present[r] = 1
      if (d.long) {
        const w = (col as LongColumn).w
        d.w[2 * r] = w[2 * i]
        d.w[2 * r + 1] = w[2 * i + 1]
      } else {
        d.w[r] = (col as IntColumn).v[i]
      }
    }
    const ts = cols[this.tsCol] as LongColumn | undefined
    if (ts === undefined || ts.s[i] !== PRESENT) this.time.present[r] = 0
    else {
      this.time.present[r] = 1
      micros(ts.w[2 * i], ts.w[2 * i + 1], this.time.w, r, ts.v[i])
    }
    this.rows = r + 1
    this.written++
    if (this.rows === this.groupSize) this.flush()
  }

  /** Encode and write the row group (if any row), then start the next. */
  private flush(): void {
    const n = this.rows
    if (n === 0) return
    const chunks: ColumnChunk[] = new Array(EVENT_COLUMNS.length)
    const shared = new Map<string, Compressed>()
    const out = new Bytes(1 << 16)
    this.levels.clear()
    for (const d of this.direct) chunks[d.index] = this.directChunk(out, d, n)
    chunks[this.timeIndex] = this.directChunk(out, {index: this.timeIndex, col: this.tsCol, long: true, on: new Uint8Array(0), w: this.time.w, present: this.time.present}, n)
    for (const g of this.groups) {
      for (const c of g.columns) {
        chunks[c.index] = c.col.type === 'strlist' || c.col.type === 'intlist'
          ? this.listChunk(out, g, c, n)
          : c.col.type === 'bool' ? this.boolChunk(out, g, c, n) : this.keyedChunk(out, g, c, n, shared)
        c.vals = []
      }
      g.keys = 0
      g.map.clear()
      g.texts.clear()
    }
    this.file.writeRowGroup(n, chunks)
    this.rows = 0
    this.serial++
  }

  private page(out: Bytes): Compressed {
    return this.compressor.compress(out.view())
  }

  private directChunk(out: Bytes, d: DirectColumn, n: number): ColumnChunk {
    out.reset()
    out.bytes(this.levels.encode(d.present, n, 1))
    let m = 0
    let minHi = 0
    let minLo = 0
    let maxHi = 0
    let maxLo = 0
    const w = d.w
    const present = d.present
    const width = d.long ? 2 : 1
    out.reserve(4 * width * n)
    const dst = new Int32Array(out.buf.buffer, out.buf.byteOffset, out.buf.length >> 2)
    // Values are written as 32-bit words at a 4-byte aligned position of the buffer (padded before, if need be).
    const at = out.pos
    const scratch = (at & 3) === 0 ? dst : new Int32Array(width * n)
    let p = (at & 3) === 0 ? at >> 2 : 0
    const p0 = p
    for (let r = 0; r < n; r++) {
      if (present[r] === 0) continue
      if (width === 2) {
        const lo = w[2 * r]
        const hi = w[2 * r + 1]
        scratch[p++] = lo
        scratch[p++] = hi
        if (m === 0 || hi < minHi || (hi === minHi && lo >>> 0 < minLo >>> 0)) {
          minHi = hi
          minLo = lo
        }
        if (m === 0 || hi > maxHi || (hi === maxHi && lo >>> 0 > maxLo >>> 0)) {
          maxHi = hi
          maxLo = lo
        }
      } else {
        const v = w[r]
        scratch[p++] = v
        if (m === 0 || v < minLo) minLo = v
        if (m === 0 || v > maxLo) maxLo = v
      }
      m++
    }
    if (scratch === dst) out.pos = p * 4
    else out.bytes(new Uint8Array(scratch.buffer, 0, (p - p0) * 4))
    const stats: Stats = {nullCount: n - m}
    if (m > 0) {
      if (width === 2) {
        stats.min = wordBytes(minLo, minHi)
        stats.max = wordBytes(maxLo, maxHi)
      } else {
        stats.min = i32Bytes(minLo)
        stats.max = i32Bytes(maxLo)
      }
    }
    return {pages: [{values: n, encoding: ENC_PLAIN, body: this.page(out)}], stats}
  }

  /** A scalar keyed column: dictionary = its value per key, indexes = the group's keys (shared where nulls agree). */
  private keyedChunk(out: Bytes, g: Group, c: KeyedColumn, n: number, shared: Map<string, Compressed>): ColumnChunk {
    const vals = c.vals as Stored[]
    const physical = EVENTS_LEAVES[c.index].physical
    let nullKeys = ''
    let minI = -1
    let maxI = -1
    for (let k = 0; k < vals.length; k++) {
      const v = vals[k]
      if (v === null) {
        nullKeys += `${k},`
        continue
      }
      if (minI < 0) minI = maxI = k
      else {
        if (less(v, vals[minI]!)) minI = k
        if (less(vals[maxI]!, v)) maxI = k
      }
    }
    const sig = `${g.name}|${nullKeys}`
    let body = shared.get(sig)
    let nulls = 0
    if (nullKeys === '') {
      if (body === undefined) {
        out.reset()
        out.bytes(this.levels.encode(ONES(n), n, 1))
        writeIndexes(out, g.idx, n, vals.length)
        shared.set(sig, (body = this.page(out)))
      }
    } else {
      const isNull = new Uint8Array(vals.length)
      for (let k = 0; k < vals.length; k++) if (vals[k] === null) isNull[k] = 1
      const def = new Uint8Array(n)
      const idx = body === undefined ? new Int32Array(n) : undefined
      let m = 0
      const gi = g.idx
      for (let r = 0; r < n; r++) {
        const k = gi[r]
        if (isNull[k] === 1) continue
        def[r] = 1
        if (idx !== undefined) idx[m] = k
        m++
      }
      nulls = n - m
      if (body === undefined) {
        out.reset()
        out.bytes(this.levels.encode(def, n, 1))
        writeIndexes(out, idx!, m, vals.length)
        shared.set(sig, (body = this.page(out)))
      }
    }
    out.reset()
    // A null key's entry is a placeholder no row refers to; readers may still check it (DuckDB parses JSON ones).
    const placeholder = c.col.type === 'json' ? 'null' : ''
    for (const v of vals) plainValue(out, physical, v === null && physical === 'BYTE_ARRAY' ? placeholder : v)
    const dictionary = {values: vals.length, body: this.page(out)}
    const stats: Stats = {nullCount: nulls}
    if (minI >= 0) {
      const min = statBytes(physical, vals[minI]!)
      const max = statBytes(physical, vals[maxI]!)
      if (min.length <= 256 && max.length <= 256) [stats.min, stats.max] = [min, max]
    }
    return {dictionary, pages: [{values: n, encoding: ENC_PLAIN_DICTIONARY, body}], stats}
  }

  private boolChunk(out: Bytes, g: Group, c: KeyedColumn, n: number): ColumnChunk {
    const vals = c.vals as Stored[]
    // Per key: 0 false, 1 true, 2 null.
    const code = new Uint8Array(vals.length)
    for (let k = 0; k < vals.length; k++) code[k] = vals[k] === null ? 2 : vals[k] ? 1 : 0
    const def = new Uint8Array(n)
    const bits = new Uint8Array(n)
    let m = 0
    let seen = 0
    const gi = g.idx
    for (let r = 0; r < n; r++) {
      const x = code[gi[r]]
      if (x === 2) continue
      def[r] = 1
      bits[m++] = x
      seen |= 1 << x
    }
    out.reset()
    out.bytes(this.levels.encode(def, n, 1))
    writePlainBools(out, bits, m)
    const stats: Stats = {nullCount: n - m}
    if (m > 0) {
      stats.min = Uint8Array.of(seen & 1 ? 0 : 1)
      stats.max = Uint8Array.of(seen & 2 ? 1 : 0)
    }
    return {pages: [{values: n, encoding: ENC_PLAIN, body: this.page(out)}], stats}
  }

  /** A list column: elements dictionary-encoded (the column's distinct elements), levels per row. */
  private listChunk(out: Bytes, g: Group, c: KeyedColumn, n: number): ColumnChunk {
    const vals = c.vals as StoredList[]
    const physical = EVENTS_LEAVES[c.index].physical
    const dict: (string | bigint)[] = []
    const ids = new Map<string | bigint, number>()
    // Per key: element dictionary indexes (-1: a null element), and the level entries a row of it takes.
    const perKey: (Int32Array | null)[] = vals.map((list) => {
      if (list === null) return null
      const out = new Int32Array(list.length)
      for (let k = 0; k < list.length; k++) {
        const e = list[k]
        if (e === null) {
          out[k] = -1
          continue
        }
        let x = ids.get(e)
        if (x === undefined) {
          ids.set(e, (x = dict.length))
          dict.push(e)
        }
        out[k] = x
      }
      return out
    })
    const gi = g.idx
    let total = 0
    for (let r = 0; r < n; r++) {
      const list = perKey[gi[r]]
      total += list === null || list.length === 0 ? 1 : list.length
    }
    const {rep, def, idx} = listScratch(total)
    let e = 0
    let m = 0
    for (let r = 0; r < n; r++) {
      const list = perKey[gi[r]]
      if (list === null || list.length === 0) {
        rep[e] = 0
        def[e++] = list === null ? 0 : 1
        continue
      }
      for (let k = 0; k < list.length; k++) {
        rep[e] = k === 0 ? 0 : 1
        const x = list[k]
        if (x < 0) def[e++] = 2
        else {
          def[e++] = 3
          idx[m++] = x
        }
      }
    }
    out.reset()
    out.bytes(this.levels.encode(rep, e, 1))
    out.bytes(this.levels.encode(def, e, 3))
    writeIndexes(out, idx, m, dict.length)
    const body = this.page(out)
    out.reset()
    for (const v of dict) plainValue(out, physical, v)
    return {dictionary: {values: dict.length, body: this.page(out)}, pages: [{values: e, encoding: ENC_PLAIN_DICTIONARY, body}]}
  }

  /** Write the last row group and the footer. */
  close(): void {
    this.flush()
    this.file.close()
  }

  /** Close after an error (the caller removes the file). */
  abandon(): void {
    this.file.abandon()
  }
}

/**
 * Encoded levels of the row group, kept so that columns with the same levels (most of the record's own columns
 * share their kinds' presence; the lists of one group share their lengths) encode them once.
 */
class LevelCache {
  private entries: {levels: Buffer; max: number; bytes: Buffer}[] = []

  clear(): void {
    this.entries = []
  }

  encode(levels: Uint8Array, n: number, max: number): Buffer {
    const view = Buffer.from(levels.buffer, levels.byteOffset, n)
    for (const e of this.entries) if (e.max === max && e.levels.length === n && e.levels.equals(view)) return e.bytes
    const out = new Bytes(1024)
    writeLevels(out, levels, n, max)
    const bytes = out.take()
    if (this.entries.length >= 16) this.entries.shift()
    this.entries.push({levels: Buffer.from(view), max, bytes})
    return bytes
  }
}

let scratch = {rep: new Uint8Array(0), def: new Uint8Array(0), idx: new Int32Array(0)}
function listScratch(n: number): typeof scratch {
  if (scratch.rep.length < n) scratch = {rep: new Uint8Array(2 * n), def: new Uint8Array(2 * n), idx: new Int32Array(2 * n)}
  return scratch
}

const C_OPFLAGS = C('opFlags')
const C_OPENFLAGS = C('openFlags')
const C_SIP = C('sip')
const C_DIP = C('dip')
const C_SPORT = C('sport')
const C_HPID = C('procOID.hpid')
const C_CREATETS = C('procOID.createTS')

/** A long field's state and words, as text. */
function longKey(col: LongColumn | undefined, i: number): string {
  if (col === undefined) return 'u'
  const s = col.s[i]
  return s === PRESENT ? `${col.w[2 * i + 1]}:${col.w[2 * i]}` : `s${s}`
}
const C_DPORT = C('dport')

/** A number that tells apart every (kind, state, value) of an int field: exact below 2^53. */
function intKey(col: IntColumn | undefined, kind: number, i: number): number {
  if (col === undefined) return kind * 2 ** 34 + 2 ** 33
  const s = col.s[i]
  return kind * 2 ** 34 + (s === PRESENT ? col.v[i] >>> 0 : 2 ** 32 + s)
}

/** `time`: ts in microseconds, as DuckDB casts TIMESTAMP_NS to TIMESTAMP (integer division, towards zero). */
function micros(lo: number, hi: number, out: Int32Array, r: number, ts: bigint): void {
  if (hi >= 0 && hi < 0x7fffffff) {
    const sec = splitSeconds(hi, lo >>> 0)
    const us = sec * 1e6 + Math.floor(splitRest / 1000)
    if (Number.isSafeInteger(us)) {
      out[2 * r] = us % 4294967296 | 0
      out[2 * r + 1] = Math.floor(us / 4294967296)
      return
    }
  }
  const us = BigInt.asIntN(64, ts / 1000n)
  out[2 * r] = Number(BigInt.asIntN(32, us))
  out[2 * r + 1] = Number(BigInt.asIntN(32, us >> 32n))
}

let ones = new Uint8Array(0)
function ONES(n: number): Uint8Array {
  if (ones.length < n) ones = new Uint8Array(n).fill(1)
  return ones
}

/** a < b as Parquet orders them: strings by their UTF-8 bytes, numbers and booleans by value. */
function less(a: Exclude<Stored, null>, b: Exclude<Stored, null>): boolean {
  if (typeof a === 'string') {
    // UTF-16 order is UTF-8 byte order except between surrogates and U+E000..U+FFFF: compare bytes only then.
    if (HIGH.test(a) && HIGH.test(b as string)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b as string, 'utf8')) < 0
    return a < (b as string)
  }
  return a < b
}

const HIGH = /[\ud800-\uffff]/

function wordBytes(lo: number, hi: number): Uint8Array {
  const b = Buffer.allocUnsafe(8)
  b.writeInt32LE(lo | 0, 0)
  b.writeInt32LE(hi | 0, 4)
  return b
}

function i32Bytes(v: number): Uint8Array {
  const b = Buffer.allocUnsafe(4)
  b.writeInt32LE(v | 0, 0)
  return b
}

function statBytes(physical: Physical, v: Exclude<Stored, null>): Uint8Array {
  switch (physical) {
    case 'BYTE_ARRAY':
      return Buffer.from(v as string, 'utf8')
    case 'INT32':
      return i32Bytes(v as number)
    case 'INT64': {
      const b = Buffer.allocUnsafe(8)
      b.writeBigInt64LE(BigInt.asIntN(64, v as bigint))
      return b
    }
    case 'BOOLEAN':
      return Uint8Array.of(v ? 1 : 0)
  }
}

/** One PLAIN value of a dictionary (a null key's entry is a placeholder no row refers to). */
function plainValue(out: Bytes, physical: Physical, v: Stored | bigint): void {
  switch (physical) {
    case 'BYTE_ARRAY':
      return out.plainString(v as string)
    case 'INT32':
      return out.i32le(v === null ? 0 : (v as number))
    case 'INT64': {
      const x = v === null ? 0n : BigInt.asIntN(64, v as bigint)
      return out.words(Number(BigInt.asIntN(32, x)), Number(x >> 32n))
    }
    case 'BOOLEAN':
      throw new Error('booleans are written PLAIN, not from a dictionary')
  }
}

