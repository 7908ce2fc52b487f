// The joined view: each event or flow record with the entities it references, as sysprint and the SysFlow
// processor see it. Entity tables are reset at every SFHeader and at every input (sysprint reads each file with a
// reader of its own, so the same OID in two files is two processes); the latest record of an entity wins (the
// collector writes an entity before its first use and again when it changes, so this is the "closest preceding
// entity" rule of the SysFlow spec). An unresolved reference gives empty values and is counted, never dropped.
import {
  Container, EventRecord, File, Kind, OID, Pod, Process, SFHeader, SysFlowRecord,
} from './records.js'

/** An event or flow record with everything it references resolved (undefined where nothing matched). */
export interface Joined {
  rec: EventRecord
  header: SFHeader | undefined
  proc: Process | undefined
  pproc: Process | undefined
  file: File | undefined
  newFile: File | undefined
  container: Container | undefined
  pod: Pod | undefined
  /** The process and its known ancestors, self first, as they stood when the record was joined. */
  ancestry: readonly Process[]
  /** The tables the record was joined against. */
  tables: JoinTables
}

const NO_ANCESTRY: readonly Process[] = Object.freeze([])

const MISSING_PARENT = 1
const MISSING_CONTAINER = 2
const MISSING_POD = 4

interface ProcessContext {
  pproc: Process | undefined
  container: Container | undefined
  pod: Pod | undefined
  ancestry: readonly Process[]
  /** MISSING_* bits: references of the process that did not resolve (counted for each of its records). */
  missing: number
}

const NO_CONTEXT: ProcessContext = {pproc: undefined, container: undefined, pod: undefined, ancestry: NO_ANCESTRY, missing: 0}

export interface Unresolved {
  process: number
  parent: number
  file: number
  container: number
  pod: number
}

export class JoinTables {
  header: SFHeader | undefined
  /** hpid -> createTS -> Process. Two bigint-keyed levels avoid building a string key per record. */
  private readonly processes = new Map<bigint, Map<bigint, Process>>()
  private readonly files = new Map<string, File>()
  private readonly containers = new Map<string, Container>()
  private readonly pods = new Map<string, Pod>()
  /** Ancestry per process object; dropped whenever a process arrives (or the tables reset), which may change it. */
  private ancestries = new WeakMap<Process, readonly Process[]>()
  readonly unresolved: Unresolved = {process: 0, parent: 0, file: 0, container: 0, pod: 0}

  /**
   * Empty the tables, as a header does (and as a new input does, with no header yet: entity identity is scoped to
   * its input, since sysprint reads each file with a reader of its own).
   */
  reset(header: SFHeader | undefined): void {
    this.header = header
    this.processes.clear()
    this.files.clear()
    this.containers.clear()
    this.pods.clear()
    this.lastHpid = -1n
    this.ancestries = new WeakMap()
    this.ctxProc = undefined
  }

  /** Take in an entity record. Returns false for event and flow records (which `join` handles). */
  add(r: SysFlowRecord): boolean {
    switch (r.kind) {
      case Kind.Header:
        this.reset(r)
        return true
      case Kind.Process: {
        let byTs = this.processes.get(r.oid.hpid)
        if (byTs === undefined) {
          byTs = new Map()
          this.processes.set(r.oid.hpid, byTs)
        }
        // A new or replaced process may be an ancestor of processes already joined: their ancestries are redone.
        this.ancestries = new WeakMap()
        byTs.set(r.oid.createTS, r)
        this.lastHpid = -1n
        this.ctxProc = undefined
        return true
      }
      case Kind.File:
        this.files.set(r.oid, r)
        return true
      case Kind.Container:
        this.containers.set(r.id, r)
        this.ctxProc = undefined
        return true
      case Kind.Pod:
        this.pods.set(r.id, r)
        this.ctxProc = undefined
        return true
      default:
        return false
    }
  }

  // Flows of one process tend to come together: remember the last lookup (bigint compares are cheap, hashing less so).
  private lastHpid = -1n
  private lastCreateTS = -1n
  private lastProcess: Process | undefined
  /** What every record of the last process joined shares; dropped when a process, container, pod or header arrives. */
  private ctxProc: Process | undefined
  private ctx: ProcessContext = NO_CONTEXT

  process(oid: OID): Process | undefined {
    if (oid.hpid === this.lastHpid && oid.createTS === this.lastCreateTS) return this.lastProcess
    const p = this.lookup(oid)
    this.lastHpid = oid.hpid
    this.lastCreateTS = oid.createTS
    this.lastProcess = p
    return p
  }

  /** A process by OID, leaving the last-lookup memo to the records' own processes. */
  private lookup(oid: OID): Process | undefined {
    return this.processes.get(oid.hpid)?.get(oid.createTS)
  }

  file(foid: string): File | undefined {
    return this.files.get(foid)
  }

  container(id: string): Container | undefined {
    return this.containers.get(id)
  }

  pod(id: string): Pod | undefined {
    return this.pods.get(id)
  }

  /** The process and its known ancestors, self first. Stops at a missing parent or a cycle. */
  ancestry(proc: Process | undefined): Process[] {
    const out: Process[] = []
    for (let p = proc; p !== undefined && out.length < 1024; p = p.poid ? this.lookup(p.poid) : undefined) {
      if (out.includes(p)) break
      out.push(p)
    }
    return out
  }

  /** The parent, container, pod and ancestry of a process, as they stand now (remembered for its next records). */
  private context(proc: Process): ProcessContext {
    let missing = 0
    let pproc: Process | undefined
    let container: Container | undefined
    let pod: Pod | undefined
    if (proc.poid !== null) {
      pproc = this.lookup(proc.poid)
      if (pproc === undefined) missing |= MISSING_PARENT
    }
    if (proc.containerId) {
      container = this.containers.get(proc.containerId)
      if (container === undefined) missing |= MISSING_CONTAINER
      else if (container.podId) {
        pod = this.pods.get(container.podId)
        if (pod === undefined) missing |= MISSING_POD
      }
    }
    let ancestry = this.ancestries.get(proc)
    if (ancestry === undefined) {
      ancestry = this.ancestry(proc)
      this.ancestries.set(proc, ancestry)
    }
    this.ctxProc = proc
    this.ctx = {pproc, container, pod, ancestry, missing}
    return this.ctx
  }

  /** Resolve an event or flow record against the current tables. */
  join(rec: EventRecord): Joined {
    let proc: Process | undefined
    let pproc: Process | undefined
    let file: File | undefined
    let newFile: File | undefined
    let container: Container | undefined
    let pod: Pod | undefined
    let ancestry = NO_ANCESTRY
    if (rec.kind !== Kind.K8sEvent) {
      proc = this.process(rec.procOID)
      if (proc === undefined) {
        this.unresolved.process++
      } else {
        const ctx = proc === this.ctxProc ? this.ctx : this.context(proc)
        pproc = ctx.pproc
        container = ctx.container
        pod = ctx.pod
        ancestry = ctx.ancestry
        if (ctx.missing !== 0) {
          if (ctx.missing & MISSING_PARENT) this.unresolved.parent++
          if (ctx.missing & MISSING_CONTAINER) this.unresolved.container++
          if (ctx.missing & MISSING_POD) this.unresolved.pod++
        }
      }
      if (rec.kind === Kind.FileFlow || rec.kind === Kind.FileEvent) {
        file = this.files.get(rec.fileOID)
        if (file === undefined) this.unresolved.file++
        if (rec.kind === Kind.FileEvent && rec.newFileOID !== null) {
          newFile = this.files.get(rec.newFileOID)
          if (newFile === undefined) this.unresolved.file++
        }
      }
    }
    return {rec, header: this.header, proc, pproc, file, newFile, container, pod, ancestry, tables: this}
  }
}

/** One line describing unresolved references, or undefined when there were none. */
export function describeUnresolved(u: Unresolved): string | undefined {
  const parts: string[] = []
  if (u.process) parts.push(`${u.process} process`)
  if (u.file) parts.push(`${u.file} file`)
  if (u.container) parts.push(`${u.container} container`)
  if (u.pod) parts.push(`${u.pod} pod`)
  // A parent that was never written is common in real traces (sysflow-format.md §1.6): not worth a warning alone.
  if (parts.length === 0) return undefined
  return `unresolved references (shown as empty values): ${parts.join(', ')}`
}
