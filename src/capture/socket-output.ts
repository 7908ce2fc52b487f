// Streaming records to the SysFlow processor's socket (the collector's -u): a SOCK_SEQPACKET unix socket, one
// Avro-binary SysFlow record per message (the `rec` union index, then the record: no container, header or block),
// as sf-processor's streaming driver reads them. Every connection starts with the header, and each event is
// preceded by the entities it references (its process and ancestors, container, pod, files) unless this connection
// already carried them: after a reconnect they are sent again, as the collector re-emits its caches (its m_reset).
//
// Nothing blocks the event loop (a full socket is retried on a timer). A processor that is not listening yet, or goes away, is retried with backoff
// while records wait in a bounded queue; when the queue is full a record is counted as dropped, never lost
// silently: `dropped` is in the result and each outage is reported through onWarning.
import {CaptureBatch} from './index.js'
import {JoinTables, Joined} from '../format/join.js'
import {EventRecord, isEvent, Kind, KIND_ABBREV, SFHeader, SysFlowRecord} from '../format/records.js'
import {RecordEncoder, WriterOptions} from '../format/writer.js'
import {EAGAIN, SeqPacketSocket, SocketError} from '../native/seqpacket.js'

const EMSGSIZE = 90
const ERRNO_NAMES: Record<number, string> = {32: 'EPIPE', 104: 'ECONNRESET', 107: 'ENOTCONN', 111: 'ECONNREFUSED'}

export interface SocketOutputOptions {
  /** Schema of the records (default '5', what the processor decodes). */
  writer?: Pick<WriterOptions, 'schema' | 'omit' | 'nullable' | 'symbols'>
  /** Send only event and flow records for which this returns true (entities go with the events that need them). */
  filter?: (j: Joined) => boolean
  /** Records held while the processor is away or slow (default 65536); beyond it records are dropped and counted. */
  queueRecords?: number
  /** First reconnect delay in ms (default 100); doubled after each failure up to maxRetryMs (default 5000). */
  retryMs?: number
  maxRetryMs?: number
  /** How long close() waits for an absent or slow processor to take the queued records (default 10000 ms). */
  closeTimeoutMs?: number
  /** Connection lost, not reachable, reconnected: one line each, without the `sysflow: warning:` prefix. */
  onWarning?: (message: string) => void
}

export interface SocketOutputResult {
  /** The socket path. */
  path: string
  /** Messages sent (one record each; entities and headers included). */
  records: number
  /** Records dropped: queue full while the processor was away, or still queued when close() gave up. */
  dropped: number
  /** Successful connections (1 when the processor never went away). */
  connects: number
}

const NO_HEADER: SFHeader = {kind: Kind.Header, version: 5n, exporter: '', ip: '', filename: ''}

type Item = Joined | SysFlowRecord

export class SocketOutput {
  private readonly encoder: RecordEncoder
  private readonly tables = new JoinTables()
  private readonly keep: ((j: Joined) => boolean) | undefined
  private readonly max: number
  private readonly retryMs: number
  private readonly maxRetryMs: number
  private readonly closeTimeoutMs: number
  private readonly warn: (message: string) => void
  private sock: SeqPacketSocket | undefined
  private queue: Item[] = []
  private head = 0
  /** Per connection: was the header sent, which entities were. */
  private headerSent = false
  private written = new WeakSet<object>()
  private delay: number
  private timer: NodeJS.Timeout | undefined
  private waiting = false
  private fullWait = 0.5
  private unreachableSaid = false
  private droppingSaid = false
  /** write() backpressure while connected: resolved when the queue is down to a quarter. */
  private room: {promise: Promise<void>; resolve: () => void} | undefined
  private idle: (() => void) | undefined
  private closed: Promise<SocketOutputResult> | undefined
  sent = 0
  dropped = 0
  connects = 0

  constructor(readonly path: string, opts: SocketOutputOptions = {}) {
    this.encoder = new RecordEncoder(opts.writer)
    this.keep = opts.filter
    this.max = opts.queueRecords ?? 65536
    if (!Number.isInteger(this.max) || this.max < 1) throw new RangeError(`queueRecords must be a positive integer, got ${this.max}`)
    this.retryMs = opts.retryMs ?? 100
    this.maxRetryMs = Math.max(opts.maxRetryMs ?? 5000, this.retryMs)
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10000
    this.warn = opts.onWarning ?? (() => {})
    this.delay = this.retryMs
    if (!this.connect()) this.retry()
  }

  /** Records waiting to be sent. */
  get queued(): number {
    return this.queue.length - this.head
  }

  /** Queue a record (typed, as read, or joined). A promise asks the caller to wait: the processor is slower. */
  write(x: SysFlowRecord | Joined): void | Promise<void> {
    if (this.closed) throw new Error('SocketOutput.write after close')
    if ('rec' in x) {
      if (this.keep && !this.keep(x)) return
      return this.enqueue(x)
    }
    if (isEvent(x)) return this.write(this.tables.join(x as EventRecord))
    this.tables.add(x)
    return this.enqueue(x)
  }

  /** A capture batch (rotation marks mean nothing on a socket). */
  async writeBatch(b: CaptureBatch): Promise<void> {
    for (const r of b.records) {
      const p = this.write(r)
      if (p) await p
    }
  }

  private enqueue(item: Item): void | Promise<void> {
    if (this.queued >= this.max) {
      if (!this.droppingSaid) this.warn(`socket ${this.path}: ${this.max} records queued: dropping records (counted) until the processor takes them`)
      this.droppingSaid = true
      this.dropped++
      return
    }
    this.queue.push(item)
    if (this.sock && !this.waiting) this.drain()
    if (this.sock && this.queued >= this.max / 2) {
      if (!this.room) {
        let resolve!: () => void
        const promise = new Promise<void>((r) => (resolve = r))
        this.room = {promise, resolve}
      }
      return this.room.promise
    }
  }

  private freeRoom(): void {
    const r = this.room
    this.room = undefined
    r?.resolve()
  }

  /** Send what is queued until the socket is full (then wait for room) or the processor is gone. */
  private drain(): void {
    const sock = this.sock
    if (!sock) return
    while (this.head < this.queue.length) {
      const r = this.sendItem(sock, this.queue[this.head])
      if (r === 0) {
        this.head++
        this.fullWait = 0.5
        continue
      }
      if (r === EAGAIN) {
        // The processor has not read what it got yet: try again shortly (1 ms, doubling up to 64 ms).
        this.waiting = true
        this.fullWait = Math.min(this.fullWait * 2, 64)
        setTimeout(() => {
          this.waiting = false
          if (this.sock === sock) this.drain()
        }, this.fullWait)
        break
      }
      this.lost(r)
      return
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    if (this.queued <= this.max / 4) this.freeRoom()
    if (this.queued === 0) this.idle?.()
  }

  /** Send an item and what it needs first: 0, EAGAIN or the errno that ended the connection. */
  private sendItem(sock: SeqPacketSocket, x: Item): number {
    let r: number
    if ('rec' in x) {
      const w = this.written
      if ((r = this.sendHeader(sock, x.header ?? this.tables.header))) return r
      if (x.pod && !w.has(x.pod) && (r = this.send(sock, x.pod))) return r
      if (x.container && !w.has(x.container) && (r = this.send(sock, x.container))) return r
      // Ancestors eldest first, so a parent precedes its child as in the collector's output.
      for (let i = x.ancestry.length - 1; i >= 0; i--) if (!w.has(x.ancestry[i]) && (r = this.send(sock, x.ancestry[i]))) return r
      if (x.proc && !w.has(x.proc) && (r = this.send(sock, x.proc))) return r
      if (x.file && !w.has(x.file) && (r = this.send(sock, x.file))) return r
      if (x.newFile && !w.has(x.newFile) && (r = this.send(sock, x.newFile))) return r
      return this.send(sock, x.rec)
    }
    if (x.kind === Kind.Header) return this.sendHeader(sock, x)
    if ((r = this.sendHeader(sock, this.tables.header))) return r
    return this.written.has(x) ? 0 : this.send(sock, x)
  }

  /** The header once per connection (a later one, after a rotation of the source, would only repeat it). */
  private sendHeader(sock: SeqPacketSocket, h: SFHeader | undefined): number {
    if (this.headerSent) return 0
    const r = this.send(sock, h ?? NO_HEADER)
    if (r === 0) this.headerSent = true
    return r
  }

  private send(sock: SeqPacketSocket, rec: SysFlowRecord): number {
    const r = sock.send(this.encoder.encode(rec))
    if (r === 0) {
      this.written.add(rec)
      this.sent++
    } else if (r === EMSGSIZE) {
      // Larger than the socket takes in one message: this record cannot go, the others can.
      this.written.add(rec)
      this.dropped++
      this.warn(`socket ${this.path}: a ${KIND_ABBREV[rec.kind]} record is too large for one message; dropped`)
      return 0
    }
    return r
  }

  private connect(): boolean {
    try {
      this.sock = SeqPacketSocket.connect(this.path)
    } catch (e) {
      if (!(e instanceof SocketError)) throw e
      if (!this.unreachableSaid) this.warn(`socket ${this.path}: cannot connect (${e.message.slice(e.message.indexOf(': ') + 2)}); retrying`)
      this.unreachableSaid = true
      return false
    }
    this.connects++
    if (this.unreachableSaid) this.warn(`socket ${this.path}: connected`)
    this.unreachableSaid = false
    this.droppingSaid = false
    this.headerSent = false
    this.written = new WeakSet()
    this.delay = this.retryMs
    return true
  }

  private lost(errno: number): void {
    this.sock?.close()
    this.sock = undefined
    this.waiting = false
    this.warn(`socket ${this.path}: the processor went away (send: ${ERRNO_NAMES[errno] ?? `errno ${errno}`}); reconnecting, ${this.queued} records queued`)
    this.unreachableSaid = true
    // Producers do not wait for a processor that is not there: the queue fills, then records are dropped.
    this.freeRoom()
    this.retry()
  }

  private retry(): void {
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.connect()) this.drain()
      else {
        this.delay = Math.min(this.delay * 2, this.maxRetryMs)
        this.retry()
      }
    }, this.delay)
    // A writer nobody closes must not keep the process alive on its own (close() waits with a timer of its own).
    this.timer.unref()
  }

  /**
   * Send what is queued and close. Waits at most closeTimeoutMs for a processor that is away or slow; what is still
   * queued then is counted as dropped.
   */
  close(): Promise<SocketOutputResult> {
    this.closed ??= (async () => {
      if (this.queued > 0) {
        let deadline: NodeJS.Timeout | undefined
        await new Promise<void>((resolve) => {
          this.idle = resolve
          deadline = setTimeout(resolve, this.closeTimeoutMs)
        })
        clearTimeout(deadline)
        this.idle = undefined
      }
      this.dropped += this.queued
      this.queue = []
      this.head = 0
      this.abort()
      return {path: this.path, records: this.sent, dropped: this.dropped, connects: this.connects}
    })()
    return this.closed
  }

  /** Stop at once: no more retries, the socket closed, nothing more sent. */
  abort(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.sock?.close()
    this.sock = undefined
    this.freeRoom()
  }
}
