import {Sink} from '../avro/binary.js'
import {isoPrefixBytes, isoSplit, secondDigitBytes} from '../time.js'

// A growable byte buffer that printers render into. Building output as bytes (cached segments copied in, short
// ASCII values written byte by byte) is 2-3x faster than assembling and then encoding JS strings, and output
// volume is what limits the text printers.

const word = new BigInt64Array(1)
const wordHi = new Int32Array(word.buffer)
const wordLo = new Uint32Array(word.buffer)

export class ByteBuilder extends Sink {
  constructor(size = 1 << 20) {
    super(size)
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.reserve(1)
    this.buf[this.pos++] = b
  }

  bytes(b: Uint8Array): void {
    const n = b.length
    this.reserve(n)
    if (n < 64) {
      const buf = this.buf
      let pos = this.pos
      for (let i = 0; i < n; i++) buf[pos++] = b[i]
      this.pos = pos
    } else {
      this.buf.set(b, this.pos)
      this.pos += n
    }
  }

  /** Text as UTF-8; short ASCII text is copied without a native call. */
  text(s: string): void {
    const n = s.length
    if (n < 48) {
      this.reserve(n)
      const buf = this.buf
      const start = this.pos
      let pos = start
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c > 0x7f) {
          this.pos = start
          this.utf8(s)
          return
        }
        buf[pos++] = c
      }
      this.pos = pos
      return
    }
    this.utf8(s)
  }

  private utf8(s: string): void {
    this.reserve(s.length * 3)
    this.pos += this.buf.write(s, this.pos, 'utf8')
  }

  /** A JSON string literal (quotes and escapes). */
  jsonString(s: string): void {
    const n = s.length
    if (n < 48) {
      this.reserve(n + 2)
      const buf = this.buf
      const start = this.pos
      let pos = start
      buf[pos++] = 0x22
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
          this.pos = start
          this.utf8(JSON.stringify(s))
          return
        }
        buf[pos++] = c
      }
      buf[pos++] = 0x22
      this.pos = pos
      return
    }
    this.utf8(JSON.stringify(s))
  }

  /** A nanosecond timestamp as ISO-8601 UTC with nine digits and `Z`, optionally in JSON quotes, without strings. */
  isoTime(ns: bigint, quote: boolean): void {
    let sub = isoSplit(ns)
    const prefix = isoPrefixBytes
    this.reserve(prefix.length + 12)
    const buf = this.buf
    let pos = this.pos
    if (quote) buf[pos++] = 0x22
    for (let i = 0; i < prefix.length; i++) buf[pos++] = prefix[i]
    for (let k = 8; k >= 0; k--) {
      const q = (sub / 10) | 0
      buf[pos + k] = 0x30 + (sub - q * 10)
      sub = q
    }
    pos += 9
    buf[pos++] = 0x5a
    if (quote) buf[pos++] = 0x22
    this.pos = pos
  }

  /** A CSV field (RFC 4180): copied as is in one pass unless it needs quotes (or is not ASCII). */
  csvText(s: string): void {
    const n = s.length
    this.reserve(n)
    const buf = this.buf
    const start = this.pos
    let pos = start
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c === 0x22 || c === 0x2c || c === 0x0a || c === 0x0d || c > 0x7f) {
        this.pos = start
        this.utf8(/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
        return
      }
      buf[pos++] = c
    }
    this.pos = pos
  }

  /** An integer (number or bigint) in decimal. Safe-range bigints go through a number: no bigint division. */
  integer(v: number | bigint): void {
    let n: number
    if (typeof v === 'bigint') {
      // Through a 64-bit word: one store instead of two bigint comparisons and a conversion.
      word[0] = v
      const hi = wordHi[1]
      if (hi > 0x1fffff || hi < -0x200000) return v > 0n ? this.bigNanos(v) : this.text(v.toString())
      n = hi * 4294967296 + wordLo[0]
    } else {
      if (!Number.isSafeInteger(v)) return this.text(String(v))
      n = v
    }
    this.reserve(21)
    this.pos = intAt(this.buf, this.pos, n)
  }

  /**
   * A bigint beyond 2^53: in practice a nanosecond timestamp, so it is written as its second's digits (cached with
   * the ISO prefix, see time.ts) and nine digits of nanoseconds, without bigint division or toString.
   */
  private bigNanos(v: bigint): void {
    let sub = isoSplit(v)
    const sec = secondDigitBytes
    this.reserve(sec.length + 9)
    const buf = this.buf
    let pos = this.pos
    for (let i = 0; i < sec.length; i++) buf[pos++] = sec[i]
    for (let k = 8; k >= 0; k--) {
      const q = (sub / 10) | 0
      buf[pos + k] = 0x30 + (sub - q * 10)
      sub = q
    }
    this.pos = pos + 9
  }

  /** The bytes written so far (a view; copy it if the builder will be reused). */
  view(): Buffer {
    return this.take()
  }

  /** Copy of the bytes from `start` to the current position. */
  copyFrom(start: number): Buffer {
    return Buffer.from(this.buf.subarray(start, this.pos))
  }

}

/** A safe integer in decimal at buf[pos..] (room for 21 bytes); returns the position after it. */
export function intAt(buf: Uint8Array, pos: number, n: number): number {
  if (n < 0) {
    buf[pos++] = 0x2d
    n = -n
  }
  if (n < 10) {
    buf[pos] = 0x30 + n
    return pos + 1
  }
  // Count the digits with comparisons, then write them right to left; 32-bit values divide as integers.
  let len = 2
  for (let p = 100; p <= n && len < 16; p *= 10) len++
  const end = pos + len
  let at = end
  while (n > 0x7fffffff) {
    const q = Math.floor(n / 10)
    buf[--at] = 0x30 + (n - q * 10)
    n = q
  }
  let m = n | 0
  while (m >= 10) {
    const q = (m / 10) | 0
    buf[--at] = 0x30 + (m - q * 10)
    m = q
  }
  buf[--at] = 0x30 + m
  return end
}
