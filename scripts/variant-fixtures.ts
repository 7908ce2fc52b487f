// Traces written under writer schemas that are not one of ours: the layouts other collector builds shipped, or
// could have (a field missing, an extra field, an extra record type, a union in another order, promoted types).
// They test the reader's Avro schema resolution. Each variant is a schema transform of one of our own schemas
// (schema.ts) plus the fixture story's records (fixture-records.ts); the bytes are written here by a small,
// independent encoder (avsc for the data, a plain Avro object container around it), because the project's .sf
// writer only writes the versions it knows.
import crypto from 'node:crypto'
import fs from 'node:fs'
import avro from 'avsc'
import {avscBigintLong} from '../src/format/avro/avsc-long.js'
import {canonicalFields} from '../src/format/avro/compile.js'
import {Kind, KIND_FULLNAME, SysFlowRecord} from '../src/format/records.js'
import {SchemaVersion, sysflowSchema} from '../src/format/schema.js'
import {fixtureRecords} from './fixture-records.js'

type Json = string | number | boolean | null | Json[] | {[k: string]: Json}
type Obj = {[k: string]: Json}
type Field = {name: string; type: Json}

/** A variant: its file name, what it shows, its writer schema and the records written with it. */
export interface Variant {
  name: string
  about: string
  schema: Json
  records: unknown[]
}

// --- schema transforms -------------------------------------------------------------------------------------------

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T
function union(schema: Json): Obj[] {
  return ((schema as Obj).fields as Obj[])[0].type as Obj[]
}
function member(schema: Json, short: string): Obj & {fields: Field[]} {
  const m = union(schema).find((r) => r.name === short)
  if (!m) throw new Error(`no member ${short}`)
  return m as Obj & {fields: Field[]}
}
function dropField(schema: Json, short: string, ...names: string[]): void {
  const m = member(schema, short)
  m.fields = m.fields.filter((f) => !names.includes(f.name))
}
function insertField(schema: Json, short: string, after: string, field: Field): void {
  const m = member(schema, short)
  m.fields.splice(m.fields.findIndex((f) => f.name === after) + 1, 0, field)
}
function setField(schema: Json, short: string, name: string, type: Json): void {
  const f = member(schema, short).fields.find((x) => x.name === name)
  if (!f) throw new Error(`no field ${short}.${name}`)
  f.type = type
}

/**
 * Named types are defined at their first use and referenced by full name after it: once a transform has moved
 * members around, put each definition back at the (new) first use.
 */
function redefineInOrder(schema: Json): Json {
  const defs = new Map<string, Obj>()
  const fullName = (o: Obj, ns: string) => (String(o.name).includes('.') ? String(o.name) : `${String(o.namespace ?? ns)}.${String(o.name)}`)
  const collect = (n: Json, ns: string): void => {
    if (Array.isArray(n)) return n.forEach((x) => collect(x, ns))
    if (n === null || typeof n !== 'object') return
    const inner = String(n.namespace ?? ns)
    if (typeof n.name === 'string' && ['record', 'enum', 'fixed'].includes(String(n.type))) defs.set(fullName(n, ns), n)
    for (const f of (n.fields as Obj[] | undefined) ?? []) collect(f.type, inner)
    if (n.items) collect(n.items, inner)
    if (n.values) collect(n.values, inner)
    if (typeof n.type === 'object') collect(n.type, inner)
  }
  const seen = new Set<string>()
  const emit = (n: Json, ns: string): Json => {
    if (typeof n === 'string') {
      const def = defs.get(n)
      if (def && !seen.has(n)) return emit(def, ns)
      return n
    }
    if (Array.isArray(n)) return n.map((x) => emit(x, ns))
    if (n === null || typeof n !== 'object') return n
    if (typeof n.name === 'string' && ['record', 'enum', 'fixed'].includes(String(n.type))) {
      const full = fullName(n, ns)
      if (seen.has(full)) return full
      seen.add(full)
    }
    const inner = String(n.namespace ?? ns)
    const out: Obj = {...n}
    if (n.fields) out.fields = (n.fields as Obj[]).map((f) => ({...f, type: emit(f.type, inner)}))
    if (n.items) out.items = emit(n.items, inner)
    if (n.values) out.values = emit(n.values, inner)
    if (typeof n.type === 'object') out.type = emit(n.type, inner)
    return out
  }
  collect(schema, '')
  return emit(schema, '')
}

// --- records -> avsc values --------------------------------------------------------------------------------------

interface AvscType {
  typeName: string
  name?: string
  branchName?: string
  fields?: {name: string; type: AvscType}[]
  types?: AvscType[]
  itemsType?: AvscType
  valuesType?: AvscType
  symbols?: string[]
  size?: number
}

/** A value for a field the typed record does not have (an unknown extra field): non-empty, to test skipping. */
function sample(t: AvscType, depth = 0): unknown {
  switch (t.typeName) {
    case 'null':
      return null
    case 'boolean':
      return true
    case 'int':
      return 7
    case 'long':
    case 'abstract:long':
      return 7_000_000_000_000_000_007n
    case 'float':
    case 'double':
      return 1.5
    case 'string':
      return 'extra-é'
    case 'bytes':
      return Buffer.from([0, 1, 2, 255])
    case 'fixed':
      return Buffer.alloc(t.size ?? 0, 0xab)
    case 'enum':
      return t.symbols![t.symbols!.length - 1]
    case 'array':
      return depth > 3 ? [] : [sample(t.itemsType!, depth + 1), sample(t.itemsType!, depth + 1)]
    case 'map':
      return depth > 3 ? {} : {k1: sample(t.valuesType!, depth + 1), k2: sample(t.valuesType!, depth + 1)}
    case 'record':
      return Object.fromEntries(t.fields!.map((f) => [f.name, sample(f.type, depth + 1)]))
    default: {
      // A union: its last branch (not null), wrapped as avsc wants.
      const b = [...t.types!].reverse().find((x) => x.typeName !== 'null')!
      return {[b.branchName!]: sample(b, depth + 1)}
    }
  }
}

/** The avsc value of typed value `v` under writer type `t` (extra fields get sample values). */
function toAvsc(t: AvscType, v: unknown, short?: string): unknown {
  if (t.typeName.startsWith('union')) {
    if (v === null) return null
    const b = t.types!.find((x) => x.typeName !== 'null')!
    return {[b.branchName!]: toAvsc(b, v, short)}
  }
  if (v === undefined) return sample(t)
  switch (t.typeName) {
    case 'int':
      return Number(v)
    case 'long':
    case 'abstract:long':
      return BigInt(v as bigint)
    case 'bytes':
      return Buffer.from(String(v), 'utf8')
    case 'fixed':
      return Buffer.from(String(v), 'hex')
    case 'array':
      return (v as unknown[]).map((x) => toAvsc(t.itemsType!, x))
    case 'map':
      return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, toAvsc(t.valuesType!, x)]))
    case 'record': {
      const name = t.name!.slice(t.name!.lastIndexOf('.') + 1)
      const canon = canonicalFields(name) ?? []
      const rec = v as Record<string, unknown>
      return Object.fromEntries(t.fields!.map((f) => {
        const prop = canon.find((c) => c.avro === f.name)?.prop
        return [f.name, toAvsc(f.type, prop === undefined ? undefined : rec[prop])]
      }))
    }
    default:
      return v
  }
}

/** Typed records (and {extra: shortName} placeholders for members we do not know) as avsc values of `schema`. */
function values(type: AvscType, records: (SysFlowRecord | {extra: string; n: number})[]): unknown[] {
  const branches = type.fields![0].type.types!
  return records.map((r) => {
    const full = 'extra' in r ? r.extra : KIND_FULLNAME[r.kind]
    const b = branches.find((x) => x.name === full || x.name!.endsWith(`.${full}`))
    if (!b) throw new Error(`the variant schema has no member ${full}`)
    return {rec: {[b.branchName!]: 'extra' in r ? sample(b) : toAvsc(b, r)}}
  })
}

// --- the variants ------------------------------------------------------------------------------------------------

/** The fixture story under schema `v`, with the schema transformed by `edit`. */
function variant(name: string, about: string, v: SchemaVersion, edit: (s: Json) => Json | void, records = fixtureRecords(v) as (SysFlowRecord | {extra: string; n: number})[]): {name: string; about: string; schema: Json; records: (SysFlowRecord | {extra: string; n: number})[]} {
  const s = clone(sysflowSchema(v))
  const out = edit(s) ?? s
  return {name, about, schema: redefineInOrder(out), records}
}

export function variants(): {name: string; about: string; schema: Json; records: (SysFlowRecord | {extra: string; n: number})[]}[] {
  return [
    // The 2018 collector traces (header 1000): NetworkFlow without fd.
    variant('nf-nofd.sf', 'legacy layout whose NetworkFlow has no fd', '1000', (s) => dropField(s, 'NetworkFlow', 'fd')),
    // sf-collector's early union schema (src/avro_union): SFHeader without ip, a ProcessFlow shaped like today's
    // ProcessEvent, NetworkFlow without fd, and an AtomicFileFlow record type nothing reads any more.
    variant('collector-2018.sf', 'early collector union: old ProcessFlow, no NetworkFlow.fd, an AtomicFileFlow member', '1000', (s) => {
      const u = union(s)
      const pe = member(s, 'ProcessEvent')
      const old = {...clone(pe), namespace: 'sysflow.flow', name: 'ProcessFlow'}
      dropField(s, 'NetworkFlow', 'fd')
      const keep = (n: string) => member(s, n)
      const atomic = {
        type: 'record', namespace: 'sysflow.flow', name: 'AtomicFileFlow', fields: [
          {name: 'procOID', type: 'sysflow.type.OID'}, {name: 'ts', type: 'long'}, {name: 'tid', type: 'long'}, {name: 'opFlags', type: 'int'},
          {name: 'flags', type: 'int'}, {name: 'fileOID', type: 'sysflow.type.FOID'}, {name: 'fd', type: 'int'}, {name: 'ret', type: 'int'},
          {name: 'newFileOID', type: ['null', 'sysflow.type.FOID']},
        ],
      }
      u.splice(0, u.length, keep('SFHeader'), keep('Container'), keep('Process'), keep('File'), old, keep('NetworkFlow'), keep('FileFlow'), atomic)
    }, (() => {
      const recs = fixtureRecords('1000').filter((r) => r.kind !== Kind.FileEvent && r.kind !== Kind.NetworkEvent)
      // The old ProcessFlow members carry ProcessEvent fields: written from the PE records, read as PF.
      const out: (SysFlowRecord | {extra: string; n: number})[] = recs.map((r) => (r.kind === Kind.ProcessEvent ? ({...r, kind: Kind.ProcessFlow} as unknown as SysFlowRecord) : r))
      const ffIdx = out.findIndex((r) => 'kind' in r && r.kind === Kind.FileFlow)
      out.splice(ffIdx + 1, 0, {extra: 'sysflow.flow.AtomicFileFlow', n: 1}, {extra: 'sysflow.flow.AtomicFileFlow', n: 2})
      return out
    })()),
    variant('proc-nocwd.sf', 'v5 header, Process without cwd and env', '5', (s) => dropField(s, 'Process', 'cwd', 'env')),
    variant('file-norestype.sf', 'v5, File without restype', '5', (s) => dropField(s, 'File', 'restype')),
    variant('extra-fields.sf', 'v5 with unknown fields in the middle of records (nested, arrays, maps, unions, fixed, enums)', '5', (s) => {
      insertField(s, 'NetworkFlow', 'sport', {
        name: 'tls', type: {
          type: 'record', namespace: 'sysflow.ext', name: 'Tls', fields: [
            {name: 'sni', type: ['null', 'string']},
            {name: 'ciphers', type: {type: 'array', items: {type: 'enum', name: 'Cipher', symbols: ['AES', 'CHACHA']}}},
            {name: 'attrs', type: {type: 'map', values: ['null', 'long', 'double', {type: 'fixed', name: 'Digest', size: 7}]}},
            {name: 'score', type: 'float'},
            {name: 'raw', type: 'bytes'},
          ],
        },
      })
      insertField(s, 'Process', 'exe', {name: 'labels', type: {type: 'map', values: {type: 'array', items: 'string'}}})
      insertField(s, 'FileFlow', 'fileOID', {name: 'inode', type: ['null', 'long']})
      // Inside a nested record every record type uses: OID.
      const proc = member(s, 'Process')
      const oid = proc.fields.find((f) => f.name === 'oid')!.type as Obj
      ;(oid.fields as Json[]).splice(1, 0, {name: 'nsPid', type: 'long'})
    }),
    variant('unknown-type.sf', 'v5 with a record type we do not know in the middle of the union', '5', (s) => {
      const u = union(s)
      u.splice(4, 0, {type: 'record', namespace: 'sysflow.event', name: 'SignalEvent', fields: [
        {name: 'procOID', type: 'sysflow.type.OID'}, {name: 'ts', type: 'long'}, {name: 'sig', type: 'int'},
        {name: 'target', type: ['null', 'sysflow.type.OID']}, {name: 'note', type: {type: 'array', items: ['string', 'null']}},
      ]})
    }, (() => {
      const recs: (SysFlowRecord | {extra: string; n: number})[] = fixtureRecords('5')
      const at = recs.findIndex((r) => 'kind' in r && r.kind === Kind.NetworkFlow)
      recs.splice(at, 0, {extra: 'sysflow.event.SignalEvent', n: 1}, {extra: 'sysflow.event.SignalEvent', n: 2})
      recs.push({extra: 'sysflow.event.SignalEvent', n: 3})
      return recs
    })()),
    variant('reordered-union.sf', 'v5 with the rec union shuffled and nullable unions null-last', '5', (s) => {
      const u = union(s)
      const order = [11, 6, 0, 3, 10, 2, 8, 1, 5, 9, 4, 7]
      const shuffled = order.map((i) => u[i])
      u.splice(0, u.length, ...shuffled)
      const nullLast = (n: Json): void => {
        if (Array.isArray(n)) {
          if (n.length === 2 && n[0] === 'null') n.reverse()
          n.forEach(nullLast)
        } else if (n && typeof n === 'object') {
          Object.values(n).forEach(nullLast)
        }
      }
      nullLast(s)
    }),
    variant('promoted.sf', 'v5 with int where we read long, bytes where we read string, and enum symbols we do not know', '5', (s) => {
      setField(s, 'NetworkFlow', 'numRRecvOps', 'int')
      setField(s, 'NetworkFlow', 'tid', 'int')
      setField(s, 'Process', 'exeArgs', 'bytes')
      const proc = member(s, 'Process')
      const oid = proc.fields.find((f) => f.name === 'oid')!.type as Obj
      ;(oid.fields as Obj[])[1].type = 'int' // hpid
      const cont = member(s, 'Container')
      const ct = cont.fields.find((f) => f.name === 'type')!.type as Obj
      ct.symbols = ['CT_PODMAN', ...(ct.symbols as string[])]
      const st = proc.fields.find((f) => f.name === 'state')!.type as Obj
      st.symbols = [...(st.symbols as string[]), 'ZOMBIE']
    }, (() => fixtureRecords('5').map((r) => {
      if (r.kind === Kind.Container) return {...r, type: 'CT_PODMAN'}
      if (r.kind === Kind.Process && r.exe === '/bin/bash') return {...r, state: 'ZOMBIE' as 'REUP'}
      return r
    }))()),
  ]
}

// --- the container -----------------------------------------------------------------------------------------------

const LONG = avro.Type.forSchema('long')
const enc = (n: number) => LONG.toBuffer(n)
const bytes = (b: Buffer) => Buffer.concat([enc(b.length), b])

/** An Avro object container (null codec, one block) of `vals` under `schema`, with a sync marker from `name`. */
export function containerBytes(name: string, schema: Json, vals: unknown[], type: avro.Type): Buffer {
  const sync = crypto.createHash('sha1').update(`sysflow-variant:${name}`).digest().subarray(0, 16)
  const meta = Buffer.concat([enc(2), bytes(Buffer.from('avro.schema')), bytes(Buffer.from(JSON.stringify(schema))), bytes(Buffer.from('avro.codec')), bytes(Buffer.from('null')), enc(0)])
  const data = Buffer.concat(vals.map((v) => type.toBuffer(v)))
  return Buffer.concat([Buffer.from('Obj\u0001', 'latin1'), meta, sync, enc(vals.length), enc(data.length), data, sync])
}

export function writeVariant(file: string, v: {name: string; schema: Json; records: (SysFlowRecord | {extra: string; n: number})[]}): void {
  const long = avscBigintLong as unknown as avro.Type
  const type = avro.Type.forSchema(v.schema as avro.Schema, {
    wrapUnions: true,
    registry: {long},
    typeHook: (s: avro.Schema) => (typeof s === 'object' && (s as {type?: unknown}).type === 'long' ? long : undefined),
  })
  const vals = values(type as unknown as AvscType, v.records)
  fs.writeFileSync(file, containerBytes(v.name, v.schema, vals, type))
}
