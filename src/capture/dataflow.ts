// The collector's data-flow processor (dataflowprocessor.cpp, fileflowprocessor.cpp, networkflowprocessor.cpp):
// FileFlows and NetworkFlows aggregated per (thread, fd, file or 4-tuple), written at close (after their related
// flows on other threads), truncated at exit and at the end, exported every interval, dropped when idle.
import {OpFlag} from '../format/flags.js'
import {Kind} from '../format/records.js'
import type {FileContext, ProcessContext} from './context.js'
import {FFlow, fileFlowKey, Flow, FlowTable, netFlowKey, NFlow, relatedKey} from './flows.js'
import type {RecordSink} from './sink.js'
import type {Fd, Thread, ThreadTable} from './state.js'

const PPM_O_RDONLY = 1
const READ_PREFIXES_HEAD = ['/proc/', '/dev/', '/sys/', '//sys/', '/lib/', '/lib64/', '/usr/lib/', '/usr/lib64/']
const READ_PREFIXES_COMPAT = ['/proc/', '/dev/', '/sys/', '//sys/']

export interface DataFlowOptions {
  compat: boolean
  /** FILE_READ_MODE: 0 keep all, 1 drop read flows on system paths, 2 drop them when read-only. */
  readMode: number
  exportNs: bigint
  expireNs: bigint
}

export class DataFlowProcessor {
  readonly flows = new FlowTable()
  private readonly readPrefixes: string[]
  /** The flows handed out while the sink is quiet: updated like any flow, never stored or written. */
  private readonly dummyFile: FFlow = dummyFlow(false) as FFlow
  private readonly dummyNet: NFlow = dummyFlow(true) as NFlow

  constructor(
    private readonly sink: RecordSink,
    private readonly threads: ThreadTable,
    private readonly procs: ProcessContext,
    private readonly files: FileContext,
    private readonly o: DataFlowOptions,
  ) {
    this.readPrefixes = o.compat ? READ_PREFIXES_COMPAT : READ_PREFIXES_HEAD
  }

  /** The FileFlow of thread `t` on `fd` (keyed by file, container, thread and fd), created if new. */
  fileFlow(t: Thread, fd: number, fdi: Fd, ts: bigint): FFlow {
    if (this.sink.quiet) return this.dummyFile
    const pid = this.threads.mainOf(t).pid
    const c = fdi.flow as Flow | undefined
    if (c !== undefined && c.inTable && !c.net && c.tidNum === t.tid && c.fd === fd && c.pid === pid && c.path === fdi.name && c.containerId === t.containerId) {
      c.lastUpdate = ts
      return c
    }
    const key = fileFlowKey(pid, t.tid, fd, t.containerId, fdi.name)
    let f = this.flows.get(key) as FFlow | undefined
    if (f === undefined) {
      const proc = this.procs.getProcess(t, 'REUP', ts)
      const oid = this.files.write(t.containerId, fdi.name, 'REUP', fdi.type.charCodeAt(0), ts)
      f = {
        net: false, key, rkey: relatedKey(key), pid: proc.pid, tidNum: t.tid, containerId: t.containerId, inTable: false, procOID: proc.rec.oid, ts, tid: BigInt(t.tid), opFlags: 0, fd, lastUpdate: ts, exportTime: ts + this.o.exportNs,
        numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n, openFlags: 0, fileOID: oid, path: fdi.name,
      }
      this.flows.add(f)
    }
    fdi.flow = f
    f.lastUpdate = ts
    return f
  }

  /** The NetworkFlow of thread `t` on `fd` (keyed by thread, fd and 4-tuple), created if new. */
  netFlow(t: Thread, fd: number, fdi: Fd, ts: bigint): NFlow {
    if (this.sink.quiet) return this.dummyNet
    const pid = this.threads.mainOf(t).pid
    const c = fdi.flow as Flow | undefined
    if (c !== undefined && c.inTable && c.net && c.tidNum === t.tid && c.fd === fd && c.pid === pid && c.sip === fdi.sip && c.sport === fdi.sport && c.dip === fdi.dip && c.dport === fdi.dport) {
      c.lastUpdate = ts
      return c
    }
    const key = netFlowKey(pid, t.tid, fd, fdi.sip, fdi.sport, fdi.dip, fdi.dport)
    let f = this.flows.get(key) as NFlow | undefined
    if (f === undefined) {
      const proc = this.procs.getProcess(t, 'REUP', ts)
      f = {
        net: true, key, rkey: relatedKey(key), pid: proc.pid, tidNum: t.tid, containerId: '', inTable: false, procOID: proc.rec.oid, ts, tid: BigInt(t.tid), opFlags: 0, fd, lastUpdate: ts, exportTime: ts + this.o.exportNs,
        numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n, sip: fdi.sip, sport: fdi.sport, dip: fdi.dip, dport: fdi.dport, proto: fdi.proto || 6,
      }
      this.flows.add(f)
    }
    fdi.flow = f
    f.lastUpdate = ts
    return f
  }

  /** A read or write: ops always counted, bytes when the result is positive. */
  count(f: Flow, write: boolean, res: number): void {
    if (write) {
      f.opFlags |= OpFlag.WRITE_SEND
      f.numWSendOps++
      if (res > 0) f.numWSendBytes += BigInt(res)
    } else {
      f.opFlags |= OpFlag.READ_RECV
      f.numRRecvOps++
      if (res > 0) f.numRRecvBytes += BigInt(res)
    }
  }

  /** Many reads and writes at once (the eBPF probe's aggregates): ops and the positive results' bytes, summed. */
  countMany(f: Flow, rOps: number, rBytes: bigint, wOps: number, wBytes: bigint): void {
    if (wOps > 0) {
      f.opFlags |= OpFlag.WRITE_SEND
      f.numWSendOps += BigInt(wOps)
      f.numWSendBytes += wBytes
    }
    if (rOps > 0) {
      f.opFlags |= OpFlag.READ_RECV
      f.numRRecvOps += BigInt(rOps)
      f.numRRecvBytes += rBytes
    }
  }

  /** OP_CLOSE: the flow is written after its related flows, and leaves the table. */
  close(f: Flow, ts: bigint): void {
    f.opFlags |= OpFlag.CLOSE
    this.writeRelated(f, ts)
    this.write(f, ts, false)
    this.flows.delete(f)
  }

  /** Consumer mode: an open is written at once (endTs = ts) and kept nowhere. */
  writeOnce(f: Flow, ts: bigint): void {
    this.write(f, ts, false)
    this.flows.delete(f)
  }

  private dropRead(f: FFlow): boolean {
    if (this.o.readMode === 0) return false
    if (!this.readPrefixes.some((p) => f.path.startsWith(p))) return false
    if (this.o.readMode === 1) return true
    const onlyRead = (f.opFlags & OpFlag.READ_RECV) !== 0 && (f.opFlags & OpFlag.WRITE_SEND) === 0
    return (f.openFlags & PPM_O_RDONLY) !== 0 || onlyRead
  }

  /** The writer: flows with no operation (or only OP_TRUNCATE) are dropped, like the read-filtered file flows. */
  private write(f: Flow, endTs: bigint, truncate: boolean): void {
    if (f === this.dummyFile || f === this.dummyNet) return
    const flags = f.opFlags | (truncate ? OpFlag.TRUNCATE : 0)
    if ((flags & ~OpFlag.TRUNCATE) === 0) return
    this.procs.ensure(f.procOID)
    if (!f.net) this.files.ensure(f.fileOID)
    if (f.net) {
      this.sink.out.push({
        kind: Kind.NetworkFlow, procOID: f.procOID, ts: f.ts, tid: f.tid, opFlags: flags, endTs, sip: f.sip, sport: f.sport, dip: f.dip, dport: f.dport,
        proto: f.proto, fd: f.fd, numRRecvOps: f.numRRecvOps, numWSendOps: f.numWSendOps, numRRecvBytes: f.numRRecvBytes, numWSendBytes: f.numWSendBytes,
      })
    } else {
      if (this.dropRead(f)) return
      this.sink.out.push({
        kind: Kind.FileFlow, procOID: f.procOID, ts: f.ts, tid: f.tid, opFlags: flags, openFlags: f.openFlags, endTs, fileOID: f.fileOID, fd: f.fd,
        numRRecvOps: f.numRRecvOps, numWSendOps: f.numWSendOps, numRRecvBytes: f.numRRecvBytes, numWSendBytes: f.numWSendBytes,
      })
    }
  }

  /**
   * Exit (removeAndWriteDFFromProc): the flows of process `pid` are written with OP_TRUNCATE and endTs = the exit
   * time; all of them when the main thread exits (`tid` -1), else those of thread `tid`, each after its related
   * flows on other threads.
   */
  flushFlows(pid: number, tid: number, ts: bigint): void {
    const t = BigInt(tid)
    for (const f of this.flows.values()) {
      if (f.pid !== pid || (tid !== -1 && f.tid !== t)) continue
      if (tid !== -1) this.writeRelated(f, ts)
      this.write(f, ts, true)
      this.flows.delete(f)
    }
  }

  /** removeAndWriteRelatedFlows: before flow `f` is written, its related flows on other threads, truncated. */
  private writeRelated(f: Flow, ts: bigint): void {
    const related = this.flows.takeRelated(f.rkey, f.tid)
    if (related !== undefined) for (const r of related) this.write(r, ts, true)
  }

  /** Export flows every interval; drop the ones idle longer than the expiry. */
  checkExpired(now: bigint): void {
    for (const f of this.flows.values()) {
      if (f.exportTime > now) continue
      if (now - f.lastUpdate < this.o.expireNs) {
        this.write(f, now, false)
        f.ts = now
        f.opFlags = 0
        f.numRRecvOps = f.numWSendOps = f.numRRecvBytes = f.numWSendBytes = 0n
        f.exportTime = now + this.o.exportNs
      } else this.flows.delete(f)
    }
  }

  /** End of input or shutdown: everything still open is written with OP_TRUNCATE. */
  finish(endTs: bigint): void {
    for (const f of this.flows.values()) this.write(f, endTs, true)
    this.flows.clear()
  }
}

function dummyFlow(net: boolean): FFlow | NFlow {
  const base = {key: '', rkey: '', pid: -1, tidNum: -1, containerId: '', inTable: false, procOID: {hpid: 0n, createTS: 0n}, ts: 0n, tid: 0n, opFlags: 0, fd: -1, lastUpdate: 0n, exportTime: 0n, numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n}
  return net ? {...base, net: true, sip: 0, sport: 0, dip: 0, dport: 0, proto: 0} : {...base, net: false, openFlags: 0, fileOID: '', path: ''}
}
