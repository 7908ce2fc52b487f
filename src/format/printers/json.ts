// JSON printers: `flatjson` (sysprint's dotted keys) and `json` (the same values nested by key segment), one object
// per line. Values come from the attribute catalogue's print face; bigints are written as exact integers.
import {Attribute, EntityDep, findAttribute, PrintValue} from '../attributes.js'
import {Joined} from '../join.js'
import {ByteBuilder} from './bytes.js'

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

/** Write a print value as JSON into a byte builder. */
export function writeJson(b: ByteBuilder, v: PrintValue): void {
  switch (typeof v) {
    case 'string':
      return b.jsonString(v)
    case 'bigint':
      return b.integer(v)
    case 'number':
      return Number.isFinite(v) ? b.text(String(v)) : b.text('null')
    case 'boolean':
      return b.text(v ? 'true' : 'false')
    default:
      return b.text(jsonValue(v))
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

/** Renders one record into a byte builder. */
export type LineRenderer = (j: Joined, b: ByteBuilder) => void
/** Renders one value of a column. */
export type CellWriter = (b: ByteBuilder, v: PrintValue) => void

/** A line template: literal text and column indexes, in order. */
export type Piece = string | number

/**
 * Compile a template into a renderer. Runs of columns that read only one entity (same `dep`) are rendered once
 * per entity and cached as bytes: a process's dozen keys cost one lookup and one copy per record.
 */
export function compileTemplate(pieces: readonly Piece[], cols: readonly Column[], cell: CellWriter = writeJson): LineRenderer {
  const getters = cols.map((c) => c.attr?.print ?? (() => ''))
  const depOf = (i: number): EntityDep | undefined => cols[i].attr?.dep
  const parts: LineRenderer[] = []
  let i = 0
  while (i < pieces.length) {
    // A run: optional leading text, then columns of one dep with the text between (and, at the end, after) them.
    let j = i
    while (j < pieces.length && typeof pieces[j] === 'string') j++
    const dep = j < pieces.length ? depOf(pieces[j] as number) : undefined
    let end = Math.min(j + 1, pieces.length)
    if (dep !== undefined) {
      while (end < pieces.length && (typeof pieces[end] === 'string' || depOf(pieces[end] as number) === dep)) end++
      while (end > j + 1 && end < pieces.length && typeof pieces[end - 1] === 'string') end--
    }
    const run = pieces.slice(i, end)
    parts.push(dep === undefined ? renderRun(run, getters, cell) : cachedRun(run, getters, cell, dep))
    i = end
  }
  const params = parts.map((_, k) => `p${k}`)
  // eslint-disable-next-line no-new-func
  return new Function(...params, `return function renderLine(j, b) {\n${params.map((p) => `${p}(j, b);`).join('\n')}\n}`)(...parts) as LineRenderer
}

/**
 * One straight-line function per run, so every getter call site stays monomorphic. The generated text holds only
 * numbered parameter names; the texts and getters are passed in as arguments.
 */
function renderRun(run: readonly Piece[], getters: ((j: Joined) => PrintValue)[], cell: CellWriter): LineRenderer {
  const params: string[] = ['cell']
  const args: unknown[] = [cell]
  const body: string[] = []
  run.forEach((p, i) => {
    params.push(`a${i}`)
    if (typeof p === 'string') {
      args.push(Buffer.from(p, 'utf8'))
      body.push(`b.bytes(a${i});`)
    } else {
      args.push(getters[p])
      body.push(`cell(b, a${i}(j));`)
    }
  })
  // eslint-disable-next-line no-new-func
  return new Function(...params, `return function renderRun(j, b) {\n${body.join('\n')}\n}`)(...args) as LineRenderer
}

function cachedRun(run: readonly Piece[], getters: ((j: Joined) => PrintValue)[], cell: CellWriter, dep: EntityDep): LineRenderer {
  const render = renderRun(run, getters, cell)
  // Entities are never mutated; a WeakMap lets the cache die with the join tables.
  const cache = new WeakMap<object, Buffer>()
  let absent: Buffer | undefined
  const renderToBytes = (j: Joined, b: ByteBuilder): Buffer => {
    const start = b.pos
    render(j, b)
    const bytes = b.copyFrom(start)
    b.pos = start
    return bytes
  }
  return (j, b) => {
    const e = j[dep]
    let bytes: Buffer | undefined
    if (e === undefined) bytes = absent ??= renderToBytes(j, b)
    else {
      bytes = cache.get(e)
      if (bytes === undefined) {
        bytes = renderToBytes(j, b)
        cache.set(e, bytes)
      }
    }
    b.bytes(bytes)
  }
}

/** Renders one joined record as a flatjson line (without newline). */
export function flatJsonLine(cols: readonly Column[]): LineRenderer {
  if (cols.length === 0) return (_j, b) => b.text('{}')
  const pieces: Piece[] = []
  cols.forEach((c, i) => pieces.push(`${i === 0 ? '{' : ', '}${JSON.stringify(c.key)}: `, i))
  pieces.push('}')
  return compileTemplate(pieces, cols)
}

type Tree = Map<string, Tree | number>

/** Renders one joined record as a nested json line: `proc.pid` becomes {"proc": {"pid": ...}}. */
export function nestedJsonLine(cols: readonly Column[]): LineRenderer {
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
  const pieces: Piece[] = []
  const emit = (node: Tree): void => {
    let first = true
    pieces.push('{')
    for (const [k, v] of node) {
      pieces.push(`${first ? '' : ', '}${JSON.stringify(k)}: `)
      if (typeof v === 'number') pieces.push(v)
      else emit(v)
      first = false
    }
    pieces.push('}')
  }
  emit(root)
  // Merge adjacent text pieces so runs stay short.
  const merged: Piece[] = []
  for (const p of pieces) {
    const last = merged.length - 1
    if (typeof p === 'string' && typeof merged[last] === 'string') merged[last] = (merged[last] as string) + p
    else merged.push(p)
  }
  return compileTemplate(merged, cols)
}
