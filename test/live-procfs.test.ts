// The /proc scan of a live capture's initial state: a synthetic /proc tree (stat, status, cmdline, cgroup, fd
// symlinks, fdinfo, net tables, a cgroup2 mount behind /proc/1/root) scanned to exact ScapThread values; the socket
// table parsers; the user list; and this process's own entry in the real /proc.
import test from 'ava'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type {ScapThread} from '../src/native/scap.js'
import {spawn} from 'node:child_process'
import {Collector} from '../src/capture/collector.js'
import {containerIdFromCgroups} from '../src/capture/live/cgroup.js'
import {nulList, openFlagsToScap, parseStat, ProcReader, scanProc} from '../src/capture/live/procfs.js'
import {parseInet4, parseInet6, parseUnix} from '../src/capture/live/netsock.js'
import {parseGroup, parsePasswd, readUsers} from '../src/capture/live/users.js'
import {withTempDir} from './helpers/tmp.js'

const A = '0123456789abcdef'.repeat(4)
const B = 'fedcba9876543210'.repeat(4)
const U32 = 0xffffffff
const BOOT = 1_700_000_000n * 1_000_000_000n

function put(file: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), {recursive: true})
  fs.writeFileSync(file, content)
}

function link(file: string, target: string): void {
  fs.mkdirSync(path.dirname(file), {recursive: true})
  fs.symlinkSync(target, file)
}

/** A stat line: `pid (comm) state ppid pgrp session tty ... starttime(22) ...`. */
function statLine(pid: number, comm: string, ppid: number, session: number, tty: number, start: number): string {
  const f = [pid, `(${comm})`, 'S', ppid, pid, session, tty, -1, 4194560, 0, 0, 0, 0, 1, 2, 0, 0, 20, 0, 1, 0, start, 1000, 50]
  return `${f.join(' ')}\n`
}

function status(name: string, tgid: number, pid: number, ppid: number, uid: number[], gid: number[], nspid: number[], nstgid: number[]): string {
  return [`Name:\t${name}`, 'Umask:\t0022', 'State:\tS (sleeping)', `Tgid:\t${tgid}`, 'Ngid:\t0', `Pid:\t${pid}`, `PPid:\t${ppid}`,
    'TracerPid:\t0', `Uid:\t${uid.join('\t')}`, `Gid:\t${gid.join('\t')}`, 'FDSize:\t64', 'Groups:\t4 24 ',
    `NStgid:\t${nstgid.join('\t')}`, `NSpid:\t${nspid.join('\t')}`, `NSpgid:\t${nstgid.join('\t')}`, 'VmSize:\t  1000 kB', ''].join('\n')
}

const TCP_HDR = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
const TCP6_HDR = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
const tcp4 = (sl: number, l: string, r: string, st: string, ino: number) =>
  `   ${sl}: ${l} ${r} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${ino} 1 0000000000000000 100 0 0 10 0\n`

/** Build the synthetic tree; returns the paths the expectations need. */
function buildTree(root: string): {proc: string; work: string; data: string; host: string; rootfs: string} {
  const proc = path.join(root, 'proc')
  const work = path.join(root, 'work')
  const data = path.join(work, 'data.txt')
  const host = path.join(root, 'host')
  put(data, 'hello')
  put(path.join(proc, 'stat'), 'cpu  1 2 3 4\nintr 5\nbtime 1700000000\nprocesses 9\n')
  // A cgroup2 mount seen through init's root, with controllers enabled at three levels.
  const rootfs = path.join(root, 'rootfs')
  put(path.join(rootfs, 'sys/fs/cgroup/cgroup.controllers'), 'cpuset cpu memory pids\n')
  put(path.join(rootfs, 'sys/fs/cgroup/system.slice/cgroup.controllers'), 'cpu memory pids\n')
  put(path.join(rootfs, `sys/fs/cgroup/system.slice/docker-${A}.scope/cgroup.controllers`), 'memory pids\n')

  // pid 1: init, cgroup v2 only, no fds, no network namespace link.
  const p1 = path.join(proc, '1')
  put(path.join(p1, 'mounts'), 'proc /proc proc rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n')
  link(path.join(p1, 'root'), rootfs)
  put(path.join(p1, 'cmdline'), '/sbin/init\0splash\0')
  put(path.join(p1, 'comm'), 'systemd\n')
  link(path.join(p1, 'exe'), '/usr/lib/systemd/systemd')
  link(path.join(p1, 'cwd'), '/')
  put(path.join(p1, 'environ'), 'HOME=/\0TERM=linux\0')
  put(path.join(p1, 'status'), status('systemd', 1, 1, 0, [0, 0, 0, 0], [0, 0, 0, 0], [1], [1]))
  put(path.join(p1, 'stat'), statLine(1, 'systemd', 0, 1, 0, 2))
  put(path.join(p1, 'cgroup'), '0::/init.scope\n')
  put(path.join(p1, 'loginuid'), '4294967295')
  fs.mkdirSync(path.join(p1, 'fd'))

  // pid 100: a containerized server with a second thread, its own network namespace and every kind of fd.
  const p = path.join(proc, '100')
  put(path.join(p, 'cmdline'), '/usr/bin/python3\0-u\0server.py\0')
  put(path.join(p, 'comm'), 'py thon) x\n')
  link(path.join(p, 'exe'), '/usr/bin/python3.11')
  link(path.join(p, 'cwd'), work)
  link(path.join(p, 'root'), '/')
  put(path.join(p, 'environ'), 'A=1\0B=two words\0')
  put(path.join(p, 'status'), status('python3', 100, 100, 1, [1000, 1001, 1000, 1000], [100, 101, 100, 100], [100, 7], [100, 7]))
  // A comm with a space and a ')' breaks a parser that splits the whole line or stops at the first ')'.
  put(path.join(p, 'stat'), statLine(100, 'py thon) x', 1, 100, 34816, 12345))
  put(path.join(p, 'cgroup'), `0::/system.slice/docker-${A}.scope\n`)
  put(path.join(p, 'loginuid'), '1000\n')
  link(path.join(p, 'ns', 'net'), 'net:[4026532000]')
  const fd = path.join(p, 'fd')
  link(path.join(fd, '0'), data)
  put(path.join(p, 'fdinfo', '0'), 'pos:\t0\nflags:\t02102001\nmnt_id:\t24\nino:\t1\n')
  link(path.join(fd, '1'), 'socket:[5001]')
  link(path.join(fd, '2'), 'pipe:[777]')
  link(path.join(fd, '3'), work)
  link(path.join(fd, '4'), 'anon_inode:[eventfd]')
  link(path.join(fd, '5'), 'socket:[5002]')
  link(path.join(fd, '6'), 'socket:[5003]')
  link(path.join(fd, '7'), 'socket:[9999]') // in no table: left out
  link(path.join(fd, '8'), 'socket:[5004]')
  link(path.join(fd, '9'), 'socket:[5005]')
  link(path.join(fd, '10'), 'socket:[5006]')
  link(path.join(fd, '11'), 'socket:[5007]')
  link(path.join(fd, '12'), 'socket:[5008]')
  link(path.join(fd, '13'), 'anon_inode:[io_uring]')
  link(path.join(fd, '14'), '/gone/file (deleted)') // cannot be stat'ed: left out
  link(path.join(fd, '15'), 'socket:[5009]')
  const pn = path.join(p, 'net')
  put(path.join(pn, 'tcp'), TCP_HDR +
    tcp4(0, '0100007F:9E6C', '0100007F:1F90', '01', 5001) + // 127.0.0.1:40556 -> 127.0.0.1:8080
    tcp4(1, '00000000:1F90', '00000000:0000', '0A', 5004)) // listening on 0.0.0.0:8080
  put(path.join(pn, 'udp'), TCP_HDR + tcp4(0, '3500007F:0035', '00000000:0000', '07', 5006)) // 127.0.0.53:53
  put(path.join(pn, 'tcp6'), TCP6_HDR +
    // ::ffff:10.0.0.5:443 -> ::ffff:192.168.1.9:51000
    tcp4(0, '0000000000000000FFFF00000500000A:01BB', '0000000000000000FFFF00000901A8C0:C738', '01', 5002) +
    tcp4(1, '00000000000000000000000000000000:0016', '00000000000000000000000000000000:0000', '0A', 5007) + // [::]:22
    tcp4(2, '0000000000000000FFFF00000100007F:2328', '00000000000000000000000000000000:0000', '0A', 5009)) // ::ffff:127.0.0.1:9000
  put(path.join(pn, 'udp6'), TCP6_HDR +
    tcp4(0, '00000000000000000000000001000000:0035', '000080FE000000000000000001000000:14E9', '01', 5005)) // [::1]:53 -> [fe80::1]:5353
  put(path.join(pn, 'unix'), 'Num       RefCount Protocol Flags    Type St Inode Path\n' +
    '0000000000000000: 00000002 00000000 00010000 0001 01  5003 /run/my app.sock\n' +
    '0000000000000000: 00000002 00000000 00000000 0001 03  5010\n')
  put(path.join(pn, 'netlink'), 'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n' +
    '0000000000000000 0   100        00000000 0        0        0     2        0        5008\n')

  // Its second thread.
  const t = path.join(p, 'task', '101')
  fs.mkdirSync(path.join(p, 'task', '100'), {recursive: true})
  put(path.join(t, 'cmdline'), '/usr/bin/python3\0-u\0server.py\0')
  put(path.join(t, 'comm'), 'worker\n')
  link(path.join(t, 'exe'), '/usr/bin/python3.11')
  link(path.join(t, 'cwd'), work)
  link(path.join(t, 'root'), '/')
  put(path.join(t, 'environ'), 'A=1\0B=two words\0')
  put(path.join(t, 'status'), status('worker', 100, 101, 1, [1000, 1001, 1000, 1000], [100, 101, 100, 100], [101, 8], [100, 7]))
  put(path.join(t, 'stat'), statLine(101, 'worker', 1, 100, 34816, 12400))
  put(path.join(t, 'cgroup'), `0::/system.slice/docker-${A}.scope\n`)
  put(path.join(t, 'loginuid'), '1000\n')

  // pid 200: a kernel thread (no cmdline, no exe); pid 300: gone mid-scan (no files).
  const k = path.join(proc, '200')
  put(path.join(k, 'cmdline'), '')
  put(path.join(k, 'comm'), 'kworker/0:1\n')
  put(path.join(k, 'status'), status('kworker/0:1', 200, 200, 2, [0, 0, 0, 0], [0, 0, 0, 0], [200], [200]))
  put(path.join(k, 'stat'), statLine(200, 'kworker/0:1', 2, 0, 0, 5))
  fs.mkdirSync(path.join(proc, '300'))

  // pid 400: cgroup v1 (docker) plus the v2 root, a setproctitle cmdline without NUL, no loginuid/environ/cwd,
  // no namespace link (sockets from /proc/net).
  const q = path.join(proc, '400')
  put(path.join(q, 'cmdline'), 'nginx: worker process')
  put(path.join(q, 'comm'), 'nginx\n')
  link(path.join(q, 'exe'), '/usr/sbin/nginx')
  link(path.join(q, 'root'), '/')
  put(path.join(q, 'status'), status('nginx', 400, 400, 1, [33, 33, 33, 33], [33, 33, 33, 33], [400], [400]))
  put(path.join(q, 'stat'), statLine(400, 'nginx', 1, 400, 0, 99))
  put(path.join(q, 'cgroup'), `5:cpu,cpuacct:/docker/${B}\n1:name=systemd:/docker/${B}\n0::/\n`)
  link(path.join(q, 'fd', '0'), 'socket:[6001]')
  put(path.join(proc, 'net', 'tcp'), TCP_HDR + tcp4(0, '0100007F:0050', '0100007F:A000', '01', 6001))
  link(path.join(proc, 'self'), '100')

  put(path.join(host, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n# a comment\nalice:x:1001:101:Alice:/home/alice:/bin/sh\n' +
    '+nisuser\nbad:x:notanumber:1:::\n\nbob:x:1000:100::/home/bob:/bin/false\n')
  put(path.join(host, 'etc', 'group'), 'root:x:0:\nstaff:x:101:alice,bob\nusers:x:100:\n')
  return {proc, work, data, host, rootfs}
}

function expected(work: string, rootfs: string, dataIno: bigint, workIno: bigint): ScapThread[] {
  const common = {args: ['-u', 'server.py'], exe: '/usr/bin/python3', exepath: '/usr/bin/python3.11', cwd: work, env: ['A=1', 'B=two words'],
    uid: 1001, gid: 101, root: '/', tty: 34816, loginuid: 1000, sid: 100n, pid: 100n, ptid: 1n, vpid: 7n}
  const cg = [`memory=/system.slice/docker-${A}.scope`, `pids=/system.slice/docker-${A}.scope`, 'cpu=/system.slice', 'cpuset=/']
  const none = {name: '', openFlags: 0, sip: 0, dip: 0, sport: 0, dport: 0, l4proto: 0}
  const ip = (s: string) => Buffer.from(s.split('.').map(Number)).readUInt32LE(0)
  return [
    {tid: 1n, pid: 1n, ptid: 0n, sid: 1n, comm: 'systemd', exe: '/sbin/init', exepath: '/usr/lib/systemd/systemd', args: ['splash'],
      env: ['HOME=/', 'TERM=linux'], cwd: '/', flags: 0, uid: 0, gid: 0, vtid: 1n, vpid: 1n,
      // /init.scope enables no controller: the ancestors' entries (libscap's) plus the thread's own path.
      cgroups: ['cpuset=/', 'cpu=/', 'memory=/', 'pids=/', '=/init.scope'], root: rootfs, cloneTs: BOOT + 20_000_000n, tty: 0, loginuid: U32, fds: []},
    {...common, tid: 100n, comm: 'py thon) x', flags: 0, vtid: 7n, cgroups: cg, cloneTs: BOOT + 123_450_000_000n, fds: [
      {...none, fd: 0, ino: dataIno, type: 16, name: path.join(work, 'data.txt'), openFlags: 2 | 8 | 2048 | 4096},
      {...none, fd: 1, ino: 5001n, type: 3, sip: ip('127.0.0.1'), sport: 40556, dip: ip('127.0.0.1'), dport: 8080, l4proto: 2},
      {...none, fd: 2, ino: 777n, type: 7, name: 'pipe:[777]'},
      {...none, fd: 3, ino: workIno, type: 2, name: work},
      {...none, fd: 4, ino: 0n, type: 9},
      {...none, fd: 5, ino: 5002n, type: 3, sip: ip('10.0.0.5'), sport: 443, dip: ip('192.168.1.9'), dport: 51000, l4proto: 2},
      {...none, fd: 6, ino: 5003n, type: 8, name: '/run/my app.sock'},
      {...none, fd: 8, ino: 5004n, type: 5, dip: 0, dport: 8080, l4proto: 2},
      {...none, fd: 9, ino: 5005n, type: 4, l4proto: 3},
      {...none, fd: 10, ino: 5006n, type: 5, dip: ip('127.0.0.53'), dport: 53, l4proto: 3},
      {...none, fd: 11, ino: 5007n, type: 6, dport: 22, l4proto: 2},
      {...none, fd: 12, ino: 5008n, type: 15},
      {...none, fd: 13, ino: 0n, type: 10},
      {...none, fd: 15, ino: 5009n, type: 5, dip: ip('127.0.0.1'), dport: 9000, l4proto: 2},
    ]},
    {...common, tid: 101n, comm: 'worker', flags: (1 << 13) | 1, vtid: 8n, cgroups: cg, cloneTs: BOOT + 124_000_000_000n, fds: []},
    {tid: 400n, pid: 400n, ptid: 1n, sid: 400n, comm: 'nginx', exe: 'nginx: worker process', exepath: '/usr/sbin/nginx', args: [], env: [],
      cwd: '', flags: 0, uid: 33, gid: 33, vtid: 400n, vpid: 400n,
      cgroups: [`cpu=/docker/${B}`, `cpuacct=/docker/${B}`, `name=systemd=/docker/${B}`, 'cpuset=/', 'cpu=/', 'memory=/', 'pids=/'],
      root: '/', cloneTs: BOOT + 990_000_000n, tty: 0, loginuid: U32,
      fds: [{...none, fd: 0, ino: 6001n, type: 3, sip: ip('127.0.0.1'), sport: 80, dip: ip('127.0.0.1'), dport: 40960, l4proto: 2}]},
  ]
}

test('procfs: a synthetic /proc scans to exact threads, fds, sockets, cgroups and users', async (t) => {
  await withTempDir((dir) => {
    const {proc, work, data, host, rootfs} = buildTree(dir)
    const scan = scanProc({procRoot: proc, hostRoot: host})
    const want = expected(work, rootfs, fs.statSync(data, {bigint: true}).ino, fs.statSync(work, {bigint: true}).ino)
    t.is(scan.bootTimeNs, BOOT)
    t.is(scan.skipped, 2) // the kernel thread and the vanished pid
    t.deepEqual(scan.threads.map((x) => x.tid), want.map((x) => x.tid))
    for (let i = 0; i < want.length; i++) t.deepEqual(scan.threads[i], want[i], `tid ${want[i].tid}`)
    t.deepEqual(scan.users, {
      users: [{uid: 0, gid: 0, name: 'root'}, {uid: 1001, gid: 101, name: 'alice'}, {uid: 1000, gid: 100, name: 'bob'}],
      groups: [{gid: 0, name: 'root'}, {gid: 101, name: 'staff'}, {gid: 100, name: 'users'}],
    })
  })
})

test('procfs: options: no threads, no sockets, libscap clone_ts (cmdline ctime)', async (t) => {
  await withTempDir((dir) => {
    const {proc} = buildTree(dir)
    const r = new ProcReader({procRoot: proc, threads: false, sockets: false, cloneTs: 'cmdline-ctime'})
    const {threads} = r.scan()
    t.deepEqual(threads.map((x) => x.tid), [1n, 100n, 400n])
    t.deepEqual(threads[1].fds.map((f) => f.fd), [0, 2, 3, 4, 13])
    t.is(threads[1].cloneTs, fs.statSync(path.join(proc, '100', 'cmdline'), {bigint: true}).ctimeNs)
    // A thread met first in an event: read alone, by tid (main thread) or by pid/tid.
    t.is(r.thread(101, 100)?.comm, 'worker')
    t.is(r.thread(100)?.fds.length, 5)
    t.is(r.thread(200), undefined)
    t.is(r.thread(12345), undefined)
  })
})

test('procfs: the scan feeds the state engine as the .scap proc table does', async (t) => {
  await withTempDir((dir) => {
    const {proc, host, data} = buildTree(dir)
    const scan = scanProc({procRoot: proc, hostRoot: host})
    const c = new Collector([])
    c.loadState(scan.threads, scan.users)
    const main = c.threads.get(100)!
    const worker = c.threads.get(101)!
    t.is(main.containerId, A.slice(0, 12))
    t.is(c.threads.get(400)!.containerId, B.slice(0, 12))
    t.is(c.threads.get(1)!.containerId, '')
    t.is(worker.fds, main.fds) // threads share the process's fd table
    t.deepEqual(main.fds.get(0), {type: 'f', name: data, openFlags: 2 | 8 | 2048 | 4096, sip: 0, sport: 0, dip: 0, dport: 0, proto: 0})
    t.deepEqual(main.fds.get(1), {type: '4', name: '', openFlags: 0, sip: 16777343, sport: 40556, dip: 16777343, dport: 8080, proto: 6})
    t.is(main.fds.get(5)!.type, '4')
    t.is(main.fds.get(9)!.type, '6')
    t.is(main.uid, 1001)
    t.is(main.ptid, 1)
    t.is(main.cloneTs, BOOT + 123_450_000_000n)
  })
})

test('procfs: socket tables: mapped IPv6 as IPv4, servers, unix paths with spaces', (t) => {
  const t6 = parseInet6(TCP6_HDR + tcp4(0, '0000000000000000FFFF00000100007F:1F90', '0000000000000000FFFF00000100007F:9E6C', '01', 1) +
    tcp4(1, '0000000000000000FFFF00000100007F:1F90', '00000000000000000000000001000000:9E6C', '01', 2) + 'garbage\n', 2)
  t.deepEqual([...t6.values()], [
    {ino: 1n, type: 3, name: '', openFlags: 0, sip: 16777343, sport: 8080, dip: 16777343, dport: 40556, l4proto: 2},
    // One end mapped, the other a real IPv6 address: stays IPv6.
    {ino: 2n, type: 4, name: '', openFlags: 0, sip: 0, sport: 0, dip: 0, dport: 0, l4proto: 2},
  ])
  const t4 = parseInet4(TCP_HDR + tcp4(0, '0101A8C0:0016', '0200000A:D431', '01', 3) + '   1: short line\n', 2)
  // 192.168.1.1:22 -> 10.0.0.2:54321
  t.deepEqual([...t4.values()], [{ino: 3n, type: 3, name: '', openFlags: 0, sip: 0x0101a8c0, sport: 22, dip: 0x0200000a, dport: 54321, l4proto: 2}])
  const u = parseUnix('Num RefCount Protocol Flags Type St Inode Path\nffff: 00000002 00000000 00010000 0001 01 77 @abstract name\n')
  t.is(u.get(77n)?.name, '@abstract name')
})

test('procfs: open flags, cmdline lists and stat lines as libscap reads them', (t) => {
  t.is(openFlagsToScap(0), 1) // O_RDONLY
  t.is(openFlagsToScap(0o2), 3) // O_RDWR
  t.is(openFlagsToScap(0o1 | 0o100 | 0o1000), 2 | 4 | 256) // WRONLY|CREAT|TRUNC
  t.is(openFlagsToScap(0o4010000), 1 | 16 | 128) // O_SYNC carries O_DSYNC's bit, as C's test sees it
  t.deepEqual(nulList(Buffer.from('a\0b c\0'), 4096), ['a', 'b c'])
  t.deepEqual(nulList(Buffer.from('abcdef'), 4), ['abc']) // cut at the limit: the last byte lost, as libscap
  t.deepEqual(nulList(Buffer.alloc(0), 4096), [])
  t.deepEqual(parseStat('7 (a) b) c) R 1 7 7 1025 7 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0'), {sid: 7, tty: 1025, starttime: 4242n})
  t.is(parseStat('7 (no closing paren'), undefined)
})

test('procfs: user lists skip comments, NIS entries and malformed lines', (t) => {
  t.deepEqual(parsePasswd('a:x:1:2:::\n#b:x:3:4:::\n+c\nd:x:5\ne:x:-1:0:::\n'), [{uid: 1, gid: 2, name: 'a'}])
  t.deepEqual(parseGroup('g:x:7:\nh:x:y:\n'), [{gid: 7, name: 'g'}])
  t.deepEqual(readUsers('/nonexistent-root'), {users: [], groups: []})
})

test('procfs: this process in the real /proc', async (t) => {
  if (!fs.existsSync('/proc/self/stat')) {
    t.log('no /proc: skipped')
    t.pass()
    return
  }
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'sysflow-procfs-'))
  const file = path.join(dir, 'open.txt')
  const fd = fs.openSync(file, 'a')
  const server = net.createServer()
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
  const port = (server.address() as net.AddressInfo).port
  const client = net.connect(port, '127.0.0.1')
  await new Promise<void>((res) => client.once('connect', res))
  try {
    const r = new ProcReader()
    const me = r.thread(process.pid)!
    t.truthy(me)
    t.is(me.tid, BigInt(process.pid))
    t.is(me.pid, BigInt(process.pid))
    t.is(me.ptid, BigInt(process.ppid))
    t.is(me.exepath, fs.realpathSync(process.execPath))
    t.is(me.cwd, process.cwd())
    t.is(me.uid, process.geteuid!())
    t.is(me.gid, process.getegid!())
    t.true(me.args.includes(process.argv[1]) || me.args.some((a) => a.endsWith('.js')))
    const now = BigInt(Date.now()) * 1_000_000n
    t.true(me.cloneTs > r.bootNs && me.cloneTs <= now, `cloneTs ${me.cloneTs} between boot ${r.bootNs} and now ${now}`)
    const f = me.fds.find((x) => x.fd === fd)!
    t.is(f.type, 16)
    t.is(f.name, file)
    t.is(f.openFlags & (2 | 4 | 8), 2 | 8) // 'a': O_WRONLY|O_APPEND (O_CREAT is not kept by the kernel)
    const listen = me.fds.find((x) => x.type === 5 && x.dport === port)
    t.truthy(listen, 'the listening socket is an IPv4 server socket')
    const lp = client.localPort!
    const conn = me.fds.filter((x) => x.type === 3 && ((x.sport === lp && x.dport === port) || (x.sport === port && x.dport === lp)))
    t.is(conn.length, 2, 'both ends of the loopback connection')
    for (const c of conn) t.deepEqual([c.sip, c.dip, c.l4proto], [16777343, 16777343, 2])
    // The whole scan holds this process too, with the same fds.
    const all = scanProc()
    const again = all.threads.find((x) => x.tid === BigInt(process.pid))!
    t.is(again.exepath, me.exepath)
    t.true(again.fds.some((x) => x.fd === fd && x.name === file))
    t.true(all.users.users.some((u) => u.uid === 0))
  } finally {
    client.destroy()
    server.close()
    fs.closeSync(fd)
    fs.rmSync(dir, {recursive: true, force: true})
  }
})

/** Place a `sleep` in a new cgroup `<base>/<rel>` (root only); undefined when the hierarchy is not writable. */
async function inCgroup(base: string, rel: string, body: (pid: number) => void): Promise<boolean> {
  if (process.geteuid?.() !== 0 || !fs.existsSync(path.join(base, 'cgroup.procs'))) return false
  const dir = path.join(base, rel)
  try {
    fs.mkdirSync(dir, {recursive: true})
  } catch {
    return false
  }
  const child = spawn('sleep', ['30'], {stdio: 'ignore'})
  const exited = new Promise((res) => child.once('exit', res))
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(child.pid))
    body(child.pid!)
    return true
  } finally {
    child.kill('SIGKILL')
    await exited
    // Remove what was made, deepest first (a cgroup is removed with rmdir once empty).
    for (let d = dir; d !== base && d.startsWith(base); d = path.dirname(d)) fs.rmdirSync(d)
  }
}

test('procfs: a process placed in docker-like cgroups (v1 and v2) carries the container id', async (t) => {
  const tag = `sysflow-test-${process.pid}-${Date.now()}`
  const v1 = await inCgroup('/sys/fs/cgroup/pids', `${tag}/docker/${A}`, (pid) => {
    const th = new ProcReader().thread(pid)!
    t.true(th.cgroups.includes(`pids=/${tag}/docker/${A}`), th.cgroups.join(' '))
    t.is(containerIdFromCgroups(th.cgroups), A.slice(0, 12))
  })
  // The unified hierarchy: the leaf enables no controller here, so only the kept `=<path>` entry names it.
  const v2 = await inCgroup('/sys/fs/cgroup/unified', `${tag}/docker-${B}.scope`, (pid) => {
    const th = new ProcReader().thread(pid)!
    t.true(th.cgroups.some((c) => c.endsWith(`=/${tag}/docker-${B}.scope`)), th.cgroups.join(' '))
    t.is(containerIdFromCgroups(th.cgroups), B.slice(0, 12))
  })
  if (!v1 && !v2) t.log('no writable cgroup hierarchy (needs root): skipped')
  t.pass()
})

test('procfs: a lone thread() after a scan reads the socket tables afresh', async (t) => {
  await withTempDir((dir) => {
    const {proc} = buildTree(dir)
    const r = new ProcReader({procRoot: proc})
    t.false(r.scan().threads[1].fds.some((f) => f.fd === 16))
    // A connection made after the scan, met first in an event.
    fs.appendFileSync(path.join(proc, '100', 'net', 'tcp'), tcp4(2, '0100007F:C350', '0100007F:0050', '01', 5011))
    link(path.join(proc, '100', 'fd', '16'), 'socket:[5011]')
    const f = r.thread(100)!.fds.find((x) => x.fd === 16)
    t.deepEqual(f, {fd: 16, ino: 5011n, type: 3, name: '', openFlags: 0, sip: 16777343, sport: 50000, dip: 16777343, dport: 80, l4proto: 2})
  })
})
