// Avro binary primitives over one cursor. Reads are not bounds-checked byte by byte (that would cost on the hot
// path): a varint that runs past the end reads `undefined` bytes as 0 and leaves `pos > end`, which the caller
// checks once per block. Every length or count that drives an allocation or a loop is checked before use.

export class DecodeError extends Error {
  constructor(message: string, readonly pos: number) {
    super(message)
    this.name = 'DecodeError'
  }
}

export interface Cursor {
  buf: Buffer
  pos: number
  end: number
}

// Buffer's own slice methods skip the encoding dispatch of toString(), which shows in profiles.
interface FastSlices {
  hexSlice(start: number, end: number): string
  utf8Slice(start: number, end: number): string
}

// One scratch word turns the two zigzag-decoded 32-bit halves into a bigint with a single allocation.
const scratch = new Uint32Array(2)
const scratchView = new DataView(scratch.buffer)

// Every bigint is a heap object: share the small ones (counters, fds, zero) instead of allocating them.
const SMALL_LONGS: bigint[] = Array.from({length: 64}, (_, i) => BigInt((i >>> 1) ^ -(i & 1)))

/** A zigzag varint long, exact, as a bigint. */
export function readLong(c: Cursor): bigint {
  const buf = c.buf
  let pos = c.pos
  let b = buf[pos++]
  let lo = b & 0x7f
  if (b < 0x80) {
    c.pos = pos
    return SMALL_LONGS[lo] ?? BigInt((lo >>> 1) ^ -(lo & 1))
  }
  let shift = 7
  do {
    b = buf[pos++]
    lo |= (b & 0x7f) << shift
    shift += 7
  } while (b & 0x80 && shift < 28)
  if (!(b & 0x80)) {
    c.pos = pos
    return BigInt((lo >>> 1) ^ -(lo & 1))
  }
  // Bits 28..63: four more bits into `lo`, the rest into `hi`.
  b = buf[pos++]
  lo |= (b & 0x0f) << 28
  let hi = (b & 0x7f) >>> 4
  shift = 3
  while (b & 0x80) {
    if (shift > 32) throw new DecodeError('varint longer than 10 bytes', pos)
    b = buf[pos++]
    hi |= (b & 0x7f) << shift
    shift += 7
  }
  c.pos = pos
  const negative = lo & 1
  lo = (lo >>> 1) | ((hi & 1) << 31)
  hi = hi >>> 1
  if (negative) {
    lo = ~lo
    hi = ~hi
  }
  scratch[0] = lo >>> 0
  scratch[1] = hi >>> 0
  return scratchView.getBigInt64(0, true)
}

/** A zigzag varint int (at most 32 bits). */
export function readInt(c: Cursor): number {
  const buf = c.buf
  let pos = c.pos
  let b = buf[pos++]
  let n = b & 0x7f
  let shift = 7
  while (b & 0x80) {
    if (shift > 28) throw new DecodeError('int varint longer than 5 bytes', pos)
    b = buf[pos++]
    n |= (b & 0x7f) << shift
    shift += 7
  }
  c.pos = pos
  return (n >>> 1) ^ -(n & 1)
}

/** A long used as a length or count: must be a non-negative safe number. */
export function readLength(c: Cursor): number {
  const start = c.pos
  const n = readLong(c)
  if (n < 0n || n > 0x7fffffffn) throw new DecodeError(`invalid length ${n}`, start)
  return Number(n)
}

export function readBoolean(c: Cursor): boolean {
  const b = c.buf[c.pos++]
  if (b > 1) throw new DecodeError(`invalid boolean byte ${b}`, c.pos - 1)
  return b === 1
}

export function readString(c: Cursor): string {
  const start = c.pos
  const len = readLength(c)
  const pos = c.pos
  const end = pos + len
  if (end > c.end) throw new DecodeError(`string of ${len} bytes runs past the block end`, start)
  c.pos = end
  const buf = c.buf
  // Short ASCII strings are the common case (flags, names, ids): build them without a native call.
  if (len < 24) {
    let s = ''
    for (let i = pos; i < end; i++) {
      const ch = buf[i]
      if (ch > 0x7f) return (buf as unknown as FastSlices).utf8Slice(pos, end)
      s += String.fromCharCode(ch)
    }
    return s
  }
  return (buf as unknown as FastSlices).utf8Slice(pos, end)
}

export function skipString(c: Cursor): void {
  const start = c.pos
  const len = readLength(c)
  if (c.pos + len > c.end) throw new DecodeError(`string of ${len} bytes runs past the block end`, start)
  c.pos += len
}

export function readFixedHex(c: Cursor, size: number): string {
  const pos = c.pos
  if (pos + size > c.end) throw new DecodeError(`fixed(${size}) runs past the block end`, pos)
  c.pos = pos + size
  return (c.buf as unknown as FastSlices).hexSlice(pos, pos + size)
}

export function readFloat(c: Cursor): number {
  const pos = c.pos
  if (pos + 4 > c.end) throw new DecodeError('float runs past the block end', pos)
  c.pos = pos + 4
  return c.buf.readFloatLE(pos)
}

export function readDouble(c: Cursor): number {
  const pos = c.pos
  if (pos + 8 > c.end) throw new DecodeError('double runs past the block end', pos)
  c.pos = pos + 8
  return c.buf.readDoubleLE(pos)
}

/**
 * The item count of the next array or map block, or 0 at the end. A negative count is followed by the block's
 * byte size (which we do not need). `minItemBytes` bounds the count by the bytes left, so a corrupt count can
 * neither allocate wildly nor loop for long.
 */
export function readBlockCount(c: Cursor, minItemBytes: number): number {
  const start = c.pos
  let n = readLong(c)
  if (n < 0n) {
    n = -n
    readLong(c)
  }
  const left = c.end - c.pos
  if (n > BigInt(minItemBytes > 0 ? Math.floor(left / minItemBytes) : 1_000_000)) {
    throw new DecodeError(`array/map count ${n} exceeds the ${left} bytes left in the block`, start)
  }
  return Number(n)
}

/**
 * Copy src[from..from+len) to dst at `at`. Runs under 128 bytes (paths, names, most command lines) by hand: a
 * native copy needs a view of the source, an object per call for the collector (15 MB on the 2M-record bench
 * trace's entity strings alone).
 */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  if (len < 128) for (let k = 0; k < len; k++) dst[at + k] = src[from + k]
  else dst.set(src.subarray(from, from + len), at)
}

// ---------------------------------------------------------------------------------------------------------------
// Writing: a growable buffer. Used by the .sf writer and by tests; not on the read path.

const longScratch = new BigInt64Array(1)
const longHalves = new Uint32Array(longScratch.buffer)

export class Sink {
  buf: Buffer
  pos = 0

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size)
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = Math.max(this.buf.length * 2, 64)
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  writeLong(v: bigint): void {
    // Split through a BigInt64Array and zigzag the 32-bit halves: no bigint arithmetic per 7-bit group.
    longScratch[0] = v
    const lo = longHalves[0]
    const hi = longHalves[1] | 0
    const sign = hi >> 31
    let zlo = ((lo << 1) ^ sign) >>> 0
    const zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0
    this.reserve(10)
    const buf = this.buf
    let pos = this.pos
    if (zhi === 0) {
      while (zlo > 0x7f) {
        buf[pos++] = (zlo & 0x7f) | 0x80
        zlo >>>= 7
      }
      buf[pos++] = zlo
    } else {
      // The low 28 bits as four groups, then the remaining 36 bits as a safe integer.
      for (let i = 0; i < 4; i++) {
        buf[pos++] = (zlo & 0x7f) | 0x80
        zlo >>>= 7
      }
      let rest = zlo + zhi * 16
      while (rest > 0x7f) {
        buf[pos++] = (rest & 0x7f) | 0x80
        rest = Math.floor(rest / 128)
      }
      buf[pos++] = rest
    }
    this.pos = pos
  }

  writeInt(v: number): void {
    this.reserve(5)
    let n = ((v << 1) ^ (v >> 31)) >>> 0
    while (n > 0x7f) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    this.buf[this.pos++] = n
  }

  writeBoolean(v: boolean): void {
    this.reserve(1)
    this.buf[this.pos++] = v ? 1 : 0
  }

  writeString(s: string): void {
    const len = Buffer.byteLength(s)
    this.writeInt(len)
    this.reserve(len)
    this.pos += this.buf.write(s, this.pos, len, 'utf8')
  }

  writeBytes(b: Uint8Array): void {
    this.writeInt(b.length)
    this.writeRaw(b)
  }

  writeRaw(b: Uint8Array): void {
    this.reserve(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  writeFloat(v: number): void {
    this.reserve(4)
    this.pos = this.buf.writeFloatLE(v, this.pos)
  }

  writeDouble(v: number): void {
    this.reserve(8)
    this.pos = this.buf.writeDoubleLE(v, this.pos)
  }

  take(): Buffer {
    return this.buf.subarray(0, this.pos)
  }

  reset(): void {
    this.pos = 0
  }
}
