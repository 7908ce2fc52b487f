// Conformance of `sysflow query` on the real traces: for every line of ../shared/traces/manifest.jsonl,
// `select type, count(*) from events group by type` gives the manifest's event and flow counts, the entity tables
// hold its entity counts, and min(ts)/max(ts) are its first and last timestamps exactly (int64, beyond 2^53).
import path from 'node:path'
import test from 'ava'
import {fileInput} from '../src/format/reader.js'
import {loadTraces, QuerySession} from '../src/query/index.js'
import {sharedManifest} from './helpers/manifest.js'
import {sharedDir} from './helpers/shared.js'

const EVENT_TYPES = ['PE', 'NF', 'FF', 'FE', 'NE', 'PF', 'KE']
const ENTITY_TABLES: Record<string, string> = {H: 'headers', C: 'containers', P: 'processes', F: 'files', POD: 'pods'}

async function rows(s: QuerySession, sql: string): Promise<unknown[][]> {
  return (await s.connection.runAndReadAll(sql)).getRows()
}

const traces = sharedDir('traces')
const entries = sharedManifest()

if (!traces || !entries) {
  test.skip('query conformance on real traces: SKIPPED, ../shared/traces not found', () => {})
} else {

  for (const entry of entries) {
    test(`query conformance: ${entry.path}`, async (t) => {
      const session = await QuerySession.open()
      try {
        const warnings: string[] = []
        const load = await loadTraces(session, [fileInput(path.join(traces, entry.path))], {workers: 0, onWarning: (w) => warnings.push(w.message)})
        t.deepEqual(load.counts, entry.counts, 'the loader read the manifest counts')
        t.is(load.records, entry.records)

        const byType = Object.fromEntries((await rows(session, 'SELECT type, count(*) FROM events GROUP BY type')).map(([k, n]) => [k as string, Number(n)]))
        const expected = Object.fromEntries(Object.entries(entry.counts).filter(([k]) => EVENT_TYPES.includes(k)))
        t.deepEqual(byType, expected, 'select type, count(*) from events group by type')

        for (const [abbrev, table] of Object.entries(ENTITY_TABLES)) {
          const [[n]] = await rows(session, `SELECT count(*) FROM ${table}`)
          t.is(Number(n), entry.counts[abbrev] ?? 0, `rows of ${table}`)
        }
        const [[ke]] = await rows(session, 'SELECT count(*) FROM k8s_events')
        t.is(Number(ke), entry.counts.KE ?? 0, 'rows of k8s_events')

        const [[min, max]] = await rows(session, 'SELECT min(ts), max(ts) FROM events')
        t.is(typeof min, 'bigint', 'ts is BIGINT: read back as a bigint')
        t.is(min, entry.firstTs, 'min(ts) is the first timestamp, exactly')
        t.is(max, entry.lastTs, 'max(ts) is the last timestamp, exactly')
        const [[off]] = await rows(session, 'SELECT count(*) FROM events WHERE time IS NULL OR epoch_ns(time) <> ts')
        t.is(Number(off), 0, 'time is the instant of ts, to the nanosecond')
        const [[trace]] = await rows(session, 'SELECT DISTINCT trace FROM headers')
        t.is(trace, path.join(traces, entry.path), 'entity rows name the trace they came from')
      } finally {
        session.close()
      }
    })
  }

  test('query conformance: every trace loaded into one database', async (t) => {
    const session = await QuerySession.open()
    try {
      await loadTraces(session, entries.map((e) => fileInput(path.join(traces, e.path))), {workers: 0})
      const total: Record<string, number> = {}
      for (const e of entries) for (const [k, n] of Object.entries(e.counts)) if (EVENT_TYPES.includes(k)) total[k] = (total[k] ?? 0) + n
      const byType = Object.fromEntries((await rows(session, 'SELECT type, count(*) FROM events GROUP BY type')).map(([k, n]) => [k as string, Number(n)]))
      t.deepEqual(byType, total)
      const perTrace = await rows(session, 'SELECT trace, count(*) FROM processes GROUP BY trace')
      t.is(perTrace.length, entries.filter((e) => e.counts.P).length)
      const [[min, max]] = await rows(session, 'SELECT min(ts), max(ts) FROM events')
      t.is(min, entries.reduce((m, e) => (e.firstTs < m ? e.firstTs : m), entries[0].firstTs))
      t.is(max, entries.reduce((m, e) => (e.lastTs > m ? e.lastTs : m), entries[0].lastTs))
    } finally {
      session.close()
    }
  })
}
