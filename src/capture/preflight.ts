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

export type Driver = 'kmod' | 'bpf'

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
