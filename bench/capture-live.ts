// Live eBPF capture bench (root, or CAP_BPF + CAP_PERFMON): two loads, each bare and under capture.
//  - `dd bs=1` from /dev/zero to /dev/null: a read and a write per byte, the cheapest traced calls there are, so
//    the probe's cost per call shows as the workload's slowdown (syscalls/s bare and captured: the ratio). The
//    probe counts reads and writes in the kernel, so few records cross to user space here.
//  - an open/close loop (perl): every open and every close is a record of its own with a path to read, decode and
//    map (a File, a FileFlow), so it measures the records/s the capture keeps up with, and its drops.
// Also the capture's RSS at start and end.
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

/** `n` iterations of open + close of one file (two traced calls, two probe records): seconds taken. */
function opens(n: number): number {
  const t0 = process.hrtime.bigint()
  const r = spawnSync('perl', ['-e', 'for (1..$ARGV[0]) { open(my $f, "<", "/etc/hostname") or die; close($f) }', String(n)], {stdio: 'ignore'})
  if (r.status !== 0) throw new Error('perl failed')
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

interface LoadRow {
  bareCallsPerSec: number
  capturedCallsPerSec: number
  ratio: number
  /** The collector's events (two per call, as a .scap holds them) per second of load, and the probe's records. */
  eventsPerSec: number
  probeRecords: number
  probeRecordsPerSec: number
  drops: number
  drainSec: number
  rssStartKiB: number
  rssEndKiB: number
  loadSeconds: number
}

/** One load (`work(n)` runs n units of `callsPer` calls and returns its seconds), bare and under capture. */
async function measure(work: (n: number) => number, callsPer: number): Promise<LoadRow> {
  // bare: calibrate the count so the bare run lasts about a second, then size the measured runs to `seconds`
  const probe = work(100_000)
  const count = Math.round((100_000 / probe) * seconds)
  const bareSec = work(count)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-live-bench-'))
  const out = path.join(dir, 'bench.sf')
  const {cap, err} = await startCapture(out)
  try {
    const rss0 = rssKiB(cap.pid!)
    const capSec = work(count)
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
    return {
      bareCallsPerSec: Math.round((callsPer * count) / bareSec), capturedCallsPerSec: Math.round((callsPer * count) / capSec),
      ratio: Number((bareSec / capSec).toFixed(3)), eventsPerSec: Math.round(Number(m[1]) / capSec), probeRecords, probeRecordsPerSec: Math.round(probeRecords / (capSec + drainSec)),
      drops: Number(m[4]), drainSec: Number(drainSec.toFixed(2)), rssStartKiB: rss0, rssEndKiB: rss1, loadSeconds: Number(capSec.toFixed(2)),
    }
  } finally {
    if (cap.exitCode === null) cap.kill('SIGKILL')
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

async function main(): Promise<void> {
  const io = await measure((n) => dd(n), 2)
  const oc = await measure(opens, 2)
  console.log('| load | calls/s bare | under capture | ratio | events/s captured | probe records/s | drops | capture RSS start -> end |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const [name, r] of [['dd bs=1 (read+write)', io], ['open+close loop', oc]] as const) {
    console.log(`| ${name} | ${r.bareCallsPerSec} | ${r.capturedCallsPerSec} | ${r.ratio} | ${r.eventsPerSec} | ${r.probeRecordsPerSec} | ${r.drops} | ${r.rssStartKiB} -> ${r.rssEndKiB} KiB |`)
  }
  // last line: the row as JSON, for bench.ts's child() (it parses the last line of a stage's output)
  console.log(JSON.stringify({
    syscalls: Math.round(io.capturedCallsPerSec * io.loadSeconds), bareSyscallsPerSec: io.bareCallsPerSec, capturedSyscallsPerSec: io.capturedCallsPerSec,
    ratio: io.ratio, eventsPerSec: io.eventsPerSec, probeRecordsPerSec: io.probeRecordsPerSec, drops: io.drops, drainSec: io.drainSec, rssStartKiB: io.rssStartKiB, rssEndKiB: io.rssEndKiB,
    loadSeconds: io.loadSeconds, opens: oc,
  }))
}

await (soak ? soakRun() : main())
