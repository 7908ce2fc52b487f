// Child process of the bench: the naive baseline the issue quotes, avsc's own file decoder with bigint longs.
import fs from 'node:fs'
import avro from 'avsc'
import {avscBigintLong} from '../src/format/avro/avsc-long.js'

const file = process.argv[2]
const longType = avscBigintLong
const t0 = process.hrtime.bigint()
let records = 0
await new Promise<void>((resolve, reject) => {
  // parseHook may return a Type: avsc then uses it as the writer type.
  const parseHook = (schema: avro.Schema) => avro.Type.forSchema(schema, {registry: {long: longType}, wrapUnions: true}) as unknown as avro.Schema
  avro.createFileDecoder(file, {parseHook} as unknown as Parameters<typeof avro.createFileDecoder>[1])
    .on('data', () => records++)
    .on('end', resolve)
    .on('error', reject)
})
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
process.stdout.write(JSON.stringify({records, seconds, bytes: fs.statSync(file).size, maxRssKiB: process.resourceUsage().maxRSS}) + '\n')
