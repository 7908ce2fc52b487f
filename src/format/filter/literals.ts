// What a literal compared with an attribute may be, checked when the filter is parsed. A value the attribute can
// never hold selects nothing (or, in `<`/`>`, everything: a non-integer counts as 0), silently: `sf.opflags =
// EXECC`, `sf.type = pe`, `sf.proc.pid > abc`. Such literals are syntax errors at their column, with the closest
// name suggested. The checks follow the operators' semantics (compile.ts): `=`, `!=` and `in` compare each
// ','-piece exactly; `contains`/`startswith`/`endswith`/`pmatch` must be able to hold for some value; `<`, `>`...
// need an int64. The empty piece is always allowed (it is the zero value of a record type without the attribute).
// Time attributes (sf.ts, sf.endts, createts, sf.pod.ts) also take an ISO-8601 time, turned into nanoseconds here.
import {Attribute, findAttribute} from '../attributes.js'
import {OPENFLAG_NAMES, OPFLAG_NAMES} from '../flags.js'
import {CONTAINER_TYPES, K8S_ACTIONS, K8S_COMPONENTS} from '../schema.js'
import {closestNames} from '../suggest.js'
import {parseTime} from '../time.js'
import type {Operand} from './parser.js'

/** How a literal is used: compared whole-piece (=, !=, in), by substring, prefix, suffix, or as an integer. */
export type LiteralUse = '=' | 'contains' | 'icontains' | 'startswith' | 'endswith' | 'int'

type AttrOperand = Extract<Operand, {kind: 'attr'}>

interface Domain {
  /** What one value is called in messages ("operation flag"). */
  what: string
  names: readonly string[]
  /** The attribute reads "" on some records (the zero value where a record type lacks it); sf.type never does. */
  empty: boolean
}

const DOMAINS = new Map<Attribute, Domain>()
function domain(name: string, what: string, names: readonly string[], empty = true): void {
  const a = findAttribute(name)
  if (!a) throw new Error(`no attribute ${name}`)
  DOMAINS.set(a, {what, names, empty})
}
// Joined records are events and flows: sf.type never reads an entity's abbreviation (H, P, F, C, POD).
domain('sf.type', 'record type', ['PE', 'PF', 'NF', 'FF', 'FE', 'NE', 'KE'], false)
domain('sf.opflags', 'operation flag', OPFLAG_NAMES)
domain('sf.file.openflags', 'open flag', OPENFLAG_NAMES)
domain('state', 'state', ['CREATED', 'MODIFIED', 'REUP'])
// The catalogue strips the schema's CT_ prefix (sf.container.type = DOCKER, as in the processor).
// libsinsp's container types beyond the SysFlow enum (CT_STATIC, CT_PODMAN): newer writers may carry them, and the
// reader keeps an enum symbol it does not know as its text, so a filter may name them.
domain('sf.container.type', 'container type', [...CONTAINER_TYPES, 'CT_STATIC', 'CT_PODMAN'].map((t) => t.replace(/^CT_/, '')))
domain('sf.ke.kind', 'K8s component type', K8S_COMPONENTS)
domain('sf.ke.action', 'K8s event action', K8S_ACTIONS)
// A bool reads "false" where a record type lacks it, never "".
const BOOLEAN: Domain = {what: 'boolean', names: ['true', 'false'], empty: false}

const TIMES = new Set(['sf.ts', 'sf.endts', 'sf.proc.createts', 'sf.pproc.createts', 'sf.pod.ts'].map((n) => findAttribute(n)!))
const PROTOCOLS: Record<string, number> = {icmp: 1, igmp: 2, tcp: 6, udp: 17, ipv6: 41, gre: 47, esp: 50, icmpv6: 58, sctp: 132}
const NET_PROTO = findAttribute('sf.net.proto')

const INT64 = /^[+-]?\d+$/
const CANONICAL_INT = /^(0|-?[1-9]\d*)$/
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** The literal as the checks left it (time attributes: nanoseconds), or the problem. */
export type Checked = {value: string} | {problem: string}

type Kind = {type: 'int'; attr: Attribute} | {type: 'char'} | {type: 'domain'; domain: Domain} | undefined

/** What values an attribute operand reads as, for the checks (undefined: any string). */
function kindOf(o: AttrOperand): Kind {
  const a = o.attr
  if (o.path) return undefined
  if (o.index !== undefined) {
    if (a.type === 'intlist') return {type: 'int', attr: a}
    const d = DOMAINS.get(a)
    return d && {type: 'domain', domain: d}
  }
  switch (a.type) {
    case 'int': case 'int64': case 'intlist': return {type: 'int', attr: a}
    case 'bool': return {type: 'domain', domain: BOOLEAN}
    case 'char': return {type: 'char'}
    default: {
      const d = DOMAINS.get(a)
      return d && {type: 'domain', domain: d}
    }
  }
}

const q = (s: string) => `'${s}'`

function inRange(s: string): boolean {
  const v = BigInt(s)
  return v >= INT64_MIN && v <= INT64_MAX
}

/** An integer the attribute may be compared with: problem text, or the value (ISO times as nanoseconds). */
function checkInt(o: AttrOperand | undefined, piece: string, exact: boolean): string | {problem: string} {
  if (INT64.test(piece)) {
    if (!inRange(piece)) return {problem: `${o ? `${o.name}: ` : ''}${q(piece)} is out of the int64 range`}
    if (exact && !CANONICAL_INT.test(piece)) {
      const canonical = BigInt(piece).toString()
      return {problem: `${o!.name}: ${q(piece)} never equals an integer's decimal text (did you mean ${canonical}?)`}
    }
    return piece
  }
  if (o && TIMES.has(o.attr)) {
    const t = parseTime(piece)
    if (t !== undefined && t >= INT64_MIN && t <= INT64_MAX) return t.toString()
    return {problem: `${o.name}: ${q(piece)} is neither nanoseconds since the epoch nor an ISO-8601 time`}
  }
  if (o && o.attr === NET_PROTO) {
    const n = PROTOCOLS[piece.toLowerCase()]
    return {problem: `${o.name}: ${q(piece)} is not an IANA protocol number (${n === undefined ? '6 is tcp, 17 udp' : `did you mean ${n}?`})`}
  }
  return {problem: o ? `${o.name}: ${q(piece)} is not an integer` : `${q(piece)} is not an integer (<, <=, >, >= compare integers)`}
}

function holds(use: LiteralUse, name: string, piece: string): boolean {
  switch (use) {
    case 'contains': return name.includes(piece)
    case 'icontains': return name.toLowerCase().includes(piece.toLowerCase())
    case 'startswith': return name.startsWith(piece)
    case 'endswith': return name.endsWith(piece)
    default: return name === piece
  }
}

const USE_WORDS: Record<string, string> = {contains: 'contains', icontains: 'contains (ignoring case)', startswith: 'starts with', endswith: 'ends with'}

function checkDomain(o: AttrOperand, d: Domain, use: LiteralUse, piece: string): {problem: string} | undefined {
  if (piece === '' ? d.empty || use !== '=' : d.names.some((n) => holds(use, n, piece))) return undefined
  const suggest = use === '=' && piece !== ''
  let did = suggest ? closestNames(piece, d.names, 3) : []
  // A part of a name (PODS for K8S_PODS), or names run together (the collector's WRITE_SEND for WRITE and SEND),
  // are far by edit distance.
  const lower = piece.toLowerCase()
  if (suggest && did.length === 0) did = d.names.filter((n) => n.toLowerCase().includes(lower)).slice(0, 3)
  if (suggest && did.length === 0) did = d.names.filter((n) => lower.includes(n.toLowerCase())).slice(0, 3)
  const rest = did.length ? `did you mean ${did.join(', ')}?` : `one of: ${d.names.join(', ')}`
  if (use === '=') return {problem: `${o.name}: ${q(piece)} is not a${/^[aeiou]/i.test(d.what) ? 'n' : ''} ${d.what} (${rest})`}
  return {problem: `${o.name}: no ${d.what} ${USE_WORDS[use]} ${q(piece)} (${rest})`}
}

function checkPiece(o: AttrOperand, kind: NonNullable<Kind>, use: LiteralUse, piece: string): string | {problem: string} {
  switch (kind.type) {
    case 'int':
      if (use === '=') return piece === '' ? {problem: `${o.name}: the empty value never equals an integer`} : checkInt(o, piece, true)
      // Substring tests on the decimal text: digits (and a sign) only.
      return /^-?\d*$/.test(piece) ? piece : {problem: `${o.name}: no integer's decimal text ${USE_WORDS[use]} ${q(piece)}`}
    case 'char':
      return [...piece].length <= 1 ? piece : {problem: `${o.name}: ${q(piece)} is not one character (f file, d directory, 4/6 IP socket, u unix socket, p pipe, ? unknown)`}
    case 'domain':
      return checkDomain(o, kind.domain, use, piece) ?? piece
  }
}

/**
 * Check a literal used with an attribute operand (undefined: compared with another literal). `<`, `>`... (use
 * 'int') need an int64 whatever the attribute; the other uses check each ','-piece against what the attribute reads.
 */
export function checkLiteral(o: AttrOperand | undefined, use: LiteralUse, value: string): Checked {
  if (use === 'int') {
    // Named in the message only when the attribute is an integer (not a string or JSON path read as one).
    const r = checkInt(o && kindOf(o)?.type === 'int' ? o : undefined, value, false)
    return typeof r === 'string' ? {value: r} : r
  }
  if (!o) return {value}
  const kind = kindOf(o)
  if (!kind) return {value}
  const out: string[] = []
  for (const piece of value.split(',')) {
    const r = checkPiece(o, kind, use, piece)
    if (typeof r !== 'string') return r
    out.push(r)
  }
  return {value: out.join(',')}
}
