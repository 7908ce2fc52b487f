// SQL text helpers: split a script into statements (quotes, comments and dollar quoting respected).

/** The statements of a SQL script, without their `;` and without empty ones (whitespace and comments only). */
export function splitStatements(sql: string): string[] {
  const out: string[] = []
  let start = 0
  let i = 0
  let meaningful = false
  const n = sql.length
  while (i < n) {
    const ch = sql[i]
    if (ch === '\'' || ch === '"') {
      meaningful = true
      i++
      while (i < n) {
        if (sql[i] === ch) {
          if (sql[i + 1] === ch) i += 2
          else break
        } else i++
      }
      i++
    } else if (ch === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      i = end < 0 ? n : end + 2
    } else if (ch === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))
      if (m) {
        meaningful = true
        const end = sql.indexOf(m[0], i + m[0].length)
        i = end < 0 ? n : end + m[0].length
      } else {
        meaningful = true
        i++
      }
    } else if (ch === ';') {
      if (meaningful) out.push(sql.slice(start, i).trim())
      start = i + 1
      meaningful = false
      i++
    } else {
      if (!/\s/.test(ch)) meaningful = true
      i++
    }
  }
  if (meaningful) out.push(sql.slice(start).trim())
  return out
}
