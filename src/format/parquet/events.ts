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
import {ColumnJoined, joinedAt} from '../columnar/read.js'
import {Joined} from '../join.js'
import {Kind} from '../records.js'
import {splitRest, splitSeconds} from '../time.js'
import {Bytes} from './bytes.js'
import {writeIndexes, writeLevels, writePlainBinary, writePlainBools} from './encode.js'
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

/** A value of a key group's column, as Parquet stores it (null: no value). */
type Stored = Buffer | number | bigint | boolean | null
type StoredList = (Buffer | bigint | null)[] | null

interface KeyedColumn {
  index: number
  col: EventColumn
  value: Attribute['value']
  /** Per key: the stored value (scalars) or elements (lists). */
  vals: (Stored | StoredList)[]
}

class Group {
  /** Key number of each row of the row group. */
  idx = new Int32Array(ROW_GROUP_ROWS)
  keys = 0
  readonly columns: KeyedColumn[] = []
  constructor(readonly name: GroupName) {}
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

/** Per scope: for an entity group, the key number of each entity row (+1: row -1 is "none") in this row group. */
class ScopeKeys {
  idx: Int32Array[] = []
  stamp: Int32Array[] = []
}

function store(type: EventColumn['type'], v: AttrValue | null): Stored | StoredList {
  if (v === undefined || v === null) return null
  switch (type) {
    case 'string':
    case 'char':
    case 'json':
      return Buffer.from(v as string, 'utf8')
    case 'int':
      return v as number
    case 'int64':
      return v as bigint
    case 'bool':
      return v as boolean
    case 'strlist':
      return (v as (string | null | undefined)[]).map((e) => (e === undefined || e === null ? null : Buffer.from(e, 'utf8')))
    case 'intlist':
      return (v as (bigint | null | undefined)[]).map((e) => (e === undefined || e === null ? null : e))
    case 'timestamp':
      throw new Error('time is not a keyed column')
  }
}

const NONE_KEY = -1

export interface EventsParquetOptions {
  codec?: Codec
  /** zstd level (default 3, as DuckDB's). */
  level?: number
  rowGroupSize?: number
  createdBy?: string
}

/**
 * Writes joined column blocks as Parquet rows: `add` each row (block, scope, row), `close` at the end. Row groups
 * are encoded and written as they fill; memory is one row group's keys and fixed-width values.
 */
export class EventsParquetWriter {
  private readonly file: ParquetFileWriter
  private readonly compressor: Compressor
  private readonly groupSize: number
  private readonly groups: Group[] = []
  private readonly byName = new Map<GroupName, Group>()
  private readonly direct: DirectColumn[] = []
  private readonly tsCol = C('ts')
  private time = {present: new Uint8Array(0), w: new Int32Array(0)}
  private readonly timeIndex: number
  private rows = 0
  private serial = 0
  private readonly scopeKeys = new WeakMap<JoinScope, ScopeKeys>()
  private readonly maps = new Map<GroupName, Map<number, number>>()
  private readonly ipMaps = new Map<number, Map<number, number>>()
  private readonly texts = new Map<GroupName, Map<string, number>>()
  private readonly kindKey = new Int32Array(16)
  private readonly kindStamp = new Int32Array(16).fill(-1)
  written = 0

  constructor(path: string, opts: EventsParquetOptions = {}) {
    this.groupSize = opts.rowGroupSize ?? ROW_GROUP_ROWS
    this.compressor = new Compressor(opts.codec ?? 'zstd', opts.level ?? 3)
    this.file = new ParquetFileWriter(path, EVENTS_LEAVES, opts.codec ?? 'zstd', opts.createdBy ?? 'sysflow')
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
      const name = groupOf(c)
      let g = this.byName.get(name)
      if (g === undefined) {
        g = new Group(name)
        g.idx = new Int32Array(this.groupSize)
        this.byName.set(name, g)
        this.groups.push(g)
      }
      g.columns.push({index, col: c, value: c.attr.value, vals: []})
    })
    this.timeIndex = timeIndex
    this.time = {present: new Uint8Array(this.groupSize), w: new Int32Array(2 * this.groupSize)}
    for (const g of this.groups) this.maps.set(g.name, new Map())
  }

  private keysOf(s: JoinScope): ScopeKeys {
    let k = this.scopeKeys.get(s)
    if (k === undefined) this.scopeKeys.set(s, (k = new ScopeKeys()))
    return k
  }

  // The row being added, for the values of new keys (made once per row, when a key is new).
  private j!: JoinedColumns
  private s!: JoinScope
  private i = 0
  private joined: ColumnJoined | undefined

  private newKey(g: Group): number {
    const key = g.keys++
    this.joined ??= joinedAt(this.j, this.s, this.i)
    const jn = this.joined as unknown as Joined
    for (const c of g.columns) c.vals.push(store(c.col.type, c.value(jn)))
    return key
  }

  /** The key of entity row `e` (-1: none) of group number `gi` in the current scope. */
  private entityKey(sk: ScopeKeys, gi: number, g: Group, e: number): number {
    let idx = sk.idx[gi]
    let stamp = sk.stamp[gi]
    const at = e + 1
    if (idx === undefined || at >= idx.length) {
      const cap = Math.max(64, (at + 1) * 2)
      const ni = new Int32Array(cap)
      const ns = new Int32Array(cap).fill(-1)
      if (idx !== undefined) {
        ni.set(idx)
        ns.set(stamp)
      }
      sk.idx[gi] = idx = ni
      sk.stamp[gi] = stamp = ns
    }
    if (stamp[at] === this.serial) return idx[at]
    const key = this.newKey(g)
    idx[at] = key
    stamp[at] = this.serial
    return key
  }

  private mapKey(g: Group, k: number): number {
    const m = this.maps.get(g.name)!
    let key = m.get(k)
    if (key === undefined) m.set(k, (key = this.newKey(g)))
    return key
  }

  private textKey(g: Group, k: string): number {
    let m = this.texts.get(g.name)
    if (m === undefined) this.texts.set(g.name, (m = new Map()))
    let key = m.get(k)
    if (key === undefined) m.set(k, (key = this.newKey(g)))
    return key
  }

  /** Append events row i of joined block j (in scope s). */
  add(j: JoinedColumns, s: JoinScope, i: number): void {
    this.j = j
    this.s = s
    this.i = i
    this.joined = undefined
    const r = this.rows
    const ev = j.block.events
    const kind = j.block.eventKind[i]
    const c = j.ctx[i]
    const sk = this.keysOf(s)
    const groups = this.groups
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi]
      let key: number
      switch (g.name) {
        case 'proc':
          key = this.entityKey(sk, gi, g, c >= 0 ? s.ctxProc[c] : -1)
          break
        case 'procOid':
          if (c >= 0) key = this.entityKey(sk, gi, g, s.ctxProc[c])
          else if (kind === Kind.K8sEvent) key = this.mapKey(g, NONE_KEY)
          else key = this.textKey(g, `${longKey(ev.cols[C_HPID] as LongColumn | undefined, i)}|${longKey(ev.cols[C_CREATETS] as LongColumn | undefined, i)}`)
          break
        case 'pproc':
          key = this.entityKey(sk, gi, g, c >= 0 ? s.ctxPproc[c] : -1)
          break
        case 'ctx':
          key = this.entityKey(sk, gi, g, c)
          break
        case 'container':
          key = this.entityKey(sk, gi, g, c >= 0 ? s.ctxContainer[c] : -1)
          break
        case 'pod':
          key = this.entityKey(sk, gi, g, c >= 0 ? s.ctxPod[c] : -1)
          break
        case 'file':
          key = this.entityKey(sk, gi, g, j.fileRow[i])
          break
        case 'newFile':
          key = this.entityKey(sk, gi, g, j.newFileRow[i])
          break
        case 'header':
          key = this.entityKey(sk, gi, g, 0)
          break
        case 'kind':
          if (this.kindStamp[kind] === this.serial) key = this.kindKey[kind]
          else {
            key = this.kindKey[kind] = this.newKey(g)
            this.kindStamp[kind] = this.serial
          }
          break
        case 'opflags':
          key = this.mapKey(g, intKey(ev.cols[C_OPFLAGS] as IntColumn | undefined, kind, i))
          break
        case 'openflags':
          key = this.mapKey(g, kind === Kind.FileFlow ? intKey(ev.cols[C_OPENFLAGS] as IntColumn | undefined, kind, i) : NONE_KEY)
          break
        case 'sip':
          key = this.mapKey(g, kind === Kind.NetworkFlow || kind === Kind.NetworkEvent ? intKey(ev.cols[C_SIP] as IntColumn | undefined, kind, i) : NONE_KEY)
          break
        case 'dip':
          key = this.mapKey(g, kind === Kind.NetworkFlow || kind === Kind.NetworkEvent ? intKey(ev.cols[C_DIP] as IntColumn | undefined, kind, i) : NONE_KEY)
          break
        case 'ports':
        case 'ips':
          if (kind !== Kind.NetworkFlow && kind !== Kind.NetworkEvent) key = this.mapKey(g, NONE_KEY)
          else {
            const [ca, cb] = g.name === 'ports' ? [C_SPORT, C_DPORT] : [C_SIP, C_DIP]
            const a = intKey(ev.cols[ca] as IntColumn | undefined, kind, i)
            const b = intKey(ev.cols[cb] as IntColumn | undefined, kind, i)
            const id = g.name === 'ports' ? 1 : 2
            let m = this.ipMaps.get(id * 2 ** 40 + a)
            if (m === undefined) this.ipMaps.set(id * 2 ** 40 + a, (m = new Map()))
            let k = m.get(b)
            if (k === undefined) m.set(b, (k = this.newKey(g)))
            key = k
          }
          break
        case 'k8s':
          // A K8s event's fields are its own: a key per row.
          key = kind === Kind.K8sEvent ? this.newKey(g) : this.mapKey(g, NONE_KEY)
          break
      }
      g.idx[r] = key
    }
    const cols = ev.cols
    for (const d of this.direct) {
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
    if (process.env.PQ_DEBUG) process.stderr.write(this.groups.map((g) => `${g.name}:${g.keys}`).join(' ') + '\n')
    const chunks: ColumnChunk[] = new Array(EVENT_COLUMNS.length)
    const shared = new Map<string, Compressed>()
    const out = new Bytes(1 << 16)
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
    }
    this.file.writeRowGroup(n, chunks)
    this.rows = 0
    this.serial++
    for (const m of this.maps.values()) m.clear()
    this.ipMaps.clear()
    this.texts.clear()
  }

  private page(out: Bytes): Compressed {
    return this.compressor.compress(out.view())
  }

  private directChunk(out: Bytes, d: DirectColumn, n: number): ColumnChunk {
    out.reset()
    writeLevels(out, d.present, n, 1)
    let nulls = 0
    let minHi = 0
    let minLo = 0
    let maxHi = 0
    let maxLo = 0
    let any = false
    const w = d.w
    for (let r = 0; r < n; r++) {
      if (d.present[r] === 0) {
        nulls++
        continue
      }
      if (d.long) {
        const lo = w[2 * r]
        const hi = w[2 * r + 1]
        out.words(lo, hi)
        if (!any || hi < minHi || (hi === minHi && lo >>> 0 < minLo >>> 0)) [minHi, minLo] = [hi, lo]
        if (!any || hi > maxHi || (hi === maxHi && lo >>> 0 > maxLo >>> 0)) [maxHi, maxLo] = [hi, lo]
      } else {
        const v = w[r]
        out.i32le(v)
        if (!any || v < minLo) minLo = v
        if (!any || v > maxLo) maxLo = v
      }
      any = true
    }
    const stats: Stats = {nullCount: nulls}
    if (any) {
      if (d.long) {
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
      if (minI < 0 || less(v, vals[minI]!)) minI = k
      if (maxI < 0 || less(vals[maxI]!, v)) maxI = k
    }
    const sig = `${g.name}|${nullKeys}`
    let body = shared.get(sig)
    let nulls = 0
    if (nullKeys === '') {
      if (body === undefined) {
        out.reset()
        writeLevels(out, ONES(n), n, 1)
        writeIndexes(out, g.idx, n, vals.length)
        shared.set(sig, (body = this.page(out)))
      }
    } else {
      const isNull = new Uint8Array(vals.length)
      for (let k = 0; k < vals.length; k++) if (vals[k] === null) isNull[k] = 1
      const def = new Uint8Array(n)
      const idx = new Int32Array(n)
      let m = 0
      for (let r = 0; r < n; r++) {
        const k = g.idx[r]
        if (isNull[k] === 1) continue
        def[r] = 1
        idx[m++] = k
      }
      nulls = n - m
      if (body === undefined) {
        out.reset()
        writeLevels(out, def, n, 1)
        writeIndexes(out, idx, m, vals.length)
        shared.set(sig, (body = this.page(out)))
      }
    }
    if (nullKeys !== '' && nulls === 0) nulls = countNulls(g, vals, n)
    out.reset()
    // A null key's entry is a placeholder no row refers to; readers may still check it (DuckDB parses JSON ones).
    const placeholder = c.col.type === 'json' ? JSON_NULL : EMPTY
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
    const def = new Uint8Array(n)
    const bits = new Uint8Array(n)
    let m = 0
    let seenFalse = false
    let seenTrue = false
    for (let r = 0; r < n; r++) {
      const v = vals[g.idx[r]]
      if (v === null) continue
      def[r] = 1
      bits[m++] = v ? 1 : 0
      if (v) seenTrue = true
      else seenFalse = true
    }
    out.reset()
    writeLevels(out, def, n, 1)
    writePlainBools(out, bits, m)
    const stats: Stats = {nullCount: n - m}
    if (m > 0) {
      stats.min = Uint8Array.of(seenFalse ? 0 : 1)
      stats.max = Uint8Array.of(seenTrue ? 1 : 0)
    }
    return {pages: [{values: n, encoding: ENC_PLAIN, body: this.page(out)}], stats}
  }

  /** A list column: elements dictionary-encoded (the column's distinct elements), levels per row. */
  private listChunk(out: Bytes, g: Group, c: KeyedColumn, n: number): ColumnChunk {
    const vals = c.vals as StoredList[]
    const physical = EVENTS_LEAVES[c.index].physical
    const dict: (Buffer | bigint)[] = []
    const ids = new Map<string | bigint, number>()
    // Per key: element dictionary indexes (-1: a null element).
    const perKey: (Int32Array | null)[] = vals.map((list) => {
      if (list === null) return null
      const out = new Int32Array(list.length)
      list.forEach((e, k) => {
        if (e === null) {
          out[k] = -1
          return
        }
        const id = typeof e === 'bigint' ? e : e.toString('latin1')
        let x = ids.get(id)
        if (x === undefined) {
          ids.set(id, (x = dict.length))
          dict.push(e)
        }
        out[k] = x
      })
      return out
    })
    let cap = n + 16
    let rep = new Uint8Array(cap)
    let def = new Uint8Array(cap)
    let idx = new Int32Array(cap)
    let e = 0
    let m = 0
    const grow = () => {
      cap *= 2
      const r2 = new Uint8Array(cap)
      r2.set(rep)
      rep = r2
      const d2 = new Uint8Array(cap)
      d2.set(def)
      def = d2
      const i2 = new Int32Array(cap)
      i2.set(idx)
      idx = i2
    }
    for (let r = 0; r < n; r++) {
      const list = perKey[g.idx[r]]
      if (list === null || list.length === 0) {
        if (e >= cap) grow()
        rep[e] = 0
        def[e++] = list === null ? 0 : 1
        continue
      }
      while (e + list.length > cap) grow()
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
    writeLevels(out, rep, e, 1)
    writeLevels(out, def, e, 3)
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

function countNulls(g: Group, vals: readonly Stored[], n: number): number {
  let nulls = 0
  for (let r = 0; r < n; r++) if (vals[g.idx[r]] === null) nulls++
  return nulls
}

function less(a: Exclude<Stored, null>, b: Exclude<Stored, null>): boolean {
  if (typeof a === 'object') return Buffer.compare(a, b as Buffer) < 0
  return a < b
}

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
      return v as Buffer
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
function plainValue(out: Bytes, physical: Physical, v: Stored | Buffer | bigint): void {
  switch (physical) {
    case 'BYTE_ARRAY':
      return writePlainBinary(out, v === null ? EMPTY : (v as Buffer))
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

const EMPTY = Buffer.alloc(0)
const JSON_NULL = Buffer.from('null')
