// `print -o csv` straight from column tables (issue #17): the same bytes as csvLine over joined records, without a
// record object per row. Per record kind, a generated line writer in three kinds of parts:
//   - text that is the same for every record of the kind (separators, and the columns the kind does not carry,
//     rendered once from the first record, as compileTemplate bakes them);
//   - runs of columns that read only entities (process, parent, container, pod, file, header), rendered by the
//     attribute functions once per entity combination of the scope (context row, file row, new file row) and then
//     copied as bytes;
//   - the record's own columns written from the column arrays (longs from their two 32-bit words, exact above 2^53;
//     ints, IPs, op flags through small caches; ISO times with the second's prefix cached, `ts,ts_uts` from one
//     text per second), and file paths straight from the File rows (a file record's res after its file.path copied
//     from the line). A value that is not plainly present (absent field, null) and every column without a writer
//     here goes through the attribute function on the row built lazily from the columns (joinedAt), exactly as the
//     row printer writes it.
// The generated code writes into the builder's buffer with the position in a local (see compileKind).
import {Attribute, EntityDep, PrintValue} from '../attributes.js'
import {fileTypeChar, ipv4, opFlagsDisplay} from '../flags.js'
import {Joined} from '../join.js'
import {PipelineStats} from '../pipeline.js'
import {TraceInput} from '../reader.js'
import {Kind} from '../records.js'
import {isoPrefixBytes, isoSplit, secondHi, secondLo, splitRest, splitSecondStart} from '../time.js'
import {BoolColumn, BytesColumn, EVENTS_SPEC, IntColumn, LongColumn, PRESENT, specOf} from '../columnar/columns.js'
import {JoinedColumns, JoinScope} from '../columnar/join.js'
import {ColumnJoined, joinedAt, joinedColumns} from '../columnar/read.js'
import {ByteBuilder, intAt} from './bytes.js'
import {csvCell, csvHeader} from './csv.js'
import {Column} from './json.js'
import type {ByteOutput, PrintOptions, PrintResult} from './print.js'

type CellWriter = (j: Joined, b: ByteBuilder) => void

/** One column's value written as the row printer's renderRun writes it (csv.ts's cell rule, ISO times as bytes). */
export function rowCell(a: Attribute | undefined): CellWriter {
  if (!a) return () => undefined
  const get = a.print
  const nanos = a.nanos
  if (nanos) {
    return (j, b) => {
      const v = nanos(j)
      if (v === undefined) csvCell(b, get(j))
      else b.isoTime(v, false)
    }
  }
  return (j, b) => {
    const v: PrintValue = get(j)
    if (typeof v === 'string') b.csvText(v)
    else if (typeof v === 'bigint') b.integer(v)
    else csvCell(b, v)
  }
}

// --- the record's own columns -------------------------------------------------------------------------------------

const C = (name: string) => EVENTS_SPEC.col(name)
const TS = C('ts')
const C_ENDTS = C('endTs')

type Writer =
  | {type: 'long' | 'iso'; col: number}
  | {type: 'int' | 'opflags' | 'ip'; col: number}
  | {type: 'res'}

const NF_RES = [C('sip'), C('sport'), C('dip'), C('dport')]

/** The record columns written from arrays, by attribute key, for the kinds that carry them (catalogue `on`). */
const WRITERS: Record<string, Writer> = {
  ts: {type: 'iso', col: TS},
  ts_uts: {type: 'long', col: TS},
  endts: {type: 'iso', col: C('endTs')},
  endts_uts: {type: 'long', col: C('endTs')},
  'proc.tid': {type: 'long', col: C('tid')},
  opflags: {type: 'opflags', col: C('opFlags')},
  opflags_bitmap: {type: 'int', col: C('opFlags')},
  ret: {type: 'int', col: C('ret')},
  'file.fd': {type: 'int', col: C('fd')},
  'file.openflags': {type: 'int', col: C('openFlags')},
  'net.proto': {type: 'int', col: C('proto')},
  'net.sport': {type: 'int', col: C('sport')},
  'net.dport': {type: 'int', col: C('dport')},
  'net.sip': {type: 'ip', col: C('sip')},
  'net.dip': {type: 'ip', col: C('dip')},
  'flow.rbytes': {type: 'long', col: C('numRRecvBytes')},
  'flow.rops': {type: 'long', col: C('numRRecvOps')},
  'flow.wbytes': {type: 'long', col: C('numWSendBytes')},
  'flow.wops': {type: 'long', col: C('numWSendOps')},
  'pf.nthreads': {type: 'long', col: C('numThreadsCloned')},
  'pf.nexits': {type: 'long', col: C('numThreadsExited')},
  'pf.nerrors': {type: 'long', col: C('numCloneErrors')},
}

/** Which entities a column reads beyond its catalogue `dep` (the catalogue names one entity, or none). */
function entityDeps(a: Attribute, kind: number): EntityDep[] | undefined {
  if (a.dep) return [a.dep]
  switch (a.key ?? a.sf) {
    case 'res':
      // A file or file event's resource is its path(s); a network flow's is written from the record.
      return kind === Kind.FileFlow || kind === Kind.FileEvent ? ['file', 'newFile'] : undefined
    case 'proc.aname':
    case 'sf.proc.aexe':
    case 'sf.proc.acmdline':
    case 'proc.apid':
      // The ancestry is a function of the process context (not of the process alone: parents may arrive later).
      return ['proc', 'pproc']
  }
  return undefined
}

/** "0000".."9999": four digits per (integer) division. */
const QUADS = Buffer.from(Array.from({length: 10000}, (_, k) => String(k).padStart(4, '0')).join(''), 'latin1')

/** Nine digits of `sub` (< 1e9), zero-padded, at buf[pos..pos+9). */
function nineDigits(buf: Uint8Array, pos: number, sub: number): void {
  const a = (sub / 10000) | 0
  const lo = (sub - a * 10000) << 2
  const b = (a / 10000) | 0
  const mid = (a - b * 10000) << 2
  buf[pos] = 0x30 + b
  buf[pos + 1] = QUADS[mid]
  buf[pos + 2] = QUADS[mid + 1]
  buf[pos + 3] = QUADS[mid + 2]
  buf[pos + 4] = QUADS[mid + 3]
  buf[pos + 5] = QUADS[lo]
  buf[pos + 6] = QUADS[lo + 1]
  buf[pos + 7] = QUADS[lo + 2]
  buf[pos + 8] = QUADS[lo + 3]
}


// The line writers keep the output position in a local and write into the builder's buffer directly: the helpers
// below take (buf, pos) with room already reserved and return the new position (a method call per cell, with its
// own reserve and a store of b.pos, cost more than most cells' bytes).

/** buf[from..to) copied again to buf[pos..] (room reserved, pos >= to): as put. */
function again(buf: Uint8Array, pos: number, from: number, to: number): number {
  const n = to - from
  if (n < 12) {
    for (let k = 0; k < n; k++) buf[pos + k] = buf[from + k]
    return pos + n
  }
  buf.copyWithin(pos, from, to)
  return pos + n
}


/** Row i of a long column (words w) in decimal at buf[pos..] (room for 21 bytes); -1 beyond 2^53 (see ByteBuilder). */
function longAt(buf: Uint8Array, pos: number, w: Int32Array, i: number): number {
  const hi = w[2 * i + 1]
  if (hi <= 0x1fffff && hi >= -0x200000) return intAt(buf, pos, hi * 4294967296 + (w[2 * i] >>> 0))
  return -1
}

/**
 * `src` copied to buf[pos..] (room reserved): a loop for short runs, a native copy for longer ones (a JS byte loop
 * costs ~1.5 ns a byte here, TypedArray.set ~20 ns a call: they cross at ~12 bytes).
 */
function put(buf: Uint8Array, pos: number, src: Uint8Array): number {
  const n = src.length
  if (n < 12) {
    for (let k = 0; k < n; k++) buf[pos + k] = src[k]
    return pos + n
  }
  buf.set(src, pos)
  return pos + n
}

/** Room a time takes in the line (an ISO time is 30 bytes, a decimal one up to 20): longer goes through write(). */
const TIME_ROOM = 40

/**
 * Nanosecond times (ISO, or decimal above 2^53) of one column: the text of the last second is kept (with its first
 * nanosecond as words), so a time in that second costs a subtraction and nine digits; timestamps of a trace come
 * within a few seconds of each other. Before 1970 (negative) through ByteBuilder, as the row printer.
 */
class TimeWriter {
  private hiS = NaN
  private loS = NaN
  private text: Buffer = Buffer.alloc(0)

  constructor(private readonly iso: boolean) {}

  /** Row i at buf[pos..] (room for TIME_ROOM bytes); -1 where write() must do it (before 1970, a new second). */
  at(buf: Uint8Array, pos: number, w: Int32Array, i: number): number {
    const hi = w[2 * i + 1]
    const lo = w[2 * i] >>> 0
    if (!this.iso && hi <= 0x1fffff && hi >= -0x200000) return intAt(buf, pos, hi * 4294967296 + lo)
    const sub = (hi - this.hiS) * 4294967296 + (lo - this.loS)
    if (!(sub >= 0 && sub < 1_000_000_000)) return -1
    const p = this.text
    const n = p.length
    if (n > TIME_ROOM - 10) return -1
    pos = put(buf, pos, p)
    nineDigits(buf, pos, sub)
    pos += 9
    if (this.iso) buf[pos++] = 0x5a
    return pos
  }

  write(b: ByteBuilder, w: Int32Array, i: number, v: BigInt64Array): void {
    const hi = w[2 * i + 1]
    const lo = w[2 * i] >>> 0
    if (!this.iso && hi <= 0x1fffff && hi >= -0x200000) return b.integer(hi * 4294967296 + lo)
    let sub = (hi - this.hiS) * 4294967296 + (lo - this.loS)
    if (!(sub >= 0 && sub < 1_000_000_000)) {
      if (hi < 0) return this.iso ? b.isoTime(v[i], false) : b.integer(v[i])
      const sec = splitSecondStart(hi, lo)
      sub = splitRest
      this.hiS = secondHi
      this.loS = secondLo
      if (this.iso) {
        isoSplit(v[i])
        this.text = isoPrefixBytes
      } else {
        // Above 2^53 the seconds are at least 9,007,199: nine zero-padded digits of nanoseconds follow them.
        this.text = Buffer.from(String(sec), 'latin1')
      }
    }
    const p = this.text
    const n = p.length
    b.reserve(n + 10)
    const buf = b.buf
    let pos = b.pos
    for (let k = 0; k < n; k++) buf[pos++] = p[k]
    nineDigits(buf, pos, sub)
    pos += 9
    if (this.iso) buf[pos++] = 0x5a
    b.pos = pos
  }
}

/**
 * A time column written twice in a row, as ISO and in decimal (`ts,ts_uts`): the text of the last second kept as
 * "<ISO prefix>.#########Z,<seconds>#########", so that a time in that second costs one copy and the nine digits
 * twice. Only above 2^53 (the decimal of a smaller time is a plain number, and one before 1970 is rare): else -1,
 * and the two TimeWriters write it.
 */
class TimePairWriter {
  private hiS = NaN
  private loS = NaN
  private text: Buffer = Buffer.alloc(0)
  /** Where the two runs of nine digits go in `text`. */
  private d1 = 0
  private d2 = 0

  /** Row i at buf[pos..] (room for 2 * TIME_ROOM + 1 bytes); -1 where the single writers must. */
  at(buf: Uint8Array, pos: number, w: Int32Array, i: number, v: BigInt64Array): number {
    const hi = w[2 * i + 1]
    const lo = w[2 * i] >>> 0
    let sub = (hi - this.hiS) * 4294967296 + (lo - this.loS)
    if (!(sub >= 0 && sub < 1_000_000_000)) {
      if (hi <= 0x1fffff) return -1
      const sec = splitSecondStart(hi, lo)
      sub = splitRest
      const h = secondHi
      const l = secondLo
      isoSplit(v[i])
      const text = Buffer.concat([isoPrefixBytes, NINE_ZEROS, Buffer.from('Z,', 'latin1'), Buffer.from(String(sec), 'latin1'), NINE_ZEROS])
      if (text.length > 2 * TIME_ROOM + 1) return -1
      this.text = text
      this.d1 = isoPrefixBytes.length
      this.d2 = text.length - 9
      this.hiS = h
      this.loS = l
    }
    const text = this.text
    buf.set(text, pos)
    nineDigits(buf, pos + this.d1, sub)
    nineDigits(buf, pos + this.d2, sub)
    return pos + text.length
  }
}
const NINE_ZEROS = Buffer.from('000000000', 'latin1')

/** Bytes of a small set of values (op flags, IPs), rendered once each. */
class ByteCache {
  private map = new Map<number, Buffer>()
  private scratch = new ByteBuilder(64)
  constructor(private readonly render: (b: ByteBuilder, v: number) => void) {}

  get(v: number): Buffer {
    let out = this.map.get(v)
    if (out === undefined) {
      this.scratch.reset()
      this.render(this.scratch, v)
      out = this.scratch.copyFrom(0)
      if (this.map.size >= 4096) this.map.clear()
      this.map.set(v, out)
    }
    return out
  }
}

const fileTypeBytes = new ByteCache((b, v) => b.csvText(fileTypeChar(v)))
const opFlagBytes = new ByteCache((b, v) => b.csvText(opFlagsDisplay(v)))
const ipBytes = new ByteCache((b, v) => b.csvText(ipv4(v)))

// --- the block being written, shared by the generated line writers ----------------------------------------------

/** Column arrays of the current block's events table, by column number, and its lazily built rows. */
class BlockState {
  S: (Uint8Array | undefined)[] = []
  W: (Int32Array | undefined)[] = []
  V: (BigInt64Array | undefined)[] = []
  I: (Int32Array | undefined)[] = []
  j!: JoinedColumns
  scope!: JoinScope
  private rowAt = -1
  private rowObj: ColumnJoined | undefined

  setBlock(j: JoinedColumns): void {
    this.j = j
    this.rowAt = -1
    this.rowObj = undefined
    const cols = j.block.events.cols
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k]
      this.S[k] = c instanceof LongColumn || c instanceof IntColumn || c instanceof BoolColumn || c instanceof BytesColumn ? c.s : undefined
      this.W[k] = c instanceof LongColumn ? c.w : undefined
      this.V[k] = c instanceof LongColumn ? c.v : undefined
      this.I[k] = c instanceof IntColumn ? c.v : undefined
    }
  }

  setScope(s: JoinScope): void {
    this.scope = s
    this.rowAt = -1
    this.rowObj = undefined
  }

  /** The joined record of events row i (built once per row, only when a column needs it). */
  row(i: number): Joined {
    if (i !== this.rowAt) {
      this.rowObj = joinedAt(this.j, this.scope, i)
      this.rowAt = i
    }
    return this.rowObj as unknown as Joined
  }
}

/** Cached bytes per row number of a scope (context or file rows are dense from 0; -1 is slot 0). */
class RowCache {
  private slots: (Buffer | undefined)[] = []

  get(r: number): Buffer | undefined {
    return this.slots[r + 1]
  }

  set(r: number, bytes: Buffer): void {
    // Kept dense (rows come out of order): a sparse array would fall back to slow dictionary elements.
    while (this.slots.length <= r + 1) this.slots.push(undefined)
    this.slots[r + 1] = bytes
  }
}

// What an entity run's cache is keyed by: the context row, the file row (its new file row absent), the new file row,
// or (a run over entities of both) all three.
const BY_CTX = 0
const BY_FILE = 1
const BY_NEWFILE = 2
const BY_ALL = 3

/**
 * Adjacent entity columns (and the text between them), cached as bytes per entity combination of the scope: the
 * context row (process, parent, container, pod, ancestry), the file row and the new file row, as the run reads them.
 */
class EntityRun {
  private scope: JoinScope | undefined
  /** Keyed by the one row number the run reads (the others -1), else by all three. */
  private dense = new RowCache()
  private map = new Map<string, Buffer>()
  private lastC = -2
  private lastF = -2
  private lastNf = -2
  private last: Buffer | undefined
  private scratch = new ByteBuilder(1024)

  private readonly by: number
  /** Keyed by (container row, pod row) rather than by context: a trace has far fewer containers than processes. */
  private pairs = new Map<number, Buffer>()
  private lastPair = -2

  /** 1: keyed by the process row, 2: by the parent row (the run reads only that entity), 0: by context. */
  private readonly byEntity: number

  constructor(private readonly st: BlockState, private readonly parts: (Buffer | CellWriter)[], private readonly useC: boolean, private readonly useF: boolean, private readonly useNf: boolean, private readonly byContainer: boolean, only?: EntityDep) {
    this.byEntity = only === 'proc' ? 1 : only === 'pproc' ? 2 : 0
    this.by = useC ? (useF || useNf ? BY_ALL : BY_CTX) : useF ? BY_FILE : useNf ? BY_NEWFILE : BY_CTX
    this.ctxOnly = useC && !useF && !useNf
  }

  /** The run's bytes keyed by (container row, pod row); undefined past 2^26 rows (then keyed by context). */
  private pairBytes(i: number, c: number): Buffer | undefined {
    let key = -1
    if (c >= 0) {
      const s = this.st.scope
      const ct = s.ctxContainer[c] + 1
      const pd = s.ctxPod[c] + 1
      // An exact number key while the rows stay below 2^26 (else the context key, which is as exact).
      if (ct >= 67108864 || pd >= 67108864) return undefined
      key = ct * 67108864 + pd
    }
    let bytes = this.last
    if (bytes === undefined || key !== this.lastPair) {
      bytes = this.pairs.get(key)
      if (bytes === undefined) this.pairs.set(key, (bytes = this.render(i)))
      this.last = bytes
      this.lastPair = key
      this.lastC = -3
    }
    return bytes
  }

  /** The run's bytes for events row i (context c, file f, new file nf). */
  get(i: number, c: number, f: number, nf: number): Buffer {
    if (this.st.scope !== this.scope) {
      this.scope = this.st.scope
      this.dense = new RowCache()
      this.byCtx = new RowCache()
      this.map.clear()
      this.pairs.clear()
      this.last = undefined
      this.lastPair = -2
    }
    if (!this.ctxOnly) return this.lookup(i, c, f, nf)
    // A run that reads only the context: its bytes by context row (a context's rows never change: a replaced or
    // late entity makes a new context), one array load where the process, parent or pair key costs several.
    let bytes = this.byCtx.get(c)
    if (bytes === undefined) this.byCtx.set(c, (bytes = this.lookup(i, c, f, nf)))
    return bytes
  }

  /** Bytes per context row, for runs that read only the context (the renderings are shared as `lookup` keys them). */
  private byCtx = new RowCache()
  private readonly ctxOnly: boolean

  private lookup(i: number, c: number, f: number, nf: number): Buffer {
    if (this.byContainer) {
      const bytes = this.pairBytes(i, c)
      if (bytes !== undefined) return bytes
    }
    // A run of one process's columns (or its parent's) is keyed by that process row: siblings share their parent's.
    if (this.byEntity === 1) c = c < 0 ? -1 : this.st.scope.ctxProc[c]
    else if (this.byEntity === 2) c = c < 0 ? -1 : this.st.scope.ctxPproc[c]
    if (!this.useC) c = -1
    if (!this.useF) f = -1
    if (!this.useNf) nf = -1
    let bytes = this.last
    if (bytes === undefined || c !== this.lastC || f !== this.lastF || nf !== this.lastNf) {
      const by = this.by
      const one = by === BY_CTX ? c : by === BY_FILE ? (nf === -1 ? f : -2) : by === BY_NEWFILE ? nf : -2
      if (one !== -2) {
        bytes = this.dense.get(one)
        if (bytes === undefined) this.dense.set(one, (bytes = this.render(i)))
      } else {
        const key = `${c},${f},${nf}`
        bytes = this.map.get(key)
        if (bytes === undefined) this.map.set(key, (bytes = this.render(i)))
      }
      this.last = bytes
      this.lastC = c
      this.lastF = f
      this.lastNf = nf
      this.lastPair = -2
    }
    return bytes
  }

  private render(i: number): Buffer {
    return renderBytes(this.scratch, this.st.row(i), this.parts)
  }
}

function renderBytes(s: ByteBuilder, j: Joined, parts: readonly (Buffer | CellWriter)[]): Buffer {
  s.reset()
  for (const p of parts) {
    if (typeof p === 'function') p(j, s)
    else s.bytes(p)
  }
  return s.copyFrom(0)
}

/**
 * `state`: the process's state, else the file's (attributes.ts: j.proc?.state ?? j.file?.state ?? ''), cached per
 * context row and per file row rather than per pair of them (a trace has far more pairs than either).
 */
class StateWriter {
  private scope: JoinScope | undefined
  private byCtx = new RowCache()
  private byFile = new RowCache()
  private scratch = new ByteBuilder(64)

  constructor(private readonly st: BlockState) {}

  get(i: number, c: number, f: number): Buffer {
    if (this.st.scope !== this.scope) {
      this.scope = this.st.scope
      this.byCtx = new RowCache()
      this.byFile = new RowCache()
    }
    let bytes = this.byCtx.get(c)
    if (bytes === undefined) {
      const s = (this.st.row(i).proc as {state?: string | null} | undefined)?.state
      this.byCtx.set(c, (bytes = s === undefined || s === null ? NO_STATE : this.text(s)))
    }
    if (bytes === NO_STATE) {
      bytes = this.byFile.get(f)
      if (bytes === undefined) {
        const s = (this.st.row(i).file as {state?: string | null} | undefined)?.state
        this.byFile.set(f, (bytes = this.text(s ?? '')))
      }
    }
    return bytes
  }

  private text(s: string): Buffer {
    this.scratch.reset()
    this.scratch.csvText(s)
    return this.scratch.copyFrom(0)
  }
}
const NO_STATE = Buffer.alloc(0)

/** Row r of a string column as a CSV field: its bytes as they are when csvText would copy the decoded text as is. */
function csvBytes(b: ByteBuilder, col: BytesColumn, r: number): void {
  const src = col.b
  const at = col.st[r]
  const n = col.ln[r]
  b.reserve(n)
  const buf = b.buf
  let pos = b.pos
  for (let k = 0; k < n; k++) {
    const c = src[at + k]
    // Quotes needed, or not ASCII (the decoded text may differ from the bytes: invalid UTF-8): as the row printer.
    if (c === 0x22 || c === 0x2c || c === 0x0a || c === 0x0d || c > 0x7f) return b.csvText(col.text(r))
    buf[pos++] = c
  }
  b.pos = pos
}

const dataView = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength)

/**
 * Whether any of the four bytes of x is a quote, comma, LF or CR, or not ASCII (csvBytes' test, four bytes at once:
 * a byte of x ^ 0x22222222 is zero where x has a quote, and (v - 0x01..) & ~v has the top bit of the lowest zero
 * byte of v set, and none when v has no zero byte).
 */
function needsQuoting(x: number): boolean {
  const q = x ^ 0x22222222
  const cm = x ^ 0x2c2c2c2c
  const lf = x ^ 0x0a0a0a0a
  const cr = x ^ 0x0d0d0d0d
  return (((q - 0x01010101) & ~q) | ((cm - 0x01010101) & ~cm) | ((lf - 0x01010101) & ~lf) | ((cr - 0x01010101) & ~cr) | x) & 0x80808080 ? true : false
}

const F = specOf(Kind.File)
const F_PATH = F.col('path')
const F_RESTYPE = F.col('restype')

/**
 * The file columns (file.path, file.newpath, file.type, and a file record's res) straight from the scope's File
 * rows: a trace has nearly as many files as file flows, so caching their rendering would not pay.
 */
class FileWriter {
  constructor(private readonly st: BlockState) {}

  /** The path of file row g (none: ""); a path that is not plainly present goes through `fb`. */
  path(b: ByteBuilder, i: number, g: number, fb: CellWriter): void {
    if (g < 0) return
    const files = this.st.scope.files
    files.locate(g)
    const col = files.table.cols[F_PATH] as BytesColumn | undefined
    const r = files.row
    if (col === undefined || col.s[r] !== PRESENT) return fb(this.st.row(i), b)
    csvBytes(b, col, r)
  }

  type(b: ByteBuilder, i: number, g: number, fb: CellWriter): void {
    if (g < 0) return
    const files = this.st.scope.files
    files.locate(g)
    const col = files.table.cols[F_RESTYPE] as IntColumn | undefined
    const r = files.row
    if (col === undefined || col.s[r] !== PRESENT) return fb(this.st.row(i), b)
    b.bytes(fileTypeBytes.get(col.v[r]))
  }

  /** res of a file flow or event: its path, or "path, new path" (rare: through `fb`). */
  res(b: ByteBuilder, i: number, g: number, nf: number, fb: CellWriter): void {
    if (nf >= 0 && g >= 0) return fb(this.st.row(i), b)
    this.path(b, i, g, fb)
  }

  /**
   * The path of file row g at buf[pos..], returning the new position; -1 where path() must write it: not plainly
   * present, a byte that needs quoting or decoding, or no room left in buf.
   */
  pathAt(buf: Uint8Array, pos: number, g: number): number {
    if (g < 0) return pos
    const files = this.st.scope.files
    files.locate(g)
    const col = files.table.cols[F_PATH] as BytesColumn | undefined
    const r = files.row
    if (col === undefined || col.s[r] !== PRESENT) return -1
    const src = col.b
    const at = col.st[r]
    const n = col.ln[r]
    if (pos + n > buf.length) return -1
    // Four bytes at a time through DataViews (kept while the buffers stay the same: paths of a block share one).
    if (buf !== this.outBuf) this.outDv = dataView((this.outBuf = buf))
    if (src !== this.srcBuf) this.srcDv = dataView((this.srcBuf = src))
    const out = this.outDv
    const dv = this.srcDv
    let k = 0
    for (; k + 4 <= n; k += 4) {
      const x = dv.getInt32(at + k, true)
      if (needsQuoting(x)) return -1
      out.setInt32(pos + k, x, true)
    }
    for (; k < n; k++) {
      const c = src[at + k]
      if (c === 0x22 || c === 0x2c || c === 0x0a || c === 0x0d || c > 0x7f) return -1
      buf[pos + k] = c
    }
    return pos + n
  }

  private outBuf: Uint8Array | undefined
  private outDv = dataView(new Uint8Array(0))
  private srcBuf: Uint8Array | undefined
  private srcDv = dataView(new Uint8Array(0))

  /** file.type of file row g at buf[pos..] (room for TYPE_ROOM bytes); -1 where type() must write it. */
  typeAt(buf: Uint8Array, pos: number, g: number): number {
    if (g < 0) return pos
    const files = this.st.scope.files
    files.locate(g)
    const col = files.table.cols[F_RESTYPE] as IntColumn | undefined
    const r = files.row
    if (col === undefined || col.s[r] !== PRESENT) return -1
    const t = fileTypeBytes.get(col.v[r])
    return t.length > TYPE_ROOM ? -1 : put(buf, pos, t)
  }

  /** res of a file flow or event at buf[pos..]; -1 where res() must write it. */
  resAt(buf: Uint8Array, pos: number, g: number, nf: number): number {
    return nf >= 0 && g >= 0 ? -1 : this.pathAt(buf, pos, g)
  }
}
/** Room for an op flags or IP text from its cache (longer ones go through the builder). */
const CACHED_ROOM = 48
/** Room for a file type (one character, quoted and UTF-8 at most 6 bytes). */
const TYPE_ROOM = 8

// --- compiling a line writer per record kind --------------------------------------------------------------------

type LineWriter = (b: ByteBuilder, i: number, c: number, f: number, nf: number) => void

type Part = {t: 'file'; p: number; which: 'path' | 'newpath' | 'type' | 'res'} | {t: 'text'; s: string} | {t: 'rec'; p: number; w: Writer} | {t: 'row'; p: number} | {t: 'ent'; p: number; deps: EntityDep[]} | {t: 'state'}

/** `shared`: the entity runs and caches of the other kinds' writers (keyed by what they write). */
function compileKind(cols: readonly Column[], kind: number, sample: Joined, st: BlockState, shared: Map<string, unknown>): LineWriter {
  const scratch = new ByteBuilder(256)
  const parts: Part[] = []
  const text = (s: string) => {
    const last = parts[parts.length - 1]
    if (last?.t === 'text') last.s += s
    else parts.push({t: 'text', s})
  }
  cols.forEach((col, p) => {
    if (p > 0) text(',')
    const a = col.attr
    if (!a || a.byKind || (a.on !== undefined && !a.on.includes(kind))) {
      // Constant for this kind, as compileTemplate bakes it.
      scratch.reset()
      csvCell(scratch, a ? a.print(sample) : '')
      text(scratch.view().toString('utf8'))
      return
    }
    const w = WRITERS[a.key ?? '']
    if (w !== undefined) return void parts.push({t: 'rec', p, w})
    if ((a.key ?? a.sf) === 'res' && kind === Kind.NetworkFlow) return void parts.push({t: 'rec', p, w: {type: 'res'}})
    if (a.key === 'state') return void parts.push({t: 'state'})
    if (a.key === 'file.path') return void parts.push({t: 'file', p, which: 'path'})
    if (a.key === 'file.newpath') return void parts.push({t: 'file', p, which: 'newpath'})
    if (a.key === 'file.type') return void parts.push({t: 'file', p, which: 'type'})
    if (a.key === 'res' && (kind === Kind.FileFlow || kind === Kind.FileEvent)) return void parts.push({t: 'file', p, which: 'res'})
    const deps = entityDeps(a, kind)
    parts.push(deps ? {t: 'ent', p, deps} : {t: 'row', p})
  })
  text('\r\n')

  // Merge entity columns separated only by text into runs (the text goes into the run's cached bytes).
  const params: string[] = []
  const args: unknown[] = []
  const body: string[] = []
  const arg = (v: unknown): string => {
    params.push(`a${params.length}`)
    args.push(v)
    return params[params.length - 1]
  }
  const cells = cols.map((c) => rowCell(c.attr))
  const timeWriter = (col: number, iso: boolean): TimeWriter => {
    const key = `time ${col} ${iso}`
    if (!shared.has(key)) shared.set(key, new TimeWriter(iso))
    return shared.get(key) as TimeWriter
  }
  // The body keeps the output position in `pos` (and the buffer in `buf`). Cells of bounded size are grouped into
  // segments: one room check for the segment (`@ROOM@`, filled in when it closes), then plain stores. A cell of
  // any size (entity bytes, a path) checks its own room and ends the segment; anything written through the builder
  // (fallbacks, rare values) stores pos before and reloads buf and pos after (and the segment's room, if inside one).
  let seg = -1
  let room = 0
  const open = (max: number) => {
    if (seg < 0) {
      seg = body.length
      body.push('')
      room = 0
    }
    room += max
  }
  const close = () => {
    if (seg < 0) return
    body[seg] = `if (pos + ${room} > buf.length) { b.pos = pos; b.reserve(${room}); buf = b.buf }`
    for (let x = seg + 1; x < body.length; x++) body[x] = body[x].replaceAll('@ROOM@', String(room))
    seg = -1
  }
  /** Code writing through the builder, outside a segment. */
  const through = (code: string) => `{ b.pos = pos; ${code}; buf = b.buf; pos = b.pos }`
  /** The same inside a segment: the segment's room is reserved again after. */
  const slow = (code: string) => `{ b.pos = pos; ${code}; b.reserve(@ROOM@); buf = b.buf; pos = b.pos }`
  const bounded = (max: number, code: string) => {
    open(max)
    body.push(code)
  }
  const sized = (code: string) => {
    close()
    body.push(code)
  }
  const textCode = (s: string) => {
    const bytes = Buffer.from(s, 'utf8')
    if (bytes.length <= 8) return bounded(bytes.length, [...bytes].map((x) => `buf[pos++] = ${x};`).join(' '))
    bounded(bytes.length, `pos = put(buf, pos, ${arg(bytes)});`)
  }
  /** Bytes of any size (`x` holds them). */
  const copyX = 'if (pos + x.length > buf.length) { b.pos = pos; b.reserve(x.length); buf = b.buf } pos = put(buf, pos, x);'
  let pathAt = false
  let k = 0
  while (k < parts.length) {
    const part = parts[k]
    if (part.t === 'ent') {
      const run: (Buffer | CellWriter)[] = []
      const deps = new Set<EntityDep>()
      let end = k
      // The run: adjacent entity columns and the commas between them. Baked text ends it, so that runs are the
      // same for every kind that has them: they are shared, and so are their caches.
      // A process's columns and its parent's are separate runs (a trace has a quarter as many parents as processes).
      const sigOf = (q: Part) => (q.t === 'ent' ? q.deps.join(' ') : '')
      const depSig = sigOf(part)
      for (let x = k; x < parts.length; x++) {
        const q = parts[x]
        if (q.t === 'ent') {
          if ((depSig === 'proc' || depSig === 'pproc' || sigOf(q) === 'proc' || sigOf(q) === 'pproc') && sigOf(q) !== depSig) break
          end = x + 1
        } else if (q.t !== 'text' || q.s !== ',') break
      }
      for (let x = k; x < end; x++) {
        const q = parts[x]
        if (q.t === 'ent') {
          run.push(cells[q.p])
          q.deps.forEach((d) => deps.add(d))
        } else if (q.t === 'text') run.push(Buffer.from(q.s, 'utf8'))
      }
      const useC = deps.has('proc') || deps.has('pproc') || deps.has('container') || deps.has('pod')
      const sig = `run ${parts.slice(k, end).map((q) => (q.t === 'ent' ? q.p : ',')).join(' ')}`
      let r = shared.get(sig) as EntityRun | undefined
      if (r === undefined) shared.set(sig, (r = new EntityRun(st, run, useC, deps.has('file'), deps.has('newFile'), [...deps].every((d) => d === 'container' || d === 'pod' || d === 'header'), deps.size === 1 ? [...deps][0] : undefined)))
      sized(`x = ${arg(r)}.get(i, c, f, nf); ${copyX}`)
      k = end
      continue
    }
    switch (part.t) {
      case 'text':
        textCode(part.s)
        break
      case 'state':
        if (!shared.has('state')) shared.set('state', new StateWriter(st))
        sized(`x = ${arg(shared.get('state'))}.get(i, c, f); ${copyX}`)
        break
      case 'file': {
        if (!shared.has('file')) shared.set('file', new FileWriter(st))
        const fw = arg(shared.get('file'))
        const fb = arg(cells[part.p])
        // The first file.path of the line remembers where its bytes are (p0..p1; -1: written another way), so that a
        // file record's res after it, the same path when there is no new file, is copied from there.
        if (part.which === 'path' && !pathAt) {
          pathAt = true
          sized(`p0 = pos; if ((x = ${fw}.pathAt(buf, pos, f)) >= 0) p1 = pos = x; else { p1 = -1; ${through(`${fw}.path(b, i, f, ${fb})`)} }`)
        } else if (part.which === 'path') sized(`if ((x = ${fw}.pathAt(buf, pos, f)) >= 0) pos = x; else ${through(`${fw}.path(b, i, f, ${fb})`)}`)
        else if (part.which === 'newpath') sized(`if ((x = ${fw}.pathAt(buf, pos, nf)) >= 0) pos = x; else ${through(`${fw}.path(b, i, nf, ${fb})`)}`)
        else if (part.which === 'type') bounded(TYPE_ROOM, `if ((x = ${fw}.typeAt(buf, pos, f)) >= 0) pos = x; else ${slow(`${fw}.type(b, i, f, ${fb})`)}`)
        else {
          const res = `if ((x = ${fw}.resAt(buf, pos, f, nf)) >= 0) pos = x; else ${through(`${fw}.res(b, i, f, nf, ${fb})`)}`
          // The line's bytes keep their offsets when the buffer grows (reserve copies them): p0..p1 stay valid.
          if (pathAt) sized(`if (nf < 0 && p1 >= 0) { if (pos + p1 - p0 > buf.length) { b.pos = pos; b.reserve(p1 - p0); buf = b.buf } pos = again(buf, pos, p0, p1) } else ${res}`)
          else sized(res)
        }
        break
      }
      case 'row':
        sized(through(`${arg(cells[part.p])}(st.row(i), b)`))
        break
      case 'rec': {
        const cell = arg(cells[part.p])
        const w = part.w
        if (w.type === 'res') {
          const [a, b2, c2, d] = NF_RES
          sized(through(`if (S[${a}][i] === 0 && S[${b2}][i] === 0 && S[${c2}][i] === 0 && S[${d}][i] === 0) {` +
            ` b.bytes(ip.get(I[${a}][i])); b.byte(58); b.integer(I[${b2}][i]); b.byte(45); b.bytes(ip.get(I[${c2}][i])); b.byte(58); b.integer(I[${d}][i]);` +
            ` } else ${cell}(st.row(i), b)`))
          break
        }
        const col = w.col
        // Absent or null: the attribute function on the row, as the row printer.
        const absent = `if (S[${col}][i] !== 0) ${slow(`${cell}(st.row(i), b)`)}`
        switch (w.type) {
          case 'long':
            // ts_uts and endts_uts are times above 2^53; counters and thread ids are small.
            if (col === TS || col === C_ENDTS) {
              const tw = arg(timeWriter(col, false))
              bounded(TIME_ROOM, `${absent} else if ((x = ${tw}.at(buf, pos, W[${col}], i)) >= 0) pos = x; else ${slow(`${tw}.write(b, W[${col}], i, V[${col}])`)}`)
            } else bounded(21, `${absent} else if ((x = longAt(buf, pos, W[${col}], i)) >= 0) pos = x; else ${slow(`b.integer(V[${col}][i])`)}`)
            break
          case 'iso': {
            const tw = arg(timeWriter(col, true))
            const iso = `${absent} else if ((x = ${tw}.at(buf, pos, W[${col}], i)) >= 0) pos = x; else ${slow(`${tw}.write(b, W[${col}], i, V[${col}])`)}`
            const next = parts[k + 1]
            const dec = parts[k + 2]
            if (next?.t === 'text' && next.s === ',' && dec?.t === 'rec' && dec.w.type === 'long' && dec.w.col === col) {
              // `ts,ts_uts` (or endts, endts_uts): both from one cached text per second, else each as above.
              const dw = arg(timeWriter(col, false))
              const decimal = `if (S[${col}][i] !== 0) ${slow(`${arg(cells[dec.p])}(st.row(i), b)`)} else if ((x = ${dw}.at(buf, pos, W[${col}], i)) >= 0) pos = x; else ${slow(`${dw}.write(b, W[${col}], i, V[${col}])`)}`
              if (!shared.has(`pair ${col}`)) shared.set(`pair ${col}`, new TimePairWriter())
              const pw = arg(shared.get(`pair ${col}`))
              bounded(2 * TIME_ROOM + 1, `if (S[${col}][i] === 0 && (x = ${pw}.at(buf, pos, W[${col}], i, V[${col}])) >= 0) pos = x; else { ${iso} buf[pos++] = 44; ${decimal} }`)
              k += 2
              break
            }
            bounded(TIME_ROOM, iso)
            break
          }
          case 'int':
            bounded(11, `${absent} else pos = intAt(buf, pos, I[${col}][i]);`)
            break
          case 'opflags':
          case 'ip': {
            const cache = w.type === 'opflags' ? 'opf' : 'ip'
            bounded(CACHED_ROOM, `${absent} else if ((x = ${cache}.get(I[${col}][i])).length <= ${CACHED_ROOM}) pos = put(buf, pos, x); else ${slow('b.bytes(x)')}`)
            break
          }
        }
        break
      }
    }
    k++
  }
  close()
  const code = `return function csvRow(b, i, c, f, nf) {\nconst S = st.S, W = st.W, V = st.V, I = st.I\nlet buf = b.buf, pos = b.pos, x, p0 = 0, p1 = -1\n${body.join('\n')}\nb.pos = pos\n}`
  // eslint-disable-next-line no-new-func
  return new Function('st', 'put', 'again', 'intAt', 'longAt', 'opf', 'ip', ...params, code)(st, put, again, intAt, longAt, opFlagBytes, ipBytes, ...args) as LineWriter
}

// --- printing -----------------------------------------------------------------------------------------------------

/**
 * printRecords for CSV without a filter: the same rows, order, limit, time window, counters and warnings, read
 * through the columnar join (joinedColumns) and written by the line writers above.
 */
export async function printCsvColumns(inputs: readonly TraceInput[], out: ByteOutput, opts: PrintOptions, cols: readonly Column[]): Promise<PrintResult> {
  const stats = new PipelineStats() as PrintResult
  stats.printed = 0
  const {since, until} = opts
  const limit = opts.limit ?? Infinity
  const st = new BlockState()
  const perKind: (LineWriter | undefined)[] = []
  const shared = new Map<string, unknown>()
  let size = 1 << 16
  let first = true
  // A sink that only borrows chunks: one buffer for every block (warm in cache, no fresh memory per block).
  const lent = out.writeLent === undefined ? undefined : new ByteBuilder(size)
  for await (const j of joinedColumns(inputs, opts, stats)) {
    const ev = j.block.events
    if (ev.n === 0) {
      // No event record: the row printer never sees such a block.
      j.release()
      continue
    }
    st.setBlock(j)
    const b = lent ?? new ByteBuilder(size)
    b.reset()
    if (first) b.text(csvHeader(cols))
    first = false
    const tsCol = ev.cols[TS] as LongColumn | undefined
    const kinds = j.block.eventKind
    const {ctx, fileRow, newFileRow} = j
    let printed = stats.printed
    rows: for (const seg of j.segments) {
      st.setScope(seg.scope)
      for (let i = seg.from; i < seg.to; i++) {
        if (printed >= limit) break rows
        if (since !== undefined || until !== undefined) {
          // As the row printer compares rec.ts (absent: undefined, null: null), whatever it holds.
          const ts = (tsCol === undefined ? undefined : tsCol.get(i)) as bigint
          if ((since !== undefined && ts < since) || (until !== undefined && ts >= until)) continue
        }
        const kind = kinds[i]
        let line = perKind[kind]
        if (line === undefined) line = perKind[kind] = compileKind(cols, kind, st.row(i), st, shared)
        line(b, i, ctx[i], fileRow[i], newFileRow[i])
        printed++
      }
    }
    stats.printed = printed
    j.release()
    size = Math.max(size, b.pos + (b.pos >> 3))
    if (b.pos > 0) {
      const wait = lent ? out.writeLent!(b.view()) : out.write(b.view())
      if (wait) await wait
    }
    if (stats.printed >= limit) break
  }
  if (first) await out.write(Buffer.from(csvHeader(cols), 'utf8'))
  return stats
}
