// The columnar decoder: per writer schema and record type, generated code that appends each field of a record to
// the column tables of its block (columns.ts), a whole block at a time.
//
// It follows the row decoder's resolution exactly (avro/compile.ts decides which union members and which fields
// are readable, and says why not): writer fields we do not know are skipped, canonical fields the writer lacks are
// left absent (null for nullable references), promotions and unions in any order as there. The generated text
// holds only column numbers and numbered parameters; names and symbols from the file's schema (hostile input) are
// passed as values, never become code.
import {AvscType, canonicalFields, compileGeneric, compileWriterSchema, Expect, RecDecoder, resolve} from '../avro/compile.js'
import {copyBytes, Cursor, DecodeError, readInt} from '../avro/binary.js'
import {KIND_ABBREV, KIND_FULLNAME} from '../records.js'

const KIND_COUNT = KIND_ABBREV.length
import {
  BoolColumn, BytesColumn, ColumnTable, EVENTS_SPEC, IntColumn, NULL, PRESENT, specOf, TableSpec, UNDEFINED,
} from './columns.js'

/** The tables of one decoded block, and the order its records came in. */
export interface BlockColumns {
  /** Every event and flow record of the block, in order (rows of EVENTS_SPEC). */
  events: ColumnTable
  /** Entity records per Kind (Header, Container, Process, File, Pod), when the block has any. */
  entities: (ColumnTable | undefined)[]
  /** Per record of the block, in order: its Kind (255: a member we do not read) and its row in its table. */
  seqKind: Uint8Array
  seqRow: Int32Array
  /** Records decoded (the block's count). */
  count: number
  /** The Kind of each events row. */
  eventKind: Uint8Array
  /** Records read (members we do not read are not counted). */
  records: number
  /** Records read per Kind. */
  kindCounts: Int32Array
  /** The caller is done with the events table and the sequence (entity tables live on in the join): reuse them. */
  recycle(): void
}

type KindReader = (c: Cursor, t: ColumnTable, i: number) => void

export interface ColumnDecoder {
  /** The row decoder of the same schema: its branch decisions, notes and skip counters are this decoder's too. */
  rows: RecDecoder
  /** Decode `count` records at the cursor into fresh tables. Throws DecodeError (the block is then dropped). */
  block(c: Cursor, count: number): BlockColumns
}

// --- primitives writing into columns (no bigint is created) ---

/**
 * A zigzag varint long into words 2i, 2i+1 (low, high). Same bounds and errors as binary.ts's readLong (a byte read
 * past the end is `undefined`, which ends the varint; the caller checks the position once per block), unrolled:
 * nanosecond timestamps take nine bytes.
 */
export function readLongWords(c: Cursor, w: Int32Array, i: number): void {
  c.pos = readLongWordsAt(c.buf, c.pos, w, i)
}

/** readLongWords at `pos` of `buf`: returns the position after the varint. */
function readLongWordsAt(buf: Uint8Array, pos: number, w: Int32Array, i: number): number {
  let b = buf[pos++]
  let lo = b & 0x7f
  let hi = 0
  small: {
    // `<`, not a bit test: a first byte past the end (undefined) reads one more, as binary.ts's readLong does, so
    // that both decoders stop at the same position in a damaged block (its error says where).
    if (b < 0x80) break small
    b = buf[pos++]
    lo |= (b & 0x7f) << 7
    if ((b & 0x80) === 0) break small
    b = buf[pos++]
    lo |= (b & 0x7f) << 14
    if ((b & 0x80) === 0) break small
    b = buf[pos++]
    lo |= (b & 0x7f) << 21
    if ((b & 0x80) === 0) break small
    // Bits 28..63: four more bits into `lo`, the rest into `hi`.
    b = buf[pos++]
    lo |= (b & 0x0f) << 28
    hi = (b & 0x7f) >>> 4
    big: {
      if ((b & 0x80) === 0) break big
      b = buf[pos++]
      hi |= (b & 0x7f) << 3
      if ((b & 0x80) === 0) break big
      b = buf[pos++]
      hi |= (b & 0x7f) << 10
      if ((b & 0x80) === 0) break big
      b = buf[pos++]
      hi |= (b & 0x7f) << 17
      if ((b & 0x80) === 0) break big
      b = buf[pos++]
      hi |= (b & 0x7f) << 24
      if ((b & 0x80) === 0) break big
      b = buf[pos++]
      hi |= (b & 0x7f) << 31
      if ((b & 0x80) !== 0) throw new DecodeError('varint longer than 10 bytes', pos)
    }
    const negative = lo & 1
    lo = (lo >>> 1) | ((hi & 1) << 31)
    hi = hi >>> 1
    if (negative) {
      lo = ~lo
      hi = ~hi
    }
    w[2 * i] = lo
    w[2 * i + 1] = hi
    return pos
  }
  // Up to 28 bits: the value and its sign in the low word.
  w[2 * i] = (lo >>> 1) ^ -(lo & 1)
  w[2 * i + 1] = -(lo & 1)
  return pos
}

/** An int promoted to long. */
function readIntAsLongWords(c: Cursor, w: Int32Array, i: number): void {
  const v = readInt(c)
  w[2 * i] = v
  w[2 * i + 1] = v >> 31
}

const lengthWords = new Int32Array(2)
const lengthLongs = new BigInt64Array(lengthWords.buffer)

/** A long used as a length: a non-negative int32, as binary.ts's readLength. */
function readLength(c: Cursor): number {
  const start = c.pos
  readLongWords(c, lengthWords, 0)
  if (lengthWords[1] !== 0 || lengthWords[0] < 0) throw new DecodeError(`invalid length ${lengthLongs[0]}`, start)
  return lengthWords[0]
}

function copyEntityBytes(c: Cursor, col: BytesColumn, i: number, pos: number, len: number): void {
  const b = col.reserve(len)
  const at = col.bp
  copyBytes(b, at, c.buf, pos, len)
  col.bp = at + len
  col.st[i] = at
  col.ln[i] = len
  col.s[i] = PRESENT
}

/**
 * A string of the events table: a view of the block's payload, at `pos` (the generated readers keep the position
 * in a local); returns the position after it.
 * Lengths below 64 take one byte; the rest, and anything odd, go through readLength and its errors.
 */
function viewBytesAt(c: Cursor, pos: number, col: BytesColumn, i: number): number {
  const start = pos
  let len = c.buf[pos]
  if (len < 0x80 && (len & 1) === 0) {
    pos++
    len >>>= 1
  } else {
    c.pos = pos
    len = readLength(c)
    pos = c.pos
  }
  if (pos + len > c.end) throw new DecodeError(`string of ${len} bytes runs past the block end`, start)
  col.st[i] = pos
  col.ln[i] = len
  col.s[i] = PRESENT
  return pos + len
}

function viewFixedAt(c: Cursor, pos: number, col: BytesColumn, i: number, size: number): number {
  if (pos + size > c.end) throw new DecodeError(`fixed(${size}) runs past the block end`, pos)
  col.st[i] = pos
  col.ln[i] = size
  col.s[i] = PRESENT
  return pos + size
}

function readBytes(c: Cursor, col: BytesColumn, i: number): void {
  const start = c.pos
  const len = readLength(c)
  const pos = c.pos
  if (pos + len > c.end) throw new DecodeError(`string of ${len} bytes runs past the block end`, start)
  c.pos = pos + len
  copyEntityBytes(c, col, i, pos, len)
}

function readFixed(c: Cursor, col: BytesColumn, i: number, size: number): void {
  const pos = c.pos
  if (pos + size > c.end) throw new DecodeError(`fixed(${size}) runs past the block end`, pos)
  c.pos = pos + size
  copyEntityBytes(c, col, i, pos, size)
}

function readBool(c: Cursor, col: BoolColumn, i: number): void {
  const b = c.buf[c.pos++]
  if (b > 1) throw new DecodeError(`invalid boolean byte ${b}`, c.pos - 1)
  col.v[i] = b
  col.s[i] = PRESENT
}

/** An enum index, stored as `base` + index into the decoder's symbols (the writer's own, unknown ones kept). */
function readEnum(c: Cursor, col: IntColumn, i: number, base: number, n: number, name: string): void {
  const start = c.pos
  const k = readInt(c)
  if (k < 0 || k >= n) throw new DecodeError(`enum ${name} index ${k} out of range`, start)
  col.v[i] = base + k
  col.s[i] = PRESENT
}

function unionOutOfRange(where: string, u: number, start: number): DecodeError {
  return new DecodeError(`${where}: union branch ${u} out of range`, start)
}

// --- code generation ---

class Gen {
  readonly names: string[] = []
  readonly values: unknown[] = []
  readonly lines: string[] = []
  /** Enum symbols of the whole decoder, and where each writer enum type's start. */
  constructor(readonly symbols: string[], readonly enumBase: Map<AvscType, number>, readonly view: boolean) {}

  param(v: unknown): string {
    const i = this.values.indexOf(v)
    if (i >= 0 && (typeof v === 'function' || typeof v === 'object')) return this.names[i]
    this.values.push(v)
    this.names.push(`p${this.values.length - 1}`)
    return this.names[this.names.length - 1]
  }

  emit(s: string): void {
    this.lines.push(s)
  }

  /** Code that reads through the cursor (rare values): the local position is handed over and taken back. */
  viaCursor(s: string): void {
    this.lines.push(`c.pos = pos; ${s} pos = c.pos;`)
  }

  enumBaseOf(t: AvscType): number {
    let b = this.enumBase.get(t)
    if (b === undefined) {
      b = this.symbols.length
      this.symbols.push(...(t.symbols ?? []))
      this.enumBase.set(t, b)
    }
    return b
  }
}

/** Columns of a field: one, or [createTS, hpid] of an OID. */
type Target = {cols: number[]; oid: boolean; object: boolean}

function absent(g: Gen, t: Target, state: number): void {
  if (t.object) {
    g.emit(`C[${t.cols[0]}].v[i] = ${state === NULL ? 'null' : 'undefined'};`)
    return
  }
  for (const k of t.cols) g.emit(`C[${k}].s[i] = ${state};`)
}

/** Code reading writer type `t` as canonical `e` into `target` (the row decoder resolved it: it is readable). */
function value(g: Gen, t: AvscType, e: Expect, target: Target, where: string): void {
  const isOpt = typeof e === 'object' && 'opt' in e
  const inner: Expect = isOpt ? (e as {opt: Expect}).opt : e
  if (t.typeName.startsWith('union')) {
    const types = t.types ?? []
    const absentState = isOpt ? NULL : UNDEFINED
    g.emit(`{ const st = pos; let u = buf[pos]; if (u < 0x80) { pos++; u = (u >>> 1) ^ -(u & 1) } else { c.pos = pos; u = readInt(c); pos = c.pos } switch (u) {`)
    types.forEach((b, k) => {
      g.emit(`case ${k}: {`)
      if (b.typeName === 'null') absent(g, target, absentState)
      else if (typeof resolve(b, inner, where, []) === 'string') {
        // A branch that does not resolve is skipped by its own writer type and reads as absent.
        g.viaCursor(`${g.param(compileGeneric(b))}(c);`)
        absent(g, target, absentState)
      } else value(g, b, inner, target, where)
      g.emit('break; }')
    })
    g.emit(`default: throw ${g.param(unionOutOfRange)}(${g.param(where)}, u, st); } }`)
    return
  }
  if (isOpt) {
    if (t.typeName === 'null') {
      absent(g, target, NULL)
      return
    }
    value(g, t, inner, target, where)
    return
  }
  if (target.oid) {
    // A writer OID record: its fields in the writer's order, the canonical ones into their columns.
    const seen = new Set<string>()
    for (const fl of t.fields ?? []) {
      const cf = canonicalFields('OID').find((c) => c.avro === fl.name)
      if (cf && !seen.has(cf.prop)) {
        seen.add(cf.prop)
        const col = target.cols[cf.prop === 'createTS' ? 0 : 1]
        value(g, fl.type, cf.expect, {cols: [col], oid: false, object: false}, `${where}.${fl.name}`)
      } else g.viaCursor(`${g.param(compileGeneric(fl.type))}(c);`)
    }
    return
  }
  const k = target.cols[0]
  switch (inner) {
    case 'long':
      if (t.typeName === 'int') g.viaCursor(`${g.param(readIntAsLongWords)}(c, C[${k}].w, i); C[${k}].s[i] = 0;`)
      // One-byte longs (small counters, flags, zero) inline; the rest through readLongWordsAt.
      else g.emit(`{ const b = buf[pos]; const w = C[${k}].w; if (b < 0x80) { pos++; w[2 * i] = (b >>> 1) ^ -(b & 1); w[2 * i + 1] = -(b & 1) } else pos = ${g.param(readLongWordsAt)}(buf, pos, w, i); C[${k}].s[i] = 0; }`)
      return
    case 'int':
      g.emit(`{ const b = buf[pos]; if (b < 0x80) { pos++; C[${k}].v[i] = (b >>> 1) ^ -(b & 1) } else { c.pos = pos; C[${k}].v[i] = readInt(c); pos = c.pos } C[${k}].s[i] = 0; }`)
      return
    case 'string':
      if (g.view) g.emit(`pos = ${g.param(viewBytesAt)}(c, pos, C[${k}], i);`)
      else g.viaCursor(`${g.param(readBytes)}(c, C[${k}], i);`)
      return
    case 'boolean':
      g.viaCursor(`${g.param(readBool)}(c, C[${k}], i);`)
      return
    case 'enum':
      g.viaCursor(`${g.param(readEnum)}(c, C[${k}], i, ${g.enumBaseOf(t)}, ${(t.symbols ?? []).length}, ${g.param(t.name ?? 'enum')});`)
      return
    case 'foid':
      if (g.view) g.emit(`pos = ${g.param(viewFixedAt)}(c, pos, C[${k}], i, ${t.size ?? 0});`)
      else g.viaCursor(`${g.param(readFixed)}(c, C[${k}], i, ${t.size ?? 0});`)
      return
  }
  throw new Error(`columnar decoder: unexpected ${JSON.stringify(inner)}`)
}

/** The reader of one writer record member into its kind's table. */
function compileKind(g: Gen, t: AvscType, kind: number, spec: TableSpec, where: string): KindReader {
  const layout = spec.fields.get(kind)!
  const filled = new Set<string>()
  const canon = canonicalFields(shortName(KIND_FULLNAME[kind]))
  for (const wf of t.fields ?? []) {
    const cf = canon.find((c) => c.avro === wf.name)
    const f = cf && layout.find((l) => l.prop === cf.prop)
    const here = `${where}.${wf.name}`
    const readable = f !== undefined && !filled.has(f.prop) ? resolve(wf.type, f.expect, here, []) : 'skip'
    if (f === undefined || typeof readable === 'string') {
      // Unknown, duplicate, or unreadable (the row decoder noted it): decoded and dropped, the field stays absent.
      g.viaCursor(`${g.param(compileGeneric(wf.type))}(c);`)
      continue
    }
    filled.add(f.prop)
    const object = !f.oid && specCol(spec, f.columns[0]) === 'object'
    if (object) g.viaCursor(`C[${f.columns[0]}].v[i] = ${g.param(readable)}(c);`)
    else value(g, wf.type, f.expect, {cols: f.columns, oid: f.oid, object: false}, here)
  }
  for (const f of layout) {
    if (filled.has(f.prop) || !f.absentNull) continue
    absent(g, {cols: f.columns, oid: f.oid, object: specCol(spec, f.columns[0]) === 'object'}, NULL)
  }
  // The position lives in a local while a record is read (the cursor's field is a memory access each time).
  const body = `return function read(c, t, i) {\nconst C = t.cols; const buf = c.buf; let pos = c.pos;\n${g.lines.join('\n')}\nc.pos = pos;\n}`
  // eslint-disable-next-line no-new-func
  return new Function('readInt', ...g.names, body)(readInt, ...g.values) as KindReader
}

function specCol(spec: TableSpec, k: number): string {
  return spec.columns[k].type
}

function shortName(full: string): string {
  return full.slice(full.lastIndexOf('.') + 1)
}

/** Compile a writer schema (JSON text) into a columnar decoder. Throws SchemaError, as compileWriterSchema. */
export function compileColumnDecoder(schemaJson: string): ColumnDecoder {
  const rows = compileWriterSchema(schemaJson)
  return columnDecoderFor(rows)
}

/** The columnar decoder of the schema a row decoder was compiled from. */
export function columnDecoderFor(rows: RecDecoder): ColumnDecoder {
  const symbols: string[] = []
  const enumBase = new Map<AvscType, number>()
  const n = rows.branchKinds.length
  const readers: (KindReader | undefined)[] = []
  for (let b = 0; b < n; b++) {
    const kind = rows.branchKinds[b]
    if (kind < 0) {
      readers.push(undefined)
      continue
    }
    const spec = specOf(kind)
    readers.push(compileKind(new Gen(symbols, enumBase, spec === EVENTS_SPEC), rows.branchTypes[b], kind, spec, shortName(rows.branchNames[b])))
  }
  const kinds = Uint8Array.from(rows.branchKinds, (k) => (k < 0 ? 255 : k))
  const skippers = rows.skippers
  const skipped = rows.skipped
  let spare: BlockColumns | undefined
  return {
    rows,
    block(c: Cursor, count: number): BlockColumns {
      // The events table's strings and FOIDs are views of the payload (c.buf, this block's own buffer).
      let events: ColumnTable
      let seqKind: Uint8Array
      let seqRow: Int32Array
      let eventKind: Uint8Array
      if (spare !== undefined && spare.events.cap >= count && spare.seqKind.length >= count) {
        events = spare.events
        events.reuse(symbols, c.buf)
        ;({seqKind, seqRow, eventKind} = spare)
        spare = undefined
      } else {
        events = new ColumnTable(EVENTS_SPEC, Math.max(count, 1024), symbols, c.buf)
        seqKind = new Uint8Array(Math.max(count, 1024))
        seqRow = new Int32Array(seqKind.length)
        eventKind = new Uint8Array(seqKind.length)
      }
      const entities: (ColumnTable | undefined)[] = []
      let records = 0
      const kindCounts = new Int32Array(KIND_COUNT)
      for (let k = 0; k < count; k++) {
        const start = c.pos
        const idx = readInt(c)
        if (idx < 0 || idx >= n) throw new DecodeError(`unknown union branch ${idx} (the writer schema has ${n})`, start)
        const r = readers[idx]
        const kind = kinds[idx]
        if (r === undefined) {
          skippers[idx](c)
          skipped[idx]++
          seqKind[k] = 255
          continue
        }
        let t = events
        if (kind < 4 || kind === 10) {
          t = entities[kind] ?? (entities[kind] = new ColumnTable(specOf(kind), Math.max(64, count >> 4), symbols))
          if (t.n >= t.cap) t.grow()
        }
        t.prepare(kind)
        const i = t.n++
        if (t === events) eventKind[i] = kind
        r(c, t, i)
        seqKind[k] = kind
        seqRow[k] = i
        kindCounts[kind]++
        records++
      }
      const out: BlockColumns = {events, entities, seqKind, seqRow, count, eventKind, records, kindCounts, recycle: () => void (spare = out)}
      return out
    },
  }
}

