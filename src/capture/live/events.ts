// The libscap events the eBPF path produces, so its records go through the same Collector as a .scap file's:
// each probe record (one per system call, paired in the kernel) becomes the enter and exit events libscap would
// have delivered, in libscap's own layout (ppm_evt_hdr, u16 lengths, values). Types keep libscap's PPME numbers
// (enter even, exit = enter + 1, which the collector relies on); only the params the collector reads by name are
// carried. The table is data, so the eBPF path needs no libscap at all.
import type {EventInfo} from '../../native/scap.js'
import {PT} from '../decoder.js'

type Spec = [enter: number, name: string, enterParams: string, exitParams: string]

// "name:PT" lists. PT codes: see decoder.ts.
const SPECS: Spec[] = [
  [2, 'open', '', 'fd:14 name:17 flags:30'],
  [4, 'close', 'fd:14', 'res:11'],
  [6, 'read', 'fd:14', 'res:11'],
  [8, 'write', 'fd:14', 'res:11'],
  [18, 'socket', 'domain:30 type:7 proto:7', 'fd:14'],
  [20, 'bind', 'fd:14', 'res:11 addr:12'],
  [22, 'connect', 'fd:14', 'res:11 tuple:13'],
  [24, 'listen', 'fd:14', 'res:11'],
  [30, 'sendto', 'fd:14 size:7 tuple:13', 'res:11'],
  [34, 'recvfrom', 'fd:14', 'res:11 tuple:13'],
  [36, 'shutdown', 'fd:14', 'res:11'],
  [48, 'sendmsg', 'fd:14 size:7 tuple:13', 'res:11'],
  [50, 'sendmmsg', 'fd:14', 'res:11'],
  [52, 'recvmsg', 'fd:14', 'res:11 tuple:13'],
  [54, 'recvmmsg', 'fd:14', 'res:11'],
  [58, 'creat', '', 'fd:14 name:17 flags:30'],
  [60, 'pipe', '', 'res:11 fd1:14 fd2:14'],
  [94, 'chdir', '', 'res:11 path:9'],
  [96, 'fchdir', 'fd:14', 'res:11'],
  [112, 'pread', 'fd:14', 'res:11'],
  [114, 'pwrite', 'fd:14', 'res:11'],
  [116, 'readv', 'fd:14', 'res:11'],
  [118, 'writev', 'fd:14', 'res:11'],
  [120, 'preadv', 'fd:14', 'res:11'],
  [122, 'pwritev', 'fd:14', 'res:11'],
  [124, 'dup', 'fd:14', 'res:14'],
  [128, 'kill', 'pid:15 sig:19', 'res:11'],
  [150, 'fcntl', 'fd:14 cmd:28', 'res:14'],
  [160, 'mmap', 'fd:14', 'res:8'],
  [168, 'ptrace', 'request:29 pid:15', 'res:11'],
  [174, 'rename', '', 'res:11 oldpath:17 newpath:17'],
  [176, 'renameat', '', 'res:11 olddirfd:14 oldpath:43 newdirfd:14 newpath:43'],
  [178, 'symlink', '', 'res:11 target:9 linkpath:17'],
  [180, 'symlinkat', '', 'res:11 target:9 linkdirfd:14 linkpath:43'],
  [186, 'procexit', 'status:11', ''],
  [192, 'setresuid', 'ruid:31 euid:31 suid:31', 'res:11'],
  [194, 'setresgid', 'rgid:32 egid:32 sgid:32', 'res:11'],
  [198, 'setuid', 'uid:31', 'res:11'],
  [200, 'setgid', 'gid:32', 'res:11'],
  [222, 'clone', '', 'res:15 exe:9 args:10 tid:15 pid:15 ptid:15 cwd:9 comm:9 cgroups:10 flags:30 uid:7 gid:7'],
  [240, 'setns', 'fd:14 nstype:30', 'res:11'],
  [246, 'accept', '', 'fd:14 tuple:13'],
  [248, 'accept4', 'flags:3', 'fd:14 tuple:13'],
  [276, 'mkdir', '', 'res:11 path:17'],
  [278, 'rmdir', '', 'res:11 path:17'],
  [284, 'unshare', 'flags:30', 'res:11'],
  [292, 'execve', 'filename:17', 'res:11 exe:9 args:10 tid:15 pid:15 ptid:15 comm:9 cgroups:10'],
  [300, 'unlink', '', 'res:11 path:17'],
  [302, 'unlinkat', '', 'res:11 dirfd:14 name:43 flags:30'],
  [304, 'mkdirat', '', 'res:11 dirfd:14 path:43 mode:7'],
  [306, 'openat', '', 'fd:14 dirfd:14 name:43 flags:30'],
  [308, 'link', '', 'res:11 oldpath:17 newpath:17'],
  [310, 'linkat', '', 'res:11 olddir:14 oldpath:43 newdir:14 newpath:43 flags:30'],
  [318, 'renameat2', '', 'res:11 olddirfd:14 oldpath:43 newdirfd:14 newpath:43 flags:30'],
  [326, 'openat2', '', 'fd:14 dirfd:14 name:43 flags:30'],
]

export const PPME: Record<string, number> = Object.fromEntries(SPECS.map((s) => [s[1], s[0]]))

function params(list: string): {name: string; type: number}[] {
  return list === '' ? [] : list.split(' ').map((p) => {
    const [name, type] = p.split(':')
    return {name, type: Number(type)}
  })
}

/** The event table of the eBPF path (indexed by PPME type; unused types are empty). */
export const LIVE_EVENT_TABLE: EventInfo[] = (() => {
  const t: EventInfo[] = Array.from({length: 336}, () => ({name: '', category: 0, flags: 0, params: []}))
  for (const [e, name, ep, xp] of SPECS) {
    t[e] = {name, category: 0, flags: 0, params: params(ep)}
    t[e + 1] = {name, category: 0, flags: 0, params: params(xp)}
  }
  return t
})()

/** Bytes of an integer param of each PT type. */
const WIDTH: Record<number, number> = {
  [PT.INT8]: 1, [PT.INT16]: 2, [PT.INT32]: 4, [PT.INT64]: 8, [PT.UINT8]: 1, [PT.UINT16]: 2, [PT.UINT32]: 4,
  [PT.UINT64]: 8, [PT.ERRNO]: 8, [PT.FD]: 8, [PT.PID]: 8, [PT.FLAGS8]: 1, [PT.FLAGS16]: 2, [PT.FLAGS32]: 4,
  [PT.UID]: 4, [PT.GID]: 4, 19: 1,
}

export type ParamValue = number | string | string[] | Buffer

/**
 * Writes libscap events (26-byte header, u16 lengths, values) one after the other into one reused buffer, so a
 * record's enter and exit events are read in place (no copy). `reset()` starts over at offset 0.
 */
export class EventWriter {
  buf = Buffer.alloc(1 << 16)
  /** Where the next event goes. */
  end = 0

  reset(): void {
    this.end = 0
  }

  /**
   * Append the event of `type` with `values` in table order (missing ones empty); returns its offset. The time
   * comes as two u32 halves: BigInt conversions were the largest cost per event.
   */
  write(type: number, tsLo: number, tsHi: number, tid: number, values: ParamValue[]): number {
    const ps = LIVE_EVENT_TABLE[type].params
    const n = ps.length
    const at = this.end
    this.fit(at, 26 + 10 * n)
    let pos = at + 26 + 2 * n
    for (let i = 0; i < n; i++) {
      const v = values[i]
      const t = ps[i].type
      let len = 0
      if (v !== undefined) {
        const w = WIDTH[t]
        if (w !== undefined) {
          const b = this.buf
          const x = typeof v === 'number' ? v : 0
          if (w === 8) {
            const hi = Math.floor(x / 4294967296)
            b.writeUInt32LE((x - hi * 4294967296) >>> 0, pos)
            b.writeInt32LE(hi | 0, pos + 4)
          }
          else if (w === 4) b.writeInt32LE(x | 0, pos)
          else if (w === 2) b.writeInt16LE((x << 16) >> 16, pos)
          else b.writeInt8((x << 24) >> 24, pos)
          len = w
        } else if (typeof v === 'string') {
          len = this.fit(pos, Buffer.byteLength(v) + 1 + 8 * n)
          len = Math.min(len, Buffer.byteLength(v) + 1)
          this.buf.write(v, pos, len - 1, 'utf8')
          this.buf[pos + len - 1] = 0
        } else if (Array.isArray(v)) {
          const s = v.length === 0 ? '' : `${v.join('\0')}\0`
          len = Math.min(this.fit(pos, Buffer.byteLength(s) + 8 * n), Buffer.byteLength(s))
          this.buf.write(s, pos, len, 'utf8')
        } else if (Buffer.isBuffer(v)) {
          len = Math.min(this.fit(pos, v.length + 8 * n), v.length)
          v.copy(this.buf, pos, 0, len)
        }
      }
      this.buf.writeUInt16LE(len, at + 26 + 2 * i)
      pos += len
    }
    const b = this.buf
    b.writeUInt32LE(tsLo, at)
    b.writeUInt32LE(tsHi, at + 4)
    b.writeUInt32LE(tid >>> 0, at + 8)
    b.writeUInt32LE(0, at + 12)
    b.writeUInt32LE(pos - at, at + 16)
    b.writeUInt16LE(type, at + 20)
    b.writeUInt32LE(n, at + 22)
    this.end = pos
    return at
  }

  /** Room for `len` bytes at `pos` (the buffer grows, keeping what it holds); returns `len` clamped to 65535. */
  private fit(pos: number, len: number): number {
    const l = Math.min(len, 65535)
    if (pos + l > this.buf.length) {
      const nb = Buffer.alloc(Math.max(this.buf.length * 2, pos + l + 1024))
      this.buf.copy(nb, 0, 0, this.end > pos ? this.end : pos)
      this.buf = nb
    }
    return l
  }
}
