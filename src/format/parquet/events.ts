// The `events` rows of a Parquet file gathered straight from the joined column tables (issue #17): no record
// object, no DuckDB. Per row:
//   - the record's own fixed-width fields (ts, endts, ret, ports, counters...) are copied from their arrays (longs
//     as their two 32-bit words); `time` is ts in microseconds;
//   - every other column depends on one thing the row is joined to or carries (./layout.ts: its process, parent,
//     context, container, pod, file, new file, header; its kind and op flags, open flags, IPs, ports): each
//     distinct key gets a number in the row group the first time it is met, and the catalogue's value() is asked
//     then, on a view of that row that builds only what value() reads. The numbers are the dictionary indexes of
//     every column of the group (./row-group.ts encodes them); the values are written at once (./prepare.ts).
// Anything a key cannot vouch for (a K8s event's own fields, the OID a record without its process carries) gets
// a key of its own. Full row groups go to a sink (./sink.ts): encoded here, or on a thread of their own.
// Values are exactly the catalogue's, as the DuckDB-written export's are: test/parquet-columns.test.ts reads both
// back in DuckDB and compares every cell, on every fixture, shared trace and traces built to break this.
import {Attribute} from '../attributes.js'
import {EventColumn} from '../arrow/columns.js'
import {IntColumn, LongColumn, PRESENT, UNDEFINED} from '../columnar/columns.js'
import {JoinedColumns, JoinScope} from '../columnar/join.js'
import {JoinedRow} from '../columnar/read.js'
import {Joined} from '../join.js'
import {Kind} from '../records.js'
import {Codec} from './file.js'
import {
  C, DIRECT_COLUMNS, ENTITY_GROUPS, G_CONTAINER, G_CTX, G_DIP, G_FILE, G_HEADER, G_IPS, G_K8S, G_KIND, G_NEW_FILE, G_OPENFLAGS,
  G_OPFLAGS, G_POD, G_PORTS, G_PPROC, G_PROC, G_PROC_OID, G_SIP, GROUP_COLUMNS, GROUP_NAMES, GroupName, ROW_GROUP_ROWS,
} from './layout.js'
import {AncestryValues} from './ancestry-values.js'
import {FileValues} from './file-values.js'
import {KeyedValues, keyedValues} from './prepare.js'
import {RowGroupData} from './row-group.js'
import {InThreadSink, RowGroupSink, WorkerSink} from './sink.js'

export {EVENTS_LEAVES, ROW_GROUP_ROWS} from './layout.js'

// --- per row group state -------------------------------------------------------------------------------------------

interface KeyedColumn {
  index: number
  col: EventColumn
  value: Attribute['value']
  /** Its values per key of the row group, written as they come. */
  acc: KeyedValues
}

class Group {
  /** Key number of each row of the row group. */
  idx: Int32Array
  keys = 0
  readonly columns: KeyedColumn[] = []
  /** Record-level groups: key number by the number that tells their inputs apart. */
  readonly map = new Map<number, number>()
  readonly texts = new Map<string, number>()
  readonly pairs = new Map<number, Map<number, number>>()
  lastB = NaN
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
 * group (valid where its stamp is the row group's serial). The values are asked of the catalogue once per key
 * and row group and written at once (./prepare.ts), not kept: short-lived values are cheap to collect.
 */
class ScopeKeys {
  idx = new Int32Array(64)
  stamp = new Int32Array(64).fill(-1)

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

/** A fixed-width column of the row group: words (longs) or ints, and each row's state (PRESENT...). */
interface FixedColumn {
  long: boolean
  w: Int32Array
  state: Uint8Array
}

interface DirectColumn extends FixedColumn {
  /** The events table column. */
  col: number
}

/** Rows from..to-1 of a block's column into c at row `at` (a column the block lacks is UNDEFINED throughout). */
function copyColumn(col: LongColumn | IntColumn | undefined, c: FixedColumn, from: number, to: number, at: number): void {
  if (col === undefined) {
    c.state.fill(UNDEFINED, at, at + to - from)
    return
  }
  c.state.set(col.s.subarray(from, to), at)
  if (c.long) c.w.set((col as LongColumn).w.subarray(2 * from, 2 * to), 2 * at)
  else c.w.set((col as IntColumn).v.subarray(from, to), at)
}


const NONE_KEY = -1

export interface EventsParquetOptions {
  codec?: Codec
  /** Encode row groups after the first on a thread of their own (default true). */
  thread?: boolean
  /**
   * zstd level (default 1: on the 2M-record bench trace, 40.5 MB against 36.0 MB at level 3, where DuckDB's own
   * export is 43.7 MB, for about half the compression time).
   */
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
  private sink: RowGroupSink | undefined
  private readonly groupSize: number
  private readonly groups: Group[]
  private readonly direct: DirectColumn[]
  private readonly tsCol = C('ts')
  private time: FixedColumn
  private kinds: Uint8Array
  private rows = 0
  /** The row group's number: stamps of keys met in it. */
  private serial = 0
  private readonly caches = new WeakMap<JoinScope, ScopeKeys[]>()
  private readonly kindKey = new Int32Array(16)
  private readonly kindStamp = new Int32Array(16).fill(-1)
  /** The file and new-file groups' values from the File rows' bytes, where they are plain (./file-values.ts). */
  private readonly fileValues: (FileValues | undefined)[]
  /** The context group's ancestry lists from each ancestor's elements (./ancestry-values.ts), and which they are. */
  private readonly ancestry: AncestryValues | undefined
  private readonly ancestryColumn: Uint8Array
  /** Ports numbered per row group: a pair of ports is keyed by their numbers. */
  private readonly sports = new PairIds()
  private readonly dports = new PairIds()
  /** The row whose values a new key asks for (each part made when value() reads it). */
  private readonly row = new JoinedRow()
  written = 0

  // The last scope, context, file and new file rows, and their keys (valid in row group ctxSerial/fileSerial...).
  private lastScope: JoinScope | undefined
  private sc: ScopeKeys[] = []
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

  constructor(private readonly path: string, private readonly opts: EventsParquetOptions = {}) {
    this.groupSize = opts.rowGroupSize ?? ROW_GROUP_ROWS
    this.groups = GROUP_NAMES.map((name, gi) => {
      const g = new Group(name, this.groupSize)
      for (const c of GROUP_COLUMNS[gi]) g.columns.push({index: c.index, col: c.col, value: c.col.attr!.value, acc: keyedValues(c)})
      return g
    })
    this.fileValues = this.groups.map((g, gi) => (gi === G_FILE || gi === G_NEW_FILE ? FileValues.of(g.columns.map((c) => c.col.name), g.columns.map((c) => c.acc)) : undefined))
    const ctx = this.groups[G_CTX].columns
    this.ancestry = AncestryValues.of(ctx.map((c) => c.col.name), ctx.map((c) => c.acc), ctx.map((c) => c.value))
    this.ancestryColumn = new Uint8Array(ctx.length)
    for (const k of this.ancestry?.columns ?? []) this.ancestryColumn[k] = 1
    this.direct = DIRECT_COLUMNS.map((d) => ({...d, w: new Int32Array((d.long ? 2 : 1) * this.groupSize), state: new Uint8Array(this.groupSize)}))
    this.time = {long: true, state: new Uint8Array(this.groupSize), w: new Int32Array(2 * this.groupSize)}
    this.kinds = new Uint8Array(this.groupSize)
  }

  /** The values of group g's columns for row i of the block being added. */
  private newKey(g: Group, i: number): number {
    this.row.reset(this.j, this.s, i)
    const jn = this.row as unknown as Joined
    const cols = g.columns
    const c = g === this.groups[G_CTX] && this.ancestry !== undefined ? this.j.ctx[i] : -1
    if (c >= 0) {
      const lists = this.ancestryColumn
      for (let k = 0; k < cols.length; k++) if (lists[k] === 0) cols[k].acc.add(cols[k].value(jn))
      this.ancestry!.add(this.s, c, this.serial)
    } else for (let k = 0; k < cols.length; k++) cols[k].acc.add(cols[k].value(jn))
    return g.keys++
  }

  /** The key of entity row `e` (-1: none) of entity group gi in the current scope (row i, if its values are new). */
  private entityKey(gi: number, e: number, i: number): number {
    const sc = this.sc[gi]
    const at = e + 1
    if (at >= sc.idx.length) sc.grow(at)
    if (sc.stamp[at] === this.serial) return sc.idx[at]
    const fv = this.fileValues[gi]
    const key = fv !== undefined && e >= 0 && fv.add(this.s.files, e) ? this.groups[gi].keys++ : this.newKey(this.groups[gi], i)
    sc.idx[at] = key
    sc.stamp[at] = this.serial
    return key
  }

  /** The key of a record-level group for input number k (the last one is remembered). */
  private mapKey(gi: number, k: number, i: number): number {
    const g = this.groups[gi]
    if (k === g.last && g.lastSerial === this.serial) return g.lastKey
    let key = g.map.get(k)
    if (key === undefined) g.map.set(k, (key = this.newKey(g, i)))
    g.last = k
    g.lastB = NaN
    g.lastKey = key
    g.lastSerial = this.serial
    return key
  }

  /** The key of a record-level group for a pair of input numbers (the last pair is remembered). */
  private pairKey(gi: number, a: number, b: number, i: number): number {
    const g = this.groups[gi]
    if (a === g.last && b === g.lastB && g.lastSerial === this.serial) return g.lastKey
    let m = g.pairs.get(a)
    if (m === undefined) g.pairs.set(a, (m = new Map()))
    let key = m.get(b)
    if (key === undefined) m.set(b, (key = this.newKey(g, i)))
    g.last = a
    g.lastB = b
    g.lastKey = key
    g.lastSerial = this.serial
    return key
  }

  private textKey(gi: number, k: string, i: number): number {
    const g = this.groups[gi]
    let key = g.texts.get(k)
    if (key === undefined) g.texts.set(k, (key = this.newKey(g, i)))
    return key
  }

  // The block being added.
  private j!: JoinedColumns
  private s!: JoinScope

  /** Append rows from..to-1 of joined block j, all of scope s. */
  addRange(j: JoinedColumns, s: JoinScope, from: number, to: number): void {
    this.j = j
    this.s = s
    if (s !== this.lastScope) {
      let sc = this.caches.get(s)
      if (sc === undefined) {
        sc = Array.from({length: ENTITY_GROUPS}, () => new ScopeKeys())
        this.caches.set(s, sc)
      }
      this.sc = sc
      this.lastScope = s
      this.lastCtx = this.lastFile = this.lastNewFile = -2
    }
    while (from < to) {
      const n = Math.min(to - from, this.groupSize - this.rows)
      this.fill(from, from + n)
      from += n
      this.rows += n
      this.written += n
      // Half a row group in, the output will likely have more than one: start the writer thread now, so that it
      // loads and compiles while this one gathers the rest (started at the first flush, it made this thread wait
      // for it a row group later).
      if (this.sink === undefined && this.opts.thread !== false && this.rows >= this.groupSize >> 1) this.sink = new WorkerSink(this.path, this.opts)
      if (this.rows === this.groupSize) this.flush()
    }
  }

  /** Rows from..to-1 of the current block into the row group from this.rows on: a column or group at a time. */
  private fill(from: number, to: number): void {
    const j = this.j
    const s = this.s
    const r0 = this.rows - from
    const ev = j.block.events
    const cols = ev.cols
    const kinds = j.block.eventKind
    const gs = this.groups
    // Everything the context decides: process, parent, ancestry, container, pod (and the scope's header).
    if (this.ctxSerial !== this.serial) this.lastCtx = -2
    {
      const ctx = j.ctx
      const iProc = gs[G_PROC].idx
      const iOid = gs[G_PROC_OID].idx
      const iPproc = gs[G_PPROC].idx
      const iCtx = gs[G_CTX].idx
      const iContainer = gs[G_CONTAINER].idx
      const iPod = gs[G_POD].idx
      const iHeader = gs[G_HEADER].idx
      let last = this.lastCtx
      let kProc = this.kProc
      let kOid = this.kProcOid
      let kPproc = this.kPproc
      let kCtx = this.kCtx
      let kContainer = this.kContainer
      let kPod = this.kPod
      let kHeader = this.kHeader
      for (let i = from; i < to; i++) {
        const c = ctx[i]
        if (c !== last) {
          kProc = this.entityKey(G_PROC, c >= 0 ? s.ctxProc[c] : -1, i)
          kOid = c >= 0 ? this.entityKey(G_PROC_OID, s.ctxProc[c], i) : -1
          kPproc = this.entityKey(G_PPROC, c >= 0 ? s.ctxPproc[c] : -1, i)
          kCtx = this.entityKey(G_CTX, c, i)
          kContainer = this.entityKey(G_CONTAINER, c >= 0 ? s.ctxContainer[c] : -1, i)
          kPod = this.entityKey(G_POD, c >= 0 ? s.ctxPod[c] : -1, i)
          kHeader = this.entityKey(G_HEADER, 0, i)
          last = c
        }
        const r = r0 + i
        iProc[r] = kProc
        iPproc[r] = kPproc
        iCtx[r] = kCtx
        iContainer[r] = kContainer
        iPod[r] = kPod
        iHeader[r] = kHeader
        // Without its process, a record's pid and createts are the OID it carries.
        iOid[r] = c >= 0
          ? kOid
          : kinds[i] === Kind.K8sEvent ? this.mapKey(G_PROC_OID, NONE_KEY, i) : this.textKey(G_PROC_OID, `${longKey(cols[C_HPID] as LongColumn | undefined, i)}|${longKey(cols[C_CREATETS] as LongColumn | undefined, i)}`, i)
      }
      this.lastCtx = last
      this.ctxSerial = this.serial
      this.kProc = kProc
      this.kProcOid = kOid
      this.kPproc = kPproc
      this.kCtx = kCtx
      this.kContainer = kContainer
      this.kPod = kPod
      this.kHeader = kHeader
    }
    this.fillEntity(G_FILE, j.fileRow, from, to, r0, 'lastFile', 'kFile', 'fileSerial')
    this.fillEntity(G_NEW_FILE, j.newFileRow, from, to, r0, 'lastNewFile', 'kNewFile', 'newFileSerial')
    this.fillFlags(from, to, r0)
    // The record's kinds and its own fixed-width fields (with their states) and ts, copied a range at a time: the
    // encoder works out which are present and `time` (./row-group.ts).
    const at = r0 + from
    this.kinds.set(kinds.subarray(from, to), at)
    for (const d of this.direct) copyColumn(cols[d.col] as LongColumn | IntColumn | undefined, d, from, to, at)
    copyColumn(cols[this.tsCol] as LongColumn | undefined, this.time, from, to, at)
  }

  /**
   * The record's kind and flags (op flags, open flags, IPs, ports, a K8s event's own fields) of rows from..to-1,
   * each keyed by (kind and state, value) as two small ints.
   */
  private fillFlags(from: number, to: number, r0: number): void {
    const j = this.j
    const cols = j.block.events.cols
    const kinds = j.block.eventKind
    const gs = this.groups
    const iKind = gs[G_KIND].idx
    const iOp = gs[G_OPFLAGS].idx
    const iOpen = gs[G_OPENFLAGS].idx
    const iSip = gs[G_SIP].idx
    const iDip = gs[G_DIP].idx
    const iIps = gs[G_IPS].idx
    const iPorts = gs[G_PORTS].idx
    const iK8s = gs[G_K8S].idx
    const op = cols[C_OPFLAGS] as IntColumn | undefined
    const open = cols[C_OPENFLAGS] as IntColumn | undefined
    const cSip = cols[C_SIP] as IntColumn | undefined
    const cDip = cols[C_DIP] as IntColumn | undefined
    const cSport = cols[C_SPORT] as IntColumn | undefined
    const cDport = cols[C_DPORT] as IntColumn | undefined
    // The last input of each group and its key, here: consecutive records mostly share them. Inputs are pairs of
    // small ints (intHi, intLo), never one number of more than 31 bits: such a number passed to a call that is not
    // inlined is an object for the collector, which cost ~50 bytes a row.
    let opHi = -2
    let opLo = 0
    let opKey = 0
    let openHi = -2
    let openLo = 0
    let openKey = 0
    let none = -1
    let noneKeys = [0, 0, 0, 0, 0]
    for (let i = from; i < to; i++) {
      const r = r0 + i
      const kind = kinds[i]
      if (this.kindStamp[kind] !== this.serial) {
        this.kindKey[kind] = this.newKey(gs[G_KIND], i)
        this.kindStamp[kind] = this.serial
      }
      iKind[r] = this.kindKey[kind]
      const oh = intHi(op, kind, i)
      const ol = intLo(op, i)
      if (oh !== opHi || ol !== opLo) {
        opKey = this.pairKey(G_OPFLAGS, oh, ol, i)
        opHi = oh
        opLo = ol
      }
      iOp[r] = opKey
      const fh = kind === Kind.FileFlow ? intHi(open, kind, i) : NONE_KEY
      const fl = kind === Kind.FileFlow ? intLo(open, i) : 0
      if (fh !== openHi || fl !== openLo) {
        openKey = this.pairKey(G_OPENFLAGS, fh, fl, i)
        openHi = fh
        openLo = fl
      }
      iOpen[r] = openKey
      if (kind === Kind.NetworkFlow || kind === Kind.NetworkEvent) {
        const sip = this.pairKey(G_SIP, intHi(cSip, kind, i), intLo(cSip, i), i)
        const dip = this.pairKey(G_DIP, intHi(cDip, kind, i), intLo(cDip, i), i)
        iSip[r] = sip
        iDip[r] = dip
        // A pair of IPs by their keys; a pair of ports by their numbers in this row group.
        iIps[r] = this.pairKey(G_IPS, sip, dip, i)
        iPorts[r] = this.pairKey(G_PORTS, this.sports.id(intHi(cSport, kind, i), intLo(cSport, i)), this.dports.id(intHi(cDport, kind, i), intLo(cDport, i)), i)
        iK8s[r] = this.mapKey(G_K8S, NONE_KEY, i)
        continue
      }
      if (kind === Kind.K8sEvent) {
        // A K8s event's own fields: a key per row.
        iK8s[r] = this.newKey(gs[G_K8S], i)
        iSip[r] = this.mapKey(G_SIP, NONE_KEY, i)
        iDip[r] = this.mapKey(G_DIP, NONE_KEY, i)
        iIps[r] = this.mapKey(G_IPS, NONE_KEY, i)
        iPorts[r] = this.mapKey(G_PORTS, NONE_KEY, i)
        continue
      }
      // Neither: the groups' "none" keys, looked up once per call.
      if (none < 0) {
        // No closure here: one that captures the loop's `i` makes V8 allocate a context per row (72 MB on the
        // bench trace), whether or not it runs.
        noneKeys = [this.mapKey(G_SIP, NONE_KEY, i), this.mapKey(G_DIP, NONE_KEY, i), this.mapKey(G_IPS, NONE_KEY, i), this.mapKey(G_PORTS, NONE_KEY, i), this.mapKey(G_K8S, NONE_KEY, i)]
        none = 1
      }
      iSip[r] = noneKeys[0]
      iDip[r] = noneKeys[1]
      iIps[r] = noneKeys[2]
      iPorts[r] = noneKeys[3]
      iK8s[r] = noneKeys[4]
    }
  }

  private fillEntity(gi: number, rows: Int32Array, from: number, to: number, r0: number, lastField: 'lastFile' | 'lastNewFile', keyField: 'kFile' | 'kNewFile', serialField: 'fileSerial' | 'newFileSerial'): void {
    const idx = this.groups[gi].idx
    let last = this[serialField] === this.serial ? this[lastField] : -2
    let key = this[keyField]
    for (let i = from; i < to; i++) {
      const f = rows[i]
      if (f !== last) {
        key = this.entityKey(gi, f, i)
        last = f
      }
      idx[r0 + i] = key
    }
    this[lastField] = last
    this[keyField] = key
    this[serialField] = this.serial
  }

  /** Hand the row group (if any row) to its encoder, then start the next. */
  private flush(last = false): void {
    const n = this.rows
    if (n === 0) return
    // Outputs of one row group are encoded here; longer ones on a thread of their own, beside the reading.
    this.sink ??= last || this.opts.thread === false ? new InThreadSink(this.path, this.opts) : new WorkerSink(this.path, this.opts)
    const moves = this.sink.moves
    const data: RowGroupData = {
      rows: n,
      keys: this.groups.map((g) => g.idx),
      prepared: this.groups.map((g) => g.columns.map((c) => c.acc.take())),
      kinds: this.kinds,
      direct: this.direct.map((d) => ({w: d.w, state: d.state})),
      time: {w: this.time.w, state: this.time.state},
    }
    this.sink.write(data)
    // The arrays went to the encoder's thread: take back a set it is done with, or make new ones.
    const spare = moves ? this.sink.spare() : undefined
    for (const [gi, g] of this.groups.entries()) {
      if (moves) g.idx = spare?.keys[gi] ?? new Int32Array(this.groupSize)
      g.keys = 0
      g.map.clear()
      g.texts.clear()
      g.pairs.clear()
    }
    if (moves) {
      this.direct.forEach((d, k) => {
        d.w = spare?.direct[k].w ?? new Int32Array((d.long ? 2 : 1) * this.groupSize)
        d.state = spare?.direct[k].state ?? new Uint8Array(this.groupSize)
      })
      this.time = spare?.time ? {long: true, ...spare.time} : {long: true, state: new Uint8Array(this.groupSize), w: new Int32Array(2 * this.groupSize)}
      this.kinds = spare?.kinds ?? new Uint8Array(this.groupSize)
    }
    this.sports.clear()
    this.dports.clear()
    this.rows = 0
    this.serial++
  }

  /** Wait while the encoder is more than a row group behind (memory stays a few row groups). */
  async ready(): Promise<void> {
    await this.sink?.ready()
  }

  /** Write the last row group and the footer. */
  async close(): Promise<void> {
    this.flush(true)
    this.sink ??= new InThreadSink(this.path, this.opts)
    await this.sink.close()
  }

  /** Stop after an error (the caller removes the file). */
  async abandon(): Promise<void> {
    await this.sink?.abandon()
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

/** An int field's kind and state (kind * 8 + state; 7: a column the block lacks): with intLo, what tells it apart. */
function intHi(col: IntColumn | undefined, kind: number, i: number): number {
  return col === undefined ? kind * 8 + 7 : kind * 8 + col.s[i]
}

/** An int field's value where present (0 otherwise: intHi tells those apart). */
function intLo(col: IntColumn | undefined, i: number): number {
  return col !== undefined && col.s[i] === PRESENT ? col.v[i] : 0
}

/** Numbers for pairs of small ints (a port's intHi and intLo), from 0, afresh each row group. */
class PairIds {
  private readonly ids = new Map<number, Map<number, number>>()
  private n = 0

  id(a: number, b: number): number {
    let m = this.ids.get(a)
    if (m === undefined) this.ids.set(a, (m = new Map()))
    let id = m.get(b)
    if (id === undefined) m.set(b, (id = this.n++))
    return id
  }

  clear(): void {
    this.ids.clear()
    this.n = 0
  }
}


