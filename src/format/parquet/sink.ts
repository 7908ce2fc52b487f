// Where a gathered row group goes: an encoder on this thread, or one on a thread of its own (./write-worker.ts)
// that encodes, compresses and writes while this one reads the next. The arrays of a row group move to that
// thread (transferred, not copied); the key values are cloned. At most two row groups wait, so memory stays flat.
import {Worker} from 'node:worker_threads'
import {Compressor, ParquetFileWriter} from './file.js'
import {EVENTS_LEAVES} from './layout.js'
import {preparedBuffers} from './prepare.js'
import {RowGroupData, RowGroupEncoder} from './row-group.js'
import type {EventsParquetOptions} from './events.js'

export interface RowGroupSink {
  /** Whether write() takes the arrays (the caller makes new ones). */
  readonly moves: boolean
  write(d: RowGroupData): void
  /** Arrays of a row group the encoder is done with, for the next one (moving sinks). */
  spare(): RowGroupArrays | undefined
  ready(): Promise<void>
  close(): Promise<void>
  abandon(): Promise<void>
}

export interface OpenMessage {
  type: 'open'
  path: string
  codec: NonNullable<EventsParquetOptions['codec']>
  level: number
  createdBy: string
}

/** The fixed-size arrays of a row group (what moves between the threads and back). */
export type RowGroupArrays = Pick<RowGroupData, 'keys' | 'kinds' | 'direct' | 'time'>

export type ToWorker = OpenMessage | {type: 'group'; data: RowGroupData} | {type: 'close'} | {type: 'abandon'}
export type FromWorker = {type: 'written'; arrays: RowGroupArrays} | {type: 'closed'} | {type: 'error'; message: string}

/** The buffers of a row group's arrays, to transfer. */
export function buffersOf(a: RowGroupArrays): ArrayBuffer[] {
  return [...a.keys.map((k) => k.buffer), a.kinds.buffer, ...a.direct.flatMap((x) => [x.w.buffer, x.state.buffer]), a.time.w.buffer, a.time.state.buffer] as ArrayBuffer[]
}

export function openMessage(path: string, opts: EventsParquetOptions): OpenMessage {
  return {type: 'open', path, codec: opts.codec ?? 'zstd', level: opts.level ?? 1, createdBy: opts.createdBy ?? 'sysflow'}
}

/** Open the file and an encoder for it (both threads do it the same way). */
export function openEncoder(m: OpenMessage): {file: ParquetFileWriter; encoder: RowGroupEncoder} {
  const file = new ParquetFileWriter(m.path, EVENTS_LEAVES, m.codec, m.createdBy)
  return {file, encoder: new RowGroupEncoder(file, new Compressor(m.codec, m.level))}
}

export class InThreadSink implements RowGroupSink {
  readonly moves = false
  private readonly file: ParquetFileWriter
  private readonly encoder: RowGroupEncoder

  constructor(path: string, opts: EventsParquetOptions) {
    ;({file: this.file, encoder: this.encoder} = openEncoder(openMessage(path, opts)))
  }

  write(d: RowGroupData): void {
    this.encoder.write(d)
  }

  spare(): undefined {
    return undefined
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.file.close()
  }

  async abandon(): Promise<void> {
    this.file.abandon()
  }
}

export class WorkerSink implements RowGroupSink {
  readonly moves = true
  private readonly worker: Worker
  private pending = 0
  private failure: Error | undefined
  private wake: (() => void) | undefined
  private closed = false
  private readonly free: RowGroupArrays[] = []

  constructor(path: string, opts: EventsParquetOptions) {
    this.worker = new Worker(new URL('./write-worker.js', import.meta.url))
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'written') {
        this.pending--
        this.free.push(m.arrays)
      }
      else if (m.type === 'closed') this.closed = true
      else this.failure ??= new Error(m.message)
      this.notify()
    })
    this.worker.on('error', (e) => {
      this.failure ??= e
      this.notify()
    })
    this.worker.on('exit', (code) => {
      if (!this.closed) this.failure ??= new Error(`the Parquet writer thread exited with code ${code}`)
      this.notify()
    })
    this.post(openMessage(path, opts))
  }

  private notify(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer)
  }

  private async until(done: () => boolean): Promise<void> {
    while (!done() && this.failure === undefined) await new Promise<void>((resolve) => (this.wake = resolve))
    if (this.failure) throw this.failure
  }

  write(d: RowGroupData): void {
    if (this.failure) throw this.failure
    this.pending++
    this.post({type: 'group', data: d}, [...buffersOf(d), ...d.prepared.flat().flatMap(preparedBuffers)])
  }

  spare(): RowGroupArrays | undefined {
    return this.free.pop()
  }

  ready(): Promise<void> {
    return this.until(() => this.pending <= 1)
  }

  async close(): Promise<void> {
    try {
      this.post({type: 'close'})
      await this.until(() => this.closed)
    } finally {
      await this.worker.terminate()
    }
  }

  async abandon(): Promise<void> {
    try {
      this.post({type: 'abandon'})
      await this.until(() => this.closed).catch(() => undefined)
    } finally {
      await this.worker.terminate()
    }
  }
}
