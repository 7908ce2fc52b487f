// Compare `sysflow capture` with the SysFlow collector on the golden pairs (<case>/<name>.scap + <name>.sf):
// per record type the counts, and record by record the key fields. Usage:
//   node dist/tools/compare-collector.js [--default] [--verbose] [DIR]    (DIR defaults to ../shared/traces/collector)
// Exit code 0 when every pair agrees on every record, 1 otherwise.
import fs from 'node:fs'
import path from 'node:path'
import {captureRecords} from '../src/capture/index.js'
import {compareRecords} from '../src/capture/compare.js'
import {fileInput, readTrace} from '../src/format/reader.js'
import {SysFlowRecord} from '../src/format/records.js'

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = []
  for await (const b of it) for (const r of b) out.push(r)
  return out
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const verbose = args.includes('--verbose')
  const compat = !args.includes('--default')
  const dir = args.find((a) => !a.startsWith('--')) ?? path.resolve('../shared/traces/collector')
  const pairs: [string, string][] = []
  for (const c of fs.readdirSync(dir).sort()) {
    const d = path.join(dir, c)
    if (!fs.statSync(d).isDirectory()) continue
    for (const f of fs.readdirSync(d).sort()) if (f.endsWith('.scap') && fs.existsSync(path.join(d, f.replace(/\.scap$/, '.sf')))) pairs.push([path.join(d, f), path.join(d, f.replace(/\.scap$/, '.sf'))])
  }
  let allAgree = true
  let tg = 0
  let tm = 0
  console.log(`| pair | per type: ours/collector (matching) | event records matching |`)
  console.log(`|---|---|---|`)
  for (const [scap, sf] of pairs) {
    const ours = await collect(captureRecords(scap, {exporter: 'tests', compat: compat ? 'collector' : undefined}))
    const theirs: SysFlowRecord[] = []
    for await (const b of readTrace(fileInput(sf))) theirs.push(...b.records)
    const a = compareRecords(ours, theirs)
    const types = a.types.map((t) => `${t.type} ${t.ours}/${t.theirs} (${t.matching})`).join(', ')
    const agree = a.types.every((t) => t.ours === t.theirs && t.matching === t.theirs)
    allAgree &&= agree
    tg += a.goldenEvents
    tm += a.matchingEvents
    console.log(`| ${path.relative(dir, scap)} | ${types} | ${a.matchingEvents}/${a.goldenEvents}${agree ? '' : ' ✗'} |`)
    if (verbose && !agree) {
      for (const s of a.onlyTheirs) console.log(`    collector only: ${s}`)
      for (const s of a.onlyOurs) console.log(`    ours only:      ${s}`)
    }
  }
  console.log(`\ntotal event records matching: ${tm}/${tg}`)
  return allAgree ? 0 : 1
}

main().then((c) => (process.exitCode = c), (e) => {
  console.error(`compare-collector: ${(e as Error).message}`)
  process.exitCode = 2
})
