// The socket tables of a network namespace (/proc/<pid>/net/{tcp,udp,raw,unix,netlink,tcp6,udp6,raw6}), keyed by
// socket inode, as libscap's scap_fd_read_sockets reads them to name the `socket:[ino]` descriptors of its /proc
// scan. Entries come out as ScapFd values (the shape the .scap proc table decodes to), so the state engine takes
// them unchanged: IPv4 addresses are the network-order u32 read little-endian (127.0.0.1 = 16777343), which is the
// number /proc prints in hex on little-endian hosts; ports are host-order numbers.
import fs from 'node:fs'
import path from 'node:path'
import type {ScapFd} from '../../native/scap.js'

/** scap_fd_type numbers used here. */
export const FdType = {
  FILE: 1, DIRECTORY: 2, IPV4_SOCK: 3, IPV6_SOCK: 4, IPV4_SERVSOCK: 5, IPV6_SERVSOCK: 6, FIFO: 7, UNIX_SOCK: 8, EVENT: 9,
  UNSUPPORTED: 10, SIGNALFD: 11, EVENTPOLL: 12, INOTIFY: 13, TIMERFD: 14, NETLINK: 15, FILE_V2: 16,
} as const

/** scap_l4_proto numbers. */
export const L4 = {TCP: 2, UDP: 3, ICMP: 4, RAW: 5} as const

/** A socket of the table: the ScapFd fields it fixes (fd number and name filled per descriptor). */
export type SocketEntry = Omit<ScapFd, 'fd'>

export type SocketTable = Map<bigint, SocketEntry>

function blank(ino: bigint, type: number): SocketEntry {
  return {ino, type, name: '', openFlags: 0, sip: 0, dip: 0, sport: 0, dport: 0, l4proto: 0}
}

function fields(line: string): string[] {
  return line.trim().split(/\s+/)
}

/** `0100007F:1F90` -> [16777343, 8080]; undefined when malformed. */
function addr4(s: string): [number, number] | undefined {
  const m = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/.exec(s)
  return m ? [parseInt(m[1], 16), parseInt(m[2], 16)] : undefined
}

/** `00000000000000000000FFFF0100007F:1F90` -> four u32 words and the port. */
function addr6(s: string): [number[], number] | undefined {
  const m = /^([0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(s)
  if (!m) return undefined
  const w = [0, 8, 16, 24].map((o) => parseInt(m[1].slice(o, o + 8), 16))
  return [w, parseInt(m[2], 16)]
}

/** sinsp's is_ipv4_mapped_ipv6 on the words as /proc prints them: bytes 0-9 zero, bytes 10-11 0xff. */
function mapped(w: number[]): boolean {
  return w[0] === 0 && w[1] === 0 && w[2] === 0xffff0000
}

/** Parse a tcp/udp/raw (IPv4) table: a listening or unconnected socket (remote 0.0.0.0) is a server socket whose
 * address and port go to dip/dport, as the .scap proc table stores ipv4serverinfo. */
export function parseInet4(text: string, l4proto: number, into: SocketTable = new Map()): SocketTable {
  for (const line of text.split('\n').slice(1)) {
    const f = fields(line)
    if (f.length < 10) continue
    const l = addr4(f[1])
    const r = addr4(f[2])
    if (!l || !r || !/^\d+$/.test(f[9])) continue
    const e = blank(BigInt(f[9]), FdType.IPV4_SOCK)
    e.l4proto = l4proto
    if (r[0] === 0) {
      e.type = FdType.IPV4_SERVSOCK
      e.dip = l[0]
      e.dport = l[1]
    } else {
      ;[e.sip, e.sport, e.dip, e.dport] = [l[0], l[1], r[0], r[1]]
    }
    into.set(e.ino, e)
  }
  return into
}

/** Parse a tcp6/udp6/raw6 table. IPv4-mapped sockets become IPv4 ones, as sinsp does when it loads the proc table
 * (both ends mapped, or a mapped local end of a server socket); others stay IPv6 (type 4/6, no addresses: the
 * ScapFd shape has no room for them and SysFlow records only IPv4 flows). */
export function parseInet6(text: string, l4proto: number, into: SocketTable = new Map()): SocketTable {
  for (const line of text.split('\n').slice(1)) {
    const f = fields(line)
    if (f.length < 10) continue
    const l = addr6(f[1])
    const r = addr6(f[2])
    if (!l || !r || !/^\d+$/.test(f[9])) continue
    const server = r[0].every((x) => x === 0)
    const e = blank(BigInt(f[9]), server ? FdType.IPV6_SERVSOCK : FdType.IPV6_SOCK)
    e.l4proto = l4proto
    if (server && mapped(l[0])) {
      e.type = FdType.IPV4_SERVSOCK
      e.dip = l[0][3]
      e.dport = l[1]
    } else if (!server && mapped(l[0]) && mapped(r[0])) {
      e.type = FdType.IPV4_SOCK
      ;[e.sip, e.sport, e.dip, e.dport] = [l[0][3], l[1], r[0][3], r[1]]
    } else if (server) {
      e.dport = l[1]
    }
    into.set(e.ino, e)
  }
  return into
}

/** Parse /proc/net/unix: `Num RefCount Protocol Flags Type St Inode Path`; the path is the rest of the line
 * (libscap takes one token; a path may hold spaces). */
export function parseUnix(text: string, into: SocketTable = new Map()): SocketTable {
  for (const line of text.split('\n').slice(1)) {
    const m = /^\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\d+)(?:\s(.*))?$/.exec(line)
    if (!m) continue
    const e = blank(BigInt(m[1]), FdType.UNIX_SOCK)
    e.name = (m[2] ?? '').trim()
    into.set(e.ino, e)
  }
  return into
}

/** Parse /proc/net/netlink: the inode is the tenth field. */
export function parseNetlink(text: string, into: SocketTable = new Map()): SocketTable {
  for (const line of text.split('\n').slice(1)) {
    const f = fields(line)
    if (f.length < 10 || !/^\d+$/.test(f[9])) continue
    const e = blank(BigInt(f[9]), FdType.NETLINK)
    into.set(e.ino, e)
  }
  return into
}

function readOpt(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** Every socket of the namespace whose tables are in `netDir` (e.g. /proc/<pid>/net). A missing table is
 * skipped (no IPv6, no raw sockets). */
export function readSocketTables(netDir: string): SocketTable {
  const t: SocketTable = new Map()
  const v4: [string, number][] = [['tcp', L4.TCP], ['udp', L4.UDP], ['raw', L4.RAW]]
  for (const [name, proto] of v4) {
    const s = readOpt(path.join(netDir, name))
    if (s !== undefined) parseInet4(s, proto, t)
  }
  const u = readOpt(path.join(netDir, 'unix'))
  if (u !== undefined) parseUnix(u, t)
  const n = readOpt(path.join(netDir, 'netlink'))
  if (n !== undefined) parseNetlink(n, t)
  for (const [name, proto] of v4) {
    const s = readOpt(path.join(netDir, `${name}6`))
    if (s !== undefined) parseInet6(s, proto, t)
  }
  return t
}
