// An Avro container written by avsc rather than our writer: for traces with a writer schema that is not ours
// (promotions, unknown fields, unions in any order, bytes where we expect strings).
import avro from 'avsc'
import {avscBigintLong} from '../../src/format/avro/avsc-long.js'
import {Sink} from '../../src/format/avro/binary.js'

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
