// Conformance on the real traces: for every line of ../shared/traces/manifest.jsonl, the reader must find exactly
// the manifest's record counts per type, the first and last event timestamps (exact int64), the header version and
// the codec, without a single warning.
import fs from 'node:fs'
import path from 'node:path'
import test from 'ava'
import {fileInput, readTrace, ReadStats} from '../src/format/reader.js'
import {ReadWarning} from '../src/format/errors.js'
import {Kind, KIND_ABBREV, SysFlowRecord} from '../src/format/records.js'
import {parseManifestLine, sharedManifest} from './helpers/manifest.js'
import {sharedDir} from './helpers/shared.js'
import {parseContainer} from './helpers/tiny-trace.js'

/** Event and flow records carry the timestamps the manifest's first_ts/last_ts are taken over. */
function isEventKind(k: Kind): boolean {
  return k >= Kind.ProcessEvent && k !== Kind.Pod
}

test('manifest parsing keeps first_ts/last_ts exact', (t) => {
  const e = parseManifestLine('{"path": "a.sf", "version": 5, "codec": "deflate", "records": 1, "counts": {"H": 1}, "first_ts": 1553543280704111050, "last_ts": 9223372036854775807}')
  t.is(e.firstTs, 1553543280704111050n)
  t.is(e.lastTs, 9223372036854775807n)
  t.not(BigInt(Number(e.firstTs)), e.firstTs, 'the value really is beyond what a double holds exactly')
})

const traces = sharedDir('traces')
const entries = sharedManifest()

if (!traces || !entries) {
  test.skip('conformance on real traces: SKIPPED, ../shared/traces/manifest.jsonl not found', () => {})
} else {

  test('the manifest lists traces', (t) => {
    t.true(entries.length > 0)
  })

  for (const entry of entries) {
    test(`conformance: ${entry.path}`, async (t) => {
      const file = path.join(traces, entry.path)
      t.true(fs.existsSync(file), `${entry.path} is in the manifest but not on disk`)
      const warnings: ReadWarning[] = []
      const stats = new ReadStats()
      const counts: Record<string, number> = {}
      let total = 0
      let first: SysFlowRecord | undefined
      let minTs: bigint | undefined
      let maxTs: bigint | undefined
      for await (const batch of readTrace(fileInput(file), {onWarning: (w) => warnings.push(w)}, stats)) {
        t.is(batch.file, file)
        for (const r of batch.records) {
          first ??= r
          total++
          const abbrev = KIND_ABBREV[r.kind]
          counts[abbrev] = (counts[abbrev] ?? 0) + 1
          if (isEventKind(r.kind)) {
            const ts = (r as {ts: bigint}).ts
            t.is(typeof ts, 'bigint')
            if (minTs === undefined || ts < minTs) minTs = ts
            if (maxTs === undefined || ts > maxTs) maxTs = ts
          }
        }
      }
      t.deepEqual(warnings, [], 'no warnings on a sound trace')
      t.deepEqual(counts, entry.counts, 'records per type')
      t.is(total, entry.records, 'total records')
      t.is(stats.records, entry.records, 'ReadStats.records')
      t.is(stats.skippedBlocks, 0)
      t.is(stats.skippedRecords, 0)
      t.is(stats.bytes, fs.statSync(file).size, 'every byte was read')
      t.is(minTs, entry.firstTs, 'first event ts')
      t.is(maxTs, entry.lastTs, 'last event ts')
      t.is(first?.kind, Kind.Header, 'the first record is the SFHeader')
      t.is(first?.kind === Kind.Header ? first.version : undefined, BigInt(entry.version), 'header version')
      t.is(parseContainer(fs.readFileSync(file)).codec, entry.codec, 'codec')
    })
  }
}
