// The subset of libsinsp's state that SysFlow needs: threads (from the capture's process table and
// clone/execve/exit), file descriptors (open*/socket/connect/accept/close/dup/pipe), users and containers.
import {posix} from 'node:path'
import type {ScapFd, ScapThread} from '../native/scap.js'
import type {Tuple} from './decoder.js'
// The one container-id matcher, offline and live: libsinsp's engine layouts (exact 64 hex ids).
import {containerIdFromCgroups} from './live/cgroup.js'

/** fd types as sinsp's fd.typechar: f file, d directory, 4 ipv4, 6 ipv6, u unix, p pipe, e event, s signalfd, l eventpoll, i inotify, t timerfd, n netlink, o other. */
export type FdType = 'f' | 'd' | '4' | '6' | 'u' | 'p' | 'e' | 's' | 'l' | 'i' | 't' | 'n' | 'o'

export interface Fd {
  type: FdType
  name: string
  openFlags: number
  sip: number
  sport: number
  dip: number
  dport: number
  proto: number
  /**
   * The flow last found for this descriptor (set by the data-flow processor): a read or write checks it is still in
   * the table and still this thread's, fd's and file's or 4-tuple's, instead of building the flow key again.
   */
  flow?: unknown
}

export interface Thread {
  tid: number
  pid: number
  ptid: number
  cloneTs: bigint
  exe: string
  exepath: string
  args: string[]
  env: string[]
  cwd: string
  comm: string
  uid: number
  gid: number
  vtid: number
  vpid: number
  tty: number
  loginuid: number
  containerId: string
  fds: Map<number, Fd>
  /** The last enter event of this thread: type and the params exits need. */
  enterType: number
  enterFd: number
  enterUid: number
  enterStr: string
  enterStr2: string
  enterNum: number
  enterTuple: Tuple | undefined
}

const FD_TYPES: FdType[] = ['o', 'f', 'd', '4', '6', '4', '6', 'p', 'u', 'e', 'o', 's', 'l', 'i', 't', 'n', 'f']

export function fdFromScap(f: ScapFd): Fd {
  const type = FD_TYPES[f.type + 1 > 0 ? f.type : 0] ?? 'o'
  const proto = f.l4proto === 2 ? 6 : f.l4proto === 3 ? 17 : f.l4proto === 4 ? 1 : f.l4proto === 5 ? 254 : 0
  return {type: f.type === 2 ? 'd' : type, name: f.name, openFlags: f.openFlags, sip: f.sip, sport: f.sport, dip: f.dip, dport: f.dport, proto}
}

export function newFd(type: FdType, name = '', openFlags = 0): Fd {
  return {type, name, openFlags, sip: 0, sport: 0, dip: 0, dport: 0, proto: 0}
}

export function threadFromScap(t: ScapThread): Thread {
  const fds = new Map<number, Fd>()
  for (const f of t.fds) fds.set(f.fd, fdFromScap(f))
  return {
    tid: Number(t.tid), pid: Number(t.pid), ptid: Number(BigInt.asIntN(64, t.ptid)), cloneTs: t.cloneTs,
    exe: t.exe, exepath: t.exepath, args: t.args, env: t.env, cwd: t.cwd, comm: t.comm,
    uid: t.uid | 0, gid: t.gid | 0, vtid: Number(t.vtid), vpid: Number(t.vpid), tty: t.tty, loginuid: t.loginuid,
    containerId: containerIdFromCgroups(t.cgroups), fds,
    enterType: -1, enterFd: -1, enterUid: -1, enterStr: '', enterStr2: '', enterNum: 0, enterTuple: undefined,
  }
}

export function blankThread(tid: number): Thread {
  return {
    tid, pid: tid, ptid: -1, cloneTs: 0n, exe: '', exepath: '', args: [], env: [], cwd: '', comm: '', uid: -1, gid: -1,
    vtid: -1, vpid: -1, tty: 0, loginuid: -1, containerId: '', fds: new Map(),
    enterType: -1, enterFd: -1, enterUid: -1, enterStr: '', enterStr2: '', enterNum: 0, enterTuple: undefined,
  }
}

/**
 * A thread's working directory as libsinsp stores it (sinsp_threadinfo::set_cwd): a relative path taken from the
 * current one, normalized, always ending with "/" (so an empty one is "/").
 */
export function sinspCwd(cur: string, cwd: string): string {
  let d = cwd === '' ? cur : cwd.startsWith('/') ? cwd : joinPath(cur, cwd)
  if (d !== '') d = posix.normalize(d)
  return d.endsWith('/') ? d : `${d}/`
}

/** sinsp's path concatenation: absolute paths as they are, relative ones appended to the directory. */
export function joinPath(dir: string, name: string): string {
  if (name.startsWith('/') || dir === '') return name
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`
}

export interface ContainerInfo {
  id: string
  name: string
  image: string
  imageid: string
  type: string
  privileged: boolean
}

export const CONTAINER_TYPES = ['CT_DOCKER', 'CT_LXC', 'CT_LIBVIRT_LXC', 'CT_MESOS', 'CT_RKT', 'CT_CUSTOM', 'CT_CRI', 'CT_CONTAINERD', 'CT_CRIO', 'CT_BPM']

/** Container metadata from a CONTAINER_JSON event; undefined when the JSON is unusable. */
export function containerFromJson(text: string): ContainerInfo | undefined {
  try {
    const c = (JSON.parse(text) as {container?: Record<string, unknown>}).container
    if (!c || typeof c.id !== 'string') return undefined
    const image = typeof c.image === 'string' ? c.image : ''
    const tag = typeof c.imagetag === 'string' ? c.imagetag : ''
    return {
      id: c.id.slice(0, 12),
      name: typeof c.name === 'string' ? c.name : '',
      // The collector glues image and tag (so "alpine:latest:latest"); kept for agreement with its output.
      image: tag ? `${image}:${tag}` : image,
      imageid: typeof c.imageid === 'string' ? c.imageid : '',
      type: CONTAINER_TYPES[typeof c.type === 'number' ? c.type : 0] ?? 'CT_CUSTOM',
      privileged: c.privileged === true,
    }
  } catch {
    return undefined
  }
}

/** libsinsp's thread table: threads by tid, with the lookups of a thread's main thread and parent. */
export class ThreadTable extends Map<number, Thread> {
  /** The thread's process leader (itself when it is one, or when its leader is unknown). */
  mainOf(t: Thread): Thread {
    if (t.tid === t.pid) return t
    return this.get(t.pid) ?? t
  }

  /** The main thread of the thread's parent, if the parent is known. */
  parentMain(m: Thread): Thread | undefined {
    if (m.ptid < 0) return undefined
    const p = this.get(m.ptid)
    return p === undefined ? undefined : this.mainOf(p)
  }
}

/** sinsp's path normalization ("." and ".." resolved, no trailing slash); relative paths lose a leading "./". */
/** What posix.normalize would change in an absolute path: `//`, a `.` or `..` segment. */
const UNCLEAN = /\/\/|\/\.\.?(\/|$)/

export function normalize(p: string): string {
  if (p === '') return p
  // most paths are absolute and clean already (an open's path, each time): nothing to do
  if (p.charCodeAt(0) === 47 && (p.length === 1 || p.charCodeAt(p.length - 1) !== 47) && !UNCLEAN.test(p)) return p
  const n = posix.normalize(p)
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n
}

/** sinsp's name of a unix socket from a PT_SOCKTUPLE: "<src hex>-><dst hex> <path>". */
export function unixName(b: Buffer): string {
  if (b.length < 17) return ''
  const z = b.indexOf(0, 17)
  const p = b.toString('utf8', 17, z < 0 ? b.length : z)
  return `${b.readBigUInt64LE(1).toString(16)}->${b.readBigUInt64LE(9).toString(16)} ${p}`
}

/** sinsp's rendering of an IPv4 tuple: "a.b.c.d:port->e.f.g.h:port". */
export function ipv4Name(f: Fd): string {
  const ip = (n: number) => `${n & 255}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${n >>> 24}`
  return `${ip(f.sip)}:${f.sport}->${ip(f.dip)}:${f.dport}`
}

/**
 * A thread seen before its process (its clone exit is the first event of the process): libsinsp gives it one
 * leader, tid = pid, clone time 0, uid/gid unknown (-1), the rest from the thread's own clone event. The real
 * execve later updates it (MODIFIED).
 */
export function placeholderLeader(t: Thread): Thread {
  const m = blankThread(t.pid)
  m.ptid = t.ptid
  m.exe = t.exe
  m.args = t.args
  m.comm = t.comm
  m.cwd = t.cwd
  m.env = t.env
  m.tty = t.tty
  m.containerId = t.containerId
  m.fds = t.fds
  return m
}
