// Arrow IPC output (file or stream format) of the `events` columns, written batch by batch into a byte sink with
// its backpressure honoured, so memory stays flat in the size of the trace.
import {RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter, Schema} from 'apache-arrow'
import {eventsRecordBatch} from '../arrow/index.js'
import {Joined} from '../join.js'
import {ByteSink} from '../writer.js'

/** View any chunk apache-arrow hands its sink as bytes (no copy). */
function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk)
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  throw new TypeError(`unexpected Arrow IPC chunk (${typeof chunk})`)
}

/**
 * apache-arrow's writers queue their bytes in an internal async queue that nothing drains while we produce. These
 * subclasses take the bytes as they are made instead (the writers' own `_write` hook, where the position used by
 * the file footer is kept), so each record batch can be handed to the sink, and waited for, before the next.
 */
interface Collecting {
  take(): Buffer | undefined
}

function collect(self: {_position: number; _started: boolean; chunks: Uint8Array[]; size: number}, chunk: unknown): void {
  if (!self._started) return
  const b = bytesOf(chunk)
  if (b.byteLength === 0) return
  self.chunks.push(b)
  self.size += b.byteLength
  self._position += b.byteLength
}

function take(self: {chunks: Uint8Array[]; size: number}): Buffer | undefined {
  if (self.size === 0) return undefined
  // One copy: the chunks are views of the batch's column buffers, which the sink must not keep.
  const out = Buffer.allocUnsafe(self.size)
  let at = 0
  for (const c of self.chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  self.chunks = []
  self.size = 0
  return out
}

/** A collecting subclass of one of apache-arrow's writers (file or stream: the same hook in both). */
function collecting<W extends typeof RecordBatchFileWriter | typeof RecordBatchStreamWriter>(Base: W) {
  return class extends (Base as typeof RecordBatchStreamWriter) implements Collecting {
    chunks: Uint8Array[] = []
    size = 0
    protected override _write(chunk: unknown): this {
      collect(this as unknown as Parameters<typeof collect>[0], chunk)
      return this
    }

    take(): Buffer | undefined {
      return take(this)
    }
  }
}

const CollectingFileWriter = collecting(RecordBatchFileWriter)
const CollectingStreamWriter = collecting(RecordBatchStreamWriter)

function sameFields(a: Schema, b: Schema): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i].name && String(f.type) === String(b.fields[i].type))
}

export interface ArrowIpcOptions {
  /** The IPC stream format (`.arrows`, for pipes) instead of the file format (`.arrow`, with a footer). */
  stream?: boolean
  /** Joined records -> one Arrow record batch (default: the `events` columns of src/format/arrow). */
  toRecordBatch?: (batch: Joined[]) => RecordBatch
}

/**
 * Write the batches as Arrow IPC into `sink` (closed at the end, also after an error). An empty input still
 * gives a valid file with the schema and no rows. Returns the number of rows written.
 */
export async function writeArrowIpc(batches: AsyncIterable<Joined[]>, sink: ByteSink, opts: ArrowIpcOptions = {}): Promise<{records: number}> {
  const toBatch = opts.toRecordBatch ?? eventsRecordBatch
  const writer = opts.stream ? new CollectingStreamWriter({autoDestroy: true}) : new CollectingFileWriter({autoDestroy: true})
  let records = 0
  let first = true
  const flush = async (): Promise<void> => {
    const bytes = writer.take()
    if (bytes) await sink.write(bytes)
  }
  try {
    let schema: Schema | undefined
    for await (const batch of batches) {
      const rb = toBatch(batch)
      // apache-arrow starts a new stream (closing this one) on a schema change: refuse that instead of losing rows.
      if (schema === undefined) schema = rb.schema
      else if (rb.schema !== schema && !sameFields(rb.schema, schema)) throw new Error('Arrow record batches with different schemas cannot go into one IPC output')
      writer.write(rb)
      first = false
      records += rb.numRows
      await flush()
    }
    // With no rows at all, one empty batch carries the schema.
    if (first) writer.write(toBatch([]))
    writer.finish()
    await flush()
    await sink.close()
  } catch (e) {
    await sink.close().catch(() => undefined)
    throw e
  }
  return {records}
}
