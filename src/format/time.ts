// Exact nanosecond time formatting and parsing. Timestamps are bigint nanoseconds since the epoch.

const NS_PER_MS = 1_000_000n

// Flows end, and are written, long after they start, so timestamps arrive out of order but within a few seconds
// of each other: keep the last SLOTS seconds' ranges and ISO prefixes. A hit costs bigint comparisons (no
// allocation) and one subtraction; a miss formats the prefix with integer arithmetic, not Date.
const SLOTS = 16
const starts: bigint[] = new Array(SLOTS).fill(0n)
const ends: bigint[] = new Array(SLOTS).fill(0n)
const prefixes: string[] = new Array(SLOTS).fill('')
const prefixBytes: Buffer[] = new Array(SLOTS).fill(Buffer.alloc(0))
let victim = 0
/** The `YYYY-MM-DDTHH:MM:SS.` bytes of the last isoSplit. */
export let isoPrefixBytes: Buffer = Buffer.alloc(0)

const two = (n: number) => (n < 10 ? '0' : '') + n

/** `YYYY-MM-DDTHH:MM:SS.` of a second since the epoch (proleptic Gregorian, H. Hinnant's civil_from_days). */
function isoSecondPrefix(sec: number): string {
  const days = Math.floor(sec / 86400)
  const rem = sec - days * 86400
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0)
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, '0') : (y < 0 ? '-' : '+') + String(Math.abs(y)).padStart(6, '0')
  return `${year}-${two(m)}-${two(d)}T${two(Math.floor(rem / 3600))}:${two(Math.floor(rem / 60) % 60)}:${two(rem % 60)}.`
}

/** Split a timestamp for ISO output: sets the second's prefix (isoPrefixBytes) and returns the nanoseconds. */
export function isoSplit(ns: bigint): number {
  for (let i = 0; i < SLOTS; i++) {
    if (ns >= starts[i] && ns < ends[i]) {
      isoPrefixBytes = prefixBytes[i]
      lastPrefix = prefixes[i]
      return Number(ns - starts[i])
    }
  }
  let sub = ns % 1_000_000_000n
  if (sub < 0n) sub += 1_000_000_000n
  const start = ns - sub
  const i = victim
  victim = (victim + 1) % SLOTS
  starts[i] = start
  ends[i] = start + 1_000_000_000n
  prefixes[i] = lastPrefix = isoSecondPrefix(Number(start / 1_000_000_000n))
  prefixBytes[i] = isoPrefixBytes = Buffer.from(lastPrefix, 'latin1')
  return Number(sub)
}
let lastPrefix = ''

/** ISO-8601 UTC with nine fractional digits and `Z`, e.g. 2019-03-25T19:48:00.704111050Z. */
export function isoNanos(ns: bigint): string {
  const sub = isoSplit(ns)
  // 1e9 + n has ten digits: drop the leading 1 to get n zero-padded to nine.
  return lastPrefix + String(1_000_000_000 + sub).slice(1) + 'Z'
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
