// Golden outputs of every print format on the project's fixtures, with width and colour pinned. A changed output
// fails here; after checking the change by eye, refresh with SYSFLOW_UPDATE_GOLDEN=1 npx ava dist/test/print-golden.test.js.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import {fileInput} from '../src/format/reader.js'
import {chooseColumns, PrintFormat, printRecords, PrintOptions} from '../src/format/printers/print.js'

const fixtures = path.resolve('test/fixtures')
const golden = path.resolve('test/golden')
const update = process.env.SYSFLOW_UPDATE_GOLDEN === '1'

async function render(fixture: string, opts: PrintOptions): Promise<string> {
  const chunks: Buffer[] = []
  await printRecords([fileInput(path.join(fixtures, fixture))], {write: (b) => void chunks.push(Buffer.from(b))}, opts)
  return Buffer.concat(chunks).toString('utf8')
}

const cases: [string, string, PrintOptions][] = [
  ['v5.str', 'v5.sf', {format: 'str'}],
  ['v5-k.str', 'v5.sf', {format: 'str', columns: chooseColumns('str', {pods: true})}],
  ['v5-K.str', 'v5.sf', {format: 'str', columns: chooseColumns('str', {k8sEvents: true})}],
  ['v5-wide.str', 'v5.sf', {format: 'str', termColumns: 200, columns: chooseColumns('str', {fields: ['ts', 'type', 'proc.exe', 'file.path', 'net.dip', 'ret']})}],
  ['v5-color.str', 'v5.sf', {format: 'str', color: true}],
  ['v5.table', 'v5.sf', {format: 'table', termColumns: 120}],
  ['v5-narrow.table', 'v5.sf', {format: 'table', termColumns: 80}],
  ['v5-wide.table', 'v5.sf', {format: 'table', termColumns: 200}],
  ['v5-color.table', 'v5.sf', {format: 'table', termColumns: 120, color: true}],
  ['v5.json', 'v5.sf', {format: 'json'}],
  ['v5.flatjson', 'v5.sf', {format: 'flatjson'}],
  ['v5.csv', 'v5.sf', {format: 'csv'}],
  ['v5-c.csv', 'v5.sf', {format: 'csv', columns: chooseColumns('csv', {fields: ['ts_uts', 'type', 'proc.exe', 'proc.args', 'pod.services', 'k8s.msg']})}],
  ['v1000.flatjson', 'v1000.sf', {format: 'flatjson'}],
  ['hostile.str', 'hostile.sf', {format: 'str', termColumns: 200}],
  ['hostile.table', 'hostile.sf', {format: 'table', termColumns: 160}],
  ['hostile.flatjson', 'hostile.sf', {format: 'flatjson', columns: chooseColumns('flatjson', {fields: ['type', 'proc.exe', 'proc.args', 'file.path']})}],
  ['hostile.csv', 'hostile.sf', {format: 'csv', columns: chooseColumns('csv', {fields: ['type', 'proc.exe', 'proc.args', 'file.path']})}],
]

for (const [name, fixture, opts] of cases) {
  test(`golden ${name} (${opts.format} of ${fixture})`, async (t) => {
    const out = await render(fixture, opts)
    const file = path.join(golden, name)
    if (update) fs.writeFileSync(file, out)
    t.is(out, fs.readFileSync(file, 'utf8'))
  })
}

test('hostile strings: no raw control character reaches str or table output', async (t) => {
  for (const format of ['str', 'table'] as PrintFormat[]) {
    const out = await render('hostile.sf', {format, termColumns: 400})
    // Only the table's own newlines and (none here: colour off) escapes may appear.
    // eslint-disable-next-line no-control-regex
    t.false(/[\u0000-\u0009\u000b-\u001f\u007f]/.test(out), format)
    // str cuts long values to their last characters, as sysprint does; the table shows them whole at this width.
    t.true(out.includes(format === 'str' ? '\\x07\\0tab\\there' : '\\e[31mred\\e[0m\\r\\n\\x07\\0tab\\there'), format)
  }
})

test('csv quotes fields with commas, quotes and line breaks (RFC 4180)', async (t) => {
  const out = await render('hostile.sf', {format: 'csv', columns: chooseColumns('csv', {fields: ['proc.exe']})})
  const lines = out.split('\r\n')
  t.is(lines[0], 'proc.exe')
  t.true(out.includes('"/tmp/\u001b[31mred\u001b[0m\r\n\u0007\u0000tab\there"'))
})

test('limit, since and until select exact records', async (t) => {
  const all = (await render('v5.sf', {format: 'flatjson'})).trim().split('\n')
  t.is(all.length, 11)
  t.is((await render('v5.sf', {format: 'flatjson', limit: 3})).trim().split('\n').length, 3)
  // Fixture times are T0 + n µs with T0 = 1700000000123456789; since T0+20µs (the NF) until T0+40µs (curl's exit).
  const window = (await render('v5.sf', {format: 'flatjson', since: 1_700_000_000_123_476_789n, until: 1_700_000_000_123_496_789n})).trim().split('\n')
  t.deepEqual(window.map((l) => JSON.parse(l).type), ['NF', 'NE', 'FE', 'FE'])
})

test('an unknown field is an error that suggests close names', (t) => {
  const e = t.throws(() => chooseColumns('csv', {fields: ['proc.exe', 'proc.exee']}))
  t.is(e?.message, "unknown field 'proc.exee' (did you mean proc.exe?); 'sysflow print --list' shows them all")
})
