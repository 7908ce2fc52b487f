// The convert progress bar: rate, time left, and the finishing state once every input is read.
import test from 'ava'
import {clock, loadingText, Progress, progressText} from '../src/cli/progress.js'

test('the bar shows the rate and the time left from the average so far', (t) => {
  t.is(progressText({read: 25e6, total: 100e6, elapsedMs: 2000}), '[########----------------------]  25% 25.0/100.0 MB, 12.5 MB/s, 0:06 left')
  t.is(progressText({read: 10e6, total: 1000e6, elapsedMs: 10_000}), '[------------------------------]   1% 10.0/1000.0 MB, 1.0 MB/s, 16:30 left')
  // Too early to average: no rate.
  t.is(progressText({read: 1e6, total: 100e6, elapsedMs: 100}), '[------------------------------]   1% 1.0/100.0 MB')
})

test('once every input is read the bar says it is finishing, with the time so far', (t) => {
  t.is(progressText({read: 100e6, total: 100e6, elapsedMs: 65_000, finishing: true}), '[##############################] 100% 100.0/100.0 MB, finishing the output (1:05 so far)')
})

test('clock', (t) => {
  t.is(clock(0), '0:00')
  t.is(clock(59.6), '1:00')
  t.is(clock(3725), '1:02:05')
})

test('Progress redraws at most ten times a second and switches to finishing at the last byte', (t) => {
  const out: string[] = []
  let now = 1000
  const p = new Progress(100e6, (s) => out.push(s), () => now)
  now += 50
  p.update(1e6) // first draw
  now += 50
  p.update(2e6) // within 100 ms: skipped
  now += 1900
  p.update(50e6)
  t.is(out.length, 2)
  t.is(out[1], '\r[###############---------------]  50% 50.0/100.0 MB, 25.0 MB/s, 0:02 left\x1b[K')
  now += 10
  p.update(100e6) // the last byte: drawn at once, as finishing
  t.is(out[2], '\r[##############################] 100% 100.0/100.0 MB, finishing the output (0:02 so far)\x1b[K')
  p.clear()
  t.is(out[3], '\r\x1b[K')
})

test("query's loading line: records, bytes, rate and time left, then finishing", (t) => {
  t.is(loadingText({events: 123456, bytes: 30e6, totalBytes: 120e6}, 3000), 'loading: 123,456 records, 30.0/120.0 MB, 10.0 MB/s, 0:09 left')
  t.is(loadingText({events: 5, bytes: 120e6, totalBytes: 120e6}, 9000), 'loading: 5 records, 120.0/120.0 MB, finishing')
  t.is(loadingText({events: 7, bytes: 0, totalBytes: 0}, 9000), 'loading: 7 records')
})
