// A small, valid SysFlow trace built in memory (no dependency on ../shared), and an independent parser of Avro
// container framing so tests can locate blocks, payloads and sync markers to damage.
//
// Layout: block 0 holds the SFHeader, one Process and one File (and possibly a first few FileFlows); every later
// block holds several FileFlow records. `tinyTrace` checks this layout and throws if the writer produced another.
import zlib from 'node:zlib'
import {bufferSink, TraceWriter} from '../../src/format/writer.js'
import {FileFlow, Kind, Process, File as SFFile, SFHeader, SysFlowRecord} from '../../src/format/records.js'

export const TINY_BASE_TS = 1_700_000_000_123_456_789n
export const TINY_FILEFLOWS = 24
const PID = 4242n
const CREATE_TS = 1_700_000_000_000_000_001n
const FOID = '8d57b8c6a1b2c3d4e5f60718293a4b5c6d7e86da'

export function tinyRecords(exporter = 'tiny-node'): SysFlowRecord[] {
  const header: SFHeader = {kind: Kind.Header, version: 5n, exporter, ip: '10.0.0.1', filename: '/tmp/tiny.sf'}
  const proc: Process = {
    kind: Kind.Process, state: 'CREATED', oid: {createTS: CREATE_TS, hpid: PID}, poid: null, ts: TINY_BASE_TS - 1000n,
    exe: '/usr/bin/tiny', exeArgs: '--flag value', uid: 1000, userName: 'alice', gid: 1000, groupName: 'staff', tty: false,
    containerId: null, entry: false, cwd: '/home/alice', env: ['PATH=/usr/bin', 'HOME=/home/alice'],
  }
  const file: SFFile = {kind: Kind.File, state: 'CREATED', oid: FOID, ts: TINY_BASE_TS - 500n, restype: 102, path: '/etc/tiny.conf', containerId: null}
  const flows: FileFlow[] = []
  for (let i = 0; i < TINY_FILEFLOWS; i++) {
    flows.push({
      kind: Kind.FileFlow, procOID: {createTS: CREATE_TS, hpid: PID}, ts: TINY_BASE_TS + BigInt(i) * 1_000_003n, tid: PID,
      opFlags: 1 | 8 | 128, openFlags: 0, endTs: TINY_BASE_TS + BigInt(i) * 1_000_003n + 777n, fileOID: FOID, fd: 3 + (i % 5),
      numRRecvOps: BigInt(i), numWSendOps: 0n, numRRecvBytes: BigInt(i * 100), numWSendBytes: 0n,
    })
  }
  return [header, proc, file, ...flows]
}

export interface TinyTrace {
  bytes: Buffer
  container: ContainerInfo
  /** Number of FileFlow records (the only records print shows) in each block. */
  flowsPerBlock: number[]
  records: SysFlowRecord[]
}

/** The tiny trace, written with the project's TraceWriter. */
export async function tinyTrace(opts: {codec?: 'deflate' | 'null'; exporter?: string} = {}): Promise<TinyTrace> {
  const sink = bufferSink()
  // About five FileFlows per block.
  const w = new TraceWriter(sink, {schema: '5', codec: opts.codec ?? 'deflate', blockBytes: 300})
  const records = tinyRecords(opts.exporter)
  for (const r of records) await w.write(r)
  await w.close()
  const bytes = sink.result()
  const container = parseContainer(bytes)
  const flowsPerBlock = container.blocks.map((b, i) => (i === 0 ? b.count - 3 : b.count))
  const ok = container.blocks.length >= 4 && container.blocks[0].count >= 3 && container.blocks.slice(1).every((b) => b.count >= 2)
  if (!ok) throw new Error(`tiny trace layout unexpected: block counts ${container.blocks.map((b) => b.count).join(',')}`)
  return {bytes, container, flowsPerBlock, records}
}

export interface BlockInfo {
  /** Offset of the block's first byte (its record count). */
  offset: number
  count: number
  size: number
  payloadOffset: number
  syncOffset: number
  /** Offset just past the block's sync marker. */
  end: number
}

export interface ContainerInfo {
  metadata: Map<string, Buffer>
  codec: string
  sync: Buffer
  /** Offset of the first byte of the sync marker that ends the header. */
  headerSyncOffset: number
  headerSize: number
  blocks: BlockInfo[]
}

/** Parse Avro container framing (independently of the reader under test). Throws on anything malformed. */
export function parseContainer(buf: Buffer): ContainerInfo {
  let pos = 0
  const varint = (): number => {
    let n = 0
    let mul = 1
    for (;;) {
      if (pos >= buf.length) throw new Error(`varint runs past the end at ${pos}`)
      const b = buf[pos++]
      n += (b & 0x7f) * mul
      if (!(b & 0x80)) break
      mul *= 128
    }
    return n % 2 === 1 ? -(n + 1) / 2 : n / 2
  }
  const bytes = (): Buffer => {
    const len = varint()
    const out = buf.subarray(pos, pos + len)
    pos += len
    return out
  }
  if (!buf.subarray(0, 4).equals(Buffer.from('Obj\x01', 'latin1'))) throw new Error('no Avro magic')
  pos = 4
  const metadata = new Map<string, Buffer>()
  for (;;) {
    let n = varint()
    if (n === 0) break
    if (n < 0) {
      n = -n
      varint()
    }
    for (let i = 0; i < n; i++) {
      const k = bytes().toString('utf8')
      metadata.set(k, Buffer.from(bytes()))
    }
  }
  const headerSyncOffset = pos
  const sync = Buffer.from(buf.subarray(pos, pos + 16))
  pos += 16
  const headerSize = pos
  const blocks: BlockInfo[] = []
  while (pos < buf.length) {
    const offset = pos
    const count = varint()
    const size = varint()
    const payloadOffset = pos
    const syncOffset = pos + size
    if (!buf.subarray(syncOffset, syncOffset + 16).equals(sync)) throw new Error(`block at ${offset}: bad sync marker`)
    pos = syncOffset + 16
    blocks.push({offset, count, size, payloadOffset, syncOffset, end: pos})
  }
  return {metadata, codec: metadata.get('avro.codec')?.toString('utf8') ?? 'null', sync, headerSyncOffset, headerSize, blocks}
}

function zigzag(n: number): Buffer {
  const out: number[] = []
  let z = n >= 0 ? n * 2 : -n * 2 - 1
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80)
    z = Math.floor(z / 0x80)
  }
  out.push(z)
  return Buffer.from(out)
}

/**
 * The same trace with the `null` codec: every deflate block inflated and framed again with the same sync marker.
 * Mutating it damages record bytes directly (rather than compressed data), which exercises the record decoder.
 */
export function toNullCodec(buf: Buffer): Buffer {
  const info = parseContainer(buf)
  if (info.codec !== 'deflate' && info.codec !== 'null') throw new Error(`cannot convert codec ${info.codec}`)
  const parts: Buffer[] = [Buffer.from('Obj\x01', 'latin1'), zigzag(info.metadata.size)]
  for (const [k, v] of info.metadata) {
    const value = k === 'avro.codec' ? Buffer.from('null') : v
    parts.push(zigzag(Buffer.byteLength(k)), Buffer.from(k), zigzag(value.length), value)
  }
  if (!info.metadata.has('avro.codec')) throw new Error('no avro.codec entry')
  parts.push(zigzag(0), info.sync)
  for (const b of info.blocks) {
    const raw = buf.subarray(b.payloadOffset, b.syncOffset)
    const data = info.codec === 'deflate' ? zlib.inflateRawSync(raw) : raw
    parts.push(zigzag(b.count), zigzag(data.length), data, info.sync)
  }
  return Buffer.concat(parts)
}
