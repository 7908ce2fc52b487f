// Tier 2: sysflow's eBPF probe the TypeScript way. `BpfProbe.openSync` finds libbpf, opens and loads the
// committed CO-RE object (libbpf relocates it against the running kernel's BTF), `attach()` attaches its
// tracepoint programs, `detach()` and `close()` release everything (call close() in a `finally`). The settings map
// carries the allow-list of syscall numbers and our own tgid (never traced, or our reads would feed back); the
// counters map is per CPU (records lost because the ring buffer was full, records emitted).
import fs from 'node:fs'
import {fileURLToPath} from 'node:url'
import {isNullPointer, JsExternal} from 'ffi-rs'
import * as b from './libbpf-bindings.js'
import {RingReader} from './ringbuf.js'

/** eBPF capture cannot start here (no libbpf, no rights, the kernel refuses the probe): exit code 3. */
export class BpfUnavailableError extends Error {
  readonly exitCode = 3
  constructor(message: string) {
    super(message)
    this.name = 'BpfUnavailableError'
  }
}

export const SYSTEM_LIBBPF_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libbpf.so.1',
  '/usr/lib/aarch64-linux-gnu/libbpf.so.1',
  '/usr/lib64/libbpf.so.1',
  '/usr/lib/libbpf.so.1',
  '/usr/local/lib/libbpf.so.1',
]

/** The committed object, beside its source (src/native/bpf/sysflow.bpf.o; the package ships it). */
export const PROBE_OBJECT = fileURLToPath(new URL('../../../src/native/bpf/sysflow.bpf.o', import.meta.url))

/** Size of the `events` ring buffer map (max_entries in sysflow.bpf.c). */
export const RING_BYTES = 16 << 20

/** The probe's kind of a read/write aggregate record, its header size, its marker and its aggregate's size. */
export const K_IOAGG = 1003
export const SF_HDR_BYTES = 104
const SWEEP_MAGIC = 0x5f5f5f5e
const IO_AGG_BYTES = 48

const PROGRAMS = ['sys_exit', 'sched_process_exec', 'sched_process_fork', 'sched_process_exit']

export function findLibbpf(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SYSFLOW_LIBBPF) return fs.existsSync(env.SYSFLOW_LIBBPF) ? env.SYSFLOW_LIBBPF : undefined
  return SYSTEM_LIBBPF_PATHS.find((p) => fs.existsSync(p))
}

let libbpfLoaded: string | undefined

function loadLibbpf(): string {
  if (libbpfLoaded) return libbpfLoaded
  const p = findLibbpf()
  if (!p) throw new BpfUnavailableError('libbpf not found: install the Debian package libbpf1 (apt-get install libbpf1), or set SYSFLOW_LIBBPF to libbpf.so.1')
  try {
    b.openLibbpf(p)
  } catch (e) {
    throw new BpfUnavailableError(`cannot load libbpf from ${p}: ${(e as Error).message}`)
  }
  if (!process.env.SYSFLOW_BPF_DEBUG) b.libbpf_set_print_null()
  libbpfLoaded = p
  return p
}

export interface ProbeCounters {
  /** Records the kernel could not put in the ring buffer (it was full). */
  lost: bigint
  emitted: bigint
}

export class BpfProbe {
  private links: JsExternal[] = []
  private ring: RingReader | undefined
  private constructor(private obj: JsExternal | undefined, private readonly fds: Record<string, number>) {}

  /** Open and load the probe (the verifier runs here). Throws BpfUnavailableError with libbpf's errno text. */
  static openSync(objectPath = PROBE_OBJECT): BpfProbe {
    loadLibbpf()
    if (!fs.existsSync(objectPath)) throw new BpfUnavailableError(`the eBPF probe ${objectPath} is missing (scripts/build-bpf.sh builds it)`)
    // The verifier gives up with EAGAIN when a signal arrives during a load (a profiler's SIGPROF, say): retry
    // with a fresh object (a failed one cannot be loaded again).
    let o: b.WithErrno<JsExternal>
    for (let attempt = 1; ; attempt++) {
      o = b.bpf_object__open_file(objectPath)
      if (isNullPointer(o.value)) throw new BpfUnavailableError(`cannot open the eBPF probe ${objectPath}: ${o.errnoMessage}`)
      const rc = b.bpf_object__load(o.value)
      if (rc === 0) break
      b.bpf_object__close(o.value)
      if (rc !== -11 || attempt === 10) throw new BpfUnavailableError(`the kernel refused the eBPF probe (${errnoText(-rc)}); set SYSFLOW_BPF_DEBUG=1 to see libbpf's log`)
    }
    const fds: Record<string, number> = {}
    for (const m of ['events', 'settings', 'counters', 'io_aggs']) fds[m] = b.bpf_object__find_map_fd_by_name(o.value, m)
    return new BpfProbe(o.value, fds)
  }

  /** Our tgid (never traced) and the syscall numbers to trace (< 512). Call before attach(). */
  configure(ownTgid: number, syscalls: Iterable<number>): void {
    const v = Buffer.alloc(72)
    v.writeUInt32LE(ownTgid, 0)
    for (const nr of syscalls) {
      if (nr < 0 || nr >= 512) continue
      const w = 8 + 8 * (nr >> 6)
      v.writeBigUInt64LE(v.readBigUInt64LE(w) | (1n << BigInt(nr & 63)), w)
    }
    const r = b.bpf_map_update_elem(this.fds.settings, Buffer.alloc(4), v)
    if (r.value !== 0) throw new BpfUnavailableError(`cannot configure the eBPF probe: ${r.errnoMessage}`)
  }

  /** Attach every program; on a failure the ones attached are detached again. */
  attach(): void {
    try {
      for (const name of PROGRAMS) {
        const prog = b.bpf_object__find_program_by_name(this.obj!, name)
        if (isNullPointer(prog)) throw new BpfUnavailableError(`the eBPF probe has no program ${name}`)
        const l = b.bpf_program__attach(prog)
        if (isNullPointer(l.value)) throw new BpfUnavailableError(`cannot attach ${name}: ${l.errnoMessage} (needs tp_btf tracepoints: kernel >= 5.8 with BTF)`)
        this.links.push(l.value)
      }
    } catch (e) {
      this.detach()
      throw e
    }
  }

  /** Stop the programs; records already in the ring buffer stay readable. */
  detach(): void {
    for (const l of this.links.splice(0)) b.bpf_link__destroy(l)
  }

  /** The ring buffer, mapped into our memory (one reader per probe). */
  ringReader(): RingReader {
    this.ring ??= new RingReader(this.fds.events, RING_BYTES)
    return this.ring
  }

  /**
   * Ask the probe to flush the read/write aggregates older than its window (`all`: every one) into the ring
   * buffer, now: a marker call the probe recognizes from our own process (sysflow.bpf.c, SWEEP_MAGIC).
   */
  sweep(all = false): void {
    b.getpgid(SWEEP_MAGIC | (all ? 1 : 0))
  }

  /**
   * The aggregates still in the kernel, as K_IOAGG records (the ring buffer's layout, one Buffer each), removed
   * from the map. Only after detach(): no program can then count into them.
   */
  takeIoAggregates(): Buffer[] {
    const fd = this.fds.io_aggs
    const out: Buffer[] = []
    if (fd === undefined || fd < 0) return out
    // the keys first, then each taken and deleted (deleting while walking would restart the walk)
    const keys: Buffer[] = []
    for (let key = Buffer.alloc(8); ; ) {
      const next = Buffer.alloc(8)
      if (b.bpf_map_get_next_key(fd, key, next) !== 0) break
      keys.push(next)
      key = next
    }
    const value = Buffer.alloc(IO_AGG_BYTES)
    const now = process.hrtime.bigint()
    for (const next of keys) {
      if (b.bpf_map_lookup_elem(fd, next, value) !== 0) continue
      b.bpf_map_delete_elem(fd, next)
      // struct io_agg: first_ts, rops, rbytes, wops, wbytes (u64), tid (u32)
      const rops = value.readBigUInt64LE(8)
      const wops = value.readBigUInt64LE(24)
      if (rops === 0n && wops === 0n) continue
      const r = Buffer.alloc(SF_HDR_BYTES)
      const first = value.readBigUInt64LE(0)
      r.writeBigUInt64LE(first === 0n ? now : first, 0) // ts: the first call
      r.writeUInt32LE(value.readUInt32LE(40), 8) // tid
      r.writeUInt32LE(next.readUInt32LE(0), 12) // pid (tgid)
      r.writeUInt16LE(K_IOAGG, 16)
      r.writeUInt16LE(SF_HDR_BYTES, 18)
      r.writeBigInt64LE(BigInt(next.readInt32LE(4)), 48) // args[0]: fd
      r.writeBigUInt64LE(rops, 56)
      r.writeBigUInt64LE(value.readBigUInt64LE(16), 64)
      r.writeBigUInt64LE(wops, 72)
      r.writeBigUInt64LE(value.readBigUInt64LE(32), 80)
      r.writeBigUInt64LE(now, 96) // aux: when it was taken (CLOCK_MONOTONIC, as the probe's bpf_ktime_get_ns)
      out.push(r)
    }
    return out
  }

  counters(): ProbeCounters {
    const n = b.libbpf_num_possible_cpus()
    const out = {lost: 0n, emitted: 0n}
    const v = Buffer.alloc(8 * Math.max(n, 1))
    const key = Buffer.alloc(4)
    for (const k of [0, 1] as const) {
      key.writeUInt32LE(k)
      if (b.bpf_map_lookup_elem(this.fds.counters, key, v) !== 0) continue
      let s = 0n
      for (let i = 0; i < n; i++) s += v.readBigUInt64LE(8 * i)
      if (k === 0) out.lost = s
      else out.emitted = s
    }
    return out
  }

  close(): void {
    this.detach()
    this.ring?.close()
    this.ring = undefined
    if (this.obj) b.bpf_object__close(this.obj)
    this.obj = undefined
  }
}

function errnoText(code: number): string {
  const names: Record<number, string> = {1: 'EPERM: needs root or CAP_BPF and CAP_PERFMON', 11: 'EAGAIN: interrupted by signals', 13: 'EACCES: the verifier rejected it', 22: 'EINVAL', 7: 'E2BIG', 95: 'EOPNOTSUPP'}
  return names[code] ?? `errno ${code}`
}
