// Child process of the bench: read and join one trace, report records/s, MB/s and peak RSS as JSON.
import fs from 'node:fs'
import {joinedBatches, PipelineStats} from '../src/format/pipeline.js'
import {fileInput} from '../src/format/reader.js'

const file = process.argv[2]
const stats = new PipelineStats()
const t0 = process.hrtime.bigint()
let events = 0
for await (const batch of joinedBatches([fileInput(file)], {}, stats)) {
  // Touch a joined field per record so the join cannot be optimised away.
  for (const j of batch) if (j.proc !== undefined) events++
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
process.stdout.write(JSON.stringify({records: stats.records, events: stats.events, joinedWithProcess: events, seconds, bytes: fs.statSync(file).size, maxRssKiB: process.resourceUsage().maxRSS}) + '\n')
