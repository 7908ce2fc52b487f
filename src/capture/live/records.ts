// Probe records (struct sf_rec in src/native/bpf/sysflow.bpf.c) -> libscap events for the Collector. One record is
// one system call (read at its exit), an exec, fork or exit from the sched tracepoints, or an aggregate of the
// reads and writes of one thread on one fd, which goes to the Collector as those calls (Collector.ioBatch).
import type {Collector, CollectionMode} from '../collector.js'
import {EventWriter, PPME, ParamValue} from './events.js'

/** struct sf_rec offsets. */
const R = {ts: 0, tid: 8, pid: 12, kind: 16, dlen0: 20, dlen1: 22, dlen2: 24, fam: 26, proto: 27, sport: 28, dport: 30, sip: 32, dip: 36, ret: 40, args: 48, aux: 96, data: 104}
export const K_EXEC = 1000
export const K_FORK = 1001
export const K_EXIT = 1002
export const K_IOAGG = 1003

/** x86_64 syscall numbers -> [libscap event name, kind of decoding]. */
const SYSCALLS: Record<number, [string, Shape]> = {}
type Shape = 'fd' | 'io' | 'open' | 'openat' | 'close' | 'sock' | 'connect' | 'accept' | 'sendto' | 'recv' | 'pipe' | 'path' | 'dirpath' | 'two' | 'twoat' | 'symlink' | 'symlinkat' | 'uid' | 'resuid' | 'fcntl' | 'mmap' | 'plain' | 'exec' | 'mmsg'
function def(nrs: number[], name: string, shape: Shape): void {
  for (const n of nrs) SYSCALLS[n] = [name, shape]
}
def([0], 'read', 'io'); def([1], 'write', 'io'); def([17], 'pread', 'io'); def([18], 'pwrite', 'io')
def([19], 'readv', 'io'); def([20], 'writev', 'io'); def([295, 327], 'preadv', 'io'); def([296, 328], 'pwritev', 'io')
def([2], 'open', 'open'); def([85], 'creat', 'open'); def([257], 'openat', 'openat'); def([437], 'openat2', 'openat')
def([3], 'close', 'close'); def([41], 'socket', 'sock'); def([42], 'connect', 'connect')
def([43], 'accept', 'accept'); def([288], 'accept4', 'accept')
def([44], 'sendto', 'sendto'); def([46], 'sendmsg', 'sendto'); def([45], 'recvfrom', 'recv'); def([47], 'recvmsg', 'recv')
def([307], 'sendmsg', 'mmsg'); def([299], 'recvmsg', 'mmsg'); def([49], 'bind', 'fd'); def([50], 'listen', 'fd'); def([48], 'shutdown', 'fd')
def([32, 33, 292], 'dup', 'fd'); def([72], 'fcntl', 'fcntl'); def([22, 293], 'pipe', 'pipe')
def([80], 'chdir', 'path'); def([81], 'fchdir', 'fd'); def([83], 'mkdir', 'path'); def([84], 'rmdir', 'path'); def([87], 'unlink', 'path')
def([258], 'mkdirat', 'dirpath'); def([263], 'unlinkat', 'dirpath')
def([82], 'rename', 'two'); def([86], 'link', 'two'); def([264], 'renameat', 'twoat'); def([316], 'renameat2', 'twoat'); def([265], 'linkat', 'twoat')
def([88], 'symlink', 'symlink'); def([266], 'symlinkat', 'symlinkat')
def([105], 'setuid', 'uid'); def([106], 'setgid', 'uid'); def([117], 'setresuid', 'resuid'); def([119], 'setresgid', 'resuid')
def([308], 'setns', 'fd'); def([272], 'unshare', 'plain'); def([62], 'kill', 'plain'); def([101], 'ptrace', 'plain')
def([9], 'mmap', 'mmap'); def([59, 322], 'execve', 'exec')

/** Syscall number -> the PPME exit type of the read/write calls (shape 'io': an fd in, a byte count out). */
const IO_EXIT: (number | undefined)[] = []

const FILE_CALLS = [0, 1, 17, 18, 19, 20, 295, 296, 327, 328, 2, 85, 257, 437, 9, 80, 81, 83, 84, 87, 258, 263, 82, 86, 264, 316, 265, 88, 266]
const FILE_EVENTS = [83, 84, 87, 258, 263, 82, 86, 264, 316, 265, 88, 266]

/** The syscall numbers the probe traces in a collection mode (like the collector's per-mode subscriptions). */
export function syscallsFor(mode: CollectionMode): number[] {
  const all = Object.keys(SYSCALLS).map(Number)
  if (mode === 'nofiles') return all.filter((n) => !FILE_EVENTS.includes(n))
  if (mode === 'consume') return all.filter((n) => !FILE_CALLS.includes(n) || [2, 85, 257, 437].includes(n))
  return all
}

/** Linux open(2) flags -> libscap's PPM_O_* flags (what FileFlow.openFlags carries). */
export function openFlagsToScap(f: number): number {
  let r = 0
  const acc = f & 3
  r |= acc === 0 ? 1 : acc === 1 ? 2 : acc === 2 ? 3 : 0
  if (f & 0o100) r |= 1 << 2 // O_CREAT
  if (f & 0o2000) r |= 1 << 3 // O_APPEND
  if (f & 0o10000) r |= 1 << 4 // O_DSYNC
  if (f & 0o200) r |= 1 << 5 // O_EXCL
  if (f & 0o4000) r |= 1 << 6 // O_NONBLOCK
  if ((f & 0o4010000) === 0o4010000) r |= 1 << 7 // O_SYNC
  if (f & 0o1000) r |= 1 << 8 // O_TRUNC
  if (f & 0o40000) r |= 1 << 9 // O_DIRECT
  if (f & 0o200000) r |= 1 << 10 // O_DIRECTORY
  if (f & 0o100000) r |= 1 << 11 // O_LARGEFILE
  if (f & 0o2000000) r |= 1 << 12 // O_CLOEXEC
  if ((f & 0o20200000) === 0o20200000) r |= 1 << 13 // O_TMPFILE
  return r
}

const PPM_CL_CLONE_THREAD = 1 << 13

/** A probe's cgroup blob (per hierarchy: names leaf first, then an empty name) -> libscap's "subsys=path" list. */
export function cgroupList(blob: string): string[] {
  const out: string[] = []
  const names = blob.split('\0')
  const subsys = ['unified', 'pids']
  let cur: string[] = []
  for (const n of names) {
    if (out.length >= subsys.length) break
    if (n === '') {
      out.push(`${subsys[out.length]}=/${cur.reverse().join('/')}`)
      cur = []
    } else cur.push(n)
  }
  return out
}

/** Feeds probe records to a Collector as libscap events. */
export class RecordDecoder {
  private readonly w = new EventWriter()
  private readonly tuple = Buffer.alloc(13)
  records = 0
  unknown = 0

  /** `offsetNs` turns the probe's CLOCK_MONOTONIC time into wall-clock ns. */
  private readonly offLo: number
  private readonly offHi: number
  private readonly offsetNs: bigint
  /** The current record's wall-clock time, as u32 halves (no BigInt per record). */
  private tsLo = 0
  private tsHi = 0

  /**
   * `sink` gets each event's buffer and offset (valid until the next record: the events of one record are written
   * one after the other, in place); `c` is read for a fork's parent (exe, args, cwd).
   */
  /**
   * `direct`: read and write calls go to `Collector.ioCall` without libscap bytes or the sink (they then bypass the
   * capture loop's per-event checks: only where there is no rotation and no event limit).
   */
  constructor(private readonly c: Collector, offsetNs: bigint, private readonly sink: (ev: Buffer, at: number) => void, private readonly direct = false) {
    this.offsetNs = offsetNs
    this.offLo = Number(offsetNs & 0xffffffffn)
    this.offHi = Number(offsetNs >> 32n)
  }

  private emit(name: string, exit: boolean, tid: number, values: ParamValue[]): void {
    const type = PPME[name] + (exit ? 1 : 0)
    const at = this.w.write(type, this.tsLo, this.tsHi, tid, values)
    this.sink(this.w.buf, at)
  }

  /** The buffer the events of the last record are in (valid until the next record). */
  get events(): Buffer {
    return this.w.buf
  }

  private str(d: Buffer, at: number, len: number): string {
    let e = at + len
    if (len > 0 && d[e - 1] === 0) e--
    return d.toString('utf8', at, e)
  }

  /** The record's socket tuple, in libscap's layout; `inbound` puts the peer first (accept, recv*). */
  private tupleOf(d: Buffer, at: number, inbound: boolean): Buffer | undefined {
    const fam = d[at + R.fam]
    if (fam === 0) return undefined
    const t = this.tuple
    t[0] = fam
    const sip = d.readUInt32LE(at + R.sip)
    const sport = d.readUInt16LE(at + R.sport)
    const dip = d.readUInt32LE(at + R.dip)
    const dport = d.readUInt16LE(at + R.dport)
    t.writeUInt32LE(inbound ? dip : sip, 1)
    t.writeUInt16LE(inbound ? dport : sport, 5)
    t.writeUInt32LE(inbound ? sip : dip, 7)
    t.writeUInt16LE(inbound ? sport : dport, 11)
    return t
  }

  record(d: Buffer, at: number, _len: number): void {
    this.records++
    this.w.reset()
    const lo = d.readUInt32LE(at + R.ts) + this.offLo
    this.tsLo = lo >>> 0
    this.tsHi = (d.readUInt32LE(at + R.ts + 4) + this.offHi + (lo > 0xffffffff ? 1 : 0)) >>> 0
    const tid = d.readUInt32LE(at + R.tid)
    const kind = d.readUInt16LE(at + R.kind)
    if (kind === K_IOAGG) {
      // Straight into the collector in either mode: a sum of calls has no per-call time or result to put in events.
      const first = (BigInt(this.tsHi) << 32n) | BigInt(this.tsLo)
      const a = at + R.args
      this.c.ioBatch(IO_EXIT[0]!, tid, d.readInt32LE(a), first, d.readBigUInt64LE(at + R.aux) + this.offsetNs,
        Number(d.readBigUInt64LE(a + 8)), d.readBigUInt64LE(a + 16), Number(d.readBigUInt64LE(a + 24)), d.readBigUInt64LE(a + 32))
      return
    }
    if (this.direct) {
      // The hot path (most records are reads and writes): no closures, arrays or event bytes.
      const io = IO_EXIT[kind]
      if (io !== undefined) {
        this.c.ioCall(io, this.tsLo, this.tsHi, tid, d.readInt32LE(at + R.args), i64(d, at + R.ret))
        return
      }
      // opens and closes, the most frequent records after reads and writes, likewise
      const fe = FD_EXIT[kind]
      if (fe !== undefined) {
        const ret = i64(d, at + R.ret)
        if (fe.shape === 'close') this.c.closeCall(fe.type, this.tsLo, this.tsHi, tid, d.readInt32LE(at + R.args), ret)
        else {
          const name = this.str(d, at + R.data, d.readUInt16LE(at + R.dlen0))
          const flags = kind === 85 ? 0o1101 : kind === 437 ? Number(d.readBigUInt64LE(at + R.aux)) : i64(d, at + R.args + 8 * (fe.shape === 'open' ? 1 : 2))
          const dirfd = fe.shape === 'open' ? AT_FDCWD : d.readInt32LE(at + R.args)
          this.c.openCall(fe.type, this.tsLo, this.tsHi, tid, ret, name, openFlagsToScap(flags), dirfd)
        }
        return
      }
    }
    const l0 = d.readUInt16LE(at + R.dlen0)
    const l1 = d.readUInt16LE(at + R.dlen1)
    const l2 = d.readUInt16LE(at + R.dlen2)
    const b0 = at + R.data
    const s0 = () => this.str(d, b0, l0)
    const s1 = () => this.str(d, b0 + l0, l1)
    const ret = i64(d, at + R.ret)
    const arg = (i: number) => i64(d, at + R.args + 8 * i)
    const argI = (i: number) => d.readInt32LE(at + R.args + 8 * i)
    if (kind === K_EXEC) {
      const argv = l1 > 0 ? this.str(d, b0 + l0, l1).split('\0') : []
      const filename = s0()
      const cg = cgroupList(d.toString('utf8', b0 + l0 + l1, b0 + l0 + l1 + l2))
      const pid = d.readUInt32LE(at + R.pid)
      this.emit('execve', false, tid, [filename])
      this.emit('execve', true, tid, [0, argv[0] ?? filename, argv.slice(1), tid, pid, arg(2), basename(filename), cg])
      return
    }
    if (kind === K_FORK) {
      const parentTid = arg(0)
      const isThread = arg(2) !== 0
      const p = this.c.threads.get(parentTid) ?? this.c.threads.get(arg(1))
      const cg = cgroupList(d.toString('utf8', b0, b0 + l2))
      const pid = d.readUInt32LE(at + R.pid)
      this.emit('clone', true, tid, [
        0, p?.exe ?? '', p?.args ?? [], tid, pid, parentTid, p?.cwd ?? '', p?.comm ?? '', cg,
        isThread ? PPM_CL_CLONE_THREAD : 0, p?.uid ?? -1, p?.gid ?? -1,
      ])
      return
    }
    if (kind === K_EXIT) {
      this.emit('procexit', false, tid, [ret])
      return
    }
    const sc = SYSCALLS[kind]
    if (sc === undefined) {
      this.unknown++
      return
    }
    const [name, shape] = sc
    switch (shape) {
      case 'io':
      case 'fd':
      case 'close':
        this.emit(name, false, tid, [argI(0)])
        this.emit(name, true, tid, [ret])
        return
      case 'open': {
        const flags = kind === 85 ? 0o1101 : arg(1)
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, s0(), openFlagsToScap(flags)])
        return
      }
      case 'openat': {
        const flags = kind === 437 ? Number(d.readBigUInt64LE(at + R.aux)) : arg(2)
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, argI(0), s0(), openFlagsToScap(flags)])
        return
      }
      case 'sock':
        this.emit(name, false, tid, [argI(0), argI(1), argI(2)])
        this.emit(name, true, tid, [ret])
        return
      case 'connect':
        this.emit(name, false, tid, [argI(0)])
        this.emit(name, true, tid, [ret, this.tupleOf(d, at, false) ?? Buffer.alloc(0)])
        return
      case 'accept':
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, this.tupleOf(d, at, true) ?? Buffer.alloc(0)])
        return
      case 'sendto':
        this.emit(name, false, tid, [argI(0), arg(2), this.tupleOf(d, at, false) ?? Buffer.alloc(0)])
        this.emit(name, true, tid, [ret])
        return
      case 'mmsg': {
        // one event for the batch, with the bytes of all its messages (up to 16; the probe sums them)
        const bytes = ret > 0 ? Number(d.readBigUInt64LE(at + R.aux)) : ret
        const out = kind === 307
        this.emit(name, false, tid, out ? [argI(0), 0, this.tupleOf(d, at, false) ?? Buffer.alloc(0)] : [argI(0)])
        this.emit(name, true, tid, out ? [bytes] : [bytes, this.tupleOf(d, at, true) ?? Buffer.alloc(0)])
        return
      }
      case 'recv':
        this.emit(name, false, tid, [argI(0)])
        this.emit(name, true, tid, [ret, this.tupleOf(d, at, true) ?? Buffer.alloc(0)])
        return
      case 'pipe': {
        const aux = d.readBigUInt64LE(at + R.aux)
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, Number(aux & 0xffffffffn) | 0, Number(aux >> 32n) | 0])
        return
      }
      case 'fcntl': {
        const cmd = arg(1) === 0 ? 1 : arg(1) === 1030 ? 26 : 0 // F_DUPFD, F_DUPFD_CLOEXEC -> PPM_FCNTL_*
        this.emit(name, false, tid, [argI(0), cmd])
        this.emit(name, true, tid, [ret])
        return
      }
      case 'path':
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, s0()])
        return
      case 'dirpath':
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, argI(0), s0(), arg(2)])
        return
      case 'two':
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, s0(), s1()])
        return
      case 'twoat':
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, argI(0), s0(), argI(2), s1(), arg(4)])
        return
      case 'symlink':
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, s0(), s1()])
        return
      case 'symlinkat':
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret, s0(), argI(1), s1()])
        return
      case 'uid':
        this.emit(name, false, tid, [argI(0)])
        this.emit(name, true, tid, [ret])
        return
      case 'resuid':
        this.emit(name, false, tid, [argI(0), argI(1), argI(2)])
        this.emit(name, true, tid, [ret])
        return
      case 'mmap':
        this.emit(name, false, tid, [argI(4)])
        this.emit(name, true, tid, [ret])
        return
      case 'exec':
        // a failed exec (a successful one comes from sched_process_exec)
        this.emit('execve', false, tid, [s0()])
        this.emit('execve', true, tid, [ret])
        return
      case 'plain':
        this.emit(name, false, tid, [])
        this.emit(name, true, tid, [ret])
        return
    }
  }
}

/** A little-endian int64 as a number (exact below 2^53, which every value used here is). */
function i64(d: Buffer, at: number): number {
  return d.readInt32LE(at + 4) * 4294967296 + d.readUInt32LE(at)
}

function basename(p: string): string {
  const i = p.lastIndexOf('/')
  return i >= 0 ? p.slice(i + 1) : p
}

for (const [nr, [name, shape]] of Object.entries(SYSCALLS)) if (shape === 'io') IO_EXIT[Number(nr)] = PPME[name] + 1
/** Syscall number -> the PPME exit type and shape of the opens and closes the direct path takes. */
const FD_EXIT: ({type: number; shape: Shape} | undefined)[] = []
for (const [nr, [name, shape]] of Object.entries(SYSCALLS)) {
  if (shape === 'open' || shape === 'openat' || shape === 'close') FD_EXIT[Number(nr)] = {type: PPME[name] + 1, shape}
}
const AT_FDCWD = -100
