// Traces built in memory for tests: written by our writer, or by avsc with a writer schema that is not ours
// (promotions, unknown fields, unions in any order, bytes where we expect strings), and read back in chunks.
import avro from 'avsc'
import {avscBigintLong} from '../../src/format/avro/avsc-long.js'
import {Sink} from '../../src/format/avro/binary.js'
import {TraceInput} from '../../src/format/reader.js'
import {SysFlowRecord} from '../../src/format/records.js'
import {bufferSink, TraceWriter, WriterOptions} from '../../src/format/writer.js'

/** `records` written by the project's TraceWriter. */
export async function written(records: SysFlowRecord[], opts: WriterOptions): Promise<Buffer> {
  const sink = bufferSink()
  const w = new TraceWriter(sink, opts)
  for (const r of records) await w.write(r)
  await w.close()
  return sink.result()
}

/** Input in chunks of `chunk` bytes (values then span chunk boundaries). */
export function chunked(name: string, buf: Buffer, chunk = 1 << 20): TraceInput {
  return {
    name,
    async *open() {
      for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk)
    },
  }
}

/** A container with `schema` and one null-codec block of `data` (avsc-encoded: longs exact, unions wrapped). */
export function container(schema: unknown, data: unknown[]): Buffer {
  const LongType = avscBigintLong as unknown as avro.Type
  const type = avro.Type.forSchema(schema as avro.Schema, {
    wrapUnions: true, registry: {long: LongType},
    typeHook: (x: avro.Schema) => (typeof x === 'object' && (x as {type?: unknown}).type === 'long' ? LongType : undefined),
  })
  const s = new Sink()
  s.writeRaw(Buffer.from('Obj\x01', 'latin1'))
  s.writeLong(2n)
  s.writeString('avro.schema')
  s.writeBytes(Buffer.from(JSON.stringify(schema)))
  s.writeString('avro.codec')
  s.writeBytes(Buffer.from('null'))
  s.writeLong(0n)
  const sync = Buffer.alloc(16, 0x5a)
  s.writeRaw(sync)
  const payload = Buffer.concat(data.map((d) => type.toBuffer(d)))
  s.writeLong(BigInt(data.length))
  s.writeLong(BigInt(payload.length))
  s.writeRaw(payload)
  s.writeRaw(sync)
  return Buffer.from(s.take())
}
