// Growable column buffers that become Arrow Data without a per-value builder: plain typed arrays for the values and
// an LSB-first validity bitmap (Arrow's layout, which is also DuckDB's validity mask), handed to makeData as they are.
import {Bool, Data, DataType, Field, Int32, Int64, List, makeData, TimestampNanosecond, Uint32, Uint8, Utf8} from 'apache-arrow'

const INITIAL = 1024

function grow<T extends Int32Array | BigInt64Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a
  let n = a.length || INITIAL
  while (n < need) n *= 2
  const b = new (a.constructor as new (n: number) => T)(n)
  ;(b as Uint8Array).set(a as Uint8Array)
  return b
}

/** Validity bits, all valid until a null is pushed (then materialised). */
class Validity {
  bits: Uint8Array | undefined
  nulls = 0

  /** Mark row `i` (of `length` so far) null. */
  setNull(i: number): void {
    if (this.bits === undefined) {
      this.bits = new Uint8Array(Math.max(INITIAL >> 3, (i >> 3) + 1)).fill(0xff)
    } else if ((i >> 3) >= this.bits.length) {
      const old = this.bits.length
      this.bits = grow(this.bits, (i >> 3) + 1)
      this.bits.fill(0xff, old)
    }
    this.bits[i >> 3] &= ~(1 << (i & 7))
    this.nulls++
  }

  /** Mark `count` rows from row `from` null (whole bytes at once). */
  setNullRange(from: number, count: number): void {
    if (count <= 0) return
    const end = from + count
    this.setNull(from)
    this.ensure(end - 1)
    const bits = this.bits!
    let i = from + 1
    for (; i < end && (i & 7) !== 0; i++) bits[i >> 3] &= ~(1 << (i & 7))
    const whole = end & ~7
    if (i < whole) {
      bits.fill(0, i >> 3, whole >> 3)
      i = whole
    }
    for (; i < end; i++) bits[i >> 3] &= ~(1 << (i & 7))
    this.nulls += count - 1
  }

  /** Make sure bytes up to row `i` exist when bits are materialised (rows pushed as valid after the last null). */
  ensure(i: number): void {
    if (this.bits !== undefined && (i >> 3) >= this.bits.length) {
      const old = this.bits.length
      this.bits = grow(this.bits, (i >> 3) + 1)
      this.bits.fill(0xff, old)
    }
  }

  bitmap(length: number): Uint8Array | undefined {
    if (this.nulls === 0 || this.bits === undefined) return undefined
    this.ensure(Math.max(0, length - 1))
    return this.bits.subarray(0, (length + 7) >> 3)
  }

  reset(): void {
    this.bits = undefined
    this.nulls = 0
  }
}

export interface ColumnBuffer {
  readonly type: DataType
  length: number
  /** Append a value (undefined or null = NULL). */
  push(v: unknown): void
  /** Append `count` NULLs at once (where a buffer can do better than push() a row at a time). */
  pushNulls?(count: number): void
  /** The pushed values as Arrow Data; the buffer is emptied (and may be reused). */
  finish(): Data
}

abstract class Fixed<A extends Int32Array | BigInt64Array | Uint8Array> implements ColumnBuffer {
  abstract readonly type: DataType
  length = 0
  protected v: A
  protected readonly valid = new Validity()

  constructor(make: (n: number) => A, capacity: number) {
    this.v = make(capacity)
  }

  pushNull(): void {
    const i = this.length++
    if (i >= this.v.length) this.v = grow(this.v, i + 1)
    this.valid.setNull(i)
  }

  abstract push(v: unknown): void

  finish(): Data {
    const n = this.length
    const d = makeData({type: this.type, length: n, nullCount: this.valid.nulls, data: this.v.slice(0, n), nullBitmap: this.valid.bitmap(n)?.slice()} as never) as Data
    this.length = 0
    this.valid.reset()
    return d
  }
}

/** Fixed-width buffers of numbers (not bigints): the same push for every width. */
abstract class NumberFixed<A extends Int32Array | Uint8Array> extends Fixed<A> {
  push(v: unknown): void {
    if (v === undefined || v === null) return this.pushNull()
    const i = this.length++
    if (i >= this.v.length) this.v = grow(this.v, i + 1)
    this.valid.ensure(i)
    this.v[i] = v as number
  }
}

export class Int32Buffer extends NumberFixed<Int32Array> {
  readonly type = new Int32()
  constructor(capacity = INITIAL) {
    super((n) => new Int32Array(n), capacity)
  }
}

/** Unsigned 32-bit values (given as their int32 bit patterns or as numbers). */
export class Uint32Buffer extends NumberFixed<Int32Array> {
  readonly type = new Uint32()
  constructor(capacity = INITIAL) {
    super((n) => new Int32Array(n), capacity)
  }


  override finish(): Data {
    const n = this.length
    const d = makeData({type: this.type, length: n, nullCount: this.valid.nulls, data: new Uint32Array(this.v.buffer.slice(0, n * 4)), nullBitmap: this.valid.bitmap(n)?.slice()}) as Data
    this.length = 0
    this.valid.reset()
    return d
  }
}

export class Uint8Buffer extends NumberFixed<Uint8Array> {
  readonly type = new Uint8()
  constructor(capacity = INITIAL) {
    super((n) => new Uint8Array(n), capacity)
  }
}

export class Int64Buffer extends Fixed<BigInt64Array> {
  readonly type: DataType
  constructor(capacity = INITIAL, timestamp = false) {
    super((n) => new BigInt64Array(n), capacity)
    this.type = timestamp ? new TimestampNanosecond() : new Int64()
  }

  push(v: unknown): void {
    if (v === undefined || v === null) return this.pushNull()
    const i = this.length++
    if (i >= this.v.length) this.v = grow(this.v, i + 1)
    this.valid.ensure(i)
    this.v[i] = v as bigint
  }

  private w: Int32Array | undefined
  /** Append a value given as its two 32-bit words (low, high): no bigint made (the columnar path copies words). */
  pushWords(lo: number, hi: number): void {
    const i = this.length++
    if (i >= this.v.length) this.v = grow(this.v, i + 1)
    this.valid.ensure(i)
    let w = this.w
    if (w === undefined || w.buffer !== this.v.buffer) w = this.w = new Int32Array(this.v.buffer, this.v.byteOffset, 2 * this.v.length)
    w[2 * i] = lo
    w[2 * i + 1] = hi
  }
}

export class BoolBuffer implements ColumnBuffer {
  readonly type = new Bool()
  length = 0
  private bits = new Uint8Array(INITIAL >> 3)
  private readonly valid = new Validity()

  push(v: unknown): void {
    const i = this.length++
    if ((i >> 3) >= this.bits.length) this.bits = grow(this.bits, (i >> 3) + 1)
    if (v === undefined || v === null) {
      this.valid.setNull(i)
      this.bits[i >> 3] &= ~(1 << (i & 7))
      return
    }
    this.valid.ensure(i)
    if (v) this.bits[i >> 3] |= 1 << (i & 7)
    else this.bits[i >> 3] &= ~(1 << (i & 7))
  }

  finish(): Data {
    const n = this.length
    const d = makeData({type: this.type, length: n, nullCount: this.valid.nulls, data: this.bits.slice(0, (n + 7) >> 3), nullBitmap: this.valid.bitmap(n)?.slice()}) as Data
    this.length = 0
    this.bits = new Uint8Array(this.bits.length)
    this.valid.reset()
    return d
  }
}

/**
 * Strings, UTF-8 encoded in one go at finish(). Only the non-null values are kept (with their rows): a column that
 * is NULL in most rows (a field only K8s events have) costs a validity bit per row, set in bulk by pushNulls().
 */
export class Utf8Buffer implements ColumnBuffer {
  readonly type = new Utf8()
  length = 0
  private strings: string[] = []
  private rows: number[] = []
  private readonly valid = new Validity()

  push(v: unknown): void {
    const i = this.length++
    if (v === undefined || v === null) {
      this.valid.setNull(i)
      return
    }
    this.valid.ensure(i)
    this.strings.push(v as string)
    this.rows.push(i)
  }

  pushNulls(count: number): void {
    this.valid.setNullRange(this.length, count)
    this.length += count
  }

  finish(): Data {
    const n = this.length
    const {strings, rows} = this
    const offsets = new Int32Array(n + 1)
    const joined = strings.join('')
    let data = Buffer.from(joined, 'utf8')
    const ascii = data.length === joined.length
    // Row r ends at offsets[r + 1]; a NULL row (no entry) ends where the row before it did.
    let at = 0
    let next = 1
    for (let j = 0; j < strings.length; j++) {
      const r = rows[j]
      if (next <= r) offsets.fill(at, next, r + 1)
      at += ascii ? strings[j].length : Buffer.byteLength(strings[j], 'utf8')
      offsets[r + 1] = at
      next = r + 2
    }
    if (next <= n) offsets.fill(at, next, n + 1)
    if (at !== data.length) {
      // Lone surrogates encode differently alone and joined: encode one by one.
      data = Buffer.allocUnsafe(at)
      for (let j = 0; j < strings.length; j++) data.write(strings[j], offsets[rows[j]], 'utf8')
    }
    const d = makeData({type: this.type, length: n, nullCount: this.valid.nulls, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, data.length), nullBitmap: this.valid.bitmap(n)?.slice()}) as Data
    this.length = 0
    this.strings = []
    this.rows = []
    this.valid.reset()
    return d
  }
}

/** A list column: offsets plus a child buffer that takes the elements. */
export class ListBuffer implements ColumnBuffer {
  readonly type: DataType
  length = 0
  private offsets = new Int32Array(INITIAL + 1)
  private readonly valid = new Validity()

  constructor(readonly child: ColumnBuffer) {
    this.type = new List(new Field('item', child.type, true))
  }

  push(v: unknown): void {
    const i = this.length++
    if (i + 2 > this.offsets.length) this.offsets = grow(this.offsets, i + 2)
    if (v === undefined || v === null) {
      this.valid.setNull(i)
    } else {
      this.valid.ensure(i)
      for (const x of v as readonly unknown[]) this.child.push(x)
    }
    this.offsets[i + 1] = this.child.length
  }

  finish(): Data {
    const n = this.length
    const d = makeData({type: this.type as List, length: n, nullCount: this.valid.nulls, valueOffsets: this.offsets.slice(0, n + 1), child: this.child.finish(), nullBitmap: this.valid.bitmap(n)?.slice()}) as Data
    this.length = 0
    this.offsets.fill(0, 0, n + 1)
    this.valid.reset()
    return d
  }
}

export type BufferKind = 'int32' | 'uint32' | 'int64' | 'uint8' | 'bool' | 'utf8' | 'timestamp' | 'list<int32>' | 'list<int64>' | 'list<utf8>'

export function makeBuffer(kind: BufferKind, capacity = INITIAL): ColumnBuffer {
  switch (kind) {
    case 'int32':
      return new Int32Buffer(capacity)
    case 'int64':
      return new Int64Buffer(capacity)
    case 'timestamp':
      return new Int64Buffer(capacity, true)
    case 'uint8':
      return new Uint8Buffer(capacity)
    case 'uint32':
      return new Uint32Buffer(capacity)
    case 'bool':
      return new BoolBuffer()
    case 'utf8':
      return new Utf8Buffer()
    case 'list<int32>':
      return new ListBuffer(new Int32Buffer(capacity))
    case 'list<int64>':
      return new ListBuffer(new Int64Buffer(capacity))
    case 'list<utf8>':
      return new ListBuffer(new Utf8Buffer())
  }
}

/** The Arrow type a buffer kind builds. */
export function kindType(kind: BufferKind): DataType {
  return makeBuffer(kind, 1).type
}
