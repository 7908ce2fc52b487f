// writer(): .sf output for consumers, fed typed records (entities and events, as read) or joined records (from
// records() or the callback). Files go through capture's output (temporary name, renamed when complete; a
// directory gets rotated files named by their first event's epoch second). Every file is self-contained: after a
// rotation the header and each entity an event references (its process and ancestors, container, pod, files) are
// written again before the event, as the collector re-emits its caches after a rotation.
import fs from 'node:fs'
import {CaptureBatch} from '../capture/index.js'
import {CaptureOutput} from '../capture/output.js'
import {compileFilter} from '../format/filter/index.js'
import {JoinTables, Joined} from '../format/join.js'
import {EventRecord, isEvent, Kind, SFHeader, SysFlowRecord} from '../format/records.js'
import {WriterOptions} from '../format/writer.js'

export interface SysFlowWriterOptions extends WriterOptions {
  /** Start a new file every this many seconds of event time; needs a directory path (existing, or ending in /). */
  rotateInterval?: number
  /** Write only event and flow records matching this SysFlow condition (or predicate). */
  filter?: string | ((j: Joined) => boolean)
  /** Records per write to the file (default 4096). */
  batchRecords?: number
}

export interface SysFlowWriterResult {
  /** Records written (entities included). */
  records: number
  /** The files written, in order. */
  files: string[]
}

const NO_HEADER: SFHeader = {kind: Kind.Header, version: 5n, exporter: '', ip: '', filename: ''}

export class SysFlowWriter {
  private readonly out: CaptureOutput
  private readonly tables = new JoinTables()
  private readonly keep: ((j: Joined) => boolean) | undefined
  private readonly rotNs: bigint
  private readonly batchRecords: number
  /** Entities (and the header) already in the current file. */
  private written = new WeakSet<object>()
  private pending: CaptureBatch = {records: [], ts: -1n}
  private fileStart = -1n
  private busy: Promise<void> | undefined
  private closed: Promise<SysFlowWriterResult> | undefined

  constructor(readonly path: string, opts: SysFlowWriterOptions = {}) {
    this.rotNs = BigInt(Math.round((opts.rotateInterval ?? 0) * 1e9))
    this.out = new CaptureOutput({path, writer: opts})
    if (this.rotNs > 0n && !(path.endsWith('/') || isDirectory(path))) {
      throw new RangeError(`rotateInterval needs a directory path (existing, or ending in /): ${path}`)
    }
    this.keep = typeof opts.filter === 'string' ? compileFilter(opts.filter) : opts.filter
    this.batchRecords = opts.batchRecords ?? 4096
  }

  /** Write a record. Returns a promise when a batch went to the file: await it before writing more. */
  write(x: SysFlowRecord | Joined): void | Promise<void> {
    if (this.closed) throw new Error('SysFlowWriter.write after close')
    if ('rec' in x) return this.writeJoined(x)
    if (isEvent(x)) return this.writeJoined(this.tables.join(x as EventRecord))
    this.tables.add(x)
    this.push(x)
    this.written.add(x)
    return this.maybeFlush()
  }

  private writeJoined(j: Joined): void | Promise<void> {
    if (this.keep && !this.keep(j)) return
    const ts = j.rec.ts
    if (this.rotNs > 0n) {
      if (this.fileStart < 0n) this.fileStart = ts
      else if (ts - this.fileStart >= this.rotNs) {
        this.fileStart = ts
        this.rotate(ts)
      }
    }
    if (this.pending.ts < 0n) this.pending.ts = ts
    const w = this.written
    const h = j.header ?? this.tables.header ?? NO_HEADER
    if (!w.has(h)) this.entity(h)
    if (j.pod && !w.has(j.pod)) this.entity(j.pod)
    if (j.container && !w.has(j.container)) this.entity(j.container)
    // Ancestors eldest first, so a parent precedes its child as in the collector's output.
    for (let i = j.ancestry.length - 1; i >= 0; i--) if (!w.has(j.ancestry[i])) this.entity(j.ancestry[i])
    if (j.proc && !w.has(j.proc)) this.entity(j.proc)
    if (j.file && !w.has(j.file)) this.entity(j.file)
    if (j.newFile && !w.has(j.newFile)) this.entity(j.newFile)
    this.push(j.rec)
    return this.maybeFlush()
  }

  private entity(e: SysFlowRecord): void {
    this.written.add(e)
    this.push(e)
  }

  private push(r: SysFlowRecord): void {
    this.pending.records.push(r)
  }

  /** A new file starts with the next record; everything it references is written again. */
  private rotate(ts: bigint): void {
    this.send()
    this.pending = {records: [], rotate: true, ts}
    this.written = new WeakSet()
  }

  private maybeFlush(): void | Promise<void> {
    if (this.pending.records.length >= this.batchRecords) {
      this.send()
      this.pending = {records: [], ts: -1n}
    }
    return this.busy
  }

  /** Hand the pending batch to the output, after the one before it. */
  private send(): void {
    const b = this.pending
    if (b.records.length === 0 && !b.rotate) return
    if (b.ts < 0n) b.ts = 0n
    const p: Promise<void> = (this.busy ?? Promise.resolve()).then(() => this.out.write(b)).then(() => {
      if (this.busy === p) this.busy = undefined
    })
    this.busy = p
  }

  /** Write what is pending and close the file(s). */
  close(): Promise<SysFlowWriterResult> {
    this.closed ??= (async () => {
      this.send()
      this.pending = {records: [], ts: -1n}
      try {
        await this.busy
        await this.out.close()
      } catch (e) {
        this.out.abort()
        throw e
      }
      return {records: this.out.written, files: [...this.out.files]}
    })()
    return this.closed
  }
}

/** A .sf writer at `path` (a file, or a directory for rotated files). */
export function writer(path: string, options: SysFlowWriterOptions = {}): SysFlowWriter {
  return new SysFlowWriter(path, options)
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}
