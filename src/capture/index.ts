// Falco events -> SysFlow records: one pipeline for recorded (.scap) and live events.
//   ScapHandle (libscap: state blocks, tables) + event source (bulk block reader offline, scap_next live)
//   -> Collector (decoder, state engine, collector mapping) -> batches of typed records (header first).
import {Kind, SFHeader, SysFlowRecord} from '../format/records.js'
import {EF_LARGE_PAYLOAD, eventInfoTable, ScapError, ScapHandle, ScapStats, SCAP_EOF, SCAP_TIMEOUT} from '../native/scap.js'
import {END, EventBlockReader, NEED_MORE, ScapFormatError} from '../native/savefile.js'
import {Collector, CollectorOptions} from './collector.js'

export {Collector, foid} from './collector.js'
export type {CollectionMode, CollectorOptions} from './collector.js'
export {ScapFormatError} from '../native/savefile.js'

export interface CaptureOptions extends CollectorOptions {
  /** libscap path (--libscap); else SYSFLOW_LIBSCAP or the system library. */
  libscap?: string
  /** Header exporter id (default: the capture's hostname). */
  exporter?: string
  /** Header ip (--node-ip / NODE_IP). */
  nodeIp?: string
  /** Header filename (the output path). */
  filename?: string
  /** Stop after this many events. */
  maxEvents?: number
  /** Stop after this many seconds of event time (offline) or wall clock (live). */
  durationSec?: number
  /** Records per yielded batch (about). */
  batchRecords?: number
  /** Checked between events: true stops the capture (flows are flushed with OP_TRUNCATE). */
  shouldStop?: () => boolean
  /** Rotation: called with the event time (ns) before each event; returning true starts a new file. */
  onRotate?: (tsNs: bigint) => boolean
  /**
   * A capture that ends inside a block, or whose event blocks are damaged, is read up to there; the records are
   * flushed as at a normal end, and then this is called (when absent, the ScapFormatError is thrown at the end).
   */
  onDamage?: (e: ScapFormatError) => void
}

/** What a capture saw, for --stats. */
export class CaptureStats {
  events = 0
  skippedUnknownEvents = 0
  malformedEvents = 0
  records = 0
  drops = 0n
  /** Live, after drops: threads ended because /proc no longer listed them (their exit was among the drops). */
  purgedThreads = 0
  firstTs = 0n
  lastTs = 0n
  hostname = ''
}

/** A batch boundary: `rotate` asks the sink to start a new file before writing `records`. */
export interface CaptureBatch {
  records: SysFlowRecord[]
  rotate?: boolean
  /** Event time (ns) that names the file these records start: the rotation time, else the first event's. */
  ts: bigint
}

function header(opts: CaptureOptions, hostname: string): SFHeader {
  return {kind: Kind.Header, version: 5n, exporter: opts.exporter ?? hostname, ip: opts.nodeIp ?? '', filename: opts.filename ?? ''}
}

/** A .scap input that cannot be read (missing, damaged, not a capture): exit code 1. */
export class CaptureInputError extends Error {
  readonly exitCode = 1
}

function inputError(file: string, e: unknown): unknown {
  if (e instanceof ScapFormatError || e instanceof CaptureInputError) return e
  if (e instanceof ScapError) return new CaptureInputError(`${file}: ${e.message}`)
  if (e instanceof RangeError) return new CaptureInputError(`${file}: damaged capture (${e.message})`)
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
    return new CaptureInputError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'permission denied'}`)
  }
  return e
}

/**
 * Offline: open a .scap (gzipped too) and yield batches of records in collector layout (header first).
 * Errors have an `exitCode` and a one-line message: LibscapUnavailableError (3), CaptureInputError and
 * ScapFormatError (1; a damaged capture is read up to the damage first, see `onDamage`).
 */
export async function* captureRecords(scapPath: string, opts: CaptureOptions = {}, stats = new CaptureStats()): AsyncGenerator<SysFlowRecord[]> {
  for await (const b of captureBatches(scapPath, opts, stats)) yield b.records
}

/** Like captureRecords, but marks the batches where rotation (`onRotate`) asks for a new file. */
export async function* captureBatches(scapPath: string, opts: CaptureOptions = {}, stats = new CaptureStats()): AsyncGenerator<CaptureBatch> {
  try {
    yield* offline(scapPath, opts, stats)
  } catch (e) {
    throw inputError(scapPath, e)
  }
}

async function* offline(scapPath: string, opts: CaptureOptions, stats: CaptureStats): AsyncGenerator<CaptureBatch> {
  const table = eventInfoTable(opts.libscap)
  const reader = new EventBlockReader(scapPath, table.map((e) => e.params.length), undefined, table.map((e) => (e.flags & EF_LARGE_PAYLOAD) !== 0))
  try {
    // Frame-check the blocks libscap parses at open, so damaged input ends in a clean error.
    await reader.readHead()
    const h = ScapHandle.openOfflineSync(scapPath, opts.libscap)
    let c: Collector
    try {
      stats.hostname = h.machineInfo().hostname
      c = new Collector(table, opts)
      c.loadState(h.procTable(), h.users())
    } finally {
      h.close()
    }
    yield* run(c, reader, opts, stats, () => {
      stats.skippedUnknownEvents = reader.skippedUnknown
    })
    if (reader.damage) {
      if (opts.onDamage) opts.onDamage(reader.damage)
      else throw reader.damage
    }
  } finally {
    await reader.close()
  }
}

/** Where the capture loop gets events: offline the block reader, live libscap or the eBPF probe (live/ebpf.ts). */
export interface EventSource {
  /** The offset of the next event in `event`, NEED_MORE (offline: `refill`; live: a timeout) or END. */
  next(): number
  readonly event: Buffer
  /** Offline: read more of the file (false at its end). Live: false. */
  refill(): Promise<boolean>
  /**
   * Live sources: the wall-clock time now (ns). Rotation then also happens between events (a quiet system, or
   * reads and writes that reach the collector without events: the eBPF probe's aggregates).
   */
  now?(): bigint
}

/** The capture loop: events -> collector -> batches of records, with the stop, duration and rotation checks. */
export async function* run(c: Collector, src: EventSource, opts: CaptureOptions, stats: CaptureStats, done: () => void): AsyncGenerator<CaptureBatch> {
  const batchRecords = opts.batchRecords ?? 4096
  const maxEvents = opts.maxEvents ?? Infinity
  const durNs = opts.durationSec !== undefined ? BigInt(Math.round(opts.durationSec * 1e9)) : -1n
  c.out.push(header(opts, stats.hostname))
  const checkTs = durNs >= 0n || opts.onRotate !== undefined
  let fileTs = -1n
  let rotate = false
  let n = 0
  /** A new file from `ts` on: what is pending goes to the current one, entities are written again in the next. */
  function* rotateAt(ts: bigint): Generator<CaptureBatch> {
    if (c.out.length > 0) {
      stats.records += c.out.length
      yield {records: c.out.splice(0), rotate, ts: fileTs >= 0n ? fileTs : c.firstTs < 0n ? 0n : c.firstTs}
    }
    rotate = true
    fileTs = ts
    c.clearWritten()
    c.out.push(header(opts, stats.hostname))
  }
  for (;;) {
    if (n >= maxEvents || opts.shouldStop?.()) break
    const at = src.next()
    if (at === END) break
    if (at === NEED_MORE) {
      // A source that feeds the collector directly (the eBPF path's reads and writes) returns here between batches.
      if (opts.onRotate !== undefined && src.now !== undefined) {
        const ts = src.now()
        if (opts.onRotate(ts)) {
          yield* rotateAt(ts)
          continue
        }
      }
      if (c.out.length >= batchRecords) {
        stats.records += c.out.length
        yield {records: c.out.splice(0), rotate, ts: fileTs >= 0n ? fileTs : c.firstTs < 0n ? 0n : c.firstTs}
        rotate = false
      }
      if (await src.refill()) continue
      // live timeout: housekeeping and a chance to stop (the batch waits for the first event, whose time names a
      // rotated file)
      if (c.out.length > 0 && (fileTs >= 0n || c.firstTs >= 0n)) {
        stats.records += c.out.length
        yield {records: c.out.splice(0), rotate, ts: fileTs >= 0n ? fileTs : c.firstTs < 0n ? 0n : c.firstTs}
        rotate = false
      }
      await new Promise((r) => setImmediate(r))
      continue
    }
    const ev = src.event
    if (checkTs) {
      const ts = ev.readBigUInt64LE(at)
      if (durNs >= 0n && c.firstTs >= 0n && ts - c.firstTs > durNs) break
      if (opts.onRotate?.(ts)) yield* rotateAt(ts)
    }
    c.event(ev, at)
    n++
    if (c.out.length >= batchRecords) {
      stats.records += c.out.length
      yield {records: c.out.splice(0), rotate, ts: fileTs >= 0n ? fileTs : c.firstTs < 0n ? 0n : c.firstTs}
      rotate = false
    }
  }
  c.finish()
  done()
  stats.events = c.events
  stats.malformedEvents = c.malformed
  stats.firstTs = c.firstTs < 0n ? 0n : c.firstTs
  stats.lastTs = c.lastTs
  stats.records += c.out.length
  yield {records: c.out.splice(0), rotate, ts: fileTs >= 0n ? fileTs : c.firstTs < 0n ? 0n : c.firstTs}
}

/** Live: the driver's events through the same collector. The caller runs preflight() first. */
export async function* captureLive(opts: CaptureOptions = {}, stats = new CaptureStats()): AsyncGenerator<CaptureBatch> {
  const table = eventInfoTable(opts.libscap)
  const h = ScapHandle.openLiveSync(opts.libscap)
  try {
    // PPM_API_VERSION: major << 44 | minor << 24 | patch. This libscap speaks API 1.x (the Debian scap driver).
    const api = BigInt(h.driverApiVersion())
    const major = Number(api >> 44n)
    if (major !== 1) {
      throw new ScapError(`Driver supports API version ${major}.${Number((api >> 24n) & 0xfffffn)}.${Number(api & 0xffffffn)}, but running version needs 1.0.0`)
    }
    h.setSnaplen(0)
    stats.hostname = h.machineInfo().hostname
    const c = new Collector(table, opts)
    c.loadState(h.procTable(), h.users())
    // Only what the mapping and the state engine need: cheaper for the driver and for us.
    h.setEventMask(c.wantedEvents())
    const src = {
      event: Buffer.alloc(0) as Buffer,
      next(): number {
        const r = h.nextSync()
        if (r === SCAP_TIMEOUT) return NEED_MORE
        if (r === SCAP_EOF) return END
        this.event = r as Buffer
        return 0
      },
      refill: async () => false,
    }
    yield* run(c, src, opts, stats, () => {
      const s: ScapStats = h.stats()
      stats.drops = s.drops
    })
  } finally {
    h.close()
  }
}
