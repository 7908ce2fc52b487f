// Trace strings are attacker-controlled. Human output (str, table) must not let them move the cursor, recolour the
// terminal, fake extra lines or reorder text: control characters, ANSI escapes and bidi overrides are shown as
// visible escapes instead. Machine formats (JSON, CSV) escape by their own rules.

// C0 and C1 controls, DEL, and the Unicode characters that reorder or split displayed text.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
// eslint-disable-next-line no-control-regex
const UNSAFE_TEST = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e', '\u0000': '\\0'}

/** The text with every unsafe character replaced by a visible escape (`\n`, `\e`, `\x07`, `\u202e`). */
export function escapeControl(s: string): string {
  if (!UNSAFE_TEST.test(s)) return s
  return s.replace(UNSAFE, (ch) => {
    const named = NAMED[ch]
    if (named) return named
    const code = ch.charCodeAt(0)
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
