// A small trace for the examples' exact-output tests, written with the project's writer: execs in two containers
// and on the host, network flows to several ports (two to the same one, to be summed), and /etc/shadow opened for
// reading, read, and opened for writing only (the last is no alert), plus /etc/passwd read (no alert either).
import path from 'node:path'
import {foid, ipInt} from '../../scripts/fixture-records.js'
import {Kind, OID, SysFlowRecord} from '../../src/format/records.js'
import {fileSink, TraceWriter} from '../../src/format/writer.js'

const T0 = 1_700_000_100_000_000_000n
const ns = (ms: number): bigint => T0 + BigInt(ms) * 1_000_000n + 7n

export function exampleRecords(): SysFlowRecord[] {
  const web = 'a1b2c3d4e5f6'
  const db = '0f1e2d3c4b5a'
  const oid = (hpid: bigint, ms: number): OID => ({hpid, createTS: ns(ms)})
  const init = oid(1n, 0)
  const sshd = oid(700n, 1)
  const bash = oid(900n, 10)
  const cat = oid(901n, 12)
  const psql = oid(500n, 20)
  const proc = (o: OID, p: OID | null, exe: string, args: string, cid: string | null, uid: number, user: string): SysFlowRecord => ({
    kind: Kind.Process, state: 'CREATED', oid: o, poid: p, ts: o.createTS, exe, exeArgs: args, uid, userName: user, gid: uid, groupName: user,
    tty: false, containerId: cid, entry: false, cwd: '/', env: [],
  })
  const file = (p: string, cid: string | null, ms: number): SysFlowRecord => ({kind: Kind.File, state: 'CREATED', oid: foid(cid, p), ts: ns(ms), restype: 'f'.codePointAt(0)!, path: p, containerId: cid})
  const pe = (o: OID, ms: number, opFlags: number, ret = 0): SysFlowRecord => ({kind: Kind.ProcessEvent, procOID: o, ts: ns(ms), tid: o.hpid, opFlags, args: [], ret})
  const ff = (o: OID, ms: number, p: string, cid: string | null, opFlags: number, openFlags: number, rBytes: bigint): SysFlowRecord => ({
    kind: Kind.FileFlow, procOID: o, ts: ns(ms), tid: o.hpid, opFlags, openFlags, endTs: ns(ms + 1), fileOID: foid(cid, p), fd: 3,
    numRRecvOps: rBytes > 0n ? 1n : 0n, numWSendOps: 0n, numRRecvBytes: rBytes, numWSendBytes: 0n,
  })
  const nf = (o: OID, ms: number, dip: string, dport: number, recv: bigint, sent: bigint): SysFlowRecord => ({
    kind: Kind.NetworkFlow, procOID: o, ts: ns(ms), tid: o.hpid, opFlags: 64 | 256 | 512 | 1024, endTs: ns(ms + 2), sip: ipInt('172.17.0.2'), sport: 40000 + ms,
    dip: ipInt(dip), dport, proto: 6, fd: 5, numRRecvOps: 1n, numWSendOps: 1n, numRRecvBytes: recv, numWSendBytes: sent,
  })
  const OPEN = 128, READ = 256, WRITE = 512, CLOSE = 1024, CLONE = 1, EXEC = 2
  const RDONLY = 1, WRONLY = 2
  return [
    {kind: Kind.Header, version: 5n, exporter: 'example-node', ip: '10.0.0.9', filename: '/var/sysflow/examples.sf'},
    {kind: Kind.Container, id: web, name: 'web', image: 'nginx:1.25', imageid: 'sha256:0a1b', type: 'CT_DOCKER', privileged: false, podId: null},
    {kind: Kind.Container, id: db, name: 'db', image: 'postgres:16', imageid: 'sha256:2c3d', type: 'CT_DOCKER', privileged: false, podId: null},
    proc(init, null, '/sbin/init', '', null, 0, 'root'),
    proc(sshd, init, '/usr/sbin/sshd', '-D', null, 0, 'root'),
    file('/etc/shadow', null, 2),
    file('/etc/passwd', null, 2),
    ff(sshd, 3, '/etc/passwd', null, OPEN | READ | CLOSE, RDONLY, 2048n),
    ff(sshd, 4, '/etc/shadow', null, OPEN | CLOSE, RDONLY, 0n), // opened for reading: an alert
    nf(sshd, 5, '10.0.0.9', 22, 3000n, 4000n),
    proc(bash, init, '/bin/bash', '-c cat /etc/shadow', web, 0, 'root'),
    pe(bash, 11, EXEC),
    pe(bash, 12, CLONE, 901),
    proc(cat, bash, '/usr/bin/cat', '/etc/shadow', web, 0, 'root'),
    pe(cat, 13, EXEC),
    file('/etc/shadow', web, 14),
    ff(cat, 14, '/etc/shadow', web, OPEN | READ | CLOSE, RDONLY, 1234n), // read: an alert
    proc(psql, init, '/usr/bin/psql', '-h 10.0.0.5 shop', db, 999, 'postgres'),
    pe(psql, 21, EXEC),
    nf(psql, 22, '10.0.0.5', 5432, 1000n, 200n),
    nf(psql, 26, '10.0.0.5', 5432, 24n, 6n),
    nf(psql, 30, '10.0.0.6', 443, 5_000_000_000n, 77n),
    ff(sshd, 40, '/etc/shadow', null, OPEN | WRITE | CLOSE, WRONLY, 0n), // written, never read: no alert
    pe(cat, 41, 4), // EXIT
  ]
}

/** Write the trace as `examples.sf` in `dir`; returns its path. */
export async function writeExamplesTrace(dir: string): Promise<string> {
  const file = path.join(dir, 'examples.sf')
  const w = new TraceWriter(fileSink(file), {sync: Buffer.alloc(16, 7)})
  for (const r of exampleRecords()) await w.write(r)
  await w.close()
  return file
}
