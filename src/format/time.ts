// Exact nanosecond time formatting and parsing. Timestamps are bigint nanoseconds since the epoch.

const NS_PER_MS = 1_000_000n

// Records come nearly in time order, so most fall in a second seen just before: keep the last few seconds'
// prefixes and ranges (a flow's start and end are often in different seconds), and the nanosecond part is then
// one bigint subtraction and a number.
const SLOTS = 4
const starts: bigint[] = new Array(SLOTS).fill(1n)
const prefixes: string[] = new Array(SLOTS).fill('')
let victim = 0

/** ISO-8601 UTC with nine fractional digits and `Z`, e.g. 2019-03-25T19:48:00.704111050Z. */
export function isoNanos(ns: bigint): string {
  for (let i = 0; i < SLOTS; i++) {
    const d = ns - starts[i]
    if (d >= 0n && d < 1_000_000_000n) return prefixes[i] + String(1_000_000_000 + Number(d)).slice(1) + 'Z'
  }
  let sub = ns % 1_000_000_000n
  if (sub < 0n) sub += 1_000_000_000n
  const start = ns - sub
  const i = victim
  victim = (victim + 1) % SLOTS
  starts[i] = start
  prefixes[i] = new Date(Number(start / NS_PER_MS)).toISOString().slice(0, 19) + '.'
  // 1e9 + n has ten digits: drop the leading 1 to get n zero-padded to nine.
  return prefixes[i] + String(1_000_000_000 + Number(sub)).slice(1) + 'Z'
}

/**
 * Parse a time given as nanoseconds (digits) or as an ISO-8601 date/time (fraction up to nine digits, `Z` or an
 * offset; no zone means UTC). Returns undefined when the text is neither.
 */
export function parseTime(text: string): bigint | undefined {
  const t = text.trim()
  if (/^-?\d+$/.test(t)) return BigInt(t)
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(t)
  if (!m) return undefined
  const [, date, clock = '00:00:00', frac = '', zone = 'Z'] = m
  const ms = Date.parse(`${date}T${clock.length === 5 ? clock + ':00' : clock}${zone.toUpperCase() === 'Z' ? 'Z' : zone}`)
  if (Number.isNaN(ms)) return undefined
  return BigInt(ms) * NS_PER_MS + BigInt(frac.padEnd(9, '0') || '0')
}
