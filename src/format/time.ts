// Exact nanosecond time formatting and parsing. Timestamps are bigint nanoseconds since the epoch.

const NS_PER_MS = 1_000_000n

// Records come in time order, so the date-and-seconds prefix rarely changes: keep the last one.
let lastSecond = -1n
let lastPrefix = ''

/** ISO-8601 UTC with nine fractional digits and `Z`, e.g. 2019-03-25T19:48:00.704111050Z. */
export function isoNanos(ns: bigint): string {
  let sub = ns % 1_000_000_000n
  if (sub < 0n) sub += 1_000_000_000n
  const second = ns - sub
  if (second !== lastSecond) {
    lastPrefix = new Date(Number(second / NS_PER_MS)).toISOString().slice(0, 19)
    lastSecond = second
  }
  return `${lastPrefix}.${sub.toString().padStart(9, '0')}Z`
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
