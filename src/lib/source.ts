// Where a consumer's records come from: .sf files (paths, directories, globs), a byte stream, a .scap capture, or
// the live driver; all become batches of joined event and flow records, in production order. The config names and
// defaults are LibSysFlow's SysFlowConfig (sf-collector src/libs/sysflowlibs.cpp, InitializeSysFlowConfig).
import fs from 'node:fs'
import {Readable} from 'node:stream'
import {captureBatches, captureLive, CaptureBatch, CaptureOptions, CaptureStats, CollectionMode} from '../capture/index.js'
import {explainLiveError, preflight, preflightEbpf, resolveDriver, Driver} from '../capture/preflight.js'
import {captureLiveEbpf, EbpfStats} from '../capture/live/ebpf.js'
import {findLibbpf} from '../native/bpf.js'
import {ScapError} from '../native/scap.js'
import {ReadWarning} from '../format/errors.js'
import {resolveInputs} from '../format/inputs.js'
import {JoinTables, Joined} from '../format/join.js'
import {joinedBatches, PipelineStats} from '../format/pipeline.js'
import {streamInput, TraceInput} from '../format/reader.js'
import {EventRecord, isEvent, KIND_ABBREV} from '../format/records.js'
import {compileFilter} from '../format/filter/index.js'

/** A source: a path (.sf file, directory of rotated traces, glob, .scap or .scap.gz), several, or a byte stream. */
export type SysFlowInput = string | readonly string[] | NodeJS.ReadableStream | Readable | AsyncIterable<Buffer | Uint8Array>

export interface SourceOptions {
  /** Capture only: flow (default), consume (no read/write flows), nofiles (no file records). */
  collectionMode?: CollectionMode
  /** Only records of processes in containers (capture: events of threads without a container id are skipped). */
  filterContainers?: boolean
  /** Capture only: the header's exporter id (default: the capture's hostname). LibSysFlow's exportID. */
  exporterID?: string
  /** Capture only: the header's node IP (default: $NODE_IP). */
  nodeIP?: string
  /** Capture only: FILE_READ_MODE 0 keep all read flows, 1 drop them on system paths, 2 (default) drop read-only ones there. */
  fileReadMode?: 0 | 1 | 2
  /** Capture only: thread clones and exits become ProcessFlows (default true). */
  enableProcessFlow?: boolean
  /** Capture only: FileFlows only for regular files (default true). */
  fileOnly?: boolean
  /** Capture only: seconds between headers (entity caches are re-emitted after each); 0 disables (default 300). */
  rotateInterval?: number
  /** Live capture only: which driver (passed through to the capture options; the capture decides the default). */
  driver?: string
  /** Capture only: path of libscap.so (default: $SYSFLOW_LIBSCAP, then the system library). */
  libscap?: string
  /** Keep only records matching this SysFlow condition (or predicate over the joined record). */
  filter?: string | ((j: Joined) => boolean)
  /** .sf only: fail on the first damaged block instead of skipping it (and warning). */
  strict?: boolean
  /** Everything recovered from (skipped blocks, unresolved references). */
  onWarning?: (w: ReadWarning) => void
  /** Stops the source like exit(): the promise resolves with the statistics so far. */
  signal?: AbortSignal
}

/** What a run saw. `records` is exact: the records delivered (callback calls, or records yielded). */
export class SysFlowStats {
  /** Event and flow records delivered. */
  records = 0
  /** Event and flow records the filter (or filterContainers) dropped. */
  filtered = 0
  /** Records read per type abbreviation (H, C, P, F, PE, NF, FF, FE, NE, PF, POD, KE); read ahead by up to a block. */
  counts: Record<string, number> = {}
  /** .sf inputs read, their bytes, and what was skipped as damaged. */
  files = 0
  bytes = 0
  skippedBlocks = 0
  skippedRecords = 0
  /** Capture: scap events read, and events the driver dropped. */
  events = 0
  drops = 0n
  /** True when exit() or the AbortSignal ended the run before the source did. */
  stopped = false
  /** With socketPath: messages sent to the processor, records dropped, connections made. */
  socket?: {path: string; records: number; dropped: number; connects: number}
}

type Segment = {kind: 'sf'; inputs: TraceInput[]} | {kind: 'scap'; path: string} | {kind: 'live'}

const SCAP_NAME = /\.scap(\.gz)?$/i

/** A .scap (pcapng section header block) or gzip file, by its first bytes or its name. */
function isScap(path: string): boolean {
  if (SCAP_NAME.test(path)) return true
  let fd: number | undefined
  try {
    fd = fs.openSync(path, 'r')
    const b = Buffer.alloc(4)
    if (fs.readSync(fd, b, 0, 4, 0) < 4) return false
    return b.readUInt32LE(0) === 0x0a0d0d0a || (b[0] === 0x1f && b[1] === 0x8b)
  } catch {
    return false
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

function isByteStream(x: unknown): x is AsyncIterable<Buffer> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<Buffer>)[Symbol.asyncIterator] === 'function'
}

/** The input as segments, in order: consecutive .sf inputs share one reader (and join tables). */
export function segments(input: SysFlowInput | undefined): Segment[] {
  if (input === undefined) return [{kind: 'live'}]
  if (typeof input !== 'string' && !Array.isArray(input)) {
    if (!isByteStream(input)) throw new TypeError('input must be a path, an array of paths, or a readable stream')
    return [{kind: 'sf', inputs: [streamInput('<stream>', input as NodeJS.ReadableStream)]}]
  }
  const paths = typeof input === 'string' ? [input] : (input as readonly string[])
  const out: Segment[] = []
  for (const t of resolveInputs(paths)) {
    if (isScap(t.name)) out.push({kind: 'scap', path: t.name})
    else {
      const last = out[out.length - 1]
      if (last?.kind === 'sf') last.inputs.push(t)
      else out.push({kind: 'sf', inputs: [t]})
    }
  }
  return out
}

/** The filter as a predicate (a condition string is compiled now, so a syntax error throws at once). */
export function recordFilter(opts: SourceOptions): ((j: Joined) => boolean) | undefined {
  const f = typeof opts.filter === 'string' ? compileFilter(opts.filter) : opts.filter
  if (!opts.filterContainers) return f
  // .sf input: the collector's -c, applied to what was recorded (records without a containerized process go).
  const inContainer = (j: Joined) => Boolean(j.proc?.containerId)
  return f ? (j) => inContainer(j) && f(j) : inContainer
}

/** Capture options from the config (the `driver` choice passes through untouched). */
export function captureOptions(opts: SourceOptions, live: boolean, shouldStop: () => boolean): CaptureOptions {
  const rotNs = BigInt(Math.round((opts.rotateInterval ?? 300) * 1e9))
  let start = -1n
  // Rotation follows event time offline and the wall clock live (as capture does).
  const wallOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
  const o: CaptureOptions & {driver?: string} = {
    mode: opts.collectionMode ?? 'flow',
    containersOnly: opts.filterContainers === true,
    exporter: opts.exporterID,
    nodeIp: opts.nodeIP ?? process.env.NODE_IP,
    fileReadMode: opts.fileReadMode ?? 2,
    processFlows: opts.enableProcessFlow ?? true,
    fileOnly: opts.fileOnly ?? true,
    libscap: opts.libscap,
    shouldStop,
    onRotate: rotNs <= 0n ? undefined : (ts) => {
      const now = live ? process.hrtime.bigint() + wallOffset : ts
      if (start < 0n) start = now
      else if (now - start >= rotNs) {
        start = now
        return true
      }
      return false
    },
  }
  if (opts.driver !== undefined) o.driver = opts.driver
  return o
}

/**
 * Joined event and flow records of the whole input, in batches, filtered. Entities go into the join tables (reset
 * at each header) and are not yielded. `shouldStop` is polled by captures between events.
 */
export async function* joinedSource(input: SysFlowInput | undefined, opts: SourceOptions, stats: SysFlowStats, shouldStop: () => boolean): AsyncGenerator<Joined[]> {
  const keep = recordFilter(opts)
  const segs = segments(input)
  const counts = new Array<number>(KIND_ABBREV.length).fill(0)
  try {
    for (const seg of segs) {
      if (shouldStop()) return
      if (seg.kind === 'sf') {
        const ps = new PipelineStats()
        try {
          for await (const batch of joinedBatches(seg.inputs, {strict: opts.strict, onWarning: opts.onWarning}, ps)) {
            const sel = keep ? select(batch, keep, stats) : batch
            if (sel.length > 0) yield sel
            if (shouldStop()) return
          }
        } finally {
          stats.files += ps.files
          stats.bytes += ps.bytes
          stats.skippedBlocks += ps.skippedBlocks
          stats.skippedRecords += ps.skippedRecords
          for (const [k, n] of Object.entries(ps.counts)) counts[KIND_ABBREV.indexOf(k as never)] += n
        }
        continue
      }
      const live = seg.kind === 'live'
      const cs = new CaptureStats()
      const co = captureOptions(opts, live, shouldStop)
      let src: AsyncGenerator<CaptureBatch>
      if (live) {
        // As the capture command: the Falco kernel module where /dev/scap* exists, else sysflow's eBPF probe.
        const driver = resolveDriver((opts.driver ?? 'auto') as Driver | 'auto')
        if (driver === 'ebpf') {
          preflightEbpf(() => findLibbpf())
          const probe: EbpfStats = {probeRecords: 0, lost: 0n}
          src = captureLiveEbpf(co, cs, probe)
        } else {
          preflight(driver)
          src = captureLive(co, cs)
        }
      } else src = captureBatches(seg.path, co, cs)
      const tables = new JoinTables()
      try {
        for await (const b of src) {
          const out: Joined[] = []
          for (const r of b.records) {
            counts[r.kind]++
            if (isEvent(r)) {
              const j = tables.join(r as EventRecord)
              if (keep === undefined || keep(j)) out.push(j)
              else stats.filtered++
            } else tables.add(r)
          }
          if (out.length > 0) yield out
          if (shouldStop()) return
        }
      } catch (e) {
        if (live && e instanceof ScapError) throw explainLiveError(e.message)
        throw e
      } finally {
        stats.events += cs.events
        stats.drops += cs.drops
      }
    }
  } finally {
    counts.forEach((n, k) => {
      if (n > 0) stats.counts[KIND_ABBREV[k]] = (stats.counts[KIND_ABBREV[k]] ?? 0) + n
    })
  }
}

function select(batch: Joined[], keep: (j: Joined) => boolean, stats: SysFlowStats): Joined[] {
  const out: Joined[] = []
  for (const j of batch) {
    if (keep(j)) out.push(j)
    else stats.filtered++
  }
  return out
}
