// Synthetic libscap events for the collector's mechanisms: built from libscap's own event table, so they have the
// layout of a real capture (ppm_evt_hdr, u16 lengths, values).
import {Collector, CollectorOptions} from '../../src/capture/collector.js'
import type {EventInfo} from '../../src/native/scap.js'
import {findSystemLibscap} from '../../src/native/loader.js'

export const haveLibscap = Boolean(process.env.SYSFLOW_LIBSCAP) || findSystemLibscap() !== undefined

export type Value = number | string | Buffer

export async function eventTable(): Promise<EventInfo[]> {
  const {eventInfoTable} = await import('../../src/native/scap.js')
  return eventInfoTable()
}

/**
 * ppm_evt_hdr + u16 lengths + values of the newest version of event `name` (the last table entry with that name and
 * direction); numbers become 8-byte integers (the decoder reads the width it finds). `only` keeps the first params,
 * as older drivers wrote (a connect enter without its address).
 */
export function scapEvent(tbl: EventInfo[], name: string, exit: boolean, ts: bigint, tid: number, params: Record<string, Value>, only?: number): Buffer {
  const candidates = tbl.map((e, i) => [e, i] as const).filter(([e, i]) => e.name === name && (i & 1) === (exit ? 1 : 0))
  if (candidates.length === 0) throw new Error(`no event ${name}`)
  const [info, ty] = candidates[candidates.length - 1]
  const values = info.params.slice(0, only ?? info.params.length).map((p) => {
    const v = params[p.name] ?? 0
    if (typeof v === 'number') {
      const b = Buffer.alloc(8)
      b.writeBigInt64LE(BigInt(v))
      return b
    }
    return typeof v === 'string' ? Buffer.from(`${v}\0`) : v
  })
  const lens = Buffer.alloc(values.length * 2)
  values.forEach((v, i) => lens.writeUInt16LE(v.length, i * 2))
  const body = Buffer.concat([lens, ...values])
  const hdr = Buffer.alloc(26)
  hdr.writeBigUInt64LE(ts, 0)
  hdr.writeBigInt64LE(BigInt(tid), 8)
  hdr.writeUInt32LE(26 + body.length, 16)
  hdr.writeUInt16LE(ty, 20)
  hdr.writeUInt32LE(values.length, 22)
  return Buffer.concat([hdr, body])
}

export const T0 = 1_700_000_000_000_000_000n

/** A collector fed by `ev(name, exit, dt, tid, params)` at T0 + dt ns. */
export async function feeder(opts: CollectorOptions = {}) {
  const tbl = await eventTable()
  const c = new Collector(tbl, opts)
  const ev = (name: string, exit: boolean, dt: number | bigint, tid: number, p: Record<string, Value> = {}, only?: number) => c.event(scapEvent(tbl, name, exit, T0 + BigInt(dt), tid, p, only))
  return {c, ev}
}

/** PT_SOCKTUPLE of an IPv4 pair (addresses as the network-order u32 read little-endian). */
export function tuple4(sip: number, sport: number, dip: number, dport: number): Buffer {
  const b = Buffer.alloc(13)
  b[0] = 2
  b.writeUInt32LE(sip, 1)
  b.writeUInt16LE(sport, 5)
  b.writeUInt32LE(dip, 7)
  b.writeUInt16LE(dport, 11)
  return b
}

/** PT_SOCKTUPLE of an IPv6 pair; an IPv4 number gives ::ffff:a.b.c.d. */
export function tuple6(sip: number | Buffer, sport: number, dip: number | Buffer, dport: number): Buffer {
  const addr = (a: number | Buffer) => {
    if (Buffer.isBuffer(a)) return a
    const b = Buffer.alloc(16)
    b[10] = 0xff
    b[11] = 0xff
    b.writeUInt32LE(a, 12)
    return b
  }
  const port = (p: number) => {
    const b = Buffer.alloc(2)
    b.writeUInt16LE(p)
    return b
  }
  return Buffer.concat([Buffer.from([10]), addr(sip), port(sport), addr(dip), port(dport)])
}

/** PT_SOCKTUPLE of a unix socket pair: family 1, source and destination kernel addresses, path. */
export function tupleUnix(src: bigint, dst: bigint, path: string): Buffer {
  const b = Buffer.alloc(17)
  b[0] = 1
  b.writeBigUInt64LE(src, 1)
  b.writeBigUInt64LE(dst, 9)
  return Buffer.concat([b, Buffer.from(`${path}\0`)])
}

/** 127.0.0.1 as the collector stores it. */
export const LOCALHOST = 16777343
