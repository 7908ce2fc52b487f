// Record batches between threads without serialising them: each column's buffers (values, validity, offsets,
// children) are posted as they are and their ArrayBuffers transferred, so nothing is copied on the way.
import {Data, Field, makeData, RecordBatch, Schema, Struct} from 'apache-arrow'
import {BufferKind, kindType} from './buffers.js'

export interface WireData {
  length: number
  nullCount: number
  values?: ArrayBufferView
  nullBitmap?: Uint8Array
  valueOffsets?: Int32Array
  child?: WireData
}

export interface WireBatch {
  names: string[]
  kinds: BufferKind[]
  length: number
  columns: WireData[]
}

/** A view that owns its whole ArrayBuffer (transferable without taking a neighbour's bytes along). */
function own<T extends ArrayBufferView>(v: T | undefined, transfer: ArrayBuffer[]): T | undefined {
  if (v === undefined || v === null) return undefined
  let out = v
  if (v.byteOffset !== 0 || v.byteLength !== v.buffer.byteLength || !(v.buffer instanceof ArrayBuffer)) {
    const copy = new Uint8Array(v.byteLength)
    copy.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
    out = new (v.constructor as new (b: ArrayBuffer, o: number, n: number) => T)(copy.buffer, 0, v.byteLength / ((v as unknown as {BYTES_PER_ELEMENT?: number}).BYTES_PER_ELEMENT ?? 1))
  }
  if (!transfer.includes(out.buffer as ArrayBuffer)) transfer.push(out.buffer as ArrayBuffer)
  return out
}

function dataToWire(d: Data, transfer: ArrayBuffer[]): WireData {
  if (d.offset !== 0) throw new Error('wire: sliced Data is not supported')
  const w: WireData = {length: d.length, nullCount: d.nullCount}
  if (d.values !== undefined && d.values !== null) w.values = own(d.values as ArrayBufferView, transfer)
  if (d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0) w.nullBitmap = own(d.nullBitmap, transfer)
  if (d.valueOffsets) w.valueOffsets = own(d.valueOffsets as Int32Array, transfer)
  if (d.children.length > 0) w.child = dataToWire(d.children[0], transfer)
  return w
}

/** A record batch (columns of these kinds) ready to post; the transfer list goes along with it. */
export function toWire(rb: RecordBatch, kinds: readonly BufferKind[]): {wire: WireBatch; transfer: ArrayBuffer[]} {
  const transfer: ArrayBuffer[] = []
  const columns = rb.data.children.map((d) => dataToWire(d as Data, transfer))
  return {wire: {names: rb.schema.fields.map((f) => f.name), kinds: [...kinds], length: rb.numRows, columns}, transfer}
}

function wireToData(w: WireData, kind: BufferKind): Data {
  const type = kindType(kind)
  const child = w.child && wireToData(w.child, kind === 'list<int32>' ? 'int32' : kind === 'list<int64>' ? 'int64' : 'utf8')
  return makeData({type, length: w.length, nullCount: w.nullCount, data: w.values, nullBitmap: w.nullBitmap, valueOffsets: w.valueOffsets, child} as never) as Data
}

/** The record batch posted by toWire(). */
export function fromWire(w: WireBatch): RecordBatch {
  const children = w.columns.map((c, i) => wireToData(c, w.kinds[i]))
  const schema = new Schema(w.names.map((n, i) => new Field(n, children[i].type, true)))
  return new RecordBatch(schema, makeData({type: new Struct(schema.fields), length: w.length, nullCount: 0, children}))
}
