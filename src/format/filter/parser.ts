// Recursive-descent parser of the policy condition language (docs/filters.md). Precedence, loosest first:
// or, and, not, then a comparison term. Attribute names are resolved here, against the one catalogue, so an
// unknown name on the left of an operator is a syntax error at its column (with a suggestion), and a name on the
// right that is an attribute makes an attribute-to-attribute comparison. Macro references and list names (inside
// `in (...)` / `pmatch (...)`) are expanded through the ParseContext (a rules file).
import {Attribute, attributeNames, findAttribute} from '../attributes.js'
import {closestNames} from '../suggest.js'
import {FilterSyntaxError} from './errors.js'
import {JsonPathError, JsonPathSpec, parseJsonPath} from './jsonpath.js'
import {checkLiteral, LiteralUse} from './literals.js'
import {KEYWORDS, Token, tokenize, trimQuotes} from './lexer.js'

export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'icontains' | 'startswith' | 'endswith'

export type Operand =
  | {
      kind: 'attr'
      /** The name as written, suffix included. */
      name: string
      attr: Attribute
      /** A JSON path suffix on a JSON attribute. */
      path?: JsonPathSpec
      /** A numeric index suffix on a list attribute (`sf.proc.aname[1]` is the parent's name). */
      index?: number
      pos: number
    }
  | {kind: 'lit'; value: string; raw: string; pos: number}

export type FilterNode =
  | {type: 'or' | 'and'; items: FilterNode[]}
  | {type: 'not'; item: FilterNode; pos: number}
  | {type: 'cmp'; op: CmpOp; left: Operand; right: Operand; pos: number}
  | {type: 'exists'; operand: Operand; pos: number}
  | {type: 'in' | 'pmatch'; operand: Operand; items: string[]; pos: number}
  | {type: 'macro'; name: string; body: FilterNode; pos: number}

/** Where an item of `in (...)` / `pmatch (...)` was written: its column, and the list it came from. */
interface ItemSource {
  pos: number
  list?: string
}

/** Where macro and list names are looked up (a rules file). */
export interface ParseContext {
  /** The parsed body of a macro, or undefined when there is none by that name. May throw (cycles). */
  macro?(name: string, expression: string, pos: number): FilterNode | undefined
  /** A list's items, fully expanded, or undefined when there is none by that name. */
  list?(name: string): readonly string[] | undefined
  /** Every macro name, for suggestions. */
  macroNames?(): Iterable<string>
}

const INT_OPS = new Set<string>(['<', '<=', '>', '>='])
const CMP_OPS = new Set<string>(['=', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'startswith', 'endswith'])

// sfql's `ts`/`endts` are the nanosecond integers (sysflow-format.md §4c), while sysprint's output keys of those
// names are ISO strings: in filters they mean sf.ts and sf.endts.
const FILTER_NAMES: Record<string, string> = {ts: 'sf.ts', endts: 'sf.endts'}

/** The catalogue attribute a filter name denotes (sf.* name, sysprint name or alias), if any. */
export function filterAttribute(name: string): Attribute | undefined {
  return findAttribute(FILTER_NAMES[name] ?? name)
}

const NAME_SHAPED = /^[A-Za-z_]/

function quoteTok(t: Token): string {
  return t.kind === 'eof' ? 'the end' : `'${t.text}'`
}

/** Parentheses and 'not's nest at most this deep (a stack overflow is not a syntax error message). */
const MAX_DEPTH = 256

class Parser {
  private i = 0
  private depth = 0
  private readonly toks: Token[]

  constructor(private readonly src: string, private readonly ctx: ParseContext) {
    this.toks = tokenize(src)
  }

  private fail(problem: string, pos: number): never {
    throw new FilterSyntaxError(problem, this.src, pos)
  }

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]
  }

  private prev(): Token | undefined {
    return this.i > 0 ? this.toks[this.i - 1] : undefined
  }

  private next(): Token {
    return this.toks[this.i++]
  }

  parse(): FilterNode {
    if (this.peek().kind === 'eof') this.fail('empty filter expression', 0)
    const node = this.orExpr()
    const t = this.peek()
    if (t.kind !== 'eof') {
      if (t.kind === ')') this.fail("unexpected ')' (no matching '(')", t.pos)
      const lower = t.text.toLowerCase()
      const hint = t.kind === 'word' && (lower === 'and' || lower === 'or') ? `operators are lower case: '${lower}'` : "missing 'and' or 'or'?"
      this.fail(`unexpected ${quoteTok(t)} after a complete condition (${hint})`, t.pos)
    }
    return node
  }

  private orExpr(): FilterNode {
    const items = [this.andExpr()]
    while (this.peek().kind === 'kw' && this.peek().text === 'or') {
      this.next()
      items.push(this.andExpr())
    }
    return items.length === 1 ? items[0] : {type: 'or', items}
  }

  private andExpr(): FilterNode {
    const items = [this.notExpr()]
    while (this.peek().kind === 'kw' && this.peek().text === 'and') {
      this.next()
      items.push(this.notExpr())
    }
    return items.length === 1 ? items[0] : {type: 'and', items}
  }

  private notExpr(): FilterNode {
    const t = this.peek()
    if (++this.depth > MAX_DEPTH) this.fail(`conditions nest more than ${MAX_DEPTH} deep`, t.pos)
    try {
      if (t.kind === 'kw' && t.text === 'not') {
        this.next()
        return {type: 'not', item: this.notExpr(), pos: t.pos}
      }
      return this.term()
    } finally {
      this.depth--
    }
  }

  /** A condition is missing at the current token: say so, naming what came before. */
  private missingCondition(t: Token): never {
    const p = this.prev()
    if (t.kind === ')' && p?.kind === '(') this.fail('empty parentheses', t.pos)
    if (p && ((p.kind === 'kw' && (p.text === 'and' || p.text === 'or' || p.text === 'not')) || p.kind === '(')) {
      this.fail(`missing condition after '${p.text}'${t.kind === 'eof' ? '' : `, found ${quoteTok(t)}`}`, t.pos)
    }
    if (t.kind === 'kw' && (t.text === 'and' || t.text === 'or')) this.fail(`missing condition before '${t.text}'`, t.pos)
    if (t.kind === 'op' || (t.kind === 'kw' && CMP_OPS.has(t.text)) || (t.kind === 'kw' && (t.text === 'in' || t.text === 'pmatch' || t.text === 'exists'))) {
      this.fail(`missing attribute before '${t.text}'`, t.pos)
    }
    if (t.kind === 'eof') this.fail('missing condition at the end', t.pos)
    this.fail(`expected a condition, found ${quoteTok(t)}`, t.pos)
  }

  private term(): FilterNode {
    const t = this.peek()
    if (t.kind === '(') {
      this.next()
      if (this.peek().kind === ')') this.fail('empty parentheses', this.peek().pos)
      const inner = this.orExpr()
      const c = this.peek()
      if (c.kind !== ')') {
        if (c.kind === 'eof') this.fail(`missing ')' to close the '(' at column ${t.pos + 1}`, c.pos)
        this.fail(`expected ')', 'and' or 'or', found ${quoteTok(c)}`, c.pos)
      }
      this.next()
      return inner
    }
    if (t.kind !== 'word' && t.kind !== 'string') this.missingCondition(t)
    this.next()
    const op = this.peek()

    // A bare word alone is a macro reference.
    if (op.kind === 'eof' || op.kind === ')' || (op.kind === 'kw' && (op.text === 'and' || op.text === 'or'))) {
      if (t.kind === 'word') return this.macroRef(t)
      this.fail(`expected an operator after ${quoteTok(t)}`, op.pos)
    }
    const isCmp = op.kind === 'op' || (op.kind === 'kw' && CMP_OPS.has(op.text))
    const isUnary = op.kind === 'kw' && op.text === 'exists'
    const isList = op.kind === 'kw' && (op.text === 'in' || op.text === 'pmatch')
    if (!isCmp && !isUnary && !isList) {
      const hint = op.kind === 'word' && KEYWORDS.has(op.text.toLowerCase()) ? ` (operators are lower case: '${op.text.toLowerCase()}')` : ''
      this.fail(`expected an operator after ${quoteTok(t)}, found ${quoteTok(op)}${hint}`, op.pos)
    }
    const left = this.leftOperand(t)
    this.next()
    if (isUnary) return {type: 'exists', operand: left, pos: t.pos}
    if (isList) {
      const where: ItemSource[] = []
      const items = this.listItems(op, where)
      if (left.kind === 'attr') {
        const use = op.text === 'in' ? '=' : 'contains'
        items.forEach((item, k) => {
          const c = checkLiteral(left, use, item)
          if ('problem' in c) this.fail(where[k].list ? `${c.problem}; the item is from list '${where[k].list}'` : c.problem, where[k].pos)
          items[k] = c.value
        })
      }
      return {type: op.text as 'in' | 'pmatch', operand: left, items, pos: t.pos}
    }
    const r = this.peek()
    if (r.kind !== 'word' && r.kind !== 'string') {
      const found = r.kind === 'eof' ? '' : r.kind === 'kw' ? ` (found keyword '${r.text}'; quote a value that is a keyword)` : `, found ${quoteTok(r)}`
      this.fail(`missing value after '${op.text}'${found}`, r.pos)
    }
    this.next()
    const right = this.rightOperand(r)
    if (op.kind === 'op' && op.text !== '=' && op.text !== '!=') {
      for (const o of [left, right]) {
        if (o.kind === 'attr' && o.index === undefined && (o.attr.type === 'strlist' || o.attr.type === 'intlist')) {
          this.fail(`'${op.text}' compares integers and '${o.name}' is a list (index it, e.g. '${o.name}[0]', or use 'in')`, o.pos)
        }
      }
    }
    return {type: 'cmp', op: op.text as CmpOp, left: this.checked(left, right, op.text, true), right: this.checked(right, left, op.text, false), pos: t.pos}
  }

  /** A literal operand checked against the attribute on the other side (literals.ts); fails at its column. */
  private checked(o: Operand, other: Operand, op: string, isLeft: boolean): Operand {
    if (o.kind !== 'lit') return o
    const use: LiteralUse | undefined = op === '=' || op === '!=' ? '=' : INT_OPS.has(op) ? 'int' : isLeft ? undefined : (op as LiteralUse)
    if (!use) return o // `'text' contains sf.x`: the literal is the haystack, any text goes
    const c = checkLiteral(other.kind === 'attr' ? other : undefined, use, o.value)
    if ('problem' in c) this.fail(c.problem, o.pos)
    return c.value === o.value ? o : {...o, value: c.value}
  }

  private macroRef(t: Token): FilterNode {
    const body = this.ctx.macro?.(t.text, this.src, t.pos)
    if (body) return {type: 'macro', name: t.text, body, pos: t.pos}
    if (filterAttribute(t.text.split('[')[0])) {
      this.fail(`'${t.text}' needs an operator (e.g. '${t.text} exists' or '${t.text} = value')`, t.pos)
    }
    if (!NAME_SHAPED.test(t.text)) this.fail(`expected a condition, found '${t.text}'`, t.pos)
    const names = [...(this.ctx.macroNames?.() ?? []), ...attributeNames()]
    const did = closestNames(t.text, names, 1)
    this.fail(`unknown macro '${t.text}'${did.length ? ` (did you mean ${did[0]}?)` : ''}`, t.pos)
  }

  private leftOperand(t: Token): Operand {
    if (t.kind === 'string') return {kind: 'lit', value: trimQuotes(t.text), raw: t.text, pos: t.pos}
    const a = this.resolve(t)
    if (a) return a
    if (NAME_SHAPED.test(t.text)) {
      const base = t.text.split('[')[0]
      const did = closestNames(base, attributeNames(), 1)
      this.fail(`unknown attribute '${base}'${did.length ? ` (did you mean ${did[0]}?)` : ''}`, t.pos)
    }
    return {kind: 'lit', value: t.text, raw: t.text, pos: t.pos}
  }

  private rightOperand(t: Token): Operand {
    if (t.kind === 'word' && NAME_SHAPED.test(t.text) && /[.[]/.test(t.text)) {
      const a = this.resolve(t)
      if (a) return a
    }
    return {kind: 'lit', value: trimQuotes(t.text), raw: t.text, pos: t.pos}
  }

  /** An attribute operand for a word, with its suffix checked; undefined when the word names no attribute. */
  private resolve(t: Token): Operand | undefined {
    const text = t.text
    const b = text.indexOf('[')
    const attr = filterAttribute(b < 0 ? text : text.slice(0, b))
    if (!attr) return undefined
    if (b < 0) return {kind: 'attr', name: text, attr, pos: t.pos}
    const close = text.indexOf(']', b)
    if (close !== text.length - 1) this.fail(`malformed suffix on '${text.slice(0, b)}': one '[...]' at the end of the name`, t.pos + close + 1)
    const inner = text.slice(b + 1, close)
    if (attr.type === 'json') {
      try {
        return {kind: 'attr', name: text, attr, path: parseJsonPath(inner), pos: t.pos}
      } catch (e) {
        if (e instanceof JsonPathError) this.fail(e.message, t.pos + b + 1 + e.offset)
        throw e
      }
    }
    if (attr.type === 'strlist' || attr.type === 'intlist') {
      if (!/^\d{1,6}$/.test(inner)) this.fail(`a list attribute takes a numeric index, e.g. '${text.slice(0, b)}[1]'`, t.pos + b + 1)
      return {kind: 'attr', name: text, attr, index: Number(inner), pos: t.pos}
    }
    this.fail(`'${text.slice(0, b)}' is not a JSON or list attribute: it takes no [...] suffix`, t.pos + b)
  }

  /** `( item, item, ... )` after in/pmatch; list names expand, `[a, b]` groups flatten. */
  private listItems(op: Token, where: ItemSource[]): string[] {
    const open = this.peek()
    if (open.kind !== '(') this.fail(`expected '(' after '${op.text}'`, open.pos)
    this.next()
    if (this.peek().kind === ')') this.fail(`empty list after '${op.text}'`, this.peek().pos)
    const items: string[] = []
    for (;;) {
      const t = this.peek()
      if (t.kind === '[') {
        this.next()
        for (;;) {
          const u = this.peek()
          if (u.kind === ']') break
          this.atom(u, items, where)
          const s = this.peek()
          if (s.kind === ',') {
            this.next()
            continue
          }
          if (s.kind !== ']') this.fail(`expected ',' or ']', found ${quoteTok(s)}`, s.pos)
        }
        this.next()
      } else {
        this.atom(t, items, where)
      }
      const s = this.peek()
      if (s.kind === ',') {
        this.next()
        continue
      }
      if (s.kind === ')') break
      if (s.kind === 'eof') this.fail(`missing ')' to close the '(' at column ${open.pos + 1}`, s.pos)
      this.fail(`expected ',' or ')', found ${quoteTok(s)}`, s.pos)
    }
    this.next()
    return items
  }

  private atom(t: Token, into: string[], where: ItemSource[]): void {
    if (t.kind === 'string') {
      into.push(trimQuotes(t.text))
      where.push({pos: t.pos})
    } else if (t.kind === 'word') {
      const l = this.ctx.list?.(t.text)
      if (l) {
        into.push(...l)
        for (let k = 0; k < l.length; k++) where.push({pos: t.pos, list: t.text})
      } else {
        into.push(t.text)
        where.push({pos: t.pos})
      }
    } else {
      this.fail(`expected a list item, found ${quoteTok(t)}${t.kind === 'kw' ? ' (quote a value that is a keyword)' : ''}`, t.pos)
    }
    this.next()
  }
}

/** Parse a condition into its tree. Throws FilterSyntaxError. */
export function parseCondition(expr: string, ctx: ParseContext = {}): FilterNode {
  return new Parser(expr, ctx).parse()
}
