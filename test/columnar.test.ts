// The columnar decoder and join (src/format/columnar) against the row path: every record, every joined view, every
// warning and every counter exactly equal, on every fixture, every shared trace, and synthetic traces designed to
// break it (extreme longs, empty and multi-byte strings, input in tiny chunks, many blocks, absent fields, nulls
// in plain fields, schemas that are not ours, headers and entity replacement inside blocks, reused tables).
import fs from 'node:fs'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'
import test, {ExecutionContext} from 'ava'
import {readLong, Sink} from '../src/format/avro/binary.js'
import {readLongWords} from '../src/format/columnar/decode.js'
import {blockRecords, ColumnJoined, joinedColumns, joinedRows, readColumns} from '../src/format/columnar/read.js'
import {ReadWarning} from '../src/format/errors.js'
import {joinedBatches, PipelineStats} from '../src/format/pipeline.js'
import {fileInput, readTrace, TraceInput} from '../src/format/reader.js'
import {Container, FileEvent, FileFlow, Kind, NetworkFlow, Pod, Process, ProcessEvent, ProcessFlow, File as SFFile, SysFlowRecord} from '../src/format/records.js'
import {sysflowSchema} from '../src/format/schema.js'
import {listTraces, sharedDir} from './helpers/shared.js'
import {parseContainer} from './helpers/tiny-trace.js'
import {chunked, container, written} from './helpers/memory-trace.js'

const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x === undefined ? '<undefined>' : x))


interface Compared {
  records: number
  events: number
}

/** Both paths over the same input: records, joined views, warnings, errors and counters exactly equal. */
async function same(t: ExecutionContext, input: () => TraceInput, what: string): Promise<Compared> {
  const rowRecords: unknown[] = []
  const colRecords: unknown[] = []
  const w1: unknown[] = []
  const w2: unknown[] = []
  try {
    for await (const b of readTrace(input(), {onWarning: (w) => w1.push(w)})) rowRecords.push(...b.records)
  } catch (e) {
    w1.push(String(e))
  }
  try {
    for await (const b of readColumns(input(), {onWarning: (w) => w2.push(w)})) {
      colRecords.push(...blockRecords(b.block))
      // The next block reuses this one's tables: what was taken out must not change.
      b.block.recycle()
    }
  } catch (e) {
    w2.push(String(e))
  }
  t.is(colRecords.length, rowRecords.length, `${what}: record count`)
  const bad = rowRecords.findIndex((r, i) => !isDeepStrictEqual(r, colRecords[i]))
  t.is(bad, -1, bad < 0 ? '' : `${what}: record ${bad}: ${show(rowRecords[bad])} vs ${show(colRecords[bad])}`)
  t.deepEqual(w2, w1, `${what}: reader warnings`)

  const j1: unknown[] = []
  const j2: unknown[] = []
  const jw1: unknown[] = []
  const jw2: unknown[] = []
  const s1 = new PipelineStats()
  const s2 = new PipelineStats()
  const opts = (sink: unknown[]) => ({onWarning: (w: ReadWarning) => sink.push(w), onError: (e: Error) => sink.push(String(e))})
  try {
    for await (const b of joinedBatches([input()], opts(jw1), s1)) {
      for (const j of b) {
        const {tables: _tables, ...rest} = j
        j1.push(rest)
      }
    }
  } catch (e) {
    jw1.push(String(e))
  }
  try {
    for await (const b of joinedColumns([input()], opts(jw2), s2)) {
      j2.push(...joinedRows(b))
      b.release()
    }
  } catch (e) {
    jw2.push(String(e))
  }
  t.is(j2.length, j1.length, `${what}: joined count`)
  const jbad = j1.findIndex((r, i) => !isDeepStrictEqual(r, j2[i]))
  if (jbad >= 0) {
    const a = j1[jbad] as Record<string, unknown>
    const b = j2[jbad] as Record<string, unknown>
    t.fail(`${what}: joined ${jbad} differs in ${Object.keys(a).filter((k) => !isDeepStrictEqual(a[k], b[k])).join(', ')}: ${show(a)} vs ${show(b)}`)
  }
  t.deepEqual(jw2, jw1, `${what}: pipeline warnings`)
  t.deepEqual({...s2}, {...s1}, `${what}: counters`)
  return {records: rowRecords.length, events: j1.length}
}

const fixtures = [
  ...fs.readdirSync('test/fixtures').filter((f) => f.endsWith('.sf')).map((f) => path.resolve('test/fixtures', f)),
  ...fs.readdirSync('test/fixtures/variants').filter((f) => f.endsWith('.sf')).map((f) => path.resolve('test/fixtures/variants', f)),
]

test('every fixture (incl. schema variants): columns give exactly the row decoder\'s records and joins', async (t) => {
  t.true(fixtures.length >= 19)
  let records = 0
  for (const f of fixtures) records += (await same(t, () => fileInput(f), path.basename(f))).records
  t.true(records > 400)
})

const traces = sharedDir('traces')
if (traces === undefined) {
  test.skip('every shared trace: SKIPPED, ../shared/traces not found', () => {})
} else {
  test('every shared trace: columns give exactly the row decoder\'s records and joins', async (t) => {
    const files = listTraces(traces)
    t.true(files.length > 0)
    for (const f of files) await same(t, () => fileInput(f), path.relative(traces, f))
  })
}

// --- synthetic traces --------------------------------------------------------------------------------------------

const LONGS = [
  0n, 1n, -1n, 63n, 64n, -64n, -65n, 2n ** 27n - 1n, 2n ** 27n, -(2n ** 27n), -(2n ** 27n) - 1n, 2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), -(2n ** 31n) - 1n,
  2n ** 32n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 1_700_000_000_123_456_789n, -1_700_000_000_123_456_789n, 2n ** 63n - 1n, -(2n ** 63n),
]
const STRINGS = ['', 'a', 'héllo wörld', '日本語のパス/🙂/emoji', 'x'.repeat(31), 'y'.repeat(32), '/very/long/'.repeat(40), '\u0000ctl\u001b[31m', 'ünï'.repeat(11)]
const foid = (i: number) => (i.toString(16).padStart(8, '0') + 'ab'.repeat(16)).slice(0, 40)
const oid = (hpid: bigint, createTS: bigint) => ({hpid, createTS})

/** Records exercising every field type with edge values, entities replaced and resolved in every way. */
function edgeRecords(): SysFlowRecord[] {
  const out: SysFlowRecord[] = [{kind: Kind.Header, version: 5n, exporter: 'edge', ip: '10.0.0.1', filename: 'édge.sf'}]
  const pod: Pod = {
    kind: Kind.Pod, ts: 5n, id: 'pod-1', name: 'p', nodeName: 'n', hostIP: [1n], internalIP: [2n, 3n], namespace: 'ns', restartCount: -(2n ** 40n),
    labels: {a: 'b', ü: '日'}, selectors: {}, services: [{name: 's', id: 'i', namespace: 'n', portList: [{port: 1, targetPort: 2, nodePort: 3, proto: 'TCP'}], clusterIP: [4n]}],
  }
  out.push(pod)
  const ctr: Container = {kind: Kind.Container, id: 'ctr-1', name: '', image: 'img:日本', imageid: 'x'.repeat(64), type: 'CT_DOCKER', privileged: true, podId: 'pod-1'}
  out.push(ctr, {...ctr, id: 'ctr-nopod', podId: null}, {...ctr, id: 'ctr-missingpod', podId: 'nowhere'})
  let n = 0
  for (const [i, v] of LONGS.entries()) {
    const s = STRINGS[i % STRINGS.length]
    const proc: Process = {
      kind: Kind.Process, state: (['CREATED', 'MODIFIED', 'REUP'] as const)[i % 3], oid: oid(v, LONGS[(i + 3) % LONGS.length]),
      poid: i % 4 === 0 ? null : oid(LONGS[(i + 21) % LONGS.length], LONGS[(i + 2) % LONGS.length]), ts: v, exe: s, exeArgs: STRINGS[(i + 1) % STRINGS.length],
      uid: i % 2 ? -1 : 2 ** 31 - 1, userName: s, gid: -(2 ** 31), groupName: '', tty: i % 2 === 0,
      containerId: [null, 'ctr-1', 'ctr-nopod', 'ctr-missingpod', 'ctr-nowhere', ''][i % 6], entry: i % 3 === 0, cwd: s, env: i % 2 ? [] : [s, '', 'K=V'],
    }
    out.push(proc)
    const file: SFFile = {kind: Kind.File, state: 'CREATED', oid: foid(i), ts: -v, restype: i - 10, path: s, containerId: i % 2 ? null : 'ctr-1'}
    out.push(file)
    const base = {procOID: proc.oid, ts: v, tid: -v, opFlags: i * 37}
    const ff: FileFlow = {kind: Kind.FileFlow, ...base, openFlags: i, endTs: v, fileOID: i % 5 === 4 ? foid(9999) : file.oid, fd: -i, numRRecvOps: v, numWSendOps: -v, numRRecvBytes: LONGS[(i + 5) % LONGS.length], numWSendBytes: 0n}
    const nf: NetworkFlow = {kind: Kind.NetworkFlow, ...base, endTs: v, sip: -1, sport: 65535, dip: 2 ** 31 - 1, dport: 0, proto: 6, fd: i, numRRecvOps: 1n, numWSendOps: v, numRRecvBytes: -v, numWSendBytes: v}
    const pe: ProcessEvent = {kind: Kind.ProcessEvent, ...base, args: i % 3 ? [s, ''] : [], ret: -i}
    const fe: FileEvent = {kind: Kind.FileEvent, ...base, fileOID: file.oid, ret: i, newFileOID: [null, file.oid, foid(8888)][i % 3]}
    const pf: ProcessFlow = {kind: Kind.ProcessFlow, procOID: proc.oid, ts: v, numThreadsCloned: v, opFlags: 1, endTs: -v, numThreadsExited: 2n ** 62n, numCloneErrors: -3n}
    out.push(ff, nf, pe, fe, pf)
    // A record of a process never seen, and the same OID exported again (the latest wins).
    out.push({...ff, procOID: oid(v, 12345n)})
    if (i % 5 === 0) out.push({...proc, exe: `${s}-again`}, {...ff, numWSendBytes: 7n})
    // A header now and then: every entity before it is forgotten.
    if (++n % 9 === 0) out.push({kind: Kind.Header, version: 5n, exporter: `edge-${n}`, ip: '', filename: ''})
  }
  out.push({kind: Kind.K8sEvent, component: 'K8S_PODS', action: 'K8S_COMPONENT_ADDED', ts: -(2n ** 63n), message: '{"a":"日本"}\n\u0000'})
  // A cycle of parents: the ancestry stops at the repeat.
  out.push(
    {...(out.find((r) => r.kind === Kind.Process) as Process), oid: oid(77n, 1n), poid: oid(78n, 1n)},
    {...(out.find((r) => r.kind === Kind.Process) as Process), oid: oid(78n, 1n), poid: oid(77n, 1n)},
    {kind: Kind.ProcessFlow, procOID: oid(77n, 1n), ts: 1n, numThreadsCloned: 0n, opFlags: 0, endTs: 2n, numThreadsExited: 0n, numCloneErrors: 0n},
  )
  return out
}


test('synthetic edge values (longs from -2^63 to 2^63-1, empty/unicode/long strings, nulls, replaced and missing entities): exact', async (t) => {
  const buf = await written(edgeRecords(), {codec: 'null', blockBytes: 300})
  const r = await same(t, () => chunked('edge.sf', buf), 'edge, 300-byte blocks')
  t.is(r.records, edgeRecords().length)
  // Input in 7-byte chunks: every value spans chunk boundaries somewhere.
  await same(t, () => chunked('edge-7.sf', buf, 7), 'edge, 7-byte chunks')
  // One big deflated block (tables grow from their first capacity).
  const one = await written(edgeRecords(), {codec: 'deflate', blockBytes: 1 << 22})
  await same(t, () => chunked('edge-one.sf', one), 'edge, one block')
})

test('synthetic: many blocks, tables reused block after block', async (t) => {
  const recs: SysFlowRecord[] = []
  for (let round = 0; round < 12; round++) recs.push(...edgeRecords().map((r) => (r.kind === Kind.FileFlow ? {...r, fd: round} : r)))
  const buf = await written(recs, {codec: 'snappy', blockBytes: 2000})
  const r = await same(t, () => chunked('many.sf', buf, 4096), 'many blocks')
  t.true(r.events > 1500)
})

test('synthetic: fields the writer lacks are absent, nulls in plain fields are absent, as in the row path', async (t) => {
  const recs = edgeRecords()
  const omitted = await written(recs, {codec: 'null', omit: ['FileFlow.fd', 'NetworkFlow.fd', 'Process.cwd', 'Process.env', 'File.restype'], blockBytes: 500})
  await same(t, () => chunked('omit.sf', omitted), 'omitted fields')
  // Plain fields written as ["null", T]: undefined values write null, which reads back absent.
  const holes = recs.map((r) => (r.kind === Kind.FileFlow ? {...r, tid: undefined, fd: r.fd! % 2 ? undefined : r.fd} : r.kind === Kind.Process ? {...r, exe: r.uid! < 0 ? undefined : r.exe} : r)) as SysFlowRecord[]
  const nullable = await written(holes, {codec: 'null', nullable: ['FileFlow.tid', 'FileFlow.fd', 'Process.exe'], blockBytes: 500})
  await same(t, () => chunked('nullable.sf', nullable), 'nullable fields')
  for (const v of ['1000ms', '2', '3', '4'] as const) {
    const old = recs.filter((r) => r.kind !== Kind.Pod && r.kind !== Kind.K8sEvent && (v !== '1000ms' || (r.kind !== Kind.ProcessFlow && r.kind !== Kind.NetworkEvent)))
    const b = await written(old.map((r) => (r.kind === Kind.Header ? {...r, version: BigInt(v.replace('ms', ''))} : r)), {codec: 'null', schema: v, blockBytes: 400})
    const r = await same(t, () => chunked(`v${v}.sf`, b), `schema ${v}`)
    t.is(r.records, old.length, `schema ${v}`)
  }
})

// --- a writer schema that is not ours -----------------------------------------------------------------------------

type Obj = Record<string, unknown>


test('a writer schema that is not ours: promotions, unknown fields of every type, unions in any order, unreadable fields, unknown symbols', async (t) => {
  const schema = sysflowSchema('5') as {fields: {type: Obj[]}[]}
  const union = JSON.parse(JSON.stringify(schema)) as {fields: {type: Obj[]}[]}
  const members = union.fields[0].type
  const ff = members.find((m) => m.name === 'FileFlow') as {fields: Obj[]}
  const proc = members.find((m) => m.name === 'Process') as {fields: Obj[]}
  const fileRec = members.find((m) => m.name === 'File') as {fields: Obj[]}
  // FileFlow: tid promoted from int, fd written as long (unreadable as int: absent), endTs as [long, null], extra
  // fields of every type before and after, openFlags as [null, int, string] (the string branch reads as absent).
  const field = (name: string) => ff.fields.find((f) => f.name === name)!
  field('tid').type = 'int'
  field('fd').type = 'long'
  field('endTs').type = ['long', 'null']
  field('openFlags').type = ['null', 'int', 'string']
  ff.fields.unshift(
    {name: 'xs', type: 'string'}, {name: 'xf', type: 'float'}, {name: 'xd', type: 'double'}, {name: 'xb', type: 'bytes'},
    {name: 'xa', type: {type: 'array', items: 'long'}}, {name: 'xm', type: {type: 'map', values: 'string'}},
  )
  ff.fields.push({name: 'xr', type: {type: 'record', name: 'Extra', fields: [{name: 'q', type: 'long'}, {name: 'x', type: {type: 'fixed', name: 'X3', size: 3}}]}}, {name: 'xe', type: {type: 'enum', name: 'XE', symbols: ['A', 'B']}})
  // Process: exe as bytes, state with a symbol we do not know, the OID record's fields reordered plus one more.
  proc.fields.find((f) => f.name === 'exe')!.type = 'bytes'
  const stateType = proc.fields.find((f) => f.name === 'state')!.type as Obj
  stateType.symbols = [...(stateType.symbols as string[]), 'FUTURE']
  const oidType = proc.fields.find((f) => f.name === 'oid')!.type as {fields: Obj[]}
  oidType.fields = [{name: 'extra', type: 'string'}, ...oidType.fields.reverse()]
  // File: the FOID fixed(20) kept, path as [string, null].
  fileRec.fields.find((f) => f.name === 'path')!.type = ['string', 'null']

  const ns = (m: Obj) => `${m.namespace as string}.${m.name as string}`
  const full = (name: string) => ns(members.find((m) => m.name === name)!)
  const foidBytes = Buffer.from(foid(1), 'hex')
  const pOid = {extra: 'é', hpid: 2n ** 60n, createTS: -(2n ** 62n)}
  const data: unknown[] = [
    {rec: {[full('SFHeader')]: {version: 5n, exporter: 'x', ip: 'i', filename: 'f'}}},
    {rec: {[full('Process')]: {
      state: 'FUTURE', oid: pOid, poid: null, ts: 1n, exe: Buffer.from('/bin/日本'), exeArgs: '', uid: 1, userName: 'u', gid: 2, groupName: 'g',
      tty: false, containerId: null, entry: true, cwd: '/', env: ['A=1'],
    }}},
    {rec: {[full('File')]: {state: 'CREATED', oid: foidBytes, ts: 2n, restype: 1, path: null, containerId: null}}},
  ]
  for (let i = 0; i < 6; i++) {
    data.push({rec: {[full('FileFlow')]: {
      xs: 'skip me', xf: 1.5, xd: -2.25, xb: Buffer.from([0, 255]), xa: [1n, -(2n ** 63n)], xm: {k: 'v', ü: ''},
      procOID: {extra: '', createTS: pOid.createTS, hpid: pOid.hpid}, ts: LONGS[i], tid: -(2 ** 31) + i, opFlags: i,
      openFlags: [null, {int: i}, {string: 'no'}][i % 3], endTs: i % 2 ? null : {long: -(2n ** 63n)},
      fileOID: foidBytes, fd: 2n ** 40n, numRRecvOps: 1n, numWSendOps: 2n, numRRecvBytes: 3n, numWSendBytes: 4n,
      xr: {q: -5n, x: Buffer.from([1, 2, 3])}, xe: 'B',
    }}})
  }
  const buf = container(union, data)
  const r = await same(t, () => chunked('foreign.sf', buf, 5), 'foreign schema')
  t.is(r.records, 9)
  t.is(r.events, 6)
  // The values that matter, checked outright too (not only as "same as the row path").
  const recs: SysFlowRecord[] = []
  for await (const b of readColumns(chunked('foreign.sf', buf))) recs.push(...(blockRecords(b.block) as SysFlowRecord[]))
  const flows = recs.filter((x): x is FileFlow => x.kind === Kind.FileFlow)
  t.deepEqual(flows.map((f) => f.tid), [-(2n ** 31n), -(2n ** 31n) + 1n, -(2n ** 31n) + 2n, -(2n ** 31n) + 3n, -(2n ** 31n) + 4n, -(2n ** 31n) + 5n])
  t.deepEqual(flows.map((f) => f.fd), [undefined, undefined, undefined, undefined, undefined, undefined])
  t.deepEqual(flows.map((f) => f.openFlags), [undefined, 1, undefined, undefined, 4, undefined])
  t.deepEqual(flows.map((f) => f.endTs), [-(2n ** 63n), undefined, -(2n ** 63n), undefined, -(2n ** 63n), undefined])
  const p = recs.find((x): x is Process => x.kind === Kind.Process)!
  t.is(p.state as string, 'FUTURE')
  t.is(p.exe, '/bin/日本')
  t.deepEqual(p.oid, {createTS: -(2n ** 62n), hpid: 2n ** 60n})
  t.is(recs.find((x): x is SFFile => x.kind === Kind.File)!.path, undefined)
})

test('a corrupt block is dropped by both paths alike, and the next blocks still decode (tables not left half-filled)', async (t) => {
  const buf = await written(edgeRecords(), {codec: 'null', blockBytes: 600})
  // Damage bytes inside the payloads of a few blocks (not their framing): varints and lengths go wrong.
  const bad = Buffer.from(buf)
  const {headerSize, blocks} = parseContainer(buf)
  for (let at = headerSize + 900; at < bad.length - 100; at += 1733) bad[at] = 0xff
  const r = await same(t, () => chunked('damaged.sf', bad), 'damaged')
  t.true(r.records > 0 && r.records < edgeRecords().length, `${r.records} records of ${edgeRecords().length} in ${blocks.length} blocks`)
})

test('readLongWords writes exactly readLong\'s value, position and errors: every power of two +-1 of both signs, truncated and over-long varints', (t) => {
  const values: bigint[] = [2n ** 63n - 1n, -(2n ** 63n)]
  for (let e = 0n; e < 63n; e++) for (const d of [-1n, 0n, 1n]) values.push((1n << e) + d, -((1n << e) + d))
  const w = new Int32Array(4)
  const v = new BigInt64Array(w.buffer)
  for (const x of values) {
    const s = new Sink()
    s.writeLong(x)
    const buf = Buffer.from(s.take())
    const c1 = {buf, pos: 0, end: buf.length}
    const c2 = {buf, pos: 0, end: buf.length}
    readLongWords(c1, w, 1)
    t.is(v[1], readLong(c2), String(x))
    t.is(v[1], x)
    t.is(c1.pos, c2.pos)
  }
  const outcome = (f: () => unknown) => {
    try {
      return `ok ${String(f())}`
    } catch (e) {
      return `${(e as Error).message} at ${(e as {pos: number}).pos}`
    }
  }
  for (const bytes of [[0x80, 0x80], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0xff, 0xff, 0xff, 0xff, 0x8f]]) {
    const buf = Buffer.from(bytes)
    const c1 = {buf, pos: 0, end: buf.length}
    const c2 = {buf, pos: 0, end: buf.length}
    t.is(outcome(() => (readLongWords(c1, w, 0), v[0])), outcome(() => readLong(c2)), bytes.join(','))
    t.is(c1.pos, c2.pos)
  }
})

test('every single-byte damage of a payload: the column decoder keeps or drops each block exactly as the row decoder does (values, errors, positions)', async (t) => {
  // Small blocks of every record kind (a K8s event's string is a view of the payload); each byte of every payload
  // set in turn to a one-byte negative length (0x01), a large one-byte value (0x7e), a continuation byte (0x80) and
  // 0xff: varints, lengths, union indexes and strings all go wrong somewhere, in the generated readers' fast and
  // slow paths alike.
  const buf = await written(edgeRecords().slice(-40), {codec: 'null', blockBytes: 400})
  const {headerSize} = parseContainer(buf)
  let cases = 0
  let kept = 0
  const collect = async (bytes: Buffer, columns: boolean): Promise<string> => {
    const out: unknown[] = []
    const input = chunked('x.sf', bytes)
    try {
      if (columns) {
        for await (const b of readColumns(input, {onWarning: (w) => out.push(w.message)})) out.push(blockRecords(b.block))
      } else {
        for await (const b of readTrace(input, {onWarning: (w) => out.push(w.message)})) out.push(b.records)
      }
    } catch (e) {
      out.push(String(e))
    }
    return show(out)
  }
  for (let at = headerSize; at < buf.length; at++) {
    for (const v of [0x01, 0x7e, 0x80, 0xff]) {
      if (buf[at] === v) continue
      const bad = Buffer.from(buf)
      bad[at] = v
      const rows = await collect(bad, false)
      const cols = await collect(bad, true)
      if (rows !== cols) {
        t.fail(`byte ${at} set to ${v}: ${rows.slice(0, 300)} vs ${cols.slice(0, 300)}`)
        return
      }
      cases++
      if (!rows.includes('corrupt')) kept++
    }
  }
  t.true(cases > 3000, `${cases} damaged inputs`)
  // Some damage leaves every block readable (a byte inside a string), most does not.
  t.true(kept > 100 && kept < cases, `${kept} of ${cases} read without a corrupt block`)
})

test('late entities: a context is made again exactly when what it refers to arrives or is replaced, and kept otherwise', async (t) => {
  // Process A's parent P, grandparent G, container and pod all arrive after A's first events; unrelated processes
  // and containers arrive in between (they must change nothing); then P is replaced.
  const base = tinyProc()
  const A = oid(10n, 1n)
  const P = oid(20n, 1n)
  const G = oid(30n, 1n)
  const ev = (ts: bigint): ProcessFlow => ({kind: Kind.ProcessFlow, procOID: A, ts, numThreadsCloned: 0n, opFlags: 1, endTs: ts, numThreadsExited: 0n, numCloneErrors: 0n})
  const ctr: Container = {kind: Kind.Container, id: 'c1', name: 'n', image: 'i', imageid: 'x', type: 'CT_DOCKER', privileged: false, podId: 'pod1'}
  const pod: Pod = {kind: Kind.Pod, ts: 1n, id: 'pod1', name: 'p', nodeName: 'n', hostIP: [], internalIP: [], namespace: 'ns', restartCount: 0n, labels: {}, selectors: {}, services: []}
  const records: SysFlowRecord[] = [
    {kind: Kind.Header, version: 5n, exporter: 'late', ip: '', filename: ''},
    {...base, oid: A, poid: P, containerId: 'c1', exe: '/a'}, ev(1n),
    {...base, oid: oid(99n, 1n), poid: null, exe: '/unrelated'}, ev(2n),
    {...ctr, id: 'c-unrelated', podId: null}, ev(3n),
    ctr, ev(4n),
    pod, ev(5n),
    {...base, oid: P, poid: G, exe: '/p'}, ev(6n),
    {...base, oid: G, poid: null, exe: '/g'}, ev(7n),
    {...base, oid: oid(98n, 1n), poid: A, exe: '/child'}, ev(8n),
    {...base, oid: P, poid: G, exe: '/p-again'}, ev(9n),
  ]
  for (const blockBytes of [100, 100_000]) {
    const buf = await written(records, {codec: 'null', blockBytes})
    await same(t, () => chunked('late.sf', buf), `late entities, ${blockBytes}-byte blocks`)
    const got: ColumnJoined[] = []
    const ctxs: number[] = []
    for await (const b of joinedColumns([chunked('late.sf', buf)])) {
      got.push(...joinedRows(b))
      ctxs.push(...b.ctx)
      b.release()
    }
    t.deepEqual(got.map((j) => (j.pproc as Process | undefined)?.exe ?? '-'), ['-', '-', '-', '-', '-', '/p', '/p', '/p', '/p-again'])
    t.deepEqual(got.map((j) => (j.container as Container | undefined)?.id ?? '-'), ['-', '-', '-', 'c1', 'c1', 'c1', 'c1', 'c1', 'c1'])
    t.deepEqual(got.map((j) => (j.pod as Pod | undefined)?.id ?? '-'), ['-', '-', '-', '-', 'pod1', 'pod1', 'pod1', 'pod1', 'pod1'])
    t.deepEqual(got.map((j) => j.ancestry.map((p) => p.exe).join('<')), ['/a', '/a', '/a', '/a', '/a', '/a</p', '/a</p</g', '/a</p</g', '/a</p-again</g'])
    // Unrelated arrivals (events 2, 3 and 8) keep the context; each real change makes a new one.
    t.deepEqual(ctxs, [0, 0, 0, 1, 2, 3, 4, 4, 5])
  }
})

function tinyProc(): Process {
  return {
    kind: Kind.Process, state: 'CREATED', oid: oid(1n, 1n), poid: null, ts: 1n, exe: '', exeArgs: '', uid: 0, userName: '', gid: 0,
    groupName: '', tty: false, containerId: null, entry: false, cwd: '', env: [],
  }
}
