// Bulk reading of the event blocks of a .scap file, without a foreign call per event. libscap parses the state
// blocks (machine info, process and fd lists, users, interfaces) through ScapHandle; the event blocks are streamed
// here in 4 MiB chunks (gunzipped on the fly): a zero-copy view per event, in the exact bytes libscap's scap_next
// returns (checked event by event in test/native.test.ts). Old V1 event blocks lack `nparams` and are converted
// as libscap converts them.
import fs from 'node:fs'
import zlib from 'node:zlib'

export const SHB_BLOCK_TYPE = 0x0a0d0d0a
export const SHB_MAGIC = 0x1a2b3c4d
const EV_V1 = new Set([0x204, 0x8010abcd])
const EVF_V1 = new Set([0x208])
// EV_V2 and EVF_V2 are also tested by value in EventBlockReader.next (keep both in step).
const EV_V2 = new Set([0x216, 0x221])
const EVF_V2 = new Set([0x217, 0x222])

/** The .scap input is damaged: not a capture, truncated, or a block that does not fit. */
export class ScapFormatError extends Error {
  readonly exitCode = 1
  constructor(readonly file: string, readonly offset: number, readonly problem: string) {
    super(offset >= 0 ? `${file}: byte ${offset}: ${problem}` : `${file}: ${problem}`)
    this.name = 'ScapFormatError'
  }
}

/** Read a capture into memory, gunzipping it when it starts with the gzip magic. */
export function readCaptureFile(path: string): Buffer {
  let buf = fs.readFileSync(path)
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf, {maxOutputLength: 2 ** 31 - 1})
    } catch (e) {
      throw new ScapFormatError(path, -1, `damaged gzip data (${(e as Error).message})`)
    }
  }
  return buf
}

export interface BlockInfo {
  type: number
  offset: number
  length: number
}

/**
 * Check the block framing of a whole capture before libscap sees it: the section header first, every block
 * length a multiple of 4, at least 12 bytes, inside the file, and repeated in the block trailer.
 */
export function validateFraming(file: string, buf: Buffer): BlockInfo[] {
  if (buf.length < 28) throw new ScapFormatError(file, -1, buf.length === 0 ? 'empty file' : 'too short to be a .scap capture')
  if (buf.readUInt32LE(0) !== SHB_BLOCK_TYPE || buf.readUInt32LE(8) !== SHB_MAGIC) throw new ScapFormatError(file, 0, 'not a .scap capture (no section header block)')
  const out: BlockInfo[] = []
  let off = 0
  while (off < buf.length) {
    if (off + 12 > buf.length) throw new ScapFormatError(file, off, 'truncated block header')
    const type = buf.readUInt32LE(off)
    const length = buf.readUInt32LE(off + 4)
    if (length < 12 || length % 4 !== 0) throw new ScapFormatError(file, off, `bad block length ${length}`)
    if (off + length > buf.length) throw new ScapFormatError(file, off, `truncated block (${length} bytes declared, ${buf.length - off} left)`)
    if (buf.readUInt32LE(off + length - 4) !== length) throw new ScapFormatError(file, off, 'block trailer does not match its header')
    out.push({type, offset: off, length})
    off += length
  }
  return out
}

export const EVT_HDR_SIZE = 26
/** `next()` results besides an offset. */
export const NEED_MORE = -1
export const END = -2

/**
 * V1 events carry no nparams, and old captures may carry fewer params than the table lists: like libscap, take the
 * largest count (up to the table's) whose lengths add up to the event length.
 */
function v1ParamCount(ev: Buffer, len: number, tableN: number, large: boolean): number {
  const lw = large ? 4 : 2
  for (let k = tableN; k > 0; k--) {
    let pos = EVT_HDR_SIZE + k * lw
    if (pos > len) continue
    for (let i = 0; i < k && pos <= len; i++) pos += large ? ev.readUInt32LE(EVT_HDR_SIZE + i * 4) : ev.readUInt16LE(EVT_HDR_SIZE + i * 2)
    if (pos === len) return k
  }
  return 0
}

function isEventBlock(type: number): boolean {
  return EV_V2.has(type) || EVF_V2.has(type) || EV_V1.has(type) || EVF_V1.has(type)
}

/** Chunks of a capture file, gunzipped when it starts with the gzip magic. */
async function* fileChunks(path: string, chunkBytes: number): AsyncGenerator<Buffer> {
  let fh: fs.promises.FileHandle | undefined = await fs.promises.open(path, 'r')
  try {
    const first = Buffer.alloc(chunkBytes)
    const {bytesRead} = await fh.read(first, 0, chunkBytes, 0)
    const head = first.subarray(0, bytesRead)
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      await fh.close()
      fh = undefined
      const src = fs.createReadStream(path, {highWaterMark: chunkBytes})
      const gunzip = zlib.createGunzip({chunkSize: 1 << 20})
      src.on('error', (e) => gunzip.destroy(e))
      src.pipe(gunzip)
      try {
        for await (const c of gunzip) yield c as Buffer
      } catch (e) {
        throw new ScapFormatError(path, -1, `damaged gzip data (${(e as Error).message})`)
      } finally {
        src.destroy()
        gunzip.destroy()
      }
      return
    }
    if (bytesRead > 0) yield head
    let pos = bytesRead
    for (;;) {
      const b = Buffer.allocUnsafe(chunkBytes)
      const r = await fh.read(b, 0, chunkBytes, pos)
      if (r.bytesRead === 0) return
      pos += r.bytesRead
      yield b.subarray(0, r.bytesRead)
    }
  } finally {
    await fh?.close()
  }
}

/**
 * Streams the blocks of a capture: `readHead()` checks the framing of the section header and the state blocks
 * (everything libscap's scap_open_offline parses) before libscap sees the file; `next()` then returns the events
 * one by one as zero-copy views over the current chunk (valid until the next call), `null` when the next block
 * needs more data (call `refill()`), and `undefined` at the end.
 */
export class EventBlockReader {
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0
  /** File offset of buf[0]. */
  private base = 0
  private eof = false
  private readonly chunks: AsyncGenerator<Buffer>
  /** Events whose type libscap does not know (>= its PPM_EVENT_MAX): skipped like libscap skips them. */
  skippedUnknown = 0
  /** Set when the capture ends inside a block or a block is damaged: reading stopped there. */
  damage: ScapFormatError | undefined
  private scratch = Buffer.alloc(65536)
  private sawShb = false
  /** The buffer the last event returned by `next()` lives in. */
  event: Buffer = Buffer.alloc(0)

  constructor(
    private readonly file: string,
    /** nparams per event type, from the event table (for V1 blocks). */
    private readonly tableParams: number[],
    chunkBytes = 4 << 20,
    /** EF_LARGE_PAYLOAD per event type (u32 param lengths). */
    private readonly largePayload?: boolean[],
  ) {
    this.chunks = fileChunks(file, chunkBytes)
  }

  /** Read more of the file; false at its end. */
  async refill(): Promise<boolean> {
    if (this.eof) return false
    const r = await this.chunks.next()
    if (r.done) {
      this.eof = true
      return false
    }
    const rest = this.buf.subarray(this.pos)
    this.base += this.pos
    this.buf = rest.length === 0 ? r.value : Buffer.concat([rest, r.value])
    this.pos = 0
    return true
  }

  /** Frame-check the blocks up to the first event block (the part libscap parses when opening). */
  async readHead(): Promise<void> {
    let off = 0
    for (;;) {
      while (this.buf.length - off < 12 && (await this.refill()));
      if (this.buf.length - off < 12) {
        if (this.buf.length === 0) throw new ScapFormatError(this.file, -1, 'empty file')
        if (!this.sawShb) throw new ScapFormatError(this.file, -1, 'too short to be a .scap capture')
        if (off === this.buf.length) return
        throw new ScapFormatError(this.file, this.base + off, 'truncated block header')
      }
      const type = this.buf.readUInt32LE(off)
      const length = this.buf.readUInt32LE(off + 4)
      if (!this.sawShb) {
        if (type !== SHB_BLOCK_TYPE || this.buf.readUInt32LE(8) !== SHB_MAGIC) throw new ScapFormatError(this.file, 0, 'not a .scap capture (no section header block)')
        this.sawShb = true
      }
      if (isEventBlock(type)) return
      if (length < 12 || length % 4 !== 0) throw new ScapFormatError(this.file, this.base + off, `bad block length ${length}`)
      while (this.buf.length - off < length && (await this.refill()));
      if (this.buf.length - off < length) throw new ScapFormatError(this.file, this.base + off, `truncated block (${length} bytes declared, ${this.buf.length - off} left)`)
      if (this.buf.readUInt32LE(off + length - 4) !== length) throw new ScapFormatError(this.file, this.base + off, 'block trailer does not match its header')
      off += length
    }
  }

  private stop(offset: number, problem: string): number {
    this.damage = new ScapFormatError(this.file, this.base + offset, problem)
    this.pos = this.buf.length
    this.eof = true
    return END
  }

  /** The next event as a view (ppm_evt_hdr + params), or null when more data is needed, or undefined at the end. */
  nextView(): Buffer | null | undefined {
    const at = this.next()
    if (at === NEED_MORE) return null
    if (at === END) return undefined
    return this.event.subarray(at, at + this.event.readUInt32LE(at + 16))
  }

  /**
   * The next event, without allocating: its offset in `this.event` (valid until the next call), or NEED_MORE
   * (call `refill()`), or END.
   */
  next(): number {
    const buf = this.buf
    const max = this.tableParams.length
    for (;;) {
      const offset = this.pos
      if (buf.length - offset < 12) {
        if (!this.eof) return NEED_MORE
        return offset === buf.length ? END : this.stop(offset, 'capture ends inside a block header')
      }
      const type = buf.readUInt32LE(offset)
      const length = buf.readUInt32LE(offset + 4)
      if (length < 12 || length % 4 !== 0) return this.stop(offset, `bad block length ${length}`)
      if (buf.length - offset < length) {
        if (!this.eof) return NEED_MORE
        return this.stop(offset, `capture ends inside a block (${length} bytes declared, ${buf.length - offset} left)`)
      }
      if (buf.readUInt32LE(offset + length - 4) !== length) return this.stop(offset, 'block trailer does not match its header')
      this.pos = offset + length
      const end = offset + length - 4
      let start: number
      let v1 = false
      // The common blocks first, by value (a Set lookup per block costs more than these compares).
      if (type === 0x216 || type === 0x221) start = offset + 10
      else if (type === 0x217 || type === 0x222) start = offset + 14
      else if (EV_V1.has(type)) {
        start = offset + 10
        v1 = true
      } else if (EVF_V1.has(type)) {
        start = offset + 14
        v1 = true
      } else continue
      const hdr = v1 ? EVT_HDR_SIZE - 4 : EVT_HDR_SIZE
      if (start + hdr > end) return this.stop(offset, 'event block too short for an event header')
      const len = buf.readUInt32LE(start + 16)
      if (len < hdr || start + len > end) return this.stop(offset, `event length ${len} does not fit its block`)
      const evType = buf.readUInt16LE(start + 20)
      if (evType >= max) {
        this.skippedUnknown++
        continue
      }
      if (!v1) {
        this.event = buf
        return start
      }
      // V1: insert nparams (from the table) after the 22-byte header, as libscap does.
      const n = len + 4
      if (this.scratch.length < n) this.scratch = Buffer.alloc(n * 2)
      const out = this.scratch
      buf.copy(out, 0, start, start + 22)
      out.writeUInt32LE(n, 16)
      buf.copy(out, 26, start + 22, start + len)
      out.writeUInt32LE(v1ParamCount(out, n, this.tableParams[evType], this.largePayload?.[evType] ?? false), 22)
      this.event = out
      return 0
    }
  }

  /** Stop reading (releases the file). */
  async close(): Promise<void> {
    await this.chunks.return(undefined)
  }
}
