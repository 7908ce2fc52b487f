// Input resolution: files, directories of rotated traces, globs and `-` (stdin) -> an ordered list of inputs.
import fs from 'node:fs'
import path from 'node:path'
import {InputPathError} from './errors.js'
import {fileInput, streamInput, TraceInput} from './reader.js'

/** Sort key of rotated traces: the last run of digits in the name (`trace.1531776682`, `mon.1531776712.sf`). */
function numericSuffix(name: string): bigint | undefined {
  const m = /(\d+)(?!.*\d)/.exec(path.basename(name))
  return m ? BigInt(m[1]) : undefined
}

/** Order rotated traces by their numeric suffix, then by name. */
export function sortRotated(files: string[]): string[] {
  return [...files].sort((a, b) => {
    const na = numericSuffix(a)
    const nb = numericSuffix(b)
    if (na !== undefined && nb !== undefined && na !== nb) return na < nb ? -1 : 1
    if ((na === undefined) !== (nb === undefined)) return na === undefined ? 1 : -1
    return a < b ? -1 : a > b ? 1 : 0
  })
}

const GLOB_CHARS = /[*?[]/

function globSegmentRegex(seg: string): RegExp {
  let re = ''
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i]
    if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else if (ch === '[') {
      const close = seg.indexOf(']', i + 2)
      if (close < 0) re += '\\['
      else {
        const body = seg.slice(i + 1, close).replace(/\\/g, '\\\\')
        re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`
        i = close
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** Expand a glob (`*`, `?`, `[...]`, `**`) into the files it matches, in rotation order. */
export function expandGlob(pattern: string): string[] {
  const abs = path.isAbsolute(pattern)
  const segs = pattern.split('/').filter((s, i) => s !== '' || i === 0)
  if (abs) segs.shift()
  const out: string[] = []
  const walk = (dir: string, rest: string[]): void => {
    if (rest.length === 0) return
    const [seg, ...tail] = rest
    if (seg === '**') {
      walk(dir, tail)
      for (const e of safeReaddir(dir)) if (e.isDirectory() && !e.name.startsWith('.')) walk(path.join(dir, e.name), rest)
      return
    }
    if (!GLOB_CHARS.test(seg)) {
      const next = path.join(dir, seg)
      if (tail.length === 0) {
        if (isFile(next)) out.push(next)
      } else walk(next, tail)
      return
    }
    const re = globSegmentRegex(seg)
    for (const e of safeReaddir(dir)) {
      if (!re.test(e.name) || (e.name.startsWith('.') && !seg.startsWith('.'))) continue
      const next = path.join(dir, e.name)
      if (tail.length === 0) {
        if (isFile(next)) out.push(next)
      } else walk(next, tail)
    }
  }
  walk(abs ? '/' : '.', segs)
  return sortRotated([...new Set(out)].map((p) => (abs || p.startsWith('..') ? p : p.replace(/^\.\//, ''))))
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, {withFileTypes: true})
  } catch {
    return []
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile()
  } catch {
    return false
  }
}

export interface ResolveOptions {
  /** The stream `-` stands for. */
  stdin?: NodeJS.ReadableStream
}

/**
 * Turn command-line paths into inputs: a file as is; a directory as its (non-hidden) files in rotation order;
 * a glob as its matches; `-` as stdin. A path that names nothing throws InputPathError.
 */
export function resolveInputs(paths: readonly string[], opts: ResolveOptions = {}): TraceInput[] {
  const out: TraceInput[] = []
  for (const p of paths) {
    if (p === '-') {
      if (!opts.stdin) throw new InputPathError('-', -1, 'standard input is not available')
      out.push(streamInput('<stdin>', opts.stdin))
      continue
    }
    let st: fs.Stats | undefined
    try {
      st = fs.statSync(p)
    } catch {
      st = undefined
    }
    if (st?.isDirectory()) {
      const files = safeReaddir(p).filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isSymbolicLink())).map((e) => path.join(p, e.name)).filter(isFile)
      if (files.length === 0) throw new InputPathError(p, -1, 'directory holds no trace files')
      out.push(...sortRotated(files).map(fileInput))
    } else if (st) {
      out.push(fileInput(p))
    } else if (GLOB_CHARS.test(p)) {
      const files = expandGlob(p)
      if (files.length === 0) throw new InputPathError(p, -1, 'no file matches this pattern')
      out.push(...files.map(fileInput))
    } else {
      throw new InputPathError(p, -1, 'no such file or directory')
    }
  }
  return out
}
