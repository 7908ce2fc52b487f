// The Parquet export keeps the rows of processes, files and contexts in per-slice chunks and drops those no slice
// left to write can reference (entities belong to one header or input): the chunk bookkeeping on its own, and an
// export of many generations that reuse the same process and file identities with other values, sliced so that
// slices span generations and generations span slices, against the events view row for row.
import path from 'node:path'
import test from 'ava'
import {joinedBatches} from '../src/format/pipeline.js'
import {recordsInput, TraceInput} from '../src/format/reader.js'
import {Kind, SysFlowRecord} from '../src/format/records.js'
import {Joined} from '../src/format/join.js'
import {Chunks, PARQUET_TIME} from '../src/query/export.js'
import {exportParquet, loadTraces, QuerySession} from '../src/query/index.js'
import {withDuck} from './helpers/duck.js'
import {withTempDir} from './helpers/tmp.js'
import {fixtureRecords} from '../scripts/fixture-records.js'

/** Joined records standing for `n` records of header object `h` (only `header` is read by Chunks). */
const recs = (h: object, n: number): Joined[] => Array.from({length: n}, () => ({header: h}) as unknown as Joined)
const src = (c: Record<string, string>): string => c._processes

test('Chunks: a slice reads the chunks from where its oldest generation began; chunks are dropped once nothing left needs them', (t) => {
  const c = new Chunks()
  const [a, b, d] = [{}, {}, {}]
  c.observe(recs(a, 3), 0)
  t.is(src(c.end(0)), '"_processes_0"')
  // Generation b begins in slice 1: slice 1 still has records of a (from chunk 0).
  c.observe(recs(a, 1), 1)
  c.observe(recs(b, 2), 1)
  t.is(src(c.end(1)), '(SELECT * FROM "_processes_0" UNION ALL SELECT * FROM "_processes_1")')
  t.deepEqual(c.droppable(), [])
  // Slice 2 has records of b only, whose entities were ingested from chunk 1 on.
  c.observe(recs(b, 3), 2)
  t.is(src(c.end(2)), '(SELECT * FROM "_processes_1" UNION ALL SELECT * FROM "_processes_2")')
  c.written(1)
  t.deepEqual(c.droppable(), [], 'slice 0 is still being written')
  c.written(0)
  t.deepEqual(c.droppable(), [0])
  c.written(2)
  t.deepEqual(c.droppable(), [], 'the loading slice 3 may reference b, whose entities began in chunk 1')
  // Generation d (a new input without a header, or a new header) begins in slice 3.
  c.observe(recs(d, 1), 3)
  t.is(src(c.end(3)), '(SELECT * FROM "_processes_1" UNION ALL SELECT * FROM "_processes_2" UNION ALL SELECT * FROM "_processes_3")')
  c.written(3)
  t.deepEqual(c.droppable(), [1, 2])
  t.deepEqual(c.droppable(), [], 'each chunk once')
  // Records without a header at all are one generation.
  const u = new Chunks()
  u.observe(recs(undefined as unknown as object, 2), 0)
  u.end(0)
  u.observe(recs(undefined as unknown as object, 2), 1)
  t.is(src(u.end(1)), '(SELECT * FROM "_processes_0" UNION ALL SELECT * FROM "_processes_1")')
  u.written(0)
  u.written(1)
  t.deepEqual(u.droppable(), [])
})

/**
 * `rounds` copies of the v5 fixture, each under its own header, with the same process and file OIDs but other
 * executables, paths and arguments per round: a slice that read another generation's entities would show them.
 */
function generations(rounds: number): SysFlowRecord[] {
  const out: SysFlowRecord[] = []
  for (let r = 0; r < rounds; r++) {
    for (const rec of fixtureRecords('5')) {
      if (rec.kind === Kind.Header) out.push({...rec, filename: `round-${r}`})
      else if (rec.kind === Kind.Process) out.push({...rec, exe: `${rec.exe}-r${r}`, exeArgs: `round ${r}`})
      else if (rec.kind === Kind.File) out.push({...rec, path: `${rec.path}.r${r}`})
      else out.push(rec)
    }
  }
  return out
}

const input = (records: SysFlowRecord[]): TraceInput => recordsInput('generations', async function* () {
  yield records
})

for (const slice of [2, 5, 13]) {
  test(`exportParquet of many generations reusing process and file ids, slices of ${slice}: the events view row for row`, (t) =>
    withTempDir(async (dir) => {
      const records = generations(9)
      const file = path.join(dir, 'g.parquet')
      const r = await exportParquet(joinedBatches([input(records)]), file, {sliceRecords: slice})
      const s = await QuerySession.open()
      let expected: string[]
      try {
        await loadTraces(s, [input(records)], {workers: 0})
        // as the export writes it: `time` in microseconds
        expected = (await s.connection.runAndReadAll(`SELECT to_json(e)::VARCHAR FROM (SELECT * REPLACE (${PARQUET_TIME} AS time) FROM events) e`)).getRows().map((x) => x[0] as string)
      } finally {
        s.close()
      }
      t.is(r.records, expected.length)
      t.is(r.records, 9 * 11)
      await withDuck(async (c) => {
        t.deepEqual((await c.runAndReadAll(`SELECT to_json(e)::VARCHAR FROM read_parquet('${file}') e`)).getRows().map((x) => x[0] as string), expected)
        // Each round's rows carry that round's process values, and no row lost its process.
        const byRound = (await c.runAndReadAll(`SELECT regexp_extract(proc_exe, '-r(\\d+)$', 1) AS r, count(*), count(DISTINCT proc_args) FROM read_parquet('${file}') WHERE proc_exe IS NOT NULL GROUP BY 1 ORDER BY r::INT`)).getRows().map((x) => x.map(String).join(' '))
        t.is(byRound.length, 9)
        for (const [i, row] of byRound.entries()) t.regex(row, new RegExp(`^${i} \\d+ 1$`))
        const orphans = (await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${file}') WHERE proc_exe IS NULL AND type <> 'KE'`)).getRows()[0][0]
        t.is(Number(orphans), 0)
      })
    }))
}
