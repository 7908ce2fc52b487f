// Safe output: everything is written under a hidden temporary name in the target's own directory (so the final
// rename stays on one file system and is atomic), flushed to disk, and renamed into place only when complete.
// `discard` is synchronous so that a signal handler can call it: after an error, SIGINT or SIGTERM nothing
// half-written is left behind. An existing output is refused unless `force` is given.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {ConvertOptionError, OutputExistsError} from './errors.js'

/** `DIR/.<name>.tmp-<pid>-<random>`: hidden, and next to the target. */
export function tempPathFor(target: string): string {
  const abs = path.resolve(target)
  return path.join(path.dirname(abs), `.${path.basename(abs)}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`)
}

/** Something staged that can be thrown away. */
export interface Staged {
  /** Remove everything written so far. Synchronous (a signal handler calls it) and idempotent. */
  discard(): void
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p)
  } catch {
    return undefined
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** Flush a file's data to disk (and, best effort, a directory's entries). */
function fsyncPath(p: string, directory = false): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(p, 'r')
    fs.fsyncSync(fd)
  } catch (e) {
    // Some platforms cannot fsync a directory; a file that cannot be flushed is an error.
    if (!directory) throw e
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

function fsyncTree(p: string): void {
  const st = lstat(p)
  if (!st) return
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p)) fsyncTree(path.join(p, e))
    fsyncPath(p, true)
  } else if (st.isFile()) {
    fsyncPath(p)
  }
}

/** A directory that holds only what a Parquet dataset holds: `key=value` directories and `.parquet` files. */
function looksLikeDataset(dir: string): boolean {
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    if (e.isDirectory() ? !/^[^=]+=/.test(e.name) || !looksLikeDataset(path.join(dir, e.name)) : !e.name.endsWith('.parquet')) return false
  }
  return true
}

export interface StagedPathOptions {
  /** Replace an existing output. */
  force?: boolean
  /** The output is a directory (a partitioned dataset) rather than a file. */
  directory?: boolean
  /** Files a writer may create next to the temporary path (`.wal` of a database): removed on discard. */
  companions?: readonly string[]
}

/**
 * The overwrite rule every command shares (convert, print -w, query --out, capture -o): the output's directory must
 * exist (ConvertOptionError), and an existing output is refused without `force` (OutputExistsError). A file is
 * never replaced by a directory nor the other way round, and a directory only if it holds just a Parquet dataset.
 */
export function checkOutputPath(target: string, opts: {force?: boolean; directory?: boolean} = {}): void {
  const parent = path.dirname(path.resolve(target))
  if (!isDir(parent)) throw new ConvertOptionError(`${path.dirname(target)}: no such directory`)
  const st = lstat(target)
  if (st) {
    if (opts.directory ? !st.isDirectory() : st.isDirectory()) {
      throw new ConvertOptionError(`${target}: ${st.isDirectory() ? 'is a directory' : 'is not a directory'}; not replacing it, even with --force`)
    }
    if (!opts.force) throw new OutputExistsError(target)
    if (opts.directory && !looksLikeDataset(target)) {
      throw new ConvertOptionError(`${target}: holds files other than a Parquet dataset's; not replacing it, even with --force`)
    }
  }
}

/** One output, a file or a directory, written at `temp` and renamed to `target` by `commit`. */
export class StagedPath implements Staged {
  readonly temp: string
  private state: 'open' | 'committed' | 'discarded' = 'open'

  constructor(readonly target: string, private readonly opts: StagedPathOptions = {}) {
    checkOutputPath(target, opts)
    this.temp = tempPathFor(target)
  }

  /** Flush to disk and move into place. Synchronous: a signal cannot come between the steps. */
  commit(): void {
    if (this.state !== 'open') throw new Error(`StagedPath.commit after ${this.state}`)
    if (!lstat(this.temp)) throw new Error(`${this.target}: the writer produced no output`)
    fsyncTree(this.temp)
    for (const c of this.opts.companions ?? []) {
      // A database closed cleanly has folded its log back in; one left over belongs with it.
      if (lstat(this.temp + c)) fs.renameSync(this.temp + c, this.target + c)
    }
    if (this.opts.directory && lstat(this.target)) {
      // rename(2) does not replace a non-empty directory: move the old one aside, then remove it.
      const old = tempPathFor(this.target)
      fs.renameSync(this.target, old)
      fs.renameSync(this.temp, this.target)
      fs.rmSync(old, {recursive: true, force: true})
    } else {
      fs.renameSync(this.temp, this.target)
    }
    fsyncPath(path.dirname(path.resolve(this.target)), true)
    this.state = 'committed'
  }

  discard(): void {
    if (this.state !== 'open') return
    this.state = 'discarded'
    fs.rmSync(this.temp, {recursive: true, force: true})
    for (const c of this.opts.companions ?? []) fs.rmSync(this.temp + c, {force: true})
    // Scratch files a writer made next to the temporary path and named after it (the Parquet exporter's working
    // database and spill directory): the temporary name is unique (pid and random), so its name marks them.
    const dir = path.dirname(this.temp)
    const token = path.basename(this.temp)
    try {
      for (const n of fs.readdirSync(dir)) if (n.includes(token)) fs.rmSync(path.join(dir, n), {recursive: true, force: true})
    } catch {
      // the directory itself is gone
    }
  }
}

/**
 * A set of files `PREFIX<suffix>` (rotated traces `PREFIX.<epoch>`), written into a hidden staging directory
 * next to them and renamed into place together by `commit`. Existing `PREFIX.<digits>` files are refused
 * without `force`; with it they are replaced: those the new set does not overwrite are removed at commit.
 */
export class StagedFileSet implements Staged {
  private readonly dir: string
  private readonly base: string
  private readonly staging: string
  private readonly names: string[] = []
  private readonly stale: string[]
  private state: 'open' | 'committed' | 'discarded' = 'open'

  constructor(readonly prefix: string, opts: {force?: boolean} = {}) {
    const abs = path.resolve(prefix)
    this.dir = path.dirname(abs)
    this.base = path.basename(abs)
    if (!isDir(this.dir)) throw new ConvertOptionError(`${path.dirname(prefix)}: no such directory`)
    const pattern = new RegExp(`^${this.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+$`)
    this.stale = fs.readdirSync(this.dir).filter((n) => pattern.test(n)).sort()
    if (this.stale.length > 0 && !opts.force) {
      throw new OutputExistsError(`${prefix}.${this.stale[0].slice(this.base.length + 1)}`, `rotated output (${this.stale.length} file${this.stale.length > 1 ? 's' : ''} ${prefix}.<epoch>)`)
    }
    this.staging = tempPathFor(abs)
  }

  /** The temporary path of `PREFIX<suffix>` (the staging directory is made on first use). */
  file(suffix: string): string {
    if (this.state !== 'open') throw new Error(`StagedFileSet.file after ${this.state}`)
    if (this.names.length === 0) fs.mkdirSync(this.staging)
    const name = this.base + suffix
    if (this.names.includes(name)) throw new Error(`${name} staged twice`)
    this.names.push(name)
    return path.join(this.staging, name)
  }

  /** The final paths of the files staged so far. */
  get targets(): string[] {
    return this.names.map((n) => path.join(this.dir, n))
  }

  /** Flush, remove replaced files, rename every staged file into place. Returns the final paths. */
  commit(): string[] {
    if (this.state !== 'open') throw new Error(`StagedFileSet.commit after ${this.state}`)
    for (const n of this.names) fsyncPath(path.join(this.staging, n))
    for (const n of this.stale) if (!this.names.includes(n)) fs.rmSync(path.join(this.dir, n), {force: true})
    for (const n of this.names) fs.renameSync(path.join(this.staging, n), path.join(this.dir, n))
    if (this.names.length > 0) fs.rmdirSync(this.staging)
    fsyncPath(this.dir, true)
    this.state = 'committed'
    return this.targets
  }

  discard(): void {
    if (this.state !== 'open') return
    this.state = 'discarded'
    fs.rmSync(this.staging, {recursive: true, force: true})
  }
}
