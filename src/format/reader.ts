// Streaming SysFlow reader: container blocks -> typed records, one batch per block, in bounded memory.
// Every file is decoded with the writer schema embedded in it.
import fs from 'node:fs'
import {Readable} from 'node:stream'
import {ByteSource, blockDecodeFailure, printable, readBlocks, readHeader} from './avro/container.js'
import {compileWriterSchema, RecDecoder, SchemaError} from './avro/compile.js'
import {Cursor, DecodeError} from './avro/binary.js'
import {ReadWarning, TraceError, TraceSchemaError} from './errors.js'
import {SysFlowRecord} from './records.js'
import {TraceWriter} from './writer.js'

/** Something to read: a display name and a way to get its bytes. */
export interface TraceInput {
  name: string
  open(): AsyncIterable<Buffer | Uint8Array | string>
}

export function fileInput(path: string): TraceInput {
  return {name: path, open: () => fs.createReadStream(path, {highWaterMark: 1 << 20})}
}

export function streamInput(name: string, stream: NodeJS.ReadableStream | Readable): TraceInput {
  return {name, open: () => stream as AsyncIterable<Buffer>}
}

export function bufferInput(name: string, buf: Buffer): TraceInput {
  return {
    name,
    async *open() {
      yield buf
    },
  }
}

/**
 * An input made of records rather than bytes (a .scap capture turned into SysFlow, say): they are encoded as a
 * .sf stream (null codec, nothing to inflate) so that they take exactly the path every trace takes.
 */
export function recordsInput(name: string, records: () => AsyncIterable<SysFlowRecord[]>): TraceInput {
  return {
    name,
    async *open() {
      const chunks: Buffer[] = []
      const writer = new TraceWriter({write: (c) => void chunks.push(c), close: async () => undefined}, {codec: 'null', blockBytes: 1 << 18})
      for await (const batch of records()) {
        for (const r of batch) writer.write(r)
        while (chunks.length > 0) yield chunks.shift()!
      }
      await writer.close()
      while (chunks.length > 0) yield chunks.shift()!
    },
  }
}

export interface ReadOptions {
  /** Fail on the first damaged block instead of skipping it. */
  strict?: boolean
  /** Called for everything recovered from (skipped blocks, unknown record types). */
  onWarning?: (w: ReadWarning) => void
  /** Called once per input after its header was read: the writer schema (JSON text) and codec. */
  onOpen?: (info: {file: string; schemaJson: string; codec: string}) => void
}

/** Counters kept while reading; the reader fills them in as it goes. */
export class ReadStats {
  files = 0
  blocks = 0
  records = 0
  bytes = 0
  skippedBlocks = 0
  skippedRecords = 0
}

export interface TraceBatch {
  /** The input the records come from. */
  file: string
  /** File offset of the block they were decoded from. */
  offset: number
  records: SysFlowRecord[]
}

/**
 * Read one trace: yields one batch of typed records per block. Damaged blocks become warnings (or, with
 * `strict`, a CorruptBlockError); a trace that ends early throws TruncatedInputError after every complete block.
 */
export async function* readTrace(input: TraceInput, opts: ReadOptions = {}, stats = new ReadStats()): AsyncGenerator<TraceBatch> {
  for await (const b of readDecoded(input, opts, stats, decodeRecords)) yield {file: b.file, offset: b.offset, records: b.value}
}

/** The row decoding of one block: typed records, members we do not read left out. */
function decodeRecords(decode: RecDecoder, c: Cursor, count: number): {value: SysFlowRecord[]; records: number} {
  const records: SysFlowRecord[] = []
  for (let i = 0; i < count; i++) {
    const r = decode(c) as SysFlowRecord | undefined
    if (r !== undefined) records.push(r)
  }
  return {value: records, records: records.length}
}

/**
 * How a block's payload is decoded (rows, or columns: ./columnar): `records` is how many records it read (members
 * we do not read are not counted). A DecodeError (or RangeError, TypeError) drops the block with a warning.
 */
export type BlockDecoder<T> = (decode: RecDecoder, c: Cursor, count: number) => {value: T; records: number}

/** readTrace with a block decoder of one's own: the framing, warnings and errors of readTrace. */
export async function* readDecoded<T>(
  input: TraceInput, opts: ReadOptions, stats: ReadStats, decodeBlock: BlockDecoder<T>,
): AsyncGenerator<{file: string; offset: number; value: T}> {
  const file = input.name
  const warn = (w: ReadWarning) => {
    stats.skippedRecords += w.skippedRecords
    stats.skippedBlocks++
    opts.onWarning?.(w)
  }
  const chunks = input.open()[Symbol.asyncIterator]()
  const src = new ByteSource(chunks)
  try {
    const header = await readHeader(src, file)
    let decode
    try {
      decode = compileWriterSchema(header.schemaJson)
    } catch (e) {
      if (e instanceof SchemaError) throw new TraceSchemaError(file, 4, printable(e.message))
      throw e
    }
    stats.files++
    opts.onOpen?.({file, schemaJson: header.schemaJson, codec: header.codec})
    // Writer fields that cannot be read as ours are left empty: said once per file (no record is lost).
    for (const note of decode.notes) opts.onWarning?.({file, offset: -1, skippedRecords: 0, skippedBytes: 0, message: printable(note)})
    for await (const block of readBlocks(src, header, file, {strict: opts.strict, onWarning: warn})) {
      const c: Cursor = {buf: block.data, pos: 0, end: block.data.length}
      let decoded: {value: T; records: number}
      try {
        decoded = decodeBlock(decode, c, block.count)
        if (c.pos !== c.end) {
          throw new DecodeError(c.pos > c.end ? 'records run past the end of the block' : `${c.end - c.pos} bytes left over after ${block.count} records`, c.pos)
        }
      } catch (e) {
        if (!(e instanceof DecodeError || e instanceof RangeError || e instanceof TypeError)) throw e
        const where = e instanceof DecodeError ? ` at byte ${e.pos} of the uncompressed block` : ''
        warn(blockDecodeFailure(file, block, `corrupt block: ${printable(e.message)}${where}`, opts.strict))
        continue
      }
      stats.blocks++
      stats.records += decoded.records
      stats.bytes = src.offset
      yield {file, offset: block.offset, value: decoded.value}
    }
    stats.bytes = src.offset
    for (const [i, n] of decode.skipped.entries()) {
      if (n === 0) continue
      const name = printable(decode.branchNames[i])
      const why = decode.branchWhy[i]
      // One warning per file and writer member, with its count (the member's bytes were decoded and dropped).
      const message = decode.branchKinds[i] < 0 && why.startsWith('a record type')
        ? `skipped ${n} records of a record type this version does not know (${name})`
        : `skipped ${n} records of ${name}: ${printable(why)}`
      opts.onWarning?.({file, offset: -1, skippedRecords: n, skippedBytes: 0, message, unreadableType: true})
      stats.skippedRecords += n
    }
  } catch (e) {
    if (e instanceof Error && !(e instanceof TraceError) && 'code' in e) {
      // File system errors (ENOENT, EISDIR, EACCES) carry the path already; name it our way.
      throw new TraceError(file, -1, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e.message)
    }
    throw e
  } finally {
    await chunks.return?.()
  }
}

/** Read several traces in order. A failing input is reported through `onError` and reading goes on (strict: throws). */
export async function* readTraces(
  inputs: readonly TraceInput[],
  opts: ReadOptions & {onError?: (e: TraceError) => void} = {},
  stats = new ReadStats(),
): AsyncGenerator<TraceBatch> {
  for (const input of inputs) {
    try {
      yield* readTrace(input, opts, stats)
    } catch (e) {
      if (opts.strict || !(e instanceof TraceError) || !opts.onError) throw e
      opts.onError(e)
    }
  }
}
