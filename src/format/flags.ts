// Operation flags, open flags, file types and IP encodings (sysflow-format.md §2).

export const OpFlag = {
  CLONE: 1 << 0,
  EXEC: 1 << 1,
  EXIT: 1 << 2,
  SETUID: 1 << 3,
  SETNS: 1 << 4,
  ACCEPT: 1 << 5,
  CONNECT: 1 << 6,
  OPEN: 1 << 7,
  READ_RECV: 1 << 8,
  WRITE_SEND: 1 << 9,
  CLOSE: 1 << 10,
  TRUNCATE: 1 << 11,
  SHUTDOWN: 1 << 12,
  MMAP: 1 << 13,
  DIGEST: 1 << 14,
  MKDIR: 1 << 15,
  RMDIR: 1 << 16,
  LINK: 1 << 17,
  UNLINK: 1 << 18,
  SYMLINK: 1 << 19,
  RENAME: 1 << 20,
} as const

// The processor's name order (Go GetOpFlags); READ/WRITE read RECV/SEND on network flows.
const OPFLAG_ORDER: [number, string, string?][] = [
  [OpFlag.MKDIR, 'MKDIR'], [OpFlag.RMDIR, 'RMDIR'], [OpFlag.LINK, 'LINK'], [OpFlag.SYMLINK, 'SYMLINK'],
  [OpFlag.UNLINK, 'UNLINK'], [OpFlag.RENAME, 'RENAME'], [OpFlag.CLONE, 'CLONE'], [OpFlag.EXEC, 'EXEC'],
  [OpFlag.EXIT, 'EXIT'], [OpFlag.SETUID, 'SETUID'], [OpFlag.OPEN, 'OPEN'], [OpFlag.ACCEPT, 'ACCEPT'],
  [OpFlag.CONNECT, 'CONNECT'], [OpFlag.CLOSE, 'CLOSE'], [OpFlag.WRITE_SEND, 'WRITE', 'SEND'],
  [OpFlag.READ_RECV, 'READ', 'RECV'], [OpFlag.SETNS, 'SETNS'], [OpFlag.MMAP, 'MMAP'],
  [OpFlag.SHUTDOWN, 'SHUTDOWN'], [OpFlag.TRUNCATE, 'TRUNCATE'], [OpFlag.DIGEST, 'DIGEST'],
]

/** Flag names in the processor's order (`sf.opflags`). */
export function opFlagNames(flags: number, network: boolean): string[] {
  const out: string[] = []
  for (const [bit, name, netName] of OPFLAG_ORDER) if (flags & bit) out.push(network && netName ? netName : name)
  return out
}

/** Every name `sf.opflags` can hold, for --list and validation. */
export const OPFLAG_NAMES = ['MKDIR', 'RMDIR', 'LINK', 'SYMLINK', 'UNLINK', 'RENAME', 'CLONE', 'EXEC', 'EXIT', 'SETUID', 'OPEN', 'ACCEPT', 'CONNECT', 'CLOSE', 'WRITE', 'SEND', 'READ', 'RECV', 'SETNS', 'MMAP', 'SHUTDOWN', 'TRUNCATE', 'DIGEST']

const FILE_OPS: [number, string][] = [[OpFlag.MKDIR, 'MKDIR'], [OpFlag.RMDIR, 'RMDIR'], [OpFlag.LINK, 'LINK'], [OpFlag.SYMLINK, 'SYMLINK'], [OpFlag.UNLINK, 'UNLINK'], [OpFlag.RENAME, 'RENAME']]
const PROC_OPS: [number, string][] = [[OpFlag.CLONE, 'CLONE'], [OpFlag.EXEC, 'EXEC'], [OpFlag.EXIT, 'EXIT'], [OpFlag.SETUID, 'SETUID']]
const SLOTS: [number, string][] = [
  [OpFlag.OPEN, 'O'], [OpFlag.ACCEPT, 'A'], [OpFlag.CONNECT, 'C'], [OpFlag.WRITE_SEND, 'W'], [OpFlag.READ_RECV, 'R'],
  [OpFlag.SETNS, 'N'], [OpFlag.MMAP, 'M'], [OpFlag.SHUTDOWN, 'S'], [OpFlag.CLOSE, 'C'], [OpFlag.TRUNCATE, 'T'], [OpFlag.DIGEST, 'D'],
]

const displayCache = new Map<number, string>()

/** sysprint's opflags display string (§2.2): glued names for file/process ops, else 11 positional slots. */
export function opFlagsDisplay(flags: number): string {
  let s = displayCache.get(flags)
  if (s !== undefined) return s
  const glue = (ops: [number, string][]) => ops.filter(([b]) => flags & b).map(([, n]) => n).join('')
  s = glue(FILE_OPS) || glue(PROC_OPS) || SLOTS.map(([b, c]) => (flags & b ? c : ' ')).join('')
  if (displayCache.size < 4096) displayCache.set(flags, s)
  return s
}

export const OpenFlag = {
  RDONLY: 1 << 0, WRONLY: 1 << 1, CREAT: 1 << 2, APPEND: 1 << 3, DSYNC: 1 << 4, EXCL: 1 << 5, NONBLOCK: 1 << 6,
  SYNC: 1 << 7, TRUNC: 1 << 8, DIRECT: 1 << 9, DIRECTORY: 1 << 10, LARGEFILE: 1 << 11, CLOEXEC: 1 << 12,
} as const

/** Every name `sf.file.openflags` can hold, for validation. */
export const OPENFLAG_NAMES = ['NONE', 'RDWR', 'RDONLY', 'WRONLY', 'CREAT', 'EXCL', 'TRUNC', 'APPEND', 'NONBLOCK', 'DSYNC', 'DIRECT', 'LARGEFILE', 'DIRECTORY', 'CLOEXEC', 'SYNC']

/** Open flag names in the processor's order (Go GetOpenFlags), `O_` prefix dropped as the processor does. */
export function openFlagNames(flags: number): string[] {
  if (flags === 0) return ['NONE']
  const out: string[] = []
  const rd = flags & OpenFlag.RDONLY
  const wr = flags & OpenFlag.WRONLY
  if (rd && wr) out.push('RDWR')
  else if (rd) out.push('RDONLY')
  else if (wr) out.push('WRONLY')
  const rest: [number, string][] = [
    [OpenFlag.CREAT, 'CREAT'], [OpenFlag.EXCL, 'EXCL'], [OpenFlag.TRUNC, 'TRUNC'], [OpenFlag.APPEND, 'APPEND'],
    [OpenFlag.NONBLOCK, 'NONBLOCK'], [OpenFlag.DSYNC, 'DSYNC'], [OpenFlag.DIRECT, 'DIRECT'], [OpenFlag.LARGEFILE, 'LARGEFILE'],
    [OpenFlag.DIRECTORY, 'DIRECTORY'], [OpenFlag.CLOEXEC, 'CLOEXEC'], [OpenFlag.SYNC, 'SYNC'],
  ]
  for (const [b, n] of rest) if (flags & b) out.push(n)
  return out
}

export function isOpenRead(flags: number): boolean {
  return (flags & OpenFlag.RDONLY) !== 0
}

export function isOpenWrite(flags: number): boolean {
  return (flags & OpenFlag.WRONLY) !== 0
}

/** IPv4 held as an int whose least significant byte is the first octet (16777343 is 127.0.0.1). */
export function ipv4(n: number | bigint): string {
  const v = typeof n === 'bigint' ? Number(BigInt.asUintN(32, n)) : n >>> 0
  // A trace talks to few addresses, and every network record prints two of them (and its `res`).
  let s = ipCache.get(v)
  if (s === undefined) {
    if (ipCache.size >= 4096) ipCache.clear()
    s = `${v & 0xff}.${(v >>> 8) & 0xff}.${(v >>> 16) & 0xff}.${v >>> 24}`
    ipCache.set(v, s)
  }
  return s
}
const ipCache = new Map<number, string>()

/** A file's restype code as its type character ('f', 'd', 'u', ...). */
export function fileTypeChar(restype: number): string {
  return restype >= 0 && restype <= 0x10ffff ? String.fromCodePoint(restype) : '?'
}
