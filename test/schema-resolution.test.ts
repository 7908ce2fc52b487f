// Avro schema resolution: traces written under writer schemas that are not ours (test/fixtures/variants, made by
// scripts/variant-fixtures.ts) read with exact values; fields the writer lacks are empty in every output, fields
// and record types we do not know are skipped without misaligning the rest.
import fs from 'node:fs'
import path from 'node:path'
import test from 'ava'
import {compileWriterSchema} from '../src/format/avro/compile.js'
import {fileInput, readTrace} from '../src/format/reader.js'
import {ReadWarning} from '../src/format/errors.js'
import {Kind, SysFlowRecord} from '../src/format/records.js'
import {sysflowSchema} from '../src/format/schema.js'
import {runCli} from './helpers/cli.js'
import {withDuck} from './helpers/duck.js'
import {withTempDir} from './helpers/tmp.js'

const V = (name: string) => path.resolve('test/fixtures/variants', name)
const V5 = path.resolve('test/fixtures/v5.sf')

async function read(file: string): Promise<{records: SysFlowRecord[]; warnings: ReadWarning[]}> {
  const records: SysFlowRecord[] = []
  const warnings: ReadWarning[] = []
  for await (const b of readTrace(fileInput(file), {onWarning: (w) => warnings.push(w)})) records.push(...b.records)
  return {records, warnings}
}

function flat(file: string, ...args: string[]): Record<string, unknown>[] {
  const r = runCli(['print', '-o', 'flatjson', ...args, file])
  return r.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** Every flatjson key of the records of `file` except `skip`, compared to the v5 fixture's, record by record. */
function sameAsV5(t: {deepEqual: (a: unknown, b: unknown, m?: string) => void}, file: string, skip: (k: string) => boolean): void {
  const a = flat(file)
  const b = flat(V5)
  t.deepEqual(a.length, b.length, 'record count')
  for (let i = 0; i < a.length; i++) {
    for (const k of Object.keys(b[i])) if (!skip(k)) t.deepEqual(a[i][k], b[i][k], `record ${i} ${k}`)
  }
}

test('NetworkFlow without fd (the 2018 collector traces): read whole, fd absent, every other field exact', async (t) => {
  const {records, warnings} = await read(V('nf-nofd.sf'))
  t.deepEqual(warnings, [])
  const nf = records.filter((r) => r.kind === Kind.NetworkFlow)
  t.is(nf.length, 1)
  const r = nf[0]
  if (r.kind !== Kind.NetworkFlow) return t.fail()
  t.is(r.fd, undefined)
  t.is(r.sport, 40556)
  t.is(r.dport, 80)
  t.is(r.numRRecvBytes, 5_000_000_000n)
  t.is(r.ts, 1_700_000_000_123_476_789n)
  const rows = flat(V('nf-nofd.sf'))
  const nfRow = rows.find((x) => x.type === 'NF')!
  t.is(nfRow['file.fd'], '')
  t.is(nfRow['net.sport'], 40556)
  t.is(nfRow['flow.rbytes'], 5000000000)
  t.is(nfRow.res, '172.17.0.16:40556-10.96.0.12:80')
  // The FileFlow's fd (a field the writer has) is still there.
  t.is(rows.find((x) => x.type === 'FF')!['file.fd'], 3)
  t.is(rows.length, 9)
})

test('NetworkFlow without fd: filters see the field absent, others work', (t) => {
  t.deepEqual(runCli(['print', '-o', 'flatjson', '-f', 'sf.type = NF and sf.file.fd exists', V('nf-nofd.sf')]).lines, [])
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.type = NF and not sf.file.fd exists', V('nf-nofd.sf')]).lines.length, 1)
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.file.fd exists', V('nf-nofd.sf')]).lines.length, 1) // the FileFlow
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.net.dport = 80 and sf.net.sip = 172.17.0.16', V('nf-nofd.sf')]).lines.length, 1)
  // An absent fd compares as on the records that carry none (the 7 PE/NE/FE here): 7 + the NetworkFlow.
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.file.fd = 0', V('nf-nofd.sf')]).lines.length, 8)
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.file.fd = 0', path.resolve('test/fixtures/v1000.sf')]).lines.length, 7)
})

test('NetworkFlow without fd: query shows NULL, Parquet and CSV keep it empty', async (t) => {
  const q = runCli(['query', "select count(*) filter (where file_fd is null) as no_fd, count(*) as n, min(net_dport) as dport from events where type = 'NF'", V('nf-nofd.sf'), '-o', 'csv'])
  t.is(q.status, 0, q.stderr)
  t.deepEqual(q.lines, ['no_fd,n,dport', '1,1,80'])
  await withTempDir(async (dir) => {
    const pq = path.join(dir, 'out.parquet')
    const c = runCli(['convert', V('nf-nofd.sf'), '-o', pq])
    t.is(c.status, 0, c.stderr)
    const rows = await withDuck(async (db) => (await db.runAndReadAll(`select type, file_fd, net_sport, flow_rbytes from read_parquet('${pq}') where type in ('NF', 'FF') order by type`)).getRowObjects())
    t.deepEqual(rows.map((r) => [r.type, r.file_fd, r.net_sport, r.flow_rbytes]), [['FF', 3, null, 220n], ['NF', null, 40556, 5_000_000_000n]])
    const csv = path.join(dir, 'out.csv')
    t.is(runCli(['convert', V('nf-nofd.sf'), '-o', csv, '-c', 'type,file.fd,net.sport']).status, 0)
    t.deepEqual(fs.readFileSync(csv, 'utf8').trim().split(/\r?\n/).filter((l) => /^(NF|FF),/.test(l)), ['FF,3,', 'NF,,40556'])
  })
})

test("sf-collector's early union: old ProcessFlow read by name, AtomicFileFlow skipped with one warning counting it", async (t) => {
  const {records, warnings} = await read(V('collector-2018.sf'))
  t.deepEqual(warnings.map((w) => [w.message, w.skippedRecords]), [['skipped 2 records of a record type this version does not know (sysflow.flow.AtomicFileFlow)', 2]])
  t.deepEqual(records.map((r) => r.kind), [Kind.Header, Kind.Container, Kind.Process, Kind.Process, Kind.ProcessFlow, Kind.Process, Kind.ProcessFlow, Kind.File, Kind.FileFlow, Kind.NetworkFlow, Kind.File, Kind.File, Kind.ProcessFlow, Kind.ProcessFlow])
  const pf = records.find((r) => r.kind === Kind.ProcessFlow)!
  // ProcessFlow's own counters are absent; its identity, time and flags are read; tid/args/ret are skipped.
  t.deepEqual(pf, {kind: Kind.ProcessFlow, procOID: {createTS: 1_700_000_000_123_457_789n, hpid: 4242n}, ts: 1_700_000_000_123_458_789n, numThreadsCloned: undefined, opFlags: 1, endTs: undefined, numThreadsExited: undefined, numCloneErrors: undefined})
  const ff = records.find((r) => r.kind === Kind.FileFlow)
  t.is(ff?.kind === Kind.FileFlow ? ff.numRRecvBytes : undefined, 220n) // after the skipped AtomicFileFlows: aligned
  const rows = flat(V('collector-2018.sf'))
  t.deepEqual(rows.map((r) => [r.type, r['pf.nthreads'], r.endts, r['proc.tid']]), [
    ['PF', null, '', null], ['PF', null, '', null], ['FF', null, '2023-11-14T22:13:20.123469789Z', 4243], ['NF', null, '2023-11-14T22:13:20.123481789Z', 4243], ['PF', null, '', null], ['PF', null, '', null],
  ])
  const r = runCli(['print', '-o', 'flatjson', V('collector-2018.sf')])
  t.is(r.status, 1) // records were skipped: README's exit code 1
  t.deepEqual(r.errLines, [`sysflow: warning: ${V('collector-2018.sf')}: skipped 2 records of a record type this version does not know (sysflow.flow.AtomicFileFlow)`])
})

test('Process without cwd and env (v5 header): both empty everywhere, the rest equal to the v5 fixture', async (t) => {
  const {records} = await read(V('proc-nocwd.sf'))
  for (const p of records) if (p.kind === Kind.Process) t.deepEqual([p.cwd, p.env], [undefined, undefined])
  const rows = flat(V('proc-nocwd.sf'))
  t.deepEqual([...new Set(rows.flatMap((r) => [r['proc.cwd'], r['proc.env'], r['pproc.cwd'], r['pproc.env']]))], [''])
  sameAsV5(t, V('proc-nocwd.sf'), (k) => /^p?proc\.(cwd|env)$/.test(k) || k === 'filename')
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.proc.cwd exists', V('proc-nocwd.sf')]).lines.length, 0)
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.proc.exe = /usr/bin/curl', V('proc-nocwd.sf')]).lines.length, 7)
  const q = runCli(['query', 'select count(*) as n, count(proc_cwd) as cwd, count(proc_env) as env, count(proc_exe) as exe from events', V('proc-nocwd.sf'), '-o', 'csv'])
  t.deepEqual(q.lines, ['n,cwd,env,exe', '11,0,0,10'])
})

test('File without restype: file.type empty (not "?"), paths and names intact', async (t) => {
  const {records} = await read(V('file-norestype.sf'))
  const files = records.filter((r) => r.kind === Kind.File)
  t.deepEqual(files.map((f) => (f.kind === Kind.File ? [f.path, f.restype] : [])), [['/etc/hosts', undefined], ['/tmp/out.part', undefined], ['/tmp/out.html', undefined]])
  const rows = flat(V('file-norestype.sf'))
  t.deepEqual(rows.filter((r) => r['file.path'] !== '').map((r) => [r.type, r['file.path'], r['file.type']]), [['FF', '/etc/hosts', ''], ['FE', '/tmp/out.part', ''], ['FE', '/tmp/out.html', '']])
  sameAsV5(t, V('file-norestype.sf'), (k) => k === 'file.type' || k === 'filename')
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.file.type = f', V('file-norestype.sf')]).lines.length, 0)
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.file.name = hosts', V('file-norestype.sf')]).lines.length, 1)
  const q = runCli(['query', "select count(*) filter (where file_type is null) as untyped, count(file_path) as paths from events where type in ('FF', 'FE')", V('file-norestype.sf'), '-o', 'csv'])
  t.deepEqual(q.lines, ['untyped,paths', '3,3'])
})

test('unknown fields in the middle of records and of the nested OID (records, arrays, maps, unions, fixed, enums, float, bytes) are skipped: every value equals v5', async (t) => {
  const {records, warnings} = await read(V('extra-fields.sf'))
  t.deepEqual(warnings, [])
  const v5 = (await read(V5)).records
  // Same typed records, apart from the header's filename (the variant file's own name is not written: same story).
  t.deepEqual(records.map((r) => (r.kind === Kind.Header ? {...r, filename: ''} : r)), v5.map((r) => (r.kind === Kind.Header ? {...r, filename: ''} : r)))
  sameAsV5(t, V('extra-fields.sf'), (k) => k === 'filename')
})

test('a record type we do not know in the middle of the union: skipped (3 records, one warning), the others read by their own names', async (t) => {
  const {records, warnings} = await read(V('unknown-type.sf'))
  t.deepEqual(warnings.map((w) => [w.message, w.skippedRecords, w.offset]), [['skipped 3 records of a record type this version does not know (sysflow.event.SignalEvent)', 3, -1]])
  const v5 = (await read(V5)).records
  t.deepEqual(records.map((r) => r.kind), v5.map((r) => r.kind))
  sameAsV5(t, V('unknown-type.sf'), (k) => k === 'filename')
})

test('a shuffled union with null-last nullable unions reads as v5', async (t) => {
  const {records, warnings} = await read(V('reordered-union.sf'))
  t.deepEqual(warnings, [])
  const v5 = (await read(V5)).records
  t.deepEqual(records.map((r) => (r.kind === Kind.Header ? {...r, filename: ''} : r)), v5.map((r) => (r.kind === Kind.Header ? {...r, filename: ''} : r)))
})

test('promotions and enum symbols we do not know: int read as long, bytes as string, symbols kept as their text', async (t) => {
  const {records} = await read(V('promoted.sf'))
  const nf = records.find((r) => r.kind === Kind.NetworkFlow)
  t.deepEqual(nf?.kind === Kind.NetworkFlow ? [nf.tid, nf.numRRecvOps, nf.procOID.hpid] : [], [4243n, 3n, 4243n])
  const procs = records.filter((r) => r.kind === Kind.Process)
  t.deepEqual(procs.map((p) => (p.kind === Kind.Process ? [p.oid.hpid, p.exeArgs, p.state] : [])), [[1n, '', 'REUP'], [4242n, '-l', 'ZOMBIE'], [4243n, '-s http://web/', 'CREATED']])
  const c = records.find((r) => r.kind === Kind.Container)
  t.is(c?.kind === Kind.Container ? c.type : undefined, 'CT_PODMAN')
  const rows = flat(V('promoted.sf'))
  t.deepEqual([...new Set(rows.map((r) => r['container.type']))], ['CT_PODMAN', '']) // '': the host process
  t.is(runCli(['print', '-o', 'flatjson', '-f', 'sf.container.type = PODMAN', V('promoted.sf')]).lines.length, 10)
  sameAsV5(t, V('promoted.sf'), (k) => k === 'filename' || k === 'container.type' || k === 'state')
})

test('legacy nanosecond fields labelled timestamp-millis keep every digit', async (t) => {
  const rows = flat(path.resolve('test/fixtures/v1000ms.sf'))
  t.is(rows[0].ts_uts, 1700000000123458789)
  t.is(rows[0].ts, '2023-11-14T22:13:20.123458789Z')
})

// --- the compiler alone, on schemas designed to break it ---------------------------------------------------------

type Obj = {[k: string]: unknown}
function v5With(edit: (union: Obj[]) => void): string {
  const s = JSON.parse(JSON.stringify(sysflowSchema('5'))) as {fields: {type: Obj[]}[]}
  edit(s.fields[0].type)
  return JSON.stringify(s)
}

test('compile: a member lacking an identity field is skipped and says why; a field of an unreadable type is left empty with one note', (t) => {
  const d = compileWriterSchema(v5With((u) => {
    const nf = u.find((m) => m.name === 'NetworkFlow') as {fields: {name: string; type: unknown}[]}
    nf.fields = nf.fields.filter((f) => f.name !== 'procOID')
    const ff = u.find((m) => m.name === 'FileFlow') as {fields: {name: string; type: unknown}[]}
    ff.fields.find((f) => f.name === 'fd')!.type = 'string'
  }))
  t.is(d.branchKinds[5], -1)
  t.is(d.branchWhy[5], 'the writer schema has no procOID field')
  t.is(d.branchKinds[6], Kind.FileFlow)
  t.deepEqual(d.notes, ['FileFlow.fd: writer type string cannot be read as int; the field is left empty'])
})

test('compile: members are matched by unqualified name when the namespace differs; nullable refs absent read as null', (t) => {
  const d = compileWriterSchema(v5With((u) => {
    const fe = u.find((m) => m.name === 'FileEvent') as {namespace: string; fields: {name: string}[]}
    fe.namespace = 'org.example.sysflow'
    fe.fields = fe.fields.filter((f) => f.name !== 'newFileOID')
  }))
  t.is(d.branchKinds[7], Kind.FileEvent)
  t.deepEqual(d.notes, [])
})

test('every schema version we write resolves with no note and no skipped member', (t) => {
  for (const v of ['1000ms', '1000', '1001', '2', '3', '4', '5'] as const) {
    const d = compileWriterSchema(JSON.stringify(sysflowSchema(v)))
    t.deepEqual(d.notes, [], v)
    t.false(d.branchKinds.includes(-1), v)
  }
})
