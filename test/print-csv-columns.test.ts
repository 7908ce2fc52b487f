// `print -o csv` from column tables (printers/csv-columns.ts) against the row printer (printRecords with rows:
// true, the reference): the same bytes, warnings, errors and counters, on every fixture, every shared trace, and
// synthetic traces designed to break it (longs above 2^53 and negative, strings that need quotes, commas, CR/LF,
// control characters, non-ASCII, invalid UTF-8, absent and null fields, missing entities, several inputs, limits and
// time windows, damaged blocks).
import fs from 'node:fs'
import path from 'node:path'
import test, {ExecutionContext} from 'ava'
import {DEFAULT_KEYS} from '../src/format/attributes.js'
import {chooseColumns, printRecords, PrintOptions, PrintResult} from '../src/format/printers/print.js'
import {fileInput, TraceInput} from '../src/format/reader.js'
import {Container, FileEvent, FileFlow, K8sEvent, Kind, NetworkEvent, NetworkFlow, Pod, Process, ProcessEvent, ProcessFlow, File as SFFile, SysFlowRecord} from '../src/format/records.js'
import {sysflowSchema} from '../src/format/schema.js'
import {isoNanos} from '../src/format/time.js'
import {listTraces, sharedDir} from './helpers/shared.js'
import {parseContainer} from './helpers/tiny-trace.js'
import {chunked, container, written} from './helpers/memory-trace.js'

interface Printed {
  out: Buffer
  said: string[]
  result: PrintResult | string
}

async function print(inputs: () => TraceInput[], opts: Omit<PrintOptions, 'format'>, rows: boolean, lend = false): Promise<Printed> {
  const chunks: Buffer[] = []
  // A sink that only borrows chunks (the printer reuses one buffer): copied here at once.
  const sink = lend ? {write: (c: Buffer) => void chunks.push(Buffer.from(c)), writeLent: (c: Buffer) => void chunks.push(Buffer.from(c))} : {write: (c: Buffer) => void chunks.push(c)}
  const said: string[] = []
  let result: PrintResult | string
  try {
    result = await printRecords(inputs(), sink, {
      ...opts, format: 'csv', rows, onWarning: (w) => said.push(`warning ${JSON.stringify(w)}`), onError: (e) => said.push(`error ${e.message}`),
    })
  } catch (e) {
    result = `threw ${String(e)}`
  }
  return {out: Buffer.concat(chunks), said, result}
}

/** The first differing line of two CSV outputs, for the failure message. */
function firstDiff(a: Buffer, b: Buffer): string {
  const x = a.toString('latin1').split('\r\n')
  const y = b.toString('latin1').split('\r\n')
  const i = x.findIndex((l, k) => l !== y[k])
  return i < 0 ? `lengths ${a.length} vs ${b.length}` : `line ${i}:\n  rows:    ${JSON.stringify(x[i])}\n  columns: ${JSON.stringify(y[i])}`
}

/** Both printers over the same input and options: byte-identical output, the same warnings, errors and counters. */
async function same(t: ExecutionContext, what: string, inputs: () => TraceInput[], opts: Omit<PrintOptions, 'format'> = {}): Promise<Printed> {
  const rows = await print(inputs, opts, true)
  const cols = await print(inputs, opts, false)
  t.true(rows.out.equals(cols.out), `${what}: output differs at ${firstDiff(rows.out, cols.out)}`)
  t.deepEqual(cols.said, rows.said, `${what}: warnings and errors`)
  t.deepEqual(JSON.parse(JSON.stringify(cols.result)), JSON.parse(JSON.stringify(rows.result)), `${what}: counters`)
  const lent = await print(inputs, opts, false, true)
  t.true(rows.out.equals(lent.out), `${what}: output through a borrowing sink differs at ${firstDiff(rows.out, lent.out)}`)
  return rows
}

const csvCols = (fields: string[]) => chooseColumns('csv', {fields})

/** -c subsets: record columns, entity columns out of catalogue order, query-only attributes, aliases and sf names. */
const SUBSETS: string[][] = [
  ['ts', 'endts', 'ts_uts', 'endts_uts', 'sf.ts', 'sf.endts'],
  ['res', 'state', 'type', 'idx', 'net.sip', 'net.dip', 'net.sport', 'net.dport', 'net.proto', 'file.fd', 'fd.num'],
  ['proc.exe', 'file.path', 'proc.args', 'file.newpath', 'pproc.exe', 'container.id', 'pod.name', 'node.id', 'file.type'],
  ['proc.aname', 'sf.proc.aexe', 'sf.proc.acmdline', 'proc.apid', 'sf.file.name', 'file.directory', 'sf.file.symlink', 'sf.file.oid', 'sf.file.newoid', 'sf.proc.oid', 'sf.pproc.oid'],
  ['opflags', 'opflags_bitmap', 'ret', 'proc.tid', 'file.openflags', 'file.is_open_write', 'file.is_open_read', 'sf.net.ip', 'sf.net.port'],
  ['flow.rbytes', 'flow.rops', 'flow.wbytes', 'flow.wops', 'pf.nthreads', 'pf.nexits', 'pf.nerrors', 'k8s.action', 'k8s.kind', 'k8s.msg'],
  ['sf.pod.ts', 'sf.pod.labels', 'sf.pod.selectors', 'pod.services', 'pod.hostip', 'sf.meta.tracename', 'schema', 'tags', 'version', 'filename'],
  ['state', 'proc.pid', 'state', 'res', 'res', 'ts'],
]

/** Every option combination that matters for one set of inputs. */
async function allOptions(t: ExecutionContext, what: string, inputs: () => TraceInput[]): Promise<number> {
  const base = await same(t, `${what} (default columns)`, inputs)
  await same(t, `${what} -A`, inputs, {columns: chooseColumns('csv', {all: true})})
  for (const s of SUBSETS) await same(t, `${what} -c ${s.join(',')}`, inputs, {columns: csvCols(s)})
  for (const limit of [0, 1, 7]) await same(t, `${what} --limit ${limit}`, inputs, {limit})
  // A time window through the middle of the records (whatever their times).
  const ts = base.out.toString('utf8').split('\r\n').slice(1, -1).map((l) => l.split(',')[DEFAULT_KEYS.indexOf('ts_uts')]).filter((x) => /^-?\d+$/.test(x)).map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  if (ts.length > 2) {
    const since = ts[Math.floor(ts.length / 3)]
    const until = ts[Math.floor((2 * ts.length) / 3)]
    await same(t, `${what} --since`, inputs, {since})
    await same(t, `${what} --since --until --limit`, inputs, {since, until, limit: Math.floor(ts.length / 4)})
  }
  return typeof base.result === 'string' ? 0 : base.result.printed
}

const fixtures = [
  ...fs.readdirSync('test/fixtures').filter((f) => f.endsWith('.sf')).map((f) => path.resolve('test/fixtures', f)),
  ...fs.readdirSync('test/fixtures/variants').filter((f) => f.endsWith('.sf')).map((f) => path.resolve('test/fixtures/variants', f)),
]

test('every fixture (incl. schema variants), every option: CSV from columns is byte-identical to the row printer', async (t) => {
  t.true(fixtures.length >= 19)
  let printed = 0
  for (const f of fixtures) printed += await allOptions(t, path.basename(f), () => [fileInput(f)])
  t.true(printed > 390, `${printed} rows`)
})

test('several inputs (every fixture at once, and one twice): each its own entity scope, the same bytes', async (t) => {
  const printed = await allOptions(t, 'all fixtures', () => fixtures.map((f) => fileInput(f)))
  t.true(printed > 390)
  await same(t, 'v5 twice', () => [fileInput(fixtures[0]), fileInput(fixtures[0])])
})

const traces = sharedDir('traces')
if (traces === undefined) {
  test.skip('every shared trace: SKIPPED, ../shared/traces not found', () => {})
} else {
  test('every shared trace: CSV from columns is byte-identical to the row printer (default, -A, -c subsets)', async (t) => {
    const files = listTraces(traces)
    t.true(files.length > 0)
    for (const f of files) {
      const name = path.relative(traces, f)
      await same(t, name, () => [fileInput(f)])
      await same(t, `${name} -A`, () => [fileInput(f)], {columns: chooseColumns('csv', {all: true})})
      for (const s of SUBSETS) await same(t, `${name} -c ${s.join(',')}`, () => [fileInput(f)], {columns: csvCols(s)})
    }
    await same(t, 'every shared trace at once', () => files.map((f) => fileInput(f)))
  })
}

// --- synthetic traces --------------------------------------------------------------------------------------------

const LONGS = [
  0n, 1n, -1n, 9n, 10n, -10n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n,
  999_999_999n, 1_000_000_000n, 1_000_000_000_000_000_000n, 1_700_000_000_000_000_001n, 1_700_000_000_999_999_999n, -1_700_000_000_123_456_789n,
  2n ** 63n - 1n, -(2n ** 63n), 253402300799999999999n % 2n ** 63n,
]
/** Strings a CSV writer must quote, double or keep byte for byte. */
const STRINGS = [
  '', 'plain', 'a,b', '"quoted"', 'say "hi", then', 'line\nfeed', 'carriage\rreturn', 'crlf\r\n', '\u0000ctl\u001b[31m\t', 'héllo wörld',
  '日本語/🙂', ' lead and trail ', '=1+2', 'x'.repeat(70), 'q"'.repeat(40), ',', '"', '\n',
]
const foid = (i: number) => (i.toString(16).padStart(8, '0') + 'cd'.repeat(16)).slice(0, 40)
const oid = (hpid: bigint, createTS: bigint) => ({hpid, createTS})

function edgeRecords(round = 0): SysFlowRecord[] {
  const s = (i: number) => STRINGS[(i + round) % STRINGS.length]
  const out: SysFlowRecord[] = [{kind: Kind.Header, version: 5n, exporter: 'edge,"node"', ip: '10.0.0.1\n', filename: 'é"dge.sf'}]
  const pod: Pod = {
    kind: Kind.Pod, ts: 5n, id: 'pod-1', name: 'p,1', nodeName: 'n"1', hostIP: [1n, 4294967295n], internalIP: [], namespace: 'ns\r\n', restartCount: -(2n ** 60n),
    labels: {'a,b': 'c"d', ü: '日'}, selectors: {}, services: [{name: 's', id: 'i', namespace: 'n', portList: [{port: 1, targetPort: 2, nodePort: 3, proto: 'TCP'}], clusterIP: [4n]}],
  }
  const ctr: Container = {kind: Kind.Container, id: 'ctr-1', name: 'name, with comma', image: 'img:"日本"', imageid: 'x'.repeat(64), type: 'CT_DOCKER', privileged: true, podId: 'pod-1'}
  out.push(pod, ctr, {...ctr, id: 'ctr-nopod', podId: null, privileged: false}, {...ctr, id: 'ctr-missingpod', podId: 'nowhere'})
  for (const [i, v] of LONGS.entries()) {
    const proc: Process = {
      kind: Kind.Process, state: (['CREATED', 'MODIFIED', 'REUP'] as const)[i % 3], oid: oid(v, LONGS[(i + 3) % LONGS.length]),
      poid: i % 4 === 0 ? null : oid(LONGS[(i + 21) % LONGS.length], LONGS[(i + 2) % LONGS.length]), ts: v, exe: s(i), exeArgs: s(i + 1),
      uid: i % 2 ? -1 : 2 ** 31 - 1, userName: s(i + 2), gid: -(2 ** 31), groupName: s(i + 3), tty: i % 2 === 0,
      containerId: [null, 'ctr-1', 'ctr-nopod', 'ctr-missingpod', 'ctr-nowhere', ''][i % 6], entry: i % 3 === 0, cwd: s(i + 4), env: i % 2 ? [] : [s(i), '', '=', 'K=V,W'],
    }
    const file: SFFile = {kind: Kind.File, state: (['CREATED', 'MODIFIED', 'REUP'] as const)[(i + 1) % 3], oid: foid(i), ts: -v, restype: i - 10, path: i % 7 === 3 ? `a->b ${s(i + 5)}` : s(i + 5), containerId: i % 2 ? null : 'ctr-1'}
    out.push(proc, file)
    const base = {procOID: proc.oid, ts: v, tid: -v, opFlags: (i * 2654435761) | 0}
    const ff: FileFlow = {kind: Kind.FileFlow, ...base, openFlags: i * 97, endTs: LONGS[(i + 7) % LONGS.length], fileOID: i % 5 === 4 ? foid(9999) : file.oid, fd: -i, numRRecvOps: v, numWSendOps: -v, numRRecvBytes: LONGS[(i + 5) % LONGS.length], numWSendBytes: 0n}
    const nf: NetworkFlow = {kind: Kind.NetworkFlow, ...base, endTs: v, sip: -1 - i, sport: 65535 - i, dip: 2 ** 31 - 1, dport: -i, proto: i % 2 ? 6 : 17, fd: i, numRRecvOps: 1n, numWSendOps: v, numRRecvBytes: -v, numWSendBytes: v}
    const pe: ProcessEvent = {kind: Kind.ProcessEvent, ...base, args: i % 3 ? [s(i), ''] : [], ret: -i}
    const fe: FileEvent = {kind: Kind.FileEvent, ...base, fileOID: file.oid, ret: i, newFileOID: [null, file.oid, foid(8888), foid(i - 1)][i % 4]}
    const ne: NetworkEvent = {kind: Kind.NetworkEvent, ...base, sip: i, sport: i, dip: -i, dport: 80, proto: 6, ret: -i}
    const pf: ProcessFlow = {kind: Kind.ProcessFlow, procOID: proc.oid, ts: v, numThreadsCloned: v, opFlags: 1, endTs: -v, numThreadsExited: 2n ** 62n, numCloneErrors: -3n}
    out.push(ff, nf, pe, fe, ne, pf)
    // A record of a process never seen, and the same OID exported again (the latest wins).
    out.push({...ff, procOID: oid(v, 12345n)}, {...nf, procOID: oid(-v, 1n)})
    if (i % 5 === 0) out.push({...proc, exe: `${s(i)}-again`, state: 'MODIFIED'}, {...ff, numWSendBytes: 7n}, {...file, path: `${file.path},renamed`}, {...fe})
    if (i % 9 === 8) out.push({kind: Kind.Header, version: 5n, exporter: `edge-${i}`, ip: '', filename: ''})
  }
  const ke: K8sEvent = {kind: Kind.K8sEvent, component: 'K8S_PODS', action: 'K8S_COMPONENT_ADDED', ts: -(2n ** 63n), message: '{"a":"日本","b":"x,y"}\n\u0000'}
  out.push(ke, {...ke, message: ''})
  return out
}



test('synthetic edge values: longs above 2^53 and negative, strings needing quotes, CR/LF, control chars, non-ASCII, missing entities', async (t) => {
  const buf = await written(edgeRecords(), {codec: 'null', blockBytes: 700})
  const printed = await allOptions(t, 'edge', () => [chunked('edge.sf', buf)])
  t.is(printed, edgeRecords().filter((r) => r.kind >= Kind.ProcessEvent && r.kind !== Kind.Pod).length)
  // The values that matter, checked outright too: quoting, doubled quotes, longs exact.
  const out = (await print(() => [chunked('edge.sf', buf)], {columns: csvCols(['proc.exe', 'flow.rbytes', 'ts_uts', 'ts'])}, false)).out.toString('utf8')
  t.true(out.includes('"say ""hi"", then"'))
  t.true(out.includes('"crlf\r\n"'))
  t.true(out.includes(',9223372036854775807,'))
  t.true(out.includes(',-9223372036854775808,'))
  t.true(out.includes(',1700000000000000001,2023-11-14T22:13:20.000000001Z'))
  t.true(out.includes(',9007199254740993,'))
  // Several rounds, many blocks, several inputs: scopes, caches and tables reused block after block.
  const many: SysFlowRecord[] = []
  for (let round = 0; round < 6; round++) many.push(...edgeRecords(round))
  const mbuf = await written(many, {codec: 'snappy', blockBytes: 1500})
  await allOptions(t, 'many blocks', () => [chunked('many.sf', mbuf, 4096)])
  await allOptions(t, 'three inputs', () => [chunked('a.sf', buf), chunked('b.sf', mbuf), chunked('c.sf', buf, 9)])
})

test('synthetic: absent fields (writer lacks them) and nulls in plain fields print as the row printer prints them', async (t) => {
  const recs = edgeRecords()
  const omitted = await written(recs, {codec: 'null', omit: ['FileFlow.fd', 'NetworkFlow.sip', 'NetworkFlow.dport', 'FileFlow.endTs', 'Process.cwd', 'Process.env', 'File.restype', 'FileFlow.openFlags', 'FileEvent.ret'], blockBytes: 500})
  await allOptions(t, 'omitted fields', () => [chunked('omit.sf', omitted)])
  const holes = recs.map((r) => {
    if (r.kind === Kind.FileFlow) return {...r, tid: undefined, fd: r.fd! % 2 ? undefined : r.fd, numRRecvBytes: r.fd! % 3 ? r.numRRecvBytes : undefined, opFlags: r.fd! % 4 ? r.opFlags : undefined}
    if (r.kind === Kind.NetworkFlow) return {...r, sport: r.fd! % 2 ? undefined : r.sport, sip: r.fd! % 3 ? r.sip : undefined}
    if (r.kind === Kind.Process) return {...r, exe: r.uid! < 0 ? undefined : r.exe}
    return r
  }) as SysFlowRecord[]
  const nullable = await written(holes, {codec: 'null', nullable: ['FileFlow.tid', 'FileFlow.fd', 'FileFlow.numRRecvBytes', 'FileFlow.opFlags', 'NetworkFlow.sport', 'NetworkFlow.sip', 'Process.exe'], blockBytes: 500})
  await allOptions(t, 'nullable fields', () => [chunked('nullable.sf', nullable)])
  for (const v of ['1000ms', '2', '3', '4'] as const) {
    const old = recs.filter((r) => r.kind !== Kind.Pod && r.kind !== Kind.K8sEvent && (v !== '1000ms' || (r.kind !== Kind.ProcessFlow && r.kind !== Kind.NetworkEvent)))
    const b = await written(old.map((r) => (r.kind === Kind.Header ? {...r, version: BigInt(v.replace('ms', ''))} : r)), {codec: 'null', schema: v, blockBytes: 400})
    await allOptions(t, `schema ${v}`, () => [chunked(`v${v}.sf`, b)])
  }
})


test('synthetic: invalid UTF-8 in strings (bytes fields of a foreign schema), promotions, unions in any order: the same bytes', async (t) => {
  type Obj = Record<string, unknown>
  const union = JSON.parse(JSON.stringify(sysflowSchema('5'))) as {fields: {type: Obj[]}[]}
  const members = union.fields[0].type
  const proc = members.find((m) => m.name === 'Process') as {fields: Obj[]}
  const fileRec = members.find((m) => m.name === 'File') as {fields: Obj[]}
  const ff = members.find((m) => m.name === 'FileFlow') as {fields: Obj[]}
  proc.fields.find((f) => f.name === 'exe')!.type = 'bytes'
  fileRec.fields.find((f) => f.name === 'path')!.type = 'bytes'
  ff.fields.find((f) => f.name === 'tid')!.type = 'int'
  ff.fields.find((f) => f.name === 'endTs')!.type = ['long', 'null']
  ff.fields.find((f) => f.name === 'openFlags')!.type = ['null', 'int', 'string']
  const full = (name: string) => { const m = members.find((x) => x.name === name)!; return `${m.namespace as string}.${m.name as string}` }
  const BAD = [Buffer.from([0xff, 0xfe, 0x2c]), Buffer.from([0x61, 0xc3]), Buffer.from([0xe6, 0x97, 0xa5, 0x22]), Buffer.from('ok'), Buffer.from([0xed, 0xa0, 0x80, 0x0a])]
  const data: unknown[] = [{rec: {[full('SFHeader')]: {version: 5n, exporter: 'x', ip: 'i', filename: 'f'}}}]
  for (const [i, bad] of BAD.entries()) {
    const pOid = {hpid: BigInt(100 + i), createTS: 2n ** 60n + BigInt(i)}
    const foidBytes = Buffer.from(foid(i), 'hex')
    data.push(
      {rec: {[full('Process')]: {state: 'CREATED', oid: pOid, poid: null, ts: 1n, exe: bad, exeArgs: '', uid: 1, userName: 'u', gid: 2, groupName: 'g', tty: false, containerId: null, entry: true, cwd: '/', env: ['A=1']}}},
      {rec: {[full('File')]: {state: 'CREATED', oid: foidBytes, ts: 2n, restype: 1, path: bad, containerId: null}}},
      {rec: {[full('FileFlow')]: {
        procOID: pOid, ts: LONGS[i + 14], tid: -(2 ** 31) + i, opFlags: i, openFlags: [null, {int: i}, {string: 'no'}][i % 3], endTs: i % 2 ? null : {long: -(2n ** 63n)},
        fileOID: foidBytes, fd: i, numRRecvOps: 1n, numWSendOps: 2n, numRRecvBytes: 3n, numWSendBytes: 4n,
      }}},
    )
  }
  const buf = container(union, data)
  const printed = await allOptions(t, 'foreign schema', () => [chunked('foreign.sf', buf, 5)])
  t.is(printed, BAD.length)
})

test('damaged blocks: dropped alike, with the same warnings, and the rows around them the same', async (t) => {
  const buf = await written(edgeRecords(), {codec: 'null', blockBytes: 600})
  const bad = Buffer.from(buf)
  const {headerSize} = parseContainer(buf)
  for (let at = headerSize + 900; at < bad.length - 100; at += 1733) bad[at] = 0xff
  const r = await same(t, 'damaged', () => [chunked('damaged.sf', bad)])
  t.true(r.said.length > 0, 'the damage is reported')
  await same(t, 'damaged, then whole', () => [chunked('damaged.sf', bad), chunked('whole.sf', buf)], {limit: 50})
  // A truncated input: the partial block at its end.
  await same(t, 'truncated', () => [chunked('cut.sf', buf.subarray(0, buf.length - 333)), chunked('whole.sf', buf)])
  await same(t, 'strict', () => [chunked('damaged.sf', bad)], {strict: true})
})

test('ISO times in the second before the epoch (second -1) keep their prefix (the empty-slot mark was -1)', (t) => {
  t.is(isoNanos(-1n), '1969-12-31T23:59:59.999999999Z')
  t.is(isoNanos(-1_000_000_000n), '1969-12-31T23:59:59.000000000Z')
  t.is(isoNanos(-1_000_000_001n), '1969-12-31T23:59:58.999999999Z')
})

test('Output lends only to a synchronous stdout: a kept stream gets fresh chunks; the CLI to a file writes the row printer\'s bytes', async (t) => {
  const {PassThrough} = await import('node:stream')
  const {Output} = await import('../src/cli/output.js')
  t.is(new Output(new PassThrough()).writeLent, undefined)
  // stdout redirected to a file (a SyncWriteStream): the printer reuses one buffer; the file holds every row.
  const {spawnSync} = await import('node:child_process')
  const os = await import('node:os')
  const many = fixtures.filter((f) => !f.includes('variants'))
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'csv-lent-')), 'out.csv')
  const fd = fs.openSync(file, 'w')
  const r = spawnSync(process.execPath, ['bin/run.js', 'print', '-o', 'csv', ...many], {stdio: ['ignore', fd, 'pipe']})
  fs.closeSync(fd)
  const rows = await print(() => many.map((f) => fileInput(f)), {}, true)
  t.is(r.status, rows.said.length > 0 ? 1 : 0, r.stderr.toString())
  t.true(fs.readFileSync(file).equals(rows.out), firstDiff(rows.out, fs.readFileSync(file)))
  t.true(rows.out.length > 100_000)
  fs.rmSync(path.dirname(file), {recursive: true})
})

test('paths copied four bytes at a time: a byte that needs quoting or decoding at every offset of paths of every length', async (t) => {
  // The file columns test four path bytes at once (csv-columns.ts needsQuoting) and copy them through DataViews: a
  // quote, comma, LF, CR or non-ASCII byte anywhere in a word, or in the bytes after the last word, must take the
  // row printer's way; their neighbours (0x21, 0x23, 0x2b, 0x2d, 0x09, 0x0c, 0x0e, 0x7f) must not.
  const specials = ['"', ',', '\n', '\r', 'é', '日', '!', '#', '+', '-', '\t', '\f', '\u000e', '\u007f']
  const proc: Process = {kind: Kind.Process, state: 'CREATED', oid: oid(7n, 70n), poid: null, ts: 1n, exe: '/bin/x', exeArgs: '', uid: 0, userName: 'u', gid: 0, groupName: 'g', tty: false, containerId: null, entry: false, cwd: '/', env: []}
  const recs: SysFlowRecord[] = [{kind: Kind.Header, version: 5n, exporter: 'e', ip: '', filename: ''}, proc]
  const paths: string[] = []
  for (let len = 0; len <= 13; len++) {
    paths.push('abcdefghijklm'.slice(0, len))
    for (let at = 0; at < len; at++) for (const c of specials) paths.push('abcdefghijklm'.slice(0, at) + c + 'abcdefghijklm'.slice(at + 1, len))
  }
  paths.forEach((p, i) => {
    const file: SFFile = {kind: Kind.File, state: 'CREATED', oid: foid(i), ts: 1n, restype: 102, path: p, containerId: null}
    recs.push(file)
    recs.push({kind: Kind.FileFlow, procOID: proc.oid, ts: 1_700_000_000_000_000_000n + BigInt(i), tid: 7n, opFlags: 1, openFlags: 0, endTs: 1n, fileOID: file.oid, fd: 3, numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n})
    if (i > 0) recs.push({kind: Kind.FileEvent, procOID: proc.oid, ts: 1n, tid: 7n, opFlags: 2, fileOID: file.oid, ret: 0, newFileOID: i % 2 ? foid(i - 1) : null})
  })
  const buf = await written(recs, {codec: 'null', blockBytes: 3000})
  const cols = csvCols(['file.path', 'res', 'file.newpath'])
  const rows = await same(t, 'paths', () => [chunked('paths.sf', buf)], {columns: cols})
  await same(t, 'paths, default columns', () => [chunked('paths.sf', buf)])
  // res after file.path is copied from the line (when there is no new file and the path went the fast way): before
  // it, after it twice, with the buffer growing in between (a long -A line), and without file.path.
  for (const c of [['res', 'file.path', 'res', 'file.type', 'res'], ['file.path', 'file.newpath', 'file.path', 'res'], ['res', 'file.newpath']]) {
    await same(t, `paths -c ${c.join(',')}`, () => [chunked('paths.sf', buf)], {columns: csvCols(c)})
  }
  await same(t, 'paths -A', () => [chunked('paths.sf', buf)], {columns: chooseColumns('csv', {all: true})})
  // The row printer's bytes, checked outright for a few: quoted where needed, as they are otherwise.
  const lines = rows.out.toString('utf8').split('\r\n')
  t.is(lines.length, 1 + paths.length + (paths.length - 1) + 1)
  // A file flow's line for each path (its file event's follow it, with the previous path as the new path).
  const line = (p: string) => lines[paths.indexOf(p) === 0 ? 1 : 2 * paths.indexOf(p)]
  t.is(line('abcd"fgh'), '"abcd""fgh","abcd""fgh",')
  t.is(line('abcdefgh,'), '"abcdefgh,","abcdefgh,",')
  t.is(line('abcdefgh\r'), '"abcdefgh\r","abcdefgh\r",')
  t.is(line('abcdefg\u007f'), 'abcdefg\u007f,abcdefg\u007f,')
  t.is(line('abc#efgh'), 'abc#efgh,abc#efgh,')
  t.is(line('éb'), 'éb,éb,')
  t.is(line(''), ',,')
})

test('ts,ts_uts side by side (one cached text per second for both): seconds crossed both ways, below 2^53, before 1970', async (t) => {
  // csv-columns.ts TimePairWriter keeps "<ISO prefix>.#########Z,<seconds>#########" of the last second: a time of
  // another second, a time below 2^53 (a plain decimal) or before 1970 must not reuse it.
  const S = 1_700_000_000_000_000_000n
  const times = [
    S, S + 1n, S + 999_999_999n, S + 1_000_000_000n, S + 999_999_999n, S - 1n, S, 2n ** 53n, 2n ** 53n - 1n, 2n ** 53n + 999_999_999n, S + 5n,
    0n, 1n, -1n, -1_000_000_000n, S + 6n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 63n - 2n, 1_000_000_000n, S + 86_400_000_000_000n, S + 7n,
  ]
  const proc: Process = {kind: Kind.Process, state: 'CREATED', oid: oid(7n, 70n), poid: null, ts: 1n, exe: '/bin/x', exeArgs: '', uid: 0, userName: 'u', gid: 0, groupName: 'g', tty: false, containerId: null, entry: false, cwd: '/', env: []}
  const file: SFFile = {kind: Kind.File, state: 'CREATED', oid: foid(1), ts: 1n, restype: 102, path: '/f', containerId: null}
  const recs: SysFlowRecord[] = [{kind: Kind.Header, version: 5n, exporter: 'e', ip: '', filename: ''}, proc, file]
  times.forEach((ts, k) => {
    recs.push({kind: Kind.FileFlow, procOID: proc.oid, ts, tid: 7n, opFlags: 1, openFlags: 0, endTs: times[(k + 3) % times.length], fileOID: file.oid, fd: 3, numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n})
    recs.push({kind: Kind.FileEvent, procOID: proc.oid, ts: times[(k + 1) % times.length], tid: 7n, opFlags: 2, fileOID: file.oid, ret: 0, newFileOID: null})
  })
  const buf = await written(recs, {codec: 'null', blockBytes: 600})
  const input = () => [chunked('times.sf', buf)]
  await same(t, 'times, default columns', input)
  await same(t, 'times, pairs twice in a line', input, {columns: csvCols(['ts', 'ts_uts', 'endts', 'endts_uts', 'ts', 'ts_uts'])})
  await same(t, 'times, not side by side', input, {columns: csvCols(['ts_uts', 'ts', 'endts_uts', 'proc.tid', 'endts'])})
  const out = (await print(input, {columns: csvCols(['ts', 'ts_uts'])}, false)).out.toString('utf8').split('\r\n')
  t.is(out[1], '2023-11-14T22:13:20.000000000Z,1700000000000000000')
  t.is(out[5], '2023-11-14T22:13:20.999999999Z,1700000000999999999')
  t.is(out[7], '2023-11-14T22:13:21.000000000Z,1700000001000000000')
  t.is(out[9], '2023-11-14T22:13:20.999999999Z,1700000000999999999')
  t.is(out[11], '2023-11-14T22:13:19.999999999Z,1699999999999999999')
  t.is(out[15], '1970-04-15T05:59:59.254740992Z,9007199254740992')
  t.is(out[17], '1970-04-15T05:59:59.254740991Z,9007199254740991')
})

test('entity runs cached per context: a late parent and container, a process replaced mid-scope, one context with many files', async (t) => {
  // csv-columns.ts keeps each context-only run's bytes by context row: the join makes a new context when a parent or
  // container a context wanted arrives, or a process is exported again, so rows before and after must differ.
  const P = (hpid: bigint, exe: string, poid: {hpid: bigint; createTS: bigint} | null, containerId: string | null): Process => ({
    kind: Kind.Process, state: 'CREATED', oid: oid(hpid, hpid * 10n), poid, ts: 1n, exe, exeArgs: `${exe} -x`, uid: 0, userName: 'u', gid: 0,
    groupName: 'g', tty: false, containerId, entry: false, cwd: '/', env: [],
  })
  const files = [0, 1, 2].map((k): SFFile => ({kind: Kind.File, state: 'CREATED', oid: foid(k), ts: 1n, restype: 102, path: `/f${k}`, containerId: null}))
  const parent = P(1n, '/bin/parent', null, null)
  const a = P(2n, '/bin/a', parent.oid, null)
  const b = P(3n, '/bin/b', parent.oid, 'ctr-late')
  const ctr: Container = {kind: Kind.Container, id: 'ctr-late', name: 'late', image: 'img', imageid: 'i', type: 'CT_DOCKER', privileged: false, podId: null}
  const flow = (p: Process, k: number, ts: bigint): FileFlow => ({
    kind: Kind.FileFlow, procOID: p.oid, ts, tid: p.oid.hpid, opFlags: 1, openFlags: 0, endTs: ts + 1n, fileOID: files[k % 3].oid, fd: k, numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n,
  })
  const recs: SysFlowRecord[] = [{kind: Kind.Header, version: 5n, exporter: 'e', ip: '', filename: ''}, ...files, a, b]
  let ts = 1_700_000_000_000_000_000n
  const rows = (n: number) => {
    for (let k = 0; k < n; k++) recs.push(flow(k % 3 === 2 ? b : a, k, ts++))
  }
  rows(6) // no parent, no container yet
  recs.push(parent)
  rows(6) // the parent arrived: new contexts
  recs.push(ctr)
  rows(6) // the container arrived
  recs.push({...a, exe: '/bin/a-again'}, {...parent, exe: '/bin/parent-again'})
  rows(6) // both replaced
  const buf = await written(recs, {codec: 'null', blockBytes: 900})
  const input = () => [chunked('late.sf', buf)]
  await same(t, 'late entities', input)
  await same(t, 'late entities -A', input, {columns: chooseColumns('csv', {all: true})})
  const cols = ['proc.exe', 'pproc.exe', 'file.path', 'container.name', 'proc.aname', 'pproc.pid']
  await same(t, 'late entities -c', input, {columns: csvCols(cols)})
  const out = (await print(input, {columns: csvCols(cols)}, false)).out.toString('utf8').split('\r\n').slice(1, -1)
  // proc.aname: the ancestry's names as a JSON list, quoted.
  const an = (...n: string[]) => `"[${n.map((x) => `""${x}""`).join(', ')}]"`
  t.deepEqual(out, [
    `/bin/a,,/f0,,${an('a')},`, `/bin/a,,/f1,,${an('a')},`, `/bin/b,,/f2,,${an('b')},`, `/bin/a,,/f0,,${an('a')},`, `/bin/a,,/f1,,${an('a')},`, `/bin/b,,/f2,,${an('b')},`,
    `/bin/a,/bin/parent,/f0,,${an('a', 'parent')},1`, `/bin/a,/bin/parent,/f1,,${an('a', 'parent')},1`, `/bin/b,/bin/parent,/f2,,${an('b', 'parent')},1`,
    `/bin/a,/bin/parent,/f0,,${an('a', 'parent')},1`, `/bin/a,/bin/parent,/f1,,${an('a', 'parent')},1`, `/bin/b,/bin/parent,/f2,,${an('b', 'parent')},1`,
    `/bin/a,/bin/parent,/f0,,${an('a', 'parent')},1`, `/bin/a,/bin/parent,/f1,,${an('a', 'parent')},1`, `/bin/b,/bin/parent,/f2,late,${an('b', 'parent')},1`,
    `/bin/a,/bin/parent,/f0,,${an('a', 'parent')},1`, `/bin/a,/bin/parent,/f1,,${an('a', 'parent')},1`, `/bin/b,/bin/parent,/f2,late,${an('b', 'parent')},1`,
    `/bin/a-again,/bin/parent-again,/f0,,${an('a-again', 'parent-again')},1`, `/bin/a-again,/bin/parent-again,/f1,,${an('a-again', 'parent-again')},1`,
    `/bin/b,/bin/parent-again,/f2,late,${an('b', 'parent-again')},1`, `/bin/a-again,/bin/parent-again,/f0,,${an('a-again', 'parent-again')},1`,
    `/bin/a-again,/bin/parent-again,/f1,,${an('a-again', 'parent-again')},1`, `/bin/b,/bin/parent-again,/f2,late,${an('b', 'parent-again')},1`,
  ])
})
