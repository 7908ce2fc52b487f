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
  if (width === 1) {
    // Levels: a byte per 8 values.
    let k = from
    const end = from + count
    for (; k + 8 <= to; k += 8) {
      buf[pos++] = v[k] | (v[k + 1] << 1) | (v[k + 2] << 2) | (v[k + 3] << 3) | (v[k + 4] << 4) | (v[k + 5] << 5) | (v[k + 6] << 6) | (v[k + 7] << 7)
    }
    if (k < end) {
      let b = 0
      for (let x = 0; k + x < to; x++) b |= v[k + x] << x
      buf[pos++] = b
    }
    return pos
  }
  let acc = 0
  let bits = 0
  let k = from
  for (; k < to; k++) {
    acc |= v[k] << bits
    bits += width
    while (bits >= 8) {
      buf[pos++] = acc & 0xff
      acc >>>= 8
      bits -= 8
    }
  }
  for (; k < from + count; k++) {
    bits += width
    while (bits >= 8) {
      buf[pos++] = acc & 0xff
      acc >>>= 8
      bits -= 8
    }
  }
  return pos
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
