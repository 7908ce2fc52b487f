// A growable byte buffer that printers render into. Building output as bytes (cached segments copied in, short
// ASCII values written byte by byte) is 2-3x faster than assembling and then encoding JS strings, and output
// volume is what limits the text printers.

export class ByteBuilder {
  buf: Buffer
  pos = 0

  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size)
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1)
    this.buf[this.pos++] = b
  }

  bytes(b: Uint8Array): void {
    const n = b.length
    this.ensure(n)
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
      this.ensure(n)
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
    this.ensure(s.length * 3)
    this.pos += this.buf.write(s, this.pos, 'utf8')
  }

  /** A JSON string literal (quotes and escapes). */
  jsonString(s: string): void {
    const n = s.length
    if (n < 48) {
      this.ensure(n + 2)
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

  /** An integer (number or bigint) in decimal. */
  integer(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v < 10 && Number.isInteger(v)) {
      this.byte(0x30 + v)
      return
    }
    this.text(typeof v === 'bigint' ? v.toString() : String(v))
  }

  /** The bytes written so far (a view; copy it if the builder will be reused). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos)
  }

  /** Copy of the bytes from `start` to the current position. */
  copyFrom(start: number): Buffer {
    return Buffer.from(this.buf.subarray(start, this.pos))
  }

  reset(): void {
    this.pos = 0
  }
}
