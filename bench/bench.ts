// npm run bench: builds large traces with the project's writer, then measures each stage in a fresh child process
// (so peak RSS is the stage's own) and prints a Markdown table. Figures are for notes, never for tests.
//   SYSFLOW_BENCH_RECORDS=2000000 (the largest size; half of it is measured too, to show RSS is flat in size)
import {spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {loadSources, writeBenchTrace} from './generate.js'

const root = process.cwd()
const here = path.dirname(new URL(import.meta.url).pathname)
const largest = Number(process.env.SYSFLOW_BENCH_RECORDS ?? 2_000_000)
const sizes = [Math.floor(largest / 2), largest]
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-bench-'))

interface Row {
  stage: string
  records: number
  seconds: number
  bytes: number
  maxRssKiB: number
  note?: string
}

function child(script: string, args: string[]): Row & Record<string, unknown> {
  const r = spawnSync(process.execPath, [path.join(here, script), ...args], {encoding: 'utf8', maxBuffer: 1 << 20})
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

/** Run the real CLI with stdout to /dev/null; peak RSS from /proc (VmHWM), polled until it exits. */
async function cli(args: string[]): Promise<{seconds: number; maxRssKiB: number}> {
  const out = fs.openSync('/dev/null', 'w')
  const t0 = process.hrtime.bigint()
  const p = spawn(process.execPath, [path.join(root, 'bin/run.js'), ...args], {stdio: ['ignore', out, 'inherit']})
  let hwm = 0
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'))
      if (m) hwm = Math.max(hwm, Number(m[1]))
    } catch {
      // exited between polls
    }
  }, 20)
  const code = await new Promise<number | null>((resolve) => p.on('exit', resolve))
  clearInterval(poll)
  fs.closeSync(out)
  if (code !== 0) throw new Error(`sysflow ${args.join(' ')} exited ${code}`)
  return {seconds: Number(process.hrtime.bigint() - t0) / 1e9, maxRssKiB: hwm}
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', {maximumFractionDigits: d, minimumFractionDigits: d})

async function main(): Promise<void> {
  const {from, sources} = await loadSources(path.resolve(root, '../shared/traces'), path.resolve(root, 'test/fixtures'))
  console.error(`bench: replaying ${sources.reduce((n, s) => n + s.records.length, 0)} records of ${sources.length} traces from ${from}`)
  const rows: Row[] = []
  const files: string[] = []
  for (const size of sizes) {
    const file = path.join(dir, `bench-${size}.sf`)
    const t0 = process.hrtime.bigint()
    const n = await writeBenchTrace(file, sources, size)
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    rows.push({stage: 'write (TraceWriter, deflate)', records: n, seconds, bytes: fs.statSync(file).size, maxRssKiB: process.resourceUsage().maxRSS, note: 'in the bench process'})
    files.push(file)
  }
  const readJoin = files.map((file) => ({...child('read-join.js', [file]), stage: 'read+join (library)'}))
  rows.push(...readJoin)
  const base: Row = {...child('avsc-baseline.js', [files[files.length - 1]]), stage: 'baseline: avsc file decoder, bigint longs'}
  rows.push(base)
  for (const [i, file] of files.entries()) {
    rows.push({stage: 'sysflow print -o flatjson > /dev/null', records: readJoin[i].records, bytes: readJoin[i].bytes, ...(await cli(['print', '-o', 'flatjson', file]))})
  }

  const rate = (r: Row) => r.records / r.seconds
  console.log(`\n### sysflow bench (${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${from === path.resolve(root, 'test/fixtures') ? 'fixtures' : 'real traces'} replayed)\n`)
  console.log('| stage | records | seconds | records/s | MB/s | peak RSS MiB |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    console.log(`| ${r.stage} | ${fmt(r.records)} | ${fmt(r.seconds, 2)} | ${fmt(rate(r))} | ${fmt(r.bytes / 1e6 / r.seconds, 1)} | ${fmt(r.maxRssKiB / 1024, 0)} |`)
  }
  const last = readJoin[readJoin.length - 1]
  console.log(`\nread+join vs the avsc baseline on the same file: ${(rate(last) / rate(base)).toFixed(2)}x; vs the issue's stated baseline (640,000 records/s): ${(rate(last) / 640_000).toFixed(2)}x; target 1,000,000 records/s: ${rate(last) >= 1_000_000 ? 'met' : 'NOT met'}`)
  console.log(`peak RSS of read+join at ${fmt(readJoin[0].records)} vs ${fmt(last.records)} records: ${fmt(readJoin[0].maxRssKiB / 1024)} vs ${fmt(last.maxRssKiB / 1024)} MiB`)
  fs.rmSync(dir, {recursive: true, force: true})
}

await main()
