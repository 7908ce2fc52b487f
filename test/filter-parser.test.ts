// The policy condition language: syntax errors (exact column and message), caret output, suggestions, the shape
// of parsed trees, rules files (lists, macros, folded conditions, cycles, line numbers), and a fuzz test.
import path from 'node:path'
import test from 'ava'
import {caretLine, compileFilter, FilterNode, FilterSyntaxError, parseFilter, parseRules, RulesError} from '../src/format/filter/index.js'
import {Joined} from '../src/format/join.js'
import {joinedBatches} from '../src/format/pipeline.js'
import {resolveInputs} from '../src/format/inputs.js'
import {Rng} from './helpers/prng.js'

function syntaxError(expr: string, rules?: ReturnType<typeof parseRules>): FilterSyntaxError {
  try {
    parseFilter(expr, {rules})
  } catch (e) {
    if (e instanceof FilterSyntaxError) return e
    throw e
  }
  throw new Error(`no error for ${JSON.stringify(expr)}`)
}

// --- syntax errors: [expression, 0-based column, message] ------------------------------------------------------

const ERRORS: [string, number, string][] = [
  ['', 0, 'empty filter expression'],
  ['   ', 0, 'empty filter expression'],
  ['# only a comment', 0, 'empty filter expression'],
  ['sf.type = PE PE', 13, "unexpected 'PE' after a complete condition (missing 'and' or 'or'?)"],
  ['sf.type = PE AND sf.ret = 0', 13, "unexpected 'AND' after a complete condition (operators are lower case: 'and')"],
  ['(sf.type = PE', 13, "missing ')' to close the '(' at column 1"],
  ['(sf.type = PE and (sf.ret = 0)', 30, "missing ')' to close the '(' at column 1"],
  ['sf.type = PE)', 12, "unexpected ')' (no matching '(')"],
  ['(sf.type = PE))', 14, "unexpected ')' (no matching '(')"],
  ['(sf.type = PE sf.ret = 0)', 14, "expected ')', 'and' or 'or', found 'sf.ret'"],
  ['sf.type =', 9, "missing value after '='"],
  ['sf.type = )', 10, "missing value after '=', found ')'"],
  ['sf.type = and', 10, "missing value after '=' (found keyword 'and'; quote a value that is a keyword)"],
  ['sf.proc.name = exists', 15, "missing value after '=' (found keyword 'exists'; quote a value that is a keyword)"],
  ['and sf.type = PE', 0, "missing condition before 'and'"],
  ['sf.type = PE and', 16, "missing condition after 'and'"],
  ['sf.type = PE or or', 16, "missing condition after 'or', found 'or'"],
  ['not', 3, "missing condition after 'not'"],
  ['not not', 7, "missing condition after 'not'"],
  ['()', 1, 'empty parentheses'],
  ['sf.type = PE and ()', 18, 'empty parentheses'],
  ['( and sf.type = PE)', 2, "missing condition after '(', found 'and'"],
  ['= PE', 0, "missing attribute before '='"],
  ['contains x', 0, "missing attribute before 'contains'"],
  ['exists', 0, "missing attribute before 'exists'"],
  [', x', 0, "expected a condition, found ','"],
  ['sf.type in ()', 12, "empty list after 'in'"],
  ['sf.type pmatch ()', 16, "empty list after 'pmatch'"],
  ['sf.type in (a b)', 14, "expected ',' or ')', found 'b'"],
  ['sf.type in a', 11, "expected '(' after 'in'"],
  ['sf.type in (a,', 14, 'expected a list item, found the end'],
  ['sf.type in (a, and)', 15, "expected a list item, found 'and' (quote a value that is a keyword)"],
  ['sf.type in (a, [b, c)', 20, "expected ',' or ']', found ')'"],
  ['sf.type in (PE, NF', 18, "missing ')' to close the '(' at column 12"],
  ['sf.proc.exee = x', 0, "unknown attribute 'sf.proc.exee' (did you mean sf.proc.exe?)"],
  ['sf.type = PE and sf.net.dprot = 80', 17, "unknown attribute 'sf.net.dprot' (did you mean sf.net.dport?)"],
  ['proc.exee = x', 0, "unknown attribute 'proc.exee' (did you mean proc.exe?)"],
  ['sf.pod.servics[0.clusterip.0] = x', 0, "unknown attribute 'sf.pod.servics' (did you mean sf.pod.services?)"],
  ['zzzzzz exists', 0, "unknown attribute 'zzzzzz'"],
  ['foo', 0, "unknown macro 'foo'"],
  ['sf.type = PE and sf.proc.exe', 17, "'sf.proc.exe' needs an operator (e.g. 'sf.proc.exe exists' or 'sf.proc.exe = value')"],
  ['/bin/sh', 0, "expected a condition, found '/bin/sh'"],
  ['"x"', 3, `expected an operator after '"x"'`],
  ['sf.type PE', 8, "expected an operator after 'sf.type', found 'PE'"],
  ['sf.type IN (PE)', 8, "expected an operator after 'sf.type', found 'IN' (operators are lower case: 'in')"],
  ['sf.type == PE', 8, "unexpected '==' (the equality operator is '=')"],
  ['sf.type ! PE', 8, "unexpected '!' (did you mean '!=' or 'not'?)"],
  ['sf.type = "PE', 10, 'unterminated string'],
  ["sf.type = 'PE\" or x", 10, 'unterminated string'],
  ['sf.type = $x', 10, "unexpected character '$' (quote values that contain it)"],
  ['sf.type = PE ,', 13, "unexpected ',' after a complete condition (missing 'and' or 'or'?)"],
  ['sf.proc.exe[0] = x', 11, "'sf.proc.exe' is not a JSON or list attribute: it takes no [...] suffix"],
  ['sf.proc.aname[x] = 1', 14, "a list attribute takes a numeric index, e.g. 'sf.proc.aname[1]'"],
  ['sf.proc.aname < 3', 0, "'<' compares integers and 'sf.proc.aname' is a list (index it, e.g. 'sf.proc.aname[0]', or use 'in')"],
  ['sf.ret >= sf.proc.apid', 10, "'>=' compares integers and 'sf.proc.apid' is a list (index it, e.g. 'sf.proc.apid[0]', or use 'in')"],
  ['sf.pod.services[0.*] = x', 18, "wildcards ('*') are not supported in JSON paths"],
  ['sf.pod.services[0..a] = x', 18, "empty step in JSON path (two '.' in a row, or a '.' at an end)"],
  ['sf.pod.services[0.a.] = x', 20, "empty step in JSON path (a '.' at the end)"],
  ['sf.ke.message[items|0] = x', 19, "pipes ('|') are not supported in JSON paths"],
  ['sf.ke.message[@this] = x', 14, "modifiers ('@') are not supported in JSON paths"],
  ['sf.ke.message[items.#(name=x)] = x', 20, "queries ('#(...)') are not supported in JSON paths"],
  ['sf.ke.message[] = x', 14, 'empty JSON path'],
  ['sf.pod.services[0.a = x', 15, "unclosed '[' in a name (a JSON path suffix ends with ']')"],
  ['sf.pod.services[0]x = 1', 18, "malformed suffix on 'sf.pod.services': one '[...]' at the end of the name"],
  // Literals an attribute can never hold (issue 16): they selected nothing, or everything, in silence.
  ['sf.opflags = EXECC', 13, "sf.opflags: 'EXECC' is not an operation flag (did you mean EXEC?)"],
  ['sf.type = PE and sf.opflags != exec', 31, "sf.opflags: 'exec' is not an operation flag (did you mean EXEC?)"],
  ['sf.opflags in (EXEC, CLONE, EXITT)', 28, "sf.opflags: 'EXITT' is not an operation flag (did you mean EXIT?)"],
  ['sf.opflags = "EXEC,SETUIDD"', 13, "sf.opflags: 'SETUIDD' is not an operation flag (did you mean SETUID?)"],
  ['sf.opflags[0] = EXC', 16, "sf.opflags[0]: 'EXC' is not an operation flag (did you mean EXEC?)"],
  ['sf.opflags contains EXECC', 20, "sf.opflags: no operation flag contains 'EXECC' (one of: MKDIR, RMDIR, LINK, SYMLINK, UNLINK, RENAME, CLONE, EXEC, EXIT, SETUID, OPEN, ACCEPT, CONNECT, CLOSE, WRITE, SEND, READ, RECV, SETNS, MMAP, SHUTDOWN, TRUNCATE, DIGEST)"],
  ['sf.opflags in (WRITE_SEND)', 15, "sf.opflags: 'WRITE_SEND' is not an operation flag (did you mean WRITE, SEND?)"],
  ['sf.file.openflags = O_CREAT', 20, "sf.file.openflags: 'O_CREAT' is not an open flag (did you mean CREAT?)"],
  ['sf.type = pe', 10, "sf.type: 'pe' is not a record type (did you mean PE?)"],
  ['type in (PE, XX)', 13, "type: 'XX' is not a record type (did you mean FE, FF, KE?)"],
  ['sf.type pmatch (Q)', 16, "sf.type: no record type contains 'Q' (one of: PE, PF, NF, FF, FE, NE, KE)"],
  ['sf.type startswith X', 19, "sf.type: no record type starts with 'X' (one of: PE, PF, NF, FF, FE, NE, KE)"],
  ['state = CREATE', 8, "state: 'CREATE' is not a state (did you mean CREATED?)"],
  ['sf.container.type = CT_DOCKER', 20, "sf.container.type: 'CT_DOCKER' is not a container type (did you mean DOCKER?)"],
  ['sf.ke.kind = PODS', 13, "sf.ke.kind: 'PODS' is not a K8s component type (did you mean K8S_PODS?)"],
  ['sf.ke.action = K8S_COMPONENT_ADD', 15, "sf.ke.action: 'K8S_COMPONENT_ADD' is not a K8s event action (did you mean K8S_COMPONENT_ADDED?)"],
  ['sf.type = ""', 10, "sf.type: '' is not a record type (one of: PE, PF, NF, FF, FE, NE, KE)"],
  ['sf.proc.tty != ""', 15, "sf.proc.tty: '' is not a boolean (one of: true, false)"],
  ['sf.proc.tty = yes', 14, "sf.proc.tty: 'yes' is not a boolean (one of: true, false)"],
  ['sf.file.is_open_write = 1', 24, "sf.file.is_open_write: '1' is not a boolean (one of: true, false)"],
  ['sf.file.type = file', 15, "sf.file.type: 'file' is not one character (f file, d directory, 4/6 IP socket, u unix socket, p pipe, ? unknown)"],
  ['sf.proc.pid > abc', 14, "sf.proc.pid: 'abc' is not an integer"],
  ['sf.ret <= "x"', 10, "sf.ret: 'x' is not an integer"],
  ['"abc" < sf.ret', 0, "sf.ret: 'abc' is not an integer"],
  ['sf.proc.exe > abc', 14, "'abc' is not an integer (<, <=, >, >= compare integers)"],
  ['sf.pod.services[0.portlist.0.port] > x', 37, "'x' is not an integer (<, <=, >, >= compare integers)"],
  ['sf.net.dport = http', 15, "sf.net.dport: 'http' is not an integer"],
  ['sf.net.dport in (80, https)', 21, "sf.net.dport: 'https' is not an integer"],
  ['sf.proc.apid in (1, x)', 20, "sf.proc.apid: 'x' is not an integer"],
  ['sf.net.dport contains x', 22, "sf.net.dport: no integer's decimal text contains 'x'"],
  ['sf.net.proto = tcp', 15, "sf.net.proto: 'tcp' is not an IANA protocol number (did you mean 6?)"],
  ['sf.net.proto != quic', 16, "sf.net.proto: 'quic' is not an IANA protocol number (6 is tcp, 17 udp)"],
  ['sf.net.dport = 080', 15, "sf.net.dport: '080' never equals an integer's decimal text (did you mean 80?)"],
  ['sf.ret = "-0,4243"', 9, "sf.ret: '-0' never equals an integer's decimal text (did you mean 0?)"],
  ['sf.ret = ""', 9, 'sf.ret: the empty value never equals an integer'],
  ['sf.flow.rbytes > 99999999999999999999', 17, "sf.flow.rbytes: '99999999999999999999' is out of the int64 range"],
  ['sf.ts > yesterday', 8, "sf.ts: 'yesterday' is neither nanoseconds since the epoch nor an ISO-8601 time"],
  ['sf.ts > 2023-13-01', 8, "sf.ts: '2023-13-01' is neither nanoseconds since the epoch nor an ISO-8601 time"],
]

const syntaxMacro = test.macro({
  exec(t, expr: string, pos: number, message: string) {
    const e = syntaxError(expr)
    t.is(e.message, message)
    t.is(e.position, pos)
    t.is(e.expression, expr)
    t.true(e instanceof FilterSyntaxError)
    // Compiling reports the same error.
    const c = t.throws(() => compileFilter(expr), {instanceOf: FilterSyntaxError})
    t.is(c?.message, message)
  },
  title: (_, expr: string, pos: number) => `syntax error at ${pos}: ${JSON.stringify(expr)}`,
})
for (const [expr, pos, msg] of ERRORS) test(syntaxMacro, expr, pos, msg)

test('nesting deeper than 256 is a syntax error, not a stack overflow', (t) => {
  const deep = '('.repeat(300) + 'sf.ret = 0' + ')'.repeat(300)
  const e = syntaxError(deep)
  t.is(e.message, 'conditions nest more than 256 deep')
  t.is(e.position, 256)
  const nots = 'not '.repeat(1000) + 'sf.ret = 0'
  t.is(syntaxError(nots).message, 'conditions nest more than 256 deep')
  t.notThrows(() => parseFilter('('.repeat(100) + 'sf.ret = 0' + ')'.repeat(100)))
})

// --- caret output ------------------------------------------------------------------------------------------------

test('caretLine: the expression, a caret under the column, the message', (t) => {
  t.is(caretLine(syntaxError('sf.type = PE and sf.proc.exee = /bin/sh')), [
    'sf.type = PE and sf.proc.exee = /bin/sh',
    '                 ^',
    "unknown attribute 'sf.proc.exee' (did you mean sf.proc.exe?)",
  ].join('\n'))
  t.is(caretLine(syntaxError('(sf.type = PE')), ['(sf.type = PE', '             ^', "missing ')' to close the '(' at column 1"].join('\n'))
  t.is(caretLine(syntaxError('sf.type =\tPE PE')), ['sf.type =\tPE PE', '         \t   ^', "unexpected 'PE' after a complete condition (missing 'and' or 'or'?)"].join('\n'))
  // Multi-line text: only the line holding the position.
  t.is(caretLine(syntaxError('sf.type = PE\n  and sf.ret = \n')), ['  and sf.ret = ', '               ^', "missing value after '='"].join('\n'))
})

test('caretLine of a rules file error shows the file line and file:line:column', (t) => {
  const e = t.throws(() => parseRules('- macro: m\n  condition: >\n    sf.type = PE\n    and sf.proc.exee = x\n', 'p.yaml'), {instanceOf: RulesError}) as RulesError
  t.is(caretLine(e), ['    and sf.proc.exee = x', '        ^', "p.yaml:4:9: in macro 'm': unknown attribute 'sf.proc.exee' (did you mean sf.proc.exe?)"].join('\n'))
})

test('literal checks keep every valid use valid: quoted numbers, IPs, zero values, substrings, ISO times', (t) => {
  const ok: [string, string][] = [
    ['sf.proc.pid = "123"', 'sf.proc.pid = "123"'],
    ['sf.ret < "0"', 'sf.ret < "0"'],
    ['sf.ret > "-1"', 'sf.ret > "-1"'],
    ['sf.ret = "-2,4243"', 'sf.ret = "-2,4243"'],
    ['sf.net.dport in (80, "443", 8080)', 'sf.net.dport in ["80","443","8080"]'],
    ['sf.net.dport startswith 80', 'sf.net.dport startswith "80"'],
    ['sf.net.sip = 127.0.0.1', 'sf.net.sip = "127.0.0.1"'],
    ['sf.net.ip in (10.96.0.12, 172.17.0.16)', 'sf.net.ip in ["10.96.0.12","172.17.0.16"]'],
    ['sf.net.proto = 6', 'sf.net.proto = "6"'],
    ['sf.opflags contains WRIT', 'sf.opflags contains "WRIT"'],
    ['sf.opflags icontains exec', 'sf.opflags icontains "exec"'],
    ['sf.opflags = ""', 'sf.opflags = ""'],
    ['sf.opflags in (SEND, RECV, READ, WRITE)', 'sf.opflags in ["SEND","RECV","READ","WRITE"]'],
    ['sf.file.openflags = "RDWR,NONE"', 'sf.file.openflags = "RDWR,NONE"'],
    ['sf.type in (PE, PF, NF, FF, FE, NE, KE)', 'sf.type in ["PE","PF","NF","FF","FE","NE","KE"]'],
    ['sf.type endswith E', 'sf.type endswith "E"'],
    ['state = REUP', 'state = "REUP"'],
    ['sf.container.type in (DOCKER, CRIO, "")', 'sf.container.type in ["DOCKER","CRIO",""]'],
    ['sf.ke.kind = K8S_PODS and sf.ke.action startswith K8S_COMPONENT_', 'and(sf.ke.kind = "K8S_PODS", sf.ke.action startswith "K8S_COMPONENT_")'],
    ['sf.proc.tty = false', 'sf.proc.tty = "false"'],
    ['sf.proc.tty > 0', 'sf.proc.tty > "0"'],
    ['sf.file.type in (f, d, "?")', 'sf.file.type in ["f","d","?"]'],
    ['sf.proc.aname[1] = bash', 'sf.proc.aname[1] = "bash"'],
    ['sf.pod.services[0.portlist.0.port] > 1000', 'sf.pod.services[0/portlist/0/port] > "1000"'],
    ['sf.proc.name = PE', 'sf.proc.name = "PE"'],
    ['sf.proc.pid = sf.pproc.pid', 'sf.proc.pid = sf.pproc.pid'],
    ['"xEXECCx" contains sf.opflags', '"xEXECCx" contains sf.opflags'],
    // ISO-8601 times on time attributes are nanoseconds, exactly (as --since/--until).
    ['sf.ts >= 2023-11-14T22:13:20.123476789Z', 'sf.ts >= "1700000000123476789"'],
    ['ts < "2023-11-14 22:13:21+01:00"', 'sf.ts < "1699996401000000000"'],
    ['sf.proc.createts = 2023-11-14', 'sf.proc.createts = "1699920000000000000"'],
  ]
  for (const [expr, shape] of ok) t.is(show(parseFilter(expr)), shape, expr)
})

test('rules files: a bad literal names the macro, the rule or the list it came from', (t) => {
  const at = (text: string) => {
    const e = t.throws(() => parseRules(text, 'p.yaml'), {instanceOf: RulesError}) as RulesError
    return [e.line, e.position, e.message]
  }
  t.deepEqual(at('- list: ops\n  items: [EXEC, EXECC]\n- macro: m\n  condition: sf.opflags in (ops)\n'),
    [4, 28, "p.yaml:4:29: in macro 'm': sf.opflags: 'EXECC' is not an operation flag (did you mean EXEC?); the item is from list 'ops'"])
  t.deepEqual(at('- rule: Shell run\n  desc: x\n  condition: >\n    sf.type = PE\n    and sf.opflags = EXECC\n  priority: HIGH\n'),
    [5, 21, "p.yaml:5:22: in rule 'Shell run': sf.opflags: 'EXECC' is not an operation flag (did you mean EXEC?)"])
  t.deepEqual(at('- filter: noise\n  condition: sf.proc.pid > abc\n'), [2, 27, "p.yaml:2:28: in filter 'noise': sf.proc.pid: 'abc' is not an integer"])
  // Other rule mistakes are reported too, with the rule's name.
  t.deepEqual(at('- rule: r\n  condition: sf.proc.exee = x\n'), [2, 13, "p.yaml:2:14: in rule 'r': unknown attribute 'sf.proc.exee' (did you mean sf.proc.exe?)"])
  // A rule's parsed condition is kept.
  const rs = parseRules('- macro: m\n  condition: sf.type = PE\n- rule: r\n  condition: m and sf.opflags = EXEC\n', 'ok.yaml')
  t.is(show(rs.rules[0].ast!), 'and({m: sf.type = "PE"}, sf.opflags = "EXEC")')
})

// --- tree shapes -------------------------------------------------------------------------------------------------

/** A compact rendering of a tree: attribute operands by canonical name, literals quoted. */
function show(n: FilterNode): string {
  const op = (o: Extract<FilterNode, {type: 'cmp'}>['left']) => (o.kind === 'attr' ? `${o.attr.sf ?? o.attr.key}${o.path ? `[${o.path.path.slice(1).join('/')}${o.path.count ? '#' : ''}]` : ''}${o.index !== undefined ? `[${o.index}]` : ''}` : JSON.stringify(o.value))
  switch (n.type) {
    case 'and': case 'or': return `${n.type}(${n.items.map(show).join(', ')})`
    case 'not': return `not(${show(n.item)})`
    case 'cmp': return `${op(n.left)} ${n.op} ${op(n.right)}`
    case 'exists': return `${op(n.operand)} exists`
    case 'in': case 'pmatch': return `${op(n.operand)} ${n.type} ${JSON.stringify(n.items)}`
    case 'macro': return `{${n.name}: ${show(n.body)}}`
  }
}

const SHAPES: [string, string][] = [
  ['sf.type = PE or sf.type = NF and not sf.ret = 0', 'or(sf.type = "PE", and(sf.type = "NF", not(sf.ret = "0")))'],
  ['not sf.type = PE and sf.ret = 0', 'and(not(sf.type = "PE"), sf.ret = "0")'],
  ['not (sf.type = PE and sf.ret = 0)', 'not(and(sf.type = "PE", sf.ret = "0"))'],
  ['(sf.type = PE or sf.type = NF) and sf.ret = 0', 'and(or(sf.type = "PE", sf.type = "NF"), sf.ret = "0")'],
  ["sf.proc.exe = '/bin/sh'", 'sf.proc.exe = "/bin/sh"'],
  [`sf.proc.exe = "'/bin/sh'"`, `sf.proc.exe = "'/bin/sh'"`],
  ['sf.proc.exe=/bin/sh', 'sf.proc.exe = "/bin/sh"'],
  ['sf.proc.exe = ./server', 'sf.proc.exe = "./server"'],
  ['sf.proc.pid = sf.pproc.pid', 'sf.proc.pid = sf.pproc.pid'],
  ['sf.proc.name = proc.name', 'sf.proc.name = sf.proc.name'],
  ['sf.proc.name = type', 'sf.proc.name = "type"'],
  ['type = PE', 'sf.type = "PE"'],
  ['ts > 5 and endts < 7', 'and(sf.ts > "5", sf.endts < "7")'],
  ['"PE" = sf.type', '"PE" = sf.type'],
  ['123 = sf.ret', '"123" = sf.ret'],
  ['sf.ret = -2', 'sf.ret = "-2"'],
  ['sf.container.image = nginx:1.25', 'sf.container.image = "nginx:1.25"'],
  ['sf.file.path startswith /tmp/*x', 'sf.file.path startswith "/tmp/*x"'],
  ['sf.opflags in (EXEC, "CLONE", [EXIT, SETUID])', 'sf.opflags in ["EXEC","CLONE","EXIT","SETUID"]'],
  ['sf.proc.exe pmatch (bash)', 'sf.proc.exe pmatch ["bash"]'],
  ['sf.proc.tty exists', 'sf.proc.tty exists'],
  ['sf.pod.services[0.clusterip.0] = 10.0.0.1', 'sf.pod.services[0/clusterip/0] = "10.0.0.1"'],
  ['sf.ke.message[items.#] > 0', 'sf.ke.message[items#] > "0"'],
  ['sf.ke.message[items.#.namespace] = x', 'sf.ke.message[items/*/namespace] = "x"'],
  ['sf.pod.labels[app\\.kubernetes\\.io/name] = web', 'sf.pod.labels[app.kubernetes.io/name] = "web"'],
  ['sf.proc.aname[1] = bash', 'sf.proc.aname[1] = "bash"'],
  ['sf.proc.exe = sf.pod.services[0.name]', 'sf.proc.exe = sf.pod.services[0/name]'],
  ['sf.proc.exe = foo[bar]', 'sf.proc.exe = "foo[bar]"'],
  ['sf.type = PE # a comment\n and sf.ret = 0', 'and(sf.type = "PE", sf.ret = "0")'],
  ['sf.type=PE and(sf.ret<0 or not sf.ret>=1)', 'and(sf.type = "PE", or(sf.ret < "0", not(sf.ret >= "1")))'],
]

for (const [expr, shape] of SHAPES) {
  test(`parses ${JSON.stringify(expr)}`, (t) => {
    t.is(show(parseFilter(expr)), shape)
  })
}

test('one leading and one trailing quote are trimmed, whatever they are', (t) => {
  const lit = (expr: string) => {
    const n = parseFilter(expr)
    if (n.type !== 'cmp' || n.right.kind !== 'lit') throw new Error('not a literal comparison')
    return n.right.value
  }
  t.is(lit(`sf.proc.exe = "a b"`), 'a b')
  t.is(lit(`sf.proc.exe = 'a "b"'`), 'a "b"')
  t.is(lit(`sf.proc.exe = ''`), '')
  t.is(lit(`sf.proc.exe = "'x'"`), "'x'")
})

// --- rules files ---------------------------------------------------------------------------------------------------

const POLICY = `# A policy in the processor's style.
- required_engine_version: 2

- list: binaries
  items: [/usr/bin/python, bash, "quoted, item", 'single']   # a trailing comment

- list: more
  items:
    - binaries
    - "binaries"
    - /bin/sh

- list: multi
  items: [a, b,
          c,
          ]

- macro: exec_of_binaries
  condition: sf.proc.exe in (more) and is_exec

- macro: is_exec
  condition: >
    sf.type = PE
    and sf.opflags = EXEC   # kept in the condition, a comment for the lexer

- macro: file_ops
  condition: sf.type = FF
    or sf.type = FE

- macro: quoted
  condition: "sf.proc.exe = '/bin/sh'"

- rule: Binaries run
  desc: a long
    description
  condition: exec_of_binaries and not file_ops
  output: "Run %sf.proc.exe"
  priority: HIGH
  tags: [mitre, exec]
  prefilter: [PE]
  exceptions:
    - name: x
      fields: [a, b]

- filter: noise
  condition: sf.proc.name = sleep
`

test('rules: lists (flow, block, multi-line), nested list names expand, quoted names do not', (t) => {
  const rs = parseRules(POLICY, 'policy.yaml')
  t.deepEqual([...rs.lists.keys()], ['binaries', 'more', 'multi'])
  t.deepEqual(rs.list('binaries'), ['/usr/bin/python', 'bash', 'quoted, item', 'single'])
  t.deepEqual(rs.list('more'), ['/usr/bin/python', 'bash', 'quoted, item', 'single', 'binaries', '/bin/sh'])
  t.deepEqual(rs.list('multi'), ['a', 'b', 'c'])
  t.is(rs.lists.get('more')!.line, 7)
  t.deepEqual(rs.lists.get('more')!.items.map((i) => i.line), [9, 10, 11])
  t.is(rs.list('nope'), undefined)
})

test('rules: macros (single line, folded, plain continued, quoted) and their line numbers', (t) => {
  const rs = parseRules(POLICY, 'policy.yaml')
  t.deepEqual([...rs.macros.keys()], ['exec_of_binaries', 'is_exec', 'file_ops', 'quoted'])
  t.is(rs.macros.get('is_exec')!.condition, 'sf.type = PE\nand sf.opflags = EXEC   # kept in the condition, a comment for the lexer')
  t.is(rs.macros.get('file_ops')!.condition, 'sf.type = FF\nor sf.type = FE')
  t.is(rs.macros.get('quoted')!.condition, "sf.proc.exe = '/bin/sh'")
  t.deepEqual([...rs.macros.values()].map((m) => m.line), [18, 21, 26, 30])
  t.is(show(parseFilter('exec_of_binaries or file_ops', {rules: rs})),
    'or({exec_of_binaries: and(sf.proc.exe in ["/usr/bin/python","bash","quoted, item","single","binaries","/bin/sh"], {is_exec: and(sf.type = "PE", sf.opflags = "EXEC")})}, {file_ops: or(sf.type = "FF", sf.type = "FE")})')
  t.is(show(parseFilter('sf.proc.exe pmatch (multi, x)', {rules: rs})), 'sf.proc.exe pmatch ["a","b","c","x"]')
  t.is(show(parseFilter('quoted', {rules: rs})), '{quoted: sf.proc.exe = "/bin/sh"}')
})

test('rules: rules and filters are kept with name, condition, properties and tags; ignored entries are skipped', (t) => {
  const rs = parseRules(POLICY, 'policy.yaml')
  t.is(rs.rules.length, 2)
  const r = rs.rules[0]
  t.like(r, {kind: 'rule', name: 'Binaries run', condition: 'exec_of_binaries and not file_ops', line: 33, file: 'policy.yaml'})
  t.deepEqual(r.tags, ['mitre', 'exec'])
  t.deepEqual(r.props, {desc: 'a long description', output: 'Run %sf.proc.exe', priority: 'HIGH', tags: 'mitre, exec', prefilter: 'PE', exceptions: 'name: x'})
  t.like(rs.rules[1], {kind: 'filter', name: 'noise', condition: 'sf.proc.name = sleep', line: 45})
})

test('rules: a macro in an expression that uses no rules file is an unknown macro, with suggestions from the file', (t) => {
  t.is(syntaxError('is_exec').message, "unknown macro 'is_exec'")
  const rs = parseRules(POLICY, 'policy.yaml')
  t.is(syntaxError('is_exce and sf.ret = 0', rs).message, "unknown macro 'is_exce' (did you mean is_exec?)")
})

test('rules: macros and lists may be used before they are defined; append extends them', (t) => {
  const rs = parseRules([
    '- macro: late',
    '  condition: sf.proc.name in (names) and early',
    '- macro: early',
    '  condition: sf.type = PE',
    '- list: names',
    '  items: [a]',
    '- list: names',
    '  items: [b]',
    '  append: true',
    '- macro: early',
    '  condition: or sf.type = NF',
    '  append: true',
  ].join('\n'), 'late.yaml')
  t.is(show(parseFilter('late', {rules: rs})), '{late: and(sf.proc.name in ["a","b"], {early: or(sf.type = "PE", sf.type = "NF")})}')
})

test('rules: a second file adds to the same set and its errors name it', (t) => {
  const rs = parseRules('- list: shells\n  items: [bash]\n', 'a.yaml')
  parseRules('- macro: sh\n  condition: sf.proc.name in (shells)\n', 'b.yaml', rs)
  t.is(show(parseFilter('sh', {rules: rs})), '{sh: sf.proc.name in ["bash"]}')
  const e = t.throws(() => parseRules('\n- macro: bad\n  condition: sf.proc.name in (shells) and\n', 'c.yaml', rs), {instanceOf: RulesError}) as RulesError
  t.is(e.message, "c.yaml:3:42: in macro 'bad': missing condition after 'and'")
})

// [name, text, line, column (0-based), message]
const RULE_ERRORS: [string, string, number, number, string][] = [
  ['a macro cycle', '- macro: a\n  condition: sf.type = PE and b\n- macro: b\n  condition: >\n    sf.ret = 0\n    or a\n', 6, 7, "in macro 'b': macro cycle: a -> b -> a"],
  ['a macro that uses itself', '- macro: a\n  condition: not a\n', 2, 17, "in macro 'a': macro cycle: a -> a"],
  ['a list cycle', '- list: a\n  items: [b]\n- list: b\n  items: [x, a]\n', 1, 0, 'list cycle: a -> b -> a'],
  ['an unknown attribute in a folded condition', '- list: l\n  items: [x]\n\n- macro: m\n  condition: >\n    sf.type = PE\n    and sf.proc.exee in (l)\n', 7, 8, "in macro 'm': unknown attribute 'sf.proc.exee' (did you mean sf.proc.exe?)"],
  ['an unknown macro', '- macro: a\n  condition: sf.type = PE and spawned_proces\n- macro: spawned_process\n  condition: sf.opflags = EXEC\n', 2, 30, "in macro 'a': unknown macro 'spawned_proces' (did you mean spawned_process?)"],
  ['a syntax error in a quoted condition', `- macro: q\n  condition: "sf.proc.exe = '/bin/sh' and"\n`, 2, 41, "in macro 'q': missing condition after 'and'"],
  ['a line that is no entry', '- list: l\n  items: [x]\nfoo: bar\n', 3, 0, "expected an entry such as '- rule:', '- macro:' or '- list:'"],
  ['a list without items', '- list: l\n- macro: m\n  condition: sf.type = PE\n', 1, 2, "list 'l' has no items"],
  ['items that are not a list', '- list: l\n  items: x\n', 2, 9, "the items of list 'l' must be a list ([a, b] or '- a' lines)"],
  ['an unknown entry', '- macor: m\n  condition: x\n', 1, 2, "unknown entry 'macor' (expected rule, macro, list, filter, drop or required_engine_version)"],
  ['an unknown property', '- macro: m\n  conditon: sf.type = PE\n', 2, 2, "unknown property 'conditon' in a macro (expected condition or append)"],
  ['a property given twice', '- macro: m\n  condition: sf.type = PE\n  condition: sf.type = NF\n', 3, 2, "'condition' given twice in this macro"],
  ['an empty list item', '- list: a\n  items: [x, , y]\n', 2, 13, 'empty item in list'],
  ['an unclosed list', '- list: a\n  items: [x, y\n- macro: b\n  condition: sf.type = PE\n', 2, 9, "unclosed '[': the list has no ']'"],
  ['a nested list', '- list: a\n  items: [x, [y]]\n', 2, 13, 'nested lists are not supported in items (name another list instead)'],
  ['an empty condition', '- macro: a\n  condition:\n- list: b\n  items: []\n', 2, 12, "macro 'a' has an empty condition"],
  ['a misaligned property', '- macro: a\n  condition: sf.type = PE\n append: true\n', 3, 1, 'expected a property of the macro at column 3 (key: value)'],
  ['an entry at another indentation', '  - list: a\n    items: [x]\n- list: b\n  items: [y]\n', 3, 0, 'entries must start at column 3, like the first one'],
  ['an unterminated quoted value', '- macro: a\n  condition: "sf.type = PE\n', 2, 13, 'unterminated or malformed quoted value (a quoted value must end on its line)'],
  ['a bad macro name', '- macro: a b\n  condition: sf.type = PE\n', 1, 9, "'a b' is not a valid macro name (letters, digits, '_', '-', '.')"],
  ['tab indentation', '- macro: a\n\tcondition: sf.type = PE\n', 2, 0, 'tabs cannot indent a rules file (use spaces)'],
]

for (const [name, text, line, col, message] of RULE_ERRORS) {
  test(`rules error: ${name} -> file:${line}:${col + 1}`, (t) => {
    const e = t.throws(() => parseRules(text, 'bad.yaml'), {instanceOf: RulesError}) as RulesError
    t.is(e.problem, message)
    t.is(e.file, 'bad.yaml')
    t.is(e.line, line)
    t.is(e.position, col)
    t.is(e.message, `bad.yaml:${line}:${col + 1}: ${message}`)
    t.is(e.expression, text.split('\n')[line - 1])
    t.true(e instanceof FilterSyntaxError, 'a rules error is a syntax error (exit 2)')
  })
}

// --- fuzz ----------------------------------------------------------------------------------------------------------

const ATOMS = [
  'sf.type', 'sf.proc.exe', 'sf.proc.aname', 'sf.proc.aname[1]', 'sf.proc.apid', 'sf.ret', 'sf.ts', 'sf.net.dport', 'sf.net.sip',
  'sf.opflags', 'sf.file.openflags', 'sf.file.is_open_write', 'sf.pod.services[0.clusterip.0]', 'sf.ke.message[items.#]',
  'sf.ke.message[items.0.namespace]', 'sf.pod.internalip[0]', 'sf.pod.hostip', 'sf.proc.tty', 'proc.exe', 'type', 'ts',
  'PE', 'NF', 'FF', 'EXEC', 'WRITE', '80', '-2', '0', '10.96.0.12', '/bin/bash', './server', 'nginx:1.25', 'bash',
  '"quoted value"', "'single'", '""', '"a,b"', 'unknown_name', 'sf.nope', 'shells', 'is_exec', '[', ']', 'x[0]',
]
const OPS = ['=', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'startswith', 'endswith', 'in', 'pmatch', 'exists']
const PUNCT = ['(', ')', ',', 'and', 'or', 'not', '#', '\n', '==', '!', '$', '"', "'", '[']

const FUZZ_RULES = parseRules('- list: shells\n  items: [bash, sh]\n- macro: is_exec\n  condition: sf.type = PE and sf.opflags = EXEC\n', 'fuzz.yaml')

/** A random expression: mostly well-formed trees, with random token soup and character damage mixed in. */
function randomExpr(rng: Rng, depth = 0): string {
  const r = rng.next()
  if (depth > 4 || r < 0.35) {
    const a = rng.pick(ATOMS)
    const op = rng.pick(OPS)
    if (op === 'exists') return `${a} exists`
    if (op === 'in' || op === 'pmatch') return `${a} ${op} (${Array.from({length: rng.int(0, 3)}, () => rng.pick(ATOMS)).join(', ')})`
    return `${a} ${op} ${rng.pick(ATOMS)}`
  }
  if (r < 0.5) return `not ${randomExpr(rng, depth + 1)}`
  if (r < 0.65) return `(${randomExpr(rng, depth + 1)})`
  if (r < 0.85) return `${randomExpr(rng, depth + 1)} ${rng.pick(['and', 'or'])} ${randomExpr(rng, depth + 1)}`
  // token soup
  return Array.from({length: rng.int(1, 8)}, () => rng.pick([...ATOMS, ...OPS, ...PUNCT])).join(rng.pick([' ', '', '  ']))
}

function damage(rng: Rng, s: string): string {
  if (s.length === 0 || rng.next() < 0.6) return s
  const i = rng.int(0, s.length - 1)
  switch (rng.int(0, 2)) {
    case 0: return s.slice(0, i) + s.slice(i + 1)
    case 1: return s.slice(0, i) + rng.pick(['(', ')', '"', "'", ',', '[', ']', '=', ' ', '#', '\\', '.', '\u00e9']) + s.slice(i)
    default: return s.slice(0, i)
  }
}

const FIXTURE = path.resolve(process.cwd(), 'test/fixtures/v5.sf')

const SEED = 20240611
test(`fuzz (seed ${SEED}): 3000 random expressions compile or throw FilterSyntaxError, and compiled ones run`, async (t) => {
  const records: Joined[] = []
  for await (const b of joinedBatches(resolveInputs([FIXTURE]))) records.push(...b)
  t.true(records.length > 5)
  const rng = new Rng(SEED)
  let compiled = 0
  let rejected = 0
  const started = Date.now()
  for (let k = 0; k < 3000; k++) {
    const expr = damage(rng, randomExpr(rng))
    const rules = rng.next() < 0.5 ? FUZZ_RULES : undefined
    const t0 = Date.now()
    try {
      const f = compileFilter(expr, {rules})
      for (const j of records) {
        const v = f(j)
        if (typeof v !== 'boolean') t.fail(`${JSON.stringify(expr)} returned ${typeof v}`)
      }
      compiled++
    } catch (e) {
      if (!(e instanceof FilterSyntaxError)) {
        t.fail(`${JSON.stringify(expr)} threw ${String(e)}`)
        return
      }
      if (!(e.position >= 0 && e.position <= expr.length)) t.fail(`${JSON.stringify(expr)}: position ${e.position} outside the text`)
      if (caretLine(e).split('\n').length !== 3) t.fail(`${JSON.stringify(expr)}: caret output is not three lines`)
      rejected++
    }
    if (Date.now() - t0 > 1000) t.fail(`${JSON.stringify(expr)} took over a second`)
  }
  // Since literals are checked against their attribute (sf.type = EXEC is an error), fewer random atoms compile.
  t.true(compiled > 350, `only ${compiled} compiled`)
  t.true(rejected > 500, `only ${rejected} rejected`)
  t.true(Date.now() - started < 60_000)
})

const RULES_SEED = 7
test(`fuzz (seed ${RULES_SEED}): 1500 damaged rules files parse or throw FilterSyntaxError`, (t) => {
  const rng = new Rng(RULES_SEED)
  const pieces = ['- ', ':', '[', ']', ',', '"', "'", '#', '\n', '  ', '>', '|', '\t', 'macro', 'list', 'items', 'condition', 'append: true', 'sf.type = PE', '- x']
  let ok = 0
  let rejected = 0
  for (let k = 0; k < 1500; k++) {
    let text = POLICY
    for (let m = rng.int(1, 4); m > 0; m--) {
      const i = rng.int(0, text.length - 1)
      const op = rng.int(0, 2)
      if (op === 0) text = text.slice(0, i) + text.slice(i + rng.int(1, 12))
      else if (op === 1) text = text.slice(0, i) + rng.pick(pieces) + text.slice(i)
      else text = text.slice(0, i) + text.slice(rng.int(0, text.length - 1), rng.int(0, text.length)) + text.slice(i)
    }
    const t0 = Date.now()
    try {
      const rs = parseRules(text, 'fuzz.yaml')
      for (const name of rs.macros.keys()) compileFilter(name, {rules: rs})
      ok++
    } catch (e) {
      if (!(e instanceof FilterSyntaxError)) {
        t.fail(`${JSON.stringify(text)} threw ${String(e)}`)
        return
      }
      if (e instanceof RulesError && !(e.line >= 1 && e.line <= text.split('\n').length)) t.fail(`line ${e.line} outside the file`)
      rejected++
    }
    if (Date.now() - t0 > 1000) t.fail(`${JSON.stringify(text)} took over a second`)
  }
  t.true(ok > 100, `only ${ok} parsed`)
  t.true(rejected > 100, `only ${rejected} rejected`)
})
