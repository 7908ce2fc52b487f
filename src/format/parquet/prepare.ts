// The per-key half of encoding a keyed column, done where the values are (./events.ts): its dictionary page body
// (PLAIN values per key), which keys are null, and its min and max; for lists, the element dictionary and each
// key's elements as indexes. What leaves here is typed arrays and bytes, moved to the encoder's thread without a
// copy (./sink.ts); the per-row half (levels, indexes, compression) is ./row-group.ts.
import {Bytes} from './bytes.js'
import {int32Bytes, int64Bytes} from './encode.js'
import {KeyedLayout, Stored, StoredList} from './layout.js'
import {Physical} from './file.js'

export interface PreparedScalar {
  type: 'scalar'
  /** Keys (dictionary entries). */
  count: number
  /** How many keys are null (isNull: which): columns of a group whose null keys agree share their index page. */
  nulls: number
  isNull: Uint8Array
  dict: Uint8Array
  min?: Uint8Array
  max?: Uint8Array
}

export interface PreparedBool {
  type: 'bool'
  /** Per key: 0 false, 1 true, 2 null. */
  code: Uint8Array
}

export interface PreparedList {
  type: 'list'
  /** Distinct elements (dictionary entries). */
  count: number
  /** Per key: its elements' dictionary indexes (-1: null) at flat[start..], lens of them (-1: a null list). */
  start: Int32Array
  lens: Int32Array
  flat: Int32Array
  nullElements: boolean
  dict: Uint8Array
}

export type Prepared = PreparedScalar | PreparedBool | PreparedList

/**
 * A keyed column's values, taken in key order as the keys are met and written at once (dictionary bytes, null
 * keys, min and max; list elements as indexes): nothing of a value outlives its key's first row, so the
 * collector finds it dead young.
 */
export interface KeyedValues {
  add(v: Stored | StoredList): void
  /** The row group's prepared column; the accumulator starts afresh. */
  take(): Prepared
}

export function keyedValues(c: KeyedLayout): KeyedValues {
  if (c.list) return new ListValues(c.physical)
  if (c.physical === 'BOOLEAN') return new BoolValues()
  return new ScalarValues(c.physical, c.col.type === 'json')
}

export function preparedBuffers(p: Prepared): ArrayBuffer[] {
  switch (p.type) {
    case 'bool':
      return [p.code.buffer as ArrayBuffer]
    case 'scalar':
      return [p.isNull.buffer, p.dict.buffer] as ArrayBuffer[]
    case 'list':
      return [p.start.buffer, p.lens.buffer, p.flat.buffer, p.dict.buffer] as ArrayBuffer[]
  }
}

/** A growable typed array of small ints. */
class Ints {
  a = new Int32Array(256)
  n = 0
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2)
      b.set(this.a)
      this.a = b
    }
    this.a[this.n++] = v
  }

  take(): Int32Array {
    const out = this.a.slice(0, this.n)
    this.n = 0
    return out
  }
}

/** A standalone copy of what `b` holds (its own buffer, so that it can be transferred). */
function taken(b: Bytes): Uint8Array {
  const out = new Uint8Array(b.take())
  b.reset()
  return out
}

class BoolValues implements KeyedValues {
  private readonly code = new Ints()
  add(v: Stored | StoredList): void {
    this.code.push(v == null ? 2 : v ? 1 : 0)
  }

  take(): PreparedBool {
    return {type: 'bool', code: Uint8Array.from(this.code.take())}
  }
}

export class ScalarValues implements KeyedValues {
  private readonly dict = new Bytes(1 << 12)
  private readonly isNull = new Ints()
  private nulls = 0
  private count = 0
  private min: Exclude<Stored, null | undefined> | undefined
  private max: Exclude<Stored, null | undefined> | undefined
  // Text: the min and max as places in `dict` (its values stay where they were written during a row group), so
  // they compare as Parquet orders BYTE_ARRAY, by unsigned bytes, whatever the text.
  private minAt = -1
  private minLen = 0
  private maxAt = -1
  private maxLen = 0

  constructor(private readonly physical: Physical, private readonly json: boolean) {}

  add(value: Stored | StoredList): void {
    const v = value as Stored
    this.count++
    if (v == null) {
      this.isNull.push(1)
      this.nulls++
      // A null key's entry is a placeholder no row refers to; readers may still check it (DuckDB parses JSON ones).
      if (this.physical === 'BYTE_ARRAY') plainValue(this.dict, this.physical, this.json ? 'null' : '')
      else plainValue(this.dict, this.physical, null)
      return
    }
    this.isNull.push(0)
    if (this.physical === 'BYTE_ARRAY') {
      const at = this.dict.pos + 4
      this.textStats(at, this.dict.plainString(v as string))
      return
    }
    plainValue(this.dict, this.physical, v)
    if (this.min === undefined || v < this.min) this.min = v
    if (this.max === undefined || this.max < v) this.max = v
  }

  /** A text value given as its UTF-8 bytes, src[start..start+len). */
  addUtf8(src: Uint8Array, start: number, len: number): void {
    this.count++
    this.isNull.push(0)
    const at = this.dict.pos + 4
    this.dict.plainBytes(src, start, len)
    this.textStats(at, len)
  }

  /** A text value: the lowercase hex of src[start..start+len). */
  addHex(src: Uint8Array, start: number, len: number): void {
    this.count++
    this.isNull.push(0)
    const at = this.dict.pos + 4
    this.dict.plainHex(src, start, len)
    this.textStats(at, 2 * len)
  }

  private textStats(at: number, len: number): void {
    if (this.minAt < 0) {
      this.minAt = this.maxAt = at
      this.minLen = this.maxLen = len
      return
    }
    const b = this.dict.buf
    if (compareBytes(b, at, len, this.minAt, this.minLen) < 0) {
      this.minAt = at
      this.minLen = len
    } else if (compareBytes(b, at, len, this.maxAt, this.maxLen) > 0) {
      this.maxAt = at
      this.maxLen = len
    }
  }

  take(): PreparedScalar {
    let min: Uint8Array | undefined
    let max: Uint8Array | undefined
    if (this.minAt >= 0) {
      // Copies (a Buffer's slice() is a view, and the dictionary's buffer is written again next row group).
      min = new Uint8Array(this.dict.buf.subarray(this.minAt, this.minAt + this.minLen))
      max = new Uint8Array(this.dict.buf.subarray(this.maxAt, this.maxAt + this.maxLen))
    } else if (this.min !== undefined && this.max !== undefined) {
      min = statBytes(this.physical, this.min)
      max = statBytes(this.physical, this.max)
    }
    const p: PreparedScalar = {type: 'scalar', count: this.count, nulls: this.nulls, isNull: Uint8Array.from(this.isNull.take()), dict: taken(this.dict)}
    // A long string's min and max are left out: the footer stays small (the null count is kept).
    if (min !== undefined && max !== undefined && min.length <= 256 && max.length <= 256) [p.min, p.max] = [min, max]
    this.count = 0
    this.nulls = 0
    this.min = this.max = undefined
    this.minAt = this.maxAt = -1
    return p
  }
}

/** Bytes b[a..a+an) against b[c..c+cn), unsigned, shorter first where one is a prefix of the other. */
function compareBytes(b: Uint8Array, a: number, an: number, c: number, cn: number): number {
  const n = an < cn ? an : cn
  for (let k = 0; k < n; k++) {
    const d = b[a + k] - b[c + k]
    if (d !== 0) return d
  }
  return an - cn
}

export class ListValues implements KeyedValues {
  private readonly dict = new Bytes(1 << 12)
  private ids = new Map<string | bigint, number>()
  private readonly start = new Ints()
  private readonly lens = new Ints()
  private readonly flat = new Ints()
  private nullElements = false

  constructor(private readonly physical: Physical) {}

  add(value: Stored | StoredList): void {
    const list = value as StoredList
    this.start.push(this.flat.n)
    if (list == null) {
      this.lens.push(-1)
      return
    }
    this.lens.push(list.length)
    for (let x = 0; x < list.length; x++) this.flat.push(this.idOf(list[x]))
  }

  /** The dictionary index of element e (written to the dictionary when new; -1 for null). */
  idOf(e: string | bigint | null | undefined): number {
    if (e == null) {
      this.nullElements = true
      return -1
    }
    let id = this.ids.get(e)
    if (id === undefined) {
      this.ids.set(e, (id = this.ids.size))
      plainValue(this.dict, this.physical, e)
    }
    return id
  }

  /** A list of n elements, given next as dictionary indexes (idOf's) by pushId. */
  beginList(n: number): void {
    this.start.push(this.flat.n)
    this.lens.push(n)
  }

  pushId(id: number): void {
    this.flat.push(id)
  }

  take(): PreparedList {
    const p: PreparedList = {type: 'list', count: this.ids.size, start: this.start.take(), lens: this.lens.take(), flat: this.flat.take(), nullElements: this.nullElements, dict: taken(this.dict)}
    this.ids = new Map()
    this.nullElements = false
    return p
  }
}

function statBytes(physical: Physical, v: Exclude<Stored, null | undefined>): Uint8Array {
  switch (physical) {
    case 'BYTE_ARRAY':
      throw new Error('text statistics are taken from the dictionary bytes')
    case 'INT32':
      return int32Bytes(v as number)
    case 'INT64':
      return int64Bytes(...words(v as bigint))
    case 'BOOLEAN':
      return Uint8Array.of(v ? 1 : 0)
  }
}

/** A long's two 32-bit words (low, high). */
function words(v: bigint): [number, number] {
  const x = BigInt.asIntN(64, v)
  return [Number(BigInt.asIntN(32, x)), Number(x >> 32n)]
}

/** One PLAIN value into `out`. */
function plainValue(out: Bytes, physical: Physical, v: Stored | bigint): void {
  switch (physical) {
    case 'BYTE_ARRAY':
      out.plainString(v as string)
      return
    case 'INT32':
      return out.i32le(v == null ? 0 : (v as number))
    case 'INT64':
      return out.words(...words(v == null ? 0n : (v as bigint)))
    case 'BOOLEAN':
      throw new Error('booleans are written PLAIN, not from a dictionary')
  }
}
