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
// Schema: one Avro file has one writer schema. The output's is the inputs' own: the version that fits the writer
// schema (fitSchema: its own version whenever it is one of ours; for a variant writer, the version that drops
// nothing, less the fields the variant lacked), so a value an input lacks stays absent. Inputs whose schemas differ
// only in labels merge under the newest (1000ms and 1000); a nullable field an input lacks is written as null.
// Inputs whose schemas carry different fields (a v1000 trace, without SFHeader.ip or Process.entry, and a v5 one)
// are refused before anything is written: writing them together would invent or drop values. An explicit schema
// version (--schema) is obeyed: fields it needs that an input lacks get the schema's default (or an empty value),
// fields it lacks are dropped, each with one warning per input; the headers then say its version.

// Rotation: records go to `open(epoch)` files by their start time, one file per window of `rotate` seconds
// (epoch = the window's start in seconds). A record that started before the current window (a long flow) stays in
// the file being written, as in the collector, which rotates by wall-clock time. Each file is self-contained:
// the header, then the entities its records need; one already written to an earlier file is written again with
// state REUP, as the collector's re-export at rotation does.
//
// Entities are joined record by record against the tables as they stand at that record, so ancestry is exact
// even when a header or a replaced parent follows later in the same block.
import fs from 'node:fs'
import {describeUnresolved, JoinTables} from '../join.js'
import {PipelineOptions, PipelineStats} from '../pipeline.js'
import {readTrace, readTraces, TraceInput} from '../reader.js'
import {Container, EventRecord, File, isEvent, Kind, KIND_ABBREV, Pod, Process, SFHeader} from '../records.js'
import {canonicalFields} from '../avro/compile.js'
import {headerVersion, SCHEMA_VERSIONS, SchemaVersion, sysflowSchema} from '../schema.js'
import {ByteSink, TraceWriter} from '../writer.js'
import {ConvertOptionError} from './errors.js'
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

/** The writer schema (JSON text) of a trace, from its container header alone (undefined if it cannot be read). */
export async function traceSchemaJson(input: TraceInput): Promise<string | undefined> {
  let found: string | undefined
  try {
    for await (const _ of readTrace(input, {
      onOpen: (i) => {
        found = i.schemaJson
        throw STOP
      },
    })) break
  } catch (e) {
    if (e !== STOP) return undefined
  }
  return found
}

/** The writer schema version of a trace, from its container header alone (undefined if it cannot be read). */
export async function traceSchemaVersion(input: TraceInput): Promise<SchemaVersion | undefined> {
  const json = await traceSchemaJson(input)
  return json === undefined ? undefined : schemaVersionOf(json)
}

function isRegularFile(name: string): boolean {
  try {
    return fs.statSync(name).isFile()
  } catch {
    return false
  }
}

/** The newest schema among the inputs that are regular files (those can be opened twice). */
export async function newestInputSchema(inputs: readonly TraceInput[]): Promise<SchemaVersion | undefined> {
  let best: SchemaVersion | undefined
  for (const input of inputs) {
    if (!isRegularFile(input.name)) continue
    const v = await traceSchemaVersion(input)
    if (v !== undefined && (best === undefined || rank(v) > rank(best))) best = v
  }
  return best
}

/** Fields of each record member of a schema's `rec` union (name -> nullable), by short record name. */
function memberFields(schema: unknown): Map<string, Map<string, boolean>> {
  const out = new Map<string, Map<string, boolean>>()
  const union = (schema as {fields?: {type?: unknown}[]} | null)?.fields?.[0]?.type
  if (!Array.isArray(union)) return out
  for (const m of union as {name?: unknown; fields?: {name?: unknown; type?: unknown}[]}[]) {
    if (typeof m?.name !== 'string' || !Array.isArray(m.fields)) continue
    out.set(m.name.slice(m.name.lastIndexOf('.') + 1), new Map(m.fields.map((f) => [String(f?.name), Array.isArray(f?.type) && f.type.includes('null')])))
  }
  return out
}

/** How a trace's writer schema differs from schema `target`, in what our typed records carry. */
export interface SchemaDifference {
  /**
   * Fields (`Record.field`) that `target` writes and the trace lacks, among the records both have: what
   * re-encoding the trace in `target` would have to invent. Nullable fields are not counted (an absent value is
   * written as null and reads back empty, e.g. Container.podId before v4).
   */
  lacking: string[]
  /** Fields, and whole records, that the trace has and `target` lacks: what re-encoding would drop. */
  extra: string[]
}

/**
 * Compare a trace's writer schema with schema `target`. Fields our typed records do not carry (v1001's
 * Container.imagerepo, fields we do not know) are left out: no value of theirs ever reaches the writer.
 */
export function schemaDifference(schemaJson: string, target: SchemaVersion): SchemaDifference {
  let parsed: unknown
  try {
    parsed = JSON.parse(schemaJson)
  } catch {
    return {lacking: [], extra: []}
  }
  const have = memberFields(parsed)
  const want = memberFields(sysflowSchema(target))
  const known = (record: string, f: string): boolean => (canonicalFields(record) ?? []).some((c) => c.avro === f)
  const lacking: string[] = []
  const extra: string[] = []
  for (const [record, fields] of want) {
    const own = have.get(record)
    if (own === undefined) continue
    for (const [f, nullable] of fields) if (!nullable && !own.has(f) && known(record, f)) lacking.push(`${record}.${f}`)
  }
  for (const [record, fields] of have) {
    if (canonicalFields(record) === undefined || record === 'OID') continue
    const theirs = want.get(record)
    if (theirs === undefined) extra.push(record)
    else for (const f of fields.keys()) if (!theirs.has(f) && known(record, f)) extra.push(`${record}.${f}`)
  }
  return {lacking, extra}
}

/**
 * The schema a trace's records re-encode in: the version that drops none of its fields and would invent the fewest
 * (its own version, whenever it is one of ours), with those few left out (`omit`) so they stay absent. A variant
 * writer (a NetworkFlow without `fd`, a v5 Process without `cwd`) so gets its version minus what it lacked.
 */
export function fitSchema(schemaJson: string): {version: SchemaVersion; omit: string[]} {
  const detected = schemaVersionOf(schemaJson)
  let best: {version: SchemaVersion; omit: string[]} | undefined
  // The detected version first, so that it wins a tie; then the newest first.
  for (const version of [detected, ...[...SCHEMA_VERSIONS].reverse()]) {
    const d = schemaDifference(schemaJson, version)
    if (d.extra.length > 0) continue
    if (best === undefined || d.lacking.length < best.omit.length) best = {version, omit: d.lacking}
  }
  return best ?? {version: detected, omit: []}
}

/** The writer schema of a .sf output, decided before reading (see the top of this file). */
export interface SfSchemaPlan {
  /** The version written; undefined: the first input's (no input could be looked at in advance, e.g. stdin). */
  schema: SchemaVersion | undefined
  /** Fields (`Record.field`) of that version left out of the output: every input lacks them. */
  omit: string[]
  /** Given by the caller (--schema): obeyed even where an input lacks fields it needs. */
  forced: boolean
}

/**
 * The refusal of an input whose fields differ from those of the output schema (`target` without `omit`), or
 * undefined when they agree. See the top of this file.
 */
function refusal(file: string, schemaJson: string, target: SchemaVersion, omit: readonly string[], from: string | undefined): ConvertOptionError | undefined {
  const d = schemaDifference(schemaJson, target)
  const lacking = d.lacking.filter((f) => !omit.includes(f))
  const extra = [...d.extra, ...omit.filter((f) => !d.lacking.includes(f))]
  const what: string[] = []
  const schema = `the output's schema ${target}${omit.length ? ` (without ${omit.join(', ')})` : ''}${from ? `, from ${from},` : ''}`
  if (lacking.length > 0) what.push(`lacks ${lacking.join(', ')}, which ${schema} requires`)
  if (extra.length > 0) what.push(`has ${extra.join(', ')}, which ${schema} lacks`)
  if (what.length === 0) return undefined
  return new ConvertOptionError(
    `${file} (schema ${schemaVersionOf(schemaJson)}) ${what.join(', and ')}: one .sf file has one writer schema, and merging these would ` +
      `invent or drop values; convert them separately, or give --schema ${target} to write that schema (its defaults where a value is missing)`,
  )
}

/**
 * Decide the output schema: `forced` if given, else the one that fits the newest among the inputs that are regular
 * files (fitSchema); refuse (ConvertOptionError) inputs whose fields differ from it, unless it was forced. Reads
 * only container headers.
 */
export async function planSfSchema(inputs: readonly TraceInput[], forced?: SchemaVersion): Promise<SfSchemaPlan> {
  if (forced !== undefined) return {schema: forced, omit: [], forced: true}
  const seen: {name: string; json: string; fit: {version: SchemaVersion; omit: string[]}}[] = []
  for (const input of inputs) {
    if (!isRegularFile(input.name)) continue
    const json = await traceSchemaJson(input)
    if (json !== undefined) seen.push({name: input.name, json, fit: fitSchema(json)})
  }
  let newest: (typeof seen)[number] | undefined
  for (const s of seen) if (newest === undefined || rank(s.fit.version) > rank(newest.fit.version)) newest = s
  if (newest === undefined) return {schema: undefined, omit: [], forced: false}
  const {version, omit} = newest.fit
  for (const s of seen) {
    const refused = refusal(s.name, s.json, version, omit, newest.name)
    if (refused) throw refused
  }
  return {schema: version, omit, forced: false}
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

  constructor(private readonly target: SfTarget, plan: SfSchemaPlan, private readonly opts: SfOutputOptions) {
    this.windowNs = 'rotate' in target ? BigInt(target.rotate) * 1_000_000_000n : 0n
    this.schema = plan.schema
    this.omit = plan.omit
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
    this.writer = new TraceWriter(sink, {schema: this.schema, omit: this.omit, codec: this.opts.codec, blockBytes: this.opts.blockBytes, sync: this.opts.sync})
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
    }
    const schema = out.schema
    if (!plan.forced) {
      const refused = refusal(info.file, info.schemaJson, schema, out.omit, undefined)
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
