// The SysFlow collector's mapping (docs/capture.md §1): events -> ProcessEvent, ProcessFlow, FileFlow,
// NetworkFlow, FileEvent, with entity emission (CREATED/MODIFIED/REUP, ancestors root-first, a Container before its
// first Process or File), flow export every 30 s, expiry after 60 s idle, OP_TRUNCATE at exit and end of input.
import crypto from 'node:crypto'
import {posix} from 'node:path'
import {OpFlag} from '../format/flags.js'
import {File, Kind, OID, Process, SysFlowRecord} from '../format/records.js'
import type {EventInfo, ScapGroup, ScapThread, ScapUser} from '../native/scap.js'
import {decodeTuple, EF_LARGE_PAYLOAD, ParamIndex, Params} from './decoder.js'
import {blankThread, ContainerInfo, containerFromJson, Fd, FdType, joinPath, newFd, Thread, threadFromScap} from './state.js'

export type CollectionMode = 'flow' | 'consume' | 'nofiles'

export interface CollectorOptions {
  mode?: CollectionMode
  /** Reproduce the collector's golden output (skip execveat, clone3, creat, openat2, like it does). */
  compat?: 'collector'
  /** Only events of threads in a container (-c). */
  containersOnly?: boolean
  /** FILE_READ_MODE: 0 keep all, 1 drop read flows on system paths, 2 (default) drop them when read-only. */
  fileReadMode?: 0 | 1 | 2
  exportIntervalSec?: number
  expireIntervalSec?: number
}

const NS = 1_000_000_000n
const AT_FDCWD = -100
const PPM_CL_CLONE_THREAD = 1 << 13
const PPM_O_RDONLY = 1
const PPM_O_DIRECTORY = 1 << 10

type Handler = (c: Collector, t: Thread, ts: bigint, type: number) => void

interface ProcEnt {
  rec: Process
  written: boolean
  pid: number
}

interface FlowBase {
  key: string
  pid: number
  procOID: OID
  ts: bigint
  tid: bigint
  opFlags: number
  fd: number
  lastUpdate: bigint
  exportTime: bigint
  numRRecvOps: bigint
  numWSendOps: bigint
  numRRecvBytes: bigint
  numWSendBytes: bigint
}

interface FFlow extends FlowBase {
  net: false
  openFlags: number
  fileOID: string
  path: string
}

interface NFlow extends FlowBase {
  net: true
  sip: number
  sport: number
  dip: number
  dport: number
  proto: number
}

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

type Flow = FFlow | NFlow

export function foid(containerId: string, path: string): string {
  return crypto.createHash('sha1').update(containerId + path).digest('hex')
}

const READ_PREFIXES_HEAD = ['/proc/', '/dev/', '/sys/', '//sys/', '/lib/', '/lib64/', '/usr/lib/', '/usr/lib64/']
const READ_PREFIXES_COMPAT = ['/proc/', '/dev/', '/sys/', '//sys/']

export class Collector {
  readonly out: SysFlowRecord[] = []
  readonly threads = new Map<number, Thread>()
  private readonly procs = new Map<string, ProcEnt>()
  private readonly files = new Map<string, {written: boolean; rec: File}>()
  private readonly containers = new Map<string, {info: ContainerInfo; written: boolean}>()
  private readonly flows = new Map<string, Flow>()
  private readonly pflows = new Map<number, PFlow>()
  private readonly users = new Map<number, string>()
  private readonly groups = new Map<number, string>()
  private readonly handlers: (Handler | undefined)[]
  private readonly large: boolean[]
  private readonly p = new Params()
  private readonly ix: ParamIndex
  private readonly mode: CollectionMode
  private readonly compat: boolean
  private readonly readMode: number
  private readonly readPrefixes: string[]
  private readonly exportNs: bigint
  private readonly expireNs: bigint
  /** Event time of the last expiry check, as an approximate number (1 s granularity is all it needs). */
  private lastCheck = 0
  private firstHi = -1
  private firstLo = 0
  private lastHi = 0
  private lastLo = 0
  private lastUnixName = ''
  private readonly containersOnly: boolean
  /** Set while handling an event whose records are not wanted (-c and a host thread). */
  private quiet = false
  private readonly dummyFile: FFlow = dummyFlow(false) as FFlow
  private readonly dummyNet: NFlow = dummyFlow(true) as NFlow
  private toRemove = -1
  events = 0
  malformed = 0

  constructor(readonly table: EventInfo[], opts: CollectorOptions = {}) {
    this.mode = opts.mode ?? 'flow'
    this.containersOnly = opts.containersOnly === true
    this.compat = opts.compat === 'collector'
    // Like the collector builds that wrote the golden files: no read filter unless asked (FILE_READ_MODE).
    this.readMode = opts.fileReadMode ?? 0
    this.readPrefixes = this.compat ? READ_PREFIXES_COMPAT : READ_PREFIXES_HEAD
    this.exportNs = BigInt(opts.exportIntervalSec ?? 30) * NS
    this.expireNs = BigInt(opts.expireIntervalSec ?? 60) * NS
    this.ix = new ParamIndex(table)
    this.large = table.map((e) => (e.flags & EF_LARGE_PAYLOAD) !== 0)
    this.handlers = bindHandlers(table, this.mode, this.compat)
  }

  // -------------------------------------------------------------------------------------------------------------
  // Initial state

  loadState(threads: ScapThread[], users: {users: ScapUser[]; groups: ScapGroup[]}): void {
    for (const t of threads) this.threads.set(Number(t.tid), threadFromScap(t))
    // Threads of one process share the main thread's fd table.
    for (const t of this.threads.values()) {
      if (t.tid !== t.pid) {
        const main = this.threads.get(t.pid)
        if (main) {
          for (const [k, v] of t.fds) if (!main.fds.has(k)) main.fds.set(k, v)
          t.fds = main.fds
        }
      }
    }
    for (const u of users.users) this.users.set(u.uid | 0, u.name)
    for (const g of users.groups) this.groups.set(g.gid | 0, g.name)
  }

  // -------------------------------------------------------------------------------------------------------------
  // Events

  /** Event types the mapping needs (live eventmask): the handled ones plus every EF_MODIFIES_STATE event. */
  wantedEvents(): number[] {
    const out: number[] = []
    this.table.forEach((e, i) => {
      if (this.handlers[i] !== undefined || (e.flags & (1 << 5)) !== 0) out.push(i)
    })
    return out
  }

  /** Event time of the first event (ns), -1 before any. */
  get firstTs(): bigint {
    return this.firstHi < 0 ? -1n : (BigInt(this.firstHi) << 32n) | BigInt(this.firstLo)
  }

  /** Event time of the last event (ns), 0 before any. */
  get lastTs(): bigint {
    return (BigInt(this.lastHi) << 32n) | BigInt(this.lastLo)
  }

  /** Process one event (ppm_evt_hdr + params) at offset `at` of `ev`. Only handled events pay for a BigInt ts. */
  event(ev: Buffer, at = 0): void {
    const type = ev.readUInt16LE(at + 20)
    const lo = ev.readUInt32LE(at)
    const hi = ev.readUInt32LE(at + 4)
    this.events++
    if (this.firstHi < 0) {
      this.firstHi = hi
      this.firstLo = lo
    }
    this.lastHi = hi
    this.lastLo = lo
    if (this.toRemove >= 0) {
      this.threads.delete(this.toRemove)
      this.toRemove = -1
    }
    const approx = hi * 4294967296 + lo
    if (approx - this.lastCheck >= 1e9) {
      this.lastCheck = approx
      this.checkExpired(ev.readBigUInt64LE(at))
    }
    const h = this.handlers[type]
    if (h === undefined) return
    if (!this.p.load(ev, at, this.large[type])) {
      this.malformed++
      return
    }
    const ts = ev.readBigUInt64LE(at)
    const tid = ev.readUInt32LE(at + 8) + ev.readInt32LE(at + 12) * 4294967296
    let t = this.threads.get(tid)
    if (t === undefined) {
      t = blankThread(tid)
      this.threads.set(tid, t)
    }
    // -c: events of host threads still update the state, but produce no records (a container can start later
    // from a host process, and its process needs the right ancestry).
    this.quiet = this.containersOnly && t.containerId === ''
    h(this, t, ts, type)
  }

  private idx(type: number, name: string): number {
    return this.ix.get(type, name)
  }

  // -------------------------------------------------------------------------------------------------------------
  // Entities

  private mainOf(t: Thread): Thread {
    if (t.tid === t.pid) return t
    return this.threads.get(t.pid) ?? t
  }

  private oidOf(t: Thread): OID {
    const m = this.mainOf(t)
    return {hpid: BigInt(m.pid), createTS: m.cloneTs}
  }

  private parentMain(m: Thread): Thread | undefined {
    if (m.ptid < 0) return undefined
    const p = this.threads.get(m.ptid)
    if (p) return this.mainOf(p)
    return undefined
  }

  private makeProcess(m: Thread, state: Process['state'], ts: bigint): Process {
    const parent = this.parentMain(m)
    const exe = m.exepath !== '' && m.exepath !== '<NA>' ? m.exepath : m.exe
    return {
      kind: Kind.Process, state, oid: {hpid: BigInt(m.pid), createTS: m.cloneTs},
      poid: parent && !(parent.pid === 0 && parent.cloneTs === 0n) ? {hpid: BigInt(parent.pid), createTS: parent.cloneTs} : null,
      ts, exe, exeArgs: joinArgs(m.args), uid: m.uid, userName: this.users.get(m.uid) ?? '<NA>', gid: m.gid,
      groupName: this.groups.get(m.gid) ?? '<NA>', tty: m.tty !== 0, containerId: m.containerId === '' ? null : m.containerId,
      entry: m.vpid === 1, cwd: m.cwd, env: m.env,
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
  }

  private writeContainer(id: string | null): void {
    if (id === null || id === '') return
    let c = this.containers.get(id)
    if (c === undefined) {
      c = {info: {id, name: 'incomplete', image: 'incomplete', imageid: 'incomplete', type: 'CT_DOCKER', privileged: false}, written: false}
      this.containers.set(id, c)
    }
    if (c.written) return
    c.written = true
    const i = c.info
    this.out.push({kind: Kind.Container, id: i.id, name: i.name, image: i.image, imageid: i.imageid, type: i.type, privileged: i.privileged, podId: null})
  }

  /** The process of thread `t`, written (with its unwritten ancestors, root first) if it is not yet in the file. */
  private getProcess(t: Thread, state: Process['state'], ts: bigint): ProcEnt {
    const m = this.mainOf(t)
    const key = `${m.pid}:${m.cloneTs}`
    let ent = this.procs.get(key)
    if (ent !== undefined && ent.written) return ent
    if (this.quiet) {
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
    let p = this.parentMain(m)
    while (p !== undefined && !seen.has(p.pid) && !(p.pid === 0 && p.cloneTs === 0n)) {
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
      p = this.parentMain(p)
    }
    // Like the collector: each process's container is written as the process is looked at (subject first), then
    // the processes root first.
    for (const e of chain) this.writeContainer(e.rec.containerId)
    for (let i = chain.length - 1; i >= 0; i--) {
      const e = chain[i]
      this.out.push({...e.rec})
      e.written = true
    }
    return ent
  }

  /** exec and setuid: refresh the process and write it MODIFIED (CREATED when it is new). */
  private updateProcess(t: Thread, ts: bigint): ProcEnt {
    const m = this.mainOf(t)
    const ent = this.procs.get(`${m.pid}:${m.cloneTs}`)
    if (ent === undefined) return this.getProcess(t, 'CREATED', ts)
    if (this.quiet) {
      this.refresh(ent, m)
      return ent
    }
    if (!ent.written) this.getProcess(t, 'REUP', ts)
    this.refresh(ent, m)
    ent.rec.state = 'MODIFIED'
    ent.rec.ts = ts
    this.out.push({...ent.rec})
    return ent
  }

  private writeFile(containerId: string, path: string, state: 'CREATED' | 'REUP', restype: number, ts: bigint): string {
    const oid = foid(containerId, path)
    const known = this.files.get(oid)
    if (known?.written) return oid
    const rec: File = known ? {...known.rec, state: 'REUP'} : {kind: Kind.File, state, oid, ts, restype, path, containerId: containerId === '' ? null : containerId}
    this.files.set(oid, {written: true, rec})
    this.writeContainer(containerId)
    this.out.push(rec)
    return oid
  }

  /** After a rotation, entities a flow refers to are written again (REUP) before it. */
  private ensureFile(oid: string): void {
    const f = this.files.get(oid)
    if (f && !f.written) this.writeFile(f.rec.containerId ?? '', f.rec.path ?? '', 'REUP', f.rec.restype ?? 0, f.rec.ts) // our own File: every field set
  }

  private ensureProcess(oid: OID): void {
    const chain: ProcEnt[] = []
    let o: OID | null = oid
    while (o !== null && chain.length < 1000) {
      const e = this.procs.get(`${o.hpid}:${o.createTS}`)
      if (e === undefined || e.written) break
      chain.push(e)
      o = e.rec.poid
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const e = chain[i]
      e.rec.state = 'REUP'
      this.writeContainer(e.rec.containerId)
      this.out.push({...e.rec})
      e.written = true
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Process events

  private procEvent(t: Thread, ts: bigint, op: number, ret: number, args: string[] = []): void {
    if (this.quiet) return
    this.out.push({kind: Kind.ProcessEvent, procOID: this.oidOf(t), ts, tid: BigInt(t.tid), opFlags: op, args, ret})
  }

  onClone(t: Thread, ts: bigint, type: number): void {
    const p = this.p
    const res = p.int(this.idx(type, 'res'))
    const flags = p.uint(this.idx(type, 'flags'))
    const isThread = (flags & PPM_CL_CLONE_THREAD) !== 0
    const fill = (c: Thread, own: boolean) => {
      const s = (n: string) => this.idx(type, n)
      c.exe = p.str(s('exe'))
      c.args = p.list(s('args'))
      const cwd = p.str(s('cwd'))
      if (cwd !== '' || c.cwd === '') c.cwd = cwd
      if (s('comm') >= 0) c.comm = p.str(s('comm'))
      if (s('cgroups') >= 0) {
        const cg = p.list(s('cgroups'))
        c.containerId = containerIdFromList(cg)
      }
      if (s('uid') >= 0) c.uid = p.int(s('uid'))
      if (s('gid') >= 0) c.gid = p.int(s('gid'))
      if (own && s('vtid') >= 0) c.vtid = p.int(s('vtid'))
      if (own && s('vpid') >= 0) c.vpid = p.int(s('vpid'))
    }
    if (res > 0) {
      // Parent side: sinsp creates the child now, unless the caller is in a pid namespace (res is then a vpid).
      const inNs = t.vtid >= 0 && t.vtid !== t.tid
      if (!inNs && !this.threads.has(res)) {
        const c = blankThread(res)
        c.pid = isThread ? t.pid : res
        c.ptid = isThread ? t.ptid : t.tid
        c.cloneTs = ts
        c.exepath = t.exepath
        c.env = t.env
        c.tty = t.tty
        c.loginuid = t.loginuid
        c.containerId = t.containerId
        c.cwd = t.cwd
        fill(c, false)
        c.fds = isThread ? t.fds : new Map([...t.fds].map(([k, v]) => [k, {...v}]))
        this.threads.set(res, c)
      }
      if (!isThread) {
        this.getProcess(t, 'CREATED', ts)
        this.procEvent(t, ts, OpFlag.CLONE, res)
      }
      return
    }
    if (res === 0) {
      if (t.pid === t.tid && t.ptid === -1 && t.cloneTs === 0n && t.exe === '') {
        // Child seen first (or its parent is in a pid namespace): build it from the child's own params.
        t.pid = p.int(this.idx(type, 'pid'), t.tid)
        t.ptid = p.int(this.idx(type, 'ptid'), -1)
        t.cloneTs = ts
        const parent = this.threads.get(t.ptid)
        if (parent) {
          t.exepath = parent.exepath
          t.env = parent.env
          t.tty = parent.tty
          t.containerId = parent.containerId
          t.cwd = parent.cwd
          t.fds = isThread ? parent.fds : new Map([...parent.fds].map(([k, v]) => [k, {...v}]))
          if (parent.pid !== parent.tid && !isThread) t.ptid = parent.pid
        }
        fill(t, true)
        if (isThread) {
          const main = this.threads.get(t.pid)
          if (main) t.fds = main.fds
        }
      }
      else {
        const s = (n: string) => this.idx(type, n)
        if (s('vtid') >= 0) t.vtid = p.int(s('vtid'))
        if (s('vpid') >= 0) t.vpid = p.int(s('vpid'))
      }
      if (t.tid === t.pid) {
        this.getProcess(t, 'CREATED', ts)
        this.procEvent(t, ts, OpFlag.CLONE, 0)
      } else {
        const pf = this.pflow(t, ts)
        pf.cloned++
      }
      return
    }
    if (isThread) this.pflow(t, ts).errors += res === -1 ? 1n : 0n
  }

  private pflow(t: Thread, ts: bigint): PFlow {
    if (this.quiet) return {pid: -1, procOID: {hpid: 0n, createTS: 0n}, ts, cloned: 0n, exited: 0n, errors: 0n, lastUpdate: ts, exportTime: ts}
    const m = this.mainOf(t)
    let f = this.pflows.get(m.pid)
    if (f === undefined) {
      this.getProcess(t, 'REUP', ts)
      f = {pid: m.pid, procOID: this.oidOf(t), ts, cloned: 0n, exited: 0n, errors: 0n, lastUpdate: ts, exportTime: ts + this.exportNs}
      this.pflows.set(m.pid, f)
    }
    f.lastUpdate = ts
    return f
  }

  private writePFlow(f: PFlow, endTs: bigint, truncate: boolean): void {
    this.ensureProcess(f.procOID)
    this.out.push({kind: Kind.ProcessFlow, procOID: f.procOID, ts: f.ts, numThreadsCloned: f.cloned, opFlags: OpFlag.CLONE | (f.exited > 0n ? OpFlag.EXIT : 0) | (truncate ? OpFlag.TRUNCATE : 0), endTs, numThreadsExited: f.exited, numCloneErrors: f.errors})
  }

  onExecveEnter(t: Thread, _ts: bigint, type: number): void {
    t.enterType = type
    t.enterStr = this.p.str(this.idx(type, 'filename'))
    if (t.enterStr === '') t.enterStr = this.p.str(this.idx(type, 'pathname'))
  }

  onExecve(t: Thread, ts: bigint, type: number): void {
    const p = this.p
    const s = (n: string) => this.idx(type, n)
    const res = p.int(s('res'))
    if (res === 0) {
      if (t.exe === '' && t.ptid === -1 && t.cloneTs === 0n) {
        t.pid = p.int(s('pid'), t.tid)
        t.ptid = p.int(s('ptid'), -1)
      }
      t.exe = p.str(s('exe'))
      t.args = p.list(s('args'))
      if (s('comm') >= 0) t.comm = p.str(s('comm'))
      if (s('env') >= 0) t.env = p.list(s('env'))
      if (s('cgroups') >= 0) t.containerId = containerIdFromList(p.list(s('cgroups')))
      if (s('tty') >= 0) t.tty = p.int(s('tty'))
      if (s('loginuid') >= 0) t.loginuid = p.int(s('loginuid'))
      const enterMatches = t.enterType === type - 1
      t.exepath = enterMatches && t.enterStr !== '' ? t.enterStr : t.exe
      // execve closes O_CLOEXEC descriptors.
      for (const [k, f] of t.fds) if (f.openFlags & (1 << 12) && f.type === 'f') t.fds.delete(k)
    }
    this.updateProcess(t, ts)
    this.procEvent(t, ts, OpFlag.EXEC, res)
  }

  onExit(t: Thread, ts: bigint, type: number): void {
    const status = this.p.int(this.idx(type, 'status'))
    this.toRemove = t.tid
    if (t.tid !== t.pid && this.threads.has(t.pid)) {
      this.pflow(t, ts).exited++
      return
    }
    this.getProcess(t, 'REUP', ts)
    this.flushProcess(t.pid, ts)
    this.procEvent(t, ts, OpFlag.EXIT, status)
  }

  onSetuidEnter(t: Thread, _ts: bigint, type: number): void {
    t.enterType = type
    const i = this.idx(type, 'uid')
    t.enterUid = i >= 0 ? this.p.int(i) : this.p.int(this.idx(type, 'euid'))
  }

  onSetuid(t: Thread, ts: bigint, type: number): void {
    const res = this.p.int(this.idx(type, 'res'))
    const isSetuid = this.table[type].name === 'setuid'
    const uid = t.enterType === type - 1 ? t.enterUid : -1
    if (res === 0 && uid !== -1) {
      const m = this.mainOf(t)
      t.uid = uid
      m.uid = uid
    }
    this.updateProcess(t, ts)
    this.procEvent(t, ts, OpFlag.SETUID, res, isSetuid ? [this.users.get(uid) ?? String(uid)] : [])
  }

  onSetgidEnter(t: Thread, _ts: bigint, type: number): void {
    t.enterType = type
    const i = this.idx(type, 'gid')
    t.enterUid = i >= 0 ? this.p.int(i) : this.p.int(this.idx(type, 'egid'))
  }

  /** setgid/setresgid: state only (the Process record carries the gid). */
  onSetgid(t: Thread, _ts: bigint, type: number): void {
    if (t.enterType !== type - 1 || this.p.int(this.idx(type, 'res')) !== 0 || t.enterUid === -1) return
    t.gid = t.enterUid
    this.mainOf(t).gid = t.enterUid
  }

  // -------------------------------------------------------------------------------------------------------------
  // File descriptors and flows

  onEnterFd(t: Thread, _ts: bigint, type: number): void {
    const p = this.p
    t.enterType = type
    t.enterFd = p.int(this.idx(type, 'fd'), -1)
    const ti = this.idx(type, 'tuple')
    t.enterTuple = ti >= 0 ? decodeTuple(p.raw(ti)) : undefined
    t.enterNum = p.int(this.idx(type, this.idx(type, 'cmd') >= 0 ? 'cmd' : 'domain'))
    t.enterUid = p.int(this.idx(type, 'type'))
  }

  onOpen(t: Thread, ts: bigint, type: number): void {
    const p = this.p
    const s = (n: string) => this.idx(type, n)
    const fd = p.int(s('fd'), -1)
    if (fd < 0) return
    let name = p.str(s('name'))
    const flags = p.uint(s('flags'))
    const dirfd = s('dirfd') >= 0 ? p.int(s('dirfd')) : AT_FDCWD
    if (!name.startsWith('/')) {
      if (dirfd === AT_FDCWD) name = joinPath(t.cwd, name)
      else {
        const d = t.fds.get(dirfd)
        name = d ? joinPath(d.name, name) : name
      }
    }
    name = normalize(name)
    const fdi = newFd(flags & PPM_O_DIRECTORY ? 'd' : 'f', name, flags)
    t.fds.set(fd, fdi)
    if (this.mode === 'consume') {
      if (!this.keepFile(fdi)) return
      const f = this.fileFlow(t, fd, fdi, ts)
      f.opFlags |= OpFlag.OPEN
      this.writeFlow(f, ts, false)
      this.flows.delete(f.key)
      return
    }
    if (!this.keepFile(fdi)) return
    const f = this.fileFlow(t, fd, fdi, ts)
    f.opFlags |= OpFlag.OPEN
    f.openFlags = flags
  }

  private keepFile(fdi: Fd): boolean {
    return fdi.type === 'f' || fdi.type === 'd' || fdi.type === 'p' || fdi.type === 'u'
  }

  onSocket(t: Thread, _ts: bigint, type: number): void {
    const fd = this.p.int(this.idx(type, 'fd'), -1)
    if (fd < 0) return
    const domain = t.enterType === type - 1 ? t.enterNum : 0
    const stype = (t.enterType === type - 1 ? t.enterUid : 0) & 0xf
    const fdi = newFd(domain === 2 ? '4' : domain === 10 ? '6' : domain === 1 ? 'u' : 'o')
    fdi.proto = stype === 1 ? 6 : stype === 2 ? 17 : stype === 3 ? 254 : 0
    t.fds.set(fd, fdi)
  }

  onConnect(t: Thread, ts: bigint, type: number): void {
    const fd = t.enterType === type - 1 ? t.enterFd : -1
    const fdi = t.fds.get(fd)
    if (!fdi) return
    const res = this.p.int(this.idx(type, 'res'))
    const raw = this.p.raw(this.idx(type, 'tuple'))
    const tu = decodeTuple(raw)
    if (tu && tu.family === 2) {
      fdi.sip = tu.sip
      fdi.sport = tu.sport
      fdi.dip = tu.dip
      fdi.dport = tu.dport
      if (fdi.type === 'o') fdi.type = '4'
    } else if (tu && tu.family === 1) {
      fdi.type = 'u'
      if (res >= 0 || res === -115) {
        fdi.name = unixName(raw)
        this.lastUnixName = fdi.name
      } else if (this.compat) {
        // The collector's libsinsp names a failed unix connect after the last unix socket connected anywhere.
        fdi.name = this.lastUnixName
      }
    }
    if (fdi.type === '4') this.netFlow(t, fd, fdi, ts).opFlags |= OpFlag.CONNECT
    else if (this.keepFile(fdi) && this.mode !== 'consume') this.fileFlow(t, fd, fdi, ts).opFlags |= OpFlag.CONNECT
  }

  onAccept(t: Thread, ts: bigint, type: number): void {
    const fd = this.p.int(this.idx(type, 'fd'), -1)
    if (fd < 0) return
    const tu = decodeTuple(this.p.raw(this.idx(type, 'tuple')))
    const fdi = newFd(tu?.family === 2 ? '4' : tu?.family === 10 ? '6' : tu?.family === 1 ? 'u' : 'o')
    if (tu && tu.family === 2) {
      fdi.sip = tu.sip
      fdi.sport = tu.sport
      fdi.dip = tu.dip
      fdi.dport = tu.dport
      fdi.proto = 6
    }
    if (tu && tu.family === 1) fdi.name = unixName(this.p.raw(this.idx(type, 'tuple')))
    t.fds.set(fd, fdi)
    if (this.mode === 'consume') return
    if (fdi.type === '4') this.netFlow(t, fd, fdi, ts).opFlags |= OpFlag.ACCEPT
    else if (this.keepFile(fdi)) this.fileFlow(t, fd, fdi, ts).opFlags |= OpFlag.ACCEPT
  }

  onIo(t: Thread, ts: bigint, type: number): void {
    if (t.enterType !== type - 1) return
    const fd = t.enterFd
    const fdi = t.fds.get(fd)
    if (!fdi) return
    const p = this.p
    const res = p.int(this.idx(type, 'res'))
    const name = this.table[type].name
    const write = name.startsWith('write') || name.startsWith('send') || name.startsWith('pwrite')
    if (fdi.type === '4') {
      if (fdi.dport === 0 && fdi.sport === 0) {
        const ti = this.idx(type, 'tuple')
        const tu = ti >= 0 ? decodeTuple(p.raw(ti)) : t.enterTuple
        if (tu && tu.family === 2) Object.assign(fdi, {sip: tu.sip, sport: tu.sport, dip: tu.dip, dport: tu.dport})
      }
      const f = this.netFlow(t, fd, fdi, ts)
      this.count(f, write, res)
    } else if (this.keepFile(fdi) && this.mode !== 'consume') {
      const f = this.fileFlow(t, fd, fdi, ts)
      this.count(f, write, res)
    }
  }

  private count(f: Flow, write: boolean, res: number): void {
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

  onMmap(t: Thread, ts: bigint, type: number): void {
    const fd = this.p.int(this.idx(type, 'fd'), -1)
    const fdi = t.fds.get(fd)
    if (!fdi || !this.keepFile(fdi)) return
    this.fileFlow(t, fd, fdi, ts).opFlags |= OpFlag.MMAP
  }

  onSetns(t: Thread, ts: bigint, type: number): void {
    if (t.enterType !== type - 1) return
    const fdi = t.fds.get(t.enterFd)
    if (!fdi || !this.keepFile(fdi)) return
    this.fileFlow(t, t.enterFd, fdi, ts).opFlags |= OpFlag.SETNS
  }

  onShutdown(t: Thread, ts: bigint, type: number): void {
    if (t.enterType !== type - 1) return
    const fdi = t.fds.get(t.enterFd)
    if (!fdi || fdi.type !== '4' || this.mode === 'consume') return
    this.netFlow(t, t.enterFd, fdi, ts).opFlags |= OpFlag.SHUTDOWN
  }

  onClose(t: Thread, ts: bigint, type: number): void {
    if (t.enterType !== type - 1) return
    const fd = t.enterFd
    const fdi = t.fds.get(fd)
    const res = this.p.int(this.idx(type, 'res'))
    if (!fdi) return
    if (this.mode !== 'consume' && (fdi.type === '4' || this.keepFile(fdi))) {
      const f = fdi.type === '4' ? this.netFlow(t, fd, fdi, ts) : this.fileFlow(t, fd, fdi, ts)
      f.opFlags |= OpFlag.CLOSE
      this.writeFlow(f, ts, false)
      this.flows.delete(f.key)
    }
    if (res >= 0) t.fds.delete(fd)
  }

  onDup(t: Thread, _ts: bigint, type: number): void {
    const res = this.p.int(this.idx(type, 'res'), -1)
    if (res < 0 || t.enterType !== type - 1) return
    if (this.table[type].name === 'fcntl' && t.enterNum !== 1 && t.enterNum !== 26) return
    const fdi = t.fds.get(t.enterFd)
    if (fdi) t.fds.set(res, {...fdi})
  }

  onPipe(t: Thread, _ts: bigint, type: number): void {
    const p = this.p
    if (p.int(this.idx(type, 'res')) < 0) return
    const kind: FdType = this.table[type].name === 'pipe' ? 'p' : 'u'
    // sinsp leaves pipe and socketpair descriptors unnamed (the process table names them pipe:[ino]).
    t.fds.set(p.int(this.idx(type, 'fd1')), newFd(kind))
    t.fds.set(p.int(this.idx(type, 'fd2')), newFd(kind))
  }

  onOtherFd(t: Thread, _ts: bigint, type: number): void {
    const name = this.table[type].name
    const i = this.idx(type, 'res') >= 0 ? this.idx(type, 'res') : this.idx(type, 'fd')
    const fd = this.p.int(i, -1)
    if (fd < 0) return
    const kind: FdType = name === 'eventfd' ? 'e' : name === 'signalfd' ? 's' : name === 'timerfd_create' ? 't' : name === 'inotify_init' ? 'i' : 'o'
    t.fds.set(fd, newFd(kind))
  }

  onChdir(t: Thread, _ts: bigint, type: number): void {
    const p = this.p
    if (p.int(this.idx(type, 'res')) < 0) return
    let dir: string
    if (this.table[type].name === 'fchdir') {
      if (t.enterType !== type - 1) return
      dir = t.fds.get(t.enterFd)?.name ?? ''
    } else dir = joinPath(t.cwd, p.str(this.idx(type, 'path')))
    if (dir === '') return
    if (!dir.endsWith('/')) dir += '/'
    const m = this.mainOf(t)
    m.cwd = dir
    t.cwd = dir
  }

  onContainer(_t: Thread, _ts: bigint, type: number): void {
    const p = this.p
    let info: ContainerInfo | undefined
    const ji = this.idx(type, 'json')
    if (ji >= 0) info = containerFromJson(p.str(ji))
    else {
      const id = p.str(this.idx(type, 'id'))
      if (id) info = {id: id.slice(0, 12), name: p.str(this.idx(type, 'name')), image: p.str(this.idx(type, 'image')), imageid: '', type: 'CT_DOCKER', privileged: false}
    }
    if (!info || info.id === '' || info.id === 'host') return
    const c = this.containers.get(info.id)
    if (c === undefined) {
      this.containers.set(info.id, {info, written: false})
      // The collector writes a container only before its first process; we write it when it appears, so a
      // capture whose containers did nothing SysFlow records still shows them.
      if (!this.compat) this.writeContainer(info.id)
    }
    else {
      const wasIncomplete = c.info.name === 'incomplete' || c.info.image === 'incomplete'
      c.info = info
      if (c.written && wasIncomplete) c.written = false
    }
  }

  onEnterRaw(t: Thread, _ts: bigint, type: number): void {
    // Old file-event versions carry their paths in the enter event.
    const p = this.p
    t.enterType = type
    const a = this.idx(type, 'path') >= 0 ? 'path' : this.idx(type, 'oldpath') >= 0 ? 'oldpath' : 'name'
    t.enterStr = p.str(this.idx(type, a))
    t.enterStr2 = p.str(this.idx(type, 'newpath'))
    t.enterFd = p.int(this.idx(type, 'dirfd'), p.int(this.idx(type, 'olddir'), AT_FDCWD))
  }

  onFileEvent(t: Thread, ts: bigint, type: number): void {
    if (this.quiet) return
    const p = this.p
    const s = (n: string) => this.idx(type, n)
    const name = this.table[type].name
    const res = p.int(s('res'))
    const old = t.enterType === type - 1
    const dirPath = (fdIdx: number, path: string): string => {
      if (path.startsWith('/') || fdIdx < 0) return path
      const dfd = p.int(fdIdx, AT_FDCWD)
      if (dfd === AT_FDCWD) return path
      const d = t.fds.get(dfd)
      return d ? normalize(joinPath(d.name, path)) : path
    }
    let op: number
    let path1: string
    let path2: string | undefined
    let restype = 63
    switch (name) {
      case 'mkdir':
      case 'mkdirat':
      case 'rmdir':
      case 'unlink':
      case 'unlinkat': {
        op = name.startsWith('mkdir') ? OpFlag.MKDIR : name === 'rmdir' ? OpFlag.RMDIR : OpFlag.UNLINK
        if (name.startsWith('mkdir') || name === 'rmdir') restype = 100
        const pi = s('path') >= 0 ? s('path') : s('name')
        if (pi >= 0) path1 = dirPath(s('dirfd'), p.str(pi))
        else if (old) path1 = t.enterStr
        else return
        break
      }
      case 'link':
      case 'linkat':
      case 'rename':
      case 'renameat':
      case 'renameat2': {
        op = name.startsWith('link') ? OpFlag.LINK : OpFlag.RENAME
        if (s('oldpath') >= 0) {
          path1 = dirPath(s('olddir') >= 0 ? s('olddir') : s('olddirfd'), p.str(s('oldpath')))
          path2 = dirPath(s('newdir') >= 0 ? s('newdir') : s('newdirfd'), p.str(s('newpath')))
        } else if (old) {
          path1 = t.enterStr
          path2 = t.enterStr2
        } else return
        break
      }
      case 'symlink':
      case 'symlinkat':
        op = OpFlag.SYMLINK
        path1 = p.str(s('target'))
        path2 = dirPath(s('linkdirfd'), p.str(s('linkpath')))
        break
      default:
        return
    }
    const proc = this.getProcess(t, 'REUP', ts)
    const cid = t.containerId
    const two = path2 !== undefined
    const oid1 = this.writeFile(cid, path1, two ? 'REUP' : 'CREATED', restype, ts)
    const oid2 = two ? this.writeFile(cid, path2!, 'CREATED', restype, ts) : null
    this.out.push({kind: Kind.FileEvent, procOID: proc.rec.oid, ts, tid: BigInt(t.tid), opFlags: op, fileOID: oid1, ret: res, newFileOID: oid2})
  }

  // -------------------------------------------------------------------------------------------------------------
  // Flow tables

  private fileFlow(t: Thread, fd: number, fdi: Fd, ts: bigint): FFlow {
    if (this.quiet) return this.dummyFile
    const key = `F${fdi.name}\0${t.containerId}\0${t.tid}\0${fd}`
    let f = this.flows.get(key) as FFlow | undefined
    if (f === undefined) {
      const proc = this.getProcess(t, 'REUP', ts)
      const oid = this.writeFile(t.containerId, fdi.name, 'REUP', fdi.type.charCodeAt(0), ts)
      f = {
        net: false, key, pid: proc.pid, procOID: proc.rec.oid, ts, tid: BigInt(t.tid), opFlags: 0, fd, lastUpdate: ts, exportTime: ts + this.exportNs,
        numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n, openFlags: 0, fileOID: oid, path: fdi.name,
      }
      this.flows.set(key, f)
    }
    f.lastUpdate = ts
    return f
  }

  private netFlow(t: Thread, fd: number, fdi: Fd, ts: bigint): NFlow {
    if (this.quiet) return this.dummyNet
    const key = `N${t.tid}:${fd}:${fdi.sip}:${fdi.sport}:${fdi.dip}:${fdi.dport}`
    let f = this.flows.get(key) as NFlow | undefined
    if (f === undefined) {
      const proc = this.getProcess(t, 'REUP', ts)
      f = {
        net: true, key, pid: proc.pid, procOID: proc.rec.oid, ts, tid: BigInt(t.tid), opFlags: 0, fd, lastUpdate: ts, exportTime: ts + this.exportNs,
        numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n, sip: fdi.sip, sport: fdi.sport, dip: fdi.dip, dport: fdi.dport, proto: fdi.proto || 6,
      }
      this.flows.set(key, f)
    }
    f.lastUpdate = ts
    return f
  }

  private dropRead(f: FFlow): boolean {
    if (this.readMode === 0) return false
    if (!this.readPrefixes.some((p) => f.path.startsWith(p))) return false
    if (this.readMode === 1) return true
    const onlyRead = (f.opFlags & OpFlag.READ_RECV) !== 0 && (f.opFlags & OpFlag.WRITE_SEND) === 0
    return (f.openFlags & PPM_O_RDONLY) !== 0 || onlyRead
  }

  private writeFlow(f: Flow, endTs: bigint, truncate: boolean): void {
    if (f === this.dummyFile || f === this.dummyNet) return
    const flags = f.opFlags | (truncate ? OpFlag.TRUNCATE : 0)
    if ((flags & ~OpFlag.TRUNCATE) === 0) return
    this.ensureProcess(f.procOID)
    if (!f.net) this.ensureFile(f.fileOID)
    if (f.net) {
      this.out.push({
        kind: Kind.NetworkFlow, procOID: f.procOID, ts: f.ts, tid: f.tid, opFlags: flags, endTs, sip: f.sip, sport: f.sport, dip: f.dip, dport: f.dport,
        proto: f.proto, fd: f.fd, numRRecvOps: f.numRRecvOps, numWSendOps: f.numWSendOps, numRRecvBytes: f.numRRecvBytes, numWSendBytes: f.numWSendBytes,
      })
    } else {
      if (this.dropRead(f)) return
      this.out.push({
        kind: Kind.FileFlow, procOID: f.procOID, ts: f.ts, tid: f.tid, opFlags: flags, openFlags: f.openFlags, endTs, fileOID: f.fileOID, fd: f.fd,
        numRRecvOps: f.numRRecvOps, numWSendOps: f.numWSendOps, numRRecvBytes: f.numRRecvBytes, numWSendBytes: f.numWSendBytes,
      })
    }
  }

  /** Process exit: its flows are written with OP_TRUNCATE. */
  private flushProcess(pid: number, ts: bigint): void {
    for (const [k, f] of this.flows) {
      if (f.pid !== pid) continue
      this.writeFlow(f, ts, true)
      this.flows.delete(k)
    }
    const pf = this.pflows.get(pid)
    if (pf) {
      this.writePFlow(pf, ts, false)
      this.pflows.delete(pid)
    }
  }

  /** Export flows every interval; drop the ones idle longer than the expiry. */
  checkExpired(now: bigint): void {
    for (const [k, f] of this.flows) {
      if (f.exportTime > now) continue
      if (now - f.lastUpdate < this.expireNs) {
        this.writeFlow(f, now, false)
        f.ts = now
        f.opFlags = 0
        f.numRRecvOps = f.numWSendOps = f.numRRecvBytes = f.numWSendBytes = 0n
        f.exportTime = now + this.exportNs
      } else this.flows.delete(k)
    }
    for (const [k, f] of this.pflows) {
      if (f.exportTime > now) continue
      if (now - f.lastUpdate < this.expireNs) {
        this.writePFlow(f, now, false)
        f.ts = now
        f.cloned = f.exited = f.errors = 0n
        f.exportTime = now + this.exportNs
      } else this.pflows.delete(k)
    }
  }

  /** End of input or shutdown: everything still open is written with OP_TRUNCATE. */
  finish(endTs = this.lastTs): void {
    for (const f of this.flows.values()) this.writeFlow(f, endTs, true)
    this.flows.clear()
    for (const f of this.pflows.values()) this.writePFlow(f, endTs, true)
    this.pflows.clear()
  }

  /** After rotation: every entity is re-emitted (REUP) on its next reference. */
  clearWritten(): void {
    this.prune()
    for (const e of this.procs.values()) e.written = false
    for (const f of this.files.values()) f.written = false
    for (const c of this.containers.values()) c.written = false
  }

  /** Forget processes that exited (and have no live descendants or open flows) and files no open flow uses. */
  private prune(): void {
    const keep = new Set<string>()
    const keepChain = (o: OID | null) => {
      while (o !== null) {
        const k = `${o.hpid}:${o.createTS}`
        if (keep.has(k)) return
        keep.add(k)
        o = this.procs.get(k)?.rec.poid ?? null
      }
    }
    for (const t of this.threads.values()) {
      const m = this.mainOf(t)
      keepChain({hpid: BigInt(m.pid), createTS: m.cloneTs})
    }
    const files = new Set<string>()
    for (const f of this.flows.values()) {
      keepChain(f.procOID)
      if (!f.net) files.add(f.fileOID)
    }
    for (const f of this.pflows.values()) keepChain(f.procOID)
    for (const k of this.procs.keys()) if (!keep.has(k)) this.procs.delete(k)
    for (const k of this.files.keys()) if (!files.has(k)) this.files.delete(k)
  }
}

/** sinsp's path normalization ("." and ".." resolved, no trailing slash); relative paths lose a leading "./". */
function normalize(p: string): string {
  if (p === '') return p
  const n = posix.normalize(p)
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n
}

/** Process args as the collector joins them (a trailing empty arg, from the NUL ending the list, is not one). */
function joinArgs(args: readonly string[]): string {
  const n = args.length > 0 && args[args.length - 1] === '' ? args.length - 1 : args.length
  return args.slice(0, n).join(' ')
}

/** sinsp's name of a unix socket from a PT_SOCKTUPLE: "<src hex>-><dst hex> <path>". */
function unixName(b: Buffer): string {
  if (b.length < 17) return ''
  const z = b.indexOf(0, 17)
  const p = b.toString('utf8', 17, z < 0 ? b.length : z)
  return `${b.readBigUInt64LE(1).toString(16)}->${b.readBigUInt64LE(9).toString(16)} ${p}`
}

/** The flow handed out while `quiet`: updated like any flow, never stored or written. */
function dummyFlow(net: boolean): FFlow | NFlow {
  const base = {key: '', pid: -1, procOID: {hpid: 0n, createTS: 0n}, ts: 0n, tid: 0n, opFlags: 0, fd: -1, lastUpdate: 0n, exportTime: 0n, numRRecvOps: 0n, numWSendOps: 0n, numRRecvBytes: 0n, numWSendBytes: 0n}
  return net ? {...base, net: true, sip: 0, sport: 0, dip: 0, dport: 0, proto: 0} : {...base, net: false, openFlags: 0, fileOID: '', path: ''}
}

function containerIdFromList(cg: string[]): string {
  for (const c of cg) {
    const m = /([0-9a-f]{64})/.exec(c)
    if (m && /docker|crio|containerd|libpod|kubepods/.test(c)) return m[1].slice(0, 12)
  }
  return ''
}




/** Bind a handler to every event type by name and direction (E even, X odd). */
function bindHandlers(table: EventInfo[], mode: CollectionMode, compat: boolean): (Handler | undefined)[] {
  const noFiles = mode === 'nofiles'
  const consume = mode === 'consume'
  const exitH: Record<string, Handler | undefined> = {
    clone: (c, t, ts, ty) => c.onClone(t, ts, ty),
    fork: (c, t, ts, ty) => c.onClone(t, ts, ty),
    vfork: (c, t, ts, ty) => c.onClone(t, ts, ty),
    clone3: compat ? undefined : (c, t, ts, ty) => c.onClone(t, ts, ty),
    execve: (c, t, ts, ty) => c.onExecve(t, ts, ty),
    execveat: compat ? undefined : (c, t, ts, ty) => c.onExecve(t, ts, ty),
    setuid: (c, t, ts, ty) => c.onSetuid(t, ts, ty),
    setresuid: (c, t, ts, ty) => c.onSetuid(t, ts, ty),
    setgid: (c, t, ts, ty) => c.onSetgid(t, ts, ty),
    setresgid: (c, t, ts, ty) => c.onSetgid(t, ts, ty),
    open: (c, t, ts, ty) => c.onOpen(t, ts, ty),
    openat: (c, t, ts, ty) => c.onOpen(t, ts, ty),
    openat2: compat ? undefined : (c, t, ts, ty) => c.onOpen(t, ts, ty),
    creat: compat ? undefined : (c, t, ts, ty) => c.onOpen(t, ts, ty),
    socket: (c, t, ts, ty) => c.onSocket(t, ts, ty),
    connect: (c, t, ts, ty) => c.onConnect(t, ts, ty),
    accept: (c, t, ts, ty) => c.onAccept(t, ts, ty),
    accept4: (c, t, ts, ty) => c.onAccept(t, ts, ty),
    close: (c, t, ts, ty) => c.onClose(t, ts, ty),
    shutdown: consume ? undefined : (c, t, ts, ty) => c.onShutdown(t, ts, ty),
    setns: consume ? undefined : (c, t, ts, ty) => c.onSetns(t, ts, ty),
    dup: (c, t, ts, ty) => c.onDup(t, ts, ty),
    fcntl: (c, t, ts, ty) => c.onDup(t, ts, ty),
    pipe: (c, t, ts, ty) => c.onPipe(t, ts, ty),
    socketpair: (c, t, ts, ty) => c.onPipe(t, ts, ty),
    eventfd: (c, t, ts, ty) => c.onOtherFd(t, ts, ty),
    signalfd: (c, t, ts, ty) => c.onOtherFd(t, ts, ty),
    timerfd_create: (c, t, ts, ty) => c.onOtherFd(t, ts, ty),
    inotify_init: (c, t, ts, ty) => c.onOtherFd(t, ts, ty),
    chdir: (c, t, ts, ty) => c.onChdir(t, ts, ty),
    fchdir: (c, t, ts, ty) => c.onChdir(t, ts, ty),
  }
  for (const n of ['read', 'readv', 'pread', 'preadv', 'recv', 'recvfrom', 'recvmsg', 'write', 'writev', 'pwrite', 'pwritev', 'send', 'sendto', 'sendmsg']) {
    const net = n.startsWith('recv') || n.startsWith('send')
    if (consume && !net) continue
    exitH[n] = (c, t, ts, ty) => c.onIo(t, ts, ty)
  }
  if (!noFiles) {
    for (const n of ['mkdir', 'mkdirat', 'rmdir', 'link', 'linkat', 'unlink', 'unlinkat', 'symlink', 'symlinkat', 'rename', 'renameat', 'renameat2']) {
      exitH[n] = (c, t, ts, ty) => c.onFileEvent(t, ts, ty)
    }
  }
  const enterFd: Handler = (c, t, ts, ty) => c.onEnterFd(t, ts, ty)
  return table.map((e, type) => {
    const exit = (type & 1) === 1
    if (e.name === 'procexit') return (c, t, ts, ty) => c.onExit(t, ts, ty)
    if (e.name === 'container') return exit ? undefined : (c, t, ts, ty) => c.onContainer(t, ts, ty)
    if (exit) return exitH[e.name]
    if (e.name === 'execve' || e.name === 'execveat') return (c, t, ts, ty) => c.onExecveEnter(t, ts, ty)
    if (e.name === 'setuid' || e.name === 'setresuid') return (c, t, ts, ty) => c.onSetuidEnter(t, ts, ty)
    if (e.name === 'setgid' || e.name === 'setresgid') return (c, t, ts, ty) => c.onSetgidEnter(t, ts, ty)
    if ((e.name === 'mmap' || e.name === 'mmap2') && !consume) return (c, t, ts, ty) => c.onMmap(t, ts, ty)
    if (['mkdir', 'rmdir', 'link', 'linkat', 'unlink', 'unlinkat'].includes(e.name) && e.params.length > 0) return (c, t, ts, ty) => c.onEnterRaw(t, ts, ty)
    if (exitH[e.name] !== undefined || e.name === 'socket') return enterFd
    return undefined
  })
}
