// Tier 2: libscap the TypeScript way. Handles are opened by functions with a `Sync` suffix (they block), read
// through zero-copy views, and released by `close()` (call it in a `finally`). Structures are decoded with the
// offsets of the Debian 0.1.1dev ABI (docs/capture.md §3).
import {createExternalBuffer, createPointer, DataType, isNullPointer, JsExternal} from 'ffi-rs'
import * as b from './bindings.js'
import {EVENT_INFO_SIZE, loadLibscap, PARAM_INFO_SIZE, PPM_EVENT_MAX} from './loader.js'

export const SCAP_SUCCESS = 0
export const SCAP_FAILURE = 1
export const SCAP_TIMEOUT = -1
export const SCAP_EOF = 6

/** libscap refused an operation; the message is libscap's own text. */
export class ScapError extends Error {
  readonly exitCode = 1
  constructor(message: string, readonly rc = SCAP_FAILURE) {
    super(message)
    this.name = 'ScapError'
  }
}

export interface ParamInfo {
  name: string
  /** PT_* type code. */
  type: number
}

export interface EventInfo {
  name: string
  category: number
  flags: number
  params: ParamInfo[]
}

export const EF_MODIFIES_STATE = 1 << 5
export const EF_UNUSED = 1 << 6
export const EF_OLD_VERSION = 1 << 9
export const EF_LARGE_PAYLOAD = 1 << 11

function cstr(buf: Buffer, off: number, max: number): string {
  const end = buf.indexOf(0, off)
  return buf.toString('utf8', off, end < 0 || end > off + max ? off + max : end)
}

let eventTable: EventInfo[] | undefined

/** The event table of the loaded libscap (read once). */
export function eventInfoTable(libscapPath?: string): EventInfo[] {
  loadLibscap(libscapPath)
  if (eventTable) return eventTable
  const t = createExternalBuffer(b.scap_get_event_info_table(), PPM_EVENT_MAX * EVENT_INFO_SIZE)
  const out: EventInfo[] = []
  for (let i = 0; i < PPM_EVENT_MAX; i++) {
    const o = i * EVENT_INFO_SIZE
    const n = Math.min(t.readUInt32LE(o + 40), 32)
    const params: ParamInfo[] = []
    for (let p = 0; p < n; p++) {
      const po = o + 44 + p * PARAM_INFO_SIZE
      params.push({name: cstr(t, po, 32), type: t.readUInt32LE(po + 32)})
    }
    out.push({name: cstr(t, o, 32), category: t.readUInt32LE(o + 32), flags: t.readUInt32LE(o + 36), params})
  }
  eventTable = out
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// State tables

export interface ScapFd {
  fd: number
  ino: bigint
  /** scap_fd_type: -1 uninitialized, 0 unknown, 1 file, 2 directory, 3 ipv4 sock, 4 ipv6 sock, 5 ipv4 server,
   * 6 ipv6 server, 7 fifo, 8 unix sock, 9 event, 10 unsupported, 11 signalfd, 12 eventpoll, 13 inotify, 14 timerfd,
   * 15 netlink, 16 file_v2 */
  type: number
  name: string
  openFlags: number
  sip: number
  dip: number
  sport: number
  dport: number
  l4proto: number
}

export interface ScapThread {
  tid: bigint
  pid: bigint
  ptid: bigint
  sid: bigint
  comm: string
  exe: string
  exepath: string
  args: string[]
  env: string[]
  cwd: string
  flags: number
  uid: number
  gid: number
  vtid: bigint
  vpid: bigint
  cgroups: string[]
  root: string
  cloneTs: bigint
  tty: number
  loginuid: number
  fds: ScapFd[]
}

export interface ScapUser {
  uid: number
  gid: number
  name: string
}

export interface ScapGroup {
  gid: number
  name: string
}

export interface MachineInfo {
  numCpus: number
  memoryBytes: bigint
  maxPid: bigint
  hostname: string
}

export interface ScapStats {
  events: bigint
  drops: bigint
  dropsBuffer: bigint
  dropsScratchMap: bigint
  dropsPageFault: bigint
  dropsBug: bigint
  preemptions: bigint
  suppressed: bigint
  tidsSuppressed: bigint
}

const THREAD_SIZE = 17616
const FD_SIZE = 1120
const USERINFO_SIZE = 2312
const GROUPINFO_SIZE = 260

function nulList(buf: Buffer, off: number, len: number): string[] {
  if (len <= 0) return []
  let s = buf.toString('utf8', off, off + len)
  if (s.endsWith('\0')) s = s.slice(0, -1)
  return s.split('\0')
}

function ip4(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off)
}

function decodeFd(v: Buffer): ScapFd {
  const type = v.readInt32LE(16)
  const fd: ScapFd = {fd: Number(v.readBigInt64LE(0)), ino: v.readBigUInt64LE(8), type, name: '', openFlags: 0, sip: 0, dip: 0, sport: 0, dport: 0, l4proto: 0}
  switch (type) {
    case 3: // ipv4 socket
      fd.sip = ip4(v, 24)
      fd.dip = ip4(v, 28)
      fd.sport = v.readUInt16LE(32)
      fd.dport = v.readUInt16LE(34)
      fd.l4proto = v.readUInt8(36)
      break
    case 5: // ipv4 server socket: {ip @24, port @28, l4proto @30}
      fd.dip = ip4(v, 24)
      fd.dport = v.readUInt16LE(28)
      fd.l4proto = v.readUInt8(30)
      break
    case 8: // unix socket
      fd.name = cstr(v, 40, 1024)
      break
    case 16: // file v2
      fd.openFlags = v.readUInt32LE(24)
      fd.name = cstr(v, 28, 1024)
      break
    case 4: // ipv6: not tracked by SysFlow
    case 6:
      break
    default:
      fd.name = cstr(v, 24, 1024)
  }
  return fd
}

// ---------------------------------------------------------------------------------------------------------------
// Handles

/** An open libscap capture (offline file or live driver). */
export class ScapHandle {
  private h: JsExternal | undefined
  private slot: JsExternal | undefined
  private slotView: Buffer | undefined
  private readonly cpu = Buffer.alloc(2)
  private evView: Buffer | undefined
  private evAddr = -1n

  private constructor(h: JsExternal, readonly live: boolean) {
    this.h = h
  }

  /** Open a .scap file (gzipped too). Throws ScapError with libscap's message. */
  static openOfflineSync(path: string, libscapPath?: string): ScapHandle {
    loadLibscap(libscapPath)
    const err = Buffer.alloc(256)
    const rc = Buffer.alloc(4)
    const h = b.scap_open_offline(path, err, rc)
    if (isNullPointer(h)) throw new ScapError(cstr(err, 0, 256) || `cannot open ${path}`, rc.readInt32LE(0))
    return new ScapHandle(h, false)
  }

  /** Open the live driver (kmod /dev/scap*, or the BPF probe named by BPF_PROBE). */
  static openLiveSync(libscapPath?: string): ScapHandle {
    loadLibscap(libscapPath)
    const err = Buffer.alloc(256)
    const rc = Buffer.alloc(4)
    const h = b.scap_open_live(err, rc)
    if (isNullPointer(h)) throw new ScapError(cstr(err, 0, 256) || 'cannot open the live capture', rc.readInt32LE(0))
    return new ScapHandle(h, true)
  }

  private handle(): JsExternal {
    if (!this.h) throw new ScapError('libscap handle used after close')
    return this.h
  }

  lastError(): string {
    return b.scap_getlasterr(this.handle())
  }

  machineInfo(): MachineInfo {
    const p = b.scap_get_machine_info(this.handle())
    if (isNullPointer(p)) return {numCpus: 0, memoryBytes: 0n, maxPid: 0n, hostname: ''}
    const v = createExternalBuffer(p, 180)
    return {numCpus: v.readUInt32LE(0), memoryBytes: v.readBigUInt64LE(4), maxPid: v.readBigUInt64LE(12), hostname: cstr(v, 20, 128)}
  }

  /** The process table libscap read from the capture (offline) or /proc (live), with each thread's fds. */
  procTable(): ScapThread[] {
    const out: ScapThread[] = []
    let p = b.scap_get_proc_table(this.handle())
    let guard = 0
    while (!isNullPointer(p) && guard++ < 10_000_000) {
      const v = createExternalBuffer(p, THREAD_SIZE)
      const fds: ScapFd[] = []
      let fa = v.readBigUInt64LE(17536)
      while (fa !== 0n && fds.length < 1_000_000) {
        const fv = createExternalBuffer(b.pointerAt(fa), FD_SIZE)
        fds.push(decodeFd(fv))
        fa = fv.readBigUInt64LE(1064 + 16)
      }
      out.push({
        tid: v.readBigUInt64LE(0),
        pid: v.readBigUInt64LE(8),
        ptid: v.readBigUInt64LE(16),
        sid: v.readBigUInt64LE(24),
        comm: cstr(v, 40, 1025),
        exe: cstr(v, 1065, 1025),
        exepath: cstr(v, 2090, 1025),
        args: nulList(v, 3116, Math.min(v.readUInt16LE(7214), 4096)),
        env: nulList(v, 7216, Math.min(v.readUInt16LE(11314), 4096)),
        cwd: cstr(v, 11316, 1025),
        flags: v.readUInt32LE(12352),
        uid: v.readUInt32LE(12356),
        gid: v.readUInt32LE(12360),
        vtid: v.readBigInt64LE(12392),
        vpid: v.readBigInt64LE(12400),
        cgroups: nulList(v, 12408, Math.min(v.readUInt16LE(16504), 4096)),
        root: cstr(v, 16506, 1025),
        cloneTs: v.readBigUInt64LE(17544),
        tty: v.readUInt32LE(17552),
        loginuid: v.readUInt32LE(17556),
        fds,
      })
      const next = v.readBigUInt64LE(17560 + 16)
      if (next === 0n) break
      p = b.pointerAt(next)
    }
    return out
  }

  users(): {users: ScapUser[]; groups: ScapGroup[]} {
    const p = b.scap_get_user_list(this.handle())
    if (isNullPointer(p)) return {users: [], groups: []}
    const v = createExternalBuffer(p, 32)
    const nusers = v.readUInt32LE(0)
    const ngroups = v.readUInt32LE(4)
    const users: ScapUser[] = []
    const groups: ScapGroup[] = []
    const ua = v.readBigUInt64LE(16)
    const ga = v.readBigUInt64LE(24)
    if (ua !== 0n && nusers > 0 && nusers < 1_000_000) {
      const uv = createExternalBuffer(b.pointerAt(ua), nusers * USERINFO_SIZE)
      for (let i = 0; i < nusers; i++) {
        const o = i * USERINFO_SIZE
        users.push({uid: uv.readUInt32LE(o), gid: uv.readUInt32LE(o + 4), name: cstr(uv, o + 8, 256)})
      }
    }
    if (ga !== 0n && ngroups > 0 && ngroups < 1_000_000) {
      const gv = createExternalBuffer(b.pointerAt(ga), ngroups * GROUPINFO_SIZE)
      for (let i = 0; i < ngroups; i++) {
        const o = i * GROUPINFO_SIZE
        groups.push({gid: gv.readUInt32LE(o), name: cstr(gv, o + 4, 256)})
      }
    }
    return {users, groups}
  }

  stats(): ScapStats {
    const s = Buffer.alloc(72)
    const rc = b.scap_get_stats(this.handle(), s)
    if (rc !== SCAP_SUCCESS) throw new ScapError(this.lastError(), rc)
    const u = (i: number) => s.readBigUInt64LE(i * 8)
    return {events: u(0), drops: u(1), dropsBuffer: u(2), dropsScratchMap: u(3), dropsPageFault: u(4), dropsBug: u(5), preemptions: u(6), suppressed: u(7), tidsSuppressed: u(8)}
  }

  /**
   * The next event as a view valid until the following call (zero-copy when libscap keeps its buffer), or a
   * return code: SCAP_TIMEOUT (live, nothing yet) or SCAP_EOF. Throws ScapError on failure.
   */
  nextSync(): Buffer | number {
    const h = this.handle()
    if (!this.slot) {
      this.slot = createPointer({paramsType: [DataType.External], paramsValue: [h]})[0]
      this.slotView = createExternalBuffer(this.slot, 8)
    }
    const rc = b.scap_next(h, this.slot, this.cpu)
    if (rc === SCAP_TIMEOUT || rc === SCAP_EOF) return rc
    if (rc !== SCAP_SUCCESS) throw new ScapError(this.lastError(), rc)
    const addr = this.slotView!.readBigUInt64LE(0)
    // Offline the event always sits at the start of the handle's read buffer; rebuild the view only when it moves
    // or the event is longer than the view. Live ring-buffer events move every time.
    let view = this.evView
    if (view === undefined || addr !== this.evAddr || view.readUInt32LE(16) > view.length) {
      const head = createExternalBuffer(b.pointerAt(addr), 26)
      const len = head.readUInt32LE(16)
      view = createExternalBuffer(b.pointerAt(addr), this.live ? len : Math.max(len, 65536))
      this.evView = view
      this.evAddr = addr
    }
    const len = view.readUInt32LE(16)
    if (len > view.length) {
      view = createExternalBuffer(b.pointerAt(addr), len)
      this.evView = view
    }
    return view.subarray(0, len)
  }

  get cpuid(): number {
    return this.cpu.readUInt16LE(0)
  }

  // Live tuning (ignored offline by libscap).
  setSnaplen(n: number): void {
    b.scap_set_snaplen(this.handle(), n)
  }

  setEventMask(events: Iterable<number>): void {
    const h = this.handle()
    if (b.scap_clear_eventmask(h) !== SCAP_SUCCESS) throw new ScapError(this.lastError())
    for (const e of events) b.scap_set_eventmask(h, e)
  }

  driverApiVersion(): number {
    return b.scap_get_driver_api_version(this.handle())
  }

  close(): void {
    const h = this.h
    this.h = undefined
    this.evView = undefined
    if (h) b.scap_close(h)
  }
}
