// The live capture's start state, read from /proc the way libscap's proc scan does: every thread with exe, args,
// cwd, uid/gid, parent, cgroups and open files and IPv4 sockets, plus users and groups. A minimal reader: a fuller
// scan (containers from the runtimes) can replace it through the InitialState interface.
import fs from 'node:fs'
import type {ScapFd, ScapGroup, ScapThread, ScapUser} from '../../native/scap.js'

export interface InitialState {
  threads: ScapThread[]
  users: {users: ScapUser[]; groups: ScapGroup[]}
}

function read(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8')
  } catch {
    return ''
  }
}

function link(p: string): string {
  try {
    return fs.readlinkSync(p)
  } catch {
    return ''
  }
}

interface Sock {
  sip: number
  sport: number
  dip: number
  dport: number
  proto: number
  server: boolean
}

/** Socket inode -> IPv4 tuple, from /proc/net/tcp and udp (addresses as on the wire, ports in host order). */
function ipv4Sockets(): Map<string, Sock> {
  const out = new Map<string, Sock>()
  for (const [file, proto] of [['tcp', 2], ['udp', 3]] as const) {
    for (const line of read(`/proc/net/${file}`).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10) continue
      const [la, lp] = f[1].split(':')
      const [ra, rp] = f[2].split(':')
      const s = {sip: parseInt(la, 16) >>> 0, sport: parseInt(lp, 16), dip: parseInt(ra, 16) >>> 0, dport: parseInt(rp, 16), proto, server: f[3] === '0A'}
      out.set(f[9], s)
    }
  }
  return out
}

function fdsOf(pid: string, socks: Map<string, Sock>): ScapFd[] {
  const out: ScapFd[] = []
  let names: string[]
  try {
    names = fs.readdirSync(`/proc/${pid}/fd`)
  } catch {
    return out
  }
  for (const n of names) {
    const target = link(`/proc/${pid}/fd/${n}`)
    if (target === '') continue
    const fd: ScapFd = {fd: Number(n), ino: 0n, type: 10, name: target, openFlags: 0, sip: 0, dip: 0, sport: 0, dport: 0, l4proto: 0}
    const sock = /^socket:\[(\d+)\]$/.exec(target)
    if (target.startsWith('/')) {
      fd.type = 1
      const flags = /flags:\s*(\d+)/.exec(read(`/proc/${pid}/fdinfo/${n}`))
      if (flags) fd.openFlags = (parseInt(flags[1], 8) & 3) === 0 ? 1 : (parseInt(flags[1], 8) & 3) === 1 ? 2 : 3
    } else if (sock) {
      const s = socks.get(sock[1])
      if (s) Object.assign(fd, {type: s.server ? 5 : 3, sip: s.sip, sport: s.sport, dip: s.dip, dport: s.dport, l4proto: s.proto, name: ''})
      else fd.type = 8
    } else if (target.startsWith('pipe:')) {
      fd.type = 7
      fd.name = ''
    }
    out.push(fd)
  }
  return out
}

/** Boot time (ns since the epoch), to turn /proc/<pid>/stat start times into clone times. */
function bootTimeNs(): bigint {
  const m = /btime\s+(\d+)/.exec(read('/proc/stat'))
  return m ? BigInt(m[1]) * 1_000_000_000n : 0n
}

function thread(pid: string, tid: string, socks: Map<string, Sock>, boot: bigint, fds: ScapFd[] | undefined): ScapThread | undefined {
  const base = `/proc/${pid}/task/${tid}`
  const status = read(`${base}/status`)
  if (status === '') return undefined
  const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? ''
  const stat = read(`${base}/stat`)
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const start = BigInt(rest[19] ?? '0') * 10_000_000n // clock ticks (100 Hz) -> ns
  const argv = read(`/proc/${pid}/cmdline`).split('\0')
  if (argv.length > 0 && argv[argv.length - 1] === '') argv.pop()
  const cgroups = read(`/proc/${pid}/cgroup`).split('\n').filter((l) => l !== '').map((l) => {
    const [, ctrl, p] = l.split(':')
    return `${ctrl === '' ? 'unified' : ctrl}=${p}`
  })
  let cwd = link(`/proc/${pid}/cwd`)
  if (cwd !== '' && !cwd.endsWith('/')) cwd += '/'
  const exepath = link(`/proc/${pid}/exe`)
  return {
    tid: BigInt(tid), pid: BigInt(pid), ptid: BigInt(field('PPid') || '-1'), sid: 0n, comm: field('Name'),
    exe: argv[0] ?? exepath, exepath, args: argv.slice(1), env: [], cwd, flags: 0,
    uid: Number(field('Uid').split(/\s+/)[1] ?? 0), gid: Number(field('Gid').split(/\s+/)[1] ?? 0),
    vtid: BigInt(tid), vpid: BigInt(pid), cgroups, root: '/', cloneTs: boot + start, tty: 0, loginuid: -1,
    fds: fds ?? fdsOf(pid, socks),
  }
}

function passwd(file: string): string[][] {
  return read(file).split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'))
}

/** Every thread in /proc (threads of a process share its fd list), and the users and groups of /etc. */
export function scanProc(): InitialState {
  const socks = ipv4Sockets()
  const boot = bootTimeNs()
  const threads: ScapThread[] = []
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let tids: string[]
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`)
    } catch {
      continue
    }
    const main = thread(pid, pid, socks, boot, undefined)
    if (!main) continue
    threads.push(main)
    for (const tid of tids) {
      if (tid === pid) continue
      const t = thread(pid, tid, socks, boot, [])
      if (t) threads.push(t)
    }
  }
  const users = passwd('/etc/passwd').map((f) => ({uid: Number(f[2]), gid: Number(f[3]), name: f[0]}))
  const groups = passwd('/etc/group').map((f) => ({gid: Number(f[2]), name: f[0]}))
  return {threads, users: {users, groups}}
}
