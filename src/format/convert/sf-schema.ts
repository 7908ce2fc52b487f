// The writer schema of a .sf output, and which inputs it can hold without changing a value.
//
// Schema: one Avro file has one writer schema. The output's is the inputs' own: the version that fits the writer
// schema (fitSchema: its own version whenever it is one of ours; for a variant writer, the version that drops
// nothing, less the fields the variant lacked), so a value an input lacks stays absent. Inputs whose schemas differ
// only in labels merge under the newest (1000ms and 1000); a nullable field an input lacks is written as null.
// Inputs whose schemas carry different fields (a v1000 trace, without SFHeader.ip or Process.entry, and a v5 one)
// merge the Avro way: the output schema is the union of their fields (unionFields): a field every input has keeps
// its type, one only some have becomes ["null", T] with default null and is null in the records of the others (so
// it reads back absent, here and in any Avro reader), and one no input has is left out. An explicit schema
// version (--schema) is obeyed: fields it needs that an input lacks get the schema's default (or an empty value),
// fields it lacks are dropped, each with one warning per input; the headers then say its version.
import fs from 'node:fs'
import {canonicalFields} from '../avro/compile.js'
import {readTrace, TraceInput} from '../reader.js'
import {SCHEMA_VERSIONS, SchemaVersion, sysflowSchema} from '../schema.js'
import {ConvertOptionError} from './errors.js'

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

export const rank = (v: SchemaVersion): number => SCHEMA_VERSIONS.indexOf(v)
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
  /** Fields (`Record.field`) of that version left out of the output: every input that has the record lacks them. */
  omit: string[]
  /** Fields (`Record.field`) written as `["null", T]` (default null): some inputs have them, others lack them. */
  nullable: string[]
  /** Enum symbols the inputs' writers had and the version lacks, by short enum name (kept as text by the reader). */
  symbols: Record<string, string[]>
  /** Given by the caller (--schema): obeyed even where an input lacks fields it needs. */
  forced: boolean
}

const parseSchema = (json: string): unknown => {
  try {
    return JSON.parse(json)
  } catch {
    return undefined
  }
}

/**
 * The union of the inputs' fields within schema `target` (Avro's way to merge writers): a field of `target` that
 * every input having its record lacks is left out (`omit`); one that some have and some lack is written nullable,
 * so the records whose input lacked it write null and read back absent. Fields already nullable in `target`, and
 * fields our typed records do not carry, need neither.
 */
export function unionFields(schemaJsons: readonly string[], target: SchemaVersion): {omit: string[]; nullable: string[]} {
  const haves = schemaJsons.map((j) => memberFields(parseSchema(j)))
  const omit: string[] = []
  const nullable: string[] = []
  for (const [record, fields] of memberFields(sysflowSchema(target))) {
    const holders = haves.filter((h) => h.has(record))
    if (holders.length === 0) continue
    for (const [f, isNullable] of fields) {
      if (isNullable || !(canonicalFields(record) ?? []).some((c) => c.avro === f)) continue
      const n = holders.filter((h) => h.get(record)!.has(f)).length
      if (n === 0) omit.push(`${record}.${f}`)
      else if (n < holders.length) nullable.push(`${record}.${f}`)
    }
  }
  return {omit, nullable}
}

/** The enums of a schema (JSON value): short name -> symbols. */
function enumsOf(t: unknown, out = new Map<string, string[]>()): Map<string, string[]> {
  if (Array.isArray(t)) {
    for (const m of t) enumsOf(m, out)
    return out
  }
  if (typeof t !== 'object' || t === null) return out
  const o = t as {[k: string]: unknown}
  if (o.type === 'enum' && typeof o.name === 'string' && Array.isArray(o.symbols)) {
    out.set(o.name.slice(o.name.lastIndexOf('.') + 1), o.symbols.map(String))
    return out
  }
  if (Array.isArray(o.fields)) for (const f of o.fields as {type: unknown}[]) enumsOf(f.type, out)
  enumsOf(o.items, out)
  enumsOf(o.values, out)
  if (typeof o.type === 'object') enumsOf(o.type, out)
  return out
}

/**
 * Symbols of the inputs' enums that `target`'s same-named enums lack (an older or newer collector's CT_PODMAN),
 * in order of first appearance: the reader keeps them as text, and the output appends them so they are written.
 */
export function extraSymbols(schemaJsons: readonly string[], target: SchemaVersion): Record<string, string[]> {
  const ours = enumsOf(sysflowSchema(target))
  const out: Record<string, string[]> = {}
  for (const json of schemaJsons) {
    for (const [name, symbols] of enumsOf(parseSchema(json))) {
      const have = ours.get(name)
      if (have === undefined) continue
      for (const x of symbols) if (!have.includes(x) && !(out[name] ?? []).includes(x)) (out[name] ??= []).push(x)
    }
  }
  return out
}

/**
 * The refusal of an input whose fields the output schema (`target` without `omit`, with `nullable`) cannot hold
 * without inventing or dropping a value, or undefined when it can. Only an input not looked at in advance (a
 * stream) can meet it, or a set of inputs no version of ours holds together (see planSfSchema).
 */
export function refusal(file: string, schemaJson: string, target: SchemaVersion, omit: readonly string[], nullable: readonly string[], from: string | undefined): ConvertOptionError | undefined {
  const d = schemaDifference(schemaJson, target)
  const own = memberFields(parseSchema(schemaJson))
  const lacking = d.lacking.filter((f) => !omit.includes(f) && !nullable.includes(f))
  const has = (rf: string): boolean => {
    const dot = rf.indexOf('.')
    return own.get(rf.slice(0, dot))?.has(rf.slice(dot + 1)) ?? false
  }
  const extra = [...d.extra, ...omit.filter(has)]
  const what: string[] = []
  const schema = `the output's schema ${target}${omit.length ? ` (without ${omit.join(', ')})` : ''}${from ? `, from ${from},` : ''}`
  if (lacking.length > 0) what.push(`lacks ${lacking.join(', ')}, which ${schema} requires`)
  if (extra.length > 0) what.push(`has ${extra.join(', ')}, which ${schema} lacks`)
  if (what.length === 0) return undefined
  return new ConvertOptionError(
    `${file} (schema ${schemaVersionOf(schemaJson)}) ${what.join(', and ')}: one .sf file has one writer schema, decided from the inputs that are ` +
      `files before reading; convert it separately, or give --schema ${target} to write that schema (its defaults where a value is missing)`,
  )
}

/**
 * Decide the output schema: `forced` if given; else, from the inputs that are regular files, the newest version
 * that one of them fits (fitSchema) and that drops no input's field (the newest such version otherwise), holding
 * the union of their fields (unionFields). Inputs it still cannot hold (a record or field no version of ours has
 * together with the others) are refused (ConvertOptionError). Reads only container headers.
 */
export async function planSfSchema(inputs: readonly TraceInput[], forced?: SchemaVersion): Promise<SfSchemaPlan> {
  if (forced !== undefined) return {schema: forced, omit: [], nullable: [], symbols: {}, forced: true}
  const seen: {name: string; json: string; fit: {version: SchemaVersion; omit: string[]}}[] = []
  for (const input of inputs) {
    if (!isRegularFile(input.name)) continue
    const json = await traceSchemaJson(input)
    if (json !== undefined) seen.push({name: input.name, json, fit: fitSchema(json)})
  }
  let newest: (typeof seen)[number] | undefined
  for (const s of seen) if (newest === undefined || rank(s.fit.version) > rank(newest.fit.version)) newest = s
  if (newest === undefined) return {schema: undefined, omit: [], nullable: [], symbols: {}, forced: false}
  // The newest input's own version when it drops nothing of the others (v5 holds every field of v1000); else the
  // newest version that does (one without a record an older input has).
  const dropsNothing = (v: SchemaVersion): boolean => seen.every((s) => schemaDifference(s.json, v).extra.length === 0)
  const candidates = [newest.fit.version, ...[...SCHEMA_VERSIONS].reverse().filter((v) => rank(v) <= rank(newest!.fit.version))]
  const version = candidates.find(dropsNothing) ?? newest.fit.version
  const {omit, nullable} = unionFields(
    seen.map((s) => s.json),
    version,
  )
  for (const s of seen) {
    const refused = refusal(s.name, s.json, version, omit, nullable, newest.name)
    if (refused) throw refused
  }
  return {schema: version, omit, nullable, symbols: extraSymbols(seen.map((s) => s.json), version), forced: false}
}
