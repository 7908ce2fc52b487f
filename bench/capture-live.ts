// Live eBPF capture bench (root, or CAP_BPF + CAP_PERFMON): a load generator's syscalls/s bare and under capture,
// the probe records/s the capture keeps up with, its drops, and the capture's RSS at start and end. The load is
// `dd bs=1` from /dev/zero to /dev/null: a read and a write per byte, both traced (one record each).
//   node dist/bench/capture-live.js [SECONDS=10]       prints a Markdown table, then the row as one JSON line
//   node dist/bench/capture-live.js --soak [SECONDS=300]
//     a steady workload (a shell loop that forks short-lived processes, rewrites files, and reads them) under
//     capture for SECONDS: the capture's RSS every 10 s, to show it stays flat (exited processes and idle flows
//     pruned); prints the samples, then a JSON row.
import {spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const RUN = path.resolve('bin/run.js')
const soak = process.argv[2] === '--soak'
const seconds = Number((soak ? process.argv[3] : process.argv[2]) ?? (soak ? 300 : 10))

function dd(count: number): number {
  const t0 = process.hrtime.bigint()
  const r = spawnSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${count}`], {stdio: 'ignore'})
  if (r.status !== 0) throw new Error('dd failed')
  return Number(process.hrtime.bigint() - t0) / 1e9
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : 0
}

/** Start a capture to `out`; resolves once it says it has started. */
async function startCapture(out: string): Promise<{cap: ReturnType<typeof spawn>; err: () => string}> {
  const cap = spawn(process.execPath, [RUN, 'capture', '--driver', 'ebpf', '--stats', '-o', out], {stdio: ['ignore', 'ignore', 'pipe']})
  let err = ''
  cap.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  await new Promise<void>((resolve, reject) => {
    const iv = setInterval(() => {
      if (err.includes('started')) {
        clearInterval(iv)
        resolve()
      }
      if (cap.exitCode !== null) {
        clearInterval(iv)
        reject(new Error(`capture failed: ${err}`))
      }
    }, 20)
  })
  return {cap, err: () => err}
}

async function soakRun(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-live-soak-'))
  const out = path.join(dir, 'soak.sf')
  const work = path.join(dir, 'work')
  fs.mkdirSync(work)
  const {cap, err} = await startCapture(out)
  // Steady: new processes all the time (each exits), files rewritten and read, a few thousand syscalls/s.
  const load = spawn('sh', ['-c', 'i=0; while :; do i=$((i+1)); echo $i > f$((i % 50)); cat f$((i % 50)) > /dev/null; done'], {cwd: work, stdio: 'ignore'})
  const samples: {sec: number; rssKiB: number}[] = []
  try {
    const t0 = Date.now()
    for (let s = 0; s <= seconds; s += 10) {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + s * 1000 - Date.now())))
      samples.push({sec: s, rssKiB: rssKiB(cap.pid!)})
      console.log(`${s} s: RSS ${samples.at(-1)!.rssKiB} KiB`)
    }
  } finally {
    load.kill('SIGKILL')
  }
  await new Promise((r) => {
    cap.once('exit', r)
    cap.kill('SIGINT')
  })
  const m = /(\d+) events, (\d+) records written, .* (\d+) probe records, (\d+) drops/.exec(err())
  const after10 = samples.find((x) => x.sec === 10) ?? samples[0]
  const row = {soakSeconds: seconds, rssStartKiB: samples[0].rssKiB, rssAt10sKiB: after10.rssKiB, rssEndKiB: samples.at(-1)!.rssKiB,
    rssMaxKiB: Math.max(...samples.map((x) => x.rssKiB)), events: m ? Number(m[1]) : null, records: m ? Number(m[2]) : null,
    probeRecords: m ? Number(m[3]) : null, drops: m ? Number(m[4]) : null, outputBytes: fs.statSync(out).size}
  fs.rmSync(dir, {recursive: true, force: true})
  console.log(JSON.stringify(row))
}

async function main(): Promise<void> {
  // bare: calibrate the count so the bare run lasts about a second, then size the measured runs to `seconds`
  const probe = dd(200_000)
  const bareRate = (2 * 200_000) / probe
  const count = Math.round((bareRate * seconds) / 2)
  const bareSec = dd(count)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-live-bench-'))
  const out = path.join(dir, 'bench.sf')
  const {cap, err} = await startCapture(out)
  try {
    const rss0 = rssKiB(cap.pid!)
    const capSec = dd(count)
    const rss1 = rssKiB(cap.pid!)
    const t0 = process.hrtime.bigint()
    await new Promise((r) => {
      cap.once('exit', r)
      cap.kill('SIGINT')
    })
    const drainSec = Number(process.hrtime.bigint() - t0) / 1e9
    const m = /(\d+) events, (\d+) records written, .* (\d+) probe records, (\d+) drops/.exec(err())
    if (!m) throw new Error(`no stats from the capture: ${err()}`)
    const probeRecords = Number(m[3])
    const drops = Number(m[4])
    const row = {
      syscalls: 2 * count, bareSyscallsPerSec: Math.round((2 * count) / bareSec), capturedSyscallsPerSec: Math.round((2 * count) / capSec),
      ratio: Number((bareSec / capSec).toFixed(3)), probeRecords, probeRecordsPerSec: Math.round(probeRecords / (capSec + drainSec)),
      drops, drainSec: Number(drainSec.toFixed(2)), rssStartKiB: rss0, rssEndKiB: rss1, loadSeconds: Number(capSec.toFixed(2)),
    }
    console.log('| load (dd bs=1) | syscalls/s | ratio | probe records/s | drops | capture RSS start -> end |')
    console.log('|---|---|---|---|---|---|')
    console.log(`| bare | ${row.bareSyscallsPerSec} | 1 | | | |`)
    console.log(`| under capture | ${row.capturedSyscallsPerSec} | ${row.ratio} | ${row.probeRecordsPerSec} | ${drops} | ${rss0} -> ${rss1} KiB |`)
    // last line: the row as JSON, for bench.ts's child() (it parses the last line of a stage's output)
    console.log(JSON.stringify(row))
  } finally {
    if (cap.exitCode === null) cap.kill('SIGKILL')
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

await (soak ? soakRun() : main())
