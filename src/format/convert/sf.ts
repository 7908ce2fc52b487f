// .sf output: the selected event and flow records of some traces, re-encoded as one self-contained trace (or a
// set of rotated ones), with exactly the entities the surviving records reference.
//
// Layout (sysflow-format.md §6): the header first; each entity written just before the first surviving record
// that needs it, and again when the input replaced it (a different entity object under the same key): the
// process with all its known ancestors (root first), each process's container and that container's pod, the
// file(s) and their containers. A filtered trace therefore never leaks unrelated processes or containers, and
// every reference of a kept record resolves in the output exactly as it did in the input.
//
// Sections: each input, and within it each header, starts a section, and a reader's entity tables start over at
// each (sysprint reads every file with a reader of its own and resets at every header). The output keeps them apart:
// before the first kept record of a section it writes that section's header, as read (exporter, ip, filename and
// version: each record keeps the header it was read under), and the entities the section's records need are written
// again under it. So the same OID in two inputs stays two processes, even when the inputs are rotations of one
// capture: the collector starts each rotated file with a header and re-exports what is live (REUP), so a rotated
// file never needs another file's entities, and sysprint reads it alone just as well. An input with no header of
// its own has none in the output either when it comes first; after another section it gets a synthesized one (with
// a warning: only a header resets a reader's tables). With no kept record, the output is the first input header.
//
// Schema: see ./sf-schema.ts (the inputs' own; for inputs whose schemas carry different fields, their union).
//
// Rotation: records go to `open(epoch)` files by their start time, one file per window of `rotate` seconds
// (epoch = the window's start in seconds). A record that started before the current window (a long flow) stays in
// the file being written, as in the collector, which rotates by wall-clock time. Each file is self-contained:
// the header, then the entities its records need; one already written to an earlier file is written again with
// state REUP, as the collector's re-export at rotation does.
//
// Entities are joined record by record against the tables as they stand at that record, so ancestry is exact
// even when a header or a replaced parent follows later in the same block.
import {describeUnresolved, JoinTables} from '../join.js'
import {PipelineOptions, PipelineStats} from '../pipeline.js'
import {readTraces, TraceInput} from '../reader.js'
import {Container, EventRecord, File, isEvent, Kind, KIND_ABBREV, Pod, Process, SFHeader} from '../records.js'
import {headerVersion, SchemaVersion} from '../schema.js'
import {ByteSink, TraceWriter} from '../writer.js'
import {ConvertOptionError} from './errors.js'
import {extraSymbols, fitSchema, planSfSchema, refusal, schemaDifference, schemaVersionOf, SfSchemaPlan} from './sf-schema.js'
import {checkAborted, RecordSelection, selects} from './select.js'

export interface SfOutputOptions extends PipelineOptions, RecordSelection {
  /** Output schema version, forced (see the top of this file). Default: the inputs' (stdin is not looked at in advance). */
  schema?: SchemaVersion
  /** The schema decided in advance by planSfSchema (convert does so on the plain inputs); `schema` is then unused. */
  plan?: SfSchemaPlan
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

type Entity = Process | File | Container | Pod

/** Writes kept records into the current file, each preceded by the header and entities it needs that the file lacks. */
class ClosureWriter {
  private writer: TraceWriter | undefined
  /** The section (input, or header within it) whose header the output holds last; -1: none yet. */
  private outSection = -1
  /** Bumped at every file and every output header: an entity is current if written in this generation. */
  private gen = 0
  private fileGen = 0
  private readonly written = new WeakMap<Entity, number>()
  /** The first input header read: the header of an output with no kept record. */
  first: SFHeader | undefined
  private windowEnd = -1n
  private readonly windowNs: bigint
  windows: bigint[] = []
  count = 0
  /** The version written; settled by the first input opened when no input could be looked at in advance. */
  schema: SchemaVersion | undefined
  /** Fields of that version left out (see SfSchemaPlan). */
  omit: string[]
  /** Fields of that version written nullable (see SfSchemaPlan). */
  nullable: string[]
  /** Enum symbols appended (see SfSchemaPlan). */
  symbols: Record<string, string[]>

  constructor(private readonly target: SfTarget, plan: SfSchemaPlan, private readonly opts: SfOutputOptions) {
    this.windowNs = 'rotate' in target ? BigInt(target.rotate) * 1_000_000_000n : 0n
    this.schema = plan.schema
    this.omit = plan.omit
    this.nullable = plan.nullable
    this.symbols = plan.symbols
    this.forced = plan.forced
  }

  private readonly forced: boolean
  /** Called when a header is synthesized for an input without one (after another section). */
  onSynthesized: (() => void) | undefined

  /** Write a record (with the header and entities it needs) of section `section`, joined against `tables`. */
  record(rec: EventRecord, tables: JoinTables, section: number): void | Promise<void> {
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
        const switching = this.switchFile(start, tables.header, section)
        if (switching) return switching.then(() => this.record(rec, tables, section))
      }
    } else if (this.writer === undefined) {
      this.startFile((this.target as {sink: ByteSink}).sink, tables.header, section)
    }
    if (section !== this.outSection) {
      // Another section: its own header, and the entity tables of readers start over. An input without a header
      // gets a synthesized one here: only a header makes a reader forget the entities of the section before.
      this.outSection = section
      this.gen++
      if (tables.header === undefined) this.onSynthesized?.()
      put(this.headerFor(tables.header))
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

  /** The output header of an input header: as read, but for the version when a schema was forced. */
  private headerFor(h: SFHeader | undefined): SFHeader {
    const schema = this.schema ?? '5'
    const version = headerVersion(schema)
    if (h === undefined) return {kind: Kind.Header, version, exporter: '', ip: undefined, filename: undefined}
    return !this.forced || h.version === version ? h : {...h, version}
  }

  /**
   * Open a file for section `section` (-1: an output with no kept record) and write its header. A file that starts
   * in a section without a header has none either, as its input (a reader's tables are empty there anyway); an
   * empty output gets the first input header, or a synthesized one.
   */
  private startFile(sink: ByteSink, h: SFHeader | undefined, section: number): void {
    this.schema ??= '5'
    this.writer = new TraceWriter(sink, {schema: this.schema, omit: this.omit, nullable: this.nullable, symbols: this.symbols, codec: this.opts.codec, blockBytes: this.opts.blockBytes, sync: this.opts.sync})
    this.gen++
    this.fileGen = this.gen
    this.outSection = section
    if (h === undefined && section >= 0) return
    // A fresh writer rarely asks to wait here; if it does, the writes that follow are chained behind this one by
    // the writer and carry any failure, so this promise need not be awaited.
    this.writer.write(this.headerFor(h))?.catch(() => undefined)
    this.count++
  }

  /** Close the current window's file (if any) and open the one starting at `start` ns. */
  private switchFile(start: bigint, h: SFHeader | undefined, section: number): Promise<void> | undefined {
    const t = this.target as Extract<SfTarget, {rotate: number}>
    const open = (): void => {
      this.windowEnd = start + this.windowNs
      const epoch = start / 1_000_000_000n
      this.windows.push(epoch)
      this.startFile(t.open(epoch), h, section)
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
    if (this.writer === undefined && 'sink' in this.target) this.startFile(this.target.sink, this.first, -1)
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
  const plan = opts.plan ?? (await planSfSchema(inputs, opts.schema))
  const stats = new PipelineStats() as SfResult
  stats.selected = 0
  stats.written = 0
  stats.windows = []
  const out = new ClosureWriter(target, plan, opts)
  const tables = new JoinTables()
  const counts = new Array<number>(KIND_ABBREV.length).fill(0)
  const limit = opts.limit ?? Infinity
  let lastFile: string | undefined
  /** Bumped at every input and every header: see "Sections" at the top of this file. */
  let section = 0
  const flushUnresolved = (file: string | undefined): void => {
    const text = describeUnresolved(tables.unresolved)
    if (file !== undefined && text) opts.onWarning?.({file, offset: -1, message: text, skippedRecords: 0, skippedBytes: 0})
    Object.assign(tables.unresolved, {process: 0, parent: 0, file: 0, container: 0, pod: 0})
  }
  const warn = (file: string, message: string): void => opts.onWarning?.({file, offset: -1, skippedRecords: 0, skippedBytes: 0, message})
  const onOpen = (info: {file: string; schemaJson: string; codec: string}): void => {
    opts.onOpen?.(info)
    flushUnresolved(lastFile)
    lastFile = info.file
    tables.reset(undefined)
    section++
    const v = schemaVersionOf(info.schemaJson)
    if (out.schema === undefined) {
      const fit = fitSchema(info.schemaJson)
      out.schema = fit.version
      out.omit = fit.omit
      out.symbols = extraSymbols([info.schemaJson], fit.version)
    }
    const schema = out.schema
    if (!plan.forced) {
      const refused = refusal(info.file, info.schemaJson, schema, out.omit, out.nullable, undefined)
      if (refused) throw refused
      return
    }
    const diff = schemaDifference(info.schemaJson, schema)
    if (diff.lacking.length > 0) warn(info.file, `schema ${v} trace lacks ${diff.lacking.join(', ')}: written with schema ${schema}'s defaults`)
    if (diff.extra.length > 0) warn(info.file, `schema ${v} trace written as schema ${schema}: its ${diff.extra.join(', ')} dropped`)
  }
  out.onSynthesized = () => warn(lastFile ?? '-', 'no header before its first records: a header with an empty node and file name is written in front of them, so that they do not join with the entities of the input before')
  let done = limit <= 0
  try {
    if (!done) {
      for await (const batch of readTraces(inputs, {...opts, onOpen}, stats)) {
        checkAborted(opts.signal)
        for (const r of batch.records) {
          counts[r.kind]++
          if (!isEvent(r)) {
            tables.add(r)
            if (r.kind === Kind.Header) {
              out.first ??= r
              section++
            }
            continue
          }
          stats.events++
          const j = tables.join(r)
          if (!selects(opts, j)) continue
          const wait = out.record(r, tables, section)
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
    stats.schema = out.schema ?? '5'
  }
  return stats
}
