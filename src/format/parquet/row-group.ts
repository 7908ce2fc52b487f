// One row group of `events` rows, encoded and written (./events.ts gathers them): the record's own columns PLAIN
// with their definition levels; keyed columns as a dictionary of their value per key with the group's key numbers
// as indexes (one compressed page for every column of a group whose null keys agree); booleans PLAIN; lists with
// their elements dictionary-encoded. Statistics (null count, min, max) per column chunk, as readers prune by them.
// Pure data in: it runs on the thread that gathers the rows or on a thread of its own (./write-worker.ts).
import {Bytes} from './bytes.js'
import {int32Bytes, int64Bytes, writeIndexes, writeLevels, writePlainBools} from './encode.js'
import {ColumnChunk, Compressed, Compressor, ENC_PLAIN, ENC_PLAIN_DICTIONARY, ParquetFileWriter, Stats} from './file.js'
import {DIRECT_COLUMNS, GROUP_COLUMNS, TIME_INDEX} from './layout.js'
import {Prepared, PreparedBool, PreparedList, PreparedScalar} from './prepare.js'
import {EVENT_COLUMNS} from '../arrow/columns.js'
import {PRESENT} from '../columnar/columns.js'
import {secondHi, secondLo, splitRest, splitSecondStart, splitSeconds} from '../time.js'

/** A row group's gathered values. */
export interface RowGroupData {
  rows: number
  /** Per key group: the key number of each row. */
  keys: Int32Array[]
  /** Per key group, per column of the group (GROUP_COLUMNS): its values per key, prepared (./prepare.ts). */
  prepared: Prepared[][]
  /** Each row's record kind. */
  kinds: Uint8Array
  /** Per record column (DIRECT_COLUMNS): words (longs) or ints, and each row's state (PRESENT...) as read. */
  direct: {w: Int32Array; state: Uint8Array}[]
  /** ts: words and states (`time` is made from it here). */
  time: {w: Int32Array; state: Uint8Array}
}

/** A key group's index page, shared by its columns whose null keys are the same (isNull, byte for byte). */
interface SharedIndexes {
  isNull: Uint8Array
  /** How many keys are null (a quick test before comparing isNull). */
  nullKeyCount: number
  body: Compressed
  /** Null rows. */
  nulls: number
}

export class RowGroupEncoder {
  private readonly levels = new LevelCache()
  /** Page bodies are encoded here, one at a time (compressed into a copy). */
  private readonly out = new Bytes(1 << 20)

  constructor(private readonly file: ParquetFileWriter, private readonly compressor: Compressor) {}

  write(d: RowGroupData): void {
    const n = d.rows
    if (n === 0) return
    const chunks: ColumnChunk[] = new Array(EVENT_COLUMNS.length)
    const out = this.out
    this.levels.clear()
    this.lastKeys = undefined
    // A record's own field is present where its kind carries the field and the writer wrote a value.
    const present = presentScratch(n)
    DIRECT_COLUMNS.forEach((c, k) => {
      const {w, state} = d.direct[k]
      const on = c.on
      const kinds = d.kinds
      for (let r = 0; r < n; r++) present[r] = on[kinds[r]] === 1 && state[r] === PRESENT ? 1 : 0
      chunks[c.index] = this.directChunk(out, {w, present, long: c.long}, n)
    })
    chunks[TIME_INDEX] = this.directChunk(out, this.times(d.time, n), n)
    GROUP_COLUMNS.forEach((cols, gi) => {
      const keys = d.keys[gi]
      const shared: SharedIndexes[] = []
      cols.forEach((c, k) => {
        const p = d.prepared[gi][k]
        chunks[c.index] = p.type === 'list' ? this.listChunk(out, keys, p, n) : p.type === 'bool' ? this.boolChunk(out, keys, p, n) : this.keyedChunk(out, keys, p, n, shared)
      })
    })
    this.file.writeRowGroup(n, chunks)
  }

  // `time`: the last second met (its first nanosecond as words, and in microseconds): records of a trace come
  // within a few seconds of each other, so most times cost a subtraction and a division.
  private secHi = NaN
  private secLo = NaN
  private secUs = NaN

  /** ts in microseconds, as DuckDB casts TIMESTAMP_NS to TIMESTAMP (integer division, towards zero). */
  private times(ts: {w: Int32Array; state: Uint8Array}, n: number): {w: Int32Array; present: Uint8Array; long: true} {
    const {w, state} = ts
    const present = timeScratch.present.length >= n ? timeScratch.present : (timeScratch.present = new Uint8Array(n))
    const tw = timeScratch.w.length >= 2 * n ? timeScratch.w : (timeScratch.w = new Int32Array(2 * n))
    let hiS = this.secHi
    let loS = this.secLo
    let usS = this.secUs
    for (let r = 0; r < n; r++) {
      if (state[r] !== PRESENT) {
        present[r] = 0
        continue
      }
      present[r] = 1
      const hi = w[2 * r + 1]
      const lo = w[2 * r] >>> 0
      const sub = (hi - hiS) * 4294967296 + (lo - loS)
      if (sub >= 0 && sub < 1_000_000_000) {
        const us = usS + Math.floor(sub / 1000)
        tw[2 * r] = us % 4294967296 | 0
        tw[2 * r + 1] = Math.floor(us / 4294967296)
        continue
      }
      micros(lo, hi, tw, r)
      if (hi >= 0 && hi < 0x7fffffff) {
        // A new second: remember where it starts.
        splitSecondStart(hi, lo)
        const h = secondHi
        const l = secondLo
        const start = tw[2 * r + 1] * 4294967296 + (tw[2 * r] >>> 0) - Math.floor(splitRest / 1000)
        // Only where every microsecond of the second is exact as a number (not past the year 2255).
        if (Number.isSafeInteger(start + 1_000_000)) {
          hiS = h
          loS = l
          usS = start
        } else hiS = NaN
      }
    }
    this.secHi = hiS
    this.secLo = loS
    this.secUs = usS
    return {w: tw, present, long: true}
  }

  private page(out: Bytes): Compressed {
    return this.compressor.compress(out.take())
  }

  private directChunk(out: Bytes, d: {w: Int32Array; present: Uint8Array; long: boolean}, n: number): ColumnChunk {
    out.reset()
    out.writeRaw(this.levels.encode(d.present, n, 1))
    let m = 0
    let minHi = 0
    let minLo = 0
    let maxHi = 0
    let maxLo = 0
    const w = d.w
    const present = d.present
    const width = d.long ? 2 : 1
    out.reserve(4 * width * n)
    const dst = new Int32Array(out.buf.buffer, out.buf.byteOffset & ~3, out.buf.length >> 2)
    // Values are written as 32-bit words at a 4-byte aligned position of the buffer (padded before, if need be).
    const at = out.pos
    const aligned = (at & 3) === 0 && (out.buf.byteOffset & 3) === 0
    const scratch = aligned ? dst : wordScratch(width * n)
    let p = aligned ? at >> 2 : 0
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
    else out.writeRaw(new Uint8Array(scratch.buffer, 0, (p - p0) * 4))
    const stats: Stats = {nullCount: n - m}
    if (m > 0) {
      if (width === 2) {
        stats.min = int64Bytes(minLo, minHi)
        stats.max = int64Bytes(maxLo, maxHi)
      } else {
        stats.min = int32Bytes(minLo)
        stats.max = int32Bytes(maxLo)
      }
    }
    return {pages: [{values: n, encoding: ENC_PLAIN, body: this.page(out)}], stats}
  }

  /** A scalar keyed column: dictionary = its value per key, indexes = the group's keys (shared where nulls agree). */
  private keyedChunk(out: Bytes, keys: Int32Array, p: PreparedScalar, n: number, shared: SharedIndexes[]): ColumnChunk {
    let page = shared.find((s) => s.nullKeyCount === p.nulls && Buffer.from(s.isNull.buffer, s.isNull.byteOffset, s.isNull.length).equals(p.isNull))
    if (page === undefined) {
      out.reset()
      let nulls = 0
      if (p.nulls === 0) {
        out.writeRaw(this.levels.encode(ONES(n), n, 1))
        writeIndexes(out, keys, n, p.count)
      } else {
        const isNull = p.isNull
        const {def, idx} = rowScratch(n)
        let m = 0
        for (let r = 0; r < n; r++) {
          const k = keys[r]
          if (isNull[k] === 1) def[r] = 0
          else {
            def[r] = 1
            idx[m++] = k
          }
        }
        nulls = n - m
        out.writeRaw(this.levels.encode(def, n, 1))
        writeIndexes(out, idx, m, p.count)
      }
      shared.push((page = {isNull: p.isNull, nullKeyCount: p.nulls, body: this.page(out), nulls}))
    }
    const dictionary = {values: p.count, body: this.compressor.compress(p.dict)}
    const stats: Stats = {nullCount: page.nulls}
    if (p.min !== undefined && p.max !== undefined) [stats.min, stats.max] = [p.min, p.max]
    return {dictionary, pages: [{values: n, encoding: ENC_PLAIN_DICTIONARY, body: page.body}], stats}
  }

  private boolChunk(out: Bytes, keys: Int32Array, p: PreparedBool, n: number): ColumnChunk {
    // Per key: 0 false, 1 true, 2 null.
    const code = p.code
    const {def, bits} = rowScratch(n)
    let m = 0
    let seen = 0
    for (let r = 0; r < n; r++) {
      const x = code[keys[r]]
      if (x === 2) {
        def[r] = 0
        continue
      }
      def[r] = 1
      bits[m++] = x
      seen |= 1 << x
    }
    out.reset()
    out.writeRaw(this.levels.encode(def, n, 1))
    writePlainBools(out, bits, m)
    const stats: Stats = {nullCount: n - m}
    if (m > 0) {
      stats.min = Uint8Array.of(seen & 1 ? 0 : 1)
      stats.max = Uint8Array.of(seen & 2 ? 1 : 0)
    }
    return {pages: [{values: n, encoding: ENC_PLAIN, body: this.page(out)}], stats}
  }

  /** A list column: elements dictionary-encoded (the column's distinct elements), levels per row. */
  // The list lengths per key of the last list column and its keys: the lists of one group (the ancestry's four)
  // have the same lengths, so their repetition and definition levels are made once.
  private lastKeys: Int32Array | undefined
  private lastLens: Int32Array = new Int32Array(0)
  private lastEntries = 0

  private listChunk(out: Bytes, keys: Int32Array, p: PreparedList, n: number): ColumnChunk {
    const {start, lens, flat, nullElements} = p
    const same = !nullElements && keys === this.lastKeys && lens.length === this.lastLens.length && Buffer.from(lens.buffer, lens.byteOffset, lens.byteLength).equals(Buffer.from(this.lastLens.buffer, this.lastLens.byteOffset, this.lastLens.byteLength))
    let e = 0
    if (same) e = this.lastEntries
    else for (let r = 0; r < n; r++) e += lens[keys[r]] > 0 ? lens[keys[r]] : 1
    const {rep, def, idx} = listScratch(e)
    let m = 0
    if (same) {
      // Levels as the last list column's: only the indexes.
      for (let r = 0; r < n; r++) {
        const k = keys[r]
        const l = lens[k]
        for (let x = start[k], end = x + l; x < end; x++) idx[m++] = flat[x]
      }
    } else {
      let p = 0
      for (let r = 0; r < n; r++) {
        const k = keys[r]
        const l = lens[k]
        if (l <= 0) {
          rep[p] = 0
          def[p++] = l < 0 ? 0 : 1
          continue
        }
        const s0 = start[k]
        for (let x = 0; x < l; x++) {
          rep[p] = x === 0 ? 0 : 1
          const id = flat[s0 + x]
          if (id < 0) def[p++] = 2
          else {
            def[p++] = 3
            idx[m++] = id
          }
        }
      }
      this.lastKeys = nullElements ? undefined : keys
      this.lastLens = lens
      this.lastEntries = e
    }
    out.reset()
    out.writeRaw(this.levels.encode(rep, e, 1))
    out.writeRaw(this.levels.encode(def, e, 3))
    writeIndexes(out, idx, m, p.count)
    const body = this.page(out)
    return {dictionary: {values: p.count, body: this.compressor.compress(p.dict)}, pages: [{values: e, encoding: ENC_PLAIN_DICTIONARY, body}]}
  }
}

/**
 * Encoded levels of the row group, kept so that columns with the same levels (most of the record's own columns
 * share their kinds' presence; the lists of one group share their lengths) encode them once.
 */
class LevelCache {
  private entries: {levels: Buffer; max: number; bytes: Buffer}[] = []
  private readonly out = new Bytes(1 << 16)

  clear(): void {
    this.entries = []
  }

  encode(levels: Uint8Array, n: number, max: number): Buffer {
    const view = Buffer.from(levels.buffer, levels.byteOffset, n)
    for (const e of this.entries) if (e.max === max && e.levels.length === n && e.levels.equals(view)) return e.bytes
    const out = this.out
    out.reset()
    writeLevels(out, levels, n, max)
    const bytes = out.copy()
    if (this.entries.length >= 16) this.entries.shift()
    this.entries.push({levels: Buffer.from(view), max, bytes})
    return bytes
  }
}

let words = new Int32Array(0)
function wordScratch(n: number): Int32Array {
  if (words.length < n) words = new Int32Array(n)
  return words
}

let rows = {def: new Uint8Array(0), bits: new Uint8Array(0), idx: new Int32Array(0)}
/** Per-row scratch arrays of a chunk (levels, bits, indexes), reused: a row group's worth is a few MB. */
function rowScratch(n: number): typeof rows {
  if (rows.def.length < n) rows = {def: new Uint8Array(n), bits: new Uint8Array(n), idx: new Int32Array(n)}
  return rows
}

let scratch = {rep: new Uint8Array(0), def: new Uint8Array(0), idx: new Int32Array(0)}
function listScratch(n: number): typeof scratch {
  if (scratch.rep.length < n) scratch = {rep: new Uint8Array(2 * n), def: new Uint8Array(2 * n), idx: new Int32Array(2 * n)}
  return scratch
}

/** ts words in and out: the time column's own scratch (its levels are compared with the others'). */
const timeScratch = {w: new Int32Array(0), present: new Uint8Array(0)}

let presentRows = new Uint8Array(0)
function presentScratch(n: number): Uint8Array {
  if (presentRows.length < n) presentRows = new Uint8Array(n)
  return presentRows
}

/** ts in microseconds from its words (low word unsigned), exact where it fits a safe integer, else through bigint. */
function micros(lo: number, hi: number, out: Int32Array, r: number): void {
  if (hi >= 0 && hi < 0x7fffffff) {
    const sec = splitSeconds(hi, lo)
    const us = sec * 1e6 + Math.floor(splitRest / 1000)
    if (Number.isSafeInteger(us)) {
      out[2 * r] = us % 4294967296 | 0
      out[2 * r + 1] = Math.floor(us / 4294967296)
      return
    }
  }
  const ns = (BigInt(hi) << 32n) | BigInt(lo)
  const us = BigInt.asIntN(64, ns / 1000n)
  out[2 * r] = Number(BigInt.asIntN(32, us))
  out[2 * r + 1] = Number(BigInt.asIntN(32, us >> 32n))
}

let ones = new Uint8Array(0)
function ONES(n: number): Uint8Array {
  if (ones.length < n) ones = new Uint8Array(n).fill(1)
  return ones
}
