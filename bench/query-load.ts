// Child process of the bench: load one trace into an in-memory DuckDB through the query loader (worker threads as
// `sysflow query` would use them), then time `select proc_exe, count(*) from events group by proc_exe`.
// Prints JSON: records (of every type), seconds (the load), groupBySeconds, bytes, maxRssKiB.
//   node dist/bench/query-load.js FILE [WORKERS]
import fs from 'node:fs'
import {fileInput} from '../src/format/reader.js'
import {loadTraces, QuerySession} from '../src/query/index.js'

const file = process.argv[2]
const workers = process.argv[3] === undefined ? undefined : Number(process.argv[3])
const session = await QuerySession.open()
try {
  const load = await loadTraces(session, [fileInput(file)], {workers, onWarning: (w) => process.stderr.write(`warning: ${w.message}\n`)})
  const t0 = process.hrtime.bigint()
  const r = await session.connection.runAndReadAll('select proc_exe, count(*) from events group by proc_exe')
  const groupBySeconds = Number(process.hrtime.bigint() - t0) / 1e9
  process.stdout.write(JSON.stringify({
    records: load.records, events: load.events, groups: r.getRows().length, seconds: load.seconds, groupBySeconds,
    bytes: fs.statSync(file).size, maxRssKiB: process.resourceUsage().maxRSS,
  }) + '\n')
} finally {
  session.close()
}
