// Avro object-container writer for SysFlow traces (.sf): header, blocks of records, any schema version.
//
// Each target schema version is compiled once into one encoder per `rec` union member: a straight-line function
// generated from the writer schema (sysflowSchema) that writes the union index and then every field in schema
// order, reading the canonical typed-record property. The generated text holds only numbered parameters and
// JSON-quoted property names from our own tables; values, defaults and messages are passed in as arguments.
import crypto from 'node:crypto'
import fs from 'node:fs'
import zlib from 'node:zlib'
import {Sink} from './avro/binary.js'
import {canonicalFields} from './avro/compile.js'
import {crc32, snappyStore} from './avro/snappy.js'
import {KIND_ABBREV, KIND_FULLNAME, SysFlowRecord} from './records.js'
import {headerVersion, SCHEMA_VERSIONS, SchemaVersion, sysflowSchema} from './schema.js'

// ---------------------------------------------------------------------------------------------------------------
// Byte sinks

/** Where the writer's bytes go. `write` may return a promise (backpressure): the writer awaits it before writing again. */
export interface ByteSink {
  /** Takes ownership of `chunk` (the writer never reuses it). */
  write(chunk: Buffer): void | Promise<void>
  close(): Promise<void>
}

/** A file sink over fs.WriteStream: `write` returns a promise only when the stream asks us to wait for 'drain'. */
export function fileSink(path: string): ByteSink {
  const stream = fs.createWriteStream(path)
  // A stream error with no listener would crash the process; keep it and report it on the next call instead.
  let failure: Error | undefined
  stream.on('error', (e) => {
    failure ??= e
  })
  let closing: Promise<void> | undefined
  return {
    write(chunk: Buffer): void | Promise<void> {
      if (failure) return Promise.reject(failure)
      if (stream.write(chunk)) return
      return new Promise<void>((resolve, reject) => {
        // 'drain' never comes after an error, so also settle on 'error' and 'close'.
        const done = (): void => {
          stream.off('drain', done)
          stream.off('error', done)
          stream.off('close', done)
          if (failure) reject(failure)
          else resolve()
        }
        stream.on('drain', done)
        stream.on('error', done)
        stream.on('close', done)
      })
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        const settle = (): void => (failure ? reject(failure) : resolve())
        if (failure || stream.closed) return settle()
        // 'close' comes after the descriptor is closed (autoClose), also after an error.
        stream.once('close', settle)
        stream.end()
      })
      return closing
    },
  }
}

/** An in-memory sink, for tests and small outputs. */
export function bufferSink(): ByteSink & {result(): Buffer} {
  const chunks: Buffer[] = []
  return {
    write(chunk: Buffer): void {
      chunks.push(chunk)
    },
    async close(): Promise<void> {},
    result(): Buffer {
      return Buffer.concat(chunks)
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** A record that cannot be written with the target schema (wrong kind for the version, bad or missing value). */
export class RecordEncodeError extends Error {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'RecordEncodeError'
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Value writers used by the generated encoders. Each checks its JS type once: the Sink primitives would otherwise
// coerce silently (writeInt("5"), writeBoolean(undefined)) and corrupt the trace without a word.

function badValue(where: string, expected: string, v: unknown): never {
  if (v === undefined || v === null) throw new RecordEncodeError(`${where}: required value is missing (${v})`)
  const shown = typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : typeof v === 'bigint' ? `${v}n` : String(v)
  throw new RecordEncodeError(`${where}: expected ${expected}, got ${typeof v} ${shown}`)
}


/** Avro long (zigzag varint), exact over int64. Same bytes as Sink.writeLong, without allocating bigints. */
function wLong(s: Sink, v: unknown, where: string): void {
  if (typeof v !== 'bigint') badValue(where, 'a bigint (Avro long)', v)
  s.writeLong(v)
}

function wInt(s: Sink, v: unknown, where: string): void {
  if (typeof v !== 'number' || (v | 0) !== v) badValue(where, 'a 32-bit integer (Avro int)', v)
  s.writeInt(v)
}

function wBoolean(s: Sink, v: unknown, where: string): void {
  if (typeof v !== 'boolean') badValue(where, 'a boolean', v)
  s.writeBoolean(v)
}

function wString(s: Sink, v: unknown, where: string): void {
  if (typeof v !== 'string') badValue(where, 'a string', v)
  const n = v.length
  // Short ASCII strings (names, ids, flags) are the common case: copy them without two native calls.
  if (n < 64) {
    s.reserve(n + 1)
    const buf = s.buf
    const start = s.pos
    let pos = start + 1
    for (let i = 0; i < n; i++) {
      const ch = v.charCodeAt(i)
      if (ch > 0x7f) {
        s.writeString(v)
        return
      }
      buf[pos++] = ch
    }
    buf[start] = n << 1 // zigzag length, one byte since n < 64
    s.pos = pos
    return
  }
  s.writeString(v)
}

function wBytes(s: Sink, v: unknown, where: string): void {
  if (!(v instanceof Uint8Array)) badValue(where, 'a Uint8Array', v)
  s.writeBytes(v)
}

function wFloat(s: Sink, v: unknown, where: string): void {
  if (typeof v !== 'number') badValue(where, 'a number', v)
  s.writeFloat(v)
}

function wDouble(s: Sink, v: unknown, where: string): void {
  if (typeof v !== 'number') badValue(where, 'a number', v)
  s.writeDouble(v)
}

// Hex digit values (-1 for anything else), for FOID strings.
const HEX = new Int8Array(128).fill(-1)
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i
}

/** A fixed(size) from its hex form (FOID: 40 hex characters -> 20 raw bytes). */
function wFixedHex(s: Sink, v: unknown, size: number, where: string): void {
  if (typeof v !== 'string' || v.length !== 2 * size) badValue(where, `${2 * size} hex characters (fixed(${size}))`, v)
  s.reserve(size)
  const buf = s.buf
  let pos = s.pos
  for (let i = 0; i < v.length; i += 2) {
    const a = v.charCodeAt(i)
    const b = v.charCodeAt(i + 1)
    const hi = a < 128 ? HEX[a] : -1
    const lo = b < 128 ? HEX[b] : -1
    if (hi < 0 || lo < 0) badValue(where, `${2 * size} hex characters (fixed(${size}))`, v)
    buf[pos++] = (hi << 4) | lo
  }
  s.pos = pos
}

function wEnum(s: Sink, v: unknown, symbols: Map<string, number>, where: string): void {
  const i = typeof v === 'string' ? symbols.get(v) : undefined
  if (i === undefined) {
    throw new RecordEncodeError(`${where}: unknown symbol ${typeof v === 'string' ? JSON.stringify(v) : String(v)} (this schema version has ${[...symbols.keys()].join(', ')})`)
  }
  s.writeInt(i)
}

function wArrayCheck(v: unknown, where: string): void {
  if (!Array.isArray(v)) badValue(where, 'an array', v)
}

function wRecordCheck(v: unknown, where: string): void {
  if (typeof v !== 'object' || v === null) badValue(where, 'an object (Avro record)', v)
}

function wMapCheck(v: unknown, where: string): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) badValue(where, 'an object (Avro map)', v)
}

// ---------------------------------------------------------------------------------------------------------------
// Schema compilation

type Encoder = (s: Sink, r: SysFlowRecord) => void

interface CompiledSchema {
  schemaJson: string
  /** By Kind; undefined where the version has no such union member. */
  encoders: (Encoder | undefined)[]
}

type Node = string | Node[] | {[k: string]: unknown}

interface Named {
  node: {[k: string]: unknown}
  /** Namespace that relative references inside it resolve against. */
  ns: string
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'])

/** Values for fields a typed record may leave undefined and whose schema field has no default. */
const NEUTRAL_OVERRIDES: Record<string, unknown> = {'Container.imagerepo': 'NA'}

/** Code generator state: numbered parameters carry every runtime value into the generated function. */
class Gen {
  readonly params: string[] = []
  readonly args: unknown[] = []
  readonly lines: string[] = []
  private tmps = 0
  private readonly shared = new Map<unknown, string>()

  constructor(
    private readonly names: Map<string, Named>,
    /** SFHeader.version when the record leaves it undefined. */
    private readonly version: bigint,
  ) {}

  arg(value: unknown): string {
    // Helpers and repeated constants get one parameter each.
    const known = this.shared.get(value)
    if (known) return known
    const p = `a${this.params.length}`
    this.params.push(p)
    this.args.push(value)
    if (typeof value === 'function' || typeof value === 'string') this.shared.set(value, p)
    return p
  }

  tmp(): string {
    return `t${++this.tmps}`
  }

  /** Resolve a (possibly named) type to its definition and the namespace its own references use. */
  resolve(t: Node, ns: string): {t: Node; ns: string} {
    if (typeof t === 'string') {
      if (PRIMITIVES.has(t)) return {t, ns}
      const named = this.names.get(t) ?? this.names.get(`${ns}.${t}`)
      if (!named) throw new Error(`writer schema: undefined type name ${t}`)
      return {t: named.node, ns: named.ns}
    }
    return {t, ns}
  }

  /** Emit code writing the value held in variable `v` as type `t` (the leaf writers check its JS type). */
  value(t0: Node, ns0: string, v: string, where: string): void {
    const {t, ns} = this.resolve(t0, ns0)
    const w = this.arg(where)
    if (typeof t === 'string') {
      switch (t) {
        case 'null':
          return
        case 'boolean':
          this.lines.push(`${this.arg(wBoolean)}(s, ${v}, ${w});`)
          return
        case 'int':
          this.lines.push(`${this.arg(wInt)}(s, ${v}, ${w});`)
          return
        case 'long':
          this.lines.push(`${this.arg(wLong)}(s, ${v}, ${w});`)
          return
        case 'string':
          this.lines.push(`${this.arg(wString)}(s, ${v}, ${w});`)
          return
        case 'bytes':
          this.lines.push(`${this.arg(wBytes)}(s, ${v}, ${w});`)
          return
        case 'float':
          this.lines.push(`${this.arg(wFloat)}(s, ${v}, ${w});`)
          return
        case 'double':
          this.lines.push(`${this.arg(wDouble)}(s, ${v}, ${w});`)
          return
      }
      throw new Error(`writer schema: unknown type ${t} at ${where}`)
    }
    if (Array.isArray(t)) {
      this.union(t, ns, v, where)
      return
    }
    const type = t.type
    const childNs = typeof t.namespace === 'string' ? t.namespace : ns
    switch (type) {
      case 'record':
        this.lines.push(`${this.arg(wRecordCheck)}(${v}, ${w});`)
        this.record(t, childNs, v, where)
        return
      case 'enum': {
        const symbols = new Map((t.symbols as string[]).map((sym, i) => [sym, i]))
        this.lines.push(`${this.arg(wEnum)}(s, ${v}, ${this.arg(symbols)}, ${w});`)
        return
      }
      case 'fixed':
        this.lines.push(`${this.arg(wFixedHex)}(s, ${v}, ${Number(t.size)}, ${w});`)
        return
      case 'array': {
        const n = this.tmp()
        const i = this.tmp()
        const x = this.tmp()
        this.lines.push(`${this.arg(wArrayCheck)}(${v}, ${w});`, `{ const ${n} = ${v}.length; if (${n} > 0) { s.writeInt(${n});`)
        this.lines.push(`for (let ${i} = 0; ${i} < ${n}; ${i}++) { const ${x} = ${v}[${i}];`)
        this.value(t.items as Node, childNs, x, `${where}[]`)
        this.lines.push('} } s.writeInt(0); }')
        return
      }
      case 'map': {
        const keys = this.tmp()
        const n = this.tmp()
        const i = this.tmp()
        const k = this.tmp()
        const x = this.tmp()
        // Object.keys works on null-prototype objects and never sees inherited properties.
        this.lines.push(`${this.arg(wMapCheck)}(${v}, ${w});`, `{ const ${keys} = Object.keys(${v}); const ${n} = ${keys}.length; if (${n} > 0) { s.writeInt(${n});`)
        this.lines.push(`for (let ${i} = 0; ${i} < ${n}; ${i}++) { const ${k} = ${keys}[${i}]; s.writeString(${k}); const ${x} = ${v}[${k}];`)
        this.value(t.values as Node, childNs, x, `${where}{}`)
        this.lines.push('} } s.writeInt(0); }')
        return
      }
      case 'long':
      case 'int':
      case 'string':
      case 'boolean':
      case 'bytes':
      case 'float':
      case 'double':
      case 'null':
        // {type: 'long', logicalType: ...}: the annotation does not change the encoding.
        this.value(type, childNs, v, where)
        return
    }
    throw new Error(`writer schema: unsupported type at ${where}: ${JSON.stringify(type)}`)
  }

  /** Only ["null", T] / [T, "null"] unions occur inside SysFlow records: null or undefined -> the null branch. */
  private union(t: Node[], ns: string, v: string, where: string): void {
    const nullIdx = t.findIndex((m) => m === 'null')
    if (t.length !== 2 || nullIdx < 0) throw new Error(`writer schema: unsupported union at ${where}`)
    this.lines.push(`if (${v} == null) s.writeInt(${nullIdx}); else { s.writeInt(${1 - nullIdx});`)
    this.value(t[1 - nullIdx], ns, v, where)
    this.lines.push('}')
  }

  /** A record's fields in schema order, read from the canonical properties of the typed object in `v`. */
  record(t: {[k: string]: unknown}, ns: string, v: string, where: string): void {
    const name = String(t.name)
    const short = name.slice(name.lastIndexOf('.') + 1)
    const canon = canonicalFields(short)
    if (!canon) throw new Error(`writer schema: no typed record for ${name}`)
    for (const field of t.fields as {name: string; type: Node; default?: unknown}[]) {
      const fieldWhere = `${where}.${field.name}`
      const cf = canon.find((c) => c.avro === field.name)
      const x = this.tmp()
      const {t: ft} = this.resolve(field.type, ns)
      const nullable = Array.isArray(ft) && ft.includes('null')
      // Leaf writers check the value's type (undefined included), so required fields need no check here.
      const fillable = !cf || cf.optional || 'default' in field || (short === 'SFHeader' && field.name === 'version')
      if (!fillable) {
        this.lines.push(`const ${x} = ${v}[${JSON.stringify(cf.prop)}];`)
      } else {
        // Absent from the typed record, or allowed to be undefined there: fill the default or a neutral value.
        const read = cf ? `${v}[${JSON.stringify(cf.prop)}]` : 'undefined' // e.g. v1001 Container.imagerepo
        this.lines.push(`let ${x} = ${read};`)
        if (!nullable) this.lines.push(`if (${x} == null) ${x} = ${this.arg(this.fill(short, field, ft))};`)
      }
      this.value(field.type, ns, x, fieldWhere)
    }
  }

  /** The value written for a field the record leaves undefined: its schema default, else a neutral value. */
  private fill(short: string, field: {name: string; type: Node; default?: unknown}, t: Node): unknown {
    if (short === 'SFHeader' && field.name === 'version') return this.version
    const override = NEUTRAL_OVERRIDES[`${short}.${field.name}`]
    if (override !== undefined) return override
    const base = typeof t === 'string' ? t : Array.isArray(t) ? 'union' : String(t.type)
    if ('default' in field) return base === 'long' ? BigInt(field.default as number) : field.default
    switch (base) {
      case 'string':
        return ''
      case 'array':
        return []
      case 'map':
        return Object.create(null)
      case 'boolean':
        return false
      case 'int':
        return 0
      case 'long':
        return 0n
    }
    throw new Error(`writer schema: no neutral value for ${short}.${field.name}`)
  }

  compile(fnName: string): Encoder {
    const body = `return function ${fnName}(s, r) {\n${this.lines.join('\n')}\n}`
    // eslint-disable-next-line no-new-func
    return new Function(...this.params, body)(...this.args) as Encoder
  }
}

/** Register every named type of the schema under its full name (Avro namespace rules). */
function collectNames(t: unknown, ns: string, names: Map<string, Named>): void {
  if (Array.isArray(t)) {
    for (const m of t) collectNames(m, ns, names)
    return
  }
  if (typeof t !== 'object' || t === null) return
  const o = t as {[k: string]: unknown}
  let childNs = ns
  if (typeof o.name === 'string' && (o.type === 'record' || o.type === 'enum' || o.type === 'fixed')) {
    const full = o.name.includes('.') ? o.name : typeof o.namespace === 'string' ? `${o.namespace}.${o.name}` : ns ? `${ns}.${o.name}` : o.name
    childNs = full.slice(0, Math.max(0, full.lastIndexOf('.')))
    o.name = full
    names.set(full, {node: o, ns: childNs})
  }
  if (Array.isArray(o.fields)) for (const f of o.fields as {type: unknown}[]) collectNames(f.type, childNs, names)
  collectNames(o.items, childNs, names)
  collectNames(o.values, childNs, names)
  if (typeof o.type === 'object') collectNames(o.type, childNs, names)
}

const compiled = new Map<string, CompiledSchema>()

/**
 * The schema of `version` without the record fields named in `omit` (`Record.field`, e.g. `NetworkFlow.fd`), and
 * with those named in `nullable` made `["null", T]` with default null (Avro's way to hold a field some records
 * lack: a merge of traces whose writers differ). A field already nullable stays as it is.
 */
function schemaWithout(version: SchemaVersion, omit: readonly string[], nullable: readonly string[], symbols: Readonly<Record<string, readonly string[]>>): unknown {
  type Field = {name: string; type: unknown; default?: unknown}
  const schema = sysflowSchema(version) as {fields: {type: {name: string; fields: Field[]}[]}[]}
  if (Object.keys(symbols).length > 0) appendSymbols(schema, symbols)
  if (omit.length === 0 && nullable.length === 0) return schema
  for (const member of schema.fields[0].type) {
    if (typeof member !== 'object' || !Array.isArray(member.fields)) continue
    member.fields = member.fields
      .filter((f) => !omit.includes(`${member.name}.${f.name}`))
      .map((f) => {
        if (!nullable.includes(`${member.name}.${f.name}`) || (Array.isArray(f.type) && f.type.includes('null'))) return f
        const {default: _, ...rest} = f
        // A union's default is of its first branch: null first, so that the default can be null.
        return {...rest, type: ['null', f.type], default: null}
      })
  }
  return schema
}

/** Append `symbols` to the enums of a schema (in place), by short enum name. */
function appendSymbols(t: unknown, symbols: Readonly<Record<string, readonly string[]>>): void {
  if (Array.isArray(t)) {
    for (const m of t) appendSymbols(m, symbols)
    return
  }
  if (typeof t !== 'object' || t === null) return
  const o = t as {[k: string]: unknown}
  if (o.type === 'enum' && typeof o.name === 'string' && Array.isArray(o.symbols)) {
    const more = symbols[o.name.slice(o.name.lastIndexOf('.') + 1)] ?? []
    o.symbols = [...(o.symbols as string[]), ...more.filter((x) => !(o.symbols as string[]).includes(x))]
    return
  }
  if (Array.isArray(o.fields)) for (const f of o.fields as {type: unknown}[]) appendSymbols(f.type, symbols)
  appendSymbols(o.items, symbols)
  appendSymbols(o.values, symbols)
  if (typeof o.type === 'object') appendSymbols(o.type, symbols)
}

function compileSchema(version: SchemaVersion, omit: readonly string[] = [], nullable: readonly string[] = [], symbols: Readonly<Record<string, readonly string[]>> = {}): CompiledSchema {
  const key = `${version}|${omit.join(',')}|${nullable.join(',')}|${JSON.stringify(symbols)}`
  const known = compiled.get(key)
  if (known) return known
  const schema = schemaWithout(version, omit, nullable, symbols)
  const schemaJson = JSON.stringify(schema)
  // Work on a private copy: collectNames qualifies names in place.
  const root = JSON.parse(schemaJson) as {fields: {type: Node[]}[]}
  const names = new Map<string, Named>()
  collectNames(root, '', names)
  const union = root.fields[0].type
  const encoders: (Encoder | undefined)[] = new Array(KIND_FULLNAME.length).fill(undefined)
  union.forEach((member, idx) => {
    const g = new Gen(names, headerVersion(version))
    const {t, ns} = g.resolve(member, 'sysflow')
    if (typeof t !== 'object' || Array.isArray(t)) throw new Error(`writer schema: union member ${idx} is not a record`)
    const kind = (KIND_FULLNAME as readonly string[]).indexOf(String(t.name))
    if (kind < 0) return // a member the typed records do not know: nothing can be written to it
    const short = KIND_FULLNAME[kind].slice(KIND_FULLNAME[kind].lastIndexOf('.') + 1)
    g.lines.push(`s.writeInt(${idx});`)
    g.record(t, typeof t.namespace === 'string' ? t.namespace : ns, 'r', short)
    encoders[kind] = g.compile(`write${short}`)
  })
  const out = {schemaJson, encoders}
  compiled.set(key, out)
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// The container writer

export interface WriterOptions {
  /** Target schema version (default '5'). */
  schema?: SchemaVersion
  /**
   * Record fields (`Record.field`, e.g. `NetworkFlow.fd`) left out of the schema: a trace whose writer lacked them
   * is re-encoded with them still absent, rather than with invented values.
   */
  omit?: readonly string[]
  /**
   * Record fields written as `["null", T]` (default null): a merge of traces where only some writers had them; a
   * record that leaves the field undefined or null writes null, and reads back absent.
   */
  nullable?: readonly string[]
  /**
   * Symbols appended to enums of the schema, by short enum name (`ContainerType`): those an input's writer had and
   * ours lacks (a CT_PODMAN container), which the reader keeps as their text. Appended, so ours keep their index.
   */
  symbols?: Readonly<Record<string, readonly string[]>>
  /** Block codec (default 'deflate', the only one the collector writes). */
  codec?: 'deflate' | 'null' | 'snappy'
  /** Flush a block when the uncompressed payload reaches this many bytes (default 80000, like the collector). */
  blockBytes?: number
  /** Deflate level, -1 (zlib default) or 0..9. */
  level?: number
  /** The 16-byte sync marker (default: random). A fixed one makes output reproducible, as fixtures need. */
  sync?: Buffer
}

const MAGIC = Buffer.from('Obj\x01', 'latin1')
const SYNC_SIZE = 16

/**
 * Writes typed SysFlow records as an Avro object container. `write` stays synchronous except when a block was
 * flushed and the sink asked to wait: then it returns a promise, which the caller awaits before writing again.
 */
export class TraceWriter {
  private readonly encoders: (Encoder | undefined)[]
  private readonly version: SchemaVersion
  private readonly codec: 'deflate' | 'null' | 'snappy'
  private readonly blockBytes: number
  private readonly deflateOptions: zlib.ZlibOptions
  private readonly sync: Buffer
  private readonly payload: Sink
  /** Header bytes, until they are sent in front of the first block. */
  private header: Buffer | undefined
  private blockCount = 0
  private total = 0
  /** A sink write still in progress (set only when the sink applied backpressure). */
  private pending: Promise<void> | undefined
  private closing: Promise<void> | undefined

  constructor(private readonly sink: ByteSink, opts: WriterOptions = {}) {
    const version = opts.schema ?? '5'
    if (!SCHEMA_VERSIONS.includes(version)) throw new RangeError(`unknown SysFlow schema version ${String(version)} (expected one of ${SCHEMA_VERSIONS.join(', ')})`)
    const codec = opts.codec ?? 'deflate'
    if (codec !== 'deflate' && codec !== 'null' && codec !== 'snappy') throw new RangeError(`unknown Avro codec ${String(codec)} (expected deflate, null or snappy)`)
    const blockBytes = opts.blockBytes ?? 80000
    if (!Number.isInteger(blockBytes) || blockBytes < 1) throw new RangeError(`blockBytes must be a positive integer, got ${blockBytes}`)
    if (opts.level !== undefined && !(Number.isInteger(opts.level) && opts.level >= -1 && opts.level <= 9)) {
      throw new RangeError(`deflate level must be an integer from -1 to 9, got ${opts.level}`)
    }
    if (opts.sync !== undefined && opts.sync.length !== SYNC_SIZE) throw new RangeError(`sync marker must be ${SYNC_SIZE} bytes, got ${opts.sync.length}`)
    this.sync = opts.sync ? Buffer.from(opts.sync) : crypto.randomBytes(SYNC_SIZE)
    const schema = compileSchema(version, opts.omit, opts.nullable, opts.symbols)
    this.version = version
    this.codec = codec
    this.blockBytes = blockBytes
    this.deflateOptions = opts.level === undefined ? {} : {level: opts.level}
    this.encoders = schema.encoders
    // Room for a full block plus one large record, so the buffer rarely grows.
    this.payload = new Sink(blockBytes + 65536)
    this.header = makeHeader(schema.schemaJson, codec, this.sync)
  }

  /** Records accepted so far. */
  get recordCount(): number {
    return this.total
  }

  write(rec: SysFlowRecord): void | Promise<void> {
    if (this.closing) throw new Error('TraceWriter.write after close')
    const enc = this.encoders[rec.kind]
    if (enc === undefined) throw this.kindError(rec)
    const s = this.payload
    const start = s.pos
    try {
      enc(s, rec)
    } catch (e) {
      // Drop the partial record, so a caller that catches and goes on still writes a valid block.
      s.pos = start
      if (e instanceof RecordEncodeError) throw e
      throw new RecordEncodeError(`${KIND_ABBREV[rec.kind]} record: ${(e as Error).message}`, {cause: e})
    }
    this.blockCount++
    this.total++
    if (s.pos >= this.blockBytes) return this.flush()
  }

  /** Flush the last block (or write the bare header of an empty trace) and close the sink. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (this.blockCount > 0 || this.header) await this.flush()
        await this.pending
      } finally {
        // Release the file even when a write failed.
        await this.sink.close()
      }
    })()
    return this.closing
  }

  private kindError(rec: SysFlowRecord): Error {
    const kind = (rec as {kind?: unknown} | null)?.kind
    if (typeof kind !== 'number' || !(kind in KIND_FULLNAME)) return new RecordEncodeError(`not a SysFlow record (kind ${String(kind)})`)
    return new RecordEncodeError(`schema version ${this.version} has no ${KIND_FULLNAME[kind]} records: cannot write a ${KIND_ABBREV[kind]} record with it`)
  }

  /** Emit the current block (with the header in front of the first one) as one chunk. */
  private flush(): void | Promise<void> {
    const chunk = this.frame()
    if (this.pending) {
      // The caller did not wait for the previous backpressure: keep the order anyway.
      const p: Promise<void> = this.pending.then(() => this.sink.write(chunk)).then(() => {
        if (this.pending === p) this.pending = undefined
      })
      this.pending = p
      return p
    }
    const r = this.sink.write(chunk)
    if (r === undefined) return
    const p: Promise<void> = r.then(() => {
      if (this.pending === p) this.pending = undefined
    })
    this.pending = p
    return p
  }

  private frame(): Buffer {
    const head = this.header ?? EMPTY
    this.header = undefined
    const count = this.blockCount
    if (count === 0) return head
    const payload = this.payload.take()
    let body: Buffer
    let crc = -1
    switch (this.codec) {
      case 'deflate':
        body = zlib.deflateRawSync(payload, this.deflateOptions)
        break
      case 'snappy':
        // Avro's snappy framing: the compressed block, then the big-endian CRC32 of the uncompressed data.
        body = snappyStore(payload)
        crc = crc32(payload)
        break
      case 'null':
        body = payload // copied into the chunk below, before the payload buffer is reused
        break
    }
    const size = body.length + (crc >= 0 ? 4 : 0)
    const prefix = new Sink(32)
    prefix.writeLong(BigInt(count))
    prefix.writeLong(BigInt(size))
    const chunk = Buffer.allocUnsafe(head.length + prefix.pos + size + SYNC_SIZE)
    let at = head.copy(chunk, 0)
    at += prefix.take().copy(chunk, at)
    at += body.copy(chunk, at)
    if (crc >= 0) at = chunk.writeUInt32BE(crc, at)
    this.sync.copy(chunk, at)
    this.payload.reset()
    this.blockCount = 0
    return chunk
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * One record as a bare Avro datum of the SysFlow schema (the `rec` union index, then its fields): no container,
 * header or block. What the SysFlow processor's socket reads, one record per message (the collector's -u output).
 */
export class RecordEncoder {
  private readonly encoders: (Encoder | undefined)[]
  private readonly version: SchemaVersion
  private readonly sink = new Sink(4096)

  constructor(opts: Pick<WriterOptions, 'schema' | 'omit' | 'nullable' | 'symbols'> = {}) {
    const version = opts.schema ?? '5'
    if (!SCHEMA_VERSIONS.includes(version)) throw new RangeError(`unknown SysFlow schema version ${String(version)} (expected one of ${SCHEMA_VERSIONS.join(', ')})`)
    this.version = version
    this.encoders = compileSchema(version, opts.omit, opts.nullable, opts.symbols).encoders
  }

  /** The record's bytes, in a new Buffer the caller owns. */
  encode(rec: SysFlowRecord): Buffer {
    const enc = this.encoders[rec.kind]
    if (enc === undefined) {
      const kind = (rec as {kind?: unknown} | null)?.kind
      if (typeof kind !== 'number' || !(kind in KIND_FULLNAME)) throw new RecordEncodeError(`not a SysFlow record (kind ${String(kind)})`)
      throw new RecordEncodeError(`schema version ${this.version} has no ${KIND_FULLNAME[kind]} records: cannot write a ${KIND_ABBREV[kind]} record with it`)
    }
    const s = this.sink
    s.reset()
    try {
      enc(s, rec)
    } catch (e) {
      if (e instanceof RecordEncodeError) throw e
      throw new RecordEncodeError(`${KIND_ABBREV[rec.kind]} record: ${(e as Error).message}`, {cause: e})
    }
    return Buffer.from(s.take())
  }
}


/** Magic, the metadata map (avro.schema, avro.codec) and the sync marker. */
function makeHeader(schemaJson: string, codec: string, sync: Buffer): Buffer {
  const s = new Sink(schemaJson.length + 256)
  s.writeRaw(MAGIC)
  s.writeLong(2n)
  s.writeString('avro.schema')
  s.writeBytes(Buffer.from(schemaJson, 'utf8'))
  s.writeString('avro.codec')
  s.writeBytes(Buffer.from(codec, 'utf8'))
  s.writeLong(0n)
  s.writeRaw(sync)
  return Buffer.from(s.take())
}
