// Buffered stdout (or file) writer with backpressure. A closed pipe (`| head`) ends the command quietly.
import fs from 'node:fs'

/** Thrown to unwind the pipeline when the reader of our output has gone away. */
export class OutputClosed extends Error {
  constructor() {
    super('output closed')
    this.name = 'OutputClosed'
  }
}

const FLUSH_AT = 1 << 16

export class Output {
  private parts: Buffer[] = []
  private size = 0
  private closed = false
  private failure: Error | undefined

  constructor(private readonly stream: NodeJS.WritableStream) {
    if ((stream as {_type?: string})._type === 'fs' && stream.constructor.name === 'SyncWriteStream') {
      this.writeLent = (chunk) => {
        this.parts.push(chunk)
        this.size += chunk.length
        return this.flush()
      }
    }
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') this.closed = true
      else this.failure = e
    })
  }

  /**
   * A chunk the caller will reuse (ByteOutput.writeLent): only where the stream is done with a chunk when write
   * returns, i.e. stdout redirected to a file (Node's SyncWriteStream); elsewhere undefined, and printers hand over
   * fresh chunks as before.
   */
  readonly writeLent?: (chunk: Buffer) => void | Promise<void>

  static toFile(path: string): Output {
    return new Output(fs.createWriteStream(path))
  }

  /** Queue output (the Output owns `chunk` from now on); returns a promise only when the stream asked us to wait. */
  write(chunk: Buffer | string): void | Promise<void> {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    this.parts.push(b)
    this.size += b.length
    if (this.size >= FLUSH_AT) return this.flush()
  }

  flush(): void | Promise<void> {
    this.check()
    if (this.size === 0) return
    const chunk = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size)
    this.parts = []
    this.size = 0
    if (!this.stream.write(chunk)) {
      return new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done)
          this.stream.off('error', done)
          this.stream.off('close', done)
          resolve()
        }
        this.stream.on('drain', done)
        this.stream.on('error', done)
        this.stream.on('close', done)
      }).then(() => this.check())
    }
  }

  private check(): void {
    if (this.failure) throw this.failure
    if (this.closed) throw new OutputClosed()
  }

  /** Flush and finish. Files are closed; stdout is left open for the process. */
  async end(): Promise<void> {
    await this.flush()
    if (this.stream === process.stdout) {
      await new Promise<void>((resolve) => (this.stream.write('') ? resolve() : this.stream.once('drain', resolve)))
      return
    }
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject)
      this.stream.end(() => resolve())
    })
    this.check()
  }
}
