// The package as users get it: `npm pack`, the tarball installed into a fresh project by npm (or, where npm cannot
// reach a registry, unpacked with its dependencies linked from this repository), imported by name. The examples it ships
// run on the fixtures with exact output, internals are not importable, and a strict TypeScript program
// type-checks against the packed types.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {spawnSync} from 'node:child_process'
import {writeExamplesTrace} from './helpers/examples-trace.js'

const ROOT = process.cwd()
const FIX = path.join(ROOT, 'test/fixtures')

interface Project {
  dir: string
  error?: string
}

let installedBy = ''

/** Pack (no scripts: dist is already built) and unpack into a temporary project. Synchronous, before the tests. */
function makeProject(): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-pack-'))
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], {cwd: ROOT, encoding: 'utf8', timeout: 120_000})
  if (r.error || r.status !== 0) return {dir, error: `npm pack failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`}
  const tgz = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'))
  if (!tgz) return {dir, error: 'npm pack wrote no tarball'}
  const nm = path.join(dir, 'node_modules')
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({name: 'consumer', private: true, type: 'module'}))
  // A real install of the tarball, as users do (npm's cache first; the registry for what it lacks). Where npm
  // cannot (no registry), the tarball is unpacked and the dependencies an install would bring are linked from this
  // repository instead; the test log says which.
  const i = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', `./${tgz}`], {cwd: dir, encoding: 'utf8', timeout: 180_000})
  if (i.status === 0 && fs.existsSync(path.join(nm, 'sysflow', 'package.json'))) {
    installedBy = 'npm install of the tarball'
  } else {
    installedBy = `unpacked, dependencies linked (npm install failed: ${(i.error?.message ?? i.stderr.trim().split('\n').pop() ?? '').slice(0, 120)})`
    fs.rmSync(nm, {recursive: true, force: true})
    fs.mkdirSync(nm)
    const x = spawnSync('tar', ['xzf', path.join(dir, tgz), '-C', nm], {encoding: 'utf8'})
    if (x.status !== 0) return {dir, error: `tar failed: ${x.stderr}`}
    fs.renameSync(path.join(nm, 'package'), path.join(nm, 'sysflow'))
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {dependencies: Record<string, string>}
    for (const dep of Object.keys(pkg.dependencies)) {
      const to = path.join(nm, dep)
      fs.mkdirSync(path.dirname(to), {recursive: true})
      fs.symlinkSync(path.join(ROOT, 'node_modules', dep), to)
    }
  }
  // The consumer's own dev dependency for the strict TypeScript check.
  if (!fs.existsSync(path.join(nm, '@types/node'))) {
    fs.mkdirSync(path.join(nm, '@types'), {recursive: true})
    fs.symlinkSync(path.join(ROOT, 'node_modules', '@types/node'), path.join(nm, '@types/node'))
  }
  for (const f of fs.readdirSync(path.join(nm, 'sysflow', 'examples'))) fs.copyFileSync(path.join(nm, 'sysflow', 'examples', f), path.join(dir, f))
  return {dir}
}

const project = makeProject()
process.on('exit', () => fs.rmSync(project.dir, {recursive: true, force: true}))

function node(args: string[]): {status: number | null; stdout: string; stderr: string} {
  return spawnSync(process.execPath, args, {cwd: project.dir, encoding: 'utf8', timeout: 60_000})
}

if (project.error) {
  test(`packed package: SKIPPED (${project.error})`, (t) => t.pass())
} else {
  test('packed: ships the entry, its types, the examples; not the tests', (t) => {
    t.log(`installed by: ${installedBy}`)
    const p = path.join(project.dir, 'node_modules/sysflow')
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/lib/driver.js', 'oclif.manifest.json', 'bin/run.js', 'examples/count-by-exe.mjs', 'examples/exec-containers.mjs', 'examples/bytes-by-port.mjs', 'examples/shadow-alert.mjs']) t.true(fs.existsSync(path.join(p, f)), f)
    t.false(fs.existsSync(path.join(p, 'dist/test')))
    // of the sources, only the eBPF probe ships (its compiled object is loaded from there, its C source beside it)
    t.deepEqual(fs.readdirSync(path.join(p, 'src'), {recursive: true}).map(String).sort(), ['native', 'native/bpf', 'native/bpf/sysflow.bpf.c', 'native/bpf/sysflow.bpf.o', 'native/bpf/sysflow.h'])
  })

  test('packed: the 5-line example of the README, by package name; internals are not exported', (t) => {
    fs.writeFileSync(path.join(project.dir, 'minimal.mjs'), `import {SysFlowDriver} from 'sysflow'
const driver = new SysFlowDriver({
  input: ${JSON.stringify(path.join(FIX, 'v5.sf'))},
  callback: (header, container, process, file, file2, record) => { console.log(record.kind, process?.exe ?? '', file?.path ?? '', file2?.path ?? '') },
})
const stats = await driver.run()
console.log(stats.records)
try { await import('sysflow/dist/src/format/join.js'); console.log('exported!') } catch (e) { console.log(e.code) }
`)
    const r = node(['minimal.mjs'])
    t.is(r.stderr, '')
    t.is(r.stdout, [
      '4 /bin/bash  ', '4 /usr/bin/curl  ', '6 /usr/bin/curl /etc/hosts ', '5 /usr/bin/curl  ', '8 /usr/bin/curl  ',
      '7 /usr/bin/curl /tmp/out.part /tmp/out.html', '7 /usr/bin/curl /tmp/out.html ', '4 /usr/bin/curl  ', '4 /bin/bash  ',
      '9 /bin/bash  ', '11   ', '11', 'ERR_PACKAGE_PATH_NOT_EXPORTED', '',
    ].join('\n'))
  })

  test('packed: the CLI still runs from the package (oclif finds its commands despite the exports map)', (t) => {
    const r = node(['node_modules/sysflow/bin/run.js', 'print', path.join(FIX, 'v5.sf'), '-o', 'csv', '-c', 'type'])
    t.is(r.stderr, '')
    t.is(r.stdout, 'type\r\nPE\r\nPE\r\nFF\r\nNF\r\nNE\r\nFE\r\nFE\r\nPE\r\nPE\r\nPF\r\nKE\r\n')
  })

  test('packed: examples/count-by-exe.mjs', (t) => {
    const r = node(['count-by-exe.mjs', path.join(FIX, 'v5.sf'), path.join(FIX, 'multiblock.sf')])
    t.is(r.stderr, '')
    t.is(r.stdout, '214\t/usr/bin/curl\n6\t/bin/bash\n2\t(none)\n222\trecords\n')
  })

  test('packed: examples/filter-forward.mjs', (t) => {
    const r = node(['filter-forward.mjs', 'sf.type in (FF, FE) and sf.file.path startswith /tmp', path.join(FIX, 'v5.sf')])
    t.is(r.stderr, '')
    t.is(r.stdout, [
      '{"ts":"1700000000123487789","type":"FE","exe":"/usr/bin/curl","container":"web","ops":["RENAME"],"path":"/tmp/out.part"}',
      '{"ts":"1700000000123488789","type":"FE","exe":"/usr/bin/curl","container":"web","ops":["UNLINK"],"path":"/tmp/out.html"}',
      '',
    ].join('\n'))
  })

  test('packed: examples/write-sf.mjs writes a trace that reads back', (t) => {
    const r = node(['write-sf.mjs', 'sf.type = PE', 'out.sf', path.join(FIX, 'v5.sf')])
    t.is(r.stderr, '')
    t.is(r.stdout, '10 records written to out.sf\n')
    const back = node(['count-by-exe.mjs', 'out.sf'])
    t.is(back.stdout, '2\t/bin/bash\n2\t/usr/bin/curl\n4\trecords\n')
  })

  // The three examples of the issue, on a trace made by our writer (execs in containers, flows to ports, /etc/shadow).
  let examplesTrace: Promise<string> | undefined
  const exampleTrace = () => (examplesTrace ??= writeExamplesTrace(project.dir))

  test('packed: examples/exec-containers.mjs', async (t) => {
    const r = node(['exec-containers.mjs', await exampleTrace(), path.join(FIX, 'v5.sf')])
    t.is(r.stderr, '')
    t.is(r.stdout, [
      '2023-11-14T22:15:00.011000007Z  web (a1b2c3d4e5f6)  pid 900  /bin/bash -c cat /etc/shadow',
      '2023-11-14T22:15:00.013000007Z  web (a1b2c3d4e5f6)  pid 901  /usr/bin/cat /etc/shadow',
      '2023-11-14T22:15:00.021000007Z  db (0f1e2d3c4b5a)  pid 500  /usr/bin/psql -h 10.0.0.5 shop',
      '2023-11-14T22:13:20.123467789Z  web (c0ffee123456)  pid 4243  /usr/bin/curl -s http://web/',
      '24 records read', // 13 event and flow records + 11 in v5.sf
      '',
    ].join('\n'))
    // Trace strings are hostile: control characters come out escaped, never raw.
    const h = node(['exec-containers.mjs', path.join(FIX, 'hostile.sf')])
    t.is(h.stderr, '')
    t.false(/[\x00-\x09\x0b-\x1f\x7f]/.test(h.stdout), JSON.stringify(h.stdout))
    t.true(h.stdout.includes('/tmp/\\x1b[31mred\\x1b[0m\\x0d\\x0a\\x07\\x00tab\\x09here'), h.stdout)
  })

  test('packed: examples/bytes-by-port.mjs', async (t) => {
    const r = node(['bytes-by-port.mjs', await exampleTrace(), path.join(FIX, 'v5.sf')])
    t.is(r.stderr, '')
    t.is(r.stdout, [
      'container\tdport\tflows\trecv_bytes\tsent_bytes\ttotal_bytes',
      '"db"\t443\t1\t5000000000\t77\t5000000077',
      '"db"\t5432\t2\t1024\t206\t1230', // 1000 + 24 received, 200 + 6 sent: two flows summed
      '"host"\t22\t1\t3000\t4000\t7000',
      '"web"\t80\t1\t5000000000\t77\t5000000077', // v5.sf: above 2^32, exact
      '',
    ].join('\n'))
  })

  test('packed: examples/shadow-alert.mjs', async (t) => {
    const r = node(['shadow-alert.mjs', await exampleTrace(), path.join(FIX, 'v5.sf')])
    t.is(r.stderr, '')
    // sshd opened it for reading (no read yet), cat read it; sshd's write-only open is no alert.
    t.is(r.stdout, [
      'ALERT 2023-11-14T22:15:00.004000007Z /usr/sbin/sshd (pid 700, user root) in host read /etc/shadow',
      'ALERT 2023-11-14T22:15:00.014000007Z /usr/bin/cat (pid 901, user root) in web read /etc/shadow',
      '2 alert(s) in 3 record(s) on /etc/shadow',
      '',
    ].join('\n'))
  })

  test('packed: a strict TypeScript consumer type-checks against the packed types', (t) => {
    fs.writeFileSync(path.join(project.dir, 'typed.ts'), `import {SysFlowDriver, records, attr, writer, socketWriter, Kind, opFlagNames, type SysFlowStats, type JoinedRecord, type FileFlow} from 'sysflow'

const driver = new SysFlowDriver({
  input: ['a.sf'],
  collectionMode: 'flow',
  fileReadMode: 2,
  callback: async (header, container, process, file, file2, record) => {
    const exporter: string | undefined = header?.exporter
    const name: string | undefined = container?.name
    const exe: string | undefined = process?.exe
    const p: string | undefined = file?.path ?? file2?.path
    const ts: bigint = record.ts
    if (record.kind === Kind.FileFlow) {
      const ff: FileFlow = record
      const bytes: bigint | undefined = ff.numRRecvBytes // absent where the writer lacked the field
      void bytes
    }
    void [exporter, name, exe, p, ts, opFlagNames(0, false)]
  },
})
const stats: SysFlowStats = await driver.run()
const n: number = stats.records
for await (const r of records('a.sf', {filter: 'sf.type = NF'})) {
  const j: JoinedRecord = r
  const v = attr(j, 'sf.proc.exe')
  void v
}
const w = writer('out/', {rotateInterval: 300})
await w.close()
const sw = socketWriter('/run/sysflow.sock', {queueRecords: 1024, filter: 'sf.type = NF', onWarning: (m: string) => void m})
const sent: {records: number; dropped: number; connects: number} = await sw.close()
const viaDriver = new SysFlowDriver({input: 'a.sf', socketPath: '/run/sysflow.sock', callback: () => undefined})
void [sent, viaDriver]
// @ts-expect-error collectionMode is one of flow, consume, nofiles
new SysFlowDriver({collectionMode: 'all', callback: () => undefined})
// @ts-expect-error the callback is required
new SysFlowDriver({input: 'a.sf'})
void n
`)
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
    const r = node([tsc, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'typed.ts'])
    t.is(r.stdout + r.stderr, '')
    t.is(r.status, 0)
  })
}
