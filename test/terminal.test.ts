// The CLI on a real pseudo-terminal at 80 and 120 columns (no tmux: python3's pty module or util-linux `script`):
// `print` without -o, `print -o table` and the `query` box, on a fixture (pinned as goldens) and on a real trace.
// Whatever the width: no line longer than the terminal, and no path or number cut so that its end is lost.
// Refresh the goldens with SYSFLOW_UPDATE_GOLDEN=1 after checking the change by eye.
import test, {ExecutionContext} from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import {cliOnTerminal, ptyTool} from './helpers/pty.js'
import {runCli} from './helpers/cli.js'
import {sharedPath} from './helpers/shared.js'

const golden = path.resolve('test/golden')
const update = process.env.SYSFLOW_UPDATE_GOLDEN === '1'
const FIXTURE = 'test/fixtures/v5.sf'
const REAL = sharedPath('traces/collector/mpm-preforked/cold_start_capture.sf')
const QUERY = 'select ts, time, type, proc_exe, proc_args, file_path, net_sip, net_sport, net_dip, net_dport, flow_rbytes, container_id from events order by ts'
const WIDTHS = [80, 120]

/** What the terminal shows, without the query's progress line (cleared with ESC [K before the result). */
function screen(args: string[], cols: number): string {
  const r = cliOnTerminal(args, cols)
  if (r.status !== 0) throw new Error(`sysflow ${args.join(' ')} exited ${r.status}: ${r.output}`)
  const k = r.output.lastIndexOf('\u001b[K')
  return k >= 0 ? r.output.slice(k + 3) : r.output
}

const cpLength = (s: string) => Array.from(s).length

const known = new Map<string, Set<string>>()

/** Every string and number the trace holds (flatjson of every field), and the resources and times as shown. */
function traceValues(trace: string): Set<string> {
  let values = known.get(trace)
  if (values) return values
  values = new Set<string>()
  known.set(trace, values)
  const add = (v: unknown) => {
    if (typeof v === 'string' || typeof v === 'number') values!.add(String(v))
  }
  for (const l of runCli(['print', '-o', 'flatjson', '-A', trace]).lines) Object.values(JSON.parse(l)).forEach(add)
  for (const l of runCli(['print', '-o', 'flatjson', '-c', 'res,proc.args', trace]).lines) Object.values(JSON.parse(l)).forEach(add)
  // Values as the query box shows them (lists, timestamps): its CSV has the same texts.
  for (const f of csvFields(runCli(['query', '-o', 'csv', 'select * from events', trace]).stdout)) values!.add(f)
  return values
}

/** The fields of a CSV text (RFC 4180 quoting), in one list. */
function csvFields(text: string): string[] {
  const out: string[] = []
  const re = /("(?:[^"]|"")*"|[^,\n]*)(,|\n|$)/g
  for (let m = re.exec(text); m && m[0] !== ''; m = re.exec(text)) out.push(m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1])
  return out
}

/** The invariants of a fitted table on a `cols`-wide terminal. */
function checkFits(t: ExecutionContext, out: string, cols: number, values: Set<string>, what: string): void {
  const lines = out.split('\n').filter((l) => l !== '')
  t.true(lines.length > 3, what)
  for (const l of lines) t.true(cpLength(l) <= cols, `${what}: a line of ${cpLength(l)} > ${cols}: ${l}`)
  const cells = lines.filter((l) => l.startsWith('│')).flatMap((l) => l.split('│').slice(1, -1).map((c) => c.trim()))
  let cut = 0
  for (const c of cells) {
    if (!c.includes('…') || c === '…') continue // the query box's column for columns left out
    // A cut cell keeps its end: what follows the (last) ellipsis ends a value of the trace.
    const end = c.slice(c.lastIndexOf('…') + 1)
    t.true(end.length > 0, `${what}: '${c}' ends in the ellipsis`)
    t.true([...values].some((v) => v.endsWith(end) && v.length > end.length), `${what}: '${c}' does not keep the end of any value`)
    // Digits only around the cut: a number was cut.
    t.false(/^[\d…]+$/.test(c), `${what}: number cut: '${c}'`)
    cut++
  }
  t.log(`${what}: ${lines.length} lines, ${cells.length} cells, ${cut} cut`)
}

const skipNoPty = (t: ExecutionContext): boolean => {
  if (ptyTool()) return false
  t.log('SKIPPED: neither python3 (pty module) nor util-linux script is available to make a terminal')
  t.pass()
  return true
}

for (const cols of WIDTHS) {
  // Serial: each case runs the CLI a dozen times, and the machine may be shared.
  test.serial(`terminal ${cols} columns, fixture: print (default), print -o table and the query box are pinned and fit`, (t) => {
    if (skipNoPty(t)) return
    t.timeout(600_000)
    const values = traceValues(FIXTURE)
    const cases: [string, string[]][] = [
      [`pty-${cols}-print.txt`, ['print', FIXTURE]],
      [`pty-${cols}-print-table.txt`, ['print', '-o', 'table', FIXTURE]],
      [`pty-${cols}-query.txt`, ['query', QUERY, FIXTURE]],
    ]
    const outs: string[] = []
    for (const [name, args] of cases) {
      const out = screen(args, cols)
      const file = path.join(golden, name)
      if (update) fs.writeFileSync(file, out)
      t.is(out, fs.readFileSync(file, 'utf8'), name)
      checkFits(t, out, cols, values, name)
      outs.push(out)
    }
    // sysprint's str is 229 characters wide: on these terminals print chooses the table; -o str stays sysprint's.
    t.is(outs[0], outs[1])
    const str = screen(['print', '-o', 'str', FIXTURE], cols)
    t.is(str, runCli(['print', '-o', 'str', FIXTURE]).stdout)
    t.true(str.split('\n').some((l) => cpLength(l) > cols))
  })

  test.serial(`terminal ${cols} columns, real trace: print, print -o table, query box and select * fit and keep the ends`, (t) => {
    if (skipNoPty(t)) return
    t.timeout(600_000)
    if (!fs.existsSync(REAL)) {
      t.log(`SKIPPED: ${REAL} is not there`)
      t.pass()
      return
    }
    const values = traceValues(REAL)
    for (const args of [['print', REAL], ['print', '-o', 'table', REAL], ['query', QUERY, REAL], ['query', 'select * from events', REAL]]) {
      const out = screen(args, cols)
      checkFits(t, out, cols, values, `${args.slice(0, -1).join(' ')} at ${cols}`)
      if (args[0] === 'print') {
        // Every record is there with its time whole: HH:MM:SS and nine digits, under a UTC header.
        t.regex(out, /│ Start \d{4}-\d\d-\d\d UTC/)
        t.is(out.match(/│ \d\d:\d\d:\d\d\.\d{9} /g)?.length, runCli(['print', '-o', 'flatjson', REAL]).lines.length)
      }
    }
  })
}
