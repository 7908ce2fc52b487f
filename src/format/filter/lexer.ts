// The tokens of the SysFlow policy condition language (sf-processor's Sfpl.g4, docs/filters.md):
// keywords, comparison operators, parentheses, commas, brackets, quoted strings and bare words.
//
// A bare word is an attribute name, a macro or list name, a number or a path: it starts with a letter, digit,
// '_', '/' or '.', and goes on with those and '-', '*', ':' (between word characters, as in `nginx:1.25`).
// It may carry one bracket suffix `[...]` (a JSON path, `sf.pod.services[0.clusterip.0]`), which may hold any
// character but whitespace and brackets. A '-' directly followed by a digit also starts a word (negative
// numbers, which the processor's grammar cannot write). '#' starts a comment that runs to the end of the line.
import {FilterSyntaxError} from './errors.js'

export type TokenKind =
  | 'word' // bare word
  | 'string' // '...' or "..."
  | 'kw' // and, or, not, in, pmatch, exists, and the word operators
  | 'op' // = != < <= > >=
  | '(' | ')' | ',' | '[' | ']'
  | 'eof'

export interface Token {
  kind: TokenKind
  /** The source text of the token (quotes included for strings). */
  text: string
  /** 0-based offset of its first character. */
  pos: number
}

export const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'pmatch', 'exists', 'contains', 'icontains', 'startswith', 'endswith'])

const isWordStart = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 /* _ */ || c === 47 /* / */ || c === 46 /* . */
const isDigit = (c: number) => c >= 48 && c <= 57
const isWordChar = (c: number) => isWordStart(c) || c === 45 /* - */ || c === 42 /* * */
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12

export function tokenize(src: string): Token[] {
  const out: Token[] = []
  const n = src.length
  let i = 0
  const fail = (msg: string, at: number): never => {
    throw new FilterSyntaxError(msg, src, at)
  }
  while (i < n) {
    const c = src.charCodeAt(i)
    if (isSpace(c)) {
      i++
      continue
    }
    if (c === 35 /* # */) {
      while (i < n && src.charCodeAt(i) !== 10) i++
      continue
    }
    const start = i
    const ch = src[i]
    switch (ch) {
      case '(': case ')': case ',': case '[': case ']':
        out.push({kind: ch, text: ch, pos: i++})
        continue
      case '=':
        if (src[i + 1] === '=') fail("unexpected '==' (the equality operator is '=')", i)
        out.push({kind: 'op', text: '=', pos: i++})
        continue
      case '!':
        if (src[i + 1] !== '=') fail("unexpected '!' (did you mean '!=' or 'not'?)", i)
        out.push({kind: 'op', text: '!=', pos: i})
        i += 2
        continue
      case '<': case '>': {
        const two = src[i + 1] === '='
        out.push({kind: 'op', text: two ? `${ch}=` : ch, pos: i})
        i += two ? 2 : 1
        continue
      }
      case '"': case "'": {
        let j = i + 1
        while (j < n && src[j] !== ch && src[j] !== '\n' && src[j] !== '\r') j++
        if (j >= n || src[j] !== ch) fail('unterminated string', i)
        out.push({kind: 'string', text: src.slice(i, j + 1), pos: i})
        i = j + 1
        continue
      }
    }
    if (isWordStart(c) || (c === 45 /* - */ && isDigit(src.charCodeAt(i + 1)))) {
      i++
      while (i < n) {
        const d = src.charCodeAt(i)
        if (isWordChar(d)) {
          i++
        } else if (d === 58 /* : */ && i + 1 < n && isWordStart(src.charCodeAt(i + 1))) {
          i++
        } else if (d === 91 /* [ */) {
          // A bracket suffix: up to the closing ']', without whitespace or another '['.
          let j = i + 1
          while (j < n && src[j] !== ']' && src[j] !== '[' && !isSpace(src.charCodeAt(j))) j++
          if (j >= n || src[j] !== ']') fail("unclosed '[' in a name (a JSON path suffix ends with ']')", i)
          i = j + 1
        } else {
          break
        }
      }
      const text = src.slice(start, i)
      out.push({kind: KEYWORDS.has(text) ? 'kw' : 'word', text, pos: start})
      continue
    }
    fail(`unexpected character '${ch}' (quote values that contain it)`, i)
  }
  // The end: just past the last token, plus one column when something (space, a comment) follows it, so that
  // "missing value after '='" points after the '=' on its own line.
  const last = out[out.length - 1]
  const lastEnd = last ? last.pos + last.text.length : 0
  out.push({kind: 'eof', text: '', pos: last ? Math.min(n, lastEnd + 1) : 0})
  return out
}

/** The literal value of a string or word token: one leading and one trailing quote trimmed, as the processor does. */
export function trimQuotes(s: string): string {
  let a = 0
  let b = s.length
  if (b > 0 && (s[0] === '"' || s[0] === "'")) a = 1
  if (b > a && (s[b - 1] === '"' || s[b - 1] === "'")) b--
  return s.slice(a, b)
}
