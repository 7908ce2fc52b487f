// The per-key half of encoding a keyed column, done where the values are (./events.ts): its dictionary page body
// (PLAIN values per key), which keys are null, and its min and max; for lists, the element dictionary and each
// key's elements as indexes. What leaves here is typed arrays and bytes, moved to the encoder's thread without a
// copy (./sink.ts); the per-row half (levels, indexes, compression) is ./row-group.ts.
import {Bytes} from './bytes.js'
import {KeyedLayout, Stored, StoredList} from './layout.js'
import {Physical} from './file.js'

export interface PreparedScalar {
  type: 'scalar'
  /** Keys (dictionary entries). */
  count: number
  /** The null keys, as text ("3,17,"): columns of a group whose null keys agree share their index page. */
  nullKeys: string
  isNull: Uint8Array
  dict: Uint8Array
  min?: Uint8Array
  max?: Uint8Array
}

export interface PreparedBool {
  type: 'bool'
  /** Per key: 0 false, 1 true, 2 null. */
  code: Uint8Array
}

export interface PreparedList {
  type: 'list'
  /** Distinct elements (dictionary entries). */
  count: number
  /** Per key: its elements' dictionary indexes (-1: null) at flat[start..], lens of them (-1: a null list). */
  start: Int32Array
  lens: Int32Array
  flat: Int32Array
  nullElements: boolean
  dict: Uint8Array
}

export type Prepared = PreparedScalar | PreparedBool | PreparedList

const out = new Bytes(1 << 16)

/** A standalone copy of what `out` holds (its own buffer, so that it can be transferred). */
function taken(): Uint8Array {
  return new Uint8Array(out.view())
}

export function prepare(c: KeyedLayout, vals: readonly (Stored | StoredList)[]): Prepared {
  if (c.list) return prepareList(c.physical, vals as StoredList[])
  if (c.physical === 'BOOLEAN') {
    const code = new Uint8Array(vals.length)
    for (let k = 0; k < vals.length; k++) code[k] = vals[k] === null ? 2 : vals[k] ? 1 : 0
    return {type: 'bool', code}
  }
  return prepareScalar(c, vals as Stored[])
}

export function preparedBuffers(p: Prepared): ArrayBuffer[] {
  switch (p.type) {
    case 'bool':
      return [p.code.buffer as ArrayBuffer]
    case 'scalar':
      return [p.isNull.buffer, p.dict.buffer] as ArrayBuffer[]
    case 'list':
      return [p.start.buffer, p.lens.buffer, p.flat.buffer, p.dict.buffer] as ArrayBuffer[]
  }
}

function prepareScalar(c: KeyedLayout, vals: readonly Stored[]): PreparedScalar {
  const physical = c.physical
  const isNull = new Uint8Array(vals.length)
  let nullKeys = ''
  let minI = -1
  let maxI = -1
  // UTF-16 order is UTF-8 byte order except between surrogates and U+E000..U+FFFF: bytes decide where those occur.
  let high = false
  for (let k = 0; k < vals.length; k++) {
    const v = vals[k]
    if (v === null) {
      isNull[k] = 1
      nullKeys += `${k},`
      continue
    }
    if (typeof v === 'string' && !high && HIGH.test(v)) high = true
    if (minI < 0) minI = maxI = k
    else {
      if (v < vals[minI]!) minI = k
      if (vals[maxI]! < v) maxI = k
    }
  }
  if (high) {
    minI = maxI = -1
    for (let k = 0; k < vals.length; k++) {
      const v = vals[k]
      if (v === null) continue
      if (minI < 0) minI = maxI = k
      else {
        if (utf8Less(v as string, vals[minI] as string)) minI = k
        if (utf8Less(vals[maxI] as string, v as string)) maxI = k
      }
    }
  }
  out.reset()
  // A null key's entry is a placeholder no row refers to; readers may still check it (DuckDB parses JSON ones).
  const placeholder = c.col.type === 'json' ? 'null' : ''
  for (const v of vals) plainValue(physical, v === null && physical === 'BYTE_ARRAY' ? placeholder : v)
  const p: PreparedScalar = {type: 'scalar', count: vals.length, nullKeys, isNull, dict: taken()}
  if (minI >= 0) {
    const min = statBytes(physical, vals[minI]!)
    const max = statBytes(physical, vals[maxI]!)
    // A long string's min and max are left out: the footer stays small (the null count is kept).
    if (min.length <= 256 && max.length <= 256) [p.min, p.max] = [min, max]
  }
  return p
}

function prepareList(physical: Physical, vals: readonly StoredList[]): PreparedList {
  const ids = new Map<string | bigint, number>()
  const nk = vals.length
  const start = new Int32Array(nk)
  const lens = new Int32Array(nk)
  let size = 0
  for (let k = 0; k < nk; k++) size += vals[k]?.length ?? 0
  const flat = new Int32Array(size)
  let at = 0
  let nullElements = false
  out.reset()
  for (let k = 0; k < nk; k++) {
    const list = vals[k]
    start[k] = at
    if (list === null) {
      lens[k] = -1
      continue
    }
    lens[k] = list.length
    for (let x = 0; x < list.length; x++) {
      const e = list[x]
      if (e === null) {
        flat[at++] = -1
        nullElements = true
        continue
      }
      let id = ids.get(e)
      if (id === undefined) {
        ids.set(e, (id = ids.size))
        plainValue(physical, e)
      }
      flat[at++] = id
    }
  }
  return {type: 'list', count: ids.size, start, lens, flat, nullElements, dict: taken()}
}

function utf8Less(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')) < 0
}

const HIGH = /[\ud800-\uffff]/

function statBytes(physical: Physical, v: Exclude<Stored, null>): Uint8Array {
  const b = Buffer.alloc(physical === 'INT32' ? 4 : physical === 'INT64' ? 8 : 1)
  switch (physical) {
    case 'BYTE_ARRAY':
      return Buffer.from(v as string, 'utf8')
    case 'INT32':
      b.writeInt32LE((v as number) | 0)
      return b
    case 'INT64':
      b.writeBigInt64LE(BigInt.asIntN(64, v as bigint))
      return b
    case 'BOOLEAN':
      return Uint8Array.of(v ? 1 : 0)
  }
}

/** One PLAIN value into `out`. */
function plainValue(physical: Physical, v: Stored | bigint): void {
  switch (physical) {
    case 'BYTE_ARRAY':
      return out.plainString(v as string)
    case 'INT32':
      return out.i32le(v === null ? 0 : (v as number))
    case 'INT64': {
      const x = v === null ? 0n : BigInt.asIntN(64, v as bigint)
      return out.words(Number(BigInt.asIntN(32, x)), Number(x >> 32n))
    }
    case 'BOOLEAN':
      throw new Error('booleans are written PLAIN, not from a dictionary')
  }
}
