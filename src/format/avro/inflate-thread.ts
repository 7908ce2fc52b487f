// Deflated blocks inflated on a thread of their own, so that inflating (about a fifth of reading a trace) overlaps
// with decoding on the main thread. Measured on the 2M-record bench trace: inflating takes ~240 ms of the main
// thread's ~1 s; handing blocks to this thread costs ~60 ms there (a structured copy of the compressed payload each
// way). Node's own async zlib (libuv's pool) costs more than it saves: ~85 us of main-thread work per call for
// its stream machinery, for 80 kB blocks. One thread per process, started only once an input proves large (see
// readBlocks); it never keeps the process alive when idle. If it fails, blocks are inflated here instead.
import {isMainThread, Worker} from 'node:worker_threads'
import zlib from 'node:zlib'
import {InflateReply, InflateRequest} from './inflate-worker.js'

interface Pending {
  raw: Buffer
  chunkSize: number
  maxOutputLength: number
  resolve: (r: Buffer | Error) => void
}

/** Inflate in this thread: the result, or the Error zlib gave (a corrupt payload). */
export function inflateHere(raw: Uint8Array, chunkSize: number, maxOutputLength: number): Buffer | Error {
  try {
    return zlib.inflateRawSync(raw, {chunkSize, maxOutputLength})
  } catch (e) {
    return e as Error
  }
}

class InflateThread {
  private worker: Worker | undefined
  private readonly pending = new Map<number, Pending>()
  private next = 0
  failed = false
  /** Blocks this thread has inflated (tests: the thread was really used). */
  inflated = 0

  inflate(raw: Buffer, chunkSize: number, maxOutputLength: number): Promise<Buffer | Error> {
    const w = this.start()
    if (!w) return Promise.resolve(inflateHere(raw, chunkSize, maxOutputLength))
    const id = this.next++
    return new Promise((resolve) => {
      if (this.pending.size === 0) w.ref()
      this.pending.set(id, {raw, chunkSize, maxOutputLength, resolve})
      const m: InflateRequest = {id, raw, chunkSize, maxOutputLength}
      w.postMessage(m)
    })
  }

  /** End the thread (what is pending is inflated in this thread); later blocks are inflated here too. */
  async stop(): Promise<void> {
    await this.worker?.terminate()
  }

  private start(): Worker | undefined {
    if (this.worker || this.failed) return this.worker
    try {
      const w = new Worker(new URL('./inflate-worker.js', import.meta.url))
      w.on('message', (r: InflateReply) => this.settle(r))
      // A thread that dies (out of memory, killed) leaves its blocks to this one: nothing is lost.
      const fail = () => {
        if (this.failed) return
        this.failed = true
        this.worker = undefined
        for (const [id, p] of this.pending) {
          this.pending.delete(id)
          p.resolve(inflateHere(p.raw, p.chunkSize, p.maxOutputLength))
        }
      }
      w.on('error', fail)
      w.on('exit', fail)
      w.unref()
      this.worker = w
    } catch {
      this.failed = true
    }
    return this.worker
  }

  private settle(r: InflateReply): void {
    const p = this.pending.get(r.id)
    if (!p) return
    this.pending.delete(r.id)
    this.inflated++
    if (this.pending.size === 0) this.worker?.unref()
    p.resolve('error' in r ? new Error(r.error) : Buffer.from(r.out, r.offset, r.length))
  }
}

let shared: InflateThread | undefined

/**
 * The process's inflate thread, or undefined where there should be none: in worker threads (the query loader's
 * readers already keep the cores busy) and when SYSFLOW_INFLATE_THREAD=0.
 */
export function inflateThread(): InflateThread | undefined {
  if (!isMainThread || process.env.SYSFLOW_INFLATE_THREAD === '0') return undefined
  shared ??= new InflateThread()
  return shared.failed ? undefined : shared
}
