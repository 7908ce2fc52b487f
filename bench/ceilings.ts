// Child process of the bench: what single parts of a stage cost on their own, so that the notes can say what a
// target would need (figures for notes, never for tests). Prints JSON on the last line of stdout.
//   node dist/bench/ceilings.js render FILE FORMAT   rendering alone: joined records held in memory, rendered
//                                                    into a reused buffer, output discarded (best of 3 passes)
//   node dist/bench/ceilings.js scan FILE            the loader's reading half alone: read, join and build the
//                                                    narrow batches that `query` ingests, ingesting nothing
//   node dist/bench/ceilings.js ingest FILE          the loader's ingest half alone: the narrow batches built and
//                                                    held first, then only their appends, close and commit timed
//   node dist/bench/ceilings.js parquet FILE         DuckDB's Parquet writer alone: the trace's events loaded
//                                                    into a table first, then only the COPY is timed, on as many
//                                                    DuckDB threads as there are cores (the export's options)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Joined} from '../src/format/join.js'
import {joinedBatches, PipelineStats} from '../src/format/pipeline.js'
import {ByteBuilder} from '../src/format/printers/bytes.js'
import {csvLine} from '../src/format/printers/csv.js'
import {flatJsonLine, nestedJsonLine} from '../src/format/printers/json.js'
import {chooseColumns} from '../src/format/printers/print.js'
import {fileInput} from '../src/format/reader.js'
import type {NarrowBatch} from '../src/format/arrow/index.js'
import {loadTraces, QuerySession} from '../src/query/index.js'
import {defaultDecode, scanTraces} from '../src/query/scan.js'
import {SourceMaps} from '../src/query/ingest.js'
import {lit} from '../src/query/ddl.js'
import {parquetFileOptions} from '../src/query/export.js'

/** Records rendered per pass: enough to spread over many processes and files, small enough to hold. */
const RENDER_RECORDS = 500_000

async function render(file: string, format: 'csv' | 'json' | 'flatjson'): Promise<object> {
  const held: Joined[] = []
  const stats = new PipelineStats()
  for await (const batch of joinedBatches([fileInput(file)], {}, stats)) {
    for (const j of batch) if (held.length < RENDER_RECORDS) held.push(j)
    if (held.length >= RENDER_RECORDS) break
  }
  const cols = chooseColumns(format)
  const line = format === 'csv' ? csvLine(cols) : format === 'json' ? nestedJsonLine(cols) : flatJsonLine(cols)
  const b = new ByteBuilder(1 << 22)
  let best = Infinity
  let bytes = 0
  for (let pass = 0; pass < 3; pass++) {
    bytes = 0
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < held.length; i++) {
      line(held[i], b)
      if (b.pos > 1 << 21) {
        bytes += b.pos
        b.reset()
      }
    }
    bytes += b.pos
    b.reset()
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9)
  }
  return {records: held.length, seconds: best, bytes, bytesPerRecord: Math.round(bytes / held.length), maxRssKiB: process.resourceUsage().maxRSS}
}

async function scan(file: string): Promise<object> {
  const stats = new PipelineStats()
  let events = 0
  const t0 = process.hrtime.bigint()
  // The path the loader takes for this file in one thread.
  const decode = defaultDecode(fs.statSync(file).size)
  await scanTraces([fileInput(file)], {decode}, stats, async (b, builder) => {
    events += b.events
    builder.recycle()
  })
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  return {decode, records: Object.values(stats.counts).reduce((a, b) => a + b, 0), events, seconds, bytes: fs.statSync(file).size, maxRssKiB: process.resourceUsage().maxRSS}
}

async function ingest(file: string): Promise<object> {
  const held: NarrowBatch[] = []
  const stats = new PipelineStats()
  await scanTraces([fileInput(file)], {decode: defaultDecode(fs.statSync(file).size)}, stats, (b) => void held.push(b))
  const session = await QuerySession.open()
  try {
    await session.connection.run('BEGIN TRANSACTION')
    const ingester = await session.ingester()
    const maps = new SourceMaps()
    const c0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    for (const b of held) await ingester.add(b, maps)
    ingester.close()
    await session.checkKeys()
    await session.connection.run('COMMIT')
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const cpu = process.cpuUsage(c0)
    const events = held.reduce((a, b) => a + b.events, 0)
    return {records: Object.values(stats.counts).reduce((a, b) => a + b, 0), events, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssKiB: process.resourceUsage().maxRSS}
  } finally {
    session.close()
  }
}

async function parquet(file: string): Promise<object> {
  const threads = os.cpus().length
  const session = await QuerySession.open({threads})
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-bench-ceiling-'))
  try {
    const load = await loadTraces(session, [fileInput(file)], {workers: 0})
    const c = session.connection
    await c.run('SET preserve_insertion_order = false')
    await c.run('CREATE TEMP TABLE materialized AS SELECT * FROM events')
    const out = path.join(dir, 'out.parquet')
    const t0 = process.hrtime.bigint()
    await c.run(`COPY materialized TO ${lit(out)} (${parquetFileOptions('zstd')})`)
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    // records: every record of the trace, as the convert stage counts them; rows: the event rows written.
    return {records: load.records, rows: load.events, seconds, threads, bytes: fs.statSync(file).size, maxRssKiB: process.resourceUsage().maxRSS}
  } finally {
    session.close()
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

const [mode, file, format] = process.argv.slice(2)
const modes: Record<string, () => Promise<object>> = {
  render: () => render(file, (format ?? 'csv') as 'csv'),
  scan: () => scan(file),
  ingest: () => ingest(file),
  parquet: () => parquet(file),
}
if (!file || !modes[mode]) throw new Error('usage: ceilings.js render FILE csv|json|flatjson | scan FILE | ingest FILE | parquet FILE')
const result = await modes[mode]()
process.stdout.write(JSON.stringify(result) + '\n')
