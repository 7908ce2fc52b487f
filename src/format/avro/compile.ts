// Compiles a file's writer schema into one decoder for its `rec` union.
//
// avsc parses and validates the writer schema (names, namespaces, references); we then walk avsc's type tree and
// build, for each union member we know, a reader that produces the canonical typed record of records.ts. Writer
// fields the canonical record lacks are skipped; canonical fields the writer lacks are `undefined`.
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

type Reader = (c: Cursor) => unknown

/** What a canonical field expects of the writer's type. */
type Expect =
  | 'long' | 'int' | 'string' | 'boolean' | 'enum' | 'foid'
  | {opt: Expect} | {array: Expect} | {map: Expect} | {record: string}

interface CanonField {
  /** Avro field name in the writer schema. */
  avro: string
  /** Property name on the typed record (differs only for K8sEvent.kind). */
  prop: string
  expect: Expect
  /** Added after schema v1: absent in older writers, so `undefined` rather than an error. */
  optional?: boolean
}

const OID: Expect = {record: 'OID'}
const f = (avro: string, expect: Expect, optional = false, prop = avro): CanonField => ({avro, prop, expect, optional})
const head = [f('procOID', OID), f('ts', 'long'), f('tid', 'long'), f('opFlags', 'int')]
const counters = ['numRRecvOps', 'numWSendOps', 'numRRecvBytes', 'numWSendBytes'].map((n) => f(n, 'long'))
const ints = (...names: string[]) => names.map((n) => f(n, 'int'))

/** Canonical (v5) fields of every record we decode, by short Avro name. */
const CANON: Record<string, CanonField[]> = {
  OID: [f('createTS', 'long'), f('hpid', 'long')],
  Port: [...ints('port', 'targetPort', 'nodePort'), f('proto', 'string')],
  Service: [f('name', 'string'), f('id', 'string'), f('namespace', 'string'), f('portList', {array: {record: 'Port'}}), f('clusterIP', {array: 'long'})],
  SFHeader: [f('version', 'long'), f('exporter', 'string'), f('ip', 'string', true), f('filename', 'string', true)],
  Container: [f('id', 'string'), f('name', 'string'), f('image', 'string'), f('imageid', 'string'), f('type', 'enum'), f('privileged', 'boolean'), f('podId', {opt: 'string'}, true)],
  Process: [
    f('state', 'enum'), f('oid', OID), f('poid', {opt: OID}), f('ts', 'long'), f('exe', 'string'), f('exeArgs', 'string'),
    f('uid', 'int'), f('userName', 'string'), f('gid', 'int'), f('groupName', 'string'), f('tty', 'boolean'),
    f('containerId', {opt: 'string'}), f('entry', 'boolean', true), f('cwd', 'string', true), f('env', {array: 'string'}, true),
  ],
  File: [f('state', 'enum'), f('oid', 'foid'), f('ts', 'long'), f('restype', 'int'), f('path', 'string'), f('containerId', {opt: 'string'})],
  ProcessEvent: [...head, f('args', {array: 'string'}), f('ret', 'int')],
  NetworkFlow: [...head, f('endTs', 'long'), ...ints('sip', 'sport', 'dip', 'dport', 'proto', 'fd'), ...counters],
  FileFlow: [...head, f('openFlags', 'int'), f('endTs', 'long'), f('fileOID', 'foid'), f('fd', 'int'), ...counters],
  FileEvent: [...head, f('fileOID', 'foid'), f('ret', 'int'), f('newFileOID', {opt: 'foid'})],
  NetworkEvent: [...head, ...ints('sip', 'sport', 'dip', 'dport', 'proto', 'ret')],
  ProcessFlow: [f('procOID', OID), f('ts', 'long'), f('numThreadsCloned', 'long'), f('opFlags', 'int'), f('endTs', 'long'), f('numThreadsExited', 'long'), f('numCloneErrors', 'long')],
  Pod: [
    f('ts', 'long'), f('id', 'string'), f('name', 'string'), f('nodeName', 'string'), f('hostIP', {array: 'long'}),
    f('internalIP', {array: 'long'}), f('namespace', 'string'), f('restartCount', 'long'), f('labels', {map: 'string'}),
    f('selectors', {map: 'string'}), f('services', {array: {record: 'Service'}}),
  ],
  K8sEvent: [f('kind', 'enum', false, 'component'), f('action', 'enum'), f('ts', 'long'), f('message', 'string')],
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
interface AvscType {
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
  /** Decode one top-level datum: a typed record, or `undefined` for a union member we do not know. */
  (c: Cursor): unknown
  /** Writer branch index -> canonical Kind (-1 for unknown members). */
  branchKinds: readonly number[]
  /** Writer branch names, for messages. */
  branchNames: readonly string[]
  /** Records skipped so far per writer branch (members we do not know). */
  skipped: number[]
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
  const readers: (Reader | undefined)[] = []
  const skippers: Reader[] = []
  for (const b of branches) {
    const name = b.name ?? b.typeName
    branchNames.push(name)
    const kind = (KIND_FULLNAME as readonly string[]).indexOf(name)
    branchKinds.push(kind)
    readers.push(kind >= 0 ? compileRecord(b, shortName(name), kind) : undefined)
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
  decoder.skipped = skipped
  return decoder
}

function compileRecord(t: AvscType, short: string, kind: number | undefined): Reader {
  const canon = CANON[short]
  if (t.typeName !== 'record' || !canon) throw new SchemaError(`${t.name ?? short}: expected a record`)
  const writerFields = t.fields ?? []
  const params: string[] = []
  const args: Reader[] = []
  const lines: string[] = []
  const slot = new Map<string, string>()
  writerFields.forEach((wf, i) => {
    const cf = canon.find((c) => c.avro === wf.name)
    const reader = cf ? compileExpected(wf.type, cf.expect, `${short}.${wf.name}`) : compileGeneric(wf.type)
    params.push(`r${i}`)
    args.push(reader)
    if (cf) {
      lines.push(`const v${i} = r${i}(c);`)
      slot.set(cf.prop, `v${i}`)
    } else {
      lines.push(`r${i}(c);`)
    }
  })
  const props: string[] = []
  if (kind !== undefined) props.push(`kind: ${kind}`)
  for (const cf of canon) {
    const v = slot.get(cf.prop)
    if (v === undefined && !cf.optional) throw new SchemaError(`${t.name}: writer schema lacks required field "${cf.avro}"`)
    props.push(`${cf.prop}: ${v ?? 'undefined'}`)
  }
  const body = `return function read${short}(c) {\n${lines.join('\n')}\nreturn {${props.join(', ')}};\n}`
  // eslint-disable-next-line no-new-func
  return new Function(...params, body)(...args) as Reader
}

function describe(t: AvscType): string {
  return t.name ?? t.typeName
}

/** A reader for a writer type that must match what the canonical field expects. */
function compileExpected(t: AvscType, e: Expect, where: string): Reader {
  const mismatch = () => new SchemaError(`${where}: writer type ${describe(t)} does not match the SysFlow schema (${JSON.stringify(e)})`)
  if (typeof e === 'string') {
    switch (e) {
      case 'long':
        if (t.typeName === 'long') return readLong
        if (t.typeName === 'int') return (c) => BigInt(readInt(c))
        throw mismatch()
      case 'int':
        if (t.typeName === 'int') return readInt
        throw mismatch()
      case 'string':
        if (t.typeName === 'string') return readString
        throw mismatch()
      case 'boolean':
        if (t.typeName === 'boolean') return readBoolean
        throw mismatch()
      case 'enum': {
        if (t.typeName !== 'enum') throw mismatch()
        const symbols = t.symbols ?? []
        return (c) => {
          const start = c.pos
          const i = readInt(c)
          if (i < 0 || i >= symbols.length) throw new DecodeError(`enum ${t.name} index ${i} out of range`, start)
          return symbols[i]
        }
      }
      case 'foid': {
        if (t.typeName !== 'fixed') throw mismatch()
        const size = t.size ?? 0
        return (c) => readFixedHex(c, size)
      }
    }
  }
  if ('opt' in e) {
    const types = t.types
    if (!t.typeName.startsWith('union') || !types || types.length !== 2) throw mismatch()
    const nullIdx = types.findIndex((x) => x.typeName === 'null')
    if (nullIdx < 0) throw mismatch()
    const inner = compileExpected(types[1 - nullIdx], e.opt, where)
    return (c) => {
      const start = c.pos
      const i = readInt(c)
      if (i === nullIdx) return null
      if (i === 1 - nullIdx) return inner(c)
      throw new DecodeError(`${where}: union branch ${i} out of range`, start)
    }
  }
  if ('array' in e) {
    if (t.typeName !== 'array' || !t.itemsType) throw mismatch()
    const item = compileExpected(t.itemsType, e.array, where)
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
    if (t.typeName !== 'map' || !t.valuesType) throw mismatch()
    const value = compileExpected(t.valuesType, e.map, where)
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
  if (t.typeName !== 'record') throw mismatch()
  return compileRecord(t, e.record, undefined)
}

/** Smallest encoding of a value of this type, in bytes (bounds array counts). */
function minBytes(t: AvscType, depth = 0): number {
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
function compileGeneric(t: AvscType, seen = new Map<AvscType, Reader>()): Reader {
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
