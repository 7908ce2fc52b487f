// Mutation (fuzz) test of the reader: damaged copies of real traces (or, without ../shared, of the tiny trace)
// must end either cleanly or with a TraceError. Anything else thrown, or a case that does not finish within
// HANG_MS, is a failure. Reproduce a failure with SYSFLOW_FUZZ_SEED=<seed> and the case index it names
// (SYSFLOW_FUZZ_CASES=<n> runs more cases).
import fs from 'node:fs'
import path from 'node:path'
import test from 'ava'
import {ReadWarning, TraceError} from '../src/format/errors.js'
import {joinedBatches} from '../src/format/pipeline.js'
import {bufferInput, readTrace} from '../src/format/reader.js'
import {KIND_ABBREV} from '../src/format/records.js'
import {Rng} from './helpers/prng.js'
import {listTraces, sharedDir} from './helpers/shared.js'
import {parseContainer, tinyTrace, toNullCodec} from './helpers/tiny-trace.js'

const CASES = process.env.SYSFLOW_FUZZ_CASES ? Number(process.env.SYSFLOW_FUZZ_CASES) : 1200
/** A hang detector, not a performance assertion. */
const HANG_MS = 2000
const SEED = process.env.SYSFLOW_FUZZ_SEED ? Number(process.env.SYSFLOW_FUZZ_SEED) : 0x5f3759df

interface Source {
  name: string
  bytes: Buffer
  headerSize: number
}

async function sources(): Promise<{label: string; list: Source[]}> {
  const source = (name: string, bytes: Buffer): Source => ({name, bytes, headerSize: parseContainer(bytes).headerSize})
  const dir = sharedDir('traces')
  const files = dir ? listTraces(dir) : []
  if (dir && files.length > 0) {
    // Each trace as it is (deflate) and inflated into a null-codec copy, so mutations also reach record bytes.
    const list = files.flatMap((f) => {
      const bytes = fs.readFileSync(f)
      const name = path.relative(dir, f)
      return [source(name, bytes), source(`${name} (null codec)`, toNullCodec(bytes))]
    })
    return {label: `${files.length} real traces from ../shared/traces (as is and with the null codec)`, list}
  }
  const list: Source[] = []
  for (const codec of ['deflate', 'null'] as const) list.push(source(`tiny-${codec}`, (await tinyTrace({codec})).bytes))
  return {label: 'the tiny trace helper (../shared/traces not found)', list}
}

interface Mutation {
  bytes: Buffer
  description: string
}

function mutate(rng: Rng, src: Source): Mutation {
  const len = src.bytes.length
  if (rng.next() < 0.35) {
    const cut = rng.int(0, len - 1)
    return {bytes: src.bytes.subarray(0, cut), description: `truncate to ${cut} bytes`}
  }
  const out = Buffer.from(src.bytes)
  const n = rng.int(1, 8)
  // Half the cases damage only the blocks (past the header), where most of the decoding happens.
  const lo = rng.next() < 0.5 ? src.headerSize : 0
  const changes: string[] = []
  for (let i = 0; i < n; i++) {
    const at = rng.int(lo, len - 1)
    const v = rng.int(0, 255)
    out[at] = v
    changes.push(`${at}=${v}`)
  }
  return {bytes: out, description: `set bytes ${changes.join(',')}`}
}

type Result = {kind: 'clean' | 'warned'; warnings: number} | {kind: 'errored'; error: TraceError} | {kind: 'crashed'; error: unknown} | {kind: 'hung'}

async function consume(bytes: Buffer, name: string, joined: boolean, onWarning: (w: ReadWarning) => void): Promise<void> {
  const input = bufferInput(name, bytes)
  if (joined) {
    for await (const batch of joinedBatches([input], {onWarning})) {
      for (const j of batch) if (!(j.rec.kind >= 0 && j.rec.kind < KIND_ABBREV.length)) throw new Error(`joined record of kind ${j.rec.kind}`)
    }
  } else {
    for await (const batch of readTrace(input, {onWarning})) {
      for (const r of batch.records) if (!(r.kind >= 0 && r.kind < KIND_ABBREV.length)) throw new Error(`record of kind ${r.kind}`)
    }
  }
}

async function runCase(bytes: Buffer, name: string, joined: boolean): Promise<Result> {
  let warnings = 0
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), HANG_MS)
  })
  try {
    const r = await Promise.race([consume(bytes, name, joined, () => warnings++).then(() => 'done' as const), hang])
    if (r === 'hang') return {kind: 'hung'}
    return {kind: warnings > 0 ? 'warned' : 'clean', warnings}
  } catch (e) {
    return e instanceof TraceError ? {kind: 'errored', error: e} : {kind: 'crashed', error: e}
  } finally {
    clearTimeout(timer)
  }
}

const {label, list} = await sources()

test(`mutation: ${CASES} mutated inputs from ${label} end cleanly or with a TraceError (seed ${SEED})`, async (t) => {
  t.timeout(10 * 60_000)
  const rng = new Rng(SEED)
  const tally = {clean: 0, warned: 0, errored: 0}
  const errorTypes: Record<string, number> = {}
  const failures: string[] = []
  for (let i = 0; i < CASES; i++) {
    const src = rng.pick(list)
    const m = mutate(rng, src)
    const joined = i % 3 === 0
    const started = performance.now()
    const r = await runCase(m.bytes, src.name, joined)
    const ms = performance.now() - started
    const where = `seed ${SEED} case ${i} (${src.name}, ${m.description}, ${joined ? 'joinedBatches' : 'readTrace'})`
    if (r.kind === 'hung' || ms > HANG_MS) {
      failures.push(`${where}: did not finish within ${HANG_MS} ms (${Math.round(ms)} ms)`)
    } else if (r.kind === 'crashed') {
      const e = r.error
      failures.push(`${where}: threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`)
    } else {
      tally[r.kind]++
      if (r.kind === 'errored') errorTypes[r.error.name] = (errorTypes[r.error.name] ?? 0) + 1
    }
  }
  t.log(`seed ${SEED}: ${tally.clean} clean, ${tally.warned} warned, ${tally.errored} errored, ${failures.length} failed`)
  t.log(`errors by type: ${JSON.stringify(errorTypes)}`)
  t.deepEqual(failures, [])
  t.true(tally.warned > 0, 'some cases recovered with warnings')
  t.true(tally.errored > 0, 'some cases ended with a TraceError')
  t.is(tally.clean + tally.warned + tally.errored + failures.length, CASES)
})

test('mutation: the unmutated sources read cleanly, the null-codec copies with the same records', async (t) => {
  const recordsOf = async (bytes: Buffer) => {
    const out: unknown[] = []
    for await (const b of readTrace(bufferInput('x', bytes))) out.push(...b.records)
    return out
  }
  for (const src of list) {
    const r = await runCase(src.bytes, src.name, false)
    t.is(r.kind, 'clean', src.name)
    if (src.name.endsWith(' (null codec)')) {
      t.is(parseContainer(src.bytes).codec, 'null')
      const original = list.find((s) => `${s.name} (null codec)` === src.name)
      t.truthy(original, src.name)
      if (original) t.deepEqual(await recordsOf(src.bytes), await recordsOf(original.bytes), src.name)
    }
  }
})
