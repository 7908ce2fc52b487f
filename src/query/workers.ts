// Loading with worker threads: each input file becomes one or more byte ranges (tasks); a pool of workers reads
// them (./load-worker.ts) and this thread ingests what they post, one batch at a time, in the order it arrives
// (rows of different ranges interleave: `events` has no row order, ORDER BY ts gives file order).
import {Worker} from 'node:worker_threads'
import {fromWire, WireBatch} from '../format/arrow/index.js'
import {Unresolved} from '../format/join.js'
import * as errors from '../format/errors.js'
import {ReadWarning, TraceError} from '../format/errors.js'
import {describeUnresolved} from '../format/join.js'
import {Ingester, SourceMaps} from './ingest.js'
import {LoadOptions, LoadResult, sortCounts} from './load.js'
import type {ScanDecode} from './scan.js'

export interface WorkerTask {
  id: number
  file: string
  /** Nominal start (0: the file's beginning). */
  start: number
  /** Nominal starts of the file's later ranges. */
  nextStarts: number[]
}

interface SerializedTraceError {
  name: string
  message: string
  file?: string
  offset?: number
  problem?: string
  stack?: string
}

export type ToWorker = {type: 'task'; task: WorkerTask; strict: boolean; decode?: ScanDecode} | {type: 'ack'} | {type: 'stop'}
export type FromWorker =
  | {type: 'batch'; task: number; strings: {first: number; values: string[]}; tables: {name: string; wire: WireBatch}[]; events: number}
  | {type: 'warning'; warning: ReadWarning}
  | {type: 'error'; error: SerializedTraceError}
  | {type: 'unresolved'; file: string; unresolved: Unresolved}
  | {type: 'progress'; task: number; offset: number}
  | {type: 'done'; task: number; counts: Record<string, number>; events: number}
  | {type: 'fatal'; error: SerializedTraceError}

/** Files at least this big are split into ranges, one per worker, each at least this big. */
const MIN_RANGE = 4 << 20

function traceError(e: SerializedTraceError): Error {
  if (e.file !== undefined && e.offset !== undefined && e.problem !== undefined) {
    const Ctor = (errors as unknown as Record<string, new (f: string, o: number, p: string) => TraceError>)[e.name] ?? TraceError
    return new Ctor(e.file, e.offset, e.problem)
  }
  const err = new Error(e.message)
  err.name = e.name
  if (e.stack) err.stack = e.stack
  return err
}

export function planTasks(inputs: readonly {name: string; size: number}[], workers: number, minRange = MIN_RANGE): WorkerTask[] {
  const tasks: WorkerTask[] = []
  for (const {name, size} of inputs) {
    const ranges = Math.max(1, Math.min(workers, Math.floor(size / minRange)))
    const starts = Array.from({length: ranges}, (_, i) => Math.floor((i * size) / ranges))
    starts.forEach((start, i) => tasks.push({id: tasks.length, file: name, start, nextStarts: starts.slice(i + 1)}))
  }
  return tasks
}

export async function loadWithWorkers(
  ingester: Ingester,
  inputs: readonly {name: string; size: number}[],
  opts: LoadOptions & {workers: number; totalBytes: number},
): Promise<Omit<LoadResult, 'seconds'>> {
  const tasks = planTasks(inputs, opts.workers, opts.rangeBytes)
  const queue = [...tasks]
  const pool: Worker[] = []
  const maps = new Map<number, SourceMaps>()
  const counts: Record<string, number> = {}
  const unresolved = new Map<string, Unresolved>()
  const reached = new Map<number, number>()
  let events = 0
  let done = 0
  let lastProgress = 0
  // Ingestion is one batch at a time, in arrival order.
  let chain: Promise<void> = Promise.resolve()
  let failure: unknown

  const progress = () => {
    const now = Date.now()
    if (!opts.onProgress || now - lastProgress < 100) return
    lastProgress = now
    let bytes = 0
    for (const t of tasks) {
      const at = reached.get(t.id)
      if (at !== undefined) bytes += Math.max(0, at - t.start)
    }
    opts.onProgress({events, bytes: Math.min(bytes, opts.totalBytes), totalBytes: opts.totalBytes})
  }

  await new Promise<void>((resolve, reject) => {
    const fail = (e: unknown) => {
      if (failure === undefined) failure = e
      reject(e)
    }
    const next = (w: Worker) => {
      const task = queue.shift()
      if (task) w.postMessage({type: 'task', task, strict: opts.strict === true, decode: opts.decode} satisfies ToWorker)
    }
    const n = Math.min(opts.workers, tasks.length)
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL('./load-worker.js', import.meta.url))
      pool.push(w)
      w.on('error', fail)
      w.on('exit', (code) => {
        if (code !== 0 && failure === undefined && done < tasks.length) fail(new Error(`a loader thread exited with code ${code}`))
      })
      w.on('message', (m: FromWorker) => {
        if (failure !== undefined) return
        switch (m.type) {
          case 'batch':
            chain = chain.then(async () => {
              if (failure !== undefined) return
              let sm = maps.get(m.task)
              if (!sm) maps.set(m.task, (sm = new SourceMaps()))
              const batches = m.tables.map((t) => ({name: t.name, batch: fromWire(t.wire)}))
              await ingester.add({strings: m.strings, tables: batches, events: m.events}, sm)
              events += m.events
              w.postMessage({type: 'ack'} satisfies ToWorker)
              progress()
            }).catch(fail)
            break
          case 'warning':
            opts.onWarning?.(m.warning)
            break
          case 'error': {
            const e = traceError(m.error)
            if (opts.onError && e instanceof TraceError) opts.onError(e)
            else fail(e)
            break
          }
          case 'unresolved': {
            const u = unresolved.get(m.file) ?? {process: 0, parent: 0, file: 0, container: 0, pod: 0}
            for (const k of Object.keys(u) as (keyof Unresolved)[]) u[k] += m.unresolved[k]
            unresolved.set(m.file, u)
            break
          }
          case 'progress':
            reached.set(m.task, m.offset)
            break
          case 'done':
            chain = chain.then(() => {
              for (const [k, v] of Object.entries(m.counts)) counts[k] = (counts[k] ?? 0) + v
              if (++done === tasks.length) resolve()
              else next(w)
            })
            break
          case 'fatal':
            fail(traceError(m.error))
            break
        }
      })
      next(w)
    }
  }).finally(async () => {
    for (const w of pool) await w.terminate()
  })
  await chain
  for (const [file, u] of unresolved) {
    const text = describeUnresolved(u)
    if (text) opts.onWarning?.({file, offset: -1, message: text, skippedRecords: 0, skippedBytes: 0})
  }
  return {files: inputs.length, records: Object.values(counts).reduce((a, b) => a + b, 0), events, counts: sortCounts(counts)}
}
