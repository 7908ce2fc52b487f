// Compiling a condition tree to a closure over joined records, with the SysFlow processor's semantics
// (sysflow-format.md §4b, docs/filters.md):
// - string operators (=, !=, contains, icontains, startswith, endswith, in, pmatch) compare string forms (ints in
//   decimal, bigints exactly, bools "true"/"false"); both sides are split on ',' (list attributes are already
//   their pieces) and the test holds if any (left, right) pair passes; `!=` is NOT `=`;
// - <, <=, >, >= compare integers (int64); a side that is not an integer counts as 0;
// - `exists` holds when the value is not the zero value ("", 0, false, empty list);
// - a record type that does not carry an attribute reads as that zero value.
// Everything that can be done once is done here: attributes resolved, literals split, converted to numbers,
// bigints or booleans, lower-cased for icontains, put into Sets; per record only the attribute is read.
import {Attribute, AttrValue} from '../attributes.js'
import {Joined} from '../join.js'
import {JsonDocCache, jsonPathGetter} from './jsonpath.js'
import {CmpOp, FilterNode, Operand} from './parser.js'

export type Predicate = (j: Joined) => boolean

type Pieces = string | readonly string[]

/** How an operand reads per record, in the forms the operators need. */
interface Reader {
  /** What kind of value `raw` returns (lit: a constant string). */
  kind: 'str' | 'int' | 'int64' | 'bool' | 'strlist' | 'intlist' | 'lit'
  /** The typed value (undefined: the zero value). */
  raw: (j: Joined) => AttrValue
  /** String form: a string still to be split on ',', or a list of pieces. */
  str: (j: Joined) => Pieces
  /** Integer form for <, <=, >, >= (undefined when the operand has none: lists). */
  num?: (j: Joined) => number | bigint
  zero: (j: Joined) => boolean
  /** For literals: the constant string. */
  constant?: string
}

const EMPTY_PIECES: readonly string[] = ['']
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** The processor's int literal: base-10 int64 (optional sign), anything else 0. */
export function parseInt64(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) return 0n
  const v = BigInt(s)
  return v < INT64_MIN || v > INT64_MAX ? 0n : v
}

const CANONICAL_INT = /^(0|-?[1-9]\d*)$/

/** Split a string form into pieces. */
function pieces(v: Pieces): readonly string[] {
  return typeof v === 'string' ? (v.indexOf(',') < 0 ? [v] : v.split(',')) : v
}

function anyPiece(v: Pieces, test: (l: string) => boolean): boolean {
  if (typeof v === 'string') {
    if (v.indexOf(',') < 0) return test(v)
    for (const p of v.split(',')) if (test(p)) return true
    return false
  }
  for (let i = 0; i < v.length; i++) if (test(v[i])) return true
  return false
}

/**
 * Memoize a function of a record by the entity a JSON attribute reads (a pod's services are the same for every
 * record of the pod): computed once per entity object, kept while the entity lives. Records without the entity
 * are computed each time.
 */
function perEntity<T>(a: Attribute, f: (j: Joined) => T): (j: Joined) => T {
  const dep = a.dep
  if (a.type !== 'json' || dep === undefined) return f
  const memo = new WeakMap<object, T>()
  return (j) => {
    const e = j[dep]
    if (e === undefined) return f(j)
    let v = memo.get(e)
    if (v === undefined && !memo.has(e)) {
      v = f(j)
      memo.set(e, v)
    }
    return v as T
  }
}

function stringReader(get: (j: Joined) => string | undefined): Reader {
  return {
    kind: 'str',
    raw: get,
    str: (j) => get(j) ?? '',
    num: (j) => {
      const v = get(j)
      return v ? parseInt64(v) : 0n
    },
    zero: (j) => !get(j),
  }
}

function reader(o: Operand, docs: JsonDocCache): Reader {
  if (o.kind === 'lit') {
    const v = o.value
    const n = parseInt64(v)
    return {kind: 'lit', raw: () => v, str: () => v, num: () => n, zero: () => v === '', constant: v}
  }
  const a = o.attr
  const get = perEntity(a, a.value)
  if (o.path) {
    const q = jsonPathGetter(o.path, docs)
    return stringReader(perEntity(a, (j) => {
      const t = a.value(j) as string | undefined
      return t ? q(t) : ''
    }))
  }
  if (o.index !== undefined) {
    const k = o.index
    if (a.type === 'intlist') {
      const el = (j: Joined) => (get(j) as bigint[] | undefined)?.[k]
      return {kind: 'int64', raw: el, str: (j) => (el(j) ?? 0n).toString(), num: (j) => el(j) ?? 0n, zero: (j) => !el(j)}
    }
    return stringReader((j) => (get(j) as string[] | undefined)?.[k])
  }
  switch (a.type) {
    case 'int': {
      const g = get as (j: Joined) => number | undefined
      return {kind: 'int', raw: g, str: (j) => String(g(j) ?? 0), num: (j) => g(j) ?? 0, zero: (j) => !g(j)}
    }
    case 'int64': {
      const g = get as (j: Joined) => bigint | undefined
      return {kind: 'int64', raw: g, str: (j) => (g(j) ?? 0n).toString(), num: (j) => g(j) ?? 0n, zero: (j) => !g(j)}
    }
    case 'bool': {
      const g = get as (j: Joined) => boolean | undefined
      return {kind: 'bool', raw: g, str: (j) => (g(j) ? 'true' : 'false'), num: (j) => (g(j) ? 1 : 0), zero: (j) => !g(j)}
    }
    case 'strlist': {
      const g = get as (j: Joined) => string[] | undefined
      return {kind: 'strlist', raw: g, str: (j) => { const v = g(j); return v && v.length ? v : EMPTY_PIECES }, zero: (j) => !g(j)?.length}
    }
    case 'intlist': {
      const g = get as (j: Joined) => bigint[] | undefined
      return {kind: 'intlist', raw: g, str: (j) => { const v = g(j); return v && v.length ? v.map(String) : EMPTY_PIECES }, zero: (j) => !g(j)?.length}
    }
    default: // string, char, time, json
      return stringReader(get as (j: Joined) => string | undefined)
  }
}

// --- string operators ---------------------------------------------------------------------------------------

type StrOp = 'contains' | 'icontains' | 'startswith' | 'endswith'

/** A test of one left piece against constant right pieces. */
function pieceTest(op: StrOp, rs: readonly string[]): (l: string) => boolean {
  if (op === 'icontains') rs = rs.map((r) => r.toLowerCase())
  if (rs.length === 1) {
    const r = rs[0]
    switch (op) {
      case 'contains': return (l) => l.includes(r)
      case 'icontains': return (l) => l.toLowerCase().includes(r)
      case 'startswith': return (l) => l.startsWith(r)
      case 'endswith': return (l) => l.endsWith(r)
    }
  }
  switch (op) {
    case 'contains': return (l) => rs.some((r) => l.includes(r))
    case 'icontains': return (l) => { const x = l.toLowerCase(); return rs.some((r) => x.includes(r)) }
    case 'startswith': return (l) => rs.some((r) => l.startsWith(r))
    case 'endswith': return (l) => rs.some((r) => l.endsWith(r))
  }
}

function strTest(op: StrOp | '=', l: string, r: string): boolean {
  switch (op) {
    case '=': return l === r
    case 'contains': return l.includes(r)
    case 'icontains': return l.toLowerCase().includes(r.toLowerCase())
    case 'startswith': return l.startsWith(r)
    case 'endswith': return l.endsWith(r)
  }
}

/** `left = any of the constant pieces`, typed so that ints compare as ints without being turned into strings. */
function equalsAny(L: Reader, rs: readonly string[]): Predicate {
  switch (L.kind) {
    case 'int': {
      const nums = rs.filter((r) => CANONICAL_INT.test(r) && Number.isSafeInteger(Number(r))).map(Number)
      const g = L.raw as (j: Joined) => number | undefined
      if (nums.length === 0) return () => false
      if (nums.length === 1) {
        const n = nums[0]
        return (j) => (g(j) ?? 0) === n
      }
      const set = new Set(nums)
      return (j) => set.has(g(j) ?? 0)
    }
    case 'int64': {
      const nums = rs.filter((r) => CANONICAL_INT.test(r)).map((r) => BigInt(r))
      const g = L.raw as (j: Joined) => bigint | undefined
      if (nums.length === 0) return () => false
      if (nums.length === 1) {
        const n = nums[0]
        return (j) => (g(j) ?? 0n) === n
      }
      const set = new Set(nums)
      return (j) => set.has(g(j) ?? 0n)
    }
    case 'bool': {
      const t = rs.includes('true')
      const f = rs.includes('false')
      const g = L.raw as (j: Joined) => boolean | undefined
      if (t && f) return () => true
      if (t) return (j) => g(j) === true
      if (f) return (j) => !g(j)
      return () => false
    }
    default: {
      const str = L.str
      if (L.constant !== undefined) {
        const c = anyPiece(L.constant, (l) => rs.includes(l))
        return () => c
      }
      if (rs.length === 1) {
        const r = rs[0]
        if (L.kind === 'str') {
          // The common case: a scalar string against one value. Only a value holding ',' needs splitting.
          return (j) => {
            const v = str(j) as string
            return v === r || (v.indexOf(',') >= 0 && v.split(',').includes(r))
          }
        }
        return (j) => anyPiece(str(j), (l) => l === r)
      }
      const set = new Set(rs)
      return (j) => anyPiece(str(j), (l) => set.has(l))
    }
  }
}

function stringCompare(op: StrOp | '=', L: Reader, R: Reader): Predicate {
  if (R.constant !== undefined) {
    const rs = pieces(R.constant)
    if (op === '=') return equalsAny(L, rs)
    const test = pieceTest(op, rs)
    if (L.constant !== undefined) {
      const c = anyPiece(L.constant, test)
      return () => c
    }
    const str = L.str
    return (j) => anyPiece(str(j), test)
  }
  // Attribute on the right: both sides per record.
  if (op === '=' && (L.kind === 'int' || L.kind === 'int64') && (R.kind === 'int' || R.kind === 'int64')) {
    const l = L.num!
    const r = R.num!
    // Decimal strings are equal exactly when the integers are (a number and a bigint compare by value with ==).
    // eslint-disable-next-line eqeqeq
    return (j) => l(j) == r(j)
  }
  const ls = L.str
  const rsOf = R.str
  return (j) => {
    const rp = pieces(rsOf(j))
    return anyPiece(ls(j), (l) => rp.some((r) => strTest(op, l, r)))
  }
}

function intCompare(op: '<' | '<=' | '>' | '>=', L: Reader, R: Reader): Predicate {
  // The parser rejects list operands here, so both have an integer form.
  const l = L.num!
  const r = R.num!
  if (R.constant !== undefined) {
    let c: number | bigint = parseInt64(R.constant)
    // Compare numbers with numbers where that is exact (int, bool), bigints with bigints (int64).
    if (L.kind !== 'int64' && c >= BigInt(Number.MIN_SAFE_INTEGER) && c <= BigInt(Number.MAX_SAFE_INTEGER)) c = Number(c)
    const k = c
    switch (op) {
      case '<': return (j) => l(j) < k
      case '<=': return (j) => l(j) <= k
      case '>': return (j) => l(j) > k
      case '>=': return (j) => l(j) >= k
    }
  }
  switch (op) {
    case '<': return (j) => l(j) < r(j)
    case '<=': return (j) => l(j) <= r(j)
    case '>': return (j) => l(j) > r(j)
    case '>=': return (j) => l(j) >= r(j)
  }
}

// --- the tree ---------------------------------------------------------------------------------------------

function all(ps: Predicate[]): Predicate {
  if (ps.length === 1) return ps[0]
  if (ps.length === 2) {
    const [a, b] = ps
    return (j) => a(j) && b(j)
  }
  if (ps.length === 3) {
    const [a, b, c] = ps
    return (j) => a(j) && b(j) && c(j)
  }
  return (j) => {
    for (let i = 0; i < ps.length; i++) if (!ps[i](j)) return false
    return true
  }
}

function any(ps: Predicate[]): Predicate {
  if (ps.length === 1) return ps[0]
  if (ps.length === 2) {
    const [a, b] = ps
    return (j) => a(j) || b(j)
  }
  if (ps.length === 3) {
    const [a, b, c] = ps
    return (j) => a(j) || b(j) || c(j)
  }
  return (j) => {
    for (let i = 0; i < ps.length; i++) if (ps[i](j)) return true
    return false
  }
}

class Compiler {
  readonly docs = new JsonDocCache()

  node(n: FilterNode): Predicate {
    switch (n.type) {
      case 'and': return all(n.items.map((x) => this.node(x)))
      case 'or': return any(n.items.map((x) => this.node(x)))
      case 'not': {
        const p = this.node(n.item)
        return (j) => !p(j)
      }
      case 'macro': return this.node(n.body)
      case 'exists': {
        const z = reader(n.operand, this.docs).zero
        return (j) => !z(j)
      }
      case 'in': case 'pmatch': {
        const L = reader(n.operand, this.docs)
        const rs = n.items.flatMap((x) => pieces(x))
        if (n.type === 'in') return equalsAny(L, rs)
        const test = pieceTest('contains', rs)
        const str = L.str
        return (j) => anyPiece(str(j), test)
      }
      case 'cmp': return this.cmp(n.op, n.left, n.right)
    }
  }

  private cmp(op: CmpOp, left: Operand, right: Operand): Predicate {
    const L = reader(left, this.docs)
    const R = reader(right, this.docs)
    switch (op) {
      case '<': case '<=': case '>': case '>=':
        return intCompare(op, L, R)
      case '!=': {
        const p = stringCompare('=', L, R)
        return (j) => !p(j)
      }
      default:
        return stringCompare(op, L, R)
    }
  }
}

/** Compile a parsed condition into a predicate over joined records. */
export function compileNode(node: FilterNode): Predicate {
  return new Compiler().node(node)
}
