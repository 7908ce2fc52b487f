// `sysflow query` through the real bin/run.js: output formats (golden), table elision and width, SQL errors, usage
// errors, the --db round trip across processes, --append, --out, --schema.
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'ava'
import {DuckDBInstance} from '@duckdb/node-api'
import {EVENT_COLUMNS} from '../src/format/arrow/index.js'
import {duckdbType} from '../src/query/index.js'
import {withTempDir} from './helpers/tmp.js'

const RUN = path.resolve('bin/run.js')
const V5 = path.resolve('test/fixtures/v5.sf')
const V4 = path.resolve('test/fixtures/v4.sf')

function sysflow(args: string[], env: Record<string, string> = {}): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, [RUN, 'query', ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1', COLUMNS: '', ...env}, timeout: 60_000})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

const Q = 'select type, ts, time, proc_exe, opflags, net_dport, pod_hostip from events order by ts limit 3'

test('table output: names, types under them, exact int64 and nanosecond times, NULL, footer', (t) => {
  const r = sysflow([Q, V5])
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout, [
    '┌─────────┬─────────────────────┬───────────────────────────────┬───────────────┬───────────────────┬───────────┬────────────────────┐',
    '│  type   │         ts          │             time              │   proc_exe    │      opflags      │ net_dport │     pod_hostip     │',
    '│ varchar │        int64        │         timestamp_ns          │    varchar    │     varchar[]     │   int32   │        json        │',
    '├─────────┼─────────────────────┼───────────────────────────────┼───────────────┼───────────────────┼───────────┼────────────────────┤',
    '│ PF      │ 1700000000123457789 │ 2023-11-14 22:13:20.123457789 │ /bin/bash     │ [\'CLONE\', \'EXIT\'] │      NULL │ ["192.168.59.100"] │',
    '│ PE      │ 1700000000123458789 │ 2023-11-14 22:13:20.123458789 │ /bin/bash     │ [\'CLONE\']         │      NULL │ ["192.168.59.100"] │',
    '│ PE      │ 1700000000123467789 │ 2023-11-14 22:13:20.123467789 │ /usr/bin/curl │ [\'EXEC\']          │      NULL │ ["192.168.59.100"] │',
    '├─────────┴─────────────────────┴───────────────────────────────┴───────────────┴───────────────────┴───────────┴────────────────────┤',
    '│ 3 rows                                                                                                                             │',
    '└────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘',
    '',
  ].join('\n'))
})

test('json output: one array, int64 exact, JSON columns embedded', (t) => {
  const r = sysflow([Q, V5, '-o', 'json'])
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout, [
    '[{"type":"PF","ts":1700000000123457789,"time":"2023-11-14 22:13:20.123457789","proc_exe":"/bin/bash","opflags":["CLONE","EXIT"],"net_dport":null,"pod_hostip":["192.168.59.100"]},',
    '{"type":"PE","ts":1700000000123458789,"time":"2023-11-14 22:13:20.123458789","proc_exe":"/bin/bash","opflags":["CLONE"],"net_dport":null,"pod_hostip":["192.168.59.100"]},',
    '{"type":"PE","ts":1700000000123467789,"time":"2023-11-14 22:13:20.123467789","proc_exe":"/usr/bin/curl","opflags":["EXEC"],"net_dport":null,"pod_hostip":["192.168.59.100"]}]',
    '',
  ].join('\n'))
  t.is(sysflow(['select 1 where false', V5, '-o', 'json']).stdout, '[]\n')
})

test('ndjson output: one object a line', (t) => {
  const r = sysflow(['select type, net_sip, net_dport, flow_rbytes from events where type = \'NF\'', V5, '-o', 'ndjson'])
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout, '{"type":"NF","net_sip":"172.17.0.16","net_dport":80,"flow_rbytes":5000000000}\n')
})

test('csv output: header row, quoting', (t) => {
  const r = sysflow(['select type, proc_exe, opflags, proc_args, ke_message->>\'$.kind\' as kind from events where type in (\'FF\', \'KE\') order by ts', V5, '-o', 'csv'])
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout, 'type,proc_exe,opflags,proc_args,kind\nFF,/usr/bin/curl,"[\'OPEN\', \'CLOSE\', \'READ\']",-s http://web/,\nKE,,,,Pod\n')
})

test('markdown output', (t) => {
  const r = sysflow(['select type, count(*) as n from events group by type order by n desc, type limit 3', V5, '-o', 'markdown'])
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout, '| type | n |\n|---|---:|\n| PE | 4 |\n| FE | 2 |\n| FF | 1 |\n')
})

test('table output: at most 40 rows, the middle elided, a footer with the count', (t) => {
  const r = sysflow(['select range as n from range(100)', V5])
  t.is(r.status, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  const values = lines.filter((l) => /^│ +\d+ │$/.test(l)).map((l) => Number(l.replace(/[│ ]/g, '')))
  t.deepEqual(values, [...Array.from({length: 20}, (_, i) => i), ...Array.from({length: 20}, (_, i) => 80 + i)])
  t.is(lines.filter((l) => l.includes('·')).length, 3)
  t.regex(r.stdout, /│ 100 rows \(40 shown\) *│/)
  const six = sysflow(['select range as n from range(100)', V5, '--max-rows', '6'])
  t.deepEqual(six.stdout.split('\n').filter((l) => /^│ +\d+ │$/.test(l)).map((l) => Number(l.replace(/[│ ]/g, ''))), [0, 1, 2, 97, 98, 99])
  const all = sysflow(['select range as n from range(100)', V5, '--all'])
  t.is(all.stdout.split('\n').filter((l) => /^│ +\d+ │$/.test(l)).length, 100)
  t.notRegex(all.stdout, /·/)
})

test('table output fits the terminal: wide values cut, middle columns left out', (t) => {
  const r = sysflow(['select * from events order by ts limit 2', V5], {COLUMNS: '100'})
  t.is(r.status, 0, r.stderr)
  for (const line of r.stdout.trimEnd().split('\n')) t.true(Array.from(line).length <= 100, line)
  t.regex(r.stdout, /│ +type +│/)
  t.regex(r.stdout, /│ … │/)
  t.regex(r.stdout, new RegExp(`2 rows +${EVENT_COLUMNS.length} columns \\(\\d+ shown\\)`))
})

test('SQL errors: DuckDB\'s message and position, a hint for unknown names, exit 2', (t) => {
  const table = sysflow(['select * from evnts', V5])
  t.is(table.status, 2)
  t.is(table.stdout, '')
  t.is(table.stderr, [
    'sysflow: error: Catalog Error: Table with name evnts does not exist!',
    'Did you mean "events"?',
    '',
    'LINE 1: select * from evnts',
    '                      ^',
    'hint: `sysflow query --schema` lists the tables and their columns',
    '',
  ].join('\n'))
  const column = sysflow(['select proc_exee from events', V5])
  t.is(column.status, 2)
  t.regex(column.stderr, /^sysflow: error: Binder Error: Referenced column "proc_exee" not found in FROM clause!/)
  t.regex(column.stderr, /Candidate bindings: "proc_exe"/)
  t.regex(column.stderr, /\nLINE 1: select proc_exee from events\n {15}\^\n/)
  t.regex(column.stderr, /hint: `sysflow query --schema`/)
  const syntax = sysflow(['select from where', V5])
  t.is(syntax.status, 2)
  t.regex(syntax.stderr, /^sysflow: error: Parser Error: syntax error at or near "where"\n\nLINE 1: select from where\n {20}\^\n$/)
})

test('no input, no SQL: usage errors with exit 2 (a missing path: exit 1)', (t) => {
  const none = sysflow(['select 1'])
  t.is(none.status, 2)
  t.is(none.stderr, 'sysflow: error: no input: give trace files, directories or globs to load, or --db FILE\n')
  const nothing = sysflow([])
  t.is(nothing.status, 2)
  t.regex(nothing.stderr, /no SQL/)
  // A path that names nothing is an input error, as for `print` (exit 1).
  const missing = sysflow(['select 1', 'no/such/file.sf'])
  t.is(missing.status, 1)
  t.regex(missing.stderr, /no\/such\/file\.sf: no such file or directory/)
  const append = sysflow(['select 1', V5, '--append'])
  t.is(append.status, 2)
  t.regex(append.stderr, /--db/)
  const out = sysflow(['select 1', V5, '--out', 'x.xlsx'])
  t.is(out.status, 2)
  t.regex(out.stderr, /unknown extension/)
})

test('--db round trip: load in one process, query in another, same answers', (t) =>
  withTempDir((dir) => {
    const db = path.join(dir, 'traces.duckdb')
    const queries = [
      'select type, count(*), min(ts), max(ts), sum(flow_rbytes) from events group by type order by type',
      'select proc_exe, pproc_exe, proc_aname, container_name, pod_name, file_path, file_newpath from events order by ts, type',
      'select * from processes order by oid_hpid, ts',
      'select oid, path, trace from files order by ts, path',
    ]
    const load = sysflow([queries[0], V5, '--db', db, '-o', 'json'])
    t.is(load.status, 0, load.stderr)
    t.true(fs.existsSync(db))
    for (const q of queries) {
      const memory = sysflow([q, V5, '-o', 'json'])
      const again = sysflow([q, '--db', db, '-o', 'json'])
      t.is(again.status, 0, again.stderr)
      t.is(again.stdout, memory.stdout, q)
    }
    t.is(load.stdout, sysflow([queries[0], '--db', db, '-o', 'json']).stdout)
    // Loading other traces without --append is refused; with it, the rows add up.
    const refused = sysflow(['select 1', V4, '--db', db])
    t.is(refused.status, 2)
    t.is(refused.stderr, `sysflow: error: ${db} already holds traces: add --append to add ${V4}, or leave out the trace paths to query what it holds\n`)
    const appended = sysflow(['select count(*) as n, count(distinct trace) as traces from headers', V4, '--db', db, '--append', '-o', 'csv'])
    t.is(appended.status, 0, appended.stderr)
    t.is(appended.stdout, 'n,traces\n2,2\n')
    const counts = sysflow(['select count(*) from events', '--db', db, '-o', 'csv'])
    const v5 = Number(sysflow(['select count(*) from events', V5, '-o', 'csv']).stdout.split('\n')[1])
    const v4 = Number(sysflow(['select count(*) from events', V4, '-o', 'csv']).stdout.split('\n')[1])
    t.is(Number(counts.stdout.split('\n')[1]), v5 + v4)
    // A database file that is not ours is refused.
    const other = path.join(dir, 'other.duckdb')
    const r = sysflow(['create table x (a int)', V5, '--db', other])
    t.is(r.status, 0, r.stderr)
    const reopened = sysflow(['select 1', '--db', other])
    t.is(reopened.status, 0, 'the file holds our tables (and x)')
    const missing = sysflow(['select 1', '--db', path.join(dir, 'nope.duckdb')])
    t.is(missing.status, 2)
    t.regex(missing.stderr, /nope\.duckdb: no such database file/)
  }))

test('--db remembers the traces it holds: a repeat is skipped with a note (--append or not), --force loads it again', (t) =>
  withTempDir(async (dir) => {
    const db = path.join(dir, 'traces.duckdb')
    const n = (r: {stdout: string}) => Number(r.stdout.split('\n')[1])
    const count = 'select count(*) from events'
    const v5 = n(sysflow([count, V5, '-o', 'csv']))
    const v4 = n(sysflow([count, V4, '-o', 'csv']))
    t.true(v5 > 5 && v4 > 5)
    const note = (file: string) => `sysflow: note: ${db} already holds ${file}: not loaded again (--force loads it anyway)\n`
    const first = sysflow([count, V5, '--db', db, '-o', 'csv'])
    t.is(first.status, 0, first.stderr)
    t.is(first.stderr, '')
    t.is(n(first), v5)
    // --append of the same trace: nothing added (it was 2 x v5 before).
    const again = sysflow([count, V5, '--db', db, '--append', '-o', 'csv'])
    t.is(again.status, 0, again.stderr)
    t.is(again.stderr, note(V5))
    t.is(n(again), v5)
    // The same command line run twice queries what the database holds.
    const rerun = sysflow([count, V5, '--db', db, '-o', 'csv'])
    t.is(rerun.status, 0, rerun.stderr)
    t.is(rerun.stderr, note(V5))
    t.is(n(rerun), v5)
    // A copy under another name is the same trace (size and the hash of its first 64 KiB); a new one is loaded,
    // and an input given twice is loaded once.
    const copy = path.join(dir, 'copy.sf')
    fs.copyFileSync(V5, copy)
    const mixed = sysflow([count, copy, V4, V4, '--db', db, '--append', '-o', 'csv'])
    t.is(mixed.status, 0, mixed.stderr)
    t.is(mixed.stderr, `sysflow: note: ${db} already holds ${copy}, ${V4}: not loaded again (--force loads them anyway)\n`)
    t.is(n(mixed), v5 + v4)
    // --force loads it all the same.
    const forced = sysflow([count, V5, '--db', db, '--append', '--force', '-o', 'csv'])
    t.is(forced.status, 0, forced.stderr)
    t.is(forced.stderr, '')
    t.is(n(forced), 2 * v5 + v4)
    const sources = sysflow(['select path, size, length(head_sha256) as h, loaded_at is not null as t from sysflow_sources order by loaded_at', '--db', db, '-o', 'csv'])
    t.is(sources.stdout, `path,size,h,t\n${V5},${fs.statSync(V5).size},64,true\n${V4},${fs.statSync(V4).size},64,true\n${V5},${fs.statSync(V5).size},64,true\n`)
    // A trace that changed at a path the database loaded (still being written, replaced) is refused: loading it
    // again would repeat the records it held then.
    const live = path.join(dir, 'live.sf')
    fs.copyFileSync(V4, live)
    const db2 = path.join(dir, 'live.duckdb')
    t.is(sysflow(['select 1', live, '--db', db2]).status, 0)
    fs.copyFileSync(V5, live)
    const changed = sysflow([count, live, '--db', db2, '--append', '-o', 'csv'])
    t.is(changed.status, 2)
    t.is(changed.stderr, `sysflow: error: ${live} changed since ${db2} loaded it (${fs.statSync(V4).size} -> ${fs.statSync(V5).size} bytes): loading it again would repeat the records it held then; --force loads it anyway\n`)
    const changedForced = sysflow([count, live, '--db', db2, '--append', '--force', '-o', 'csv'])
    t.is(changedForced.status, 0, changedForced.stderr)
    t.is(n(changedForced), v4 + v5)
  }))

test('--out writes the result with COPY: parquet, csv, json, ndjson', (t) =>
  withTempDir(async (dir) => {
    const q = 'select type, ts, time, proc_exe, pod_services from events order by ts'
    for (const ext of ['parquet', 'csv', 'json', 'ndjson']) {
      const file = path.join(dir, `out.${ext}`)
      const r = sysflow([q, V5, '--out', file])
      t.is(r.status, 0, r.stderr)
      t.is(r.stdout, '')
      t.true(fs.statSync(file).size > 0, ext)
    }
    const inst = await DuckDBInstance.create(':memory:')
    const c = await inst.connect()
    try {
      const p = await c.runAndReadAll(`select type, ts, time, typeof(ts), typeof(time) from '${path.join(dir, 'out.parquet')}' order by ts limit 1`)
      const [[type, ts, , tsType, timeType]] = p.getRows()
      t.deepEqual([type, ts, tsType, timeType], ['PF', 1700000000123457789n, 'BIGINT', 'TIMESTAMP_NS'])
      const [[n]] = (await c.runAndReadAll(`select count(*) from '${path.join(dir, 'out.parquet')}'`)).getRows()
      t.is(Number(n), 11)
    } finally {
      c.closeSync()
      inst.closeSync()
    }
    t.regex(fs.readFileSync(path.join(dir, 'out.csv'), 'utf8'), /^type,ts,time,proc_exe,pod_services\nPF,1700000000123457789,/)
    const json = fs.readFileSync(path.join(dir, 'out.json'), 'utf8')
    t.regex(json, /^\[/)
    t.is(JSON.parse(json).length, 11)
    t.is(fs.readFileSync(path.join(dir, 'out.ndjson'), 'utf8').trim().split('\n').length, 11)
  }))

test('--schema lists the tables, their columns and types', (t) => {
  const r = sysflow(['--schema', '-o', 'csv'])
  t.is(r.status, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  t.is(lines[0], 'table,column,type')
  const events = lines.filter((l) => l.startsWith('events,'))
  t.deepEqual(events, EVENT_COLUMNS.map((c) => `events,${c.name},${duckdbType(c.type).includes(',') ? `"${duckdbType(c.type)}"` : duckdbType(c.type)}`))
  const tables = [...new Set(lines.slice(1).map((l) => l.split(',')[0]))]
  t.deepEqual(tables, ['events', 'headers', 'processes', 'files', 'containers', 'pods', 'k8s_events'])
  t.true(lines.includes('files,oid,VARCHAR'))
  t.true(lines.includes('processes,oid_create_ts,BIGINT'))
  t.true(lines.includes('k8s_events,message,JSON'))
  const table = sysflow(['--schema'])
  t.regex(table.stdout, /│ events +│ pod_services +│ JSON +│/)
  t.notRegex(table.stdout, /·/, 'every row is shown')
})

test('a damaged trace: what was read loads, the error is reported, exit 1', (t) =>
  withTempDir((dir) => {
    const bytes = fs.readFileSync(path.resolve('test/fixtures/multiblock.sf'))
    const cut = path.join(dir, 'cut.sf')
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 40))
    const r = sysflow(['select count(*) as n from events', cut, V5, '-o', 'csv'])
    t.is(r.status, 1)
    t.regex(r.stderr, /^sysflow: error: .*cut\.sf: byte \d+: /m)
    t.true(Number(r.stdout.split('\n')[1]) > 11, r.stdout)
  }))

test('--strict: the first damaged block ends the load, nothing of it is kept (exit 1)', (t) =>
  withTempDir((dir) => {
    const bytes = fs.readFileSync(path.resolve('test/fixtures/multiblock.sf'))
    const cut = path.join(dir, 'cut.sf')
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 40))
    const db = path.join(dir, 'x.duckdb')
    const r = sysflow(['select count(*) from events', V5, cut, '--strict', '--db', db])
    t.is(r.status, 1)
    t.regex(r.stderr, /^sysflow: error: .*cut\.sf: byte \d+: /m)
    t.is(r.stdout, '')
    const after = sysflow(['select count(*) as n from events', '--db', db, '-o', 'csv'])
    t.is(after.stdout, 'n\n0\n', 'the load was rolled back')
  }))
