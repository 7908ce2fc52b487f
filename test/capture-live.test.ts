// Live capture through sysflow's eBPF probe, end to end: the real CLI captures while a scripted workload runs in a
// child process tree, and the trace holds exactly that tree's calls: an exec with its args, a file written with a
// known byte and op count, a rename, an unlink and a mkdir, a loopback TCP connection (bytes each way, both ports),
// a UDP send, a process exit with its status, a process in a docker-like cgroup carrying the container id. SIGINT
// in the middle of a workload leaves a valid file whose open flows end with TRUNCATE. Runs as root (CI); skips
// visibly without the rights to load BPF programs. Cleans up (cgroups, processes, files) even when it fails.
import {spawn, spawnSync} from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'ava'
import {OpFlag} from '../src/format/flags.js'
import {FileEvent, FileFlow, Kind, NetworkFlow, Process, ProcessEvent, SysFlowRecord} from '../src/format/records.js'
import {foid} from '../src/capture/index.js'
import {runCli} from './helpers/cli.js'
import {canCapture, readAll, startCapture, stop} from './helpers/bpf.js'
import {withTempDir} from './helpers/tmp.js'

const RUN = path.resolve('bin/run.js')

const WORKLOAD = `
import fs from 'node:fs'
import net from 'node:net'
import dgram from 'node:dgram'
import {spawnSync} from 'node:child_process'
const [dir, cg] = process.argv.slice(2)
const out = {}
const fd = fs.openSync(dir + '/data.bin', 'w')
for (let i = 0; i < 3; i++) fs.writeSync(fd, Buffer.alloc(1000, 65))
fs.closeSync(fd)
fs.renameSync(dir + '/data.bin', dir + '/moved.bin')
fs.mkdirSync(dir + '/sub')
fs.unlinkSync(dir + '/moved.bin')
spawnSync('/bin/echo', ['hello', 'sysflow'])
spawnSync('/bin/sh', ['-c', 'exit 7'])
// the shell joins the container's cgroup, then starts a process there (as a container's processes start)
if (cg) spawnSync('/bin/sh', ['-c', 'echo $$ > ' + cg + '/cgroup.procs && /bin/cat /etc/hostname; true'])
const server = net.createServer((s) => {
  let n = 0
  s.on('data', (d) => { n += d.length; if (n === 1234) s.end(Buffer.alloc(567, 66)) })
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
out.serverPort = server.address().port
await new Promise((resolve) => {
  const c = net.connect(out.serverPort, '127.0.0.1', () => { out.clientPort = c.localPort; c.write(Buffer.alloc(1234, 67)) })
  let got = 0
  c.on('data', (d) => { got += d.length })
  c.on('end', () => { out.got = got; c.end(); resolve() })
})
await new Promise((r) => server.close(r))
const u = dgram.createSocket('udp4')
await new Promise((r) => u.bind(0, '127.0.0.1', r))
out.udpPort = u.address().port
const got = new Promise((r) => u.once('message', r))
const s = dgram.createSocket('udp4')
await new Promise((r) => s.send(Buffer.alloc(99, 68), out.udpPort, '127.0.0.1', r))
out.udpSrcPort = s.address().port
await got
s.close()
u.close()
console.log(JSON.stringify(out))
`

/** Start `sysflow capture` and resolve once the probe is attached. */

/** A docker-like cgroup (…/docker/<64 hex>) in the first writable hierarchy; undefined when none. */
function makeCgroup(): {dir: string; id: string; cleanup: () => void} | undefined {
  const id = crypto.randomBytes(32).toString('hex')
  for (const base of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup', '/sys/fs/cgroup/pids']) {
    if (!fs.existsSync(path.join(base, 'cgroup.procs'))) continue
    const parent = path.join(base, 'docker')
    const created = !fs.existsSync(parent)
    try {
      fs.mkdirSync(path.join(parent, id), {recursive: true})
    } catch {
      continue
    }
    return {
      dir: path.join(parent, id),
      id,
      cleanup: () => {
        for (const d of [path.join(parent, id), ...(created ? [parent] : [])]) {
          try {
            fs.rmdirSync(d)
          } catch {
            // still busy or gone
          }
        }
      },
    }
  }
  return undefined
}

const why = canCapture()
if (why !== undefined) {
  test.skip(`live eBPF capture end to end (cannot load BPF here: ${why})`, () => {})
} else {
  test.serial('live eBPF capture: exact records of a scripted process tree', async (t) => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'live.sf')
      const work = path.join(dir, 'w')
      fs.mkdirSync(work)
      fs.writeFileSync(path.join(dir, 'workload.mjs'), WORKLOAD)
      const cg = makeCgroup()
      const {proc, stderr} = await startCapture(['-o', out])
      let info: {serverPort: number; clientPort: number; got: number; udpPort: number; udpSrcPort: number}
      let wpid: number
      try {
        const w = spawnSync(process.execPath, [path.join(dir, 'workload.mjs'), work, cg?.dir ?? ''], {encoding: 'utf8', timeout: 30_000, env: {...process.env, UV_USE_IO_URING: '0'}})
        t.is(w.status, 0, w.stderr)
        info = JSON.parse(w.stdout)
        wpid = w.pid!
        t.is(info.got, 567)
      } finally {
        const code = await stop(proc)
        cg?.cleanup()
        t.is(code, 0, stderr())
      }
      t.regex(stderr(), /sysflow: capture: \d+ events, \d+ records written, .* 0 drops, 1 file\(s\)/)
      const recs = await readAll(out)
      t.is(recs[0].kind, Kind.Header)
      // the workload's tree: its process and every descendant
      const procs = recs.filter((r): r is Process => r.kind === Kind.Process)
      const tree = new Set<bigint>([BigInt(wpid!)])
      for (let grew = true; grew;) {
        grew = false
        for (const p of procs) {
          if (p.poid && tree.has(p.poid.hpid) && !tree.has(p.oid.hpid)) {
            tree.add(p.oid.hpid)
            grew = true
          }
        }
      }
      const mine = <T extends SysFlowRecord & {procOID: {hpid: bigint}}>(k: Kind) => recs.filter((r) => r.kind === k && tree.has((r as T).procOID.hpid)) as T[]
      const procOf = (hpid: bigint) => procs.filter((p) => p.oid.hpid === hpid).at(-1)!

      // exec with exe and args
      const pes = mine<ProcessEvent>(Kind.ProcessEvent)
      const echo = pes.find((e) => e.opFlags === OpFlag.EXEC && procOf(e.procOID.hpid).exe === '/bin/echo')
      t.truthy(echo, 'an EXEC of /bin/echo')
      t.is(procOf(echo!.procOID.hpid).exeArgs, 'hello sysflow')
      t.is(echo!.ret, 0)
      // process exit with its status (exit 7: the wait status 7 << 8, as libscap's procexit)
      const shExit = pes.find((e) => e.opFlags === OpFlag.EXIT && procOf(e.procOID.hpid).exe === '/bin/sh' && procOf(e.procOID.hpid).exeArgs === '-c exit 7')
      t.truthy(shExit, 'the EXIT of sh -c "exit 7"')
      t.is(shExit!.ret, 7 << 8)

      // the file: 3 writes of 1000 bytes, opened, written and closed
      const dataOid = foid('', path.join(work, 'data.bin'))
      const ffs = mine<FileFlow>(Kind.FileFlow).filter((f) => f.fileOID === dataOid)
      t.is(ffs.length, 1)
      t.is(ffs[0].numWSendBytes, 3000n)
      t.is(ffs[0].numWSendOps, 3n)
      t.is(ffs[0].numRRecvOps, 0n)
      t.is(ffs[0].opFlags, OpFlag.OPEN | OpFlag.WRITE_SEND | OpFlag.CLOSE)
      t.is(BigInt(procOf(ffs[0].procOID.hpid).oid.hpid), BigInt(wpid!))

      // rename, mkdir, unlink
      const fes = mine<FileEvent>(Kind.FileEvent)
      const ops = fes.map((e) => [e.opFlags, e.fileOID, e.newFileOID, e.ret])
      t.deepEqual(ops, [
        [OpFlag.RENAME, dataOid, foid('', path.join(work, 'moved.bin')), 0],
        [OpFlag.MKDIR, foid('', path.join(work, 'sub')), null, 0],
        [OpFlag.UNLINK, foid('', path.join(work, 'moved.bin')), null, 0],
      ])

      // TCP over loopback: both ends, exact bytes each way, both ports
      const lo = 0x0100007f
      const nfs = mine<NetworkFlow>(Kind.NetworkFlow)
      const tcp = nfs.filter((f) => f.proto === 6 && f.sport === info!.clientPort && f.dport === info!.serverPort)
      t.is(tcp.length, 2, JSON.stringify(nfs, (_k, v) => (typeof v === 'bigint' ? String(v) : v)))
      const client = tcp.find((f) => f.opFlags! & OpFlag.CONNECT)!
      const server = tcp.find((f) => f.opFlags! & OpFlag.ACCEPT)!
      t.truthy(client)
      t.truthy(server)
      for (const f of [client, server]) {
        t.is(f.sip, lo)
        t.is(f.dip, lo)
      }
      t.is(client.numWSendBytes, 1234n)
      t.is(client.numRRecvBytes, 567n)
      t.is(server.numRRecvBytes, 1234n)
      t.is(server.numWSendBytes, 567n)

      // UDP: the send, to the bound port
      const udp = nfs.filter((f) => f.proto === 17 && f.numWSendBytes! > 0n)
      t.is(udp.length, 1)
      t.is(udp[0].numWSendBytes, 99n)
      t.is(udp[0].dport, info!.udpPort)
      t.is(udp[0].sport, info!.udpSrcPort)

      // a process in a docker-like cgroup carries its container id
      if (cg) {
        const cat = procs.find((p) => p.exe === '/bin/cat' && tree.has(p.oid.hpid))
        t.truthy(cat, 'the process in the container')
        t.is(cat!.containerId, cg.id.slice(0, 12))
        t.true(recs.some((r) => r.kind === Kind.Container && r.id === cg.id.slice(0, 12)))
      } else t.log('no writable cgroup hierarchy: the container check was skipped')

      // the trace prints, queries and converts like any other
      const printed = runCli(['print', out])
      t.is(printed.status, 0, printed.stderr)
      t.true(printed.lines.some((l) => l.includes('/bin/echo')))
      const q = runCli(['query', '-o', 'csv', `select count(*) as n from events where type = 'FE' and proc_pid = ${wpid!}`, out])
      t.is(q.status, 0, q.stderr)
      t.deepEqual(q.lines, ['n', '3'])
      const json = path.join(dir, 'live.json')
      const c = runCli(['convert', out, '-o', json])
      t.is(c.status, 0, c.stderr)
      t.true(fs.statSync(json).size > 0)
    })
  })

  test.serial('live eBPF capture: SIGINT mid-workload leaves a valid file, open flows TRUNCATEd', async (t) => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'sigint.sf')
      const target = path.join(dir, 'busy.txt')
      const {proc, stderr} = await startCapture(['-o', out])
      const busy = spawn(process.execPath, ['-e', `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(target)}, 'w'); setInterval(() => fs.writeSync(fd, 'x'), 1)`], {stdio: 'ignore'})
      try {
        // SIGINT while the workload is writing: wait until it has written for a while
        const t0 = Date.now()
        while (!(fs.existsSync(target) && fs.statSync(target).size >= 100) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20))
        t.is(await stop(proc), 0, stderr())
      } finally {
        busy.kill('SIGKILL')
        await stop(proc, 'SIGKILL')
      }
      t.false(fs.readdirSync(dir).some((f) => f.includes('.tmp-')), 'no partial file left')
      const recs = await readAll(out)
      t.is(recs[0].kind, Kind.Header)
      const flows = recs.filter((r): r is FileFlow => r.kind === Kind.FileFlow && r.fileOID === foid('', target))
      t.is(flows.length, 1)
      t.is(flows[0].opFlags! & (OpFlag.OPEN | OpFlag.TRUNCATE), OpFlag.OPEN | OpFlag.TRUNCATE)
      t.true(flows[0].numWSendOps! > 0n)
      t.is(flows[0].numWSendOps, flows[0].numWSendBytes)
    })
  })

  test.serial('live eBPF capture: --duration stops it, -G rotates on the wall clock into complete files', async (t) => {
    await withTempDir(async (dir) => {
      const outDir = path.join(dir, 'rot') + '/'
      const r = spawnSync(process.execPath, [RUN, 'capture', '--driver', 'ebpf', '-o', outDir, '-G', '1', '--duration', '3'], {encoding: 'utf8', timeout: 60_000})
      t.is(r.status, 0, r.stderr)
      const files = fs.readdirSync(outDir).sort()
      t.true(files.length >= 2, files.join(' '))
      t.false(files.some((f) => f.includes('.tmp-')))
      for (const f of files) {
        t.regex(f, /^\d{10}(\.\d+)?$/)
        const recs = await readAll(path.join(outDir, f))
        t.is(recs[0].kind, Kind.Header, f)
      }
    })
  })
}
