// Flags shared by the commands that select records (print, convert): filter, rules, time window, limit; and the
// choice of output stream (file or stdout, terminal width, colour).
import fs from 'node:fs'
import {Flags} from '@oclif/core'
import {checkOutputPath} from '../format/convert/safe.js'
import {compileFilter, parseRules} from '../format/filter/index.js'
import {Joined} from '../format/join.js'
import {parseTime} from '../format/time.js'
import {Output} from './output.js'
import {UsageError} from './report.js'

export const selectionFlags = {
  filter: Flags.string({char: 'f', description: 'Keep records matching this SysFlow policy condition, e.g. "sf.type = FF and sf.file.path startswith /etc".'}),
  rules: Flags.string({description: 'A SysFlow/Falco-style policy file whose lists and macros the filter may use.'}),
  since: Flags.string({description: 'Keep records starting at or after this time (ISO-8601, or nanoseconds since the epoch).'}),
  until: Flags.string({description: 'Keep records starting before this time (ISO-8601, or nanoseconds since the epoch).'}),
  limit: Flags.integer({description: 'Stop after this many records.', min: 0}),
}

export interface Selection {
  filter?: (j: Joined) => boolean
  since?: bigint
  until?: bigint
  limit?: number
}

function time(flag: string, text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined
  const t = parseTime(text)
  if (t === undefined) throw new UsageError(`--${flag}: '${text}' is neither an ISO-8601 time nor nanoseconds since the epoch`)
  return t
}

/** Turn the selection flags into library options. Filter syntax errors propagate (FilterSyntaxError, exit 2). */
export function selectionOptions(flags: {filter?: string; rules?: string; since?: string; until?: string; limit?: number}): Selection {
  let rules
  if (flags.rules !== undefined) {
    let text: string
    try {
      text = fs.readFileSync(flags.rules, 'utf8')
    } catch (e) {
      throw new UsageError(`--rules: cannot read ${flags.rules} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
    }
    rules = parseRules(text, flags.rules)
  }
  const since = time('since', flags.since)
  const until = time('until', flags.until)
  if (since !== undefined && until !== undefined && until <= since) throw new UsageError('--until must be later than --since')
  return {filter: flags.filter === undefined ? undefined : compileFilter(flags.filter, {rules}), since, until, limit: flags.limit}
}

export interface OutputTarget {
  out: Output
  /** Writing to a terminal. */
  tty: boolean
  columns: number
  color: boolean
}

/** stdout or a file (checked by the overwrite rule first); colour from --color (auto: a terminal and no NO_COLOR). */
export function outputTarget(file: string | undefined, color: string, force = false): OutputTarget {
  if (file !== undefined) checkOutputPath(file, {force})
  const tty = file === undefined && process.stdout.isTTY === true
  const useColor = color === 'always' || (color === 'auto' && tty && !process.env.NO_COLOR)
  return {
    out: file === undefined ? new Output(process.stdout) : Output.toFile(file),
    tty,
    columns: tty ? process.stdout.columns || 80 : 80,
    color: useColor,
  }
}
