// Writing captured records: one .sf file, or a directory of rotated files (<epoch>), each written under a temporary
// name and renamed when complete, so readers never see a partial file. An optional predicate over joined records
// filters events and flows (entities are kept so every file stays self-contained).
import fs from 'node:fs'
import path from 'node:path'
import {JoinTables, Joined} from '../format/join.js'
import {EventRecord, isEvent, Kind} from '../format/records.js'
import {fileSink, TraceWriter, WriterOptions} from '../format/writer.js'
import {checkOutputPath} from '../format/convert/safe.js'
import {CaptureBatch} from './index.js'

/** The output path cannot be written. Exit code 2, like other usage errors. */
export class OutputPathError extends Error {
  readonly exitCode = 2
}

export interface OutputOptions {
  /** A file path, or a directory (existing, or ending in /) for rotated files. */
  path: string
  writer?: WriterOptions
  filter?: (j: Joined) => boolean
  /** Replace an existing output file (a directory of rotated files never overwrites: new names get a suffix). */
  force?: boolean
}

export class CaptureOutput {
  private writer: TraceWriter | undefined
  private tmp = ''
  private final = ''
  private readonly dir: boolean
  private tables = new JoinTables()
  readonly files: string[] = []
  written = 0

  constructor(private readonly opts: OutputOptions) {
    this.dir = opts.path.endsWith('/') || (fs.existsSync(opts.path) && fs.statSync(opts.path).isDirectory())
    if (this.dir) {
      try {
        fs.mkdirSync(opts.path, {recursive: true})
      } catch (e) {
        throw new OutputPathError(`cannot create the output directory ${opts.path}: ${(e as Error).message}`)
      }
    } else {
      // The overwrite rule of every command (convert's), as a usage error.
      try {
        checkOutputPath(opts.path, {force: opts.force})
      } catch (e) {
        throw new OutputPathError((e as Error).message)
      }
    }
  }

  /** The path the next file gets (rotation names files by the epoch second of their first event). */
  private open(firstTsNs: bigint): void {
    let name = this.dir ? path.join(this.opts.path, String(firstTsNs / 1_000_000_000n)) : this.opts.path
    if (this.dir) {
      let n = 1
      while (fs.existsSync(name) || this.files.includes(name)) name = path.join(this.opts.path, `${firstTsNs / 1_000_000_000n}.${n++}`)
    }
    this.final = name
    this.tmp = `${name}.tmp-${process.pid}`
    this.writer = new TraceWriter(fileSink(this.tmp), this.opts.writer)
    this.tables = new JoinTables()
  }

  private async closeFile(): Promise<void> {
    const w = this.writer
    if (!w) return
    this.writer = undefined
    await w.close()
    fs.renameSync(this.tmp, this.final)
    this.files.push(this.final)
  }

  async write(batch: CaptureBatch): Promise<void> {
    if (batch.rotate || !this.writer) {
      if (batch.rotate && !this.dir && this.writer) {
        // A single-file output ignores rotation boundaries after the first header.
      } else {
        await this.closeFile()
        this.open(batch.ts)
      }
    }
    const w = this.writer!
    const filter = this.opts.filter
    for (const r of batch.records) {
      if (r.kind === Kind.Header && this.written > 0 && !this.dir) continue
      if (filter && isEvent(r)) {
        if (!filter(this.tables.join(r as EventRecord))) continue
      } else if (filter) this.tables.add(r)
      const p = w.write(r)
      this.written++
      if (p) await p
    }
  }

  async close(): Promise<void> {
    await this.closeFile()
  }

  /** Remove the partial file after a failure. */
  abort(): void {
    if (this.tmp && this.writer) {
      this.writer = undefined
      try {
        fs.rmSync(this.tmp, {force: true})
      } catch {
        // nothing to clean
      }
    }
  }
}
