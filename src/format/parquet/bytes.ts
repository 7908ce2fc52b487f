// The Avro writer's growable buffer (Sink), with what Parquet's encodings and Thrift's compact protocol write:
// little-endian fixed-width values, ULEB128 varints, PLAIN strings.
import {copyBytes, Sink} from '../avro/binary.js'

export class Bytes extends Sink {
  constructor(size = 1024) {
    super(size)
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.reserve(1)
    this.buf[this.pos++] = b
  }

  /** An unsigned varint (ULEB128) of a non-negative safe integer. */
  varint(v: number): void {
    this.reserve(10)
    const buf = this.buf
    let pos = this.pos
    while (v >= 0x80) {
      buf[pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    buf[pos++] = v
    this.pos = pos
  }

  u32le(v: number): void {
    this.reserve(4)
    this.buf.writeUInt32LE(v >>> 0, this.pos)
    this.pos += 4
  }

  i32le(v: number): void {
    this.reserve(4)
    this.buf.writeInt32LE(v | 0, this.pos)
    this.pos += 4
  }

  /** A 64-bit little-endian integer from its two 32-bit words. */
  words(lo: number, hi: number): void {
    this.reserve(8)
    const buf = this.buf
    const pos = this.pos
    buf.writeInt32LE(lo | 0, pos)
    buf.writeInt32LE(hi | 0, pos + 4)
    this.pos = pos + 8
  }

  /** A PLAIN byte array of text: a 4-byte length, then its UTF-8 bytes. Returns how many bytes the text took. */
  plainString(s: string): number {
    const n = s.length
    this.reserve(4 + 3 * n)
    const buf = this.buf
    const at = this.pos
    let pos = at + 4
    let k = 0
    if (n < 64) {
      for (; k < n; k++) {
        const c = s.charCodeAt(k)
        if (c > 0x7f) break
        buf[pos++] = c
      }
    }
    if (k < n) pos = at + 4 + buf.write(s, at + 4, 'utf8')
    buf.writeUInt32LE(pos - at - 4, at)
    this.pos = pos
    return pos - at - 4
  }

  /** A PLAIN byte array of the bytes src[start..start+len) (UTF-8 text the caller vouches for). */
  plainBytes(src: Uint8Array, start: number, len: number): void {
    this.reserve(4 + len)
    const buf = this.buf
    buf.writeUInt32LE(len, this.pos)
    const pos = this.pos + 4
    copyBytes(buf, pos, src, start, len)
    this.pos = pos + len
  }

  /** A PLAIN byte array of the lowercase hex text of src[start..start+len), as Buffer's hex. */
  plainHex(src: Uint8Array, start: number, len: number): void {
    this.reserve(4 + 2 * len)
    const buf = this.buf
    buf.writeUInt32LE(2 * len, this.pos)
    let pos = this.pos + 4
    for (let k = 0; k < len; k++) {
      const b = src[start + k]
      buf[pos++] = HEX[b >>> 4]
      buf[pos++] = HEX[b & 15]
    }
    this.pos = pos
  }

  /** A copy of what was written (take() is a view). */
  copy(): Buffer {
    return Buffer.from(this.take())
  }
}

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0))
