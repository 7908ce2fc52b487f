// Parquet's value encodings that the columnar writer uses: the RLE / bit-packing hybrid (definition and
// repetition levels, dictionary indexes) and PLAIN values.
import {Bytes} from './bytes.js'

/** Bits needed for values 0..max (0 for max 0). */
export function bitWidth(max: number): number {
  let w = 0
  while (max > 0) {
    w++
    max = Math.floor(max / 2)
  }
  return w
}

/** Length of the run of values equal to v[at] starting at `at` (capped at `cap`). */
function runAt(v: ArrayLike<number>, at: number, n: number, cap: number): number {
  const x = v[at]
  let j = at + 1
  const end = Math.min(n, at + cap)
  while (j < end && v[j] === x) j++
  return j - at
}

/**
 * The RLE / bit-packed hybrid of v[0..n) at `width` bits (<= 24): runs of 8 or more equal values as RLE runs,
 * the rest bit-packed in groups of 8 (the last group padded with zeros, which readers ignore as the page says how
 * many values it holds).
 */
export function writeHybrid(out: Bytes, v: ArrayLike<number>, n: number, width: number): void {
  if (width > 24) throw new Error(`hybrid encoding of ${width}-bit values`)
  const valueBytes = (width + 7) >> 3
  let i = 0
  while (i < n) {
    const run = runAt(v, i, n, Infinity)
    if (run >= 8 || (width === 0)) {
      out.varint(run * 2)
      const x = v[i]
      out.reserve(valueBytes)
      for (let k = 0; k < valueBytes; k++) out.byte((x >>> (8 * k)) & 0xff)
      i += run
      continue
    }
    // Bit-packed groups of 8 from i, until a group would start with a run of 8 or the values end.
    let end = i + 8
    while (end < n && runAt(v, end, n, 8) < 8) end += 8
    const groups = Math.ceil((Math.min(end, n) - i) / 8)
    out.varint(groups * 2 + 1)
    out.reserve(groups * width)
    out.pos = packGroups(out.buf, out.pos, v, i, Math.min(i + groups * 8, n), groups * 8, width)
    i += groups * 8
  }
}

/**
 * Bit-pack v[from..to) at `width` bits into buf at pos, padded with zeros to `count` values (a multiple of 8).
 * Returns the new position.
 */
function packGroups(buf: Buffer, pos: number, v: ArrayLike<number>, from: number, to: number, count: number, width: number): number {
  const pack = packer(width)
  // Whole groups of 8 straight from v; a last, partial one from a copy padded with zeros.
  const whole = from + ((to - from) & ~7)
  pos = pack(buf, pos, v, from, whole)
  if (whole < from + count) {
    tail.fill(0)
    for (let k = whole; k < to; k++) tail[k - whole] = v[k]
    pos = pack(buf, pos, tail, 0, 8)
  }
  return pos
}

const tail = new Int32Array(8)

type Packer = (buf: Uint8Array, pos: number, v: ArrayLike<number>, from: number, to: number) => number
const packers: Packer[] = []

/**
 * The packer of groups of 8 values at `width` bits: straight-line code per group, each output byte the OR of the
 * values' bits that fall in it (LSB first, as Parquet packs). Generated once per width; the text holds only
 * numbers. A value's bits in byte j are v << (8j - its first bit) or v >>> (its first bit - 8j); `& 0xff` keeps
 * the byte.
 */
function packer(width: number): Packer {
  let p = packers[width]
  if (p === undefined) {
    const lines: string[] = []
    for (let j = 0; j < width; j++) {
      const terms: string[] = []
      for (let i = 0; i < 8; i++) {
        const first = i * width
        if (first + width <= 8 * j || first >= 8 * j + 8) continue
        const shift = first - 8 * j
        terms.push(shift >= 0 ? `(v[k + ${i}] << ${shift})` : `(v[k + ${i}] >>> ${-shift})`)
      }
      lines.push(`buf[pos + ${j}] = (${terms.join(' | ')}) & 0xff;`)
    }
    // eslint-disable-next-line no-new-func
    p = new Function('buf', 'pos', 'v', 'from', 'to', `for (let k = from; k < to; k += 8) {\n${lines.join('\n')}\npos += ${width};\n}\nreturn pos;`) as Packer
    packers[width] = p
  }
  return p
}

/** Levels of a v1 data page: a 4-byte length, then the hybrid encoding. */
export function writeLevels(out: Bytes, levels: ArrayLike<number>, n: number, maxLevel: number): void {
  const at = out.pos
  out.u32le(0)
  writeHybrid(out, levels, n, bitWidth(maxLevel))
  out.buf.writeUInt32LE(out.pos - at - 4, at)
}

/** Dictionary indexes of a data page: the bit width in one byte, then the hybrid encoding. */
export function writeIndexes(out: Bytes, indexes: ArrayLike<number>, n: number, dictSize: number): void {
  const w = bitWidth(Math.max(0, dictSize - 1))
  out.byte(w)
  writeHybrid(out, indexes, n, w)
}

/** PLAIN booleans: bit-packed, least significant bit first. */
export function writePlainBools(out: Bytes, v: ArrayLike<number>, n: number): void {
  const bytes = (n + 7) >> 3
  out.reserve(bytes)
  const buf = out.buf
  const at = out.pos
  buf.fill(0, at, at + bytes)
  for (let i = 0; i < n; i++) if (v[i]) buf[at + (i >> 3)] |= 1 << (i & 7)
  out.pos = at + bytes
}

/** PLAIN byte arrays: each a 4-byte length and its bytes. */
export function writePlainBinary(out: Bytes, b: Uint8Array): void {
  out.u32le(b.length)
  out.writeRaw(b)
}

/** One INT32 as PLAIN bytes (statistics hold min and max so). */
export function int32Bytes(v: number): Uint8Array {
  const b = Buffer.allocUnsafe(4)
  b.writeInt32LE(v | 0, 0)
  return b
}

/** One INT64 as PLAIN bytes, from its two 32-bit words. */
export function int64Bytes(lo: number, hi: number): Uint8Array {
  const b = Buffer.allocUnsafe(8)
  b.writeInt32LE(lo | 0, 0)
  b.writeInt32LE(hi | 0, 4)
  return b
}
