// Child process of the bench: read and join one trace into columns (src/format/columnar), report records/s, MB/s
// and peak RSS as JSON, like read-join.ts does for the row path.
import fs from 'node:fs'
import {joinedColumns} from '../src/format/columnar/read.js'
import {PipelineStats} from '../src/format/pipeline.js'
import {fileInput} from '../src/format/reader.js'

const file = process.argv[2]
const stats = new PipelineStats()
const t0 = process.hrtime.bigint()
let events = 0
for await (const j of joinedColumns([fileInput(file)], {}, stats)) {
  // Touch the join's result per record so it cannot be optimised away (as read-join.ts does).
  const ctx = j.ctx
  for (let i = 0; i < ctx.length; i++) if (ctx[i] >= 0) events++
  j.release()
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage()
process.stdout.write(JSON.stringify({records: stats.records, events: stats.events, joinedWithProcess: events, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, bytes: fs.statSync(file).size, maxRssKiB: process.resourceUsage().maxRSS}) + '\n')
