// Child process of the bench: convert one trace to Parquet (zstd, the defaults of `sysflow convert`) through the
// library, and report records/s and peak RSS as JSON on the last line of stdout.
//   node dist/bench/convert-parquet.js TRACE [--partition-by type,date]
// records: records read (all types, as read-join counts them); rows: event and flow rows written.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {convert, PartitionKey} from '../src/format/convert/index.js'
import {fileInput} from '../src/format/reader.js'
import {exportDuckDb, exportParquet} from '../src/query/export.js'

const file = process.argv[2]
if (!file) throw new Error('usage: convert-parquet.js TRACE [--partition-by KEYS]')
const at = process.argv.indexOf('--partition-by')
const partitionBy = at > 0 ? (process.argv[at + 1].split(',') as PartitionKey[]) : undefined
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-bench-parquet-'))
const output = path.join(dir, partitionBy ? 'dataset' : 'out.parquet')

function du(p: string): number {
  const st = fs.statSync(p)
  if (!st.isDirectory()) return st.size
  return fs.readdirSync(p).reduce((n, e) => n + du(path.join(p, e)), 0)
}

try {
  const t0 = process.hrtime.bigint()
  const r = await convert([fileInput(file)], {format: 'parquet', output, partitionBy, exporters: {parquet: exportParquet, duckdb: exportDuckDb}})
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  process.stdout.write(JSON.stringify({
    records: r.recordsIn, rows: r.recordsOut, seconds, bytes: fs.statSync(file).size, outputBytes: du(output),
    maxRssKiB: process.resourceUsage().maxRSS,
  }) + '\n')
} finally {
  fs.rmSync(dir, {recursive: true, force: true})
}
