// The writer schema of a .sf output, and which inputs it can hold without changing a value.
//
// Schema: one Avro file has one writer schema. The output's is the inputs' own: the version that fits the writer
// schema (fitSchema: its own version whenever it is one of ours; for a variant writer, the version that drops
// nothing, less the fields the variant lacked), so a value an input lacks stays absent. Inputs whose schemas differ
// only in labels merge under the newest (1000ms and 1000); a nullable field an input lacks is written as null.
// Inputs whose schemas carry different fields (a v1000 trace, without SFHeader.ip or Process.entry, and a v5 one)
// are refused before anything is written: writing them together would invent or drop values. An explicit schema
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
  /** Fields (`Record.field`) of that version left out of the output: every input lacks them. */
  omit: string[]
  /** Given by the caller (--schema): obeyed even where an input lacks fields it needs. */
  forced: boolean
}

/**
 * The refusal of an input whose fields differ from those of the output schema (`target` without `omit`), or
 * undefined when they agree. See the top of this file.
 */
export function refusal(file: string, schemaJson: string, target: SchemaVersion, omit: readonly string[], from: string | undefined): ConvertOptionError | undefined {
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
