// A Parquet file, written a row group at a time: "PAR1", column chunks (an optional dictionary page, then data
// pages, v1), and the footer (FileMetaData in Thrift's compact protocol). Pages arrive encoded; this module
// compresses them (unless they come compressed: a page shared by several columns is compressed once), keeps the
// offsets, and writes the metadata. Nothing of a row group is kept once it is written but its metadata.
import fs from 'node:fs'
import zlib from 'node:zlib'
import {zstdCompress} from '../../native/zstd.js'
import {Bytes} from './bytes.js'
import {bin, bool, i32, i64, list, struct, ThriftField, ThriftValue, writeStruct} from './thrift.js'

export type Physical = 'BOOLEAN' | 'INT32' | 'INT64' | 'BYTE_ARRAY'
/** Annotations as DuckDB writes them for the events columns (converted type, and a logical type where it has one). */
export type Annotation = 'UTF8' | 'JSON' | 'INT_32' | 'INT_64' | 'TIMESTAMP_MICROS' | undefined

export interface LeafColumn {
  name: string
  physical: Physical
  annotation: Annotation
  /** A LIST of optional elements: `optional group name (LIST) { repeated group list { optional element } }`. */
  list: boolean
}

export type Codec = 'uncompressed' | 'gzip' | 'brotli' | 'zstd'

const PHYSICAL: Record<Physical, number> = {BOOLEAN: 0, INT32: 1, INT64: 2, BYTE_ARRAY: 6}
const CONVERTED = {UTF8: 0, LIST: 3, TIMESTAMP_MICROS: 10, INT_32: 17, INT_64: 18, JSON: 19} as const
const CODEC: Record<Codec, number> = {uncompressed: 0, gzip: 2, brotli: 4, zstd: 6}
const OPTIONAL = 1
const REPEATED = 2
export const ENC_PLAIN = 0
export const ENC_PLAIN_DICTIONARY = 2
const ENC_RLE = 3
const PAGE_DATA = 0
const PAGE_DICTIONARY = 2

/** A page's body, compressed, with its uncompressed size. */
export interface Compressed {
  bytes: Uint8Array
  size: number
}

export interface DataPage {
  /** Level entries (rows, or list elements and empty/null lists). */
  values: number
  encoding: typeof ENC_PLAIN | typeof ENC_PLAIN_DICTIONARY
  body: Compressed
}

export interface Stats {
  nullCount?: number
  min?: Uint8Array
  max?: Uint8Array
}

export interface ColumnChunk {
  dictionary?: {values: number; body: Compressed}
  pages: DataPage[]
  stats?: Stats
}

interface ChunkMeta {
  column: number
  values: number
  encodings: number[]
  uncompressed: number
  compressed: number
  dataOffset: number
  dictOffset: number | undefined
  stats: Stats | undefined
}

/** Compression of page bodies, with one scratch buffer for zstd. */
export class Compressor {
  private scratch = Buffer.allocUnsafe(1 << 20)
  constructor(readonly codec: Codec, private readonly level = 3) {}

  compress(body: Uint8Array): Compressed {
    const size = body.length
    switch (this.codec) {
      case 'uncompressed':
        return {bytes: Buffer.from(body), size}
      case 'gzip':
        return {bytes: zlib.gzipSync(body), size}
      case 'brotli':
        return {bytes: zlib.brotliCompressSync(body, {params: {[zlib.constants.BROTLI_PARAM_QUALITY]: 3}}), size}
      case 'zstd': {
        // ZSTD_compressBound, with room: the page is compressed into the scratch buffer and copied out.
        const bound = size + (size >>> 8) + (128 << 10)
        if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafe(2 * bound)
        return {bytes: Buffer.from(zstdCompress(body, this.level, this.scratch)), size}
      }
    }
  }
}

export class ParquetFileWriter {
  private readonly fd: number
  private offset = 0
  private rows = 0
  private readonly groups: ThriftValue[] = []
  private readonly header = new Bytes(256)

  constructor(path: string, readonly columns: readonly LeafColumn[], readonly codec: Codec, private readonly createdBy: string) {
    this.fd = fs.openSync(path, 'wx')
    this.write(Buffer.from('PAR1'))
  }

  private write(b: Uint8Array): void {
    let at = 0
    while (at < b.length) at += fs.writeSync(this.fd, b, at, b.length - at)
    this.offset += b.length
  }

  private page(type: number, body: Compressed, detail: ThriftField): number {
    const h = this.header
    h.reset()
    writeStruct(h, [[1, i32(type)], [2, i32(body.size)], [3, i32(body.bytes.length)], detail])
    const headerBytes = h.pos
    this.write(h.take())
    this.write(body.bytes)
    return headerBytes
  }

  /** One row group: a chunk per column, in schema order. */
  writeRowGroup(rows: number, chunks: readonly ColumnChunk[]): void {
    if (chunks.length !== this.columns.length) throw new Error(`row group of ${chunks.length} columns, schema has ${this.columns.length}`)
    const start = this.offset
    const metas: ChunkMeta[] = []
    let uncompressedTotal = 0
    chunks.forEach((c, column) => {
      const m: ChunkMeta = {column, values: 0, encodings: [], uncompressed: 0, compressed: 0, dataOffset: 0, dictOffset: undefined, stats: c.stats}
      const at = this.offset
      if (c.dictionary) {
        m.dictOffset = this.offset
        const hb = this.page(PAGE_DICTIONARY, c.dictionary.body, [7, struct([1, i32(c.dictionary.values)], [2, i32(ENC_PLAIN_DICTIONARY)])])
        m.uncompressed += hb + c.dictionary.body.size
      }
      m.dataOffset = this.offset
      const encodings = new Set<number>([ENC_RLE])
      if (c.dictionary) encodings.add(ENC_PLAIN_DICTIONARY)
      for (const p of c.pages) {
        encodings.add(p.encoding)
        const hb = this.page(PAGE_DATA, p.body, [5, struct([1, i32(p.values)], [2, i32(p.encoding)], [3, i32(ENC_RLE)], [4, i32(ENC_RLE)])])
        m.uncompressed += hb + p.body.size
        m.values += p.values
      }
      m.encodings = [...encodings].sort((a, b) => a - b)
      m.compressed = this.offset - at
      uncompressedTotal += m.uncompressed
      metas.push(m)
    })
    this.rows += rows
    this.groups.push(struct(
      [1, list('struct', metas.map((m) => this.chunkMeta(m)))],
      [2, i64(uncompressedTotal)],
      [3, i64(rows)],
      [5, i64(start)],
      [6, i64(this.offset - start)],
      [7, i32(this.groups.length)],
    ))
  }

  private chunkMeta(m: ChunkMeta): ThriftValue {
    const col = this.columns[m.column]
    const path = col.list ? [col.name, 'list', 'element'] : [col.name]
    const s = m.stats
    const stats = s === undefined ? undefined : struct(
      [3, s.nullCount === undefined ? undefined : i64(s.nullCount)],
      [5, s.max === undefined ? undefined : bin(s.max)],
      [6, s.min === undefined ? undefined : bin(s.min)],
    )
    return struct(
      [2, i64(m.dictOffset ?? m.dataOffset)],
      [3, struct(
        [1, i32(PHYSICAL[col.physical])],
        [2, list('i32', m.encodings.map(i32))],
        [3, list('binary', path.map((p) => bin(p)))],
        [4, i32(CODEC[this.codec])],
        [5, i64(m.values)],
        [6, i64(m.uncompressed)],
        [7, i64(m.compressed)],
        [9, i64(m.dataOffset)],
        [11, m.dictOffset === undefined ? undefined : i64(m.dictOffset)],
        [12, stats],
      )],
    )
  }

  private schema(): ThriftValue[] {
    const out: ThriftValue[] = [struct([3, i32(0)], [4, bin('schema')], [5, i32(this.columns.length)])]
    for (const c of this.columns) {
      const leaf = (name: string) => {
        const logical = c.annotation === 'JSON'
          ? struct([12, struct()])
          : c.annotation === 'TIMESTAMP_MICROS'
            ? struct([8, struct([1, bool(false)], [2, struct([2, struct()])])])
            : undefined
        return struct(
          [1, i32(PHYSICAL[c.physical])],
          [3, i32(OPTIONAL)],
          [4, bin(name)],
          [6, c.annotation === undefined ? undefined : i32(CONVERTED[c.annotation])],
          [10, logical],
        )
      }
      if (c.list) {
        out.push(struct([3, i32(OPTIONAL)], [4, bin(c.name)], [5, i32(1)], [6, i32(CONVERTED.LIST)]))
        out.push(struct([3, i32(REPEATED)], [4, bin('list')], [5, i32(1)]))
        out.push(leaf('element'))
      } else {
        out.push(leaf(c.name))
      }
    }
    return out
  }

  /** The footer; closes the file. */
  close(): void {
    try {
      const footer = new Bytes(1 << 16)
      writeStruct(footer, [
        [1, i32(1)],
        [2, list('struct', this.schema())],
        [3, i64(this.rows)],
        [4, list('struct', this.groups)],
        [6, bin(this.createdBy)],
        [7, list('struct', this.columns.map(() => struct([1, struct()])))],
      ])
      const len = footer.pos
      footer.u32le(len)
      footer.writeRaw(Buffer.from('PAR1'))
      this.write(footer.take())
    } finally {
      fs.closeSync(this.fd)
    }
  }

  /** Close without a footer (after an error: the caller removes the file). */
  abandon(): void {
    fs.closeSync(this.fd)
  }
}
