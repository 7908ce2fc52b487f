// JSON path suffixes on JSON attributes (sysflow-format.md §3.6): `sf.pod.services[0.clusterip.0]`,
// `sf.ke.message[items.0.namespace]`, `sf.pod.internalip[0]`. The processor queries them with GJSON; we accept
// the GJSON subset that addresses values (dot-separated keys, numeric indexes, `\` escapes, and `#`: the count
// of an array at the end of the path, every element of it elsewhere), translate it to a JSONPath array, and let
// jsonpath-plus evaluate it with script evaluation disabled (`eval: false`: nothing from a filter or a trace is
// ever run). Keys match exactly or, failing that, case-insensitively, so `clusterip` finds `clusterIP`.
// The result is a string: strings as they are, numbers in decimal, true/false, objects and arrays as JSON text;
// null and no match give "".
import {JSONPath} from 'jsonpath-plus'

/** A problem in a path, at `offset` characters into it. */
export class JsonPathError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message)
    this.name = 'JsonPathError'
  }
}

export interface JsonPathSpec {
  /** The path as written (between the brackets). */
  source: string
  /** The JSONPath array, '$' first (keys, index strings, '*' for a `#` before the end). */
  path: string[]
  /** The same with every key lower-cased, for the case-insensitive retry. */
  lowerPath: string[]
  /** A trailing `#`: the result is the length of the array the path reaches. */
  count: boolean
  /** A `#` before the end: several values, returned as a JSON array. */
  multi: boolean
}

// Keys jsonpath-plus addresses literally once its array path is turned into its string form and back (which
// `evaluate` does): no quotes, brackets, commas, '~', '^', '@', '$', '(' or '`', and not the '..' step.
const SAFE_KEY = /^[A-Za-z0-9_\-./: ]+$/
const SLICE = /^(-?\d*):(-?\d*):?(\d*)$/

/** Parse a GJSON-style path into a JSONPath array. Throws JsonPathError for what is not supported. */
export function parseJsonPath(source: string): JsonPathSpec {
  if (source === '') throw new JsonPathError('empty JSON path', 0)
  const steps: {text: string; raw: boolean; at: number}[] = []
  let cur = ''
  let raw = true // no escapes in this step
  let at = 0
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === '\\') {
      if (i + 1 >= source.length) throw new JsonPathError("a '\\' at the end of a JSON path escapes nothing", i)
      cur += source[++i]
      raw = false
    } else if (c === '.') {
      if (cur === '') throw new JsonPathError("empty step in JSON path (two '.' in a row, or a '.' at an end)", i)
      steps.push({text: cur, raw, at})
      cur = ''
      raw = true
      at = i + 1
    } else {
      if (c === '*' || c === '?') throw new JsonPathError(`wildcards ('${c}') are not supported in JSON paths`, i)
      if (c === '|') throw new JsonPathError("pipes ('|') are not supported in JSON paths", i)
      if (c === '@' && cur === '') throw new JsonPathError("modifiers ('@') are not supported in JSON paths", i)
      if (c === '#' && source[i + 1] === '(') throw new JsonPathError("queries ('#(...)') are not supported in JSON paths", i)
      cur += c
    }
  }
  if (cur === '') throw new JsonPathError("empty step in JSON path (a '.' at the end)", source.length)
  steps.push({text: cur, raw, at})

  const path = ['$']
  let count = false
  let multi = false
  steps.forEach((s, k) => {
    if (s.raw && s.text === '#') {
      if (k === steps.length - 1) count = true
      else {
        path.push('*')
        multi = true
      }
      return
    }
    if (!SAFE_KEY.test(s.text) || s.text === '..' || SLICE.test(s.text)) {
      throw new JsonPathError(`the JSON path key '${s.text}' holds characters that cannot be addressed (use letters, digits, '_', '-', '.', '/', ':' or spaces)`, s.at)
    }
    path.push(s.text)
  })
  const lowerPath = path.map((p) => p.toLowerCase())
  return {source, path, lowerPath, count, multi}
}

/** Parsed JSON documents by their text, bounded: a record's JSON is parsed once, and repeated texts not again. */
export class JsonDocCache {
  private readonly docs = new Map<string, {doc: unknown; lowered?: unknown}>()
  constructor(private readonly max = 256) {}

  get(text: string): {doc: unknown; lowered?: unknown} | undefined {
    let e = this.docs.get(text)
    if (e === undefined) {
      let doc: unknown
      try {
        doc = JSON.parse(text)
      } catch {
        doc = undefined
      }
      if (this.docs.size >= this.max) this.docs.clear()
      e = {doc}
      this.docs.set(text, e)
    }
    return e.doc === undefined ? undefined : e
  }
}

/** A copy of a JSON value with every object key lower-cased (the first of colliding keys wins). */
function lowerKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(lowerKeys)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = Object.create(null)
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const lk = k.toLowerCase()
      if (!(lk in out)) out[lk] = lowerKeys(x)
    }
    return out
  }
  return v
}

function query(path: string[], json: unknown): unknown[] {
  // jsonpath-plus returns undefined for a falsy document (0, "", false, null): nothing to query there anyway.
  if (json === null || typeof json !== 'object') return []
  try {
    const r = JSONPath({path, json: json as object, eval: false, wrap: true, resultType: 'value'})
    return Array.isArray(r) ? r : []
  } catch {
    return []
  }
}

/** The processor's string form of a JSON result (GJSON's String()). */
export function jsonResultString(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return JSON.stringify(v)
}

/** Evaluate a path on a parsed document: the result string ("" when nothing matches). */
export function evaluateJsonPath(spec: JsonPathSpec, entry: {doc: unknown; lowered?: unknown}): string {
  let res = query(spec.path, entry.doc)
  if (res.length === 0) {
    entry.lowered ??= lowerKeys(entry.doc)
    res = query(spec.lowerPath, entry.lowered)
  }
  if (spec.count) {
    const counts = res.filter(Array.isArray).map((a) => (a as unknown[]).length)
    if (counts.length === 0) return ''
    return spec.multi ? JSON.stringify(counts) : String(counts[0])
  }
  if (res.length === 0) return ''
  return spec.multi ? JSON.stringify(res) : jsonResultString(res[0])
}

/**
 * A function from JSON text to the path's result, with a bounded cache of results by text (records of the same
 * pod carry the same text, so most lookups are one Map hit) and a shared cache of parsed documents.
 */
export function jsonPathGetter(spec: JsonPathSpec, docs: JsonDocCache, max = 1024): (text: string) => string {
  const results = new Map<string, string>()
  let lastText: string | undefined
  let lastResult = ''
  return (text: string): string => {
    if (text === lastText) return lastResult
    let r = results.get(text)
    if (r === undefined) {
      const entry = text === '' ? undefined : docs.get(text)
      r = entry === undefined ? '' : evaluateJsonPath(spec, entry)
      if (results.size >= max) results.clear()
      results.set(text, r)
    }
    lastText = text
    lastResult = r
    return r
  }
}
