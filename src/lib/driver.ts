// LibSysFlow's consumer API for Node: SysFlowDriver (config + callback + run/exit) and its idiomatic twin,
// records() for `for await`. Both read through joinedSource, so they see the same joined records in the same order.
import {compileFilter} from '../format/filter/index.js'
import {Joined} from '../format/join.js'
import {Container, EventRecord, File, Process, SFHeader} from '../format/records.js'
import {joinedSource, SourceOptions, SysFlowInput, SysFlowStats} from './source.js'
import {socketWriter, SysFlowSocketOptions} from './socket.js'

/**
 * Called for every event and flow record, in production order, with its entities resolved (undefined where there
 * is none): LibSysFlow's `callback(header, container, process, file, file2, record)`. `file2` is the new path of
 * renames and links. The seventh argument is the whole joined record (parent, pod, ancestry) for attr().
 * A returned promise is awaited before the next record (backpressure); a plain return costs no promise.
 */
export type SysFlowCallback = (
  header: SFHeader | undefined,
  container: Container | undefined,
  process: Process | undefined,
  file: File | undefined,
  file2: File | undefined,
  record: EventRecord,
  joined: Joined,
) => void | PromiseLike<void>

export interface SysFlowConfig extends SourceOptions {
  /** The source: .sf path(s), a directory, a glob, a .scap file, or a readable stream; absent = live capture. */
  input?: SysFlowInput
  callback: SysFlowCallback
  /** Also stream every delivered record to the SysFlow processor's unix socket (the collector's -u). */
  socketPath?: string
  /** Options of that socket output (queue size, retry delays, warnings). */
  socketOptions?: SysFlowSocketOptions
}

/** The record being delivered to a callback: lets attr() accept the callback's plain `record` argument. */
let delivering: Joined | undefined

/** The joined record of a record currently in a callback (undefined when it is not the one being delivered). */
export function deliveredJoin(rec: EventRecord): Joined | undefined {
  return delivering !== undefined && delivering.rec === rec ? delivering : undefined
}

export class SysFlowDriver {
  private stopRequested = false
  private running: Promise<SysFlowStats> | undefined
  /** Statistics of the current (or last) run, updated as it goes. */
  stats = new SysFlowStats()

  constructor(readonly config: SysFlowConfig) {
    if (typeof config?.callback !== 'function') throw new TypeError('SysFlowDriver: config.callback must be a function')
    // Compile the filter now: a syntax error belongs to the constructor, not to the middle of a run.
    if (typeof config.filter === 'string') this.config = {...config, filter: compileFilter(config.filter)}
  }

  /** Stop: no record is delivered after the current callback returns; run() resolves with the statistics. Final. */
  exit(): void {
    this.stopRequested = true
  }

  /** Read the source to its end (or until exit()/the signal), calling back for each record. One run at a time. */
  run(): Promise<SysFlowStats> {
    if (this.running) return Promise.reject(new Error('SysFlowDriver.run: already running'))
    this.stats = new SysFlowStats()
    this.running = this.loop().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async loop(): Promise<SysFlowStats> {
    const {config, stats} = this
    const cb = config.callback
    const signal = config.signal
    const onAbort = () => this.exit()
    if (signal?.aborted) this.stopRequested = true
    signal?.addEventListener('abort', onAbort, {once: true})
    const stop = () => this.stopRequested
    const sock = config.socketPath === undefined ? undefined : socketWriter(config.socketPath, config.socketOptions)
    let ok = false
    try {
      outer: for await (const batch of joinedSource(config.input, config, stats, stop)) {
        for (let i = 0; i < batch.length; i++) {
          if (this.stopRequested) break outer
          const j = batch[i]
          if (sock) {
            const p = sock.write(j)
            if (p) await p
          }
          delivering = j
          const r = cb(j.header, j.container, j.proc, j.file, j.newFile, j.rec, j) as PromiseLike<void> | undefined
          stats.records++
          if (r !== undefined && r !== null && typeof r.then === 'function') {
            await r
            delivering = j
          }
        }
        if (this.stopRequested) break
      }
      ok = true
    } finally {
      if (sock && ok) stats.socket = await sock.close()
      else sock?.abort()
      delivering = undefined
      signal?.removeEventListener('abort', onAbort)
      stats.stopped = this.stopRequested
    }
    return stats
  }
}

export interface RecordsOptions extends SourceOptions {
  /** Filled in as records are yielded. */
  stats?: SysFlowStats
}

/**
 * The same joined records as the driver's callback, for `for await`. Breaking out of the loop (or the signal)
 * closes the source. Each record is a Joined: `rec` (the typed record), `header`, `proc`, `pproc`, `file`,
 * `newFile`, `container`, `pod`, `ancestry`.
 */
export async function* records(input: SysFlowInput | undefined, options: RecordsOptions = {}): AsyncGenerator<Joined, SysFlowStats, undefined> {
  const stats = options.stats ?? new SysFlowStats()
  const signal = options.signal
  const stop = () => signal?.aborted === true
  try {
    for await (const batch of joinedSource(input, options, stats, stop)) {
      for (const j of batch) {
        if (stop()) return stats
        stats.records++
        yield j
      }
    }
  } finally {
    stats.stopped = stop()
  }
  return stats
}
