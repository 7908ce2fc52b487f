// Compiles a file's writer schema into one decoder for its `rec` union: Avro schema resolution, with our record
// model (records.ts, the CANON table below) as the reader's schema.
//
// avsc parses and validates the writer schema (names, namespaces, references); we then walk avsc's type tree and
// build, for each union member we know (by full name, else by unqualified name, as Avro matches named types), a
// reader that produces the canonical typed record of records.ts. Following the spec's resolution rules:
//   - writer fields we do not know are decoded and dropped (generated skip code, any type);
//   - canonical fields the writer lacks are absent: `undefined` (nullable ones `null`, the Avro default), and
//     every output shows them empty. Only the identity fields (OIDs, FOIDs, ts, container and pod ids) cannot be
//     absent: a member whose writer lacks one is skipped whole, like a member we do not know, and said why;
//   - promotions (int -> long), string <- bytes, unions in any order (null first or last, a writer union where we
//     expect a plain type: its null branch reads as absent), enum symbols we do not know (kept as their text);
//   - a writer type that cannot be read as ours leaves that field absent, with one note per file (`notes`).
// All of this is decided once per file; the per-record code is straight-line.
//
// The record readers are generated with `new Function` for speed (one monomorphic object literal per record type).
// The generated text contains only our own canonical property names and numbered parameters: nothing from the
// file's schema (which is hostile input) ever becomes code.
import avro from 'avsc'
import {Kind, KIND_FULLNAME} from '../records.js'
import {
  Cursor, DecodeError, readBlockCount, readBoolean, readDouble, readFixedHex, readFloat, readInt, readLong,
  readString, skipString,
} from './binary.js'

export class SchemaError extends Error {
  // Carries no file name: the container reader wraps it in a TraceSchemaError.
  constructor(message: string) {
    super(message)
    this.name = 'SchemaError'
  }
}

export type Reader = (c: Cursor) => unknown

/** What a canonical field expects of the writer's type. */
export type Expect =
  | 'long' | 'int' | 'string' | 'boolean' | 'enum' | 'foid'
  | {opt: Expect} | {array: Expect} | {map: Expect} | {record: string}

export interface CanonField {
  /** Avro field name in the writer schema. */
  avro: string
  /** Property name on the typed record (differs only for K8sEvent.kind). */
  prop: string
  expect: Expect
  /** Identity (joins, order): a writer member without it cannot be read at all. */
  key?: boolean
  /** Absent reads as `null` (a nullable reference: no parent, no container, no new file) rather than `undefined`. */
  absentNull?: boolean
  /**
   * Added after schema v1 (the .sf writer fills these when a record leaves them undefined). The reader no longer
   * uses it: any non-key field may be absent.
   */
  optional?: boolean
}

const OID: Expect = {record: 'OID'}
const f = (avro: string, expect: Expect, prop = avro): CanonField => ({avro, prop, expect})
const later = (avro: string, expect: Expect): CanonField => ({avro, prop: avro, expect, optional: true})
const key = (avro: string, expect: Expect): CanonField => ({avro, prop: avro, expect, key: true})
const ref = (avro: string, expect: Expect): CanonField => ({avro, prop: avro, expect, absentNull: true})
const head = [key('procOID', OID), key('ts', 'long'), f('tid', 'long'), f('opFlags', 'int')]
const counters = ['numRRecvOps', 'numWSendOps', 'numRRecvBytes', 'numWSendBytes'].map((n) => f(n, 'long'))
const ints = (...names: string[]) => names.map((n) => f(n, 'int'))

/** Canonical (v5) fields of every record we decode, by short Avro name. */
const CANON: Record<string, CanonField[]> = {
  OID: [key('createTS', 'long'), key('hpid', 'long')],
  Port: [...ints('port', 'targetPort', 'nodePort'), f('proto', 'string')],
  Service: [f('name', 'string'), f('id', 'string'), f('namespace', 'string'), f('portList', {array: {record: 'Port'}}), f('clusterIP', {array: 'long'})],
  SFHeader: [f('version', 'long'), f('exporter', 'string'), later('ip', 'string'), later('filename', 'string')],
  // podId stays `undefined` when absent (schema < v4), as the typed record has always had it.
  Container: [key('id', 'string'), f('name', 'string'), f('image', 'string'), f('imageid', 'string'), f('type', 'enum'), f('privileged', 'boolean'), later('podId', {opt: 'string'})],
  Process: [
    f('state', 'enum'), key('oid', OID), ref('poid', {opt: OID}), key('ts', 'long'), f('exe', 'string'), f('exeArgs', 'string'),
    f('uid', 'int'), f('userName', 'string'), f('gid', 'int'), f('groupName', 'string'), f('tty', 'boolean'),
    ref('containerId', {opt: 'string'}), later('entry', 'boolean'), later('cwd', 'string'), later('env', {array: 'string'}),
  ],
  File: [f('state', 'enum'), key('oid', 'foid'), key('ts', 'long'), f('restype', 'int'), f('path', 'string'), ref('containerId', {opt: 'string'})],
  ProcessEvent: [...head, f('args', {array: 'string'}), f('ret', 'int')],
  NetworkFlow: [...head, f('endTs', 'long'), ...ints('sip', 'sport', 'dip', 'dport', 'proto', 'fd'), ...counters],
  FileFlow: [...head, f('openFlags', 'int'), f('endTs', 'long'), key('fileOID', 'foid'), f('fd', 'int'), ...counters],
  FileEvent: [...head, key('fileOID', 'foid'), f('ret', 'int'), ref('newFileOID', {opt: 'foid'})],
  NetworkEvent: [...head, ...ints('sip', 'sport', 'dip', 'dport', 'proto', 'ret')],
  ProcessFlow: [key('procOID', OID), key('ts', 'long'), f('numThreadsCloned', 'long'), f('opFlags', 'int'), f('endTs', 'long'), f('numThreadsExited', 'long'), f('numCloneErrors', 'long')],
  Pod: [
    key('ts', 'long'), key('id', 'string'), f('name', 'string'), f('nodeName', 'string'), f('hostIP', {array: 'long'}),
    f('internalIP', {array: 'long'}), f('namespace', 'string'), f('restartCount', 'long'), f('labels', {map: 'string'}),
    f('selectors', {map: 'string'}), f('services', {array: {record: 'Service'}}),
  ],
  K8sEvent: [f('kind', 'enum', 'component'), f('action', 'enum'), key('ts', 'long'), f('message', 'string')],
}

/** Canonical property names of each kind's typed record, in order (used by the writer and by tests). */
export function canonicalProps(kind: Kind): string[] {
  return CANON[shortName(KIND_FULLNAME[kind])].map((c) => c.prop)
}
export function canonicalFields(shortRecordName: string): readonly CanonField[] {
  return CANON[shortRecordName]
}

function shortName(full: string): string {
  return full.slice(full.lastIndexOf('.') + 1)
}

// avsc's type objects, as far as we read them.
export interface AvscType {
  typeName: string
  name?: string
  fields?: {name: string; type: AvscType}[]
  symbols?: string[]
  size?: number
  itemsType?: AvscType
  valuesType?: AvscType
  types?: AvscType[]
}

/** A decoder for one file's `rec` union. */
export interface RecDecoder {
  /** Decode one top-level datum: a typed record, or `undefined` for a union member we do not read. */
  (c: Cursor): unknown
  /** Writer branch index -> canonical Kind (-1 for members we do not read). */
  branchKinds: readonly number[]
  /** Writer branch names, for messages. */
  branchNames: readonly string[]
  /** Why a writer branch is not read (unknown type, or an identity field it lacks), per branch; '' when it is. */
  branchWhy: readonly string[]
  /** Records skipped so far per writer branch (members we do not read). */
  skipped: number[]
  /** Writer fields that cannot be read as ours (left absent): one line each, decided once for the file. */
  notes: readonly string[]
  /** The writer's union members (avsc types), for decoders generated from the same resolution (columnar/). */
  branchTypes: readonly AvscType[]
  /** The skip reader of each writer branch (members we do not read are decoded and dropped). */
  skippers: readonly Reader[]
}

/** The canonical Kind of a writer record name: by full name, else by unqualified name (Avro's name matching). */
function kindOf(name: string): number {
  const full = (KIND_FULLNAME as readonly string[]).indexOf(name)
  if (full >= 0) return full
  const short = shortName(name)
  return KIND_FULLNAME.findIndex((n) => shortName(n) === short)
}

/** Parse and compile a writer schema (JSON text from the file's metadata). Throws SchemaError. */
export function compileWriterSchema(schemaJson: string): RecDecoder {
  let parsed: unknown
  try {
    parsed = JSON.parse(schemaJson)
  } catch (e) {
    throw new SchemaError(`writer schema is not valid JSON (${(e as Error).message})`)
  }
  let root: AvscType
  try {
    // No logicalTypes option: legacy `timestamp-millis` annotations on nanosecond longs are ignored.
    root = avro.Type.forSchema(parsed as avro.Schema, {wrapUnions: true}) as unknown as AvscType
  } catch (e) {
    throw new SchemaError(`writer schema is not a valid Avro schema (${(e as Error).message})`)
  }
  if (root.typeName !== 'record' || root.fields?.length !== 1 || root.fields[0].type.typeName.indexOf('union') !== 0) {
    throw new SchemaError(`writer schema is not a SysFlow schema (expected record sysflow.SysFlow with one union field "rec", got ${root.typeName} ${root.name ?? ''})`)
  }
  const branches = root.fields[0].type.types ?? []
  const branchKinds: number[] = []
  const branchNames: string[] = []
  const branchWhy: string[] = []
  const notes: string[] = []
  const readers: (Reader | undefined)[] = []
  const skippers: Reader[] = []
  for (const b of branches) {
    const name = b.name ?? b.typeName
    branchNames.push(name)
    let kind = b.typeName === 'record' ? kindOf(name) : -1
    let why = kind < 0 ? 'a record type this version does not know' : ''
    let reader: Reader | undefined
    if (kind >= 0) {
      const r = compileRecord(b, shortName(KIND_FULLNAME[kind]), kind, shortName(name), notes)
      if (typeof r === 'string') {
        why = r
        kind = -1
      } else {
        reader = r
      }
    }
    branchKinds.push(kind)
    branchWhy.push(why)
    readers.push(reader)
    skippers.push(compileGeneric(b))
  }
  const n = branches.length
  const skipped = branches.map(() => 0)
  const decoder = ((c: Cursor) => {
    const start = c.pos
    const idx = readInt(c)
    if (idx < 0 || idx >= n) throw new DecodeError(`unknown union branch ${idx} (the writer schema has ${n})`, start)
    const r = readers[idx]
    if (r === undefined) {
      skippers[idx](c)
      skipped[idx]++
      return undefined
    }
    return r(c)
  }) as RecDecoder
  decoder.branchKinds = branchKinds
  decoder.branchNames = branchNames
  decoder.branchWhy = branchWhy
  decoder.skipped = skipped
  decoder.notes = notes
  decoder.branchTypes = branches
  decoder.skippers = skippers
  return decoder
}

/**
 * A reader of writer record `t` into the canonical record `short`, or the reason it cannot be read (a missing
 * or unreadable identity field). `where` names the record in notes.
 */
function compileRecord(t: AvscType, short: string, kind: number | undefined, where: string, notes: string[]): Reader | string {
  const canon = CANON[short]
  if (t.typeName !== 'record' || !canon) return `${where} is not a record`
  const writerFields = t.fields ?? []
  const params: string[] = []
  const args: Reader[] = []
  const lines: string[] = []
  const slot = new Map<string, string>()
  for (const [i, wf] of writerFields.entries()) {
    const cf = canon.find((c) => c.avro === wf.name)
    let reader: Reader | string = cf ? resolve(wf.type, cf.expect, `${where}.${wf.name}`, notes) : compileGeneric(wf.type)
    let readable = cf !== undefined
    if (typeof reader === 'string') {
      if (cf?.key) return `its ${wf.name} field cannot be read (${reader})`
      notes.push(`${where}.${wf.name}: ${reader}; the field is left empty`)
      // Skipped by its writer type; the field stays absent (a generic reader's value, say a long where we expect
      // an int, must not become the field's value).
      reader = compileGeneric(wf.type)
      readable = false
    }
    params.push(`r${i}`)
    args.push(reader)
    if (cf && readable && !slot.has(cf.prop)) {
      lines.push(`const v${i} = r${i}(c);`)
      slot.set(cf.prop, `v${i}`)
    } else {
      lines.push(`r${i}(c);`)
    }
  }
  const props: string[] = []
  if (kind !== undefined) props.push(`kind: ${kind}`)
  for (const cf of canon) {
    const v = slot.get(cf.prop)
    if (v === undefined && cf.key) return `the writer schema has no ${cf.avro} field`
    props.push(`${cf.prop}: ${v ?? (cf.absentNull ? 'null' : 'undefined')}`)
  }
  const body = `return function read${short}(c) {\n${lines.join('\n')}\nreturn {${props.join(', ')}};\n}`
  // eslint-disable-next-line no-new-func
  return new Function(...params, body)(...args) as Reader
}

function describe(t: AvscType): string {
  if (t.typeName.startsWith('union')) return `[${(t.types ?? []).map(describe).join(', ')}]`
  return t.name ?? t.typeName
}

function expected(e: Expect): string {
  if (typeof e === 'string') return e === 'foid' ? 'fixed FOID' : e
  if ('opt' in e) return `[null, ${expected(e.opt)}]`
  if ('array' in e) return `array of ${expected(e.array)}`
  if ('map' in e) return `map of ${expected(e.map)}`
  return `record ${e.record}`
}

/**
 * A reader of writer type `t` as what the canonical field expects, per Avro's resolution rules, or the reason it
 * cannot be read. A writer union where we expect a plain type reads its null branch (and any branch that does not
 * resolve, skipped by its own writer type) as absent.
 */
export function resolve(t: AvscType, e: Expect, where: string, notes: string[]): Reader | string {
  const mismatch = `writer type ${describe(t)} cannot be read as ${expected(e)}`
  const isOpt = typeof e === 'object' && 'opt' in e
  if (t.typeName.startsWith('union')) {
    const types = t.types ?? []
    const inner: Expect = isOpt ? (e as {opt: Expect}).opt : e
    const absent = isOpt ? null : undefined
    const branches = types.map((b): Reader | undefined => {
      if (b.typeName === 'null') return () => absent
      const r = resolve(b, inner, where, notes)
      return typeof r === 'string' ? undefined : r
    })
    if (!branches.some((b, i) => b !== undefined && types[i].typeName !== 'null')) return mismatch
    // Branches that do not resolve are skipped by their writer type and read as absent.
    const readers = branches.map((b, i) => {
      if (b) return b
      const skip = compileGeneric(types[i])
      return (c: Cursor) => {
        skip(c)
        return absent
      }
    })
    // The common case, [null, T] or [T, null], as one test rather than an array lookup.
    if (types.length === 2 && (types[0].typeName === 'null' || types[1].typeName === 'null')) {
      const nullIdx = types[0].typeName === 'null' ? 0 : 1
      const other = readers[1 - nullIdx]
      return (c) => {
        const start = c.pos
        const i = readInt(c)
        if (i === nullIdx) return absent
        if (i === 1 - nullIdx) return other(c)
        throw new DecodeError(`${where}: union branch ${i} out of range`, start)
      }
    }
    return (c) => {
      const start = c.pos
      const i = readInt(c)
      if (i < 0 || i >= readers.length) throw new DecodeError(`${where}: union branch ${i} out of range`, start)
      return readers[i](c)
    }
  }
  if (isOpt) {
    // A plain writer type where we expect [null, T]: every value is present (a writer `null` is always null).
    if (t.typeName === 'null') return () => null
    return resolve(t, (e as {opt: Expect}).opt, where, notes)
  }
  if (typeof e === 'string') {
    switch (e) {
      case 'long':
        if (t.typeName === 'long' || t.typeName === 'abstract:long') return readLong
        if (t.typeName === 'int') return (c) => BigInt(readInt(c)) // promotion
        return mismatch
      case 'int':
        return t.typeName === 'int' ? readInt : mismatch
      case 'string':
        // bytes -> string is a resolution the spec allows; text as UTF-8, as for strings.
        return t.typeName === 'string' || t.typeName === 'bytes' ? readString : mismatch
      case 'boolean':
        return t.typeName === 'boolean' ? readBoolean : mismatch
      case 'enum': {
        if (t.typeName !== 'enum') return mismatch
        // The writer's own symbols: ones we do not know are kept as their text.
        const symbols = t.symbols ?? []
        return (c) => {
          const start = c.pos
          const i = readInt(c)
          if (i < 0 || i >= symbols.length) throw new DecodeError(`enum ${t.name} index ${i} out of range`, start)
          return symbols[i]
        }
      }
      case 'foid': {
        if (t.typeName !== 'fixed') return mismatch
        const size = t.size ?? 0
        return (c) => readFixedHex(c, size)
      }
    }
  }
  if ('array' in e) {
    if (t.typeName !== 'array' || !t.itemsType) return mismatch
    const item = resolve(t.itemsType, e.array, where, notes)
    if (typeof item === 'string') return item
    const min = minBytes(t.itemsType)
    return (c) => {
      const out: unknown[] = []
      for (let n = readBlockCount(c, min); n > 0; n = readBlockCount(c, min)) {
        for (let i = 0; i < n; i++) out.push(item(c))
      }
      return out
    }
  }
  if ('map' in e) {
    if (t.typeName !== 'map' || !t.valuesType) return mismatch
    const value = resolve(t.valuesType, e.map, where, notes)
    if (typeof value === 'string') return value
    const min = 1 + minBytes(t.valuesType)
    return (c) => {
      // Null prototype: keys come from the trace and may be "__proto__".
      const out: Record<string, unknown> = Object.create(null)
      for (let n = readBlockCount(c, min); n > 0; n = readBlockCount(c, min)) {
        for (let i = 0; i < n; i++) {
          const k = readString(c)
          out[k] = value(c)
        }
      }
      return out
    }
  }
  if (typeof e === 'string' || !('record' in e) || t.typeName !== 'record') return mismatch
  return compileRecord(t, e.record, undefined, where, notes)
}

/** Smallest encoding of a value of this type, in bytes (bounds array counts). */
export function minBytes(t: AvscType, depth = 0): number {
  if (depth > 32) return 0 // a recursive writer type: no useful bound
  switch (t.typeName) {
    case 'null':
      return 0
    case 'float':
      return 4
    case 'double':
      return 8
    case 'fixed':
      return t.size ?? 0
    case 'record':
      return (t.fields ?? []).reduce((s, fl) => s + minBytes(fl.type, depth + 1), 0)
    default:
      return 1
  }
}

/** A reader for any writer type, used for fields and union members we skip. */
export function compileGeneric(t: AvscType, seen = new Map<AvscType, Reader>()): Reader {
  const known = seen.get(t)
  if (known) return known
  // Records may be recursive: register a forwarder before compiling the fields.
  let compiled: Reader | undefined
  seen.set(t, (c) => compiled!(c))
  compiled = compileGenericType(t, seen)
  seen.set(t, compiled)
  return compiled
}

function compileGenericType(t: AvscType, seen: Map<AvscType, Reader>): Reader {
  switch (t.typeName) {
    case 'null':
      return () => null
    case 'boolean':
      return readBoolean
    case 'int':
      return readInt
    case 'long':
      return readLong
    case 'float':
      return readFloat
    case 'double':
      return readDouble
    case 'string':
    case 'bytes':
      return skipString
    case 'enum':
      return readInt
    case 'fixed': {
      const size = t.size ?? 0
      return (c) => readFixedHex(c, size)
    }
    case 'array':
    case 'map': {
      const isMap = t.typeName === 'map'
      const inner = t.itemsType ?? t.valuesType
      if (!inner) throw new SchemaError(`${t.typeName} without an item type`)
      const item = compileGeneric(inner, seen)
      const min = minBytes(inner) + (isMap ? 1 : 0)
      return (c) => {
        for (let n = readBlockCount(c, min); n > 0; n = readBlockCount(c, min)) {
          for (let i = 0; i < n; i++) {
            if (isMap) skipString(c)
            item(c)
          }
        }
        return undefined
      }
    }
    case 'record': {
      const fields = (t.fields ?? []).map((fl) => compileGeneric(fl.type, seen))
      return (c) => {
        for (const r of fields) r(c)
        return undefined
      }
    }
    default: {
      if (t.typeName.startsWith('union') && t.types) {
        const branches = t.types.map((b) => compileGeneric(b, seen))
        return (c) => {
          const start = c.pos
          const i = readInt(c)
          if (i < 0 || i >= branches.length) throw new DecodeError(`union branch ${i} out of range`, start)
          return branches[i](c)
        }
      }
      if (t.typeName === 'abstract:long') return readLong
      throw new SchemaError(`unsupported Avro type ${t.typeName}`)
    }
  }
}
