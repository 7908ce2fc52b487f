// The BPF ring buffer read in place: its pages are mapped into our memory with libc mmap (the consumer page
// read-write at offset 0; the producer page and the data area, mapped twice by the kernel so a record never wraps,
// read-only at offset page_size) and viewed through Buffers from createExternalBuffer: zero copy. Positions are
// read and written with Atomics. Each record has an 8-byte header (length with the BUSY and DISCARD bits, page
// offset) and is padded to 8 bytes. Consumed space is handed back every 256 KiB, not once per batch: otherwise
// the kernel runs out of room and drops (docs/capture.md §8). Waiting is libc poll() on a libuv worker thread,
// so the event loop never blocks; libbpf's ring_buffer__new with a JS callback is far too slow.
import {createExternalBuffer, JsExternal} from 'ffi-rs'
import * as b from './libbpf-bindings.js'

const PROT_READ = 1
const PROT_WRITE = 2
const MAP_SHARED = 1
const BUSY = 0x80000000
const DISCARD = 0x40000000
const HDR = 8
const GIVE_BACK = 256 << 10

/** Called per record with the mapped data area and the record's offset and length (valid only during the call). */
export type RecordHandler = (data: Buffer, at: number, len: number) => void

export class RingReader {
  private readonly page: number
  private readonly consMap: JsExternal
  private readonly prodMap: JsExternal
  private readonly cons: BigInt64Array
  private readonly prod: BigInt64Array
  private readonly hdr: Int32Array
  /** The data area (twice `size` bytes: the kernel maps it twice in a row). */
  readonly data: Buffer
  private readonly mask: number
  private pos: number
  /** The producer position last read, and the consumer position last handed back to the kernel. */
  private prodSeen = 0
  private given = 0
  private readonly pollfd = Buffer.alloc(8)
  private closed = false

  constructor(fd: number, private readonly size: number) {
    this.page = b.sysconf(30) // _SC_PAGESIZE
    const c = b.mmap(this.page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    if (isFailed(c.value)) throw new Error(`mmap of the ring buffer consumer page failed: ${c.errnoMessage}`)
    this.consMap = b.pointerAt(BigInt.asUintN(64, c.value))
    const p = b.mmap(this.page + 2 * size, PROT_READ, MAP_SHARED, fd, this.page)
    if (isFailed(p.value)) {
      b.munmap(this.consMap, this.page)
      throw new Error(`mmap of the ring buffer data failed: ${p.errnoMessage}`)
    }
    this.prodMap = b.pointerAt(BigInt.asUintN(64, p.value))
    const consBuf = createExternalBuffer(this.consMap, this.page)
    const prodBuf = createExternalBuffer(this.prodMap, this.page + 2 * size)
    this.cons = new BigInt64Array(consBuf.buffer, consBuf.byteOffset, 1)
    this.prod = new BigInt64Array(prodBuf.buffer, prodBuf.byteOffset, 1)
    this.hdr = new Int32Array(prodBuf.buffer, prodBuf.byteOffset + this.page, (2 * size) / 4)
    this.data = prodBuf.subarray(this.page)
    this.mask = size - 1
    this.pos = Number(Atomics.load(this.cons, 0))
    this.given = this.pos
    this.prodSeen = this.pos
    this.pollfd.writeInt32LE(fd, 0)
    this.pollfd.writeInt16LE(1, 4) // POLLIN
  }

  /** Bytes written by the kernel and not yet read. */
  backlog(): number {
    return Number(Atomics.load(this.prod, 0)) - this.pos
  }

  /**
   * Read up to `max` records; returns how many were handed to `fn` (discarded ones are skipped). Cheap to call
   * with max = 1: the producer position is re-read only when the known records are used up, and space is given
   * back every 256 KiB or when the ring is found empty.
   */
  drain(fn: RecordHandler, max = Infinity): number {
    let n = 0
    while (n < max) {
      if (this.pos >= this.prodSeen) {
        this.prodSeen = Number(Atomics.load(this.prod, 0))
        if (this.pos >= this.prodSeen) {
          this.giveBack()
          break
        }
      }
      const at = this.pos & this.mask
      const h = Atomics.load(this.hdr, at >> 2) >>> 0
      if (h & BUSY) {
        this.giveBack()
        break
      }
      const len = h & ~(BUSY | DISCARD)
      // advance first: `fn` may throw, and the record must not be read twice
      this.pos += (len + HDR + 7) & ~7
      if (!(h & DISCARD)) {
        fn(this.data, at + HDR, len)
        n++
      }
      if (this.pos - this.given >= GIVE_BACK) this.giveBack()
    }
    return n
  }

  private giveBack(): void {
    if (this.given === this.pos) return
    Atomics.store(this.cons, 0, BigInt(this.pos))
    this.given = this.pos
  }

  /** Wait (on a worker thread) until the kernel signals data or `ms` pass. */
  async wait(ms: number): Promise<void> {
    if (this.closed) return
    await b.pollAsync(this.pollfd, 1, ms)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    b.munmap(this.prodMap, this.page + 2 * this.size)
    b.munmap(this.consMap, this.page)
  }
}

/** mmap's MAP_FAILED is (void *)-1. */
function isFailed(addr: bigint): boolean {
  return BigInt.asIntN(64, BigInt(addr)) === -1n || BigInt(addr) === 0n
}
