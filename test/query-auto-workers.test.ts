// The loader's own choice of worker threads (query load with no `workers` option): none below 8 MiB, below 3
// cores, or on a busy machine; otherwise one core left to the ingesting thread, at most 4 workers.
import test from 'ava'
import {autoWorkers} from '../src/query/load.js'

const MiB = 1 << 20

test('auto workers: the size, core and load edges', (t) => {
  // [total bytes, cores, 1-minute load average] -> workers
  const cases: [number, number, number, number][] = [
    [8 * MiB - 1, 8, 0, 0], // just below the size threshold
    [8 * MiB, 8, 0, 4], // at it: capped at 4
    [0, 8, 0, 0], // sizes unknown (streams) count as 0
    [64 * MiB, 1, 0, 0],
    [64 * MiB, 2, 0, 0], // two cores: this thread reads (measured faster, a third less CPU)
    [64 * MiB, 3, 0, 2], // three: one left to the ingesting thread
    [64 * MiB, 4, 0, 3],
    [64 * MiB, 5, 0, 4],
    [64 * MiB, 64, 0, 4],
    [64 * MiB, 4, 2.99, 3], // below 0.75 of the cores
    [64 * MiB, 4, 3, 0], // at it: busy
    [64 * MiB, 3, 2.25, 0],
  ]
  for (const [bytes, cores, load, want] of cases) t.is(autoWorkers(bytes, cores, load), want, `${bytes} bytes, ${cores} cores, load ${load}`)
})
