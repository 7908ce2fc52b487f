// .sf output: the selected event and flow records of some traces, re-encoded as one self-contained trace (or a
// set of rotated ones), with exactly the entities the surviving records reference.
//
// Layout (sysflow-format.md §6): the header first; each entity written just before the first surviving record
// that needs it, and again when the input replaced it (a different entity object under the same key): the
// process with all its known ancestors (root first), each process's container and that container's pod, the
// file(s) and their containers. A filtered trace therefore never leaks unrelated processes or containers, and
// every reference of a kept record resolves in the output exactly as it did in the input.
//
// Headers: one header, the first input's, for the whole output. A new header is written only where the node
// changes (a header with another exporter or IP among the inputs), so that merged traces of several nodes keep
// each record's sf.node.id; the output's entity tracking restarts after it, as a reader's tables do. The header's
// version is the output schema's (the collector's rule). With no input header at all, one is synthesized.
//
// Rotation: records go to `open(epoch)` files by their start time, one file per window of `rotate` seconds
// (epoch = the window's start in seconds). A record that started before the current window (a long flow) stays in
// the file being written, as in the collector, which rotates by wall-clock time. Each file is self-contained:
// the header, then the entities its records need; one already written to an earlier file is written again with
// state REUP, as the collector's re-export at rotation does.
//
// Entities are joined record by record against the tables as they stand at that record, so ancestry is exact
// even when a header or a replaced parent follows later in the same block.
import fs from 'node:fs'
import {ReadWarning} from '../errors.js'
import {describeUnresolved, JoinTables} from '../join.js'
import {PipelineOptions, PipelineStats} from '../pipeline.js'
import {readTrace, readTraces, TraceInput} from '../reader.js'
import {Container, EventRecord, File, isEvent, Kind, KIND_ABBREV, Pod, Process, SFHeader} from '../records.js'
import {headerVersion, SCHEMA_VERSIONS, SchemaVersion} from '../schema.js'
import {ByteSink, TraceWriter} from '../writer.js'
import {ConvertOptionError} from './errors.js'
import {checkAborted, RecordSelection, selects} from './select.js'

export interface SfOutputOptions extends PipelineOptions, RecordSelection {
  /** Output schema version. Default: the newest among the inputs (stdin is not looked at in advance). */
  schema?: SchemaVersion
  /** Avro block codec (default deflate, as the collector). */
  codec?: 'deflate' | 'null' | 'snappy'
  /** Uncompressed block size at which a block is flushed (default 80000, as the collector). */
  blockBytes?: number
  /** Fixed sync marker (reproducible output). */
  sync?: Buffer
  /** Stop at the next batch when this fires (throws ConvertAbortedError). */
  signal?: AbortSignal
}

/** Where the output goes: one sink, or one sink per rotation window. */
export type SfTarget =
  | {sink: ByteSink}
  | {
      /** Window length in seconds (a positive integer). */
      rotate: number
      /** The sink of the file for the window starting at `epoch` (seconds since the epoch). */
      open: (epoch: bigint) => ByteSink
    }

export interface SfResult extends PipelineStats {
  /** Event and flow records kept. */
  selected: number
  /** Records written, header and entities included. */
  written: number
  /** Schema version written. */
  schema: SchemaVersion
  /** Rotation: the epoch of each file written, in order. */
  windows: bigint[]
}

/** The schema version a trace's writer schema describes (sysflow-format.md §1.5), from its shape. */
export function schemaVersionOf(schemaJson: string): SchemaVersion {
  type Rec = {name?: unknown; fields?: {name?: unknown; default?: unknown}[]}
  let union: unknown
  try {
    union = (JSON.parse(schemaJson) as {fields?: {type?: unknown}[]}).fields?.[0]?.type
  } catch {
    union = undefined
  }
  const members = Array.isArray(union) ? (union as Rec[]) : []
  const member = (short: string): Rec | undefined => members.find((m) => typeof m?.name === 'string' && (m.name === short || m.name.endsWith(`.${short}`)))
  const field = (short: string, name: string) => member(short)?.fields?.find((f) => f?.name === name)
  if (member('Pod')) return field('Process', 'cwd') ? '5' : '4'
  if (member('ProcessFlow')) {
    if (field('SFHeader', 'filename')) return '3'
    return field('SFHeader', 'version')?.default === 1001 ? '1001' : '2'
  }
  return schemaJson.includes('timestamp-millis') ? '1000ms' : '1000'
}

const rank = (v: SchemaVersion): number => SCHEMA_VERSIONS.indexOf(v)
const STOP = Symbol('schema read')

/** The writer schema version of a trace, from its container header alone (undefined if it cannot be read). */
export async function traceSchemaVersion(input: TraceInput): Promise<SchemaVersion | undefined> {
  let found: SchemaVersion | undefined
  try {
    for await (const _ of readTrace(input, {
      onOpen: (i) => {
        found = schemaVersionOf(i.schemaJson)
        throw STOP
      },
    })) break
  } catch (e) {
    if (e !== STOP) return undefined
  }
  return found
}

/** The newest schema among the inputs that are regular files (those can be opened twice). */
export async function newestInputSchema(inputs: readonly TraceInput[]): Promise<SchemaVersion | undefined> {
  let best: SchemaVersion | undefined
  for (const input of inputs) {
    let file = false
    try {
      file = fs.statSync(input.name).isFile()
    } catch {
      file = false
    }
    if (!file) continue
    const v = await traceSchemaVersion(input)
    if (v !== undefined && (best === undefined || rank(v) > rank(best))) best = v
  }
  return best
}

type Entity = Process | File | Container | Pod

const sameNode = (a: SFHeader, b: SFHeader): boolean => a.exporter === b.exporter && a.ip === b.ip

/** Writes kept records into the current file, each preceded by the entities it needs that the file lacks. */
class ClosureWriter {
  private writer: TraceWriter | undefined
  /** Header written at the top of the current file (or to be, for the next file). */
  private outHeader: SFHeader | undefined
  /** Last input header looked at (by identity), so the node check runs once per header. */
  private seenHeader: SFHeader | undefined
  /** Bumped at every file and every output header: an entity is current if written in this generation. */
  private gen = 0
  private fileGen = 0
  private readonly written = new WeakMap<Entity, number>()
  /** The first input header read: the output's header unless the first kept record comes from another node. */
  first: SFHeader | undefined
  private windowEnd = -1n
  private readonly windowNs: bigint
  windows: bigint[] = []
  count = 0

  constructor(private readonly target: SfTarget, private readonly schema: SchemaVersion, private readonly opts: SfOutputOptions) {
    this.windowNs = 'rotate' in target ? BigInt(target.rotate) * 1_000_000_000n : 0n
  }

  /** Write a record (with the entities it needs) joined against `tables`. */
  record(rec: EventRecord, tables: JoinTables): void | Promise<void> {
    const pending: Promise<void>[] = []
    const put = (r: SFHeader | Entity | EventRecord): void => {
      const p = this.writer!.write(r)
      this.count++
      if (p) pending.push(p)
    }
    // Which file, and which header.
    if ('rotate' in this.target) {
      if (this.writer === undefined || rec.ts >= this.windowEnd) {
        const start = rec.ts - (((rec.ts % this.windowNs) + this.windowNs) % this.windowNs)
        const switching = this.switchFile(start, tables.header)
        if (switching) return switching.then(() => this.record(rec, tables))
      }
    } else if (this.writer === undefined) {
      this.startFile((this.target as {sink: ByteSink}).sink, tables.header)
    }
    const h = tables.header
    if (h !== this.seenHeader) {
      this.seenHeader = h
      if (h !== undefined && this.outHeader !== undefined && !sameNode(h, this.outHeader)) {
        // Another node: a header of its own, and the entity tables of readers start over.
        this.outHeader = this.headerFor(h)
        this.gen++
        put(this.outHeader)
      }
    }
    if (rec.kind !== Kind.K8sEvent) {
      const proc = tables.process(rec.procOID)
      if (proc !== undefined) {
        const line = tables.ancestry(proc)
        for (let i = line.length - 1; i >= 0; i--) {
          const p = line[i]
          this.containerOf(p.containerId, tables, put)
          if (this.written.get(p) !== this.gen) this.entity(p, put)
        }
      }
      if (rec.kind === Kind.FileFlow || rec.kind === Kind.FileEvent) {
        this.fileOf(rec.fileOID, tables, put)
        if (rec.kind === Kind.FileEvent && rec.newFileOID !== null) this.fileOf(rec.newFileOID, tables, put)
      }
    }
    put(rec)
    if (pending.length === 1) return pending[0]
    if (pending.length > 1) return Promise.all(pending).then(() => undefined)
  }

  private fileOf(foid: string, tables: JoinTables, put: (r: Entity) => void): void {
    const f = tables.file(foid)
    if (f === undefined) return
    this.containerOf(f.containerId, tables, put)
    if (this.written.get(f) !== this.gen) this.entity(f, put)
  }

  private containerOf(id: string | null | undefined, tables: JoinTables, put: (r: Entity) => void): void {
    if (!id) return
    const c = tables.container(id)
    if (c === undefined) return
    if (c.podId) {
      const pod = tables.pod(c.podId)
      if (pod !== undefined && this.written.get(pod) !== this.gen) this.entity(pod, put)
    }
    if (this.written.get(c) !== this.gen) this.entity(c, put)
  }

  /** Write an entity; one written to an earlier file of a rotation goes again as REUP. */
  private entity(e: Entity, put: (r: Entity) => void): void {
    const before = this.written.get(e)
    this.written.set(e, this.gen)
    if (before !== undefined && before < this.fileGen && 'state' in e && e.state !== 'REUP') put({...e, state: 'REUP'})
    else put(e)
  }

  private headerFor(h: SFHeader | undefined): SFHeader {
    const version = headerVersion(this.schema)
    if (h === undefined) return {kind: Kind.Header, version, exporter: '', ip: 'NA', filename: ''}
    return h.version === version ? h : {...h, version}
  }

  private startFile(sink: ByteSink, h: SFHeader | undefined): void {
    this.writer = new TraceWriter(sink, {schema: this.schema, codec: this.opts.codec, blockBytes: this.opts.blockBytes, sync: this.opts.sync})
    const first = this.first
    this.outHeader ??= this.headerFor(first !== undefined && (h === undefined || sameNode(first, h)) ? first : h)
    this.seenHeader = undefined
    this.gen++
    this.fileGen = this.gen
    // A fresh writer rarely asks to wait here; if it does, the writes that follow are chained behind this one by
    // the writer and carry any failure, so this promise need not be awaited.
    this.writer.write(this.outHeader)?.catch(() => undefined)
    this.count++
  }

  /** Close the current window's file (if any) and open the one starting at `start` ns. */
  private switchFile(start: bigint, h: SFHeader | undefined): Promise<void> | undefined {
    const t = this.target as Extract<SfTarget, {rotate: number}>
    const open = (): void => {
      this.windowEnd = start + this.windowNs
      const epoch = start / 1_000_000_000n
      this.windows.push(epoch)
      this.startFile(t.open(epoch), h)
    }
    if (this.writer === undefined) {
      open()
      return undefined
    }
    const closing = this.writer.close()
    this.writer = undefined
    return closing.then(open)
  }

  /** Finish: a single output gets at least its header; a rotation with no record has no file at all. */
  async close(): Promise<void> {
    if (this.writer === undefined && 'sink' in this.target) this.startFile(this.target.sink, this.first)
    const w = this.writer
    this.writer = undefined
    if (w) await w.close()
  }

  /** Close the sinks after a failure, ignoring their own errors. */
  async abandon(): Promise<void> {
    const w = this.writer
    this.writer = undefined
    await w?.close().catch(() => undefined)
  }
}

/**
 * Convert `inputs` to SysFlow: the selected records with exactly the entities they reference (see the top of this
 * file). Warnings and input errors go to `onWarning`/`onError` as in the reading pipeline.
 */
export async function writeSf(inputs: readonly TraceInput[], target: SfTarget, opts: SfOutputOptions = {}): Promise<SfResult> {
  if ('rotate' in target && !(Number.isSafeInteger(target.rotate) && target.rotate > 0)) {
    throw new ConvertOptionError(`rotation needs a whole number of seconds above 0, got ${target.rotate}`)
  }
  const schema = opts.schema ?? (await newestInputSchema(inputs)) ?? '5'
  const stats = new PipelineStats() as SfResult
  stats.selected = 0
  stats.written = 0
  stats.schema = schema
  stats.windows = []
  const out = new ClosureWriter(target, schema, opts)
  const tables = new JoinTables()
  const counts = new Array<number>(KIND_ABBREV.length).fill(0)
  const limit = opts.limit ?? Infinity
  let lastFile: string | undefined
  const flushUnresolved = (file: string | undefined): void => {
    const text = describeUnresolved(tables.unresolved)
    if (file !== undefined && text) opts.onWarning?.({file, offset: -1, message: text, skippedRecords: 0, skippedBytes: 0})
    Object.assign(tables.unresolved, {process: 0, parent: 0, file: 0, container: 0, pod: 0})
  }
  const onOpen = (info: {file: string; schemaJson: string; codec: string}): void => {
    opts.onOpen?.(info)
    const v = schemaVersionOf(info.schemaJson)
    if (rank(v) > rank(schema)) {
      const w: ReadWarning = {file: info.file, offset: -1, skippedRecords: 0, skippedBytes: 0, message: `schema ${v} trace written as schema ${schema}: what ${schema} lacks is dropped`}
      opts.onWarning?.(w)
    }
  }
  let done = limit <= 0
  try {
    if (!done) {
      for await (const batch of readTraces(inputs, {...opts, onOpen}, stats)) {
        checkAborted(opts.signal)
        if (batch.file !== lastFile) {
          flushUnresolved(lastFile)
          lastFile = batch.file
        }
        for (const r of batch.records) {
          counts[r.kind]++
          if (!isEvent(r)) {
            tables.add(r)
            if (r.kind === Kind.Header) out.first ??= r
            continue
          }
          stats.events++
          const j = tables.join(r)
          if (!selects(opts, j)) continue
          const wait = out.record(r, tables)
          if (wait) await wait
          if (++stats.selected >= limit) {
            done = true
            break
          }
        }
        if (done) break
      }
    }
    checkAborted(opts.signal)
    await out.close()
  } catch (e) {
    await out.abandon()
    throw e
  } finally {
    flushUnresolved(lastFile)
    counts.forEach((n, k) => {
      if (n > 0) stats.counts[KIND_ABBREV[k]] = n
    })
    stats.written = out.count
    stats.windows = out.windows
  }
  return stats
}
