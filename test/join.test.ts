// The joined view takes each record's references as they stand when the record is joined, even when later
// records of the same block replace an entity.
import test from 'ava'
import {joinedBatches} from '../src/format/pipeline.js'
import {bufferInput} from '../src/format/reader.js'
import {Kind, OID, Process, SysFlowRecord} from '../src/format/records.js'
import {bufferSink, TraceWriter} from '../src/format/writer.js'
import {findAttribute} from '../src/format/attributes.js'

const proc = (oid: OID, poid: OID | null, exe: string, state: Process['state']): Process => ({
  kind: Kind.Process, state, oid, poid, ts: 1n, exe, exeArgs: '', uid: 0, userName: 'root', gid: 0, groupName: 'root', tty: false, containerId: null, entry: false, cwd: '/', env: [],
})
const pe = (oid: OID, ts: bigint): SysFlowRecord => ({kind: Kind.ProcessEvent, procOID: oid, ts, tid: oid.hpid, opFlags: 2, args: [], ret: 0})

test('ancestry and parent are those of the moment each record was joined, within one block', async (t) => {
  const parent = {hpid: 10n, createTS: 0n}
  const child = {hpid: 11n, createTS: 5n}
  const recs: SysFlowRecord[] = [
    {kind: Kind.Header, version: 5n, exporter: 'x', ip: '', filename: ''},
    proc(parent, null, '/bin/sh', 'CREATED'),
    proc(child, parent, '/usr/bin/app', 'CREATED'),
    pe(child, 100n),
    proc(parent, null, '/usr/sbin/httpd', 'MODIFIED'),
    pe(child, 200n),
  ]
  const sink = bufferSink()
  const w = new TraceWriter(sink)
  for (const r of recs) await w.write(r)
  await w.close()
  const aname = findAttribute('sf.proc.aname')!
  const pexe = findAttribute('sf.pproc.exe')!
  const seen: [unknown, unknown][] = []
  for await (const batch of joinedBatches([bufferInput('t.sf', sink.result())])) {
    t.is(batch.length, 2, 'one block')
    for (const j of batch) seen.push([aname.value(j), pexe.value(j)])
  }
  t.deepEqual(seen, [[['app', 'sh'], '/bin/sh'], [['app', 'httpd'], '/usr/sbin/httpd']])
})

/** Join records written in one block; for each event, the value of each named attribute. */
async function joinValues(recs: SysFlowRecord[], names: string[]): Promise<unknown[][]> {
  const sink = bufferSink()
  const w = new TraceWriter(sink)
  for (const r of recs) await w.write(r)
  await w.close()
  const attrs = names.map((n) => findAttribute(n)!)
  const out: unknown[][] = []
  for await (const batch of joinedBatches([bufferInput('t.sf', sink.result())])) for (const j of batch) out.push(attrs.map((a) => a.value(j)))
  return out
}

test('a parent that arrives after its child joins the child\'s later records: parent and ancestry alike', async (t) => {
  const grand = {hpid: 9n, createTS: 0n}
  const parent = {hpid: 10n, createTS: 1n}
  const child = {hpid: 11n, createTS: 5n}
  const seen = await joinValues([
    {kind: Kind.Header, version: 5n, exporter: 'x', ip: '', filename: ''},
    proc(child, parent, '/usr/bin/app', 'CREATED'),
    pe(child, 100n),
    pe(child, 110n),
    proc(parent, grand, '/bin/sh', 'REUP'),
    pe(child, 200n),
    proc(grand, null, '/sbin/init', 'REUP'),
    pe(child, 300n),
    pe(child, 310n),
  ], ['sf.proc.aname', 'sf.pproc.exe'])
  t.deepEqual(seen, [
    [['app'], undefined],
    [['app'], undefined],
    [['app', 'sh'], '/bin/sh'],
    [['app', 'sh', 'init'], '/bin/sh'],
    [['app', 'sh', 'init'], '/bin/sh'],
  ])
})

test('records of one process follow a container or pod that arrives or changes between them', async (t) => {
  const p = {hpid: 20n, createTS: 2n}
  const inContainer: Process = {...proc(p, null, '/bin/app', 'CREATED'), containerId: 'c1'}
  const seen = await joinValues([
    {kind: Kind.Header, version: 5n, exporter: 'x', ip: '', filename: ''},
    inContainer,
    pe(p, 100n),
    {kind: Kind.Container, id: 'c1', name: 'web', image: 'nginx', imageid: 'i1', type: 'CT_DOCKER', privileged: false, podId: null},
    pe(p, 200n),
    {kind: Kind.Container, id: 'c1', name: 'web-2', image: 'nginx', imageid: 'i1', type: 'CT_DOCKER', privileged: true, podId: null},
    pe(p, 300n),
  ], ['sf.container.name', 'sf.container.privileged'])
  t.deepEqual(seen, [[undefined, undefined], ['web', false], ['web-2', true]])
})
