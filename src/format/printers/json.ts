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

/** The ByteBuilder method that writes a string value as the cell writer would (JSON literal or CSV field). */
export type StringWriter = 'jsonString' | 'csvText'

/**
 * Compile a template into a renderer, specialised per record kind on first use: a column the kind does not carry
 * (catalogue `on`), or one that depends on the kind alone, is rendered once and baked into the literal text. Then
 * runs of columns that read only one entity (same `dep`) are rendered once per entity and cached as bytes: a
 * process's dozen keys cost one lookup and one copy per record.
 */
export function compileTemplate(pieces: readonly Piece[], cols: readonly Column[], cell: CellWriter = writeJson, quoteTimes = true, strings: StringWriter = 'jsonString'): LineRenderer {
  const perKind: (LineRenderer | undefined)[] = []
  return (j, b) => {
    const kind = j.rec.kind
    let render = perKind[kind]
    if (render === undefined) render = perKind[kind] = compileForKind(pieces, cols, cell, quoteTimes, j, strings)
    render(j, b)
  }
}

function compileForKind(pieces: readonly Piece[], cols: readonly Column[], cell: CellWriter, quoteTimes: boolean, sample: Joined, strings: StringWriter): LineRenderer {
  const kind = sample.rec.kind
  const scratch = new ByteBuilder(256)
  const baked: Piece[] = []
  const pushText = (t: string) => {
    const last = baked.length - 1
    if (last >= 0 && typeof baked[last] === 'string') baked[last] = (baked[last] as string) + t
    else baked.push(t)
  }
  for (const p of pieces) {
    if (typeof p === 'string') {
      pushText(p)
      continue
    }
    const a = cols[p].attr
    if (!a || a.byKind || (a.on !== undefined && !a.on.includes(kind))) {
      // Constant for this kind: the sample's value is every such record's value.
      scratch.reset()
      cell(scratch, a ? a.print(sample) : '')
      pushText(scratch.view().toString('utf8'))
    } else {
      baked.push(p)
    }
  }
  return compileRuns(baked, cols, cell, quoteTimes, strings)
}

function compileRuns(pieces: readonly Piece[], cols: readonly Column[], cell: CellWriter, quoteTimes: boolean, strings: StringWriter): LineRenderer {
  const getters = cols.map((c) => c.attr?.print ?? (() => ''))
  const times = cols.map((c) => c.attr?.nanos)
  const depOf = (p: Piece): EntityDep | undefined => (typeof p === 'number' ? cols[p].attr?.dep : undefined)
  const parts: LineRenderer[] = []
  let i = 0
  while (i < pieces.length) {
    // A run: optional leading text, then adjacent record-dependent columns, or adjacent entity-dependent columns
    // (of any entities), with the text between them, and at the very end the closing text.
    let j = i
    while (j < pieces.length && typeof pieces[j] === 'string') j++
    const cached = j < pieces.length && depOf(pieces[j]) !== undefined
    let end = Math.min(j + 1, pieces.length)
    // Extend over text and columns of the same kind (entity-dependent or not); trailing text goes to the next run.
    while (end < pieces.length && (typeof pieces[end] === 'string' || (depOf(pieces[end]) !== undefined) === cached)) end++
    while (end > j + 1 && end < pieces.length && typeof pieces[end - 1] === 'string') end--
    const run = pieces.slice(i, end)
    if (cached) {
      const deps = [...new Set(run.map(depOf).filter((d): d is EntityDep => d !== undefined))]
      parts.push(cachedRun(run, getters, cell, deps, strings))
    } else {
      parts.push(renderRun(run, getters, cell, times, quoteTimes, strings))
    }
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
function renderRun(run: readonly Piece[], getters: ((j: Joined) => PrintValue)[], cell: CellWriter, times: readonly (((j: Joined) => bigint | undefined) | undefined)[] = [], quoteTimes = true, strings: StringWriter = 'jsonString'): LineRenderer {
  const params: string[] = ['cell']
  const args: unknown[] = [cell]
  const body: string[] = []
  run.forEach((p, i) => {
    params.push(`a${i}`)
    if (typeof p === 'string') {
      const bytes = Buffer.from(p, 'utf8')
      args.push(bytes)
      // Separators (`,`, `, "key": `) are most of the literal text: a few bytes are stored one by one.
      if (bytes.length <= 4) body.push([...bytes].map((c) => `b.byte(${c});`).join(' '))
      else body.push(`b.bytes(a${i});`)
    } else if (times[p] !== undefined) {
      // ISO times straight into bytes; an absent one prints as its getter says.
      args.push(times[p], getters[p])
      params.push(`g${i}`)
      body.push(`{ const v = a${i}(j); if (v === undefined) cell(b, g${i}(j)); else b.isoTime(v, ${quoteTimes}); }`)
    } else {
      // Strings and bigints, most values, are written without the cell writer's dispatch.
      args.push(getters[p])
      body.push(`{ const v = a${i}(j); if (typeof v === 'string') b.${strings}(v); else if (typeof v === 'bigint') b.integer(v); else cell(b, v); }`)
    }
  })
  // eslint-disable-next-line no-new-func
  return new Function(...params, `return function renderRun(j, b) {\n${body.join('\n')}\n}`)(...args) as LineRenderer
}

/** Stands for a missing entity in cache keys. */
const ABSENT = {}

/** Property names of Joined that a run may depend on: code below is generated from these and nothing else. */
const DEP_NAME = /^(header|proc|pproc|file|newFile|container|pod)$/

/**
 * A run that reads only entities, cached as bytes per combination of those entities: keyed by the first entity,
 * then matched on the others by identity (they rarely vary for one first entity: a process's parent, container
 * and pod are fixed when it is joined). Generated, so that each entity is a named (monomorphic) property read.
 */
function cachedRun(run: readonly Piece[], getters: ((j: Joined) => PrintValue)[], cell: CellWriter, deps: EntityDep[], strings: StringWriter): LineRenderer {
  const render = renderRun(run, getters, cell, [], true, strings)
  const renderToBytes = (j: Joined, b: ByteBuilder): Buffer => {
    const start = b.pos
    render(j, b)
    const bytes = b.copyFrom(start)
    b.pos = start
    return bytes
  }
  for (const d of deps) if (!DEP_NAME.test(d)) throw new Error(`not an entity of Joined: ${d}`)
  const [first, ...rest] = deps
  // Entities are never mutated; WeakMaps let the cache die with the join tables. Consecutive records usually
  // share their entities: the last combination is checked before the WeakMap.
  const same = (x: string) => rest.map((d, k) => `${x}.o${k} === j.${d}`).join(' && ') || 'true'
  const body = `
const cache = new WeakMap()
let last
let lastFirst = cache
return function cachedRun(j, b) {
  const e = j.${first} ?? ABSENT
  if (e === lastFirst && ${same('last')}) return b.bytes(last.bytes)
  lastFirst = e
  let entries = cache.get(e)
  if (entries !== undefined) {
    for (let i = 0; i < entries.length; i++) {
      const x = entries[i]
      if (${same('x')}) {
        last = x
        return b.bytes(x.bytes)
      }
    }
  } else {
    entries = []
    cache.set(e, entries)
  }
  const bytes = renderToBytes(j, b)
  if (entries.length >= 8) entries.shift()
  last = {${rest.map((d, k) => `o${k}: j.${d}, `).join('')}bytes}
  entries.push(last)
  b.bytes(bytes)
}`
  // eslint-disable-next-line no-new-func
  return new Function('ABSENT', 'renderToBytes', body)(ABSENT, renderToBytes) as LineRenderer
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
