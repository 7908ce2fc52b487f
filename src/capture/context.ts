// The collector's entity contexts (containercontext.cpp, filecontext.cpp, processcontext.cpp): each entity written
// once per file before the first record that refers to it (CREATED, MODIFIED or REUP), a Container before its first
// Process or File, ancestors root first.
import crypto from 'node:crypto'
import {File, Kind, OID, Process} from '../format/records.js'
import type {RecordSink} from './sink.js'
import type {PodExporter} from './k8s/context.js'
import {ContainerInfo, Thread, ThreadTable} from './state.js'

const NS = 1_000_000_000n

export function foid(containerId: string, path: string): string {
  return crypto.createHash('sha1').update(containerId + path).digest('hex')
}

export class ContainerContext {
  private readonly containers = new Map<string, {info: ContainerInfo; written: boolean; podId?: string | null}>()

  /** `pods`: live k8s (k8s/context.ts); the container's Pod is written before it (the collector's exportPod). */
  constructor(private readonly sink: RecordSink, private readonly pods?: PodExporter) {}

  /** The container `id`, written if it is not yet in the file ("incomplete" until its metadata is known). */
  write(id: string | null): void {
    if (id === null || id === '') return
    let c = this.containers.get(id)
    if (c === undefined) {
      c = {info: {id, name: 'incomplete', image: 'incomplete', imageid: 'incomplete', type: 'CT_DOCKER', privileged: false}, written: false}
      this.containers.set(id, c)
    }
    if (c.written) return
    c.written = true
    const i = c.info
    const podId = this.pods?.exportPod(i.id, this.sink.out) ?? null
    c.podId = podId
    this.sink.out.push({kind: Kind.Container, id: i.id, name: i.name, image: i.image, imageid: i.imageid, type: i.type, privileged: i.privileged, podId})
  }

  /** Metadata from a container event; true when the container is new. Completed metadata is written again. */
  update(info: ContainerInfo): boolean {
    const c = this.containers.get(info.id)
    if (c === undefined) {
      this.containers.set(info.id, {info, written: false})
      return true
    }
    const wasIncomplete = c.info.name === 'incomplete' || c.info.image === 'incomplete'
    c.info = info
    if (c.written && wasIncomplete) c.written = false
    return false
  }

  clearWritten(): void {
    for (const c of this.containers.values()) c.written = false
    this.pods?.clearWritten()
  }

  /** A container written without a pod whose pod is known now (kubelet reports a container's id after it starts):
   * written again, after its Pod, linking to it. */
  relinkPod(id: string): void {
    const c = this.containers.get(id)
    if (c === undefined || !c.written || c.podId !== null) return
    c.written = false
    this.write(id)
  }
}

export class FileContext {
  private readonly files = new Map<string, {written: boolean; rec: File}>()
  /** FOIDs by container id + path: a SHA-1 per open costs more than the rest of the open; cleared with the files. */
  private readonly oids = new Map<string, string>()

  constructor(private readonly sink: RecordSink, private readonly containers: ContainerContext) {}

  /** The File of `path` in a container, written (after its container) if it is not yet in the file; its FOID. */
  write(containerId: string, path: string, state: 'CREATED' | 'REUP', restype: number, ts: bigint): string {
    const name = containerId + path
    let oid = this.oids.get(name)
    if (oid === undefined) {
      oid = foid(containerId, path)
      this.oids.set(name, oid)
    }
    const known = this.files.get(oid)
    if (known?.written) return oid
    const rec: File = known ? {...known.rec, state: 'REUP'} : {kind: Kind.File, state, oid, ts, restype, path, containerId: containerId === '' ? null : containerId}
    this.files.set(oid, {written: true, rec})
    this.containers.write(containerId)
    this.sink.out.push(rec)
    return oid
  }

  /** After a rotation, the File a flow refers to is written again (REUP) before it. */
  ensure(oid: string): void {
    const f = this.files.get(oid)
    if (f && !f.written) this.write(f.rec.containerId ?? '', f.rec.path ?? '', 'REUP', f.rec.restype ?? 0, f.rec.ts) // our own File: every field set
  }

  clearWritten(keep: Set<string>): void {
    for (const k of this.files.keys()) if (!keep.has(k)) this.files.delete(k)
    this.oids.clear()
    for (const f of this.files.values()) f.written = false
  }
}

export interface ProcEnt {
  rec: Process
  written: boolean
  pid: number
}

/** Process args as the collector joins them (a trailing empty arg, from the NUL ending the list, is not one). */
export function joinArgs(args: readonly string[]): string {
  const n = args.length > 0 && args[args.length - 1] === '' ? args.length - 1 : args.length
  return args.slice(0, n).join(' ')
}

export class ProcessContext {
  private readonly procs = new Map<string, ProcEnt>()
  /**
   * Processes whose main thread exited, by pid, with the exit's second: the collector keeps them in its process
   * table until its deletion check (every 2 s of event time) finds them a second old or more (processcontext.h).
   */
  private readonly exited = new Map<number, {ent: ProcEnt; sec: number}>()
  private delCheckSec = 0
  readonly users = new Map<number, string>()
  readonly groups = new Map<number, string>()

  /** `compat`: the collector's updateProcess keeps the container id the process was created with. */
  constructor(private readonly sink: RecordSink, private readonly threads: ThreadTable, private readonly containers: ContainerContext, private readonly compat = false) {}

  /** Table keys of OIDs (never mutated), and the last thread key made: no BigInt formatting per flow write. */
  private readonly oidKeys = new WeakMap<OID, string>()
  private lastPid = -1
  private lastCloneTs = -1n
  private lastKey = ''

  private keyOfOid(o: OID): string {
    let k = this.oidKeys.get(o)
    if (k === undefined) {
      k = `${o.hpid}:${o.createTS}`
      this.oidKeys.set(o, k)
    }
    return k
  }

  private keyOfMain(m: Thread): string {
    if (m.pid !== this.lastPid || m.cloneTs !== this.lastCloneTs) {
      this.lastPid = m.pid
      this.lastCloneTs = m.cloneTs
      this.lastKey = `${m.pid}:${m.cloneTs}`
    }
    return this.lastKey
  }

  oidOf(t: Thread): OID {
    const m = this.threads.mainOf(t)
    return {hpid: BigInt(m.pid), createTS: m.cloneTs}
  }

  private makeProcess(m: Thread, state: Process['state'], ts: bigint): Process {
    const parent = this.threads.parentMain(m)
    const exe = m.exepath !== '' && m.exepath !== '<NA>' ? m.exepath : m.exe
    let poid: OID | null = null
    if (parent !== undefined) {
      if (!(parent.pid === 0 && parent.cloneTs === 0n)) poid = {hpid: BigInt(parent.pid), createTS: parent.cloneTs}
    } else if (m.ptid !== -1) {
      // createProcess: the parent thread is gone; a process of that pid still in the table (one that exited less
      // than the deletion delay ago) is taken as the parent.
      const x = this.exited.get(m.ptid)
      if (x !== undefined) poid = x.ent.rec.oid
    }
    return {
      kind: Kind.Process, state, oid: {hpid: BigInt(m.pid), createTS: m.cloneTs}, poid,
      ts, exe, exeArgs: joinArgs(m.args), uid: m.uid, userName: this.users.get(m.uid) ?? '<NA>', gid: m.gid,
      groupName: this.groups.get(m.gid) ?? '<NA>', tty: m.tty !== 0, containerId: m.containerId === '' ? null : m.containerId,
      // The Process's cwd as libsinsp stores a thread's (set_cwd: ends with "/", so "" is "/"); the thread keeps
      // the capture's own for resolving relative paths, as the collector's libsinsp did.
      entry: m.vpid === 1, cwd: m.cwd.endsWith('/') ? m.cwd : `${m.cwd}/`, env: m.env,
    }
  }

  private refresh(ent: ProcEnt, m: Thread): void {
    const r = ent.rec
    r.exe = m.exepath !== '' && m.exepath !== '<NA>' ? m.exepath : m.exe
    r.exeArgs = joinArgs(m.args)
    r.uid = m.uid
    r.gid = m.gid
    r.userName = this.users.get(m.uid) ?? '<NA>'
    r.groupName = this.groups.get(m.gid) ?? '<NA>'
    // libsinsp resolves a thread's container again at exec (from the exec's cgroups): a process that joined a
    // container's cgroup after it was first recorded is that container's from then on. The collector's
    // updateProcess does not copy it into the Process record; under --compat collector neither do we.
    if (!this.compat) r.containerId = m.containerId === '' ? null : m.containerId
  }

  /** The process of thread `t`, written (with its unwritten ancestors, root first) if it is not yet in the file. */
  getProcess(t: Thread, state: Process['state'], ts: bigint): ProcEnt {
    const m = this.threads.mainOf(t)
    const key = this.keyOfMain(m)
    let ent = this.procs.get(key)
    if (ent !== undefined && ent.written) return ent
    if (this.sink.quiet) {
      if (ent === undefined) {
        ent = {rec: this.makeProcess(m, state, ts), written: false, pid: m.pid}
        this.procs.set(key, ent)
      }
      return ent
    }
    const chain: ProcEnt[] = []
    if (ent === undefined) {
      ent = {rec: this.makeProcess(m, state, ts), written: false, pid: m.pid}
      this.procs.set(key, ent)
    } else ent.rec.state = 'REUP'
    chain.push(ent)
    const seen = new Set<number>([m.pid])
    let p = this.threads.parentMain(m)
    let ct = m
    while (p !== undefined && !seen.has(p.pid) && !(p.pid === 0 && p.cloneTs === 0n)) {
      ct = p
      seen.add(p.pid)
      const k = `${p.pid}:${p.cloneTs}`
      const pe = this.procs.get(k)
      if (pe === undefined) {
        const n = {rec: this.makeProcess(p, 'REUP', ts), written: false, pid: p.pid}
        this.procs.set(k, n)
        chain.push(n)
      } else if (!pe.written) {
        pe.rec.state = 'REUP'
        chain.push(pe)
      } else break
      p = this.threads.parentMain(p)
    }
    if (p === undefined && ct.ptid !== -1) {
      // The chain broke on a thread that is gone: continue by pid through the processes still in the table.
      let e: ProcEnt | undefined = this.exited.get(ct.ptid)?.ent
      for (let n = 0; e !== undefined && n < 1000; n++) {
        if (!e.written && !chain.includes(e)) chain.push(e)
        const o: OID | null = e.rec.poid
        e = o === null ? undefined : this.procs.get(`${o.hpid}:${o.createTS}`)
      }
    }
    // Like the collector: each process's container is written as the process is looked at (subject first), then
    // the processes root first.
    for (const e of chain) this.containers.write(e.rec.containerId)
    for (let i = chain.length - 1; i >= 0; i--) {
      const e = chain[i]
      this.sink.out.push({...e.rec})
      e.written = true
    }
    return ent
  }

  /** exec and setuid: refresh the process and write it MODIFIED (CREATED when it is new). */
  updateProcess(t: Thread, ts: bigint): ProcEnt {
    const m = this.threads.mainOf(t)
    const ent = this.procs.get(`${m.pid}:${m.cloneTs}`)
    if (ent === undefined) return this.getProcess(t, 'CREATED', ts)
    if (this.sink.quiet) {
      this.refresh(ent, m)
      return ent
    }
    if (!ent.written) this.getProcess(t, 'REUP', ts)
    this.refresh(ent, m)
    this.containers.write(ent.rec.containerId)
    ent.rec.state = 'MODIFIED'
    ent.rec.ts = ts
    this.sink.out.push({...ent.rec})
    return ent
  }

  /** After a rotation, the process a flow refers to (and its unwritten ancestors) are written again (REUP). */
  ensure(oid: OID): void {
    const chain: ProcEnt[] = []
    let o: OID | null = oid
    while (o !== null && chain.length < 1000) {
      const e = this.procs.get(this.keyOfOid(o))
      if (e === undefined || e.written) break
      chain.push(e)
      o = e.rec.poid
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const e = chain[i]
      e.rec.state = 'REUP'
      this.containers.write(e.rec.containerId)
      this.sink.out.push({...e.rec})
      e.written = true
    }
  }

  /** markForDeletion: the process stays findable by pid until the deletion check (see `exited`). */
  markExited(ent: ProcEnt, ts: bigint): void {
    this.exited.delete(ent.pid)
    this.exited.set(ent.pid, {ent, sec: Number(ts / NS)})
  }

  /** Processes held (for the soak bench and tests: it must not grow with the processes ever seen). */
  get size(): number {
    return this.procs.size
  }

  /** ProcessContext::checkForDeletion, at every event: at most every 2 s, forget exits a second old or more. */
  checkForDeletion(sec: number): boolean {
    if (sec - this.delCheckSec <= 1) return false
    for (const [pid, x] of this.exited) {
      if (sec - x.sec < 1) break
      this.exited.delete(pid)
    }
    this.delCheckSec = sec
    return true
  }

  /**
   * After rotation: forget the processes that are not live threads' nor ancestors of one or of `flowOwners` (open
   * flows), and mark the rest unwritten so that they are re-emitted (REUP) on their next reference.
   */
  clearWritten(flowOwners: Iterable<OID>): void {
    this.forgetUnused(flowOwners)
    for (const e of this.procs.values()) e.written = false
  }

  /**
   * Forget the processes that no live thread, no open flow and no exit still within the deletion delay refers to,
   * directly or as an ancestor (the collector's clearProcesses: processes without flows or children leave its
   * table). Their records are in the file already; without this a long capture keeps every process it ever saw.
   */
  forgetUnused(flowOwners: Iterable<OID>): void {
    const keep = new Set<string>()
    const keepChain = (o: OID | null) => {
      while (o !== null) {
        const k = `${o.hpid}:${o.createTS}`
        if (keep.has(k)) return
        keep.add(k)
        o = this.procs.get(k)?.rec.poid ?? null
      }
    }
    for (const t of this.threads.values()) keepChain(this.oidOf(t))
    for (const o of flowOwners) keepChain(o)
    for (const x of this.exited.values()) keepChain(x.ent.rec.oid)
    for (const k of this.procs.keys()) if (!keep.has(k)) this.procs.delete(k)
  }
}
