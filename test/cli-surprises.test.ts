// Issue 16, what a new user trips over, through the real CLI: --limit 0, one overwrite rule, partial output after
// damage, one voice for errors (parser, unknown command, unwritable output, colour), swapped query arguments, and
// the convert summary's wording.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import test from 'ava'
import {runCli} from './helpers/cli.js'
import {tinyTrace, TINY_FILEFLOWS} from './helpers/tiny-trace.js'

const v5 = 'test/fixtures/v5.sf'
const V5_EVENTS = 11
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-surprises-'))
test.after.always(() => fs.rmSync(tmp, {recursive: true, force: true}))
let n = 0
const fresh = (name: string) => {
  const d = path.join(tmp, String(n++))
  fs.mkdirSync(d)
  return path.join(d, name)
}

// --- 1. --limit 0 --------------------------------------------------------------------------------------------------

for (const format of ['str', 'table', 'json', 'flatjson']) {
  test(`print --limit 0 -o ${format} writes nothing`, (t) => {
    const r = runCli(['print', v5, '--limit', '0', '-o', format])
    t.is(r.status, 0, r.stderr)
    t.is(r.stdout, '')
  })
}

test('print --limit 0 -o csv writes the header only', (t) => {
  const r = runCli(['print', v5, '--limit', '0', '-o', 'csv'])
  t.is(r.status, 0)
  t.is(r.lines.length, 1)
  t.true(r.stdout.startsWith('version,type,'))
})

test('print --limit 1 still writes exactly one record', (t) => {
  t.is(runCli(['print', v5, '--limit', '1', '-o', 'flatjson']).lines.length, 1)
})

for (const ext of ['ndjson', 'json', 'flatjson', 'csv', 'sf', 'arrow', 'parquet']) {
  test(`convert --limit 0 to .${ext} writes no event and says so`, (t) => {
    const out = fresh(`x.${ext}`)
    const r = runCli(['convert', v5, '--limit', '0', '-o', out])
    t.is(r.status, 0, r.stderr)
    t.regex(r.stderr, /from 1 input; wrote 0 events and flows /)
    // Nothing written as far as records go: read back through print (csv/json formats: no record line).
    if (ext === 'sf' || ext === 'ndjson' || ext === 'json' || ext === 'flatjson') {
      const back = ext === 'sf' ? runCli(['print', out, '-o', 'flatjson']).stdout : fs.readFileSync(out, 'utf8')
      t.is(back, '')
    } else if (ext === 'csv') {
      t.is(fs.readFileSync(out, 'utf8').split('\r\n').filter(Boolean).length, 1)
    } else if (ext === 'parquet') {
      const q = runCli(['query', `select count(*) as n from '${out}'`, v5, '-o', 'csv'])
      t.is(q.stdout.trim().split('\n').pop(), '0')
    } else {
      t.true(fs.statSync(out).size > 0, 'a valid, empty Arrow file')
    }
  })
}

// --- 4. one overwrite rule -------------------------------------------------------------------------------------------

test('print -w refuses an existing file without --force (exit 2, file untouched) and replaces it with --force', (t) => {
  const out = fresh('p.json')
  fs.writeFileSync(out, 'keep me')
  const r = runCli(['print', v5, '-w', out])
  t.is(r.status, 2)
  t.is(r.stderr, `sysflow: error: ${out}: output exists already (use --force to replace it)\n`)
  t.is(fs.readFileSync(out, 'utf8'), 'keep me')
  const f = runCli(['print', v5, '-w', out, '--force'])
  t.is(f.status, 0, f.stderr)
  t.is(fs.readFileSync(out, 'utf8').trim().split('\n').length, V5_EVENTS)
})

test('query --out refuses an existing file without --force and replaces it with --force', (t) => {
  const out = fresh('q.csv')
  fs.writeFileSync(out, 'keep me')
  const r = runCli(['query', 'select count(*) as n from events', v5, '--out', out])
  t.is(r.status, 2)
  t.is(r.stderr, `sysflow: error: ${out}: output exists already (use --force to replace it)\n`)
  t.is(fs.readFileSync(out, 'utf8'), 'keep me')
  const f = runCli(['query', 'select count(*) as n from events', v5, '--out', out, '--force'])
  t.is(f.status, 0, f.stderr)
  t.is(fs.readFileSync(out, 'utf8'), `n\n${V5_EVENTS}\n`)
})

test('capture -o refuses an existing file without --force, before reading anything', (t) => {
  const out = fresh('c.sf')
  fs.writeFileSync(out, 'keep me')
  // The .scap does not exist: the output check comes first.
  const r = runCli(['capture', '-r', path.join(tmp, 'missing.scap'), '-o', out])
  t.is(r.status, 2)
  t.is(r.stderr, `sysflow: error: ${out}: output exists already (use --force to replace it)\n`)
  t.is(fs.readFileSync(out, 'utf8'), 'keep me')
  const f = runCli(['capture', '-r', path.join(tmp, 'missing.scap'), '-o', out, '--force'])
  t.not(f.stderr, r.stderr, '--force gets past the overwrite check')
})

test('capture -o x.parquet is refused with the convert command that writes it', (t) => {
  const out = fresh('x.parquet')
  const r = runCli(['capture', '-r', 'in.scap', '-o', out])
  t.is(r.status, 2)
  t.is(r.stderr, `sysflow: error: capture writes .sf files, not parquet: sysflow convert in.scap -o ${out}\n`)
  t.false(fs.existsSync(out))
  const live = runCli(['capture', '-o', out])
  t.is(live.stderr, 'sysflow: error: capture writes .sf files, not parquet: capture to a .sf file, then sysflow convert it\n')
})

// --- 5. partial output after damage ---------------------------------------------------------------------------------

test('convert of a damaged trace keeps what was recovered and says the output is partial (exit 1)', async (t) => {
  const tiny = await tinyTrace()
  const bad = Buffer.from(tiny.bytes)
  const b = tiny.container.blocks[2]
  // 0xff starts a deflate block of the reserved type 3: block 2 cannot be inflated and is skipped.
  bad[b.payloadOffset] = 0xff
  bad[b.payloadOffset + 1] = 0xff
  const input = fresh('damaged.sf')
  fs.writeFileSync(input, bad)
  for (const ext of ['ndjson', 'parquet', 'sf']) {
    const out = path.join(path.dirname(input), `out.${ext}`)
    const r = runCli(['convert', input, '-o', out])
    t.is(r.status, 1, r.stderr)
    const lost = tiny.flowsPerBlock[2]
    t.regex(r.stderr, new RegExp(`wrote ${TINY_FILEFLOWS - lost} events and flows`))
    const last = r.errLines[r.errLines.length - 1]
    t.regex(last, new RegExp(`^sysflow: warning: ${out.replace(/[.]/g, '\\.')} is partial: 1 damaged part skipped \\(\\d+ bytes, ${lost} records\\); the rest was converted$`))
    t.true(fs.existsSync(out))
  }
  const file = path.join(path.dirname(input), 'printed.json')
  const printed = runCli(['print', input, '-o', 'flatjson', '-w', file])
  t.is(printed.status, 1)
  t.is(fs.readFileSync(file, 'utf8').trim().split('\n').length, TINY_FILEFLOWS - tiny.flowsPerBlock[2])
  t.regex(printed.errLines[printed.errLines.length - 1], new RegExp(`^sysflow: warning: ${file.replace(/[.]/g, '\\.')} is partial: 1 damaged part skipped \\(\\d+ bytes, \\d+ records\\); the rest was printed$`))
  t.is(runCli(['print', input, '-o', 'flatjson']).errLines.length, 1, 'to stdout the warning itself is enough')
  // A sound trace has no such line.
  const ok = runCli(['convert', v5, '-o', fresh('ok.ndjson')])
  t.is(ok.status, 0)
  t.false(ok.stderr.includes('partial'))
})

// --- 7. one voice for errors -----------------------------------------------------------------------------------------

const oneLine = (t: import('ava').ExecutionContext, r: ReturnType<typeof runCli>, code: number, line: string) => {
  t.is(r.status, code, r.stderr)
  t.is(r.stderr, `sysflow: error: ${line}\n`)
}

test('an unknown flag is one line with the closest flag, exit 2, no usage dump', (t) => {
  oneLine(t, runCli(['print', v5, '--colr', 'never']), 2, 'unknown flag: --colr (did you mean --color?)')
  oneLine(t, runCli(['convert', v5, '-o', 'x.csv', '--forse']), 2, 'unknown flag: --forse (did you mean --force?)')
})

test('a bad flag value is one line, exit 2', (t) => {
  oneLine(t, runCli(['print', v5, '-o', 'xyz']), 2, "--output: 'xyz' is not one of: str, table, json, flatjson, csv")
  oneLine(t, runCli(['print', v5, '--limit', 'abc']), 2, '--limit: expected an integer but received: abc')
  oneLine(t, runCli(['print', v5, '--limit=-1']), 2, '--limit: expected an integer greater than or equal to 0 but received: -1')
  oneLine(t, runCli(['convert', v5]), 2, 'missing required flag --output')
  oneLine(t, runCli(['capture', '-r', 'x.scap', '-o', 'x.sf', '--mode', 'foo']), 2, "--mode: 'foo' is not one of: flow, consume, nofiles")
})

test('an unknown command suggests the closest one; help CMD works', (t) => {
  oneLine(t, runCli(['prnt', v5]), 2, "'prnt' is not a sysflow command; did you mean 'print'? (sysflow help lists them)")
  const h = runCli(['help', 'print'])
  t.is(h.status, 0, h.stderr)
  t.is(h.stdout, runCli(['print', '--help']).stdout)
  t.regex(h.stdout, /^USAGE\n {2}\$ sysflow print/m)
})

test('an output in a missing directory is the same usage error for print -w and convert', (t) => {
  oneLine(t, runCli(['print', v5, '-w', '/nonexistent/x.csv']), 2, '/nonexistent: no such directory')
  oneLine(t, runCli(['convert', v5, '-o', '/nonexistent/x.csv']), 2, '/nonexistent: no such directory')
  oneLine(t, runCli(['query', 'select 1', v5, '--out', '/nonexistent/x.csv']), 2, '/nonexistent: no such directory')
  oneLine(t, runCli(['capture', '-r', 'x.scap', '-o', '/nonexistent/x.sf']), 2, '/nonexistent: no such directory')
})

test('--color never (space form) leaves error text uncoloured when stderr is not a terminal', (t) => {
  // Without NO_COLOR: oclif's colour library took a bare `--color` for "force colour".
  const r = runCli(['print', v5, '--color', 'never', '-o', 'xyz'], {env: {NO_COLOR: undefined, FORCE_COLOR: undefined}})
  t.is(r.status, 2)
  t.false(r.stderr.includes('\x1b'), JSON.stringify(r.stderr))
  const h = runCli(['print', '--help', '--color', 'never'], {env: {NO_COLOR: undefined, FORCE_COLOR: undefined}})
  t.false(h.stdout.includes('\x1b'), 'help is plain too')
  // The space form still means what it says for the data.
  const c = runCli(['print', v5, '-o', 'str', '--color', 'never', '--limit', '1'], {env: {NO_COLOR: undefined}})
  t.false(c.stdout.includes('\x1b'))
  const a = runCli(['print', v5, '-o', 'str', '--color', 'always', '--limit', '1'], {env: {NO_COLOR: undefined}})
  t.true(a.stdout.includes('\x1b['))
})

// --- 9. smaller ------------------------------------------------------------------------------------------------------

test('query with the SQL and the trace swapped says so', (t) => {
  oneLine(t, runCli(['query', v5, 'select count(*) from events']), 2, `the SQL comes first, then the traces: sysflow query "select count(*) from events" ${v5}`)
  oneLine(t, runCli(['query', 'select 1', 'select 2', v5]), 2, "'select 2' is in the place of a trace path but reads like SQL: give one SQL argument first, then the traces")
  // A file whose name starts like SQL is still a trace path.
  const odd = fresh('select x.sf')
  fs.copyFileSync(v5, odd)
  const r = runCli(['query', 'select count(*) as n from events', odd, '-o', 'csv'])
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout, `n\n${V5_EVENTS}\n`)
})

test('the convert summary names events and flows apart from headers and entities', (t) => {
  const out = fresh('s.parquet')
  const r = runCli(['convert', v5, '-o', out])
  t.is(r.status, 0, r.stderr)
  t.regex(r.stderr, new RegExp(`^converted: read 20 records \\(11 events and flows \\+ 9 headers and entities\\) from 1 input; wrote 11 events and flows as rows to ${out.replace(/[.]/g, '\\.')} in \\d+\\.\\d\\d s\\n$`))
  const sf = fresh('s.sf')
  const s = runCli(['convert', v5, '-o', sf, '-f', 'sf.type = FF'])
  t.regex(s.stderr, /; wrote \d+ events and flows with \d+ header and entity records they reference to /)
})

test('npm link installs cleanly: no install-time script for npm to hold back (npm 11 warns about each)', (t) => {
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as {scripts: Record<string, string>}
  t.deepEqual(Object.keys(pkg.scripts).filter((s) => /^(pre|post)?(install|prepare)$/.test(s)), [])
})

test('convert --strict on a damaged trace stops, leaves no file, and says nothing was written', async (t) => {
  const tiny = await tinyTrace()
  const bad = Buffer.from(tiny.bytes)
  const b = tiny.container.blocks[2]
  bad[b.payloadOffset] = 0xff
  bad[b.payloadOffset + 1] = 0xff
  const input = fresh('damaged.sf')
  fs.writeFileSync(input, bad)
  const out = path.join(path.dirname(input), 'out.parquet')
  const r = runCli(['convert', input, '-o', out, '--strict'])
  t.is(r.status, 1, r.stderr)
  t.is(r.errLines.length, 2, r.stderr)
  t.regex(r.errLines[0], /^sysflow: error: .*damaged\.sf: /)
  t.is(r.errLines[1], `sysflow: warning: nothing was written to ${out}: the conversion stopped at the error above (--strict stops at the first damaged block; without it damaged parts are skipped)`)
  t.deepEqual(fs.readdirSync(path.dirname(input)), ['damaged.sf'])
})

test('an unknown flag far from every flag gets no suggestion', (t) => {
  oneLine(t, runCli(['print', v5, '--bogus']), 2, 'unknown flag: --bogus')
})
