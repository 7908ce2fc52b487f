// Raw Snappy block format (no framing), as Avro's snappy codec uses it. Small enough to own: no native
// dependency for a codec no real SysFlow trace uses, but which the Avro spec allows.

/** Decompress one raw Snappy block; throws on malformed input or output beyond `maxOutput`. */
export function snappyUncompress(src: Uint8Array, maxOutput: number): Buffer {
  let pos = 0
  let length = 0
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length || shift > 28) throw new Error('bad snappy length preamble')
    const b = src[pos++]
    length += (b & 0x7f) * 2 ** shift
    if (!(b & 0x80)) break
  }
  if (length > maxOutput) throw new Error(`snappy block inflates to ${length} bytes`)
  const out = Buffer.allocUnsafe(length)
  let op = 0
  while (pos < src.length) {
    const tag = src[pos++]
    const type = tag & 3
    if (type === 0) {
      let len = tag >>> 2
      if (len >= 60) {
        const extra = len - 59
        if (pos + extra > src.length) throw new Error('truncated snappy literal length')
        len = 0
        for (let i = 0; i < extra; i++) len |= src[pos + i] << (8 * i)
        len >>>= 0
        pos += extra
      }
      len += 1
      if (pos + len > src.length || op + len > length) throw new Error('snappy literal out of bounds')
      out.set(src.subarray(pos, pos + len), op)
      pos += len
      op += len
      continue
    }
    let len: number
    let offset: number
    if (type === 1) {
      if (pos >= src.length) throw new Error('truncated snappy copy')
      len = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | src[pos++]
    } else {
      const n = type === 2 ? 2 : 4
      if (pos + n > src.length) throw new Error('truncated snappy copy')
      len = (tag >>> 2) + 1
      offset = 0
      for (let i = 0; i < n; i++) offset |= src[pos + i] << (8 * i)
      offset >>>= 0
      pos += n
    }
    if (offset === 0 || offset > op || op + len > length) throw new Error('snappy copy out of bounds')
    for (let i = 0; i < len; i++, op++) out[op] = out[op - offset]
  }
  if (op !== length) throw new Error(`snappy block holds ${op} bytes, ${length} declared`)
  return out
}

/** A valid (literal-only) Snappy block: lets the writer and tests produce snappy traces without a compressor. */
export function snappyStore(src: Uint8Array): Buffer {
  const parts: Buffer[] = []
  const pre: number[] = []
  let n = src.length
  do {
    pre.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0))
    n = Math.floor(n / 128)
  } while (n > 0)
  parts.push(Buffer.from(pre))
  for (let i = 0; i < src.length; i += 65536) {
    const chunk = src.subarray(i, Math.min(i + 65536, src.length))
    const len = chunk.length - 1
    parts.push(len < 60 ? Buffer.from([len << 2]) : Buffer.from([61 << 2, len & 0xff, len >>> 8]), Buffer.from(chunk))
  }
  return Buffer.concat(parts)
}

// CRC32 (IEEE), for Avro's snappy framing. Own table: zlib.crc32 only exists from Node 20.15.
const CRC_TABLE = (() => {
  const t = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c
  }
  return t
})()

export function crc32(data: Uint8Array): number {
  let c = -1
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8)
  return (c ^ -1) >>> 0
}
