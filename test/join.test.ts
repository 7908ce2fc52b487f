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
