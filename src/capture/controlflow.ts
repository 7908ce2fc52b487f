// The collector's control-flow processor (controlflowprocessor.cpp, processeventprocessor.cpp): ProcessEvents for
// clone, exec, setuid and exit, and with ENABLE_PROC_FLOW the ProcessFlows that count a process's thread clones and
// exits instead.
import {OpFlag} from '../format/flags.js'
import {Kind, OID} from '../format/records.js'
import type {ProcessContext} from './context.js'
import type {DataFlowProcessor} from './dataflow.js'
import type {RecordSink} from './sink.js'
import type {Thread, ThreadTable} from './state.js'

interface PFlow {
  pid: number
  procOID: OID
  ts: bigint
  cloned: bigint
  exited: bigint
  errors: bigint
  lastUpdate: bigint
  exportTime: bigint
}

export interface ControlFlowOptions {
  /** ENABLE_PROC_FLOW: thread clones and exits aggregated into ProcessFlows. */
  procFlows: boolean
  exportNs: bigint
  expireNs: bigint
}

export class ControlFlowProcessor {
  private readonly pflows = new Map<number, PFlow>()

  constructor(
    private readonly sink: RecordSink,
    private readonly threads: ThreadTable,
    private readonly procs: ProcessContext,
    private readonly data: DataFlowProcessor,
    private readonly o: ControlFlowOptions,
  ) {}

  private procEvent(t: Thread, ts: bigint, op: number, ret: number, args: string[] = []): void {
    if (this.sink.quiet) return
    this.sink.out.push({kind: Kind.ProcessEvent, procOID: this.procs.oidOf(t), ts, tid: BigInt(t.tid), opFlags: op, args, ret})
  }

  /**
   * A clone exit of thread `t` (the caller when res > 0, the child when res is 0). With process flows on, only a new
   * process's clones are ProcessEvents and a thread's go to its ProcessFlow; with them off, every one is an event.
   */
  clone(t: Thread, ts: bigint, res: number, isThread: boolean): void {
    if (!this.o.procFlows || (res > 0 && !isThread) || (res === 0 && t.tid === t.pid)) {
      // writeCloneEvent: the process of the event's thread (CREATED if new), the event's tid, the raw result.
      this.procs.getProcess(t, 'CREATED', ts)
      this.procEvent(t, ts, OpFlag.CLONE, res)
    } else {
      // processFlow: any other clone (a thread's either side, or a failed one) lands in the ProcessFlow, which
      // counts only a child side (res 0) and res -1, as updateProcFlow does.
      const pf = this.pflow(t, ts)
      if (res === 0) pf.cloned++
      else if (res === -1) pf.errors++
    }
  }

  exec(t: Thread, ts: bigint, res: number): void {
    this.procs.updateProcess(t, ts)
    this.procEvent(t, ts, OpFlag.EXEC, res)
  }

  setuid(t: Thread, ts: bigint, res: number, args: string[]): void {
    this.procs.updateProcess(t, ts)
    this.procEvent(t, ts, OpFlag.SETUID, res, args)
  }

  /**
   * procexit. With process flows off every exit is an event, and a thread's exit first writes that thread's flows;
   * with them on a thread's exit is counted and the main thread's writes the process's flows and ProcessFlow.
   */
  exit(t: Thread, ts: bigint, status: number): void {
    const main = t.tid === t.pid
    if (this.o.procFlows && !main && this.threads.has(t.pid)) {
      this.pflow(t, ts).exited++
      return
    }
    const ent = this.procs.getProcess(t, 'REUP', ts)
    const pid = this.threads.mainOf(t).pid
    this.data.flushFlows(pid, main || this.o.procFlows ? -1 : t.tid, ts)
    if (this.o.procFlows) {
      const pf = this.pflows.get(pid)
      if (pf) {
        this.writePFlow(pf, ts, false)
        this.pflows.delete(pid)
      }
    }
    this.procEvent(t, ts, OpFlag.EXIT, status)
    if (main || this.o.procFlows) this.procs.markExited(ent, ts)
  }

  private pflow(t: Thread, ts: bigint): PFlow {
    if (this.sink.quiet) return {pid: -1, procOID: {hpid: 0n, createTS: 0n}, ts, cloned: 0n, exited: 0n, errors: 0n, lastUpdate: ts, exportTime: ts}
    const m = this.threads.mainOf(t)
    let f = this.pflows.get(m.pid)
    if (f === undefined) {
      this.procs.getProcess(t, 'REUP', ts)
      f = {pid: m.pid, procOID: this.procs.oidOf(t), ts, cloned: 0n, exited: 0n, errors: 0n, lastUpdate: ts, exportTime: ts + this.o.exportNs}
      this.pflows.set(m.pid, f)
    }
    f.lastUpdate = ts
    return f
  }

  private writePFlow(f: PFlow, endTs: bigint, truncate: boolean): void {
    this.procs.ensure(f.procOID)
    this.sink.out.push({kind: Kind.ProcessFlow, procOID: f.procOID, ts: f.ts, numThreadsCloned: f.cloned, opFlags: OpFlag.CLONE | (f.exited > 0n ? OpFlag.EXIT : 0) | (truncate ? OpFlag.TRUNCATE : 0), endTs, numThreadsExited: f.exited, numCloneErrors: f.errors})
  }

  /** Export ProcessFlows every interval; drop the ones idle longer than the expiry. */
  checkExpired(now: bigint): void {
    for (const [k, f] of this.pflows) {
      if (f.exportTime > now) continue
      if (now - f.lastUpdate < this.o.expireNs) {
        this.writePFlow(f, now, false)
        f.ts = now
        f.cloned = f.exited = f.errors = 0n
        f.exportTime = now + this.o.exportNs
      } else this.pflows.delete(k)
    }
  }

  finish(endTs: bigint): void {
    for (const f of this.pflows.values()) this.writePFlow(f, endTs, true)
    this.pflows.clear()
  }

  owners(): Iterable<OID> {
    return [...this.pflows.values()].map((f) => f.procOID)
  }
}
