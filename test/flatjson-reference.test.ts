// Our flatjson and json printers against the reference sysprint's output on the real traces, value by value.
// The one deliberate difference is the rendering of `ts`/`endts` (ours: ISO-8601 UTC with nine fractional digits
// and Z; sysprint: microseconds through a float, no Z, fraction dropped when 0). Big integers (nanosecond
// timestamps above 2^53) are compared exactly on both sides: lines are parsed with an integer-preserving parser.
import fs from 'node:fs'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'
import zlib from 'node:zlib'
import test from 'ava'
import {fileInput} from '../src/format/reader.js'
import {ReadWarning, TraceError} from '../src/format/errors.js'
import {printRecords, ByteOutput} from '../src/format/printers/print.js'
import {ExactJson, lossy, parseJsonExact} from './helpers/json-exact.js'
import {sharedDir} from './helpers/shared.js'

const ISO_NS = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{9})Z$/
const SYSPRINT_TS = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/

/** Nanoseconds since the epoch of one of our timestamps (exact), or undefined if it is not in our format. */
function oursToNs(s: string): bigint | undefined {
  const m = ISO_NS.exec(s)
  if (!m) return undefined
  const secs = BigInt(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) / 1000n
  return secs * 1_000_000_000n + BigInt(m[7])
}

/** Nanoseconds of a sysprint timestamp (microsecond precision, UTC). */
function sysprintToNs(s: string): bigint | undefined {
  const m = SYSPRINT_TS.exec(s)
  if (!m) return undefined
  const secs = BigInt(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) / 1000n
  return secs * 1_000_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'))
}

test('timestamp helpers', (t) => {
  t.is(oursToNs('2019-04-10T16:47:14.717699659Z'), 1554914834717699659n)
  t.is(oursToNs('2019-04-10T16:47:14.717699659'), undefined)
  t.is(oursToNs('2019-04-10T16:47:14.7176996Z'), undefined)
  t.is(sysprintToNs('2019-04-10T16:47:14.717700'), 1554914834717700000n)
  t.is(sysprintToNs('2019-04-10T16:47:14'), 1554914834000000000n)
})

test('the exact JSON parser keeps big integers and agrees with JSON.parse otherwise', (t) => {
  const text = '{"a": 1554914834717699659, "b": -1, "c": [1.5, "x\\"y", null, true], "d": {"e": 9007199254740993}}'
  const v = parseJsonExact(text) as {[k: string]: ExactJson}
  t.is(v.a, 1554914834717699659n)
  t.is((v.d as {e: bigint}).e, 9007199254740993n)
  t.deepEqual(lossy(v), JSON.parse(text))
})

const refDir = sharedDir('reference', 'sysprint')
const traceDir = sharedDir('traces')

interface Reference {
  name: string
  file: string
  trace: string
  format: 'flatjson' | 'json'
}

function references(dir: string, traces: string): Reference[] {
  const out: Reference[] = []
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith('k8s_small.')) continue // sysprint -k / -K views, not the plain record listing
    const m = /^(.+)\.(flatjson|json)(\.gz)?$/.exec(name)
    if (!m || !fs.statSync(path.join(dir, name)).isFile()) continue // also leaves out filters/
    out.push({name, file: path.join(dir, name), trace: path.join(traces, ...m[1].split('__')) + '.sf', format: m[2] as 'flatjson' | 'json'})
  }
  return out
}

function readLines(file: string): string[] {
  const raw = fs.readFileSync(file)
  const text = (file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('utf8')
  return text.split('\n').filter((l) => l.trim() !== '')
}

function isObject(v: unknown): v is {[k: string]: ExactJson} {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function show(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)
}

/** Compare one of our records with sysprint's; returns the differences (empty when they agree). */
function compareRecord(ours: {[k: string]: ExactJson}, ref: {[k: string]: ExactJson}): string[] {
  const diffs: string[] = []
  const walk = (a: ExactJson | undefined, b: ExactJson | undefined, key: string): void => {
    if (isObject(a) && isObject(b)) {
      const ka = Object.keys(a)
      const kb = Object.keys(b)
      if (!isDeepStrictEqual(ka, kb)) diffs.push(`${key || '<root>'}: keys ${JSON.stringify(ka)} != sysprint's ${JSON.stringify(kb)}`)
      for (const k of kb) walk(a[k], b[k], key ? `${key}.${k}` : k)
      return
    }
    if (key === 'ts' || key === 'endts') {
      if (b === '') {
        if (a !== '') diffs.push(`${key}: ours ${show(a)}, sysprint's ""`)
        return
      }
      const oursNs = typeof a === 'string' ? oursToNs(a) : undefined
      const refNs = typeof b === 'string' ? sysprintToNs(b) : undefined
      if (oursNs === undefined) return void diffs.push(`${key}: ours ${show(a)} is not ISO-8601 UTC with nine fractional digits and Z`)
      if (refNs === undefined) return void diffs.push(`${key}: sysprint's ${show(b)} is not in the expected form`)
      const uts = ours[`${key}_uts`]
      if (typeof uts !== 'bigint' && typeof uts !== 'number') diffs.push(`${key}_uts: ${show(uts)} is not an integer`)
      else if (oursNs !== BigInt(uts)) diffs.push(`${key}: ours ${show(a)} != ${key}_uts ${show(uts)}`)
      const delta = oursNs > refNs ? oursNs - refNs : refNs - oursNs
      if (delta > 1000n) diffs.push(`${key}: ours ${show(a)} is ${delta} ns from sysprint's ${show(b)}`)
      return
    }
    if (!isDeepStrictEqual(a, b)) diffs.push(`${key}: ours ${show(a)}, sysprint's ${show(b)}`)
  }
  walk(ours, ref, '')
  return diffs
}

test('the record comparison reports every kind of difference', (t) => {
  const ref = parseJsonExact('{"ts": "2019-04-10T16:47:14.717700", "ts_uts": 1554914834717699659, "endts": "", "endts_uts": null, "proc": {"pid": 1, "createts": 1554914834717699001}}') as {[k: string]: ExactJson}
  const good = '{"ts": "2019-04-10T16:47:14.717699659Z", "ts_uts": 1554914834717699659, "endts": "", "endts_uts": null, "proc": {"pid": 1, "createts": 1554914834717699001}}'
  const cmp = (text: string) => compareRecord(parseJsonExact(text) as {[k: string]: ExactJson}, ref)
  t.deepEqual(cmp(good), [])
  t.is(cmp(good.replace('createts": 1554914834717699001', 'createts": 1554914834717699000')).length, 1, 'a big integer off by one')
  t.is(cmp(good.replace('"pid": 1', '"pid": 2')).length, 1, 'a nested value')
  t.is(cmp(good.replace('699659Z"', '699659"')).length, 1, 'ts without Z')
  t.is(cmp(good.replace('T16:47:14.717699659Z", "ts_uts": 1554914834717699659', 'T16:47:14.717698659Z", "ts_uts": 1554914834717698659')).length, 2, 'ts more than 1 us from sysprint (and ts_uts differs from sysprint too)')
  t.is(cmp(good.replace('717699659Z', '717699658Z')).length, 1, 'ts disagreeing with ts_uts')
  t.is(cmp(good.replace('"endts": ""', '"endts": "2019-04-10T16:47:14.717699659Z"')).length, 1, 'endts where sysprint has none')
  t.true(cmp(good.replace(', "endts_uts": null', '')).length >= 1, 'a missing key')
})

if (!refDir || !traceDir) {
  test.skip('flatjson/json against sysprint: SKIPPED, ../shared/reference/sysprint or ../shared/traces not found', () => {})
} else {
  const refs = references(refDir, traceDir)

  test('sysprint references were found for both formats', (t) => {
    t.true(refs.some((r) => r.format === 'flatjson'))
    t.true(refs.some((r) => r.format === 'json'))
  })

  for (const ref of refs) {
    test(`sysprint ${ref.format}: ${ref.name}`, async (t) => {
      t.true(fs.existsSync(ref.trace), `trace ${ref.trace} for ${ref.name} is missing`)
      let out = ''
      const sink: ByteOutput = {write: (s) => void (out += s)}
      const warnings: ReadWarning[] = []
      const errors: TraceError[] = []
      await printRecords([fileInput(ref.trace)], sink, {format: ref.format, onWarning: (w) => warnings.push(w), onError: (e) => errors.push(e)})
      t.deepEqual(warnings, [])
      t.deepEqual(errors, [])
      t.true(out.endsWith('\n'), 'every line ends with a newline')
      const ourLines = out.split('\n').slice(0, -1)
      const refLines = readLines(ref.file)
      t.true(refLines.length > 0)
      t.is(ourLines.length, refLines.length, 'number of records')

      const diffs: string[] = []
      let compared = 0
      let keys = 0
      const n = Math.min(ourLines.length, refLines.length)
      for (let i = 0; i < n; i++) {
        const ours = parseJsonExact(ourLines[i])
        const theirs = parseJsonExact(refLines[i])
        // Our parser must read the reference as JSON.parse does (but for the big integers it keeps exact).
        if (!isDeepStrictEqual(lossy(theirs), JSON.parse(refLines[i]))) diffs.push(`record ${i + 1}: exact parse disagrees with JSON.parse`)
        if (!isDeepStrictEqual(lossy(ours), JSON.parse(ourLines[i]))) diffs.push(`record ${i + 1}: our line is not the JSON the exact parser read`)
        if (!isObject(ours) || !isObject(theirs)) {
          diffs.push(`record ${i + 1}: not a JSON object`)
          continue
        }
        keys += Object.keys(theirs).length
        for (const d of compareRecord(ours, theirs)) if (diffs.length < 50) diffs.push(`record ${i + 1}: ${d}`)
        compared++
      }
      t.deepEqual(diffs, [], `differences from sysprint in ${ref.name}`)
      t.is(compared, refLines.length)
      t.log(`${ref.name}: ${compared} records compared (${keys} top-level keys)`)
    })
  }
}
