// Regenerates test/fixtures/*.sf with the project's own writer: `npm run fixtures`.
// One trace per schema version the reader supports (every record type the version has), the v5 trace in every
// codec, a hostile trace (control characters and ANSI escapes in trace strings) and a multi-block trace.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {Kind, SysFlowRecord} from '../src/format/records.js'
import {SCHEMA_VERSIONS, SchemaVersion} from '../src/format/schema.js'
import {fileSink, TraceWriter, WriterOptions} from '../src/format/writer.js'
import {fixtureRecords, foid} from './fixture-records.js'
import {variants, writeVariant} from './variant-fixtures.js'

/** A sync marker derived from the file name, so regenerating gives the same bytes. */
const syncFor = (name: string) => crypto.createHash('sha1').update(`sysflow-fixture:${name}`).digest().subarray(0, 16)

async function write(dir: string, name: string, records: SysFlowRecord[], opts: WriterOptions): Promise<void> {
  const w = new TraceWriter(fileSink(path.join(dir, name)), {...opts, sync: syncFor(name)})
  for (const r of records) await w.write(r)
  await w.close()
}

/** Strings an attacker controls in a trace: paths, args and names with escapes and control characters. */
export function hostileRecords(): SysFlowRecord[] {
  const recs = fixtureRecords('5')
  const evil = '\u001b[31mred\u001b[0m\r\n\u0007\u0000tab\there'
  return recs.map((r) => {
    if (r.kind === Kind.Process && r.exe === '/usr/bin/curl') return {...r, exe: `/tmp/${evil}`, exeArgs: `--x ${evil}`}
    if (r.kind === Kind.File && r.path === '/etc/hosts') return {...r, path: `/etc/${evil}`, oid: foid(r.containerId, '/etc/hosts')}
    return r
  })
}

/** Enough FileFlow records to span several blocks at a small block size. */
export function multiBlockRecords(): SysFlowRecord[] {
  const recs = fixtureRecords('5')
  const ff = recs.find((r) => r.kind === Kind.FileFlow)!
  const extra: SysFlowRecord[] = []
  if (ff.kind !== Kind.FileFlow) throw new Error('fixture has no FileFlow')
  for (let i = 1; i <= 200; i++) extra.push({...ff, ts: ff.ts + BigInt(i) * 1_000_000n, endTs: ff.endTs! + BigInt(i) * 1_000_000n, fd: 3 + (i % 7), numRRecvBytes: BigInt(i)})
  return [...recs, ...extra]
}

export async function makeFixtures(dir: string): Promise<string[]> {
  fs.mkdirSync(dir, {recursive: true})
  const names: string[] = []
  for (const v of SCHEMA_VERSIONS) {
    const name = `v${v}.sf`
    await write(dir, name, fixtureRecords(v as SchemaVersion), {schema: v})
    names.push(name)
  }
  for (const codec of ['null', 'snappy'] as const) {
    await write(dir, `v5-${codec}.sf`, fixtureRecords('5'), {codec})
    names.push(`v5-${codec}.sf`)
  }
  await write(dir, 'hostile.sf', hostileRecords(), {})
  await write(dir, 'multiblock.sf', multiBlockRecords(), {blockBytes: 2048})
  names.push('hostile.sf', 'multiblock.sf')
  // Writer schemas that are not ours (schema resolution): test/fixtures/variants/.
  fs.mkdirSync(path.join(dir, 'variants'), {recursive: true})
  for (const v of variants()) {
    writeVariant(path.join(dir, 'variants', v.name), v)
    names.push(`variants/${v.name}`)
  }
  return names
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  const dir = path.resolve(process.argv[2] ?? 'test/fixtures')
  const names = await makeFixtures(dir)
  console.log(`wrote ${names.length} fixtures to ${dir}: ${names.join(', ')}`)
}
