// Thrift's compact protocol, write side only: what Parquet's page headers and file footer need (structs, i32,
// i64, binary, bool, lists). Values are described as plain objects: a struct is a list of [field id, value]
// pairs in increasing id order (absent fields are left out), so the encoding reads like parquet.thrift.
import {Bytes} from './bytes.js'

export type ThriftValue =
  | {t: 'bool'; v: boolean}
  | {t: 'i32'; v: number}
  | {t: 'i64'; v: number | bigint}
  | {t: 'binary'; v: Uint8Array | string}
  | {t: 'struct'; v: ThriftField[]}
  | {t: 'list'; elem: 'i32' | 'binary' | 'struct'; v: ThriftValue[]}

export type ThriftField = [id: number, value: ThriftValue | undefined]

// Compact protocol type ids.
const BOOL_TRUE = 1
const BOOL_FALSE = 2
const I32 = 5
const I64 = 6
const BINARY = 8
const LIST = 9
const STRUCT = 12

const ELEM = {i32: I32, binary: BINARY, struct: STRUCT} as const

export const i32 = (v: number): ThriftValue => ({t: 'i32', v})
export const i64 = (v: number | bigint): ThriftValue => ({t: 'i64', v})
export const bool = (v: boolean): ThriftValue => ({t: 'bool', v})
export const bin = (v: Uint8Array | string): ThriftValue => ({t: 'binary', v})
export const struct = (...v: ThriftField[]): ThriftValue => ({t: 'struct', v})
export const list = (elem: 'i32' | 'binary' | 'struct', v: ThriftValue[]): ThriftValue => ({t: 'list', elem, v})

function zigzag64(out: Bytes, v: number | bigint): void {
  let z = BigInt(v)
  z = z >= 0n ? z << 1n : ((-z) << 1n) - 1n
  while (z >= 0x80n) {
    out.byte(Number(z & 0x7fn) | 0x80)
    z >>= 7n
  }
  out.byte(Number(z))
}

function zigzag32(out: Bytes, v: number): void {
  out.varint(v >= 0 ? v * 2 : -v * 2 - 1)
}

function typeOf(v: ThriftValue): number {
  switch (v.t) {
    case 'bool':
      return v.v ? BOOL_TRUE : BOOL_FALSE
    case 'i32':
      return I32
    case 'i64':
      return I64
    case 'binary':
      return BINARY
    case 'list':
      return LIST
    case 'struct':
      return STRUCT
  }
}

function writeValue(out: Bytes, v: ThriftValue): void {
  switch (v.t) {
    case 'bool':
      // Inside a struct a bool is its field type; as a list element (not used here) it would be a byte.
      return
    case 'i32':
      return zigzag32(out, v.v)
    case 'i64':
      return zigzag64(out, v.v)
    case 'binary': {
      const b = typeof v.v === 'string' ? Buffer.from(v.v, 'utf8') : v.v
      out.varint(b.length)
      out.writeRaw(b)
      return
    }
    case 'list': {
      const n = v.v.length
      const et = ELEM[v.elem]
      if (n < 15) out.byte((n << 4) | et)
      else {
        out.byte(0xf0 | et)
        out.varint(n)
      }
      for (const e of v.v) writeValue(out, e)
      return
    }
    case 'struct':
      return writeStruct(out, v.v)
  }
}

/** A struct's fields (ids increasing; undefined values skipped) and its stop byte. */
export function writeStruct(out: Bytes, fields: readonly ThriftField[]): void {
  let last = 0
  for (const [id, v] of fields) {
    if (v === undefined) continue
    if (id <= last) throw new Error(`thrift: field ${id} after ${last}`)
    const t = typeOf(v)
    const delta = id - last
    if (delta <= 15) out.byte((delta << 4) | t)
    else {
      out.byte(t)
      zigzag32(out, id)
    }
    writeValue(out, v)
    last = id
  }
  out.byte(0)
}
