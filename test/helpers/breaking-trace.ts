// Synthetic traces built to break what is made from the joined columns (the loader's narrow tables, the Parquet
// writer's keys): entities replaced, late and missing, OIDs above 2^53, every string edge.
import fs from 'node:fs'
import {Container, FileEvent, FileFlow, Kind, NetworkFlow, Pod, Process, ProcessEvent, File as SFFile, SysFlowRecord} from '../../src/format/records.js'
import {bufferSink, TraceWriter, WriterOptions} from '../../src/format/writer.js'


const oid = (hpid: bigint, createTS: bigint) => ({hpid, createTS})
/** FOIDs: 20 bytes; `i` picks them, `tail` makes ones that share the first 16 bytes. */
const foid = (i: number, tail = 0) => (i.toString(16).padStart(8, '0') + 'cd'.repeat(12) + tail.toString(16).padStart(8, '0')).slice(-40)
export const TEXTS = ['', 'ascii', 'héllo wörld', '日本語/🙂', '\u0000ctl\u001b[31m\ttab\nnl', 'x'.repeat(23), 'x'.repeat(24), '/shared/prefix/'.repeat(9) + 'a', '/shared/prefix/'.repeat(9) + 'b', '\ud800lone']
/** OIDs the row path would lose digits of as numbers: above 2^53, negative, the extremes. */
/** Timestamps (the views show them as TIMESTAMP_NS, which has a narrower range than a long). */
export const TS = 1_700_000_000_123_456_789n
export const BIG = [2n ** 53n + 1n, 2n ** 62n + 3n, 2n ** 63n - 1n, -(2n ** 63n), -1n, 0n, 9_007_199_254_740_993n, 1_700_000_000_123_456_789n]

/**
 * Entities replaced (the same OID/FOID exported again with other values, and again with the same ones), referenced
 * before they arrive and never, parents that come later, cycles, containers and pods missing; every string edge.
 */
export function breakingRecords(round: number, distinct = 40): SysFlowRecord[] {
  const out: SysFlowRecord[] = [{kind: Kind.Header, version: 5n, exporter: `break-${round}`, ip: '10.0.0.2', filename: TEXTS[round % TEXTS.length]}]
  const pod: Pod = {kind: Kind.Pod, ts: 1n, id: 'pod-a', name: 'p', nodeName: 'n', hostIP: [1n], internalIP: [], namespace: 'ns', restartCount: 0n, labels: {}, selectors: {}, services: []}
  const ctr: Container = {kind: Kind.Container, id: 'ctr-a', name: 'c', image: 'i', imageid: 'id', type: 'CT_DOCKER', privileged: false, podId: 'pod-a'}
  for (let i = 0; i < distinct; i++) {
    const s = TEXTS[(i + round) % TEXTS.length]
    const me = oid(BIG[i % BIG.length] + BigInt(i), BIG[(i + 3) % BIG.length])
    const parent = oid(BIG[(i + 1) % BIG.length] + BigInt(i + 1), BIG[(i + 4) % BIG.length])
    const proc: Process = {
      kind: Kind.Process, state: (['CREATED', 'MODIFIED', 'REUP', 'MODIFIED'] as const)[i % 4], oid: me, poid: i % 7 === 0 ? null : parent, ts: TS + BigInt(i),
      exe: `${s}/exe${i % 5}`, exeArgs: i % 3 ? s : `${s} --arg=${i}`, uid: i % 2 ? -1 : 2 ** 31 - 1, userName: s, gid: -(2 ** 31), groupName: TEXTS[i % TEXTS.length], tty: i % 2 === 0,
      containerId: [null, 'ctr-a', 'ctr-missing', ''][i % 4], entry: i % 3 === 0, cwd: `/cwd/${i % 3}/${s}`, env: i % 2 ? [] : [s, 'K=V', s],
    }
    const file: SFFile = {kind: Kind.File, state: i % 2 ? 'MODIFIED' : 'CREATED', oid: foid(i % 9, i), ts: TS - BigInt(i), restype: i, path: `/p/${s}/${i % 4}`, containerId: i % 2 ? null : 'ctr-a'}
    const base = {procOID: me, ts: TS + BigInt(i * 1000), tid: BIG[i % BIG.length], opFlags: (i * 37) & 0xfff}
    const ff: FileFlow = {kind: Kind.FileFlow, ...base, openFlags: i, endTs: TS + BigInt(i * 1000 + 7), fileOID: file.oid, fd: i, numRRecvOps: BIG[(i + 1) % BIG.length], numWSendOps: 1n, numRRecvBytes: -1n, numWSendBytes: BIG[(i + 2) % BIG.length]}
    const fe: FileEvent = {kind: Kind.FileEvent, ...base, fileOID: file.oid, ret: -i, newFileOID: [null, file.oid, foid(99, 99)][i % 3]}
    const nf: NetworkFlow = {kind: Kind.NetworkFlow, ...base, endTs: 5n, sip: -1, sport: 65535, dip: 2 ** 31 - 1, dport: 0, proto: 17, fd: -i, numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n}
    const pe: ProcessEvent = {kind: Kind.ProcessEvent, ...base, args: [s], ret: i}
    // Referenced before it arrives (unresolved), then the entities, then resolved records.
    out.push(ff)
    if (i === 3) out.push(ctr)
    if (i === 6) out.push(pod)
    out.push(proc, file, ff, fe, nf, pe)
    // The parent arrives after its child (the child's contexts change), and is exported again unchanged.
    const parentProc: Process = {...proc, oid: parent, poid: i % 5 === 0 ? me : null, exe: `${s}/parent`}
    out.push(parentProc, ff)
    if (i % 4 === 1) out.push({...parentProc}, pe)
    // A grandparent exported again with another exe: the same process and parent, another ancestry (proc_aexe).
    if (i % 4 === 2) {
      const grand: Process = {...proc, oid: oid(BigInt(-1000 - i), TS), poid: null, exe: `${s}/grand`}
      out.push(grand, {...parentProc, poid: grand.oid}, ff, {...grand, exe: `${s}/grand-again`}, ff, pe)
    }
    // The same process and file exported again with other values (the latest wins), and again as they were.
    if (i % 3 === 2) out.push({...proc, exe: `${s}/updated`, env: null as unknown as string[]}, {...file, path: `${file.path}/updated`}, ff, fe, {...proc}, ff)
    // A record of a process never exported, and of a file never exported.
    if (i % 6 === 5) out.push({...ff, procOID: oid(-5n, BIG[i % BIG.length])}, {...ff, fileOID: foid(77, i)})
  }
  out.push({kind: Kind.K8sEvent, component: 'K8S_PODS', action: 'K8S_COMPONENT_ADDED', ts: 2n ** 62n, message: '{"m":"日本"}\n\u0000'})
  return out
}

export async function writeTrace(file: string, records: SysFlowRecord[], opts: WriterOptions): Promise<string> {
  const sink = bufferSink()
  const w = new TraceWriter(sink, opts)
  for (const r of records) await w.write(r)
  await w.close()
  fs.writeFileSync(file, sink.result())
  return file
}

