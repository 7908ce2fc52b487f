// Locating the shared reference material (../shared next to the repository). Tests that use it skip visibly when
// it is absent; they never fail for its absence.
import fs from 'node:fs'
import path from 'node:path'

/** Absolute path of ../shared/<sub> relative to the repository root (ava runs with cwd = the package root). */
export function sharedPath(...sub: string[]): string {
  return path.resolve(process.cwd(), '../shared', ...sub)
}

/** The directory ../shared/<sub>, or undefined when it is not there. */
export function sharedDir(...sub: string[]): string | undefined {
  const p = sharedPath(...sub)
  try {
    return fs.statSync(p).isDirectory() ? p : undefined
  } catch {
    return undefined
  }
}

/** Every `.sf` file under a directory, sorted, as absolute paths. */
export function listTraces(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile() && e.name.endsWith('.sf')) out.push(p)
    }
  }
  walk(dir)
  return out.sort()
}
