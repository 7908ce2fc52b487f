// `sysflow print` through the real CLI: format choice, files, filters, errors and exit codes, pipes.
import test from 'ava'
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {runCli} from './helpers/cli.js'

const v5 = 'test/fixtures/v5.sf'
const k8s = path.resolve('../shared/traces/sysflow/sf-processor/k8s_small.sf')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-print-cli-'))
test.after.always(() => fs.rmSync(tmp, {recursive: true, force: true}))

test('stdout that is not a terminal gets flatjson, one object per line', (t) => {
  const r = runCli(['print', v5])
  t.is(r.status, 0)
  t.is(r.lines.length, 11)
  const first = JSON.parse(r.lines[0])
  t.is(first.type, 'PE')
  t.is(first['proc.exe'], '/bin/bash')
  t.true(r.lines[0].includes('"ts_uts": 1700000000123458789'), 'the exact nanosecond integer')
  t.is(first.ts, '2023-11-14T22:13:20.123458789Z')
})

test('-w writes the same lines to a file (never a JSON array), and csv too', (t) => {
  const out = path.join(tmp, 'out.json')
  const r = runCli(['print', v5, '-o', 'json', '-w', out])
  t.is(r.status, 0)
  t.is(r.stdout, '')
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n')
  t.is(lines.length, 11)
  t.deepEqual(JSON.parse(lines[3]).net, {proto: 6, sport: 40556, dport: 80, sip: '172.17.0.16', dip: '10.96.0.12'})
  const csv = path.join(tmp, 'out.csv')
  t.is(runCli(['print', v5, '-o', 'csv', '-w', csv, '-c', 'type,flow.rbytes']).status, 0)
  t.is(fs.readFileSync(csv, 'utf8'), 'type,flow.rbytes\r\nPE,\r\nPE,\r\nFF,220\r\nNF,5000000000\r\nNE,\r\nFE,\r\nFE,\r\nPE,\r\nPE,\r\nPF,\r\nKE,\r\n')
})

test('a filter selects records; a syntax error shows a caret under the column and exits 2', (t) => {
  const r = runCli(['print', v5, '-f', 'sf.type in (FE, NF) and sf.proc.exe = /usr/bin/curl', '-o', 'csv', '-c', 'type,res'])
  t.is(r.status, 0)
  t.deepEqual(r.stdout.split('\r\n'), ['type,res', 'NF,172.17.0.16:40556-10.96.0.12:80', 'FE,"/tmp/out.part, /tmp/out.html"', 'FE,/tmp/out.html', ''])
  const bad = runCli(['print', v5, '-f', 'sf.type = NF and (sf.net.dport = 80'])
  t.is(bad.status, 2)
  t.deepEqual(bad.errLines, ['sysflow: error: bad filter', 'sf.type = NF and (sf.net.dport = 80', '                                   ^', "missing ')' to close the '(' at column 18"])
  t.is(bad.stdout, '')
})

test('a literal the attribute can never hold is a filter error with a suggestion, not 0 records (or every record)', (t) => {
  const bad = runCli(['print', v5, '-f', 'sf.opflags = EXECC'])
  t.is(bad.status, 2)
  t.deepEqual(bad.errLines, ['sysflow: error: bad filter', 'sf.opflags = EXECC', '             ^', "sf.opflags: 'EXECC' is not an operation flag (did you mean EXEC?)"])
  t.is(bad.stdout, '')
  const gt = runCli(['print', v5, '-f', 'sf.proc.pid > abc'])
  t.is(gt.status, 2)
  t.deepEqual(gt.errLines.slice(1), ['sf.proc.pid > abc', '              ^', "sf.proc.pid: 'abc' is not an integer"])
  t.is(gt.stdout, '')
  const ok = runCli(['print', v5, '-f', 'sf.opflags = EXEC', '-o', 'csv', '-c', 'type,opflags'])
  t.is(ok.status, 0)
  t.deepEqual(ok.stdout.split('\r\n'), ['type,opflags', 'PE,EXEC', ''])
})

test('-c with no fields is an error in print and convert (it printed every column)', (t) => {
  for (const c of ['', ' , ']) {
    const r = runCli(['print', v5, '-c', c])
    t.is(r.status, 2)
    t.deepEqual(r.errLines, [`sysflow: error: -c: no fields in '${c}' (give comma-separated fields, 'sysflow print --list' shows them; -A prints every field)`])
    t.is(r.stdout, '')
  }
  const out = path.join(tmp, 'empty-c.csv')
  const r = runCli(['convert', v5, '-o', out, '-c', ''])
  t.is(r.status, 2)
  t.deepEqual(r.errLines, ["sysflow: error: -c: no fields in '' (give comma-separated fields, 'sysflow print --list' shows them; -A prints every field)"])
  t.false(fs.existsSync(out))
})

test('--rules lists and macros work in -f', (t) => {
  const rules = path.join(tmp, 'rules.yaml')
  fs.writeFileSync(rules, '- list: net_tools\n  items: [curl, wget]\n- macro: fetching\n  condition: sf.proc.name in (net_tools)\n')
  const r = runCli(['print', v5, '--rules', rules, '-f', 'fetching and sf.type = FE', '-o', 'csv', '-c', 'type,opflags'])
  t.is(r.status, 0)
  t.deepEqual(r.stdout.split('\r\n'), ['type,opflags', 'FE,RENAME', 'FE,UNLINK', ''])
})

test('an unknown -c field exits 2 with a suggestion', (t) => {
  const r = runCli(['print', v5, '-c', 'type,proc.exee'])
  t.is(r.status, 2)
  t.deepEqual(r.errLines, ["sysflow: error: unknown field 'proc.exee' (did you mean proc.exe?); 'sysflow print --list' shows them all"])
})

test('--since/--until take ISO times and nanoseconds; a bad time exits 2', (t) => {
  const r = runCli(['print', v5, '--since', '2023-11-14T22:13:20.123476789Z', '--until', '1700000000123496789', '-o', 'csv', '-c', 'type'])
  t.deepEqual(r.stdout.split('\r\n'), ['type', 'NF', 'NE', 'FE', 'FE', ''])
  const bad = runCli(['print', v5, '--since', 'yesterday'])
  t.is(bad.status, 2)
  t.regex(bad.stderr, /--since: 'yesterday' is neither an ISO-8601 time nor nanoseconds since the epoch/)
})

test('--limit stops early; no input is a usage error', (t) => {
  t.is(runCli(['print', v5, '--limit', '4']).lines.length, 4)
  const none = runCli(['print'])
  t.is(none.status, 2)
  t.regex(none.stderr, /no input/)
})

test('--list and --list --json describe the catalogue', (t) => {
  const r = runCli(['print', '--list'])
  t.is(r.status, 0)
  t.true(r.lines.some((l) => /^sf\.proc\.exe\s+proc\.exe\s+string\s+Process executable path$/.test(l)))
  const j = JSON.parse(runCli(['print', '--list', '--json']).stdout) as {name: string; type: string; sysprint: string | null}[]
  const exe = j.find((a) => a.name === 'sf.proc.exe')
  t.deepEqual(exe && {type: exe.type, sysprint: exe.sysprint}, {type: 'string', sysprint: 'proc.exe'})
  t.true(j.length > 90)
})

test('a closed pipe ends quietly with exit 0', async (t) => {
  const file = fs.existsSync(k8s) ? k8s : 'test/fixtures/multiblock.sf'
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn(process.execPath, ['bin/run.js', 'print', '-o', 'json', file], {stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    p.stderr.on('data', (d) => (err += d))
    p.stdout.once('data', () => p.stdout.destroy())
    p.on('exit', (c) => {
      t.is(err, '')
      resolve(c)
    })
  })
  t.is(code, 0)
})

test('--color always colours str output; NO_COLOR keeps auto plain', (t) => {
  const r = runCli(['print', v5, '-o', 'str', '--color', 'always', '--limit', '1'])
  t.true(r.stdout.includes('\u001b[1m'))
  const plain = runCli(['print', v5, '-o', 'str', '--limit', '1'])
  t.false(plain.stdout.includes('\u001b['))
})
