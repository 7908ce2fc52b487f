// The SysFlow collector's mapping (docs/capture.md §1): events -> ProcessEvent, ProcessFlow, FileFlow,
// NetworkFlow, FileEvent, with entity emission (CREATED/MODIFIED/REUP, ancestors root-first, a Container before its
// first Process or File), flow export every 30 s, expiry after 60 s idle, OP_TRUNCATE at exit and end of input.
import {OpFlag} from '../format/flags.js'
import type {OID, SysFlowRecord} from '../format/records.js'
import type {EventInfo, ScapGroup, ScapThread, ScapUser} from '../native/scap.js'
import {ContainerContext, FileContext, ProcessContext} from './context.js'
import type {PodExporter} from './k8s/context.js'
import {ControlFlowProcessor} from './controlflow.js'
import {DataFlowProcessor} from './dataflow.js'
import {FileEventProcessor} from './fileevent.js'
import {decodeTuple, EF_LARGE_PAYLOAD, ParamIndex, Params, readU64} from './decoder.js'
import {containerIdFromCgroups} from './live/cgroup.js'
import {RecordSink} from './sink.js'
import {blankThread, ContainerInfo, containerFromJson, Fd, FdType, ipv4Name, joinPath, newFd, normalize, placeholderLeader, sinspCwd, Thread, threadFromScap, ThreadTable, unixName} from './state.js'

export {foid} from './context.js'

export type CollectionMode = 'flow' | 'consume' | 'nofiles'

export interface CollectorOptions {
  mode?: CollectionMode
  /** Reproduce the collector's golden output (skip execveat, clone3, creat, openat2, like it does). */
  compat?: 'collector'
  /**
   * ENABLE_PROC_FLOW: thread clones and exits become ProcessFlows (default), or each one a ProcessEvent (the
   * collector's test configuration, and so the default under --compat collector).
   */
  processFlows?: boolean
  /** Only events of threads in a container (-c). */
  containersOnly?: boolean
  /** FILE_READ_MODE: 0 keep all, 1 drop read flows on system paths, 2 (default) drop them when read-only. */
  fileReadMode?: 0 | 1 | 2
  /** FILE_ONLY: FileFlows only for regular files (sinsp is_file); off keeps directories, pipes and unix sockets too. */
  fileOnly?: boolean
  exportIntervalSec?: number
  expireIntervalSec?: number
  /** Live k8s: the Pod of a container, written before the Container that links to it (k8s/context.ts). */
  pods?: PodExporter
}

const NS = 1_000_000_000n
const AT_FDCWD = -100
const PPM_CL_CLONE_THREAD = 1 << 13
const PPM_O_DIRECTORY = 1 << 10

type Handler = (c: Collector, t: Thread, ts: bigint, type: number) => void





/**
 * The collector (sysflowprocessor.cpp) over a libsinsp-like state engine: each event updates the thread and fd
 * tables (the handlers below, libsinsp's parsers), then goes to the processor of its record family (control flow,
 * data flow, file events), which write through the entity contexts into the sink.
 */
export class Collector {
  readonly out: SysFlowRecord[]
  readonly threads = new ThreadTable()
  private readonly sink = new RecordSink()
  private readonly containers: ContainerContext
  private readonly files: FileContext
  private readonly procs: ProcessContext
  private readonly data: DataFlowProcessor
  private readonly control: ControlFlowProcessor
  private readonly fileEvents: FileEventProcessor
  private readonly handlers: (Handler | undefined)[]
  private readonly large: boolean[]
  private readonly p = new Params()
  private readonly ix: ParamIndex
  private readonly mode: CollectionMode
  private readonly compat: boolean
  private readonly fileOnly: boolean
  /** Event time of the last expiry check, as an approximate number (1 s granularity is all it needs). */
  private lastCheck = 0
  private firstHi = -1
  private firstLo = 0
  private lastHi = 0
  private lastLo = 0
  /**
   * libsinsp's parameter string storage: one buffer per inspector that every param formatting writes (unix socket
   * tuples, the collector's setuid uid). A unix connect whose enter has no address is named from what is left in it.
   */
  private lastFormatted = ''
  /** The collector's m_uid: the last setuid/setresuid enter's `uid`, as the args of the next SETUID event. */
  private setuidArg = ''
  private readonly containersOnly: boolean
  private toRemove = -1
  private readonly isWrite: boolean[]
  /** Param indexes of the names the per-I/O handlers read, by event type (ParamIndex.get is a Map lookup). */
  private readonly iFd: Int16Array
  private readonly iRes: Int16Array
  private readonly iTuple: Int16Array
  private readonly iEnterNum: Int16Array
  private readonly iType: Int16Array
  private readonly iName: Int16Array
  private readonly iFlags: Int16Array
  private readonly iDirfd: Int16Array
  events = 0
  malformed = 0

  constructor(readonly table: EventInfo[], opts: CollectorOptions = {}) {
    this.mode = opts.mode ?? 'flow'
    this.containersOnly = opts.containersOnly === true
    this.compat = opts.compat === 'collector'
    this.fileOnly = opts.fileOnly === true
    const exportNs = BigInt(opts.exportIntervalSec ?? 30) * NS
    const expireNs = BigInt(opts.expireIntervalSec ?? 60) * NS
    this.out = this.sink.out
    this.containers = new ContainerContext(this.sink, opts.pods)
    this.files = new FileContext(this.sink, this.containers)
    this.procs = new ProcessContext(this.sink, this.threads, this.containers, this.compat)
    // Like the collector builds that wrote the golden files: no read filter unless asked (FILE_READ_MODE).
    this.data = new DataFlowProcessor(this.sink, this.threads, this.procs, this.files, {compat: this.compat, readMode: opts.fileReadMode ?? 0, exportNs, expireNs})
    this.control = new ControlFlowProcessor(this.sink, this.threads, this.procs, this.data, {procFlows: opts.processFlows ?? !this.compat, exportNs, expireNs})
    this.fileEvents = new FileEventProcessor(this.sink, this.procs, this.files)
    this.ix = new ParamIndex(table)
    this.iFd = this.ix.column('fd')
    this.iRes = this.ix.column('res')
    this.iTuple = this.ix.column('tuple')
    // onEnterFd's number: `cmd` (fcntl) where the event has one, else `domain` (socket).
    this.iEnterNum = this.ix.column('cmd').map((c, ty) => (c >= 0 ? c : this.ix.get(ty, 'domain')))
    this.iType = this.ix.column('type')
    this.iName = this.ix.column('name')
    this.iFlags = this.ix.column('flags')
    this.iDirfd = this.ix.column('dirfd')
    this.large = table.map((e) => (e.flags & EF_LARGE_PAYLOAD) !== 0)
    this.isWrite = table.map((e) => e.name.startsWith('write') || e.name.startsWith('send') || e.name.startsWith('pwrite'))
    this.handlers = bindHandlers(table, this.mode, this.compat)
  }


  // -------------------------------------------------------------------------------------------------------------
  // Initial state

  loadState(threads: ScapThread[], users: {users: ScapUser[]; groups: ScapGroup[]}): void {
    for (const t of threads) {
      const th = threadFromScap(t)
      this.threads.set(Number(t.tid), th)
      if (th.containerId !== '') this.seenContainers.add(th.containerId)
    }
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
    for (const u of users.users) this.procs.users.set(u.uid | 0, u.name)
    for (const g of users.groups) this.procs.groups.set(g.gid | 0, g.name)
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
    this.advance(lo, hi)
    const h = this.handlers[type]
    if (h === undefined) return
    if (!this.p.load(ev, at, this.large[type])) {
      this.malformed++
      return
    }
    const ts = readU64(ev, at)
    const tid = ev.readUInt32LE(at + 8) + ev.readInt32LE(at + 12) * 4294967296
    h(this, this.threadFor(tid), ts, type)
  }

  /**
   * A read or write call (enter and exit as one, as the eBPF probe records it) without libscap bytes: the same
   * state changes and records as its enter event (`type - 1`: the fd) followed by its exit event (`type`: the
   * result), at a fraction of the cost. `type` is the exit event's PPME type.
   */
  ioCall(type: number, lo: number, hi: number, tid: number, fd: number, res: number): void {
    const t = this.directCall(type, lo, hi, tid, fd)
    if (t !== undefined) this.ioExit(t, (BigInt(hi) << 32n) | BigInt(lo), type, res)
  }

  /**
   * An open (open, creat, openat, openat2) or a close as one call, as the eBPF probe records it, without libscap
   * bytes: the same state changes and records as its enter event (`type - 1`, the fd of a close) and its exit
   * event (`type`). For an open, `fd` is its result; for a close, the fd closed and `res` its result.
   */
  openCall(type: number, lo: number, hi: number, tid: number, fd: number, name: string, flags: number, dirfd: number): void {
    const t = this.directCall(type, lo, hi, tid, -1)
    if (t !== undefined && fd >= 0) this.openFile(t, (BigInt(hi) << 32n) | BigInt(lo), fd, name, flags, dirfd)
  }

  closeCall(type: number, lo: number, hi: number, tid: number, fd: number, res: number): void {
    const t = this.directCall(type, lo, hi, tid, fd)
    if (t !== undefined) this.closeFd(t, (BigInt(hi) << 32n) | BigInt(lo), fd, res)
  }

  /** A call's enter and exit events, counted, and its enter's state; its thread, or undefined when not handled. */
  private directCall(type: number, lo: number, hi: number, tid: number, fd: number): Thread | undefined {
    this.advance(lo, hi)
    this.advance(lo, hi)
    if (this.handlers[type] === undefined || this.handlers[type - 1] === undefined) return undefined
    const t = this.threadFor(tid)
    t.enterType = type - 1
    t.enterFd = fd
    t.enterTuple = undefined
    t.enterNum = 0
    t.enterUid = 0
    return t
  }

  /**
   * Reads and writes counted in the kernel (the eBPF probe's aggregates): `rOps` reads and `wOps` writes by `tid`
   * on `fd` from `first` to `last`, with the bytes of those that succeeded. The same state and flow as those calls
   * one by one, except that the whole aggregate lands in the export interval current at `last` (an aggregate spans
   * at most the probe's window, 100 ms). Counted as two events per call, as a .scap has them. `type`: the exit
   * type of a read; nothing is counted in a mode that does not handle reads (as with ioCall).
   */
  ioBatch(type: number, tid: number, fd: number, first: bigint, last: bigint, rOps: number, rBytes: bigint, wOps: number, wBytes: bigint): void {
    const ops = rOps + wOps
    if (ops <= 0) return
    this.advance(Number(first & 0xffffffffn), Number(first >> 32n))
    this.advance(Number(last & 0xffffffffn), Number(last >> 32n))
    this.events += 2 * ops - 2
    if (this.handlers[type] === undefined || this.handlers[type - 1] === undefined) return
    const t = this.threadFor(tid)
    const fdi = t.fds.get(fd)
    if (!fdi) return
    let f
    if (fdi.type === '4') f = this.data.netFlow(t, fd, fdi, first)
    else if (this.keepFile(fdi) && this.mode !== 'consume') f = this.data.fileFlow(t, fd, fdi, first)
    else return
    this.data.countMany(f, rOps, rBytes, wOps, wBytes)
    f.lastUpdate = last
  }

  private threadFor(tid: number): Thread {
    let t = this.threads.get(tid)
    if (t === undefined) {
      t = blankThread(tid)
      this.threads.set(tid, t)
    }
    // -c: events of host threads still update the state, but produce no records (a container can start later
    // from a host process, and its process needs the right ancestry).
    this.sink.quiet = this.containersOnly && t.containerId === ''
    return t
  }

  /** Per event, handled or not: the capture's time span, deferred thread removal, process deletion, expiry. */
  private advance(lo: number, hi: number): void {
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
    const sec = Math.floor(approx / 1e9)
    if (this.procs.checkForDeletion(sec)) this.procs.forgetUnused(this.flowOwners())
    if (approx - this.lastCheck >= 1e9) {
      this.lastCheck = approx
      this.checkExpired((BigInt(hi) << 32n) | BigInt(lo))
    }
  }

  private idx(type: number, name: string): number {
    return this.ix.get(type, name)
  }

  // -------------------------------------------------------------------------------------------------------------
  // Entities












  /**
   * Called with a thread's cgroups the first time they name a container not seen before (a live source asks the
   * container's runtime for its name and image, and hands the answer to `addContainer`).
   */
  onNewContainer: ((cgroups: string[], id: string) => void) | undefined
  private readonly seenContainers = new Set<string>()

  /** The container id of a thread's cgroups (libsinsp's engine layouts), "" on the host. */
  private containerOf(cgroups: string[]): string {
    const id = containerIdFromCgroups(cgroups)
    if (id !== '' && !this.seenContainers.has(id)) {
      this.seenContainers.add(id)
      this.onNewContainer?.(cgroups, id)
    }
    return id
  }

  /** Live k8s: a container written before its pod listed it is written again, linked (ContainerContext.relinkPod). */
  relinkPod(containerId: string): void {
    this.containers.relinkPod(containerId)
  }

  /** Container metadata from outside the event stream (a runtime's answer live), as a container event gives it. */
  addContainer(info: ContainerInfo): void {
    this.seenContainers.add(info.id)
    // Written now (again, if it was written "incomplete"): its processes may all be in the file already.
    this.containers.update(info)
    if (!this.compat) this.containers.write(info.id)
  }

  // -------------------------------------------------------------------------------------------------------------
  // Process events


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
      if (s('cgroups') >= 0) c.containerId = this.containerOf(p.list(s('cgroups')))
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
      this.control.clone(t, ts, res, isThread)
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
          else this.threads.set(t.pid, placeholderLeader(t))
        } else if (parent === undefined && this.compat && t.ptid > 0) {
          // libs 0.10 (the collector's older goldens): a new process seen before its unknown parent gets a fake
          // parent thread, made from the child's event, as its poid.
          const f = placeholderLeader(t)
          f.tid = f.pid = t.ptid
          f.ptid = -1
          f.containerId = ''
          f.fds = new Map()
          this.threads.set(t.ptid, f)
        }
      }
      else {
        const s = (n: string) => this.idx(type, n)
        if (s('vtid') >= 0) t.vtid = p.int(s('vtid'))
        if (s('vpid') >= 0) t.vpid = p.int(s('vpid'))
      }
      this.control.clone(t, ts, 0, isThread)
      return
    }
    this.control.clone(t, ts, res, isThread)
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
      // libsinsp resolves the container again from the exec's cgroups: a process that joined a container's
      // cgroup after it was first seen is in that container from its exec on.
      if (s('cgroups') >= 0) t.containerId = this.containerOf(p.list(s('cgroups')))
      if (s('tty') >= 0) t.tty = p.int(s('tty'))
      if (s('loginuid') >= 0) t.loginuid = p.int(s('loginuid'))
      const enterMatches = t.enterType === type - 1
      t.exepath = enterMatches && t.enterStr !== '' ? t.enterStr : t.exe
      // execve closes O_CLOEXEC descriptors.
      for (const [k, f] of t.fds) if (f.openFlags & (1 << 12) && f.type === 'f') t.fds.delete(k)
    }
    this.control.exec(t, ts, res)
  }

  onExit(t: Thread, ts: bigint, type: number): void {
    const status = this.p.int(this.idx(type, 'status'))
    this.toRemove = t.tid
    this.control.exit(t, ts, status)
  }


  onSetuidEnter(t: Thread, _ts: bigint, type: number): void {
    t.enterType = type
    const i = this.idx(type, 'uid')
    t.enterUid = i >= 0 ? this.p.int(i) : this.p.int(this.idx(type, 'euid'))
    // The collector's setUID: the enter's `uid` param as libsinsp renders it (the user's name, "<NA>" when the
    // thread's user table has no such user: always in a container, offline), kept in one slot for the next
    // setuid exit of any thread. setresuid enters have no `uid`: "". Formatting it leaves the raw number in
    // libsinsp's parameter string storage.
    if (i >= 0) {
      this.setuidArg = t.containerId !== '' ? '<NA>' : this.procs.users.get(t.enterUid) ?? '<NA>'
      this.lastFormatted = String(t.enterUid)
    } else this.setuidArg = ''
  }

  onSetuid(t: Thread, ts: bigint, type: number): void {
    const res = this.p.int(this.idx(type, 'res'))
    const isSetuid = this.table[type].name === 'setuid'
    const uid = t.enterType === type - 1 ? t.enterUid : -1
    if (res === 0 && uid !== -1) {
      const m = this.threads.mainOf(t)
      t.uid = uid
      m.uid = uid
    }
    this.control.setuid(t, ts, res, this.compat ? [this.setuidArg] : isSetuid ? [this.procs.users.get(uid) ?? String(uid)] : [])
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
    this.threads.mainOf(t).gid = t.enterUid
  }

  // -------------------------------------------------------------------------------------------------------------
  // File descriptors and flows

  onEnterFd(t: Thread, _ts: bigint, type: number): void {
    const p = this.p
    t.enterType = type
    t.enterFd = p.int(this.iFd[type], -1)
    const ti = this.iTuple[type]
    t.enterTuple = ti >= 0 ? decodeTuple(p.raw(ti)) : undefined
    t.enterNum = p.int(this.iEnterNum[type])
    t.enterUid = p.int(this.iType[type])
  }

  /** connect enter: libsinsp names the socket here (parse_connect_enter), before the exit says how it went. */
  onConnectEnter(t: Thread, ts: bigint, type: number): void {
    this.onEnterFd(t, ts, type)
    if (!this.compat) return
    const fdi = t.fds.get(t.enterFd)
    if (!fdi) return
    const ai = this.idx(type, 'addr')
    if (ai < 0 || !this.p.has(ai)) {
      // No address (older drivers): libsinsp renders the socket's own tuple into its parameter string storage and
      // takes that as the name. IP sockets get their tuple; for any other socket nothing is rendered, so the
      // name is whatever string libsinsp formatted last.
      if (fdi.type === '4') this.lastFormatted = ipv4Name(fdi)
      else if (fdi.type !== '6') fdi.name = this.lastFormatted
      return
    }
    const raw = this.p.raw(ai)
    if (raw.length > 0 && raw[0] === 1) {
      const z = raw.indexOf(0, 1)
      fdi.name = this.lastFormatted = raw.toString('utf8', 1, z < 0 ? raw.length : z)
    }
  }

  onOpen(t: Thread, ts: bigint, type: number): void {
    const p = this.p
    const fd = p.int(this.iFd[type], -1)
    if (fd < 0) return
    this.openFile(t, ts, fd, p.str(this.iName[type]), p.uint(this.iFlags[type]), this.iDirfd[type] >= 0 ? p.int(this.iDirfd[type]) : AT_FDCWD)
  }

  /** An open's exit: fd `fd` (>= 0) is `name` (relative to `dirfd`) opened with PPM_O_* `flags`. */
  private openFile(t: Thread, ts: bigint, fd: number, name: string, flags: number, dirfd: number): void {
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
      const f = this.data.fileFlow(t, fd, fdi, ts)
      f.opFlags |= OpFlag.OPEN
      this.data.writeOnce(f, ts)
      return
    }
    if (!this.keepFile(fdi)) return
    const f = this.data.fileFlow(t, fd, fdi, ts)
    f.opFlags |= OpFlag.OPEN
    f.openFlags = flags
  }

  private keepFile(fdi: Fd): boolean {
    if (this.fileOnly) return fdi.type === 'f'
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
      fdi.type = '4'
      if (this.compat) this.lastFormatted = ipv4Name(fdi)
    } else if (tu && tu.family === 1) {
      fdi.type = 'u'
      // A failed connect keeps the name its enter gave (libsinsp returns before reading the exit's tuple).
      if (res >= 0 || res === -115 || !this.compat) {
        fdi.name = unixName(raw)
        this.lastFormatted = fdi.name
      }
    }
    if (fdi.type === '4') this.data.netFlow(t, fd, fdi, ts).opFlags |= OpFlag.CONNECT
    else if (this.keepFile(fdi) && this.mode !== 'consume') this.data.fileFlow(t, fd, fdi, ts).opFlags |= OpFlag.CONNECT
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
    if (tu && tu.family === 1) fdi.name = this.lastFormatted = unixName(this.p.raw(this.idx(type, 'tuple')))
    else if (this.compat && fdi.type === '4') this.lastFormatted = ipv4Name(fdi)
    t.fds.set(fd, fdi)
    if (this.mode === 'consume') return
    if (fdi.type === '4') this.data.netFlow(t, fd, fdi, ts).opFlags |= OpFlag.ACCEPT
    else if (this.keepFile(fdi)) this.data.fileFlow(t, fd, fdi, ts).opFlags |= OpFlag.ACCEPT
  }

  onIo(t: Thread, ts: bigint, type: number): void {
    if (t.enterType !== type - 1) return
    this.ioExit(t, ts, type, this.p.int(this.iRes[type]))
  }

  /** The exit of a read or write whose enter (the fd) is in `t`; the exit's params are loaded when it has a tuple. */
  private ioExit(t: Thread, ts: bigint, type: number, res: number): void {
    const fd = t.enterFd
    const fdi = t.fds.get(fd)
    if (!fdi) return
    const p = this.p
    const write = this.isWrite[type]
    if (fdi.type === '4') {
      if (fdi.dport === 0 && fdi.sport === 0) {
        const ti = this.iTuple[type]
        const tu = ti >= 0 ? decodeTuple(p.raw(ti)) : t.enterTuple
        if (tu && tu.family === 2) Object.assign(fdi, {sip: tu.sip, sport: tu.sport, dip: tu.dip, dport: tu.dport})
      }
      const f = this.data.netFlow(t, fd, fdi, ts)
      this.data.count(f, write, res)
    } else if (this.keepFile(fdi) && this.mode !== 'consume') {
      const f = this.data.fileFlow(t, fd, fdi, ts)
      this.data.count(f, write, res)
    }
  }


  onMmap(t: Thread, ts: bigint, type: number): void {
    const fd = this.p.int(this.idx(type, 'fd'), -1)
    const fdi = t.fds.get(fd)
    if (!fdi || !this.keepFile(fdi)) return
    this.data.fileFlow(t, fd, fdi, ts).opFlags |= OpFlag.MMAP
  }

  onSetns(t: Thread, ts: bigint, type: number): void {
    if (t.enterType !== type - 1) return
    const fdi = t.fds.get(t.enterFd)
    if (!fdi || !this.keepFile(fdi)) return
    this.data.fileFlow(t, t.enterFd, fdi, ts).opFlags |= OpFlag.SETNS
  }

  onShutdown(t: Thread, ts: bigint, type: number): void {
    if (t.enterType !== type - 1) return
    const fdi = t.fds.get(t.enterFd)
    if (!fdi || fdi.type !== '4' || this.mode === 'consume') return
    this.data.netFlow(t, t.enterFd, fdi, ts).opFlags |= OpFlag.SHUTDOWN
  }

  onClose(t: Thread, ts: bigint, type: number): void {
    if (t.enterType !== type - 1) return
    this.closeFd(t, ts, t.enterFd, this.p.int(this.iRes[type]))
  }

  /** A close's exit: of `fd`, with result `res`. */
  private closeFd(t: Thread, ts: bigint, fd: number, res: number): void {
    const fdi = t.fds.get(fd)
    if (!fdi) return
    if (this.mode !== 'consume' && (fdi.type === '4' || this.keepFile(fdi))) {
      this.data.close(fdi.type === '4' ? this.data.netFlow(t, fd, fdi, ts) : this.data.fileFlow(t, fd, fdi, ts), ts)
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
    } else dir = p.str(this.idx(type, 'path'))
    if (dir === '') return
    dir = sinspCwd(t.cwd, dir)
    const m = this.threads.mainOf(t)
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
    // The collector writes a container only before its first process; we write it when it appears, so a capture
    // whose containers did nothing SysFlow records still shows them.
    if (this.containers.update(info) && !this.compat) this.containers.write(info.id)
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
    if (this.sink.quiet) return
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
    this.fileEvents.write(t, ts, op, res, restype, path1, path2)
  }

  // -------------------------------------------------------------------------------------------------------------
  // Housekeeping

  /** Export flows every interval; drop the ones idle longer than the expiry. */
  checkExpired(now: bigint): void {
    this.data.checkExpired(now)
    this.control.checkExpired(now)
  }

  /** End of input or shutdown: everything still open is written with OP_TRUNCATE. */
  finish(endTs = this.lastTs): void {
    this.data.finish(endTs)
    this.control.finish(endTs)
  }

  /** What the state holds: threads, processes, open flows (a long capture keeps these bounded). */
  stateSizes(): {threads: number; processes: number; flows: number} {
    let flows = 0
    for (const _ of this.data.flows.values()) flows++
    return {threads: this.threads.size, processes: this.procs.size, flows}
  }

  /** The processes of open flows (process flows included). */
  private flowOwners(): OID[] {
    const owners: OID[] = [...this.control.owners()]
    for (const f of this.data.flows.values()) owners.push(f.procOID)
    return owners
  }

  /**
   * After rotation: every entity is re-emitted (REUP) on its next reference; processes that exited (with no live
   * descendants or open flows) and files no open flow uses are forgotten.
   */
  clearWritten(): void {
    const files = new Set<string>()
    for (const f of this.data.flows.values()) if (!f.net) files.add(f.fileOID)
    this.procs.clearWritten(this.flowOwners())
    this.files.clearWritten(files)
    this.containers.clearWritten()
  }
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
    if (e.name === 'connect') return (c, t, ts, ty) => c.onConnectEnter(t, ts, ty)
    if (e.name === 'setuid' || e.name === 'setresuid') return (c, t, ts, ty) => c.onSetuidEnter(t, ts, ty)
    if (e.name === 'setgid' || e.name === 'setresgid') return (c, t, ts, ty) => c.onSetgidEnter(t, ts, ty)
    if ((e.name === 'mmap' || e.name === 'mmap2') && !consume) return (c, t, ts, ty) => c.onMmap(t, ts, ty)
    if (['mkdir', 'rmdir', 'link', 'linkat', 'unlink', 'unlinkat'].includes(e.name) && e.params.length > 0) return (c, t, ts, ty) => c.onEnterRaw(t, ts, ty)
    if (exitH[e.name] !== undefined || e.name === 'socket') return enterFd
    return undefined
  })
}
