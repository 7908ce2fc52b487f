// The initial state of a live capture from a /proc scan, as libscap's scap_procs.c and scap_fds.c build it: every
// process and thread (cmdline, exe, comm, environ, cwd, status, stat, cgroup, root, loginuid) and each process's
// open files and sockets. Threads come out as ScapThread values, the shape the .scap proc table decodes to, so a
// live source feeds `Collector.loadState(scan.threads, scan.users)` exactly as the offline path does.
//
// Where this differs from libscap, on purpose:
// * clone_ts is the thread's start time (stat field 22 + /proc/stat btime), stable across scans, so a process
//   keeps one procOID; libscap takes the ctime of /proc/<pid>/cmdline (when the proc inode was first made).
//   `cloneTs: 'cmdline-ctime'` gives libscap's value.
// * A thread whose cwd, environ or root cannot be read (another user's process without privileges) is kept with
//   those fields empty; libscap drops it until its first event.
// * A cgroup v2 path that no controller is enabled at is also kept as `=<path>` (libscap lists only the ancestors
//   where each controller is enabled, or nothing), so the container id is found on hosts whose unified hierarchy
//   delegates no controllers.
import fs from 'node:fs'
import path from 'node:path'
import type {ScapFd, ScapThread} from '../../native/scap.js'
import {parseProcCgroup} from './cgroup.js'
import {FdType, readSocketTables, SocketTable} from './netsock.js'
import {readUsers, UserList} from './users.js'

export interface ProcScanOptions {
  /** The /proc to read (a synthetic tree in tests). Default `/proc`. */
  procRoot?: string
  /** Where etc/passwd and etc/group are read. Default `/`. */
  hostRoot?: string
  /** How clone_ts is found (see the module comment). Default 'starttime'. */
  cloneTs?: 'starttime' | 'cmdline-ctime'
  /** USER_HZ, the unit of stat's starttime. Default 100 (every Linux ABI Node runs on). */
  clockTicks?: number
  /** libscap's SCAP_MAX_ARGS_SIZE / SCAP_MAX_ENV_SIZE: bytes of cmdline and environ kept. Default 4096. */
  maxArgsBytes?: number
  maxEnvBytes?: number
  /** Name socket descriptors from the namespace's /proc/net tables. Default true. */
  sockets?: boolean
  /** Read threads other than the main one (task/). Default true. */
  threads?: boolean
}

export interface ProcScan {
  threads: ScapThread[]
  users: UserList
  /** Boot time (ns since the epoch) from /proc/stat btime; 0 when unknown. */
  bootTimeNs: bigint
  /** Numeric /proc entries that gave no thread: kernel threads, zombies, and processes gone during the scan. */
  skipped: number
}

// ppm clone flags libscap sets on threads found in /proc (they share the process's fd table).
const PPM_CL_CLONE_FILES = 1 << 0
const PPM_CL_CLONE_THREAD = 1 << 13
const U32_MAX = 0xffffffff

// Linux open(2) flags (octal, as /proc/<pid>/fdinfo prints them) and their ppm equivalents (libscap
// open_flags_to_scap). O_SYNC and O_TMPFILE are multi-bit and tested as C does (any bit set).
const O = {WRONLY: 0o1, RDWR: 0o2, CREAT: 0o100, EXCL: 0o200, TRUNC: 0o1000, APPEND: 0o2000, NONBLOCK: 0o4000,
  DSYNC: 0o10000, DIRECT: 0o40000, LARGEFILE: 0o100000, DIRECTORY: 0o200000, CLOEXEC: 0o2000000, SYNC: 0o4010000,
  TMPFILE: 0o20200000}
const OPEN_MAP: [number, number][] = [[O.CREAT, 1 << 2], [O.TMPFILE, 1 << 13], [O.APPEND, 1 << 3], [O.DSYNC, 1 << 4],
  [O.EXCL, 1 << 5], [O.NONBLOCK, 1 << 6], [O.SYNC, 1 << 7], [O.TRUNC, 1 << 8], [O.DIRECT, 1 << 9],
  [O.DIRECTORY, 1 << 10], [O.LARGEFILE, 1 << 11], [O.CLOEXEC, 1 << 12]]

/** libscap open_flags_to_scap: Linux open flags -> PPM_O_* flags. */
export function openFlagsToScap(flags: number): number {
  const acc = flags & 3
  let res = acc === O.WRONLY ? 2 : acc === O.RDWR ? 3 : 1
  for (const [o, p] of OPEN_MAP) if (flags & o) res |= p
  return res
}

const ANON_TYPES: Record<string, number> = {
  'anon_inode:[eventfd]': FdType.EVENT, 'anon_inode:[signalfd]': FdType.SIGNALFD,
  'anon_inode:[eventpoll]': FdType.EVENTPOLL, 'anon_inode:inotify': FdType.INOTIFY,
  'anon_inode:[timerfd]': FdType.TIMERFD,
}

// One scratch buffer for every /proc read: most files are a few hundred bytes, and a scan reads ten per thread.
const scratch = Buffer.allocUnsafe(65536)

function readBuf(file: string, max = Infinity): Buffer | undefined {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch {
    return undefined
  }
  try {
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const n = fs.readSync(fd, scratch, 0, Math.min(scratch.length, max - total), null)
      if (n <= 0) break
      chunks.push(Buffer.from(scratch.subarray(0, n)))
      total += n
      if (total >= max) break
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total)
  } catch {
    return undefined
  } finally {
    fs.closeSync(fd)
  }
}

function readText(file: string): string | undefined {
  return readBuf(file)?.toString('utf8')
}

function readlinkOpt(file: string): string | undefined {
  try {
    return fs.readlinkSync(file)
  } catch {
    return undefined
  }
}

/** A NUL-separated /proc list (cmdline, environ) of at most `max` bytes: the trailing NUL dropped, as libscap
 * does; a list cut at `max` loses its last byte, as libscap's does. */
export function nulList(b: Buffer, max: number): string[] {
  if (b.length === 0) return []
  let end = Math.min(b.length, max)
  if (b[end - 1] === 0 || b.length >= max) end--
  return b.toString('utf8', 0, end).split('\0')
}

/** The fields libscap takes from /proc/<pid>/status. */
export interface ProcStatus {
  pid: number
  ptid: number
  uid: number
  gid: number
  vtid: number | undefined
  vpid: number | undefined
}

const STATUS_KEYS = new Set(['Tgid', 'PPid', 'Uid', 'Gid', 'NSpid', 'NStgid'])

export function parseStatus(text: string, tid: number): ProcStatus {
  const s: ProcStatus = {pid: tid, ptid: U32_MAX, uid: U32_MAX, gid: U32_MAX, vtid: undefined, vpid: undefined}
  for (const line of text.split('\n')) {
    const c = line.indexOf(':')
    const key = c < 0 ? '' : line.slice(0, c)
    if (!STATUS_KEYS.has(key)) continue
    const nums = line.slice(c + 1).trim().split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number)
    if (nums.length === 0) continue
    switch (key) {
      case 'Tgid':
        s.pid = nums[0]
        break
      case 'PPid':
        s.ptid = nums[0]
        break
      case 'Uid': // real, effective, saved, fs: libscap keeps the effective one
        if (nums.length >= 2) s.uid = nums[1] >>> 0
        break
      case 'Gid':
        if (nums.length >= 2) s.gid = nums[1] >>> 0
        break
      case 'NSpid': // host id, then the id in the (first) nested pid namespace
        s.vtid = nums.length >= 2 ? nums[1] : tid
        break
      case 'NStgid':
        s.vpid = nums.length >= 2 ? nums[1] : undefined
        break
    }
  }
  if (s.vpid === undefined) s.vpid = s.pid
  return s
}

/** The fields libscap takes from /proc/<pid>/stat (after the comm, which may hold spaces and parentheses). */
export interface ProcStat {
  sid: number
  tty: number
  /** Clock ticks since boot. */
  starttime: bigint
}

export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')')
  if (close < 0) return undefined
  const f = text.slice(close + 2).trim().split(/\s+/)
  // f[0] is field 3 (state): session is field 6, tty_nr 7, starttime 22.
  if (f.length < 20 || !/^-?\d+$/.test(f[3]) || !/^-?\d+$/.test(f[4]) || !/^\d+$/.test(f[19])) return undefined
  return {sid: Number(f[3]), tty: Number(f[4]) >>> 0, starttime: BigInt(f[19])}
}

/** Boot time in ns since the epoch from <procRoot>/stat `btime` (libscap's scap_linux_get_host_boot_time_ns). */
export function bootTimeNs(procRoot = '/proc'): bigint {
  const m = /^btime\s+(\d+)/m.exec(readText(path.join(procRoot, 'stat')) ?? '')
  return m ? BigInt(m[1]) * 1_000_000_000n : 0n
}

/** A /proc/<pid>/mounts line's field with its octal escapes (\040 space) undone. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

/** Reads one /proc tree. During a scan, what processes share (socket tables per network namespace, cgroup
 * controllers) is read once; a lone `thread()` call reads them afresh, as libscap's scap_proc_get does. */
export class ProcReader {
  readonly procRoot: string
  readonly bootNs: bigint
  private readonly opts: ProcScanOptions
  private readonly sockets = new Map<string, SocketTable>()
  private readonly controllers = new Map<string, string[]>()
  private v2Mount: string | undefined | null = null
  private scanning = false

  constructor(opts: ProcScanOptions = {}) {
    this.opts = opts
    this.procRoot = opts.procRoot ?? '/proc'
    this.bootNs = bootTimeNs(this.procRoot)
  }

  /** Numeric entries of a directory, ascending. */
  private ids(dir: string): number[] {
    let names: string[]
    try {
      names = fs.readdirSync(dir)
    } catch {
      return []
    }
    return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b)
  }

  /** Every process and thread. */
  scan(): {threads: ScapThread[]; skipped: number} {
    this.scanning = true
    try {
      return this.scanAll()
    } finally {
      this.scanning = false
      this.sockets.clear()
      this.controllers.clear()
    }
  }

  private scanAll(): {threads: ScapThread[]; skipped: number} {
    const threads: ScapThread[] = []
    let skipped = 0
    for (const pid of this.ids(this.procRoot)) {
      const main = this.thread(pid)
      if (main === undefined) {
        skipped++
        continue
      }
      threads.push(main)
      if (this.opts.threads === false) continue
      for (const tid of this.ids(path.join(this.procRoot, String(pid), 'task'))) {
        if (tid === pid) continue
        const t = this.thread(tid, pid)
        if (t) threads.push(t)
      }
    }
    return {threads, skipped}
  }

  /** One thread (libscap scap_proc_add_from_proc): `/proc/<tid>`, or `/proc/<pid>/task/<tid>` when `pid` is
   * given. Undefined for kernel threads and zombies (no cmdline and no exe) and for entries that vanished. The
   * main thread of a process carries its fds. Live sources call this for a tid they meet first in an event. */
  thread(tid: number, pid?: number): ScapThread | undefined {
    const dir = pid === undefined ? path.join(this.procRoot, String(tid)) : path.join(this.procRoot, String(pid), 'task', String(tid))
    const cmdline = readBuf(path.join(dir, 'cmdline'), this.opts.maxArgsBytes ?? 4096)
    if (cmdline === undefined) return undefined
    const exepath = readlinkOpt(path.join(dir, 'exe'))
    if (cmdline.length === 0 && exepath === undefined) return undefined
    const comm = readText(path.join(dir, 'comm'))
    const status = readText(path.join(dir, 'status'))
    const statText = readText(path.join(dir, 'stat'))
    if (comm === undefined || status === undefined || statText === undefined) return undefined
    const st = parseStatus(status, tid)
    const stat = parseStat(statText)
    if (stat === undefined) return undefined
    const argv = nulList(cmdline, this.opts.maxArgsBytes ?? 4096)
    const env = readBuf(path.join(dir, 'environ'), this.opts.maxEnvBytes ?? 4096)
    const login = readText(path.join(dir, 'loginuid'))
    const t: ScapThread = {
      tid: BigInt(tid),
      pid: BigInt(st.pid),
      ptid: BigInt(st.ptid),
      sid: BigInt(stat.sid),
      comm: comm.endsWith('\n') ? comm.slice(0, -1) : comm,
      exe: argv[0] ?? '',
      exepath: exepath ?? '',
      args: argv.slice(1),
      env: env ? nulList(env, this.opts.maxEnvBytes ?? 4096) : [],
      cwd: readlinkOpt(path.join(dir, 'cwd')) ?? '',
      flags: tid === st.pid ? 0 : PPM_CL_CLONE_THREAD | PPM_CL_CLONE_FILES,
      uid: st.uid,
      gid: st.gid,
      vtid: BigInt(st.vtid ?? tid),
      vpid: BigInt(st.vpid ?? st.pid),
      cgroups: this.cgroups(dir),
      root: readlinkOpt(path.join(dir, 'root')) ?? '',
      cloneTs: this.cloneTs(dir, stat),
      tty: stat.tty,
      loginuid: login !== undefined && /^\d+/.test(login.trim()) ? Number(login.trim()) >>> 0 : U32_MAX,
      fds: [],
    }
    if (t.pid === t.tid) t.fds = this.fds(dir)
    return t
  }

  private cloneTs(dir: string, stat: ProcStat): bigint {
    if (this.opts.cloneTs === 'cmdline-ctime') {
      try {
        return fs.statSync(path.join(dir, 'cmdline'), {bigint: true}).ctimeNs
      } catch {
        return 0n
      }
    }
    return this.bootNs + (stat.starttime * 1_000_000_000n) / BigInt(this.opts.clockTicks ?? 100)
  }

  // -------------------------------------------------------------------------------------------------------------
  // cgroups (libscap scap_cgroup_get_thread): `controller=path` per v1 controller; the v2 path resolved into the
  // controllers enabled along it (walking up cgroup.controllers, each controller with the deepest path that has it).

  cgroups(dir: string): string[] {
    const text = readText(path.join(dir, 'cgroup'))
    if (text === undefined) return []
    const out: string[] = []
    for (const l of parseProcCgroup(text)) {
      if (l.controllers.length > 0) {
        for (const c of l.controllers) out.push(`${c}=${l.path}`)
      } else if (l.hierarchy === 0) {
        const v2 = this.resolveV2(l.path)
        out.push(...v2)
        if (l.path !== '/' && !v2.some((e) => e.endsWith(`=${l.path}`))) out.push(`=${l.path}`)
      }
    }
    return out
  }

  /** The cgroup2 mount as seen through init's root (libscap: `<host>/proc/1/root<mnt_dir>`), null when none. */
  private cgroup2Mount(): string | undefined {
    if (this.v2Mount !== null) return this.v2Mount
    this.v2Mount = undefined
    const mounts = readText(path.join(this.procRoot, '1', 'mounts')) ?? ''
    for (const line of mounts.split('\n')) {
      const f = line.split(' ')
      if (f.length >= 3 && f[2] === 'cgroup2') {
        const m = path.join(this.procRoot, '1', 'root', unescapeMount(f[1]))
        this.v2Mount = m
        if (this.controllersAt(m).length > 0) break
      }
    }
    return this.v2Mount
  }

  private controllersAt(dir: string): string[] {
    let c = this.controllers.get(dir)
    if (c === undefined) {
      const t = readText(path.join(dir, 'cgroup.controllers'))
      c = t === undefined ? [] : t.split(/\s+/).filter((x) => x !== '')
      if (this.scanning) this.controllers.set(dir, c)
    }
    return c
  }

  private resolveV2(cg: string): string[] {
    const mount = this.cgroup2Mount()
    if (mount === undefined) return []
    const all = this.controllersAt(mount)
    const found = new Set<string>()
    const out: string[] = []
    let cur = cg.startsWith('/') ? cg : `/${cg}`
    for (;;) {
      for (const c of this.controllersAt(path.join(mount, cur))) {
        if (!found.has(c)) {
          found.add(c)
          out.push(`${c}=${cur}`)
        }
      }
      if (cur === '/' || all.every((c) => found.has(c))) break
      const up = cur.lastIndexOf('/')
      cur = up <= 0 ? '/' : cur.slice(0, up)
    }
    return out
  }

  // -------------------------------------------------------------------------------------------------------------
  // File descriptors (libscap scap_fd_scan_fd_dir).

  private socketTable(dir: string): SocketTable {
    // Sockets are looked up in the tables of the process's network namespace (libscap: <procdir>/net when the
    // process has a namespace link, else the host's /proc/net), read once per namespace.
    const ns = /^net:\[(\d+)\]$/.exec(readlinkOpt(path.join(dir, 'ns', 'net')) ?? '')
    const key = ns ? ns[1] : ''
    let t = this.sockets.get(key)
    if (t === undefined) {
      t = readSocketTables(ns ? path.join(dir, 'net') : path.join(this.procRoot, 'net'))
      if (this.scanning) this.sockets.set(key, t)
    }
    return t
  }

  fds(dir: string): ScapFd[] {
    const fdDir = path.join(dir, 'fd')
    const out: ScapFd[] = []
    for (const fd of this.ids(fdDir)) {
      const f = this.fd(dir, fdDir, fd)
      if (f) out.push(f)
    }
    return out
  }

  private fd(dir: string, fdDir: string, fd: number): ScapFd | undefined {
    const file = path.join(fdDir, String(fd))
    const link = readlinkOpt(file)
    if (link === undefined) return undefined
    const base: ScapFd = {fd, ino: 0n, type: FdType.UNSUPPORTED, name: '', openFlags: 0, sip: 0, dip: 0, sport: 0, dport: 0, l4proto: 0}
    const sock = /^socket:\[(\d+)\]$/.exec(link)
    if (sock) {
      if (this.opts.sockets === false) return undefined
      // A socket missing from the tables (a protocol libscap does not read, or one made after them) is left
      // out, as libscap does: its first event names it.
      const e = this.socketTable(dir).get(BigInt(sock[1]))
      return e ? {...e, fd} : undefined
    }
    const pipe = /^pipe:\[(\d+)\]$/.exec(link)
    if (pipe) return {...base, type: FdType.FIFO, name: link, ino: BigInt(pipe[1])}
    let st: fs.BigIntStats | undefined
    try {
      st = fs.statSync(file, {bigint: true})
    } catch {
      st = undefined
    }
    if (link.startsWith('anon_inode:')) return {...base, type: ANON_TYPES[link] ?? FdType.UNSUPPORTED, ino: st?.ino ?? 0n}
    if (st === undefined) return undefined
    if (st.isDirectory()) return {...base, type: FdType.DIRECTORY, name: link, ino: st.ino}
    if (st.isFIFO()) return {...base, type: FdType.FIFO, name: link, ino: st.ino}
    if (st.isFile() || st.isCharacterDevice() || st.isBlockDevice()) {
      return {...base, type: FdType.FILE_V2, name: link, ino: st.ino, openFlags: this.openFlags(fdDir, fd)}
    }
    return {...base, type: FdType.UNSUPPORTED, name: st.isSocket() ? link : '', ino: st.ino}
  }

  /** The fd's open flags from fdinfo (`flags:\t0102001`, octal), as ppm flags; 0 (PPM_O_NONE) when unreadable. */
  private openFlags(fdDir: string, fd: number): number {
    const m = /^flags:\s*([0-7]+)$/m.exec(readText(path.join(fdDir, '..', 'fdinfo', String(fd))) ?? '')
    return m ? openFlagsToScap(parseInt(m[1], 8)) : 0
  }
}

/** Scan a /proc tree: every process and thread with its fds, plus the user list, ready for
 * `Collector.loadState(scan.threads, scan.users)`. */
export function scanProc(opts: ProcScanOptions = {}): ProcScan {
  const r = new ProcReader(opts)
  const {threads, skipped} = r.scan()
  return {threads, users: readUsers(opts.hostRoot ?? '/'), bootTimeNs: r.bootNs, skipped}
}
