// Column tables: the decoded values of one block, one typed array per field, instead of one object per record.
//
// Every column keeps a state byte per row: PRESENT, UNDEFINED (the writer schema lacks the field, or a writer union
// where we expect a plain type took its null branch) or NULL (a nullable field's null, or an absent reference).
// Rows start UNDEFINED, so in the wide events table the fields a record's kind does not have stay empty.
//   long   -> two 32-bit words per row (little-endian halves of a BigInt64Array over the same memory): the decoder
//             writes the words, never a bigint;
//   int, enum (index into the decoder's symbols) -> Int32Array; boolean -> Uint8Array;
//   string, bytes, fixed (FOID) -> UTF-8 (or raw) bytes copied into one buffer per column, start + length per row;
//   arrays, maps, nested records (args, env, Pod's fields) -> the row decoder's value, one JS value per row (rare).
// Nested OIDs are flattened into two long columns (`procOID.hpid`, `procOID.createTS`).
import {canonicalFields, Expect} from '../avro/compile.js'
import {Kind, KIND_FULLNAME} from '../records.js'

export const PRESENT = 0
export const UNDEFINED = 1
export const NULL = 2

export type ColumnType = 'long' | 'int' | 'bool' | 'enum' | 'text' | 'hex' | 'object'

export interface ColumnSpec {
  name: string
  type: ColumnType
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
if (!LE) throw new Error('the columnar decoder needs a little-endian machine')

/**
 * One zeroed ArrayBuffer the columns of a table take their first arrays from: a table costs one allocation rather
 * than two to four per column (typed arrays have off-heap backing stores, and many small ones keep the collector
 * busy). Arrays that grow later are allocated on their own.
 */
export class Arena {
  private at = 0
  readonly buf: ArrayBuffer
  constructor(bytes: number) {
    this.buf = new ArrayBuffer(bytes)
  }

  private take(bytes: number): number {
    const at = this.at
    this.at = (at + bytes + 7) & ~7
    return at
  }

  i64(n: number): BigInt64Array {
    return new BigInt64Array(this.buf, this.take(8 * n), n)
  }

  i32(n: number): Int32Array {
    return new Int32Array(this.buf, this.take(4 * n), n)
  }

  u8(n: number): Uint8Array {
    return new Uint8Array(this.buf, this.take(n), n)
  }

  /** Bytes a column of `type` takes for `n` rows (with alignment). */
  static bytes(type: ColumnType, n: number): number {
    const a = (b: number) => (b + 7) & ~7
    switch (type) {
      case 'long':
        return a(8 * n) + a(n)
      case 'int':
      case 'enum':
        return a(4 * n) + a(n)
      case 'bool':
        return 2 * a(n)
      case 'text':
      case 'hex':
        return 2 * a(4 * n) + a(n)
      case 'object':
        return 0
    }
  }
}

const heap: Pick<Arena, 'i64' | 'i32' | 'u8'> = {
  i64: (n) => new BigInt64Array(n),
  i32: (n) => new Int32Array(n),
  u8: (n) => new Uint8Array(n),
}

function grownState(s: Uint8Array, cap: number): Uint8Array {
  const out = new Uint8Array(cap).fill(UNDEFINED)
  out.set(s)
  return out
}

export class LongColumn {
  readonly type = 'long'
  /** Row i: words 2i (low) and 2i+1 (high). */
  w: Int32Array
  v: BigInt64Array
  s: Uint8Array
  constructor(cap: number, mem: Pick<Arena, 'i64' | 'i32' | 'u8'> = heap) {
    this.v = mem.i64(cap)
    this.w = new Int32Array(this.v.buffer, this.v.byteOffset, 2 * cap)
    this.s = mem.u8(cap).fill(UNDEFINED)
  }

  grow(cap: number): void {
    const v = new BigInt64Array(cap)
    v.set(this.v)
    this.v = v
    this.w = new Int32Array(v.buffer)
    this.s = grownState(this.s, cap)
  }

  get(i: number): bigint | null | undefined {
    const s = this.s[i]
    return s === PRESENT ? this.v[i] : s === NULL ? null : undefined
  }

  /** The value as a number when it is a safe integer (lengths, small counters); exact only below 2^53. */
  num(i: number): number {
    return this.w[2 * i + 1] * 4294967296 + (this.w[2 * i] >>> 0)
  }
}

export class IntColumn {
  v: Int32Array
  s: Uint8Array
  constructor(readonly type: 'int' | 'enum', cap: number, mem: Pick<Arena, 'i64' | 'i32' | 'u8'> = heap) {
    this.v = mem.i32(cap)
    this.s = mem.u8(cap).fill(UNDEFINED)
  }

  grow(cap: number): void {
    const v = new Int32Array(cap)
    v.set(this.v)
    this.v = v
    this.s = grownState(this.s, cap)
  }

  get(i: number): number | null | undefined {
    const s = this.s[i]
    return s === PRESENT ? this.v[i] : s === NULL ? null : undefined
  }
}

export class BoolColumn {
  readonly type = 'bool'
  v: Uint8Array
  s: Uint8Array
  constructor(cap: number, mem: Pick<Arena, 'i64' | 'i32' | 'u8'> = heap) {
    this.v = mem.u8(cap)
    this.s = mem.u8(cap).fill(UNDEFINED)
  }

  grow(cap: number): void {
    const v = new Uint8Array(cap)
    v.set(this.v)
    this.v = v
    this.s = grownState(this.s, cap)
  }

  get(i: number): boolean | null | undefined {
    const s = this.s[i]
    return s === PRESENT ? this.v[i] === 1 : s === NULL ? null : undefined
  }
}

// Buffer's own slice methods skip the encoding dispatch of toString().
interface FastSlices {
  hexSlice(start: number, end: number): string
  utf8Slice(start: number, end: number): string
}

/** Variable-length bytes: strings (UTF-8) and fixed values (FOIDs, shown as hex). */
export class BytesColumn {
  /** Start of row i's bytes in `b`, and their length. */
  st: Int32Array
  ln: Int32Array
  s: Uint8Array
  b: Buffer
  /** Bytes used in `b`. */
  bp = 0
  /**
   * `view`: the rows point into this buffer (the block's own payload, which lives as long as the block's tables)
   * rather than into copies; entity tables, which outlive their block, copy.
   */
  constructor(readonly type: 'text' | 'hex', cap: number, view?: Buffer, mem: Pick<Arena, 'i64' | 'i32' | 'u8'> = heap) {
    this.st = mem.i32(cap)
    this.ln = mem.i32(cap)
    this.s = mem.u8(cap).fill(UNDEFINED)
    this.b = view ?? Buffer.allocUnsafe(Math.max(cap * 16, 64))
  }

  grow(cap: number): void {
    const st = new Int32Array(cap)
    st.set(this.st)
    this.st = st
    const ln = new Int32Array(cap)
    ln.set(this.ln)
    this.ln = ln
    this.s = grownState(this.s, cap)
  }

  /** Room for n more bytes. */
  reserve(n: number): Buffer {
    if (this.bp + n > this.b.length) {
      let size = this.b.length * 2
      while (size < this.bp + n) size *= 2
      const b = Buffer.allocUnsafe(size)
      this.b.copy(b, 0, 0, this.bp)
      this.b = b
    }
    return this.b
  }

  /** Row i's value as text (UTF-8 decoded, as the row decoder does) or hex. */
  text(i: number): string {
    const at = this.st[i]
    const len = this.ln[i]
    const f = this.b as unknown as FastSlices
    if (this.type === 'hex') return f.hexSlice(at, at + len)
    // Short ASCII strings (most names, ids, flags) without a native call, as binary.ts's readString.
    if (len < 24) {
      const b = this.b
      let s = ''
      for (let k = at; k < at + len; k++) {
        const ch = b[k]
        if (ch > 0x7f) return f.utf8Slice(at, at + len)
        s += String.fromCharCode(ch)
      }
      return s
    }
    return f.utf8Slice(at, at + len)
  }

  get(i: number): string | null | undefined {
    const s = this.s[i]
    return s === PRESENT ? this.text(i) : s === NULL ? null : undefined
  }

  /** Do rows i (here) and j (of `o`) hold the same bytes? */
  equals(i: number, o: BytesColumn, j: number): boolean {
    const n = this.ln[i]
    if (n !== o.ln[j]) return false
    const a = this.b
    const b = o.b
    const x = this.st[i]
    const y = o.st[j]
    for (let k = 0; k < n; k++) if (a[x + k] !== b[y + k]) return false
    return true
  }
}

/** Values the row decoder builds (arrays, maps, records other than OIDs): few records carry them. */
export class ObjectColumn {
  readonly type = 'object'
  v: unknown[]
  s: Uint8Array
  constructor(cap: number) {
    this.v = new Array<unknown>(cap).fill(undefined)
    this.s = new Uint8Array(0)
  }

  grow(cap: number): void {
    for (let i = this.v.length; i < cap; i++) this.v.push(undefined)
  }

  get(i: number): unknown {
    return this.v[i]
  }
}

export type Column = LongColumn | IntColumn | BoolColumn | BytesColumn | ObjectColumn

export function makeColumn(type: ColumnType, cap: number, view?: Buffer, mem: Pick<Arena, 'i64' | 'i32' | 'u8'> = heap): Column {
  switch (type) {
    case 'long':
      return new LongColumn(cap, mem)
    case 'int':
    case 'enum':
      return new IntColumn(type, cap, mem)
    case 'bool':
      return new BoolColumn(cap, mem)
    case 'text':
    case 'hex':
      return new BytesColumn(type, cap, view, mem)
    case 'object':
      return new ObjectColumn(cap)
  }
}

/** How a canonical field is stored: its column(s). */
export interface FieldLayout {
  prop: string
  expect: Expect
  absentNull: boolean
  /** OID fields: [createTS column, hpid column] (OID's canonical order); others: one column. */
  columns: number[]
  oid: boolean
}

function plainType(e: Expect): ColumnType {
  if (typeof e === 'object' && 'opt' in e) return plainType(e.opt)
  if (typeof e === 'string') {
    switch (e) {
      case 'long':
        return 'long'
      case 'int':
        return 'int'
      case 'boolean':
        return 'bool'
      case 'enum':
        return 'enum'
      case 'string':
        return 'text'
      case 'foid':
        return 'hex'
    }
  }
  return 'object'
}

export function isOidExpect(e: Expect): boolean {
  const inner = typeof e === 'object' && 'opt' in e ? e.opt : e
  return typeof inner === 'object' && 'record' in inner && inner.record === 'OID'
}

/** The columns of a table (one kind, or every event kind at once) and where each kind's fields are. */
export class TableSpec {
  readonly columns: ColumnSpec[] = []
  readonly index = new Map<string, number>()
  /** Per kind: its canonical fields in order, with their columns. */
  readonly fields = new Map<number, FieldLayout[]>()

  constructor(readonly name: string, kinds: readonly number[]) {
    for (const kind of kinds) {
      const layout: FieldLayout[] = []
      for (const cf of canonicalFields(shortName(KIND_FULLNAME[kind]))) {
        const oid = isOidExpect(cf.expect)
        const columns = oid
          ? [this.column(`${cf.prop}.createTS`, 'long'), this.column(`${cf.prop}.hpid`, 'long')]
          : [this.column(cf.prop, plainType(cf.expect))]
        layout.push({prop: cf.prop, expect: cf.expect, absentNull: cf.absentNull === true, columns, oid})
      }
      this.fields.set(kind, layout)
    }
  }

  private column(name: string, type: ColumnType): number {
    const known = this.index.get(name)
    if (known !== undefined) {
      if (this.columns[known].type !== type) throw new Error(`column ${name} has two types`)
      return known
    }
    this.columns.push({name, type})
    this.index.set(name, this.columns.length - 1)
    return this.columns.length - 1
  }

  private readonly builders = new Map<number, (t: ColumnTable, i: number) => Record<string, unknown>>()
  /**
   * A function building the typed record of a row of `kind`: one object literal with the canonical properties in
   * order (as the row decoder's), generated once; the text holds only our own property names.
   */
  builder(kind: number): (t: ColumnTable, i: number) => Record<string, unknown> {
    let b = this.builders.get(kind)
    if (b === undefined) {
      const fields = this.fields.get(kind)!
      const props = fields.map((f, k) => `${f.prop}: t.value(F[${k}], i)`)
      // eslint-disable-next-line no-new-func
      b = new Function('F', `return function build(t, i) { return {kind: ${kind}, ${props.join(', ')}} }`)(fields) as (t: ColumnTable, i: number) => Record<string, unknown>
      this.builders.set(kind, b)
    }
    return b
  }

  col(name: string): number {
    const i = this.index.get(name)
    if (i === undefined) throw new Error(`no column ${name} in ${this.name}`)
    return i
  }
}

function shortName(full: string): string {
  return full.slice(full.lastIndexOf('.') + 1)
}

export const EVENT_KINDS: readonly number[] = [
  Kind.ProcessEvent, Kind.NetworkFlow, Kind.FileFlow, Kind.FileEvent, Kind.NetworkEvent, Kind.ProcessFlow, Kind.K8sEvent,
]
export const ENTITY_KINDS: readonly number[] = [Kind.Header, Kind.Container, Kind.Process, Kind.File, Kind.Pod]

/** Every event and flow kind in one wide table (they share ts, procOID, tid, opFlags, endTs, fd, counters, ...). */
export const EVENTS_SPEC = new TableSpec('events', EVENT_KINDS)
/** One table per entity kind, indexed by Kind. */
export const ENTITY_SPECS: readonly (TableSpec | undefined)[] = (() => {
  const out: (TableSpec | undefined)[] = []
  for (const k of ENTITY_KINDS) out[k] = new TableSpec(shortName(KIND_FULLNAME[k]), [k])
  return out
})()

export function specOf(kind: number): TableSpec {
  return ENTITY_SPECS[kind] ?? EVENTS_SPEC
}

/**
 * Rows of one table, decoded with one file's writer schema (its enum symbols are the decoder's). Columns are made
 * when the first record of a kind that has them arrives (prepare): a block of file flows never allocates the
 * columns only process flows or K8s events have. A column never made reads as absent in every row.
 */
export class ColumnTable {
  n = 0
  cap: number
  readonly cols: (Column | undefined)[]
  /** Kinds whose columns exist (bit per Kind). */
  private ready = 0

  constructor(readonly spec: TableSpec, cap: number, public symbols: readonly string[], public view?: Buffer) {
    this.cap = Math.max(cap, 1)
    this.cols = spec.columns.map(() => undefined)
  }

  /** Make the columns of `kind` (before its first row). */
  prepare(kind: number): void {
    if (this.ready & (1 << kind)) return
    this.ready |= 1 << kind
    const todo: number[] = []
    let bytes = 0
    for (const f of this.spec.fields.get(kind)!) {
      for (const k of f.columns) {
        if (this.cols[k] !== undefined || todo.includes(k)) continue
        todo.push(k)
        bytes += Arena.bytes(this.spec.columns[k].type, this.cap)
      }
    }
    const arena = new Arena(bytes)
    for (const k of todo) this.cols[k] = makeColumn(this.spec.columns[k].type, this.cap, this.view, arena)
  }

  /**
   * Empty the table for another block (its caller is done with every row): states back to UNDEFINED, strings now
   * views of `view`. Saves allocating (and collecting) a table per block.
   */
  reuse(symbols: readonly string[], view: Buffer | undefined): void {
    const n = this.n
    for (const c of this.cols) {
      if (c === undefined) continue
      if (c instanceof ObjectColumn) c.v.fill(undefined, 0, n)
      else c.s.fill(UNDEFINED, 0, n)
      if (c instanceof BytesColumn) {
        c.bp = 0
        if (view !== undefined) c.b = view
      }
    }
    this.n = 0
    this.symbols = symbols
    this.view = view
  }

  /** Room for one more row. */
  grow(): void {
    const cap = this.cap * 2
    for (const c of this.cols) c?.grow(cap)
    this.cap = cap
  }

  /** The typed record of row i (kind `kind`), exactly as the row decoder builds it. */
  record(kind: number, i: number): Record<string, unknown> {
    return this.spec.builder(kind)(this, i)
  }

  value(f: FieldLayout, i: number): unknown {
    if (f.oid) {
      const ts = this.cols[f.columns[0]] as LongColumn | undefined
      const s = ts === undefined ? UNDEFINED : ts.s[i]
      if (s !== PRESENT) return s === NULL ? null : undefined
      return {createTS: ts!.v[i], hpid: (this.cols[f.columns[1]] as LongColumn).v[i]}
    }
    const c = this.cols[f.columns[0]]
    if (c === undefined) return undefined
    if (c.type === 'enum') {
      const s = c.s[i]
      return s === PRESENT ? this.symbols[c.v[i]] : s === NULL ? null : undefined
    }
    return c.get(i)
  }
}
