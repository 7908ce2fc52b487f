// The probe's read/write aggregation, in the kernel (root; skips visibly without BPF rights): each case runs a
// workload shaped to break one rule of sysflow.bpf.c and checks the raw probe records, in ring order. An aggregate
// must carry exactly the calls made (ops, bytes; failed calls are ops without bytes) and must come before every
// record its calls precede: the fd's close (also by another thread), the owner's exit and exec, a change of owner;
// more fds than a task's slots, a sweep of a quiet fd, and what is left at detach lose nothing.
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'ava'
import {K_EXEC, K_EXIT, K_IOAGG, syscallsFor} from '../src/capture/live/records.js'
import {BpfProbe} from '../src/native/bpf.js'
import {canCapture} from './helpers/bpf.js'
import {withTempDir} from './helpers/tmp.js'

interface ProbeRec {
  kind: number
  tid: number
  pid: number
  ret: bigint
  args: bigint[]
  /** An open's path. */
  path?: string
}

const OPENS = new Set([2, 85, 257, 437])

function parse(d: Buffer, at: number): ProbeRec {
  const args: bigint[] = []
  for (let i = 0; i < 6; i++) args.push(d.readBigInt64LE(at + 48 + 8 * i))
  const kind = d.readUInt16LE(at + 16)
  const r: ProbeRec = {kind, tid: d.readUInt32LE(at + 8), pid: d.readUInt32LE(at + 12), ret: d.readBigInt64LE(at + 40), args}
  if (OPENS.has(kind)) r.path = d.toString('utf8', at + 104, at + 104 + d.readUInt16LE(at + 20)).replace(/\0$/, '')
  return r
}

interface Session {
  probe: BpfProbe
  /** Records read so far, in ring order. */
  recs: ProbeRec[]
  /** Read the ring now. */
  drain(): void
}

/** A probe attached for `fn` (detached and closed even when it fails), its ring read every 5 ms. */
async function withProbe(fn: (s: Session) => Promise<void>): Promise<void> {
  const probe = BpfProbe.openSync()
  const recs: ProbeRec[] = []
  let iv: NodeJS.Timeout | undefined
  try {
    probe.configure(process.pid, syscallsFor('flow'))
    probe.attach()
    const ring = probe.ringReader()
    const drain = (): void => {
      ring.drain((d, at) => recs.push(parse(d, at)))
    }
    iv = setInterval(drain, 5)
    await fn({probe, recs, drain})
  } finally {
    if (iv) clearInterval(iv)
    probe.close()
  }
}

/** Run a Node ESM workload; resolves with its pid and its last stdout line as JSON. */
async function node(dir: string, src: string, ...args: string[]): Promise<{pid: number; out: Record<string, number>}> {
  const file = path.join(dir, `w${Math.random().toString(36).slice(2)}.mjs`)
  fs.writeFileSync(file, src)
  return run(process.execPath, [file, ...args])
}

async function run(cmd: string, args: string[]): Promise<{pid: number; out: Record<string, number>}> {
  const p = spawn(cmd, args, {stdio: ['ignore', 'pipe', 'inherit']})
  let out = ''
  p.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const code = await new Promise<number | null>((r) => p.on('exit', r))
  if (code !== 0) throw new Error(`${cmd} exited with ${code}`)
  const last = out.trim().split('\n').pop() ?? ''
  return {pid: p.pid!, out: last.startsWith('{') ? JSON.parse(last) : {}}
}

/** Wait until the records hold the exit of `tid` (every flush of a process comes before its threads' exits). */
async function untilExit(s: Session, tid: number): Promise<void> {
  const t0 = Date.now()
  while (!s.recs.some((r) => r.kind === K_EXIT && r.tid === tid)) {
    if (Date.now() - t0 > 10_000) throw new Error(`no exit record of ${tid}`)
    await new Promise((r) => setTimeout(r, 10))
  }
  s.drain()
}

/**
 * One life of an fd: from the open of `file` that returned it (the first after record `from`) to its close (-1
 * while open). An fd number is reused all the time (Node reads its modules through the same numbers), so calls
 * are looked for only inside a life: one that arrived after the close would be missing from it.
 */
function life(s: Session, pid: number, fd: number, file: string, from = -1): {open: number; close: number; aggs: ProbeRec[]} {
  const open = s.recs.findIndex((r, i) => i > from && r.pid === pid && OPENS.has(r.kind) && Number(r.ret) === fd && r.path === file)
  if (open < 0) throw new Error(`no open of ${file} as fd ${fd}`)
  const close = s.recs.findIndex((r, i) => i > open && r.pid === pid && r.kind === 3 && Number(r.args[0]) === fd)
  const aggs = s.recs.slice(open + 1, close < 0 ? undefined : close).filter((r) => r.kind === K_IOAGG && r.pid === pid && Number(r.args[0]) === fd)
  return {open, close, aggs}
}
/** Run a perl one-liner that opens `file` (its first argument) and wait for its exit; the life of that fd. */
async function perl(s: Session, src: string, file: string): Promise<{pid: number; l: ReturnType<typeof life>}> {
  const {pid} = await run('perl', ['-e', src, file])
  await untilExit(s, pid)
  const open = s.recs.find((r) => r.pid === pid && OPENS.has(r.kind) && r.path === file)
  if (!open) throw new Error(`perl did not open ${file}`)
  return {pid, l: life(s, pid, Number(open.ret), file)}
}

/** [read ops, read bytes, write ops, write bytes] summed over aggregates. */
function sums(aggs: ProbeRec[]): number[] {
  const t = [0, 0, 0, 0]
  for (const r of aggs) for (let i = 0; i < 4; i++) t[i] += Number(r.args[i + 1])
  return t
}

const why = canCapture()
if (why !== undefined) {
  test('live eBPF read/write aggregation (skipped)', (t) => {
    t.log(`SKIPPED: ${why}`)
    t.pass()
  })
} else {
  test.serial('aggregates: exact ops and bytes, failed calls as ops, flushed before the close of the same thread', async (t) => {
    await withTempDir(async (dir) => {
      await withProbe(async (s) => {
        const {pid, out} = await node(dir, `
import fs from 'node:fs'
const f = process.argv[2]
const w = fs.openSync(f, 'w')
for (const n of [1, 10, 100, 1000]) fs.writeSync(w, Buffer.alloc(n, 65))
fs.closeSync(w)
const r = fs.openSync(f, 'r')
try { fs.writeSync(r, 'x') } catch {}
const b = Buffer.alloc(4096)
fs.readSync(r, b, 0, 4096, null); fs.readSync(r, b, 0, 4096, null)
fs.closeSync(r)
console.log(JSON.stringify({w, r}))
`, path.join(dir, 'f'))
        await untilExit(s, pid)
        const f = path.join(dir, 'f')
        const w = life(s, pid, out.w, f)
        t.true(w.close > 0)
        t.deepEqual(sums(w.aggs), [0, 0, 4, 1111])
        const r = life(s, pid, out.r, f, w.close)
        t.true(r.close > 0)
        t.deepEqual(sums(r.aggs), [2, 1111, 1, 0], 'EOF read: an op, no bytes; EBADF write: an op')
      })
    })
  })

  test.serial('aggregates: a close by another thread (libuv pool) comes after the writer thread\'s calls', async (t) => {
    await withTempDir(async (dir) => {
      await withProbe(async (s) => {
        const {pid, out} = await node(dir, `
import fs from 'node:fs'
const fd = fs.openSync(process.argv[2], 'w')
for (let i = 0; i < 3; i++) fs.writeSync(fd, 'abcde')
await new Promise((r) => fs.close(fd, r))
console.log(JSON.stringify({fd}))
`, path.join(dir, 'g'))
        await untilExit(s, pid)
        const l = life(s, pid, out.fd, path.join(dir, 'g'))
        t.is(l.aggs.length, 1)
        t.is(l.aggs[0].tid, pid, 'written by the main thread')
        t.deepEqual(sums(l.aggs), [0, 0, 3, 15])
        t.not(s.recs[l.close].tid, pid, 'closed by a pool thread')
      })
    })
  })

  test.serial('aggregates: the owner changes between threads, each thread\'s calls under its own tid, in order', async (t) => {
    await withTempDir(async (dir) => {
      await withProbe(async (s) => {
        const {pid, out} = await node(dir, `
import fs from 'node:fs'
import {Worker} from 'node:worker_threads'
const fd = fs.openSync(process.argv[2], 'w')
fs.writeSync(fd, 'aa'); fs.writeSync(fd, 'aa')
const w = new Worker("const fs = require('node:fs'); const {workerData, parentPort} = require('node:worker_threads'); for (let i = 0; i < 3; i++) fs.writeSync(workerData, 'bbb'); parentPort.postMessage(0)", {eval: true, workerData: fd})
await new Promise((r) => w.once('message', r))
fs.writeSync(fd, 'c')
fs.closeSync(fd)
await w.terminate()
console.log(JSON.stringify({fd}))
`, path.join(dir, 'h'))
        await untilExit(s, pid)
        const l = life(s, pid, out.fd, path.join(dir, 'h'))
        t.true(l.close > 0)
        t.deepEqual(l.aggs.map((r) => [r.tid === pid ? 'main' : 'worker', ...r.args.slice(1, 5).map(Number)]), [['main', 0, 0, 2, 4], ['worker', 0, 0, 3, 9], ['main', 0, 0, 1, 1]])
      })
    })
  })

  test.serial('aggregates: more fds than a task\'s slots (16) lose nothing; each fd\'s calls come before its close', async (t) => {
    await withTempDir(async (dir) => {
      await withProbe(async (s) => {
        const {pid, out} = await node(dir, `
import fs from 'node:fs'
const dir = process.argv[2]
const fds = []
for (let k = 0; k < 40; k++) fds.push(fs.openSync(dir + '/m' + k, 'w'))
for (let round = 0; round < 3; round++) for (let k = 0; k < 40; k++) fs.writeSync(fds[k], Buffer.alloc(k + 1))
for (const fd of fds) fs.closeSync(fd)
console.log(JSON.stringify(Object.fromEntries(fds.map((fd, k) => ['k' + k, fd]))))
`, dir)
        await untilExit(s, pid)
        for (let k = 0; k < 40; k++) {
          const l = life(s, pid, out['k' + k], path.join(dir, 'm' + k))
          t.true(l.close > 0)
          t.deepEqual(sums(l.aggs), [0, 0, 3, 3 * (k + 1)], `file m${k}`)
        }
      })
    })
  })

  test.serial('aggregates: the calls come before the exit of their thread, which never closed the fd', async (t) => {
    await withTempDir(async (dir) => {
      await withProbe(async (s) => {
        // POSIX::_exit: no cleanup, so the kernel closes the file at exit and no close call is made
        const file = path.join(dir, 'i')
        const {pid, l} = await perl(s, 'use POSIX; open(my $f, ">", $ARGV[0]) or die; syswrite($f, "xyz") for 1..5; POSIX::_exit(0)', file)
        t.is(l.close, -1, 'never closed')
        t.is(l.aggs.length, 1)
        t.is(l.aggs[0].tid, pid)
        t.deepEqual(sums(l.aggs), [0, 0, 5, 15])
        const exit = s.recs.findIndex((r) => r.kind === K_EXIT && r.tid === pid)
        t.true(s.recs.indexOf(l.aggs[0]) < exit, 'before the exit')
      })
    })
  })

  test.serial('aggregates: the calls before an exec come before the exec (the fd closed by it, not by close)', async (t) => {
    await withTempDir(async (dir) => {
      await withProbe(async (s) => {
        // perl (Debian's perl-base is essential) marks its files close-on-exec: exec closes the fd, no close call
        const file = path.join(dir, 'j')
        const {pid, l} = await perl(s, 'open(my $f, ">", $ARGV[0]) or die; syswrite($f, "abc"); syswrite($f, "de"); exec "/bin/true"', file)
        const exec = s.recs.findIndex((r, i) => i > l.open && r.kind === K_EXEC && r.pid === pid)
        t.true(exec > l.open)
        t.true(l.close < 0 || l.close > exec, 'no close before the exec')
        t.deepEqual(sums(l.aggs.filter((r) => s.recs.indexOf(r) < exec)), [0, 0, 2, 5])
      })
    })
  })

  test.serial('aggregates: an fd closed without a close call (close_range) and reused: the old calls come before the new open', async (t) => {
    await withTempDir(async (dir) => {
      await withProbe(async (s) => {
        const [a, b] = [path.join(dir, 'ra'), path.join(dir, 'rb')]
        const {pid} = await run('perl', ['-e', 'use POSIX; open(my $f, ">", $ARGV[0]) or die; syswrite($f, "abc"); my $n = fileno($f); syscall(436, $n, $n, 0) == 0 or die; open(my $g, ">", $ARGV[1]) or die; fileno($g) == $n or die; syswrite($g, "de"); POSIX::_exit(0)', a, b])
        await untilExit(s, pid)
        const openA = s.recs.findIndex((r) => r.pid === pid && OPENS.has(r.kind) && r.path === a)
        const openB = s.recs.findIndex((r) => r.pid === pid && OPENS.has(r.kind) && r.path === b)
        t.true(openA >= 0 && openB > openA)
        const fd = Number(s.recs[openA].ret)
        t.is(Number(s.recs[openB].ret), fd)
        const between = (from: number, to: number) => s.recs.slice(from + 1, to).filter((r) => r.kind === K_IOAGG && r.pid === pid && Number(r.args[0]) === fd)
        t.deepEqual(sums(between(openA, openB)), [0, 0, 1, 3], 'the write to the first file, before the second open')
        t.deepEqual(sums(between(openB, s.recs.length)), [0, 0, 1, 2])
      })
    })
  })

  test.serial('aggregates: a sweep reports a quiet fd while it is open; detach leaves the rest to takeIoAggregates', async (t) => {
    await withTempDir(async (dir) => {
      await withProbe(async (s) => {
        const p = spawn(process.execPath, ['-e', `
const fs = require('node:fs')
const fd = fs.openSync(process.argv[1], 'w')
for (let i = 0; i < 7; i++) fs.writeSync(fd, 'q')
console.log(JSON.stringify({fd}))
setTimeout(() => { fs.writeSync(fd, 'zz'); fs.writeSync(fd, 'zz'); setTimeout(() => {}, 60_000) }, 400)
`, path.join(dir, 'k')], {stdio: ['ignore', 'pipe', 'inherit']})
        try {
          const fd = await new Promise<number>((r) => p.stdout.once('data', (d: Buffer) => r(JSON.parse(d.toString()).fd)))
          const pid = p.pid!
          // older than the probe's window (100 ms): the sweep takes it; the process is alive and the fd open
          await new Promise((r) => setTimeout(r, 200))
          s.probe.sweep()
          s.drain()
          const file = path.join(dir, 'k')
          t.deepEqual(sums(life(s, pid, fd, file).aggs), [0, 0, 7, 7])
          t.false(s.recs.some((r) => r.kind === K_EXIT && r.pid === pid))
          // the two later writes: still in the kernel when the probe is detached
          await new Promise((r) => setTimeout(r, 500))
          s.probe.detach()
          s.drain()
          t.deepEqual(sums(life(s, pid, fd, file).aggs), [0, 0, 7, 7])
          const left = s.probe.takeIoAggregates().map((b) => parse(b, 0)).filter((r) => r.pid === pid && Number(r.args[0]) === fd)
          t.is(left.length, 1)
          t.is(left[0].kind, K_IOAGG)
          t.deepEqual(left[0].args.slice(1, 5).map(Number), [0, 0, 2, 4])
          t.is(s.probe.takeIoAggregates().filter((b) => parse(b, 0).pid === pid).length, 0, 'taken once')
        } finally {
          p.kill('SIGKILL')
        }
      })
    })
  })
}
