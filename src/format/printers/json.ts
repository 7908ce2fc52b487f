// JSON printers: `flatjson` (sysprint's dotted keys) and `json` (the same values nested by key segment), one object
// per line. Values come from the attribute catalogue's print face; bigints are written as exact integers.
import {Attribute, findAttribute, PrintValue} from '../attributes.js'
import {Joined} from '../join.js'

/** JSON text of a print value; bigints stay exact (JSON.stringify cannot take them). */
export function jsonValue(v: PrintValue): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v)
    case 'bigint':
      return v.toString()
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null'
    case 'boolean':
      return v ? 'true' : 'false'
    default:
      if (v === null) return 'null'
      if (Array.isArray(v)) return `[${v.map(jsonValue).join(', ')}]`
      return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${jsonValue(x)}`).join(', ')}}`
  }
}

export interface Column {
  key: string
  attr: Attribute | undefined
}

/** Resolve output keys against the catalogue. Unknown keys print "" (sysprint does the same in JSON). */
export function columns(keys: readonly string[]): Column[] {
  return keys.map((key) => ({key, attr: findAttribute(key)}))
}

/** A function that renders one joined record as a flatjson line (without newline). */
export function flatJsonLine(cols: readonly Column[]): (j: Joined) => string {
  const prefixes = cols.map((c, i) => `${i === 0 ? '{' : ', '}${JSON.stringify(c.key)}: `)
  const getters = cols.map((c) => c.attr?.print ?? (() => ''))
  const n = cols.length
  return (j) => {
    let s = ''
    for (let i = 0; i < n; i++) s += prefixes[i] + jsonValue(getters[i](j))
    return n === 0 ? '{}' : s + '}'
  }
}

type Tree = Map<string, Tree | number>

/** A function that renders one joined record as a nested json line: `proc.pid` becomes {"proc": {"pid": ...}}. */
export function nestedJsonLine(cols: readonly Column[]): (j: Joined) => string {
  // Group keys by dotted segments, in first-key order, once.
  const root: Tree = new Map()
  cols.forEach((c, i) => {
    const parts = c.key.split('.')
    let node = root
    for (const part of parts.slice(0, -1)) {
      let next = node.get(part)
      if (typeof next !== 'object') {
        next = new Map()
        node.set(part, next)
      }
      node = next
    }
    node.set(parts[parts.length - 1], i)
  })
  const getters = cols.map((c) => c.attr?.print ?? (() => ''))
  const render = (node: Tree, j: Joined): string => {
    let s = '{'
    let first = true
    for (const [k, v] of node) {
      s += `${first ? '' : ', '}${JSON.stringify(k)}: ${typeof v === 'number' ? jsonValue(getters[v](j)) : render(v, j)}`
      first = false
    }
    return s + '}'
  }
  return (j) => render(root, j)
}
