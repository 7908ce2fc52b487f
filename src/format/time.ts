// Exact nanosecond time formatting and parsing. Timestamps are bigint nanoseconds since the epoch.

const NS_PER_MS = 1_000_000n

// Flows end, and are written, long after they start, so timestamps arrive out of order but within a few seconds
// of each other: keep the last SLOTS seconds and their ISO prefixes. A timestamp is split into seconds and
// nanoseconds with number arithmetic on its 16-bit digits (no bigint operation, so nothing is allocated); a hit
// then costs a few number comparisons, a miss formats the prefix with integer arithmetic, not Date.
const SLOTS = 16
// NaN marks an empty slot: -1 is a real second (1969-12-31T23:59:59), and matched the empty prefix of an unused slot.
const seconds: number[] = new Array(SLOTS).fill(NaN)
const prefixes: string[] = new Array(SLOTS).fill('')
const prefixBytes: Buffer[] = new Array(SLOTS).fill(Buffer.alloc(0))
const secondBytes: Buffer[] = new Array(SLOTS).fill(Buffer.alloc(0))
let victim = 0
/** The `YYYY-MM-DDTHH:MM:SS.` bytes of the last isoSplit. */
export let isoPrefixBytes: Buffer = Buffer.alloc(0)
/** The decimal digits of the second (since the epoch) of the last isoSplit. */
export let secondDigitBytes: Buffer = Buffer.alloc(0)
let lastPrefix = ''

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

const word = new BigInt64Array(1)
const halves = new Uint32Array(word.buffer)
const E9 = 1_000_000_000

/** The nanoseconds within the second of the last splitSeconds. */
export let splitRest = 0

/**
 * Seconds of a non-negative nanosecond long given as 32-bit words (high, low), its nanoseconds within the second
 * left in splitRest: long division by 1e9, 16 bits at a time, so every intermediate stays below 2^53.
 */
export function splitSeconds(hi: number, lo: number): number {
  let r = hi >>> 16
  const q3 = Math.floor(r / E9)
  r = (r - q3 * E9) * 65536 + (hi & 0xffff)
  const q2 = Math.floor(r / E9)
  r = (r - q2 * E9) * 65536 + (lo >>> 16)
  const q1 = Math.floor(r / E9)
  r = (r - q1 * E9) * 65536 + (lo & 0xffff)
  const q0 = Math.floor(r / E9)
  splitRest = r - q0 * E9
  return ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0
}

/** The words (high, low unsigned) of the first nanosecond of the second splitSecondStart last split. */
export let secondHi = 0
export let secondLo = 0

/**
 * splitSeconds, and the words of the first nanosecond of that second in secondHi/secondLo: printers and the
 * Parquet writer keep the second of the last time they wrote, so that a time in it costs a subtraction.
 */
export function splitSecondStart(hi: number, lo: number): number {
  const sec = splitSeconds(hi, lo)
  let l = lo - splitRest
  let h = hi
  if (l < 0) {
    l += 4294967296
    h--
  }
  secondHi = h
  secondLo = l
  return sec
}

/**
 * Split a timestamp for output: returns the nanoseconds within the second and sets the second's ISO prefix
 * (isoPrefixBytes) and decimal digits (secondDigitBytes).
 */
export function isoSplit(ns: bigint): number {
  let sec: number
  let sub: number
  word[0] = ns
  const hi = halves[1]
  if (hi < 0x80000000) {
    sec = splitSeconds(hi, halves[0])
    sub = splitRest
  } else {
    // Before 1970: rare enough for bigint arithmetic (floor division, so the nanoseconds stay positive).
    let s = ns % 1_000_000_000n
    if (s < 0n) s += 1_000_000_000n
    sub = Number(s)
    sec = Number((ns - s) / 1_000_000_000n)
  }
  for (let i = 0; i < SLOTS; i++) {
    if (seconds[i] === sec) {
      isoPrefixBytes = prefixBytes[i]
      secondDigitBytes = secondBytes[i]
      lastPrefix = prefixes[i]
      return sub
    }
  }
  const i = victim
  victim = (victim + 1) % SLOTS
  seconds[i] = sec
  prefixes[i] = lastPrefix = isoSecondPrefix(sec)
  prefixBytes[i] = isoPrefixBytes = Buffer.from(lastPrefix, 'latin1')
  secondBytes[i] = secondDigitBytes = Buffer.from(String(sec), 'latin1')
  return sub
}

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
