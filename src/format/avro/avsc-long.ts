// avsc's long type as an exact bigint (avsc's own decodes to a JS number and loses digits above 2^53). Not on our
// read path: it serves the independent avsc readers of the writer tests and the bench baseline.
import avro from 'avsc'

export const avscBigintLong = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const b = Buffer.alloc(8)
    b.writeBigInt64LE(n)
    return b
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
})
