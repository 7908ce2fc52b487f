// Throughput of `capture -r` (bench for issue 6): the largest collector capture, its event blocks repeated N times
// in one .scap (timestamps shifted so time keeps moving forward), captured to a .sf file like the command does.
// Prints JSON {file, repeats, events, seconds, eventsPerSec, maxRssKiB}.
// Usage: node dist/bench/capture-scap.js [FILE.scap] [REPEATS]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {captureToFile} from '../src/capture/run.js'
import {readCaptureFile, validateFraming} from '../src/native/savefile.js'

const EVENT_BLOCKS = new Set([0x216, 0x221, 0x217, 0x222, 0x204, 0x208])

/** Write the capture with its event blocks repeated `n` times, each repetition shifted past the previous one. */
export function writeRepeatedCapture(file: string, n: number, out: string): void {
  const buf = readCaptureFile(file)
  const blocks = validateFraming(file, buf)
  const evs = blocks.filter((b) => EVENT_BLOCKS.has(b.type))
  const head = blocks.filter((b) => !EVENT_BLOCKS.has(b.type))
  const evOff = (b: {type: number; offset: number}) => b.offset + (b.type === 0x217 || b.type === 0x222 || b.type === 0x208 ? 14 : 10)
  let first = -1n
  let last = 0n
  for (const b of evs) {
    const ts = buf.readBigUInt64LE(evOff(b))
    if (first < 0n) first = ts
    if (ts > last) last = ts
  }
  const span = last - first + 1_000_000n
  const fd = fs.openSync(out, 'w')
  try {
    for (const b of head) fs.writeSync(fd, buf, b.offset, b.length)
    const body = Buffer.concat(evs.map((b) => buf.subarray(b.offset, b.offset + b.length)))
    for (let k = 0; k < n; k++) {
      const copy = Buffer.from(body)
      let o = 0
      for (const b of evs) {
        const at = o + evOff(b) - b.offset
        copy.writeBigUInt64LE(BigInt.asUintN(64, copy.readBigUInt64LE(at) + BigInt(k) * span), at)
        o += b.length
      }
      fs.writeSync(fd, copy)
    }
  } finally {
    fs.closeSync(fd)
  }
}

async function main(): Promise<void> {
  const dir = path.resolve('../shared/traces/collector')
  let file = process.argv[2]
  if (!file) {
    const all = fs.readdirSync(dir).flatMap((c) => fs.readdirSync(path.join(dir, c)).filter((f) => f.endsWith('.scap')).map((f) => path.join(dir, c, f)))
    file = all.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]
  }
  const repeats = Number(process.argv[3] ?? 100)
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-bench-'))
  try {
    const input = path.join(tmp, 'repeated.scap')
    writeRepeatedCapture(file, repeats, input)
    const t0 = process.hrtime.bigint()
    const stats = await captureToFile({input, output: path.join(tmp, 'out.sf'), exporter: 'bench'})
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    console.log(JSON.stringify({file: path.basename(file), repeats, events: stats.events, records: stats.records, seconds, eventsPerSec: Math.round(stats.events / seconds), maxRssKiB: process.resourceUsage().maxRSS}))
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true})
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) void main()
