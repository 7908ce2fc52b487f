// Live-capture preflight: what libscap needs before scap_open_live can work, checked up front so the user gets
// one clear message (exit code 3) instead of libscap's raw text.
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'

export class CaptureUnavailableError extends Error {
  readonly exitCode = 3
  constructor(message: string) {
    super(message)
    this.name = 'CaptureUnavailableError'
  }
}

export type Driver = 'kmod' | 'bpf' | 'ebpf'

/** --driver auto: the Falco kernel module where /dev/scap* exists, else sysflow's own eBPF probe. */
export function resolveDriver(d: Driver | 'auto'): Driver {
  if (d !== 'auto') return d
  try {
    return fs.readdirSync('/dev').some((n) => /^scap\d+$/.test(n)) ? 'kmod' : 'ebpf'
  } catch {
    return 'ebpf'
  }
}

function capEff(): bigint {
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    return m ? BigInt(`0x${m[1]}`) : 0n
  } catch {
    return 0n
  }
}

/** The eBPF probe's needs: kernel >= 5.8 with BTF, root or CAP_BPF + CAP_PERFMON, libbpf (libbpf1). */
export function preflightEbpf(findLib: () => string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  const problems: string[] = []
  const hints: string[] = []
  const kernel = os.release()
  const [maj, min] = kernel.split('.').map((x) => parseInt(x, 10))
  if (!(maj > 5 || (maj === 5 && min >= 8))) {
    problems.push(`kernel ${kernel} is older than 5.8`)
    hints.push('use a kernel >= 5.8 with CONFIG_DEBUG_INFO_BTF, or the Falco kernel module (--driver kmod)')
  }
  const btf = env.SYSFLOW_BTF_PATH ?? '/sys/kernel/btf/vmlinux'
  if (!fs.existsSync(btf)) {
    problems.push(`the kernel has no BTF (${btf} missing)`)
    hints.push('use a kernel built with CONFIG_DEBUG_INFO_BTF=y')
  }
  const caps = capEff()
  const CAP_PERFMON = 1n << 38n
  const CAP_BPF = 1n << 39n
  const CAP_SYS_ADMIN = 1n << 21n
  const rights = (caps & CAP_BPF && caps & CAP_PERFMON) || caps & CAP_SYS_ADMIN
  if (!rights) {
    problems.push(`no rights to load BPF programs (euid ${process.geteuid?.() ?? -1}, without CAP_BPF and CAP_PERFMON)`)
    hints.push('run as root, or grant CAP_BPF and CAP_PERFMON (setcap cap_bpf,cap_perfmon+ep on node)')
  }
  if (findLib() === undefined) {
    problems.push('libbpf is not installed')
    hints.push('install libbpf1 (apt-get install libbpf1), or set SYSFLOW_LIBBPF to libbpf.so.1')
  }
  if (problems.length > 0) {
    throw new CaptureUnavailableError(`live capture unavailable: ${problems.join('; ')}. To fix: ${hints.join('; ')}; or convert a recorded capture with -r FILE.scap.`)
  }
}

function memlockKiB(): number | undefined {
  try {
    const out = execFileSync('/bin/sh', ['-c', 'ulimit -l'], {encoding: 'utf8'}).trim()
    return out === 'unlimited' ? Infinity : Number(out)
  } catch {
    return undefined
  }
}

function hasCapSysResource(): boolean {
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    return m ? (BigInt(`0x${m[1]}`) & (1n << 24n)) !== 0n : false
  } catch {
    return false
  }
}

/** Throws CaptureUnavailableError naming everything that is missing and what to do. */
export function preflight(driver: Driver, env: NodeJS.ProcessEnv = process.env): void {
  const problems: string[] = []
  const hints: string[] = []
  const euid = process.geteuid?.() ?? -1
  if (euid !== 0) {
    problems.push(`not running as root (euid ${euid})`)
    hints.push('run as root (sudo)')
  }
  const kernel = os.release()
  if (driver === 'kmod') {
    const devs = fs.existsSync('/dev') ? fs.readdirSync('/dev').filter((d) => /^scap\d+$/.test(d)) : []
    if (devs.length === 0) {
      const noModules = !fs.existsSync('/proc/modules')
      problems.push(`no scap driver (/dev/scap0 missing${noModules ? `; kernel ${kernel} has no loadable-module support` : ''})`)
      hints.push('load the falcosecurity-scap driver matching libscap 0.1.1dev (Debian falcosecurity-scap-dkms built for this kernel), or use --driver bpf with BPF_PROBE set to a compiled scap BPF probe')
    }
  } else {
    const probe = env.BPF_PROBE
    if (probe === undefined) {
      problems.push('BPF_PROBE is not set')
      hints.push('set BPF_PROBE to a compiled scap-bpf.o for this kernel')
    } else {
      const p = probe === '' ? `${os.homedir()}/.scap/scap-bpf.o` : probe
      if (!fs.existsSync(p)) {
        problems.push(`BPF probe ${p} not found`)
        hints.push('build the scap BPF probe for this kernel')
      }
    }
    const lim = memlockKiB()
    if (lim !== Infinity && !hasCapSysResource()) {
      problems.push(`the memlock limit is ${lim ?? 'unknown'} KiB and CAP_SYS_RESOURCE is missing (libscap's BPF path needs to raise it)`)
      hints.push('run with `ulimit -l unlimited` or with CAP_SYS_RESOURCE')
    }
  }
  if (problems.length > 0) {
    throw new CaptureUnavailableError(`live capture unavailable: ${problems.join('; ')}. To fix: ${hints.join('; ')}; or convert a recorded capture with -r FILE.scap.`)
  }
}

/** Translate libscap's live-open errors into the same kind of message. */
export function explainLiveError(message: string): CaptureUnavailableError {
  if (/setrlimit failed/.test(message)) return new CaptureUnavailableError('live capture unavailable: the BPF probe needs CAP_SYS_RESOURCE or `ulimit -l unlimited` (libscap: setrlimit failed)')
  if (/API version/.test(message)) return new CaptureUnavailableError(`live capture unavailable: the loaded driver does not match libscap 0.1.1dev (${message}); load the Debian falcosecurity-scap driver of the same version`)
  return new CaptureUnavailableError(`live capture unavailable: ${message}`)
}
