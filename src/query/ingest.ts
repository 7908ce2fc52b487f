// Narrow Arrow record batches -> DuckDB tables, column by column: fixed-width values and validity bitmaps are
// copied into DuckDB data chunks in bulk (Arrow's LSB-first validity bits are DuckDB's validity mask), lists as
// entry arrays plus child data, and only text goes value by value. Keys and string ids are mapped from the
// builder's own numbering to the database's on the way in.
import duckdb from '@duckdb/node-bindings'
import {DuckDBAppender, DuckDBConnection, DuckDBDataChunk, DuckDBType, BIGINT, BOOLEAN, INTEGER, LIST, UINTEGER, UTINYINT, VARCHAR, TIMESTAMP_NS} from '@duckdb/node-api'
import {Data, RecordBatch} from 'apache-arrow'
import {BufferKind, NarrowBatch, NarrowColumn, NarrowTable} from '../format/arrow/index.js'

const CHUNK = 2048

function duckType(k: BufferKind): DuckDBType {
  switch (k) {
    case 'int32':
      return INTEGER
    case 'uint32':
      return UINTEGER
    case 'int64':
      return BIGINT
    case 'uint8':
      return UTINYINT
    case 'bool':
      return BOOLEAN
    case 'utf8':
      return VARCHAR
    case 'timestamp':
      return TIMESTAMP_NS
    case 'list<int32>':
      return LIST(INTEGER)
    case 'list<int64>':
      return LIST(BIGINT)
    case 'list<utf8>':
      return LIST(VARCHAR)
  }
}

/** A growable local -> global id map (0 maps to 0: "none"). */
export class IdMap {
  private m = new Int32Array(1024)
  set(local: number, global: number): void {
    if (local >= this.m.length) {
      let n = this.m.length
      while (n <= local) n *= 2
      const b = new Int32Array(n)
      b.set(this.m)
      this.m = b
    }
    this.m[local] = global
  }

  /** Map every value in place. */
  apply(a: Int32Array): void {
    const m = this.m
    for (let i = 0; i < a.length; i++) {
      const v = a[i]
      if (v !== 0) a[i] = m[v]
    }
  }
}

/** The id maps of one builder (one loading thread): strings and each keyed table. */
export class SourceMaps {
  readonly strings = new IdMap()
  readonly keys = new Map<string, IdMap>()
  keyMap(table: string): IdMap {
    let m = this.keys.get(table)
    if (m === undefined) {
      m = new IdMap()
      this.keys.set(table, m)
    }
    return m
  }
}

interface TableSink {
  def: NarrowTable
  appender: DuckDBAppender
  chunk: DuckDBDataChunk
}

/** Appends narrow batches into one database (through one connection), keeping the global numbering. */
export class Ingester {
  private readonly sinks = new Map<string, TableSink>()
  private stringsAppender: DuckDBAppender | undefined
  private stringsChunk: DuckDBDataChunk | undefined
  /** The next global id of the strings table, and the next key of each keyed table. */
  private nextString = 1
  private readonly nextKey = new Map<string, number>()
  rows = 0

  constructor(private readonly connection: DuckDBConnection, private readonly tables: readonly NarrowTable[]) {}

  /** Start numbering after what the database holds already (for --append). */
  async init(): Promise<void> {
    const r = await this.connection.runAndReadAll('SELECT coalesce(max(id), 0) FROM _strings')
    this.nextString = Number(r.getRows()[0][0]) + 1
    for (const t of this.tables) {
      if (!t.columns.some((c) => c.name === 'key')) continue
      const k = await this.connection.runAndReadAll(`SELECT coalesce(max(key), 0) FROM "${t.name}"`)
      this.nextKey.set(t.name, Number(k.getRows()[0][0]) + 1)
    }
  }

  private async sink(name: string): Promise<TableSink> {
    let s = this.sinks.get(name)
    if (s === undefined) {
      const def = this.tables.find((t) => t.name === name)
      if (!def) throw new Error(`unknown narrow table ${name}`)
      s = {def, appender: await this.connection.createAppender(name), chunk: DuckDBDataChunk.create(def.columns.map((c) => duckType(c.kind)))}
      this.sinks.set(name, s)
    }
    return s
  }

  /** Ingest one batch (strings first, then the tables in the order given: referenced rows before references). */
  async add(batch: NarrowBatch, maps: SourceMaps): Promise<void> {
    await this.addStrings(batch.strings, maps)
    for (const {name, batch: rb} of batch.tables) {
      const sink = await this.sink(name)
      this.remap(sink.def, rb, maps)
      this.append(sink, rb)
      this.rows += rb.numRows
    }
  }

  private async addStrings(strings: NarrowBatch['strings'], maps: SourceMaps): Promise<void> {
    const n = strings.values.length
    if (n === 0) return
    this.stringsAppender ??= await this.connection.createAppender('_strings')
    this.stringsChunk ??= DuckDBDataChunk.create([INTEGER, VARCHAR])
    const ids = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      ids[i] = this.nextString++
      maps.strings.set(strings.first + i, ids[i])
    }
    const chunk = this.stringsChunk
    for (let start = 0; start < n; start += CHUNK) {
      const count = Math.min(CHUNK, n - start)
      chunk.reset()
      duckdb.data_chunk_set_size(chunk.chunk, count)
      duckdb.copy_data_to_vector(duckdb.data_chunk_get_vector(chunk.chunk, 0), 0, ids.buffer, start * 4, count * 4)
      const v = duckdb.data_chunk_get_vector(chunk.chunk, 1)
      for (let i = 0; i < count; i++) duckdb.vector_assign_string_element(v, i, strings.values[start + i])
      this.stringsAppender.appendDataChunk(chunk)
    }
  }

  /** Map keys and string ids to the database's numbering; a table's own `key` column gets new keys. */
  private remap(def: NarrowTable, rb: RecordBatch, maps: SourceMaps): void {
    def.columns.forEach((c: NarrowColumn, i) => {
      const data = rb.data.children[i] as Data
      if (c.name === 'key') {
        const own = maps.keyMap(def.name)
        const vals = data.values as Int32Array
        let next = this.nextKey.get(def.name) ?? 1
        for (let r = 0; r < vals.length && r < data.length; r++) {
          own.set(vals[r], next)
          vals[r] = next++
        }
        this.nextKey.set(def.name, next)
        return
      }
      if (c.ref === undefined) return
      const map = c.ref === 'sid' ? maps.strings : maps.keyMap(c.ref)
      const target = c.kind === 'list<int32>' ? (data.children[0] as Data) : data
      map.apply((target.values as Int32Array).subarray(0, target.length))
    })
  }

  private append(sink: TableSink, rb: RecordBatch): void {
    const n = rb.numRows
    const cols = rb.data.children as Data[]
    const chunk = sink.chunk
    for (let start = 0; start < n; start += CHUNK) {
      const count = Math.min(CHUNK, n - start)
      chunk.reset()
      duckdb.data_chunk_set_size(chunk.chunk, count)
      for (let c = 0; c < cols.length; c++) {
        copyColumn(duckdb.data_chunk_get_vector(chunk.chunk, c), sink.def.columns[c].kind, cols[c], start, count)
      }
      sink.appender.appendDataChunk(chunk)
    }
  }

  /** Flush and close every appender (the rows are in the database after this). */
  close(): void {
    for (const s of this.sinks.values()) s.appender.closeSync()
    this.sinks.clear()
    this.stringsAppender?.closeSync()
    this.stringsAppender = undefined
  }
}

const WIDTH: Partial<Record<BufferKind, number>> = {int32: 4, uint32: 4, int64: 8, timestamp: 8, uint8: 1}

/** Copy rows [start, start+count) of an Arrow column into a DuckDB vector. `start` is a multiple of 64. */
function copyColumn(vec: duckdb.Vector, kind: BufferKind, d: Data, start: number, count: number): void {
  const w = WIDTH[kind]
  if (w !== undefined) {
    const v = d.values as Int32Array
    duckdb.copy_data_to_vector(vec, 0, v.buffer as ArrayBuffer, v.byteOffset + (d.offset + start) * w, count * w)
  } else if (kind === 'bool') {
    const bits = d.values as Uint8Array
    const bytes = new Uint8Array(count)
    for (let i = 0; i < count; i++) {
      const b = d.offset + start + i
      bytes[i] = (bits[b >> 3] >> (b & 7)) & 1
    }
    duckdb.copy_data_to_vector(vec, 0, bytes.buffer, 0, count)
  } else if (kind === 'utf8') {
    const off = d.valueOffsets as Int32Array
    const bytes = d.values as Uint8Array
    for (let i = 0; i < count; i++) {
      const r = d.offset + start + i
      if (!isValid(d, start + i)) continue
      duckdb.vector_assign_string_element_len(vec, i, bytes.subarray(off[r], off[r + 1]))
    }
  } else {
    copyList(vec, kind, d, start, count)
  }
  copyValidity(vec, d, start, count)
}

function isValid(d: Data, row: number): boolean {
  if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return true
  const b = d.offset + row
  return ((d.nullBitmap[b >> 3] >> (b & 7)) & 1) === 1
}

function copyValidity(vec: duckdb.Vector, d: Data, start: number, count: number): void {
  if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return
  duckdb.vector_ensure_validity_writable(vec)
  const first = d.offset + start
  const bm = d.nullBitmap
  if ((first & 7) === 0) {
    duckdb.copy_data_to_vector_validity(vec, 0, bm.buffer as ArrayBuffer, bm.byteOffset + (first >> 3), Math.min(bm.length - (first >> 3), (count + 7) >> 3))
    return
  }
  // Not on a byte boundary (list children): shift the bits into place.
  const out = new Uint8Array(((count + 63) >> 6) * 8)
  for (let i = 0; i < count; i++) {
    const b = first + i
    if ((bm[b >> 3] >> (b & 7)) & 1) out[i >> 3] |= 1 << (i & 7)
  }
  duckdb.copy_data_to_vector_validity(vec, 0, out.buffer, 0, out.length)
}

function copyList(vec: duckdb.Vector, kind: BufferKind, d: Data, start: number, count: number): void {
  const off = d.valueOffsets as Int32Array
  const base = off[d.offset + start]
  const end = off[d.offset + start + count]
  const entries = new BigUint64Array(count * 2)
  for (let i = 0; i < count; i++) {
    const r = d.offset + start + i
    entries[2 * i] = BigInt(off[r] - base)
    entries[2 * i + 1] = BigInt(off[r + 1] - off[r])
  }
  duckdb.copy_data_to_vector(vec, 0, entries.buffer, 0, entries.byteLength)
  const total = end - base
  duckdb.list_vector_reserve(vec, Math.max(total, 1))
  duckdb.list_vector_set_size(vec, total)
  if (total === 0) return
  const child = duckdb.list_vector_get_child(vec)
  const cd = d.children[0] as Data
  const childKind: BufferKind = kind === 'list<int32>' ? 'int32' : kind === 'list<int64>' ? 'int64' : 'utf8'
  copyColumn(child, childKind, cd, base, total)
}

