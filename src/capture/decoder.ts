// Event decoding: the param area of a libscap event (ppm_evt_hdr + lengths + values), table-driven. Handlers are
// bound by event name and direction, and params are found by name, so every old event version (EXECVE_8..19,
// CLONE_11..20) works, including captures that carry fewer params than the table lists.
import type {EventInfo} from '../native/scap.js'

export const EF_LARGE_PAYLOAD = 1 << 11
export const HDR = 26

// PT_* codes used by the decoder.
export const PT = {
  INT8: 1, INT16: 2, INT32: 3, INT64: 4, UINT8: 5, UINT16: 6, UINT32: 7, UINT64: 8, CHARBUF: 9, BYTEBUF: 10, ERRNO: 11,
  SOCKADDR: 12, SOCKTUPLE: 13, FD: 14, PID: 15, FDLIST: 16, FSPATH: 17, FLAGS8: 28, FLAGS16: 29, FLAGS32: 30, UID: 31,
  GID: 32, FSRELPATH: 43,
} as const

const TS8 = new Uint8Array(8)
const TS64 = new BigUint64Array(TS8.buffer)
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * The u64 at `at` (an event's timestamp) as a bigint: its bytes copied into a BigUint64Array, which makes one
 * BigInt, where Buffer.readBigUInt64LE builds it from two halves (about twice the time per handled event).
 */
export function readU64(b: Buffer, at: number): bigint {
  if (!LITTLE) return b.readBigUInt64LE(at)
  TS8[0] = b[at]
  TS8[1] = b[at + 1]
  TS8[2] = b[at + 2]
  TS8[3] = b[at + 3]
  TS8[4] = b[at + 4]
  TS8[5] = b[at + 5]
  TS8[6] = b[at + 6]
  TS8[7] = b[at + 7]
  return TS64[0]
}

/** Malformed event: its param lengths do not fit its declared length. */
export class EventDecodeError extends Error {}

/** Offsets of the params of the current event, recomputed per event into reused arrays. */
export class Params {
  buf: Buffer = Buffer.alloc(0)
  n = 0
  readonly off = new Int32Array(64)
  readonly len = new Int32Array(64)

  /** Parse the length array of the event at `at`. Returns false when the lengths do not add up to its length. */
  load(ev: Buffer, at: number, large: boolean): boolean {
    const total = at + ev.readUInt32LE(at + 16)
    const n = ev.readUInt32LE(at + 22)
    if (n > 64) return false
    this.buf = ev
    const lw = large ? 4 : 2
    const lens = at + HDR
    let pos = lens + n * lw
    if (pos > total) return false
    for (let i = 0; i < n; i++) {
      const l = large ? ev.readUInt32LE(lens + i * 4) : ev.readUInt16LE(lens + i * 2)
      this.off[i] = pos
      this.len[i] = l
      pos += l
      if (pos > total) return this.fewer(ev, lens, total, lw, n)
    }
    if (pos !== total) return this.fewer(ev, lens, total, lw, n)
    this.n = n
    return true
  }

  /** Old (V1) events may carry fewer params than the table: find the count whose lengths add up to `total`. */
  private fewer(ev: Buffer, lens: number, total: number, lw: number, n: number): boolean {
    for (let k = n - 1; k >= 0; k--) {
      let pos = lens + k * lw
      let i = 0
      for (; i < k && pos <= total; i++) {
        const l = lw === 4 ? ev.readUInt32LE(lens + i * 4) : ev.readUInt16LE(lens + i * 2)
        this.off[i] = pos
        this.len[i] = l
        pos += l
      }
      if (pos === total) {
        this.n = k
        return true
      }
    }
    return false
  }

  has(i: number): boolean {
    return i >= 0 && i < this.n
  }

  /** Signed integer param read at its actual width (1, 2, 4 or 8 bytes). */
  int(i: number, dflt = 0): number {
    if (i < 0 || i >= this.n) return dflt
    const o = this.off[i]
    switch (this.len[i]) {
      case 8:
        // hi * 2^32 is exact and the sum rounds once, to nearest like Number(BigInt): the same value, no BigInt.
        return this.buf.readInt32LE(o + 4) * 4294967296 + this.buf.readUInt32LE(o)
      case 4:
        return this.buf.readInt32LE(o)
      case 2:
        return this.buf.readInt16LE(o)
      case 1:
        return this.buf.readInt8(o)
      default:
        return dflt
    }
  }

  /** Unsigned integer param at its actual width. */
  uint(i: number, dflt = 0): number {
    if (i < 0 || i >= this.n) return dflt
    const o = this.off[i]
    switch (this.len[i]) {
      case 8:
        return this.buf.readUInt32LE(o + 4) * 4294967296 + this.buf.readUInt32LE(o)
      case 4:
        return this.buf.readUInt32LE(o)
      case 2:
        return this.buf.readUInt16LE(o)
      case 1:
        return this.buf.readUInt8(o)
      default:
        return dflt
    }
  }

  /** A string param without its trailing NUL. */
  str(i: number): string {
    if (i < 0 || i >= this.n) return ''
    const o = this.off[i]
    let e = o + this.len[i]
    const z = this.buf.indexOf(0, o)
    if (z >= 0 && z < e) e = z
    return this.buf.toString('utf8', o, e)
  }

  /** A NUL-separated list (args, env, cgroups). */
  list(i: number): string[] {
    if (i < 0 || i >= this.n || this.len[i] === 0) return []
    const o = this.off[i]
    let s = this.buf.toString('utf8', o, o + this.len[i])
    if (s.endsWith('\0')) s = s.slice(0, -1)
    return s.split('\0')
  }

  raw(i: number): Buffer {
    if (i < 0 || i >= this.n) return Buffer.alloc(0)
    return this.buf.subarray(this.off[i], this.off[i] + this.len[i])
  }
}

/** Param index by name for one event type (-1 when the type lacks it). */
export class ParamIndex {
  private readonly byType: Map<string, number>[]
  constructor(table: EventInfo[]) {
    this.byType = table.map((e) => new Map(e.params.map((p, i) => [p.name, i])))
  }
  get(type: number, name: string): number {
    return this.byType[type]?.get(name) ?? -1
  }

  /** The index of param `name` for every event type (-1 where it lacks it): hot handlers index it by type. */
  column(name: string): Int16Array {
    const out = new Int16Array(this.byType.length)
    for (let t = 0; t < out.length; t++) out[t] = this.byType[t].get(name) ?? -1
    return out
  }
}

export interface Tuple {
  family: number
  sip: number
  sport: number
  dip: number
  dport: number
}

/** True when the 16 bytes at `at` are an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
function isV4Mapped(b: Buffer, at: number): boolean {
  for (let i = 0; i < 10; i++) if (b[at + i] !== 0) return false
  return b[at + 10] === 0xff && b[at + 11] === 0xff
}

/**
 * Decode a PT_SOCKTUPLE (or PT_SOCKADDR when `addr`) param. IPv4 (family 2) with its addresses; an IPv6 one whose
 * addresses are all IPv4-mapped (::ffff:a.b.c.d, Go servers' dual-stack sockets) is IPv4 too, as libsinsp's
 * accept and connect parsers make it; anything else: family and zeros.
 */
export function decodeTuple(b: Buffer, addr = false): Tuple | undefined {
  if (b.length < 1) return undefined
  const family = b[0]
  if (family === 10) {
    if (addr) {
      if (b.length >= 19 && isV4Mapped(b, 1)) return {family: 2, sip: 0, sport: 0, dip: b.readUInt32LE(13), dport: b.readUInt16LE(17)}
    } else if (b.length >= 37 && isV4Mapped(b, 1) && isV4Mapped(b, 19)) {
      return {family: 2, sip: b.readUInt32LE(13), sport: b.readUInt16LE(17), dip: b.readUInt32LE(31), dport: b.readUInt16LE(35)}
    }
    return {family, sip: 0, sport: 0, dip: 0, dport: 0}
  }
  if (family === 2) {
    if (addr) {
      if (b.length < 7) return undefined
      return {family, sip: 0, sport: 0, dip: b.readUInt32LE(1), dport: b.readUInt16LE(5)}
    }
    if (b.length < 13) return undefined
    return {family, sip: b.readUInt32LE(1), sport: b.readUInt16LE(5), dip: b.readUInt32LE(7), dport: b.readUInt16LE(11)}
  }
  return {family, sip: 0, sport: 0, dip: 0, dport: 0}
}
