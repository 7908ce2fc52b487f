// The Arrow layer: the events schema from the catalogue, wide record batches equal to value(), Arrow IPC round
// trips, the column buffers on random data, and the narrow builder's tables.
import path from 'node:path'
import test from 'ava'
import {Bool, Field, Int32, Int64, List, RecordBatch, Table, tableFromIPC, tableToIPC, TimestampNanosecond, Utf8, Vector} from 'apache-arrow'
import {ATTRIBUTES} from '../src/format/attributes.js'
import {EVENT_COLUMNS, eventsRecordBatch, eventsSchema, makeBuffer, NarrowBuilder, narrowPlan} from '../src/format/arrow/index.js'
import {foidWords} from '../src/format/arrow/narrow.js'
import {Joined} from '../src/format/join.js'
import {joinedBatches} from '../src/format/pipeline.js'
import {fileInput, readTrace} from '../src/format/reader.js'
import {Kind} from '../src/format/records.js'
import {Rng} from './helpers/prng.js'
import {sharedPath} from './helpers/shared.js'
import fs from 'node:fs'

const FIXTURES = ['v1000ms.sf', 'v1001.sf', 'v2.sf', 'v3.sf', 'v4.sf', 'v5.sf', 'hostile.sf', 'multiblock.sf'].map((f) => path.resolve('test/fixtures', f))
// Real traces with many records in a row sharing entities (what the wide builder's reuse of values relies on).
const REAL = ['sysflow/sf-processor/k8s_small.sf', 'collector/namespaces/setns.sf', 'sysflow/sf-apis/attacks/express/mon.1531776712.sf'].map((f) => sharedPath('traces', f))

async function joined(file: string): Promise<Joined[]> {
  const out: Joined[] = []
  for await (const b of joinedBatches([fileInput(file)])) out.push(...b)
  return out
}

/** An Arrow cell as a plain value (lists as arrays). */
function plain(v: unknown): unknown {
  if (v instanceof Vector) return [...v].map(plain)
  return v
}
const norm = (v: unknown): unknown => (v === undefined ? null : Array.isArray(v) ? v.map(norm) : v)

test('eventsSchema: one column per sf.* attribute, named without sf. and with _, plus time after ts', (t) => {
  const schema = eventsSchema()
  const sf = ATTRIBUTES.filter((a) => a.sf).map((a) => a.sf!.slice(3).replace(/\./g, '_'))
  const names = schema.fields.map((f) => f.name)
  t.deepEqual(names.filter((n) => n !== 'time'), sf)
  t.is(names.indexOf('time'), names.indexOf('ts') + 1)
  for (const n of ['type', 'opflags', 'ret', 'ts', 'endts', 'proc_exe', 'proc_args', 'pproc_pid', 'file_path', 'net_sip', 'net_dport', 'flow_rbytes', 'container_id', 'pod_name', 'ke_message']) t.true(names.includes(n), n)
  const type = (n: string) => schema.fields.find((f) => f.name === n)!
  t.true(type('ts').type instanceof Int64)
  t.true(type('time').type instanceof TimestampNanosecond)
  t.true(type('ret').type instanceof Int32)
  t.true(type('proc_tty').type instanceof Bool)
  t.true(type('proc_exe').type instanceof Utf8)
  t.true(type('opflags').type instanceof List && (type('opflags').type as List).children[0].type instanceof Utf8)
  t.true(type('proc_apid').type instanceof List && (type('proc_apid').type as List).children[0].type instanceof Int64)
  t.is(type('pod_services').metadata.get('ARROW:extension:name'), 'arrow.json')
  t.is(type('ke_message').metadata.get('ARROW:extension:name'), 'arrow.json')
})

for (const file of [...FIXTURES, ...REAL]) {
  const name = file.startsWith(sharedPath()) ? path.relative(sharedPath(), file) : path.basename(file)
  if (!fs.existsSync(file)) {
    test.skip(`eventsRecordBatch equals value(): ${name}: SKIPPED, ../shared/traces not found`, () => {})
    continue
  }
  test(`eventsRecordBatch equals value() for every column and record: ${name}`, async (t) => {
    const js = await joined(file)
    const rb = eventsRecordBatch(js)
    t.is(rb.numRows, js.length)
    for (const [ci, c] of EVENT_COLUMNS.entries()) {
      const col = rb.getChildAt(ci)!
      for (const [ri, j] of js.entries()) {
        if (c.attr === undefined) {
          // apache-arrow's get() gives timestamps as (lossy) milliseconds; the stored int64 nanoseconds are exact.
          t.is((col.data[0].values as BigInt64Array)[ri], j.rec.ts, `time of record ${ri}`)
          continue
        }
        t.deepEqual(norm(plain(col.get(ri))), norm(c.attr.value(j)), `${c.name} of record ${ri}`)
      }
    }
    // Arrow IPC (stream and file) gives the same batch back.
    for (const format of ['stream', 'file'] as const) {
      const back = tableFromIPC(tableToIPC(new Table([rb]), format))
      t.is(back.numRows, rb.numRows)
      for (const [ci, c] of EVENT_COLUMNS.entries()) {
        const cells = (v: Vector) => Array.from({length: v.length}, (_, i) => (c.attr === undefined ? (v.data[0].values as BigInt64Array)[v.data[0].offset + i] : plain(v.get(i))))
        t.deepEqual(cells(back.getChildAt(ci)!), cells(rb.getChildAt(ci)!), `${format}: ${c.name}`)
      }
    }
  })
}

test('eventsRecordBatch keeps int64 values above 2^53 exact', async (t) => {
  const js = await joined(FIXTURES[5])
  const rb = eventsRecordBatch(js)
  const ts = rb.getChild('ts')!
  t.is(typeof ts.get(0), 'bigint')
  t.is(ts.get(0), js[0].rec.ts)
  t.not(BigInt(Number(js[0].rec.ts)), js[0].rec.ts, 'beyond what a double holds')
  const rbytes = rb.getChild('flow_rbytes')!
  t.true([...rbytes].includes(5_000_000_000n))
})

test('an empty batch has the schema and no rows', (t) => {
  const rb = eventsRecordBatch([])
  t.is(rb.numRows, 0)
  t.is(rb.schema.fields.length, EVENT_COLUMNS.length)
})

const KINDS = ['int32', 'uint32', 'int64', 'bool', 'utf8', 'list<int32>', 'list<int64>', 'list<utf8>'] as const
for (const seed of [1, 2, 3]) {
  test(`column buffers round-trip random data with nulls (seed ${seed})`, (t) => {
    const rng = new Rng(seed)
    for (const kind of KINDS) {
      const buf = makeBuffer(kind, 4)
      const n = rng.int(0, 300)
      const scalar = (): unknown => {
        if (kind.includes('int64')) return BigInt.asIntN(64, BigInt(rng.int(-1e9, 1e9)) * 9_007_199_254_740_993n)
        if (kind.includes('utf8')) return rng.pick(['', 'a', 'é', '日本', '😀x', 'a\u0000b', 'long '.repeat(rng.int(0, 20))])
        if (kind === 'bool') return rng.next() < 0.5
        if (kind === 'uint32') return rng.int(0, 0x7fffffff)
        return rng.int(-(2 ** 31), 2 ** 31 - 1)
      }
      const values = Array.from({length: n}, () => (rng.next() < 0.2 ? null : kind.startsWith('list') ? Array.from({length: rng.int(0, 4)}, scalar) : scalar()))
      for (const v of values) buf.push(v)
      const data = buf.finish()
      const rb = new RecordBatch({x: data})
      t.deepEqual([...rb.getChild('x')!].map(plain), values, kind)
      t.is(buf.length, 0, 'finish() empties the buffer')
    }
  })
}

for (const seed of [4, 5]) {
  test(`utf8 buffer: runs of NULLs pushed at once (across byte boundaries), values between them, reused after finish (seed ${seed})`, (t) => {
    const rng = new Rng(seed)
    const buf = makeBuffer('utf8', 4)
    for (let round = 0; round < 3; round++) {
      const values: (string | null)[] = []
      const n = rng.int(0, 40)
      for (let k = 0; k < n; k++) {
        if (rng.next() < 0.5) {
          const run = rng.int(0, 20)
          buf.pushNulls!(run)
          for (let i = 0; i < run; i++) values.push(null)
        } else {
          const v = rng.next() < 0.2 ? null : rng.pick(['', 'a', 'é', '日本', '\ud800', 'x\udc00y', 'a\u0000b', 'long '.repeat(rng.int(0, 9))])
          buf.push(v)
          values.push(v)
        }
      }
      const data = buf.finish()
      t.is(data.nullCount, values.filter((v) => v === null).length)
      const rb = new RecordBatch({x: data})
      // Lone surrogates come back as U+FFFD (UTF-8 cannot hold them), as Buffer.from gives.
      t.deepEqual([...rb.getChild('x')!], values.map((v) => (v === null ? null : Buffer.from(v, 'utf8').toString('utf8'))), `round ${round}`)
    }
  })
}

test('int64 buffer: values pushed as 32-bit words are the same longs as pushed as bigints', (t) => {
  const longs = [0n, -1n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 1_700_000_000_123_456_789n, -(2n ** 32n)]
  const a = makeBuffer('int64', 2)
  const b = makeBuffer('int64', 2) as ReturnType<typeof makeBuffer> & {pushWords(lo: number, hi: number): void}
  const words = new Int32Array(new BigInt64Array(longs).buffer)
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < longs.length; i++) {
      a.push(longs[i])
      b.pushWords(words[2 * i], words[2 * i + 1])
      if (i % 3 === 1) {
        a.push(null)
        b.push(null)
      }
    }
  }
  t.deepEqual([...new RecordBatch({x: b.finish()}).getChild('x')!], [...new RecordBatch({x: a.finish()}).getChild('x')!])
})

test('foidWords: 40 hex digits as five 32-bit words, anything else refused', (t) => {
  const hex = '8d57b8c6a1b2c3d4e5f60718293a4b5c6d7e86da'
  const w = foidWords(hex)!
  t.is(w.map((x) => (x >>> 0).toString(16).padStart(8, '0')).join(''), hex)
  t.is(foidWords(hex.toUpperCase()), undefined)
  t.is(foidWords(hex.slice(1)), undefined)
  t.is(foidWords('g'.repeat(40)), undefined)
})

test('narrow plan: every events column is stored once (fact, shape) or derived by the consumer', (t) => {
  const all = new Set(ATTRIBUTES.filter((a) => a.sf).map((a) => a.sf!))
  const nothing = narrowPlan(new Set())
  t.is(nothing.storage.size, EVENT_COLUMNS.length)
  // Without a consumer that derives anything, every attribute is stored (per record or per shape).
  t.is([...nothing.storage.values()].filter((s) => s.at === 'derived').length, 1, 'only time')
  const everything = narrowPlan(all)
  t.is(everything.generic.length, 0)
  t.deepEqual(everything.shape, [])
  const fact = everything.tables.find((x) => x.name === '_events')!
  t.true(fact.columns.every((c) => c.kind !== 'utf8' && c.kind !== 'list<utf8>'), 'the fact table is fixed-width only')
})

test('narrow builder: entity rows for every entity record, dense keys, interned strings, one context per process', async (t) => {
  const file = FIXTURES[5]
  const b = new NarrowBuilder(new Set(ATTRIBUTES.filter((a) => a.sf && !['sf.type', 'sf.ke.message'].includes(a.sf)).map((a) => a.sf!)))
  b.setTrace(file)
  const raw: number[] = new Array(12).fill(0)
  const {JoinTables} = await import('../src/format/join.js')
  const tables = new JoinTables()
  for await (const batch of readTrace(fileInput(file))) {
    const out: Joined[] = []
    for (const r of batch.records) {
      raw[r.kind]++
      if (r.kind >= Kind.ProcessEvent && r.kind !== Kind.Pod) out.push(tables.join(r as never))
      else {
        tables.add(r)
        b.addEntity(r)
      }
    }
    b.addJoined(out)
  }
  const nb = b.take()
  const rows = Object.fromEntries(nb.tables.map((x) => [x.name, x.batch]))
  t.is(rows._headers.numRows, raw[Kind.Header])
  t.is(rows._processes.numRows, raw[Kind.Process])
  t.is(rows._files.numRows, raw[Kind.File])
  t.is(rows._containers.numRows, raw[Kind.Container])
  t.is(rows._pods.numRows, raw[Kind.Pod])
  t.is(rows._k8s_events.numRows, raw[Kind.K8sEvent])
  t.is(rows._events.numRows, nb.events)
  for (const name of ['_headers', '_processes', '_files', '_ctx', '_shape']) {
    t.deepEqual([...rows[name].getChild('key')!], Array.from({length: rows[name].numRows}, (_, i) => i + 1), `${name} keys are dense`)
  }
  t.true(rows._ctx.numRows <= raw[Kind.Process] + 1)
  t.is(nb.strings.first, 1)
  t.true(nb.strings.values.includes('/usr/bin/curl'))
  // Nothing waits after take().
  const again = b.take()
  t.deepEqual([again.tables.length, again.strings.values.length, again.events], [0, 0, 0])
  t.is(new Field('x', new Int32()).name, 'x')
})
