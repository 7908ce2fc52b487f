// Deflated blocks inflated on a thread of their own, ahead of decoding (src/format/avro/inflate-thread.ts,
// readBlocks in container.ts): the caller must see exactly what inflating in its own thread gives, in file order
// (blocks, warnings, errors), nothing about blocks past where it stops, and nothing lost if the thread dies.
// The trace has ~80 small deflate blocks, so the thread takes over after the first few.
import {createHash} from 'node:crypto'
import test from 'ava'
import {ByteSource, readBlocks, readHeader} from '../src/format/avro/container.js'
import {inflateThread} from '../src/format/avro/inflate-thread.js'
import {CorruptBlockError, ReadWarning, TruncatedInputError} from '../src/format/errors.js'
import {FileFlow} from '../src/format/records.js'
import {bufferSink, TraceWriter} from '../src/format/writer.js'
import {parseContainer, TINY_BASE_TS, tinyRecords} from './helpers/tiny-trace.js'

async function manyBlocks(): Promise<Buffer> {
  const [header, proc, file, flow] = tinyRecords()
  const sink = bufferSink()
  const w = new TraceWriter(sink, {schema: '5', codec: 'deflate', blockBytes: 300})
  for (const r of [header, proc, file]) await w.write(r)
  for (let i = 0; i < 400; i++) await w.write({...(flow as FileFlow), ts: TINY_BASE_TS + BigInt(i), fd: i})
  await w.close()
  return sink.result()
}

const bytes = await manyBlocks()
const B = parseContainer(bytes).blocks

/** What a reader sees, in order: `B offset count sha1(payload)`, `W offset message`, then `E Class offset`. */
async function seen(buf: Buffer, opts: {strict?: boolean; stopAfter?: number} = {}): Promise<string[]> {
  const log: string[] = []
  async function* chunks(): AsyncGenerator<Buffer> {
    // 1000-byte chunks: framing waits for input now and then, as it does on a file.
    for (let at = 0; at < buf.length; at += 1000) yield buf.subarray(at, at + 1000)
  }
  const src = new ByteSource(chunks())
  const onWarning = (w: ReadWarning) => log.push(`W ${w.offset} ${w.message}`)
  try {
    const header = await readHeader(src, 'x.sf')
    let n = 0
    for await (const b of readBlocks(src, header, 'x.sf', {strict: opts.strict, onWarning})) {
      log.push(`B ${b.offset} ${b.count} ${b.end} ${createHash('sha1').update(b.data).digest('hex')}`)
      if (++n === opts.stopAfter) break
    }
  } catch (e) {
    log.push(`E ${(e as Error).constructor.name} ${(e as {offset?: number}).offset}`)
  }
  return log
}

/** The same read, with blocks inflated in this thread (SYSFLOW_INFLATE_THREAD=0). */
async function seenInline(buf: Buffer, opts: {strict?: boolean; stopAfter?: number} = {}): Promise<string[]> {
  process.env.SYSFLOW_INFLATE_THREAD = '0'
  try {
    return await seen(buf, opts)
  } finally {
    delete process.env.SYSFLOW_INFLATE_THREAD
  }
}

function damaged(): Buffer {
  const out = Buffer.from(bytes)
  // Block 10: a payload that does not inflate (0xff starts a deflate block of the reserved type 3).
  out[B[10].payloadOffset] = 0xff
  // Block 14: only its sync marker.
  out[B[14].syncOffset + 3] ^= 0xff
  // Block 20: an impossible record count (a negative zigzag varint).
  out[B[20].offset] = 0x01
  return out
}

test.serial('a sound trace: every block, the same bytes as inflating here, and the thread did inflate them', async (t) => {
  const before = inflateThread()!.inflated
  const got = await seen(bytes)
  t.is(got.length, B.length)
  t.deepEqual(got.map((l) => Number(l.split(' ')[1])), B.map((b) => b.offset))
  t.deepEqual(got.map((l) => Number(l.split(' ')[3])), B.map((b) => b.end))
  t.deepEqual(got, await seenInline(bytes))
  // All but the first few blocks went through the thread.
  t.is(inflateThread()!.inflated - before, B.length - 4)
})

test.serial('damaged blocks: the same blocks and warnings, in the same order, as inflating here', async (t) => {
  const got = await seen(damaged())
  t.deepEqual(got, await seenInline(damaged()))
  const warnings = got.filter((l) => l.startsWith('W '))
  t.deepEqual(warnings.map((l) => Number(l.split(' ')[1])), [B[10].offset, B[14].offset, B[20].offset])
  t.regex(warnings[0], /deflate payload does not decompress .*; skipped \d+ bytes \(\d+ records\)$/)
  // The warning of block 10 sits between blocks 9 and 11.
  const at = got.indexOf(warnings[0])
  t.is(Number(got[at - 1].split(' ')[1]), B[9].offset)
  t.is(Number(got[at + 1].split(' ')[1]), B[11].offset)
  t.is(got.length - warnings.length, B.length - 2)
})

test.serial('strict: the blocks before the bad payload, then CorruptBlockError at it (none after)', async (t) => {
  const got = await seen(damaged(), {strict: true})
  t.deepEqual(got, await seenInline(damaged(), {strict: true}))
  t.is(got.length, 11)
  t.is(got[10], `E ${CorruptBlockError.name} ${B[10].offset}`)
})

test.serial('stopping early: nothing is said of the blocks framed ahead and never read', async (t) => {
  const got = await seen(damaged(), {stopAfter: 12})
  t.deepEqual(got, await seenInline(damaged(), {stopAfter: 12}))
  // Block 14's damaged marker is framed ahead of block 12's read, but never reported.
  t.deepEqual(got.filter((l) => l.startsWith('W ')).map((l) => Number(l.split(' ')[1])), [B[10].offset])
})

test.serial('truncated inside a block: every complete block, then TruncatedInputError', async (t) => {
  const cut = bytes.subarray(0, B[30].payloadOffset + 3)
  const got = await seen(cut)
  t.deepEqual(got, await seenInline(cut))
  t.is(got.length, 31)
  t.is(got[30], `E ${TruncatedInputError.name} ${B[30].offset}`)
})

test.serial('the thread ends mid-read: what it had pending is inflated here, nothing is lost (last: it stays off)', async (t) => {
  const expected = await seenInline(bytes)
  const log: string[] = []
  const src = new ByteSource((async function* () {
    yield bytes
  })())
  const header = await readHeader(src, 'x.sf')
  let n = 0
  for await (const b of readBlocks(src, header, 'x.sf')) {
    log.push(`B ${b.offset} ${b.count} ${b.end} ${createHash('sha1').update(b.data).digest('hex')}`)
    // Blocks are pending on the thread now (framing runs ahead): end it under them.
    if (++n === 8) await inflateThread()!.stop()
  }
  t.deepEqual(log, expected)
  t.is(inflateThread(), undefined)
})
