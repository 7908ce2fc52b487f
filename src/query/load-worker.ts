// Worker thread of the loader: reads one range of one trace file at a time (see ./scan.ts for how ranges begin and
// end) and posts its narrow batches, as Arrow IPC streams, to the thread that owns the database.
import fs from 'node:fs'
import {parentPort} from 'node:worker_threads'
import {ByteSource, MAX_BLOCK_BYTES, readHeader} from '../format/avro/container.js'
import {TraceError} from '../format/errors.js'
import {PipelineStats} from '../format/pipeline.js'
import {fileInput, TraceInput} from '../format/reader.js'
import {NarrowBatch, NarrowBuilder, toWire} from '../format/arrow/index.js'
import {plan} from './ddl.js'
import {ScanDecode, scanTraces} from './scan.js'
import type {FromWorker, ToWorker, WorkerTask} from './workers.js'

const port = parentPort!
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer)

let credits = 0
let waited = 0
let waiting: (() => void) | undefined
const MAX_IN_FLIGHT = 3
const KINDS = new Map(plan().tables.map((t) => [t.name, t.columns.map((c) => c.kind)]))

port.on('message', (m: ToWorker) => {
  if (m.type === 'ack') {
    credits--
    const w = waiting
    waiting = undefined
    w?.()
  } else if (m.type === 'task') {
    void run(m.task, m.strict, m.decode)
  } else if (m.type === 'stop') {
    process.exit(0)
  }
})

async function send(taskId: number, b: NarrowBatch, builder: NarrowBuilder): Promise<void> {
  if (b.tables.length === 0 && b.strings.values.length === 0) return
  const w0 = Date.now()
  while (credits >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (waiting = resolve))
  waited += Date.now() - w0
  credits++
  const transfer: ArrayBuffer[] = []
  const tables = b.tables.map((t) => {
    const w = toWire(t.batch, KINDS.get(t.name)!)
    transfer.push(...w.transfer)
    return {name: t.name, wire: w.wire}
  })
  post({type: 'batch', task: taskId, strings: b.strings, tables, events: b.events}, transfer)
  // toWire copied the fact columns (views of larger arrays) or took them along: the builder may reuse what is left.
  builder.recycle()
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len)
  const n = fs.readSync(fd, b, 0, len, pos)
  return b.subarray(0, n)
}

/** Zigzag varint at `pos` of `b`: [value, bytes], or undefined. */
function varint(b: Buffer, pos: number): [number, number] | undefined {
  let n = 0
  let shift = 0
  for (let i = pos; i < b.length && i < pos + 10; i++) {
    n += (b[i] & 0x7f) * 2 ** shift
    shift += 7
    if ((b[i] & 0x80) === 0) return [n % 2 === 0 ? n / 2 : -(n + 1) / 2, i + 1 - pos]
  }
  return undefined
}

/**
 * The file from the first block at or after `start`, behind a copy of its header (so the reader sees a whole
 * container), and the offset to add to what the reader reports; undefined when no block starts there.
 */
async function tailInput(file: string, start: number): Promise<{input: TraceInput; offsetBase: number} | undefined> {
  const stream = fs.createReadStream(file, {highWaterMark: 1 << 16})
  let header
  try {
    header = await readHeader(new ByteSource(stream[Symbol.asyncIterator]()), file)
  } finally {
    stream.destroy()
  }
  const fd = fs.openSync(file, 'r')
  try {
    const size = fs.fstatSync(fd).size
    const sync = header.sync
    let pos = Math.max(header.size - 16, start - 16)
    const CHUNK = 1 << 20
    while (pos < size) {
      const buf = readAt(fd, pos, CHUNK + 15)
      let i = buf.indexOf(sync)
      while (i >= 0) {
        const blockStart = pos + i + 16
        if (blockStart >= size) return undefined
        // A real block: count and size are sane, and the sync marker follows its payload.
        const head = readAt(fd, blockStart, 20)
        const c = varint(head, 0)
        const s = c && varint(head, c[1])
        if (c && s && c[0] > 0 && s[0] >= 0 && s[0] <= MAX_BLOCK_BYTES) {
          const end = blockStart + c[1] + s[1] + s[0]
          if (readAt(fd, end, 16).equals(sync)) {
            const headerBytes = readAt(fd, 0, header.size)
            const input: TraceInput = {
              name: file,
              async *open() {
                yield headerBytes
                yield* fs.createReadStream(file, {start: blockStart, highWaterMark: 1 << 20})
              },
            }
            return {input, offsetBase: blockStart - header.size}
          }
        }
        i = buf.indexOf(sync, i + 1)
      }
      if (buf.length < CHUNK + 15) break
      pos += CHUNK
    }
    return undefined
  } finally {
    fs.closeSync(fd)
  }
}

function serializeError(e: unknown): FromWorker & {type: 'fatal'} {
  if (e instanceof TraceError) return {type: 'fatal', error: {name: e.name, message: e.message, file: e.file, offset: e.offset, problem: e.problem}}
  const err = e instanceof Error ? e : new Error(String(e))
  return {type: 'fatal', error: {name: err.name, message: err.message, stack: err.stack}}
}

async function run(task: WorkerTask, strict: boolean, decode: ScanDecode | undefined): Promise<void> {
  const stats = new PipelineStats()
  const started = Date.now()
  try {
    let input: TraceInput = fileInput(task.file)
    let offsetBase = 0
    if (task.start > 0) {
      const tail = await tailInput(task.file, task.start)
      if (!tail) {
        post({type: 'done', task: task.id, counts: {}, events: 0})
        return
      }
      input = tail.input
      offsetBase = tail.offsetBase
    }
    let lastProgress = 0
    await scanTraces(
      [input],
      {
        strict,
        decode,
        onWarning: (w) => post({type: 'warning', warning: w}),
        onError: (e) => post({type: 'error', error: {name: e.name, message: e.message, file: e.file, offset: e.offset, problem: e.problem}}),
        onUnresolved: (file, u) => post({type: 'unresolved', file, unresolved: u}),
      },
      stats,
      (b, builder) => send(task.id, b, builder),
      {
        fromHeader: task.start > 0,
        nextStarts: task.nextStarts,
        offsetBase,
        onBlock: (offset) => {
          const now = Date.now()
          if (now - lastProgress >= 100) {
            lastProgress = now
            post({type: 'progress', task: task.id, offset})
          }
        },
      },
    )
    if (process.env.SYSFLOW_QUERY_TIMING) {
      const cpu = process.cpuUsage()
      process.stderr.write(`worker task ${task.id}: ${((Date.now() - started) / 1000).toFixed(2)} s, waited for the loader ${(waited / 1000).toFixed(2)} s, thread cpu ~${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (process)\n`)
    }
    post({type: 'done', task: task.id, counts: stats.counts, events: stats.events})
  } catch (e) {
    post(serializeError(e))
  }
}
