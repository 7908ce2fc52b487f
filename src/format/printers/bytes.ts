import {Sink} from '../avro/binary.js'
import {isoPrefixBytes, isoSplit} from '../time.js'

// A growable byte buffer that printers render into. Building output as bytes (cached segments copied in, short
// ASCII values written byte by byte) is 2-3x faster than assembling and then encoding JS strings, and output
// volume is what limits the text printers.

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_SAFE = -MAX_SAFE

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
      const q = Math.floor(sub / 10)
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
      if (v > MAX_SAFE || v < MIN_SAFE) return this.text(v.toString())
      n = Number(v)
    } else {
      if (!Number.isSafeInteger(v)) return this.text(String(v))
      n = v
    }
    this.reserve(21)
    const buf = this.buf
    if (n < 0) {
      buf[this.pos++] = 0x2d
      n = -n
    }
    if (n < 10) {
      buf[this.pos++] = 0x30 + n
      return
    }
    // Digits right to left into place, after counting them.
    let len = 1
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++
    let at = this.pos + len
    this.pos = at
    while (n >= 10) {
      const q = Math.floor(n / 10)
      buf[--at] = 0x30 + (n - q * 10)
      n = q
    }
    buf[--at] = 0x30 + n
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
