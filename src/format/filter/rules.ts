// Rules files: the YAML-shaped policy files of the SysFlow processor and Falco (docs/filters.md §Rules files).
//
//   - list: shells                      items: a flow list `[a, b, "c"]` (may run over several lines) or a block
//     items: [bash, sh, "zsh"]                 sequence of `- item` lines
//   - macro: spawned_shell              condition: one line, a quoted value, a plain value continued on more
//     condition: >                                indented lines, or a block scalar (`>`, `|`)
//       sf.opflags = EXEC and sf.proc.name in (shells)
//   - rule: ...                         kept (name, condition, other properties); the condition is parsed (so its
//                                       mistakes are reported, naming the rule), not compiled here
//   - filter / drop / required_engine_version / required_plugin_versions: accepted, not used
//
// It is not a general YAML parser: it reads this shape, line by line, and reports anything else with the file
// and line. A pre-pass collects every list and macro, so they may be used before their definition; then every
// macro is parsed (errors and macro cycles are reported at their place in the file).
import {FilterSyntaxError, RulesError} from './errors.js'
import {FilterNode, parseCondition} from './parser.js'

export interface ListItem {
  text: string
  quoted: boolean
  line: number
}

export interface ListDef {
  name: string
  items: ListItem[]
  file: string
  line: number
}

/** A piece of a multi-line value: where its text starts in the value and in the file. */
interface Segment {
  offset: number
  line: number
  col: number
  length: number
}

export interface MacroDef {
  name: string
  condition: string
  file: string
  line: number
  /** The parsed condition (filled by parseRules). */
  ast?: FilterNode
  /** Where each line of the condition sits in the file. */
  segments: Segment[]
}

export interface RuleDef {
  /** rule, filter or drop. */
  kind: 'rule' | 'filter' | 'drop'
  name: string
  condition: string | undefined
  file: string
  line: number
  /** Every other property as text (lists joined with ", "). */
  props: Record<string, string>
  tags: string[]
  /** The parsed condition (filled by parseRules, so a mistake in it is reported when the file is read). */
  ast?: FilterNode
  /** Where each line of the condition sits in the file. */
  segments: Segment[]
}

/** The lists, macros and rules of one or more rules files. */
export class RuleSet {
  readonly lists = new Map<string, ListDef>()
  readonly macros = new Map<string, MacroDef>()
  readonly rules: RuleDef[] = []
  /** The lines of each file read, for error reports. */
  private readonly texts = new Map<string, string[]>()
  private readonly expanded = new Map<string, readonly string[]>()
  private readonly resolving: string[] = []

  /** A list's items with inner list names expanded (recursively); undefined when there is no such list. */
  list(name: string): readonly string[] | undefined {
    const hit = this.expanded.get(name)
    if (hit) return hit
    const def = this.lists.get(name)
    if (!def) return undefined
    const out = this.expand(def, [])
    this.expanded.set(name, out)
    return out
  }

  private expand(def: ListDef, chain: string[]): string[] {
    if (chain.includes(def.name)) {
      const cycle = [...chain.slice(chain.indexOf(def.name)), def.name].join(' -> ')
      throw this.error(def.file, def.line, 0, `list cycle: ${cycle}`)
    }
    const out: string[] = []
    for (const it of def.items) {
      const inner = it.quoted ? undefined : this.lists.get(it.text)
      if (inner) out.push(...this.expand(inner, [...chain, def.name]))
      else out.push(it.text)
    }
    return out
  }

  /** A macro's parsed condition; undefined when there is no such macro. Throws RulesError for errors and cycles. */
  macro(name: string): FilterNode | undefined {
    const def = this.macros.get(name)
    if (!def) return undefined
    if (def.ast) return def.ast
    this.resolving.push(name)
    try {
      def.ast = this.parse(def, `macro '${def.name}'`)
      return def.ast
    } finally {
      this.resolving.pop()
    }
  }

  /** Parse a rule's (or filter's, drop's) condition; errors name the rule. */
  private rule(def: RuleDef): void {
    if (def.condition !== undefined && def.condition.trim() !== '' && def.ast === undefined) def.ast = this.parse({...def, condition: def.condition}, `${def.kind} '${def.name}'`)
  }

  /** Parse a macro's or rule's condition with this set's macros and lists; errors placed in the file. */
  private parse(def: {condition: string; file: string; line: number; segments: Segment[]}, what: string): FilterNode {
    try {
      return parseCondition(def.condition, {
        macro: (ref, expr, pos) => {
          if (this.resolving.includes(ref)) {
            const cycle = [...this.resolving.slice(this.resolving.indexOf(ref)), ref].join(' -> ')
            throw new FilterSyntaxError(`macro cycle: ${cycle}`, expr, pos)
          }
          return this.macro(ref)
        },
        list: (l) => this.list(l),
        macroNames: () => this.macros.keys(),
      })
    } catch (e) {
      if (e instanceof FilterSyntaxError && !(e instanceof RulesError)) throw this.locate(def, what, e)
      throw e
    }
  }

  /** A syntax error in a macro's or rule's condition, placed in its file. */
  private locate(def: {file: string; line: number; segments: Segment[]}, what: string, e: FilterSyntaxError): RulesError {
    let seg = def.segments[0]
    if (!seg) return this.error(def.file, def.line, 0, `in ${what}: ${e.problem}`)
    for (const s of def.segments) if (s.offset <= e.position) seg = s
    const col = seg.col + Math.min(Math.max(0, e.position - seg.offset), seg.length)
    return this.error(def.file, seg.line, col, `in ${what}: ${e.problem}`)
  }

  error(file: string, line: number, col: number, problem: string): RulesError {
    const text = this.texts.get(file)?.[line - 1] ?? ''
    return new RulesError(file, line, col, problem, text)
  }

  /** Read one file into the set (used by parseRules). */
  add(text: string, file: string): this {
    const lines = text.split(/\r?\n/)
    this.texts.set(file, lines)
    this.expanded.clear()
    for (const m of this.macros.values()) m.ast = undefined
    for (const r of this.rules) r.ast = undefined
    new RulesReader(this, lines, file).read()
    for (const name of this.macros.keys()) this.macro(name)
    for (const name of this.lists.keys()) this.list(name)
    for (const r of this.rules) this.rule(r)
    return this
  }
}

/** Parse a rules file (its text; `file` names it in errors). Pass `into` to add to an existing set. */
export function parseRules(text: string, file: string, into = new RuleSet()): RuleSet {
  return into.add(text, file)
}

// --- the line reader --------------------------------------------------------------------------------------

type Value =
  | {kind: 'scalar'; segments: (Segment & {text: string})[]; block: '' | '>' | '|'; line: number; col: number}
  | {kind: 'seq'; items: ListItem[]; line: number; col: number}

const ENTRY = /^( *)- +([A-Za-z_][\w-]*):(?: (.*))?$/
const PROP = /^( *)([A-Za-z_][\w-]*):(?: (.*))?$/
const NAME = /^[A-Za-z0-9_][\w\-.:]*$/
const IGNORED = new Set(['required_engine_version', 'required_plugin_versions'])
const ALLOWED: Record<string, string[]> = {
  list: ['items', 'append'],
  macro: ['condition', 'append'],
  filter: ['condition', 'enabled'],
  drop: ['condition', 'enabled'],
}

const indentOf = (s: string) => s.length - s.trimStart().length

/** Remove a comment: '#' at the start or after whitespace, outside a quoted token. */
function stripComment(line: string): string {
  let quote = ''
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote) {
      if (c === quote) quote = ''
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s([,=:]/.test(line[i - 1]))) {
      quote = c
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i)
    }
  }
  return line
}

class RulesReader {
  private i = 0

  constructor(private readonly set: RuleSet, private readonly lines: string[], private readonly file: string) {}

  private fail(line: number, col: number, problem: string): never {
    throw this.set.error(this.file, line, col, problem)
  }

  /** The line at index k without comment and trailing spaces. */
  private clean(k: number): string {
    return stripComment(this.lines[k]).trimEnd()
  }

  private isBlank(k: number): boolean {
    return this.clean(k).trim() === ''
  }

  read(): void {
    let top = -1
    const n = this.lines.length
    while (this.i < n) {
      if (this.isBlank(this.i)) {
        this.i++
        continue
      }
      const k = this.i
      const line = this.clean(k)
      if (/^ *\t/.test(line)) this.fail(k + 1, 0, 'tabs cannot indent a rules file (use spaces)')
      const m = ENTRY.exec(line)
      if (!m) this.fail(k + 1, indentOf(line), "expected an entry such as '- rule:', '- macro:' or '- list:'")
      const indent = m[1].length
      if (top < 0) top = indent
      else if (indent !== top) this.fail(k + 1, indent, `entries must start at column ${top + 1}, like the first one`)
      const kind = m[2]
      const keyCol = line.indexOf(kind, indent + 1)
      this.i++
      if (IGNORED.has(kind)) {
        while (this.i < n && (this.isBlank(this.i) || indentOf(this.clean(this.i)) > top)) this.i++
        continue
      }
      if (!(kind in ALLOWED) && kind !== 'rule') {
        this.fail(k + 1, keyCol, `unknown entry '${kind}' (expected rule, macro, list, filter, drop or required_engine_version)`)
      }
      const props = new Map<string, Value>()
      props.set(kind, this.value(k, keyCol, m[3] ?? '', top))
      // The other properties line up with the first key.
      while (this.i < n) {
        if (this.isBlank(this.i)) {
          this.i++
          continue
        }
        const pl = this.clean(this.i)
        if (/^ *\t/.test(pl)) this.fail(this.i + 1, 0, 'tabs cannot indent a rules file (use spaces)')
        const ind = indentOf(pl)
        if (ind <= top) break
        if (kind === 'rule' && ind > keyCol) {
          // Nested structure in a rule (Falco exceptions, ...): rules are kept, not interpreted.
          this.i++
          continue
        }
        const pm = PROP.exec(pl)
        if (!pm || ind !== keyCol) this.fail(this.i + 1, ind, `expected a property of the ${kind} at column ${keyCol + 1} (key: value)`)
        const key = pm[2]
        if (props.has(key)) this.fail(this.i + 1, ind, `'${key}' given twice in this ${kind}`)
        const allowed = ALLOWED[kind]
        if (allowed && !allowed.includes(key)) this.fail(this.i + 1, ind, `unknown property '${key}' in a ${kind} (expected ${allowed.join(' or ')})`)
        const at = this.i
        this.i++
        props.set(key, this.value(at, ind, pm[3] ?? '', top))
      }
      this.entry(kind, k + 1, keyCol, props)
    }
  }

  /** The value of the key on line k (at column keyCol), whose text after ': ' is `rest`. */
  private value(k: number, keyCol: number, rest: string, top: number): Value {
    const n = this.lines.length
    const line = this.clean(k)
    const restCol = rest === '' ? line.length : line.length - rest.length
    const r = rest.trim()
    const col = restCol + (rest.length - rest.trimStart().length)
    if (r.startsWith('[')) return this.flowList(k, col)
    if (/^[>|][+-]?\d*$/.test(r)) {
      // Block scalar: the more indented lines that follow, kept as they are (comments included, as YAML does).
      const segs: (Segment & {text: string})[] = []
      let contentIndent = -1
      let offset = 0
      while (this.i < n) {
        const raw = this.lines[this.i].trimEnd()
        if (raw.trim() === '') {
          this.i++
          continue
        }
        const ind = indentOf(raw)
        if (ind <= keyCol) break
        if (contentIndent < 0) contentIndent = ind
        const c = Math.min(ind, contentIndent)
        const text = raw.slice(c)
        segs.push({offset, line: this.i + 1, col: c, length: text.length, text})
        offset += text.length + 1
        this.i++
      }
      return {kind: 'scalar', segments: segs, block: r[0] as '>' | '|', line: k + 1, col}
    }
    if (r.startsWith('"') || r.startsWith("'")) {
      const q = r[0]
      const body = q === "'" ? /^'((?:[^']|'')*)'$/.exec(r) : /^"((?:[^"\\]|\\.)*)"$/.exec(r)
      if (!body) this.fail(k + 1, col, `unterminated or malformed quoted value (a quoted value must end on its line)`)
      const text = q === "'" ? body[1].replace(/''/g, "'") : unescapeDouble(body[1], () => this.fail(k + 1, col, 'bad escape in a double-quoted value'))
      return {kind: 'scalar', segments: [{offset: 0, line: k + 1, col: col + 1, length: text.length, text}], block: '', line: k + 1, col}
    }
    if (r === '') {
      // A block sequence ('- item' lines), or a plain value on the following, more indented lines.
      let j = this.i
      while (j < n && this.isBlank(j)) j++
      if (j < n) {
        const next = this.clean(j)
        const ind = indentOf(next)
        if (ind > top && ind >= keyCol && /^-( |$)/.test(next.trimStart())) return this.blockList(ind)
      }
    }
    const segs: (Segment & {text: string})[] = []
    let offset = 0
    if (r !== '') {
      segs.push({offset, line: k + 1, col, length: r.length, text: r})
      offset += r.length + 1
    }
    while (this.i < n) {
      if (this.isBlank(this.i)) {
        this.i++
        continue
      }
      const pl = this.clean(this.i)
      const ind = indentOf(pl)
      if (ind <= keyCol) break
      const text = pl.trim()
      segs.push({offset, line: this.i + 1, col: ind, length: text.length, text})
      offset += text.length + 1
      this.i++
    }
    return {kind: 'scalar', segments: segs, block: '', line: k + 1, col}
  }

  /** `[a, b, "c"]`, from column col of line k, possibly over several lines. */
  private flowList(k: number, col: number): Value {
    const items: ListItem[] = []
    let depth = 0
    let cur = ''
    let curQuoted = false
    let curLine = k + 1
    let line = k
    let pos = col
    const push = (at: number, atCol: number, final: boolean) => {
      if (!curQuoted && cur.trim() === '') {
        if (final) return // `[]`, or a trailing comma
        this.fail(at, atCol, 'empty item in list')
      }
      items.push({text: curQuoted ? cur : cur.trim(), quoted: curQuoted, line: curLine})
      cur = ''
      curQuoted = false
    }
    for (;;) {
      const text = this.clean(line)
      for (; pos < text.length; pos++) {
        const c = text[pos]
        if (c === '[') {
          if (depth > 0) this.fail(line + 1, pos, 'nested lists are not supported in items (name another list instead)')
          depth++
          continue
        }
        if (c === ']') {
          push(line + 1, pos, true)
          const after = text.slice(pos + 1).trim()
          if (after !== '') this.fail(line + 1, pos + 1, `unexpected '${after}' after the list`)
          this.i = line + 1
          return {kind: 'seq', items, line: k + 1, col}
        }
        if (c === ',') {
          push(line + 1, pos, false)
          continue
        }
        if ((c === '"' || c === "'") && cur.trim() === '') {
          const end = text.indexOf(c, pos + 1)
          if (end < 0) this.fail(line + 1, pos, 'unterminated quoted item')
          cur = text.slice(pos + 1, end)
          curQuoted = true
          curLine = line + 1
          pos = end
          continue
        }
        if (curQuoted) {
          if (/\s/.test(c)) continue
          this.fail(line + 1, pos, `unexpected '${c}' after a quoted item`)
        }
        if (cur === '') curLine = line + 1
        cur += c
      }
      if (!curQuoted && cur !== '') cur += ' '
      line++
      pos = 0
      if (line >= this.lines.length) this.fail(k + 1, col, "unclosed '[': the list has no ']'")
    }
  }

  /** `- item` lines at indentation ind. */
  private blockList(ind: number): Value {
    const items: ListItem[] = []
    const first = this.i
    while (this.i < this.lines.length) {
      if (this.isBlank(this.i)) {
        this.i++
        continue
      }
      const l = this.clean(this.i)
      if (indentOf(l) !== ind || !/^-( |$)/.test(l.trimStart())) break
      const t = l.trimStart().slice(1).trim()
      if (t === '') this.fail(this.i + 1, ind, 'empty item in list')
      const q = /^(["'])(.*)\1$/.exec(t)
      items.push({text: q ? q[2] : t, quoted: !!q, line: this.i + 1})
      this.i++
    }
    return {kind: 'seq', items, line: first + 1, col: ind}
  }

  private scalar(v: Value, key: string, joiner: string): string {
    if (v.kind !== 'scalar') this.fail(v.line, v.col, `'${key}' takes a value, not a list`)
    const sep = v.block === '|' ? '\n' : joiner
    return v.segments.map((s) => s.text).join(sep)
  }

  private entry(kind: string, line: number, keyCol: number, props: Map<string, Value>): void {
    const nameV = props.get(kind)!
    const name = this.scalar(nameV, kind, ' ').trim()
    if (name === '') this.fail(line, keyCol, `the ${kind} has no name`)
    if (kind !== 'rule' && !NAME.test(name)) this.fail(line, nameV.col, `'${name}' is not a valid ${kind} name (letters, digits, '_', '-', '.')`)
    const append = props.get('append')
    const appending = append ? /^true$/i.test(this.scalar(append, 'append', ' ').trim()) : false
    if (kind === 'list') {
      const v = props.get('items')
      if (!v) this.fail(line, keyCol, `list '${name}' has no items`)
      if (v.kind !== 'seq') this.fail(v.line, v.col, `the items of list '${name}' must be a list ([a, b] or '- a' lines)`)
      const old = this.set.lists.get(name)
      if (appending && old) old.items.push(...v.items)
      else this.set.lists.set(name, {name, items: v.items, file: this.file, line})
      return
    }
    const condV = props.get('condition')
    if (kind === 'macro') {
      if (!condV) this.fail(line, keyCol, `macro '${name}' has no condition`)
      const condition = this.scalar(condV, 'condition', '\n')
      if (condition.trim() === '') this.fail(condV.line, condV.col, `macro '${name}' has an empty condition`)
      const segments: Segment[] = condV.kind === 'scalar' ? condV.segments.map(({offset, line: l, col, length}) => ({offset, line: l, col, length})) : []
      const old = this.set.macros.get(name)
      if (appending && old) {
        const base = old.condition.length + 1
        old.segments.push(...segments.map((s) => ({...s, offset: s.offset + base})))
        old.condition = `${old.condition}\n${condition}`
        old.ast = undefined
      } else {
        this.set.macros.set(name, {name, condition, file: this.file, line, segments})
      }
      return
    }
    const rest: Record<string, string> = {}
    let tags: string[] = []
    for (const [key, v] of props) {
      if (key === kind || key === 'condition') continue
      if (v.kind === 'seq') {
        rest[key] = v.items.map((x) => x.text).join(', ')
        if (key === 'tags') tags = v.items.map((x) => x.text)
      } else {
        rest[key] = this.scalar(v, key, ' ')
      }
    }
    this.set.rules.push({
      kind: kind as RuleDef['kind'],
      name,
      condition: condV ? this.scalar(condV, 'condition', '\n') : undefined,
      file: this.file,
      line,
      props: rest,
      tags,
      segments: condV?.kind === 'scalar' ? condV.segments.map(({offset, line: l, col, length}) => ({offset, line: l, col, length})) : [],
    })
  }
}

function unescapeDouble(s: string, bad: () => never): string {
  try {
    return JSON.parse(`"${s.replace(/\\'/g, "'")}"`) as string
  } catch {
    return bad()
  }
}
