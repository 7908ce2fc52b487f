// A JSON parser that keeps integers exact: integer literals outside the safe range become bigint, every other
// number is a JS number. Used to compare our output and sysprint's with nanosecond timestamps above 2^53 intact.

export type ExactJson = string | number | bigint | boolean | null | ExactJson[] | {[k: string]: ExactJson}

export function parseJsonExact(text: string): ExactJson {
  let i = 0
  const fail = (what: string): never => {
    throw new SyntaxError(`JSON: ${what} at position ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))}`)
  }
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const str = (): string => {
    const start = i
    i++ // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    if (i >= text.length) fail('unterminated string')
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const value = (): ExactJson => {
    ws()
    const ch = text[i]
    if (ch === '{') {
      i++
      const obj: {[k: string]: ExactJson} = {}
      ws()
      if (text[i] === '}') {
        i++
        return obj
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail('expected a key')
        const k = str()
        ws()
        if (text[i] !== ':') fail('expected ":"')
        i++
        obj[k] = value()
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return obj
        }
        fail('expected "," or "}"')
      }
    }
    if (ch === '[') {
      i++
      const arr: ExactJson[] = []
      ws()
      if (text[i] === ']') {
        i++
        return arr
      }
      for (;;) {
        arr.push(value())
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return arr
        }
        fail('expected "," or "]"')
      }
    }
    if (ch === '"') return str()
    if (text.startsWith('true', i)) {
      i += 4
      return true
    }
    if (text.startsWith('false', i)) {
      i += 5
      return false
    }
    if (text.startsWith('null', i)) {
      i += 4
      return null
    }
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i, i + 400))
    if (!m) return fail('unexpected character')
    i += m[0].length
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0])
      return Number.isSafeInteger(n) ? n : BigInt(m[0])
    }
    return Number(m[0])
  }
  const v = value()
  ws()
  if (i !== text.length) fail('trailing characters')
  return v
}

/** The same value with bigints turned into (rounded) numbers: what JSON.parse would have produced. */
export function lossy(v: ExactJson): unknown {
  if (typeof v === 'bigint') return Number(v)
  if (Array.isArray(v)) return v.map(lossy)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, lossy(x)]))
  return v
}
