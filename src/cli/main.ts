// The process entry (bin/run.js): oclif runs the command; anything that escapes it (a flag oclif's parser rejects,
// an unknown command, an error before a command's own guard) becomes the same one line `sysflow: error: ...` and
// exit code as every other error, instead of oclif's `› Error:` block and usage dump.
import {Errors, flush, run, settings} from '@oclif/core'
import {closestNames} from '../format/suggest.js'
import {printable} from '../format/avro/container.js'
import {EXIT_INPUT, EXIT_USAGE} from './report.js'

/** Parser messages come in several lines ("Parsing --limit", "\tExpected an integer ...", "See more help with --help"). */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with/.test(l) && !/^The following errors? occurred:?$/.test(l))
    .join(': ')
    // oclif's phrasing, in the voice of the other errors: the flag first, lower case.
    .replace(/^Parsing (--[\w-]+): Expected/, '$1: expected')
    .replace(/^Expected (--[\w-]+)=(.*) to be one of: /, "$1: '$2' is not one of: ")
    .replace(/^Missing required flag ([\w-]+)/, 'missing required flag --$1')
    .replace(/^Nonexistent flags?/, 'unknown flag')
}

interface ParseErrorShape {
  parse?: {input?: {flags?: Record<string, {char?: string; hidden?: boolean}>}}
  flags?: string[]
}

/** "Nonexistent flag: --colour" -> add the closest flag names the command has. */
function flagHint(e: ParseErrorShape): string {
  const defined = e.parse?.input?.flags
  if (!defined || !e.flags?.length) return ''
  // Compared without the dashes, so that they do not widen the distance allowed.
  const names = Object.entries(defined).filter(([, f]) => !f.hidden).map(([n]) => n)
  const near = closestNames(e.flags[0].replace(/=.*/, '').replace(/^-+/, ''), names)
  return near.length ? ` (did you mean ${near.map((n) => `--${n}`).join(' or ')}?)` : ''
}

/** The message and exit code of an error that reached the top. */
export function describeTopLevel(e: unknown): {message?: string; code: number} {
  if (e instanceof Errors.ExitError) return {code: e.oclif.exit ?? 0}
  const err = e instanceof Error ? e : new Error(String(e))
  const own = (err as {exitCode?: number}).exitCode
  if (typeof own === 'number') return {message: printable(err.message), code: own}
  if (err instanceof Errors.CLIError) {
    // Every parser error (unknown flag, bad value, missing flag or argument) is a usage error.
    const isParse = 'parse' in err
    const text = oneLine(err.message) + (isParse ? flagHint(err as ParseErrorShape) : '')
    return {message: printable(text), code: isParse ? EXIT_USAGE : (err.oclif.exit ?? EXIT_USAGE)}
  }
  return {message: printable(oneLine(err.message)), code: EXIT_INPUT}
}

export async function main(dir: string): Promise<void> {
  // The commands always run compiled: never look for TypeScript sources (under NODE_ENV=development or test oclif
  // would, and warn on stderr when typescript is not installed, as in an installed package).
  settings.enableAutoTranspile = false
  try {
    await run(process.argv.slice(2), dir)
    await flush()
  } catch (e) {
    const {message, code} = describeTopLevel(e)
    if (message) process.stderr.write(`sysflow: error: ${message}\n`)
    if (process.argv.includes('--debug') && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`)
    process.exitCode = code
  }
}
