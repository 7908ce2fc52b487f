// Tables that fit and hide nothing that matters (issue 16, items 2 and 3): the cut that keeps a value's end, the
// print table's layout and its per-entity cells, the query box's numbers and NULL-only columns, and the choice of
// table over str on a narrow terminal. Synthetic records and columns, each designed to break one rule.
import test from 'ava'
import {DuckDBInstance} from '@duckdb/node-api'
import {Attribute} from '../src/format/attributes.js'
import {Joined} from '../src/format/join.js'
import {Kind} from '../src/format/records.js'
import {cellFloor, elide} from '../src/format/printers/elide.js'
import {Column} from '../src/format/printers/json.js'
import {chooseColumns} from '../src/format/printers/print.js'
import {strLineWidth} from '../src/format/printers/str.js'
import {TablePrinter} from '../src/format/printers/table.js'
import {defaultFormat} from '../src/cli/layout.js'
import {OutputTarget} from '../src/cli/selection.js'
import {renderResult, resultSource, TextSink} from '../src/query/index.js'

const cp = (s: string) => Array.from(s).length

test('elide: paths keep their last component, so two paths under one directory stay apart', (t) => {
  t.is(elide('/usr/lib/cgi-bin/vulnerable', 14), '/u…/vulnerable')
  t.is(elide('/usr/lib/apache2/modules/mod_cgi.so', 14), '/u…/mod_cgi.so')
  // Narrower than the last component: still its end.
  t.is(elide('/usr/lib/cgi-bin/vulnerable', 8), '/…erable')
  t.is(elide('/etc/hosts', 10), '/etc/hosts')
  t.is(elide('/etc/hosts', 9), '/e…/hosts')
})

test('elide: a network resource keeps both ports and its peer; a rename keeps the end of both paths', (t) => {
  const res = '172.17.0.16:40556-10.96.0.12:80'
  t.is(cellFloor(res, 8), cp('…:40556-10.96.0.12:80'))
  t.is(elide(res, 21), '…:40556-10.96.0.12:80')
  t.is(elide(res, 25), '…0.16:40556-10.96.0.12:80')
  t.is(elide('/tmp/out.part, /tmp/out.html', 21), '/…out.part, /…ut.html')
  t.is(cellFloor('/a/very/long/path/name', 8), 8)
  // Other text keeps its start and its end; non-ASCII counts by code point.
  t.is(elide('hello world foo', 9), 'hell… foo')
  t.is(elide('αβγδεζηθικ', 5), 'αβ…ικ')
})

// --- the print table, on synthetic columns ---------------------------------------------------------------------

function col(key: string, a: Partial<Attribute>): Column {
  return {key, attr: {type: 'string', description: key, value: () => undefined, print: () => '', ...a} as Attribute}
}
interface Fake {
  ts: bigint
  proc?: object
  path?: string
  n?: bigint
}
const joined = (f: Fake): Joined => ({rec: {kind: Kind.FileFlow, ts: f.ts}, proc: f.proc, path: f.path, n: f.n} as unknown as Joined)

function table(cols: Column[], recs: Fake[], termColumns: number, chunk?: number): string {
  const p = new TablePrinter(cols, {termColumns, color: false, chunk})
  let out = ''
  recs.forEach((r, i) => (out += p.add(joined(r), i) ?? ''))
  return out + (p.flush() ?? '')
}

const T0 = 1_700_000_000_123_456_789n // 2023-11-14T22:13:20.123456789Z
const timeCol = col('ts', {type: 'time', header: 'Start Time', nanos: (j) => j.rec.ts})
const pathCol = col('file.path', {header: 'Path', print: (j) => (j as unknown as Fake).path ?? ''})
const numCol = col('n', {type: 'int64', header: 'N', print: (j) => (j as unknown as Fake).n ?? null})

test('table: times are UTC and readable, the day in the header when one day holds them all, else in each cell', (t) => {
  const one = table([timeCol], [{ts: T0}, {ts: T0 + 1n}], 80)
  t.true(one.includes('│ Start 2023-11-14 UTC │'))
  t.true(one.includes('│ 22:13:20.123456789   │'))
  t.true(one.includes('│ 22:13:20.123456790   │'))
  const two = table([timeCol], [{ts: T0}, {ts: T0 + 86_400_000_000_000n}], 80)
  t.true(two.includes('│ Start Time (UTC)              │'))
  t.true(two.includes('│ 2023-11-15 22:13:20.123456789 │'))
})

test('table: numbers are never cut; paths shrink keeping their ends; nothing is wider than the terminal', (t) => {
  const recs = [
    {ts: T0, path: '/usr/lib/apache2/modules/mod_cgi.so', n: 123456789012345678901234567890n},
    {ts: T0, path: '/usr/lib/cgi-bin/vulnerable', n: 7n},
  ]
  const out = table([timeCol, pathCol, numCol], recs, 72)
  for (const l of out.trimEnd().split('\n')) t.true(cp(l) <= 72, l)
  t.true(out.includes(' 123456789012345678901234567890 │'))
  t.true(out.includes('│ /…mod_cgi.so │'))
  t.true(out.includes('│ /…vulnerable │'))
  // With more room, the start of the path comes back first.
  const roomier = table([timeCol, pathCol, numCol], recs, 80)
  t.true(roomier.includes('│ /usr/l…es/mod_cgi.so │'))
  t.true(roomier.includes('│ /usr/l…in/vulnerable │'))
  t.false(out.includes('Left out'))
})

test('table: columns that cannot fit are left out, empty ones first, and named under the box', (t) => {
  const wide = (k: string, h: string) => col(k, {header: h, type: 'int64', print: () => 12345678901234567890n})
  const cols = [timeCol, pathCol, wide('proc.tid', 'TID'), col('container.id', {header: 'Cont ID', print: () => ''}), wide('pproc.pid', 'PPID'), numCol]
  const rec = [{ts: T0, path: '/a/rather/long/path/to/etc/hosts', n: 1n}]
  // At 100 the empty container id is enough to leave out; at 80 TID (first in the drop order) goes too.
  const lastLine = (w: number) => {
    const lines = table(cols, rec, w).trimEnd().split('\n')
    for (const l of lines) t.true(cp(l) <= w, l)
    return lines[lines.length - 1]
  }
  t.is(lastLine(100), 'Left out for width: Cont ID (empty) (choose columns with -c).')
  t.is(lastLine(80), 'Left out for width: TID, Cont ID (empty) (choose columns with -c).')
  t.true(table(cols, rec, 80).includes(' PPID │'))
  t.false(table(cols, rec, 200).includes('Left out'))
})

test('table: a process\'s cells are computed once while its records follow each other (per-entity cache)', (t) => {
  let calls = 0
  const exe = col('proc.exe', {header: 'Cmd', dep: 'proc', print: (j) => (calls++, (j.proc as unknown as {exe: string}).exe)})
  const a = {exe: '/bin/a'}
  const b = {exe: '/bin/b'}
  const recs = [a, a, a, a, b, b, a].map((proc, i) => ({ts: T0 + BigInt(i), proc}))
  const out = table([timeCol, exe], recs, 80, 3)
  t.is(calls, 3)
  t.deepEqual(out.match(/\/bin\/[ab]/g), ['/bin/a', '/bin/a', '/bin/a', '/bin/a', '/bin/b', '/bin/b', '/bin/a'])
  // Chunks of 3 rows: three boxes, each with its header.
  t.is(out.match(/┌/g)?.length, 3)
})

test('table: the default columns are sysprint\'s, with the time readable', (t) => {
  t.deepEqual(chooseColumns('table').map((c) => c.key), ['ts', 'type', 'proc.exe', 'proc.args', 'pproc.pid', 'proc.pid', 'proc.tid', 'opflags', 'res', 'flow.rbytes', 'flow.wbytes', 'container.id'])
})

// --- str or table by default ------------------------------------------------------------------------------------

test('print without -o: str when the terminal is wide enough for it, else the table; flatjson in a pipe', (t) => {
  const target = (tty: boolean, columns: number) => ({tty, columns, color: false}) as unknown as OutputTarget
  const str = chooseColumns('str')
  t.is(strLineWidth(str, 120), 246)
  t.is(defaultFormat(target(true, 80), {}), 'table')
  t.is(defaultFormat(target(true, 120), {}), 'table')
  t.is(defaultFormat(target(true, 300), {}), 'str')
  t.is(defaultFormat(target(false, 300), {}), 'flatjson')
  // Fewer columns: str fits a narrower terminal.
  t.is(defaultFormat(target(true, 120), {fields: ['ts_uts', 'type', 'proc.exe']}), 'str')
})

// --- the query box ------------------------------------------------------------------------------------------------

async function box(sql: string, width: number): Promise<string> {
  const inst = await DuckDBInstance.create(':memory:')
  const c = await inst.connect()
  try {
    let text = ''
    const sink: TextSink = {write: (s) => void (text += s)}
    await renderResult(resultSource(await c.stream(sql)), sink, {format: 'table', width})
    return text
  } finally {
    c.closeSync()
    inst.closeSync()
  }
}

test('query box: numbers and times are never cut; text keeps its end; lines fit', async (t) => {
  const out = await box(`select 168370558801234567::BIGINT a, make_timestamp_ns(1683705588012345678) ts,
    '/usr/lib/cgi-bin/vulnerable' p, 98765432109876543210::HUGEINT b`, 90)
  for (const l of out.trimEnd().split('\n')) t.true(cp(l) <= 90, l)
  t.true(out.includes('│ 168370558801234567 │'))
  t.true(out.includes('2023-05-10 07:59:48.012345678'))
  t.notRegex(out, /\d…/)
  // The text gave way, keeping its end.
  t.true(out.includes('│ /…lnerable │'))
  // Narrower, a column is left out and named; numbers stay whole.
  const narrow = await box(`select 168370558801234567::BIGINT a, make_timestamp_ns(1683705588012345678) ts, '/usr/lib/cgi-bin/vulnerable' p, 98765432109876543210::HUGEINT b`, 70)
  t.regex(narrow.replace(/ *│\n│ */g, ' '), /left out for width: ts\b/)
  t.true(narrow.includes(' 168370558801234567 ') && narrow.includes(' 98765432109876543210 '))
  t.true(out.includes('98765432109876543210'))
})

test('query box: columns NULL on every shown row give way first and are named', async (t) => {
  const sql = `select 'first column text' a, NULL::VARCHAR empty_one, 'second column text' b, NULL::BIGINT empty_two, 'third column' c`
  const out = await box(sql, 70)
  for (const l of out.trimEnd().split('\n')) t.true(cp(l) <= 70, l)
  t.regex(out.replace(/ *│\n│ */g, ' '), /NULL on every shown row: empty_one, empty_two/)
  t.true(out.includes('first column text') && out.includes('second column text') && out.includes('third column'))
  // With room, they are shown.
  t.true((await box(sql, 200)).includes('empty_one'))
})
