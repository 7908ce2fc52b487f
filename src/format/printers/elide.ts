// Fitting values into narrow table cells without hiding what matters. A cut never loses a value's end: a path
// keeps its last component (`/usr/lib/cgi-bin/vulnerable` -> `/u…/vulnerable`, not `/usr/lib/...`), a network
// resource `sip:sport-dip:dport` keeps both ports and the peer (its source address goes first), other text keeps
// its start and its end. Numbers and times are never cut: the table gives them their full width (cellFloor).

export const ELLIPSIS = '…'

const NON_ASCII = /[^\u0000-\u007f]/

/** Display width in code points (as the printers count it). */
export function textWidth(s: string): number {
  if (!NON_ASCII.test(s)) return s.length
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0xd800 || c > 0xdbff) n++
  }
  return n
}

function headCp(s: string, n: number): string {
  return NON_ASCII.test(s) ? Array.from(s).slice(0, n).join('') : s.slice(0, n)
}
function tailCp(s: string, n: number): string {
  if (n <= 0) return ''
  if (!NON_ASCII.test(s)) return s.slice(s.length - n)
  const cps = Array.from(s)
  return cps.slice(cps.length - n).join('')
}

// `a.b.c.d:port-a.b.c.d:port` (ipv4) or any `host:port-host:port` the resource attribute writes.
const NET_RESOURCE = /^[^\s/]*:\d+-[^\s/]*:\d+$/

/** Where a network resource's kept part starts: its source port (`:sport-dip:dport`); -1 if it is not one. */
function netKeepFrom(s: string): number {
  if (!NET_RESOURCE.test(s)) return -1
  const dash = s.indexOf('-', s.indexOf(':'))
  return s.lastIndexOf(':', dash)
}

/**
 * The narrowest width `s` may be cut to without losing what it is for: a network resource keeps `…:sport-dip:dport`,
 * anything else may go down to `min`.
 */
export function cellFloor(s: string, min: number): number {
  const w = textWidth(s)
  if (w <= min) return w
  const keep = netKeepFrom(s)
  return keep < 0 ? min : Math.min(w, 1 + textWidth(s.slice(keep)))
}

/** `s` in at most `w` code points, cut in the middle (see above); `s` itself when it fits. */
export function elide(s: string, w: number): string {
  const len = textWidth(s)
  if (len <= w) return s
  if (w <= 1) return w === 1 ? ELLIPSIS : ''
  // A rename's resource, `old, new`: each path keeps its end (the one that fits whole first).
  const comma = s.indexOf(', /')
  if (comma > 0 && s.indexOf(', /', comma + 1) < 0 && w >= 2 + 2 * 4) {
    const a = s.slice(0, comma)
    const b = s.slice(comma + 2)
    const room = w - 2
    const wb = textWidth(b)
    const wa = Math.min(textWidth(a), Math.max(Math.ceil(room / 2), room - wb))
    return `${elide(a, wa)}, ${elide(b, room - wa)}`
  }
  const keep = w - 1
  let tail: number
  if (netKeepFrom(s) >= 0) {
    tail = keep // the end carries the ports and the peer
  } else {
    const slash = s.lastIndexOf('/', s.length - 2)
    if (slash >= 0) {
      // A path: its last component whole when it fits, and at least two thirds of the room for the end.
      const last = textWidth(s.slice(slash))
      tail = Math.max(Math.ceil((keep * 2) / 3), Math.min(last, keep - 1))
    } else {
      tail = Math.floor(keep / 2)
    }
    tail = Math.max(1, Math.min(tail, keep))
  }
  return headCp(s, keep - tail) + ELLIPSIS + tailCp(s, tail)
}

/** The words of `s` in lines of at most `w` code points (a longer word is cut, keeping its end). */
export function wrapWords(s: string, w: number): string[] {
  const out: string[] = []
  let line = ''
  for (const word of s.split(' ')) {
    if (line !== '' && textWidth(line) + 1 + textWidth(word) > w) {
      out.push(line)
      line = ''
    }
    line = line === '' ? elide(word, w) : `${line} ${word}`
  }
  out.push(line)
  return out
}
