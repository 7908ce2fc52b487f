// Damaged and unusual inputs, through the library and through the real CLI. Every input is derived from the tiny
// trace of test/helpers/tiny-trace.ts (written in memory, so this file does not need ../shared): six blocks, the
// first holding SFHeader, Process, File and two FileFlows, each later one several FileFlows. The "middle" block is
// block 2: two sound blocks before it, three after it.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import test from 'ava'
import {
  CorruptBlockError, EmptyInputError, InputPathError, NotAvroError, ReadWarning, TraceError, TruncatedInputError,
} from '../src/format/errors.js'
import {sortRotated, resolveInputs} from '../src/format/inputs.js'
import {bufferInput, fileInput, ReadOptions, ReadStats, readTrace, readTraces, TraceBatch, TraceInput} from '../src/format/reader.js'
import {FileFlow, Kind} from '../src/format/records.js'
import {CliResult, runCli} from './helpers/cli.js'
import {BlockInfo, TINY_FILEFLOWS, tinyTrace} from './helpers/tiny-trace.js'

const tiny = await tinyTrace()
const tinyNull = await tinyTrace({codec: 'null'})
const B = tiny.container.blocks
const NB = tinyNull.container.blocks
const M = 2
const LAST = B.length - 1
const TOTAL = tiny.records.length
/** ts of every FileFlow, in file order: what print must show, one line each. */
const FLOW_TS = tiny.records.filter((r): r is FileFlow => r.kind === Kind.FileFlow).map((r) => r.ts)

let dir = ''
test.before(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'sysflow-bad-input-'))
})
test.after.always(async () => {
  if (dir) await fs.promises.rm(dir, {recursive: true, force: true})
})

/** Write bytes to a fresh file in the temp dir and return its path. */
function put(name: string, bytes: Buffer | string): string {
  const p = path.join(dir, name)
  fs.mkdirSync(path.dirname(p), {recursive: true})
  fs.writeFileSync(p, bytes)
  return p
}

// --- damage ----------------------------------------------------------------------------------------------------

function corruptSync(buf: Buffer, b: BlockInfo): Buffer {
  const out = Buffer.from(buf)
  out[b.syncOffset + 5] ^= 0xff
  return out
}

/** Change a block's declared size (a bit inside its size varint): the marker is no longer where the size says. */
function corruptSize(buf: Buffer, b: BlockInfo): Buffer {
  const out = Buffer.from(buf)
  const sizeAt = b.offset + 1 // the record count (< 64) is one varint byte
  out[sizeAt] ^= 0x10
  return out
}

/** 0xff starts a deflate block of the reserved type 3: inflate must reject it. */
function badDeflate(buf: Buffer, b: BlockInfo): Buffer {
  const out = Buffer.from(buf)
  out[b.payloadOffset] = 0xff
  out[b.payloadOffset + 1] = 0xff
  return out
}

/** In a null-codec trace, the first byte of a block's payload is its first record's union index (zigzag). */
function unknownBranch(buf: Buffer, b: BlockInfo): Buffer {
  const out = Buffer.from(buf)
  if (out[b.payloadOffset] !== 2 * Kind.FileFlow) throw new Error(`expected the FileFlow union index at ${b.payloadOffset}, found ${out[b.payloadOffset]}`)
  out[b.payloadOffset] = 2 * 40 // branch 40: the schema has 12
  return out
}

/** Offset of the varint length that starts the avro.schema value in the header. */
function schemaValueOffset(buf: Buffer): number {
  const i = buf.indexOf('avro.schema')
  if (i < 0) throw new Error('no avro.schema key')
  return i + 'avro.schema'.length
}

// --- library runs ----------------------------------------------------------------------------------------------

interface Outcome {
  batches: TraceBatch[]
  offsets: number[]
  records: number
  warnings: ReadWarning[]
  error: unknown
  stats: ReadStats
}

async function readAll(input: TraceInput | Buffer, opts: ReadOptions = {}): Promise<Outcome> {
  const src = Buffer.isBuffer(input) ? bufferInput('mem.sf', input) : input
  const o: Outcome = {batches: [], offsets: [], records: 0, warnings: [], error: undefined, stats: new ReadStats()}
  try {
    for await (const batch of readTrace(src, {...opts, onWarning: (w) => o.warnings.push(w)}, o.stats)) {
      o.batches.push(batch)
      o.offsets.push(batch.offset)
      o.records += batch.records.length
    }
  } catch (e) {
    o.error = e
  }
  return o
}

const offsetsExcept = (blocks: BlockInfo[], skip: (i: number) => boolean): number[] => blocks.filter((_, i) => !skip(i)).map((b) => b.offset)
const countExcept = (blocks: BlockInfo[], skip: (i: number) => boolean): number => blocks.reduce((n, b, i) => (skip(i) ? n : n + b.count), 0)

test('library: the tiny trace is sound (baseline for every case below)', async (t) => {
  t.true(B.length >= 4, 'enough blocks for a middle one with blocks on both sides')
  for (const [name, tr] of [['deflate', tiny], ['null', tinyNull]] as const) {
    const o = await readAll(tr.bytes)
    t.is(o.error, undefined, name)
    t.deepEqual(o.warnings, [], name)
    t.is(o.records, TOTAL, name)
    t.deepEqual(o.offsets, tr.container.blocks.map((b) => b.offset), name)
    t.deepEqual(o.batches.flatMap((b) => b.records), tr.records, `${name}: the records read are the records written`)
  }
})

test('library: not Avro (a text file) -> NotAvroError at byte 0', async (t) => {
  const file = put('notes.txt', 'This is a text file, not a SysFlow trace.\n')
  const o = await readAll(fileInput(file))
  t.true(o.error instanceof NotAvroError, String(o.error))
  const e = o.error as NotAvroError
  t.is(e.file, file)
  t.is(e.offset, 0)
  t.regex(e.message, /^.*notes\.txt: byte 0: not an Avro object container file/)
  t.is(o.records, 0)
  t.deepEqual(o.warnings, [])
})

test('library: empty input -> EmptyInputError at byte 0 (file and buffer)', async (t) => {
  for (const input of [fileInput(put('empty.sf', '')), bufferInput('empty-buffer', Buffer.alloc(0))]) {
    const o = await readAll(input)
    t.true(o.error instanceof EmptyInputError, `${input.name}: ${String(o.error)}`)
    t.is((o.error as TraceError).offset, 0)
    t.is((o.error as TraceError).file, input.name)
    t.is(o.records, 0)
  }
})

test('library: truncated inside the header (in the schema) -> TruncatedInputError at the schema entry', async (t) => {
  const o = await readAll(tiny.bytes.subarray(0, 100))
  t.true(o.error instanceof TruncatedInputError, String(o.error))
  t.is((o.error as TraceError).offset, schemaValueOffset(tiny.bytes))
  t.is(o.records, 0)
  t.is(o.stats.files, 0)
})

test('library: truncated inside the header sync marker -> TruncatedInputError at the marker', async (t) => {
  const o = await readAll(tiny.bytes.subarray(0, tiny.container.headerSize - 5))
  t.true(o.error instanceof TruncatedInputError, String(o.error))
  t.is((o.error as TraceError).offset, tiny.container.headerSyncOffset)
  t.is(o.records, 0)
})

const truncatedLast = [
  ['inside the last block payload', B[LAST].payloadOffset + 10],
  ['inside the last block sync marker', B[LAST].syncOffset + 8],
  ['inside the last block header', B[LAST].offset + 1],
] as const

for (const [where, cut] of truncatedLast) {
  test(`library: truncated ${where} -> every complete block, then TruncatedInputError at the block`, async (t) => {
    const o = await readAll(tiny.bytes.subarray(0, cut))
    t.deepEqual(o.offsets, offsetsExcept(B, (i) => i === LAST))
    t.is(o.records, TOTAL - B[LAST].count)
    t.true(o.error instanceof TruncatedInputError, String(o.error))
    t.is((o.error as TraceError).offset, B[LAST].offset)
    t.deepEqual(o.warnings, [])
  })
}

test('library: a trace cut exactly at a block boundary is read cleanly', async (t) => {
  const o = await readAll(tiny.bytes.subarray(0, B[3].end))
  t.is(o.error, undefined)
  t.deepEqual(o.warnings, [])
  t.deepEqual(o.offsets, B.slice(0, 4).map((b) => b.offset))
  t.is(o.records, countExcept(B, (i) => i > 3))
})

test('library: only the sync marker of the middle block damaged -> every block read, one warning, nothing lost', async (t) => {
  const o = await readAll(corruptSync(tiny.bytes, B[M]))
  t.is(o.error, undefined)
  t.deepEqual(o.offsets, B.map((b) => b.offset))
  t.is(o.records, TOTAL)
  t.is(o.warnings.length, 1)
  const w = o.warnings[0]
  t.is(w.offset, B[M].offset)
  t.regex(w.message, /sync marker after this block is damaged; the block itself was read/)
  t.is(w.skippedBytes, 0)
  t.is(w.skippedRecords, 0)
  t.is(o.stats.skippedRecords, 0)
})

test('library: a corrupt block size in the middle block -> skipped to its real sync marker, only that block lost', async (t) => {
  // The blocks after it are intact, framing and sync markers included: none of their records may be lost.
  const o = await readAll(corruptSize(tiny.bytes, B[M]))
  t.is(o.error, undefined)
  t.deepEqual(o.offsets, offsetsExcept(B, (i) => i === M))
  t.is(o.records, TOTAL - B[M].count)
  t.is(o.warnings.length, 1)
  const w = o.warnings[0]
  t.is(w.offset, B[M].offset)
  t.regex(w.message, /sync marker does not match/)
  t.is(w.skippedBytes, B[M].end - B[M].offset, 'skipped exactly the damaged block')
  t.true(w.message.includes(`skipped ${w.skippedBytes} bytes`), w.message)
  t.is(o.stats.skippedBlocks, 1)
})

test('library: corrupt sync marker with strict -> CorruptBlockError at the block, nothing after it', async (t) => {
  const o = await readAll(corruptSync(tiny.bytes, B[M]), {strict: true})
  t.true(o.error instanceof CorruptBlockError, String(o.error))
  t.is((o.error as TraceError).offset, B[M].offset)
  t.deepEqual(o.offsets, B.slice(0, M).map((b) => b.offset))
  t.deepEqual(o.warnings, [])
})

test('library: bad deflate data in the middle block -> that block skipped, warning with its record count', async (t) => {
  const o = await readAll(badDeflate(tiny.bytes, B[M]))
  t.is(o.error, undefined)
  t.deepEqual(o.offsets, offsetsExcept(B, (i) => i === M))
  t.is(o.records, TOTAL - B[M].count)
  t.is(o.warnings.length, 1)
  const w = o.warnings[0]
  t.is(w.offset, B[M].offset)
  t.is(w.skippedRecords, B[M].count)
  t.is(w.skippedBytes, B[M].end - B[M].offset)
  t.regex(w.message, /deflate payload does not decompress/)
  t.true(w.message.includes(`(${B[M].count} records)`), w.message)
  t.is(o.stats.skippedRecords, B[M].count)
  t.is(o.stats.skippedBlocks, 1)
})

test('library: bad deflate data with strict -> CorruptBlockError', async (t) => {
  const o = await readAll(badDeflate(tiny.bytes, B[M]), {strict: true})
  t.true(o.error instanceof CorruptBlockError, String(o.error))
  t.is((o.error as TraceError).offset, B[M].offset)
  t.deepEqual(o.offsets, B.slice(0, M).map((b) => b.offset))
})

test('library: unknown union branch in a null-codec block -> that block skipped with a warning', async (t) => {
  const o = await readAll(unknownBranch(tinyNull.bytes, NB[M]))
  t.is(o.error, undefined)
  t.deepEqual(o.offsets, offsetsExcept(NB, (i) => i === M))
  t.is(o.records, TOTAL - NB[M].count)
  t.is(o.warnings.length, 1)
  const w = o.warnings[0]
  t.is(w.offset, NB[M].offset)
  t.is(w.skippedRecords, NB[M].count)
  t.regex(w.message, /unknown union branch 40\b/)
  t.true(w.message.includes(`(${NB[M].count} records)`), w.message)
})

test('library: readTraces reports a bad input through onError and goes on with the next', async (t) => {
  const errors: TraceError[] = []
  let records = 0
  const files: string[] = []
  for await (const b of readTraces([bufferInput('bad', Buffer.from('nope nope')), bufferInput('good', tiny.bytes)], {onError: (e) => errors.push(e)})) {
    records += b.records.length
    files.push(b.file)
  }
  t.is(records, TOTAL)
  t.deepEqual([...new Set(files)], ['good'])
  t.is(errors.length, 1)
  t.true(errors[0] instanceof NotAvroError)
  t.is(errors[0].file, 'bad')
})

test('library: a nonexistent path -> InputPathError from resolveInputs, TraceError from readTrace', async (t) => {
  const missing = path.join(dir, 'no-such-dir', 'missing.sf')
  const e = t.throws(() => resolveInputs([missing]))
  t.true(e instanceof InputPathError, String(e))
  t.is((e as TraceError).file, missing)
  const o = await readAll(fileInput(missing))
  t.true(o.error instanceof TraceError, String(o.error))
  t.is((o.error as TraceError).file, missing)
  t.regex((o.error as TraceError).message, /no such file/)
})

test('library: rotated files are ordered by numeric suffix (sortRotated, resolveInputs, readTraces)', async (t) => {
  t.deepEqual(sortRotated(['t.10', 't.9', 't.100']), ['t.9', 't.10', 't.100'])
  t.deepEqual(sortRotated(['d/mon.10.sf', 'd/mon.2.sf', 'd/mon.1.sf']), ['d/mon.1.sf', 'd/mon.2.sf', 'd/mon.10.sf'])
  t.deepEqual(sortRotated(['zeta', 't.2', 'alpha']), ['t.2', 'alpha', 'zeta'], 'names with digits first, then by name')
  const rot = path.join(dir, 'rotated-lib')
  for (const n of ['10', '9', '100']) put(path.join('rotated-lib', `t.${n}`), tiny.bytes)
  put(path.join('rotated-lib', '.hidden'), 'not read')
  const inputs = resolveInputs([rot])
  t.deepEqual(inputs.map((i) => path.basename(i.name)), ['t.9', 't.10', 't.100'])
  const seen: string[] = []
  for await (const b of readTraces(inputs)) if (seen[seen.length - 1] !== b.file) seen.push(b.file)
  t.deepEqual(seen.map((f) => path.basename(f)), ['t.9', 't.10', 't.100'])
})

// --- the CLI ---------------------------------------------------------------------------------------------------

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function assertNoStack(t: {false(v: boolean, m?: string): void}, r: CliResult): void {
  t.false(r.stderr.includes('    at '), `no stack trace without --debug:\n${r.stderr}`)
}

/** ts_uts of every printed line (exact). */
function printedTs(r: CliResult): bigint[] {
  return r.lines.map((l) => {
    const m = /"ts_uts": (\d+)/.exec(l)
    return m ? BigInt(m[1]) : -1n
  })
}

/** FileFlow ts of the blocks for which keep(i) holds, in file order. */
function flowTs(keep: (i: number) => boolean, flowsPerBlock = tiny.flowsPerBlock): bigint[] {
  const out: bigint[] = []
  let at = 0
  flowsPerBlock.forEach((n, i) => {
    if (keep(i)) out.push(...FLOW_TS.slice(at, at + n))
    at += n
  })
  return out
}

test('cli: a sound trace prints every FileFlow, exit 0, nothing on stderr', (t) => {
  const file = put('sound.sf', tiny.bytes)
  const r = runCli(['print', file])
  t.is(r.status, 0)
  t.is(r.stderr, '')
  t.is(r.lines.length, TINY_FILEFLOWS)
  t.deepEqual(printedTs(r), FLOW_TS)
})

test('cli: not Avro -> one error line naming the file and byte 0, exit 1, no stack', (t) => {
  const file = put('cli-notes.txt', 'hello, world\n')
  const r = runCli(['print', file])
  t.is(r.status, 1)
  t.is(r.stdout, '')
  t.is(r.errLines.length, 1, r.stderr)
  t.regex(r.errLines[0], new RegExp(`^sysflow: error: ${escape(file)}: byte 0: not an Avro object container file`))
  assertNoStack(t, r)
})

test('cli: not Avro with --debug -> the error line, then a stack trace', (t) => {
  const file = put('cli-notes-debug.txt', 'hello, world\n')
  const r = runCli(['print', file, '--debug'])
  t.is(r.status, 1)
  t.regex(r.errLines[0] ?? '', new RegExp(`^sysflow: error: ${escape(file)}: byte 0: not an Avro`))
  t.true(r.stderr.includes('    at '), r.stderr)
})

test('cli: empty file -> one error line, exit 1', (t) => {
  const file = put('cli-empty.sf', '')
  const r = runCli(['print', file])
  t.is(r.status, 1)
  t.is(r.stdout, '')
  t.is(r.errLines.length, 1, r.stderr)
  t.regex(r.errLines[0], new RegExp(`^sysflow: error: ${escape(file)}: byte 0: empty input`))
  assertNoStack(t, r)
})

test('cli: truncated inside the header -> one error line at the schema entry, exit 1', (t) => {
  const file = put('cli-trunc-header.sf', tiny.bytes.subarray(0, 100))
  const r = runCli(['print', file])
  t.is(r.status, 1)
  t.is(r.stdout, '')
  t.is(r.errLines.length, 1, r.stderr)
  t.regex(r.errLines[0], new RegExp(`^sysflow: error: ${escape(file)}: byte ${schemaValueOffset(tiny.bytes)}: input ends inside the Avro header$`))
  assertNoStack(t, r)
})

test('cli: truncated inside the last block -> the complete blocks are printed, then one error line, exit 1', (t) => {
  const file = put('cli-trunc-last.sf', tiny.bytes.subarray(0, B[LAST].payloadOffset + 10))
  const r = runCli(['print', file])
  t.is(r.status, 1)
  t.deepEqual(printedTs(r), flowTs((i) => i !== LAST))
  t.is(r.errLines.length, 1, r.stderr)
  t.regex(r.errLines[0], new RegExp(`^sysflow: error: ${escape(file)}: byte ${B[LAST].offset}: truncated block`))
  assertNoStack(t, r)
})

test('cli: truncated inside the last block with --strict -> the complete blocks are still printed, then the error', (t) => {
  const file = put('cli-trunc-last-strict.sf', tiny.bytes.subarray(0, B[LAST].payloadOffset + 10))
  const r = runCli(['print', file, '--strict'])
  t.is(r.status, 1)
  t.is(r.errLines.length, 1, r.stderr)
  t.regex(r.errLines[0] ?? '', new RegExp(`^sysflow: error: ${escape(file)}: byte ${B[LAST].offset}: truncated block`))
  t.deepEqual(printedTs(r), flowTs((i) => i !== LAST), 'records read before the error reach stdout')
})

test('cli: a corrupt block size in the middle block -> one warning line (offset, skipped bytes), later blocks printed, exit 1', async (t) => {
  const bytes = corruptSize(tiny.bytes, B[M])
  const file = put('cli-size.sf', bytes)
  const r = runCli(['print', file])
  t.is(r.status, 1)
  t.is(r.errLines.length, 1, r.stderr)
  t.is(r.errLines[0], `sysflow: warning: ${file}: byte ${B[M].offset}: corrupt block: sync marker does not match; skipped ${B[M].end - B[M].offset} bytes`)
  t.deepEqual(printedTs(r), flowTs((i) => i !== M))
  t.true(printedTs(r).includes(FLOW_TS[FLOW_TS.length - 1]), 'the last block is printed')
  assertNoStack(t, r)
})

test('cli: only a damaged sync marker -> every record printed, one warning line, exit 0', (t) => {
  const file = put('cli-sync.sf', corruptSync(tiny.bytes, B[M]))
  const r = runCli(['print', file])
  t.is(r.status, 0)
  t.deepEqual(r.errLines, [`sysflow: warning: ${file}: byte ${B[M].offset}: the sync marker after this block is damaged; the block itself was read`])
  t.deepEqual(printedTs(r), FLOW_TS)
  assertNoStack(t, r)
})

test('cli: corrupt sync marker with --strict -> blocks before it printed, one error line, nothing after, exit 1', (t) => {
  const file = put('cli-sync-strict.sf', corruptSync(tiny.bytes, B[M]))
  const r = runCli(['print', file, '--strict'])
  t.is(r.status, 1)
  t.is(r.errLines.length, 1, r.stderr)
  t.is(r.errLines[0], `sysflow: error: ${file}: byte ${B[M].offset}: corrupt block: sync marker does not match`)
  const later = new Set(flowTs((i) => i >= M))
  t.false(printedTs(r).some((ts) => later.has(ts)), 'no record of the damaged block or later ones')
  t.deepEqual(printedTs(r), flowTs((i) => i < M), 'the records of the blocks before it')
  assertNoStack(t, r)
})

test('cli: bad deflate data in the middle block -> one warning with the skipped record count, exit 1', (t) => {
  const file = put('cli-deflate.sf', badDeflate(tiny.bytes, B[M]))
  const r = runCli(['print', file])
  t.is(r.status, 1)
  t.deepEqual(printedTs(r), flowTs((i) => i !== M))
  t.is(r.errLines.length, 1, r.stderr)
  t.regex(r.errLines[0], new RegExp(`^sysflow: warning: ${escape(file)}: byte ${B[M].offset}: corrupt block: deflate payload does not decompress .*; skipped ${B[M].end - B[M].offset} bytes \\(${B[M].count} records\\)$`))
  assertNoStack(t, r)
})

test('cli: unknown union branch (null codec) -> one warning, the other blocks printed, exit 1', (t) => {
  const file = put('cli-union.sf', unknownBranch(tinyNull.bytes, NB[M]))
  const r = runCli(['print', file])
  t.is(r.status, 1)
  t.deepEqual(printedTs(r), flowTs((i) => i !== M, tinyNull.flowsPerBlock))
  t.is(r.errLines.length, 1, r.stderr)
  t.regex(r.errLines[0], new RegExp(`^sysflow: warning: ${escape(file)}: byte ${NB[M].offset}: corrupt block: unknown union branch 40 .*\\(${NB[M].count} records\\)$`))
  assertNoStack(t, r)
})

test('cli: a directory with one trace and one non-trace file -> the trace printed, one error line, exit 1', (t) => {
  const d = path.join(dir, 'mixed')
  const good = put(path.join('mixed', 'good.sf'), tiny.bytes)
  const bad = put(path.join('mixed', 'readme.txt'), 'not a trace\n')
  const r = runCli(['print', d])
  t.is(r.status, 1)
  t.deepEqual(printedTs(r), FLOW_TS)
  t.is(r.errLines.length, 1, r.stderr)
  t.regex(r.errLines[0], new RegExp(`^sysflow: error: ${escape(bad)}: byte 0: not an Avro object container file`))
  t.false(r.stderr.includes(good))
  assertNoStack(t, r)
})

test('cli: a nonexistent path -> one error line, exit 1; --debug adds a stack', (t) => {
  const missing = path.join(dir, 'does-not-exist.sf')
  const r = runCli(['print', missing])
  t.is(r.status, 1)
  t.is(r.stdout, '')
  t.deepEqual(r.errLines, [`sysflow: error: ${missing}: no such file or directory`])
  assertNoStack(t, r)
  const d = runCli(['print', missing, '--debug'])
  t.is(d.status, 1)
  t.is(d.errLines[0], `sysflow: error: ${missing}: no such file or directory`)
  t.true(d.stderr.includes('    at '), d.stderr)
})

for (const format of ['flatjson', 'json'] as const) {
  test(`cli: print - (stdin) gives the same ${format} output as the file`, (t) => {
    const file = put(`stdin-${format}.sf`, tiny.bytes)
    const fromFile = runCli(['print', '-o', format, file])
    const fromStdin = runCli(['print', '-o', format, '-'], {input: tiny.bytes})
    t.is(fromFile.status, 0)
    t.is(fromStdin.status, 0)
    t.is(fromStdin.stderr, '')
    t.is(fromFile.lines.length, TINY_FILEFLOWS)
    t.is(fromStdin.stdout, fromFile.stdout)
  })
}

test('cli: stdin that is not a trace -> one error line naming <stdin>, exit 1', (t) => {
  const r = runCli(['print', '-'], {input: 'plain text\n'})
  t.is(r.status, 1)
  t.is(r.errLines.length, 1, r.stderr)
  t.regex(r.errLines[0], /^sysflow: error: <stdin>: byte 0: not an Avro object container file/)
})

test('cli: a directory of rotated traces t.10, t.9, t.100 is printed in the order 9, 10, 100', async (t) => {
  const d = path.join(dir, 'rotated-cli')
  for (const n of ['10', '9', '100']) put(path.join('rotated-cli', `t.${n}`), (await tinyTrace({exporter: `node-${n}`})).bytes)
  const r = runCli(['print', d])
  t.is(r.status, 0, r.stderr)
  const nodes = r.lines.map((l) => (JSON.parse(l) as {'node.id': string})['node.id'])
  const expected = ['node-9', 'node-10', 'node-100'].flatMap((n) => new Array<string>(TINY_FILEFLOWS).fill(n))
  t.deepEqual(nodes, expected)
})
