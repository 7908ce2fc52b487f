// Result rendering and SQL helpers, without a trace: the box table's layout rules, exact JSON values, CSV quoting,
// statement splitting.
import test from 'ava'
import {DuckDBInstance} from '@duckdb/node-api'
import {boxTable, renderResult, resultSource, splitStatements, TextSink, typeLabel, OutputFormat} from '../src/query/index.js'

async function render(sql: string, format: OutputFormat, extra: {maxRows?: number; width?: number; all?: boolean} = {}): Promise<string> {
  const inst = await DuckDBInstance.create(':memory:')
  const c = await inst.connect()
  try {
    let text = ''
    const sink: TextSink = {write: (s) => void (text += s)}
    await renderResult(resultSource(await c.stream(sql)), sink, {format, ...extra})
    return text
  } finally {
    c.closeSync()
    inst.closeSync()
  }
}

test('JSON values are exact: int64, hugeint, decimals, nanosecond timestamps, nested lists and structs', async (t) => {
  const text = await render(`select 9223372036854775807::BIGINT a, -170141183460469231731687303715884105727::HUGEINT b, 1.50::DECIMAL(10,2) c,
    make_timestamp_ns(-1) d, [[1, 2], NULL]::BIGINT[][] e, {'x': 'y', 'z': NULL} f, '{"k": [1, 2.5]}'::JSON g, 'NaN'::DOUBLE h, 'a"b\\c' i, map {'k': 2} j`, 'ndjson')
  t.is(text, '{"a":9223372036854775807,"b":-170141183460469231731687303715884105727,"c":1.50,"d":"1969-12-31 23:59:59.999999999","e":[[1,2],null],"f":{"x":"y","z":null},"g":{"k": [1, 2.5]},"h":null,"i":"a\\"b\\\\c","j":{"k":2}}\n')
})

test('CSV quotes what needs quoting and leaves NULL empty', async (t) => {
  t.is(await render(`select 'a,b' x, 'say "hi"' y, 'line\nbreak' z, NULL w, ' pad' v, 'plain' u`, 'csv'), 'x,y,z,w,v,u\n"a,b","say ""hi""","line\nbreak",," pad",plain\n')
})

test('Markdown escapes pipes and control characters', async (t) => {
  t.is(await render(`select 'a|b' x, 'c\nd' y, 1.5::DOUBLE z`, 'markdown'), '| x | y | z |\n|---|---|---:|\n| a\\|b | c\\nd | 1.5 |\n')
})

test('table: numbers right-aligned, text left, names and types centred; control characters escaped', async (t) => {
  t.is(await render(`select 42 as n, 'x\ty' as s, 2.0::DOUBLE as d`, 'table'), [
    '┌───────┬─────────┬────────┐',
    '│   n   │    s    │   d    │',
    '│ int32 │ varchar │ double │',
    '├───────┼─────────┼────────┤',
    '│    42 │ x\\ty    │    2.0 │',
    '├───────┴─────────┴────────┤',
    '│ 1 row                    │',
    '└──────────────────────────┘',
    '',
  ].join('\n'))
})

test('table: an empty result has its header and "0 rows"; a narrow one widens for its footer', async (t) => {
  const text = await render('select 1 as a where false', 'table')
  t.is(text, '┌────────┐\n│   a    │\n│ int32  │\n├────────┤\n│ 0 rows │\n└────────┘\n')
  const many = await render('select 1 as a from range(12345)', 'table', {maxRows: 4})
  t.regex(many, /│ 12,345 rows \(4 shown\) │/)
  for (const line of many.trimEnd().split('\n')) t.is(Array.from(line).length, Array.from(many.split('\n')[0]).length)
})

test('boxTable leaves out middle columns that do not fit and says so', (t) => {
  const names = Array.from({length: 12}, (_, i) => `column_${i}`)
  const text = boxTable(names, names.map(() => 'varchar'), names.map(() => false), [names.map((n) => `${n}-value`)], [], false, 1, 60)
  const lines = text.trimEnd().split('\n')
  for (const l of lines) t.true(Array.from(l).length <= 60, l)
  t.regex(lines[1], /column_0/)
  t.regex(lines[1], /column_11/)
  t.regex(lines[1], /│ … │/)
  t.regex(text, /1 row  12 columns \(\d+ shown\)/)
  t.is(new Set(lines.map((l) => Array.from(l).length)).size, 1, 'every line is as wide')
})

test('type labels are DuckDB CLI style', async (t) => {
  const inst = await DuckDBInstance.create(':memory:')
  const c = await inst.connect()
  try {
    const r = await c.runAndReadAll(`select 1::BIGINT, 1::INTEGER, 1::UTINYINT, 'a', ['a'], [1::BIGINT], '{}'::JSON, make_timestamp_ns(0), 1.5::DECIMAL(4,1)`)
    t.deepEqual(r.columnTypes().map(typeLabel), ['int64', 'int32', 'uint8', 'varchar', 'varchar[]', 'int64[]', 'json', 'timestamp_ns', 'decimal(4,1)'])
  } finally {
    c.closeSync()
    inst.closeSync()
  }
})

test('splitStatements respects quotes, comments and dollar quoting', (t) => {
  t.deepEqual(splitStatements('select 1; select \';\' as "a;b"; -- x; y\n select $$;$$ /* ; */ ;;  '), ['select 1', 'select \';\' as "a;b"', '-- x; y\n select $$;$$ /* ; */'])
  t.deepEqual(splitStatements('  -- only a comment\n'), [])
  t.deepEqual(splitStatements("select 'it''s; fine'"), ["select 'it''s; fine'"])
})

test('sessions never download: extension auto-install and auto-load are off; json and parquet are built in', async (t) => {
  const {QuerySession} = await import('../src/query/index.js')
  const s = await QuerySession.open()
  try {
    const [[install, load]] = (await s.connection.runAndReadAll(`SELECT current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions')`)).getRows()
    t.deepEqual([install, load], [false, false])
    const built = (await s.connection.runAndReadAll(`SELECT extension_name FROM duckdb_extensions() WHERE loaded AND extension_name IN ('json', 'parquet') ORDER BY 1`)).getRows().map((r) => r[0])
    t.deepEqual(built, ['json', 'parquet'])
    const [[j]] = (await s.connection.runAndReadAll(`SELECT json_extract_string('{"a":[1,"x"]}'::JSON, '$.a[1]')`)).getRows()
    t.is(j, 'x')
    const os = await import('node:os')
    const file = `${os.tmpdir()}/sysflow-offline-${process.pid}.parquet`
    await s.connection.run(`COPY (SELECT 42::BIGINT AS a) TO '${file}' (FORMAT parquet)`)
    const [[a]] = (await s.connection.runAndReadAll(`SELECT a FROM '${file}'`)).getRows()
    t.is(a, 42n)
    ;(await import('node:fs')).rmSync(file, {force: true})
  } finally {
    s.close()
  }
})
