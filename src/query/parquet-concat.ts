// Concatenating Parquet files that share a schema into one, without decoding a value: the row groups' bytes are
// copied as they are and the footers' row group lists joined, their file offsets moved by where each file's bytes
// landed. The Parquet export (./export.ts) writes its slices in parallel, each to a file of its own, and joins them
// with this: re-encoding them (a second COPY) would cost as much as writing them did.
//
// A footer is a Thrift FileMetaData in the compact protocol. It is read into a generic tree (field id, type, value)
// and written back field for field, so that whatever a writer puts there survives; only the offsets, row counts
// and row group ordinals are changed.
import fs from 'node:fs'
import path from 'node:path'

// --- Thrift compact protocol -----------------------------------------------------------------------------------

const T = {BOOL: 1, BOOL_FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12} as const

export type TValue = boolean | number | bigint | Uint8Array | TStruct | TList | TMap
/** A struct: its fields in the order read. A boolean field has type T.BOOL whatever its value. */
export interface TStruct {
  fields: {id: number; type: number; value: TValue}[]
}
export interface TList {
  elem: number
  items: TValue[]
}
export interface TMap {
  key: number
  val: number
  entries: [TValue, TValue][]
}

class Reader {
  pos = 0
  constructor(private readonly b: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.b.length) throw new Error('Parquet footer: truncated')
    return this.b[this.pos++]
  }

  varint(): bigint {
    let v = 0n
    for (let shift = 0n; ; shift += 7n) {
      const x = this.byte()
      v |= BigInt(x & 0x7f) << shift
      if ((x & 0x80) === 0) return v
      if (shift > 63n) throw new Error('Parquet footer: bad varint')
    }
  }

  zigzag(): bigint {
    const v = this.varint()
    return (v >> 1n) ^ -(v & 1n)
  }

  value(type: number): TValue {
    switch (type) {
      case T.BOOL:
        return this.byte() === T.BOOL
      case T.BYTE:
        return this.byte()
      case T.I16:
      case T.I32:
        return Number(this.zigzag())
      case T.I64:
        return this.zigzag()
      case T.DOUBLE: {
        const v = this.b.slice(this.pos, this.pos + 8)
        this.pos += 8
        return v
      }
      case T.BINARY: {
        const n = Number(this.varint())
        if (this.pos + n > this.b.length) throw new Error('Parquet footer: truncated')
        const v = this.b.slice(this.pos, this.pos + n)
        this.pos += n
        return v
      }
      case T.LIST:
      case T.SET: {
        const h = this.byte()
        const n = h >> 4 === 15 ? Number(this.varint()) : h >> 4
        const elem = h & 0x0f
        const items: TValue[] = []
        for (let i = 0; i < n; i++) items.push(this.value(elem))
        return {elem, items}
      }
      case T.MAP: {
        const n = Number(this.varint())
        const kv = n > 0 ? this.byte() : 0
        const entries: [TValue, TValue][] = []
        for (let i = 0; i < n; i++) entries.push([this.value(kv >> 4), this.value(kv & 0x0f)])
        return {key: kv >> 4, val: kv & 0x0f, entries}
      }
      case T.STRUCT:
        return this.struct()
      default:
        throw new Error(`Parquet footer: unknown Thrift type ${type}`)
    }
  }

  struct(): TStruct {
    const fields: TStruct['fields'] = []
    let last = 0
    for (;;) {
      const h = this.byte()
      if (h === 0) return {fields}
      const type = h & 0x0f
      const id = h >> 4 === 0 ? Number(this.zigzag()) : last + (h >> 4)
      last = id
      // A boolean field carries its value in its type.
      if (type === T.BOOL || type === T.BOOL_FALSE) fields.push({id, type: T.BOOL, value: type === T.BOOL})
      else fields.push({id, type, value: this.value(type)})
    }
  }
}

class Writer {
  private buf = new Uint8Array(1 << 16)
  length = 0

  byte(x: number): void {
    if (this.length === this.buf.length) {
      const b = new Uint8Array(this.buf.length * 2)
      b.set(this.buf)
      this.buf = b
    }
    this.buf[this.length++] = x
  }

  bytes(x: Uint8Array): void {
    for (const v of x) this.byte(v)
  }

  varint(v: bigint): void {
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    this.byte(Number(v))
  }

  zigzag(v: bigint): void {
    this.varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n)
  }

  value(type: number, v: TValue): void {
    switch (type) {
      case T.BOOL:
        this.byte(v ? T.BOOL : T.BOOL_FALSE)
        return
      case T.BYTE:
        this.byte(v as number)
        return
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(v as number))
        return
      case T.I64:
        this.zigzag(v as bigint)
        return
      case T.DOUBLE:
        this.bytes(v as Uint8Array)
        return
      case T.BINARY:
        this.varint(BigInt((v as Uint8Array).length))
        this.bytes(v as Uint8Array)
        return
      case T.LIST:
      case T.SET: {
        const l = v as TList
        if (l.items.length < 15) this.byte((l.items.length << 4) | l.elem)
        else {
          this.byte(0xf0 | l.elem)
          this.varint(BigInt(l.items.length))
        }
        for (const x of l.items) this.value(l.elem, x)
        return
      }
      case T.MAP: {
        const m = v as TMap
        this.varint(BigInt(m.entries.length))
        if (m.entries.length > 0) this.byte((m.key << 4) | m.val)
        for (const [k, x] of m.entries) {
          this.value(m.key, k)
          this.value(m.val, x)
        }
        return
      }
      case T.STRUCT:
        this.struct(v as TStruct)
        return
      default:
        throw new Error(`Parquet footer: unknown Thrift type ${type}`)
    }
  }

  struct(s: TStruct): void {
    let last = 0
    for (const f of s.fields) {
      const type = f.type === T.BOOL ? (f.value ? T.BOOL : T.BOOL_FALSE) : f.type
      if (f.id > last && f.id - last <= 15) this.byte(((f.id - last) << 4) | type)
      else {
        this.byte(type)
        this.zigzag(BigInt(f.id))
      }
      last = f.id
      if (f.type !== T.BOOL) this.value(f.type, f.value)
    }
    this.byte(0)
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.length)
  }
}

export function readStruct(b: Uint8Array): TStruct {
  return new Reader(b).struct()
}

export function writeStruct(s: TStruct): Uint8Array {
  const w = new Writer()
  w.struct(s)
  return w.finish()
}

// --- Parquet ---------------------------------------------------------------------------------------------------

const MAGIC = Buffer.from('PAR1')

function field(s: TStruct, id: number): TStruct['fields'][number] | undefined {
  return s.fields.find((f) => f.id === id)
}

/** Add `delta` to the i64 field `id` of `s` when it is there (0 stands for "none" in some writers: left as is). */
function shift(s: TStruct, id: number, delta: bigint): void {
  const f = field(s, id)
  if (f && f.type === T.I64 && (f.value as bigint) > 0n) f.value = (f.value as bigint) + delta
}

/** Where the footer of a file of `size` bytes begins (= where its row group bytes end), from its last 8 bytes. */
function footerStart(file: string, size: number, last8: Buffer): number {
  if (size < 12 || !last8.subarray(4).equals(MAGIC)) throw new Error(`${file}: not a Parquet file`)
  const bodyEnd = size - 8 - last8.readUInt32LE(0)
  if (bodyEnd < 4) throw new Error(`${file}: bad Parquet footer length`)
  return bodyEnd
}

/** A file's footer (FileMetaData) and where its row group bytes end. */
function footer(file: string, bytes: Buffer): {meta: TStruct; bodyEnd: number} {
  const n = bytes.length
  const bodyEnd = footerStart(file, n, bytes.subarray(Math.max(0, n - 8)))
  if (!bytes.subarray(0, 4).equals(MAGIC)) throw new Error(`${file}: not a Parquet file`)
  return {meta: readStruct(bytes.subarray(bodyEnd, n - 8)), bodyEnd}
}

/** FileMetaData fields. */
const FMD = {schema: 2, numRows: 3, rowGroups: 4, encryption: 8}
/** RowGroup, ColumnChunk and ColumnMetaData fields. */
const RG = {columns: 1, fileOffset: 5, ordinal: 7}
const CC = {fileOffset: 2, meta: 3, offsetIndex: 4, columnIndex: 6, crypto: 8}
const CMD = {dataPage: 9, indexPage: 10, dictionaryPage: 11, bloomFilter: 14}

/** The row groups of `meta`, moved by `delta` bytes. */
function movedRowGroups(file: string, meta: TStruct, delta: bigint): TStruct[] {
  const groups = (field(meta, FMD.rowGroups)?.value as TList | undefined)?.items as TStruct[] | undefined ?? []
  for (const rg of groups) {
    shift(rg, RG.fileOffset, delta)
    for (const cc of (field(rg, RG.columns)!.value as TList).items as TStruct[]) {
      // Page indexes hold file offsets of their own, in the body; encrypted columns are not ours to move.
      if (field(cc, CC.offsetIndex) || field(cc, CC.columnIndex) || field(cc, CC.crypto)) throw new Error(`${file}: page indexes or encryption are not supported`)
      shift(cc, CC.fileOffset, delta)
      const md = field(cc, CC.meta)?.value as TStruct | undefined
      if (md) for (const id of [CMD.dataPage, CMD.indexPage, CMD.dictionaryPage, CMD.bloomFilter]) shift(md, id, delta)
    }
  }
  return groups
}

/** Rows and row groups of a Parquet file, from its footer alone. */
export function parquetShape(file: string): {rows: number; rowGroups: number} {
  const fd = fs.openSync(file, 'r')
  try {
    const size = fs.fstatSync(fd).size
    const last8 = Buffer.alloc(8)
    fs.readSync(fd, last8, 0, 8, Math.max(0, size - 8))
    const start = footerStart(file, size, last8)
    const bytes = Buffer.alloc(size - 8 - start)
    fs.readSync(fd, bytes, 0, bytes.length, start)
    const meta = readStruct(bytes)
    const groups = (field(meta, FMD.rowGroups)?.value as TList | undefined)?.items.length ?? 0
    return {rows: Number(field(meta, FMD.numRows)?.value ?? 0n), rowGroups: groups}
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Write one Parquet file at `target` holding the row groups of `parts`, in order (their schemas must be the same).
 * The parts are read one at a time.
 */
export function concatParquet(parts: readonly string[], target: string): void {
  if (parts.length === 0) throw new Error('no Parquet file to concatenate')
  if (parts.length === 1) {
    fs.renameSync(parts[0], target)
    return
  }
  const fd = fs.openSync(target, 'wx')
  try {
    fs.writeSync(fd, MAGIC)
    let pos = MAGIC.length
    let first: TStruct | undefined
    let schema: Buffer | undefined
    let rows = 0n
    const groups: TStruct[] = []
    for (const part of parts) {
      const bytes = fs.readFileSync(part)
      const {meta, bodyEnd} = footer(part, bytes)
      if (field(meta, FMD.encryption)) throw new Error(`${part}: encrypted Parquet is not supported`)
      const s = Buffer.from(writeStruct({fields: [field(meta, FMD.schema)!]}))
      if (schema && !schema.equals(s)) throw new Error(`${part}: its schema differs from ${parts[0]}'s`)
      schema ??= s
      first ??= meta
      groups.push(...movedRowGroups(part, meta, BigInt(pos - MAGIC.length)))
      rows += field(meta, FMD.numRows)!.value as bigint
      fs.writeSync(fd, bytes, MAGIC.length, bodyEnd - MAGIC.length)
      pos += bodyEnd - MAGIC.length
    }
    groups.forEach((rg, i) => {
      const o = field(rg, RG.ordinal)
      if (o) {
        // An i16: past that, no ordinal at all rather than a wrong one.
        if (i < 32768) o.value = i
        else rg.fields = rg.fields.filter((f) => f.id !== RG.ordinal)
      }
    })
    const meta: TStruct = {
      fields: first!.fields.map((f) => {
        if (f.id === FMD.numRows) return {...f, value: rows}
        if (f.id === FMD.rowGroups) return {...f, value: {elem: T.STRUCT, items: groups}}
        return f
      }),
    }
    const out = writeStruct(meta)
    const tail = Buffer.alloc(8)
    tail.writeUInt32LE(out.length, 0)
    MAGIC.copy(tail, 4)
    fs.writeSync(fd, out)
    fs.writeSync(fd, tail)
  } catch (e) {
    fs.closeSync(fd)
    fs.rmSync(target, {force: true})
    throw e
  }
  fs.closeSync(fd)
}

/** The files under `dir`, as paths relative to it. */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(path.join(dir, rel), {withFileTypes: true})) {
    const r = path.join(rel, e.name)
    if (e.isDirectory()) out.push(...filesUnder(dir, r))
    else out.push(r)
  }
  return out
}

/** `data_2.parquet` before `data_10.parquet`: DuckDB numbers the files of a partition in the order it writes them. */
const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', {numeric: true})

/**
 * Merge Hive-partitioned datasets (directories of `key=value/.../*.parquet`) written one after the other into one
 * at `target`: each partition directory gets one file (named as its first), the files of that partition from the
 * first dataset to the last, and within a dataset in the order they were written.
 */
export function mergeDatasets(datasets: readonly string[], target: string): string[] {
  const byDir = new Map<string, string[]>()
  for (const ds of datasets) {
    if (!fs.existsSync(ds)) continue
    for (const rel of filesUnder(ds).sort(byNumber)) {
      const dir = path.dirname(rel)
      let list = byDir.get(dir)
      if (!list) byDir.set(dir, (list = []))
      list.push(path.join(ds, rel))
    }
  }
  fs.mkdirSync(target, {recursive: true})
  const written: string[] = []
  for (const [dir, files] of byDir) {
    fs.mkdirSync(path.join(target, dir), {recursive: true})
    const file = path.join(target, dir, path.basename(files[0]))
    concatParquet(files, file)
    written.push(file)
  }
  return written
}
