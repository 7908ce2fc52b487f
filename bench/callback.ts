// Child process of the bench: the library's consumer API (SysFlowDriver, LibSysFlow's callback) over one trace,
// to compare with read+join: records/s through the callback, MB/s and peak RSS as JSON.
import fs from 'node:fs'
import {SysFlowDriver} from '../src/index.js'

const file = process.argv[2]
const t0 = process.hrtime.bigint()
let withProcess = 0
const driver = new SysFlowDriver({
  input: file,
  // Touch a resolved entity per record so the join cannot be optimised away (as read-join.ts does).
  callback: (_h, _c, proc) => {
    if (proc !== undefined) withProcess++
  },
})
const stats = await driver.run()
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const records = Object.values(stats.counts).reduce((n, k) => n + (k ?? 0), 0)
process.stdout.write(JSON.stringify({records, events: stats.records, joinedWithProcess: withProcess, seconds, bytes: fs.statSync(file).size, maxRssKiB: process.resourceUsage().maxRSS}) + '\n')
