// Avro object container framing: header (magic, metadata, sync marker) and blocks (count, size, payload, sync).
// Streams from any chunk source in bounded memory. A damaged block is skipped to the next sync marker and
// reported, or, in strict mode, thrown.
import zlib from 'node:zlib'
import {
  CorruptBlockError, EmptyInputError, NotAvroError, ReadWarning, TraceSchemaError, TruncatedInputError,
} from '../errors.js'
import {crc32, snappyUncompress} from './snappy.js'

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]) // "Obj\x01"
const SYNC_SIZE = 16
/** Larger blocks are taken as corrupt sizes (the collector writes about 80 kB; Java Avro 64 kB). */
export const MAX_BLOCK_BYTES = 256 * 1024 * 1024
/** Inflated payload cap: a deflate bomb ends as a corrupt block, not an out-of-memory. */
export const MAX_INFLATED_BYTES = 512 * 1024 * 1024
const MAX_METADATA_BYTES = 16 * 1024 * 1024

export type Codec = 'null' | 'deflate' | 'snappy'

export interface ContainerHeader {
  schemaJson: string
  codec: Codec
  metadata: Map<string, Buffer>
  sync: Buffer
  /** Size of the header in bytes (offset of the first block). */
  size: number
}

export interface Block {
  /** File offset of the block's first byte. */
  offset: number
  count: number
  /** Uncompressed payload. */
  data: Buffer
}

/** Pull-based byte window over an async chunk stream, with absolute offsets. */
export class ByteSource {
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0
  private base = 0 // absolute offset of buf[0]
  private done = false

  constructor(private readonly chunks: AsyncIterator<Buffer | Uint8Array | string>) {}

  get offset(): number {
    return this.base + this.pos
  }

  get available(): number {
    return this.buf.length - this.pos
  }

  /** Make at least n bytes available; false if the input ends first (what is there stays available). */
  async ensure(n: number): Promise<boolean> {
    while (this.buf.length - this.pos < n) {
      if (this.done) return false
      const next = await this.chunks.next()
      if (next.done) {
        this.done = true
        return false
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
      const rest = this.buf.subarray(this.pos)
      this.base += this.pos
      this.pos = 0
      this.buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk])
    }
    return true
  }

  async atEnd(): Promise<boolean> {
    return !(await this.ensure(1))
  }

  /** View of the next n bytes (call ensure first). */
  peek(n: number): Buffer {
    return this.buf.subarray(this.pos, this.pos + n)
  }

  skip(n: number): void {
    this.pos += n
  }

  /** Read a zigzag varint long as a number; undefined if the input ends inside it. Throws on an over-long one. */
  async readVarint(): Promise<number | undefined> {
    await this.ensure(10)
    let n = 0
    let mul = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) return undefined
      const b = this.buf[this.pos++]
      n += (b & 0x7f) * mul
      if (!(b & 0x80)) return n % 2 === 1 ? -(n + 1) / 2 : n / 2
      mul *= 128
    }
    return Number.NaN
  }

  /** Advance just past the next occurrence of `marker`; false if the input ends first. */
  async skipPast(marker: Buffer): Promise<boolean> {
    for (;;) {
      const i = this.buf.indexOf(marker, this.pos)
      if (i >= 0) {
        this.pos = i + marker.length
        return true
      }
      // Keep the tail that could start a marker split across chunks.
      this.pos = Math.max(this.pos, this.buf.length - (marker.length - 1))
      if (!(await this.ensure(this.available + 1))) {
        this.pos = this.buf.length
        return false
      }
    }
  }
}

/** Read and check the container header. */
export async function readHeader(src: ByteSource, file: string): Promise<ContainerHeader> {
  if (!(await src.ensure(4))) {
    if (src.available === 0) throw new EmptyInputError(file, 0, 'empty input: not a SysFlow trace')
    throw new NotAvroError(file, 0, `not an Avro object container file (only ${src.available} bytes)`)
  }
  if (!src.peek(4).equals(MAGIC)) {
    throw new NotAvroError(file, 0, `not an Avro object container file (starts with ${hexPreview(src.peek(4))}, expected 4f626a01 "Obj\\x01")`)
  }
  src.skip(4)
  const metadata = new Map<string, Buffer>()
  const truncated = () => new TruncatedInputError(file, src.offset, 'input ends inside the Avro header')
  let total = 0
  for (;;) {
    const at = src.offset
    let count = await src.readVarint()
    if (count === undefined) throw truncated()
    if (Number.isNaN(count)) throw new NotAvroError(file, at, 'malformed metadata count in the Avro header')
    if (count === 0) break
    if (count < 0) {
      count = -count
      if ((await src.readVarint()) === undefined) throw truncated()
    }
    if (count > 1024) throw new NotAvroError(file, at, `implausible metadata entry count ${count} in the Avro header`)
    for (let i = 0; i < count; i++) {
      const key = (await readBytes(src, file, total)).toString('utf8')
      const value = await readBytes(src, file, total)
      total += key.length + value.length
      metadata.set(key, value)
    }
  }
  if (!(await src.ensure(SYNC_SIZE))) throw truncated()
  const sync = Buffer.from(src.peek(SYNC_SIZE))
  src.skip(SYNC_SIZE)

  const schema = metadata.get('avro.schema')
  if (!schema) throw new TraceSchemaError(file, 4, 'the Avro header has no avro.schema entry')
  const codecName = metadata.get('avro.codec')?.toString('utf8') ?? 'null'
  if (codecName !== 'null' && codecName !== 'deflate' && codecName !== 'snappy') {
    throw new TraceSchemaError(file, 4, `unsupported Avro codec "${printable(codecName)}" (supported: null, deflate, snappy)`)
  }
  return {schemaJson: schema.toString('utf8'), codec: codecName, metadata, sync, size: src.offset}
}

async function readBytes(src: ByteSource, file: string, soFar: number): Promise<Buffer> {
  const at = src.offset
  const len = await src.readVarint()
  if (len === undefined) throw new TruncatedInputError(file, at, 'input ends inside the Avro header')
  if (Number.isNaN(len) || len < 0 || soFar + len > MAX_METADATA_BYTES) {
    throw new NotAvroError(file, at, `malformed Avro header (metadata length ${len})`)
  }
  if (!(await src.ensure(len))) throw new TruncatedInputError(file, at, 'input ends inside the Avro header')
  const out = Buffer.from(src.peek(len))
  src.skip(len)
  return out
}

export interface BlockReadOptions {
  strict?: boolean
  onWarning?: (w: ReadWarning) => void
}

/**
 * The blocks of a container after its header. Damage handling:
 * - a bad sync marker or an impossible count/size: skip to the next sync marker (warning, or CorruptBlockError);
 * - payload that does not decompress: skip that block (its records are counted as lost);
 * - input that ends inside a block: TruncatedInputError, after every complete block has been yielded.
 */
export async function* readBlocks(src: ByteSource, header: ContainerHeader, file: string, opts: BlockReadOptions = {}): AsyncGenerator<Block> {
  const {sync, codec} = header
  const damaged = async (offset: number, problem: string, records: number, resync: boolean): Promise<void> => {
    if (opts.strict) throw new CorruptBlockError(file, offset, problem)
    const found = resync ? await src.skipPast(sync) : true
    const skippedBytes = src.offset - offset
    opts.onWarning?.({
      file, offset, skippedRecords: records, skippedBytes,
      message: `${problem}; skipped ${skippedBytes} bytes${records ? ` (${records} records)` : ''}${found ? '' : ' to the end of the input (no further sync marker)'}`,
    })
  }

  while (!(await src.atEnd())) {
    const offset = src.offset
    const count = await src.readVarint()
    const size = count === undefined ? undefined : await src.readVarint()
    if (count === undefined || size === undefined) {
      throw new TruncatedInputError(file, offset, 'input ends inside a block header')
    }
    if (Number.isNaN(count) || Number.isNaN(size) || count < 0 || size < 0 || size > MAX_BLOCK_BYTES || count > Math.max(size, 1) * 64) {
      await damaged(offset, `corrupt block header (count ${count}, size ${size})`, 0, true)
      continue
    }
    if (!(await src.ensure(size + SYNC_SIZE))) {
      // Either the file was cut, or the size is corrupt and a later sync marker exists: look for one.
      const left = src.available
      if (!opts.strict && (await src.skipPast(sync))) {
        opts.onWarning?.({file, offset, skippedRecords: 0, skippedBytes: src.offset - offset, message: `corrupt block (size ${size} runs past the end); skipped to the next sync marker`})
        continue
      }
      throw new TruncatedInputError(file, offset, `truncated block: ${count} records in ${size} bytes declared, only ${left} bytes left`)
    }
    const raw = src.peek(size)
    let markerDamaged = false
    if (!src.peek(size + SYNC_SIZE).subarray(size).equals(sync)) {
      // Either only the 16 marker bytes are damaged (a well-formed block follows right after them: keep both),
      // or the size is wrong (scan to the next marker; scanning blindly would also swallow the next block).
      if (opts.strict || !(await wellFormedBlockAt(src, size + SYNC_SIZE, sync))) {
        await damaged(offset, 'corrupt block: sync marker does not match', 0, true)
        continue
      }
      markerDamaged = true
    }
    src.skip(size + SYNC_SIZE)
    let data: Buffer
    try {
      data = decompress(codec, raw)
    } catch (e) {
      await damaged(offset, `corrupt block: ${codec} payload does not decompress (${(e as Error).message})`, count, false)
      continue
    }
    if (markerDamaged) {
      opts.onWarning?.({file, offset, skippedRecords: 0, skippedBytes: 0, message: 'the sync marker after this block is damaged; the block itself was read'})
    }
    yield {offset, count, data}
  }
}

/** Is there a well-formed block (plausible count and size, matching sync marker) `at` bytes ahead, or the end? */
async function wellFormedBlockAt(src: ByteSource, at: number, sync: Buffer): Promise<boolean> {
  if (!(await src.ensure(at + 1))) return src.available === at
  await src.ensure(at + 20)
  const view = src.peek(Math.min(src.available, at + 20)).subarray(at)
  let pos = 0
  const varint = (): number | undefined => {
    let n = 0
    for (let mul = 1; pos < view.length && mul < 2 ** 63; mul *= 128) {
      const b = view[pos++]
      n += (b & 0x7f) * mul
      if (!(b & 0x80)) return n % 2 === 1 ? -(n + 1) / 2 : n / 2
    }
    return undefined
  }
  const count = varint()
  const size = varint()
  if (count === undefined || size === undefined || count < 0 || size < 0 || size > MAX_BLOCK_BYTES) return false
  const end = at + pos + size
  if (!(await src.ensure(end + SYNC_SIZE))) return false
  return src.peek(end + SYNC_SIZE).subarray(end).equals(sync)
}

function decompress(codec: Codec, raw: Buffer): Buffer {
  switch (codec) {
    case 'null':
      // Copy: the window's buffer is reused as more input arrives.
      return Buffer.from(raw)
    case 'deflate':
      // An output chunk big enough for the whole block (SysFlow deflates about 3-4x) saves zlib's concatenation.
      return zlib.inflateRawSync(raw, {maxOutputLength: MAX_INFLATED_BYTES, chunkSize: Math.min(Math.max(raw.length * 4, 1 << 16), 1 << 22)})
    case 'snappy': {
      // Avro frames snappy as payload + big-endian CRC32 of the uncompressed data.
      if (raw.length < 4) throw new Error('snappy block shorter than its checksum')
      const out = snappyUncompress(raw.subarray(0, raw.length - 4), MAX_INFLATED_BYTES)
      if (crc32(out) !== raw.readUInt32BE(raw.length - 4)) throw new Error('snappy CRC32 mismatch')
      return out
    }
  }
}

/** Blame a decoding failure inside a block on the block (strict: throw; else warn). */
export function blockDecodeFailure(file: string, block: Block, problem: string, strict: boolean | undefined): ReadWarning {
  if (strict) throw new CorruptBlockError(file, block.offset, problem)
  return {file, offset: block.offset, skippedRecords: block.count, skippedBytes: 0, message: `${problem}; skipped the block (${block.count} records)`}
}

function hexPreview(b: Buffer): string {
  return b.toString('hex')
}

/** Make a trace-supplied string safe for a one-line message. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
