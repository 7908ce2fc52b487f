// The records of the project's own small fixtures: one short, plausible story (a shell in a pod-hosted container
// runs curl, which reads /etc/hosts, talks to a service, renames a file; a k8s event arrives) that uses every
// record type. `fixtureRecords(version)` returns the records a writer of that schema version can hold, in the
// collector's layout: header first, each entity before the first record that references it.
import crypto from 'node:crypto'
import {Kind, OID, SysFlowRecord} from '../src/format/records.js'
import {headerVersion, SchemaVersion} from '../src/format/schema.js'

/** FOID as the collector computes it: SHA-1 of the container id (or nothing) followed by the path. */
export function foid(containerId: string | null, path: string): string {
  return crypto.createHash('sha1').update((containerId ?? '') + path).digest('hex')
}

/** IPv4 in SysFlow's int encoding (first octet in the least significant byte), as a signed int32. */
export function ipInt(dotted: string): number {
  const [a, b, c, d] = dotted.split('.').map(Number)
  return (a | (b << 8) | (c << 16) | (d << 24)) | 0
}

const T0 = 1_700_000_000_123_456_789n // 2023-11-14T22:13:20.123456789Z: above 2^53, as real timestamps are
const ns = (us: number) => T0 + BigInt(us) * 1000n

export function fixtureRecords(version: SchemaVersion): SysFlowRecord[] {
  const n = version === '1000ms' || version === '1000' ? 1 : version === '1001' ? 1.5 : Number(version)
  const k8s = n >= 4
  const cid = 'c0ffee123456'
  const shell: OID = {hpid: 4242n, createTS: ns(1)}
  const curl: OID = {hpid: 4243n, createTS: ns(10)}
  const init: OID = {hpid: 1n, createTS: 0n}
  const v5 = n >= 5
  const proc = (oid: OID, poid: OID | null, exe: string, args: string, state: 'CREATED' | 'MODIFIED' | 'REUP', ts: bigint, containerId: string | null, uid = 1000): SysFlowRecord => ({
    kind: Kind.Process, state, oid, poid, ts, exe, exeArgs: args, uid, userName: uid === 0 ? 'root' : 'alice', gid: uid, groupName: uid === 0 ? 'root' : 'staff',
    tty: true, containerId, entry: n >= 1.5 ? oid === init : undefined, cwd: v5 ? '/home/alice' : undefined, env: v5 ? ['HOME=/home/alice', 'TERM=xterm', ''] : undefined,
  })
  const file = (path: string, restype: string, ts: bigint, containerId: string | null = cid): SysFlowRecord => ({
    kind: Kind.File, state: 'CREATED', oid: foid(containerId, path), ts, restype: restype.codePointAt(0)!, path, containerId,
  })
  const recs: SysFlowRecord[] = [
    {kind: Kind.Header, version: headerVersion(version), exporter: 'fixture-node', ip: n >= 1.5 ? '10.0.0.7' : undefined, filename: n >= 3 ? `/var/sysflow/fixture-v${version}.sf` : undefined},
  ]
  if (k8s) {
    recs.push({
      kind: Kind.Pod, ts: ns(0), id: 'pod-7f3a', name: 'web-5d4c', nodeName: 'node-1', hostIP: [BigInt(ipInt('192.168.59.100') >>> 0)],
      internalIP: [BigInt(ipInt('172.17.0.16') >>> 0)], namespace: 'shop', restartCount: 2n,
      labels: Object.assign(Object.create(null), {app: 'web', tier: 'front'}), selectors: Object.assign(Object.create(null), {app: 'web'}),
      services: [{name: 'web', id: 'svc-1', namespace: 'shop', portList: [{port: 80, targetPort: 8080, nodePort: 0, proto: 'TCP'}], clusterIP: [BigInt(ipInt('10.96.0.12') >>> 0)]}],
    })
  }
  recs.push(
    {kind: Kind.Container, id: cid, name: 'web', image: 'nginx:1.25', imageid: 'sha256:abc123', type: 'CT_DOCKER', privileged: false, podId: k8s ? 'pod-7f3a' : undefined},
    proc(init, null, '/sbin/init', '', 'REUP', ns(0), null, 0),
    proc(shell, init, '/bin/bash', '-l', 'CREATED', ns(1), cid),
    {kind: Kind.ProcessEvent, procOID: shell, ts: ns(2), tid: 4242n, opFlags: 1, args: [], ret: 4243},
    proc(curl, shell, '/usr/bin/curl', '-s http://web/', 'CREATED', ns(10), cid),
    {kind: Kind.ProcessEvent, procOID: curl, ts: ns(11), tid: 4243n, opFlags: 2, args: [], ret: 0},
    file('/etc/hosts', 'f', ns(12)),
    {kind: Kind.FileFlow, procOID: curl, ts: ns(12), tid: 4243n, opFlags: 128 | 256 | 1024, openFlags: 1 | 4096, endTs: ns(13), fileOID: foid(cid, '/etc/hosts'), fd: 3, numRRecvOps: 1n, numWSendOps: 0n, numRRecvBytes: 220n, numWSendBytes: 0n},
    {kind: Kind.NetworkFlow, procOID: curl, ts: ns(20), tid: 4243n, opFlags: 64 | 512 | 256 | 1024, endTs: ns(25), sip: ipInt('172.17.0.16'), sport: 40556, dip: ipInt('10.96.0.12'), dport: 80, proto: 6, fd: 4, numRRecvOps: 3n, numWSendOps: 1n, numRRecvBytes: 5_000_000_000n, numWSendBytes: 77n},
    {kind: Kind.NetworkEvent, procOID: curl, ts: ns(21), tid: 4243n, opFlags: 64, sip: ipInt('172.17.0.16'), sport: 40557, dip: ipInt('10.96.0.12'), dport: 443, proto: 6, ret: -111},
    file('/tmp/out.part', 'f', ns(30)),
    file('/tmp/out.html', 'f', ns(30)),
    {kind: Kind.FileEvent, procOID: curl, ts: ns(31), tid: 4243n, opFlags: 1 << 20, fileOID: foid(cid, '/tmp/out.part'), ret: 0, newFileOID: foid(cid, '/tmp/out.html')},
    {kind: Kind.FileEvent, procOID: curl, ts: ns(32), tid: 4243n, opFlags: 1 << 18, fileOID: foid(cid, '/tmp/out.html'), ret: -2, newFileOID: null},
    {kind: Kind.ProcessEvent, procOID: curl, ts: ns(40), tid: 4243n, opFlags: 4, args: [], ret: 0},
    {kind: Kind.ProcessEvent, procOID: shell, ts: ns(41), tid: 4242n, opFlags: 8, args: ['root'], ret: 0},
  )
  if (n >= 1.5) {
    recs.push({kind: Kind.ProcessFlow, procOID: shell, ts: ns(1), numThreadsCloned: 3n, opFlags: 1 | 4, endTs: ns(50), numThreadsExited: 2n, numCloneErrors: 0n})
  }
  if (k8s) {
    const msg = JSON.stringify({apiVersion: 'v1', items: [{name: 'web-5d4c', namespace: 'shop', hostIP: '192.168.59.100', labels: {app: 'web'}}], kind: 'Pod', type: 'MODIFIED'})
    recs.push({kind: Kind.K8sEvent, component: 'K8S_PODS', action: 'K8S_COMPONENT_MODIFIED', ts: ns(60), message: `${msg}\n\u0000`})
  }
  return recs
}
