// convert: any trace in, any format out. One call takes the inputs, the selection and an output path (or a byte
// sink standing for stdout) and writes the output safely: under a temporary name next to the target, renamed into
// place when complete, removed on error or abort. Parquet and DuckDB outputs are written by exporters the caller
// passes in (they live above this library, in src/query), so this layer never imports DuckDB.
import {Joined} from '../join.js'
import {PipelineOptions, PipelineStats} from '../pipeline.js'
import {chooseColumns, printRecords, PrintFormat} from '../printers/print.js'
import {TraceInput} from '../reader.js'
import {SchemaVersion} from '../schema.js'
import {ByteSink, fileSink} from '../writer.js'
import {ConvertAbortedError, ConvertOptionError} from './errors.js'
import {
  ConvertFormat, isStreamingFormat, PARQUET_COMPRESSIONS, PartitionKey, PARTITION_KEYS, SF_COMPRESSIONS,
} from './formats.js'
import {Staged, StagedFileSet, StagedPath} from './safe.js'
import {checkAborted, countingInputs, RecordSelection, selectedBatches} from './select.js'
import {Codec} from '../parquet/file.js'
import {writeEventsParquet} from '../parquet/write.js'
import {zstdAvailable} from '../../native/zstd.js'
import {planSfSchema} from './sf-schema.js'
import {SfTarget, writeSf} from './sf.js'

export * from './formats.js'
export * from './errors.js'
export {checkOutputPath, StagedPath, StagedFileSet, tempPathFor, type Staged} from './safe.js'
export {countingInputs, inputBytes, selectedBatches, selects, type RecordSelection} from './select.js'
export {writeSf, type SfTarget, type SfOutputOptions, type SfResult} from './sf.js'
export {
  schemaVersionOf, traceSchemaVersion, traceSchemaJson, newestInputSchema, planSfSchema, schemaDifference, fitSchema, unionFields, extraSymbols,
  type SfSchemaPlan, type SchemaDifference,
} from './sf-schema.js'
export {type ArrowIpcOptions} from './arrow.js'

/** Arrow IPC output (apache-arrow is loaded on first use). See ./arrow.ts. */
export async function writeArrowIpc(...args: Parameters<typeof import('./arrow.js').writeArrowIpc>): Promise<{records: number}> {
  return (await import('./arrow.js')).writeArrowIpc(...args)
}
/** Options of a Parquet export, as src/query/export.ts takes them. */
export interface ParquetExportOptions {
  partitionBy?: readonly PartitionKey[]
  compression?: string
  rowGroupSize?: number
}

/** Writes the `events` columns of the batches as Parquet at `target` (a file, or a directory when partitioned). */
export type ParquetExporter = (batches: AsyncIterable<Joined[]>, target: string, opts: ParquetExportOptions) => Promise<{records: number}>
/** Writes the batches into a new DuckDB database file that `sysflow query --db` opens. */
export type DuckDbExporter = (batches: AsyncIterable<Joined[]>, dbFile: string) => Promise<{records: number}>

export interface ConvertOptions extends PipelineOptions, RecordSelection {
  format: ConvertFormat
  /** Output path; `-` writes to `stdout` (streaming formats only). With `rotate`, the prefix of the files. */
  output: string
  /** The byte sink `-` stands for. */
  stdout?: ByteSink
  /** Replace an existing output. */
  force?: boolean
  /** .sf only: split into `OUTPUT.<epoch>` files, one per window of this many seconds of record time. */
  rotate?: number
  /** .sf only: output schema version, forced (default: the inputs'; inputs whose schemas carry different fields are refused). */
  schema?: SchemaVersion
  /** Parquet: Hive-style partition directories by these keys. */
  partitionBy?: readonly PartitionKey[]
  /** Parquet: zstd (default), snappy, gzip, lz4, brotli, none. .sf: deflate (default), snappy, none. */
  compression?: string
  /** Parquet: rows per row group. */
  rowGroupSize?: number
  /** json, ndjson, flatjson, csv: the fields to write (default: every field, as `print -A`). */
  fields?: readonly string[]
  /** Bytes read so far, after every chunk of input. */
  onProgress?: (bytesRead: number) => void
  /** Aborting removes everything written so far at once (synchronously) and ends the conversion with ConvertAbortedError. */
  signal?: AbortSignal
  /** Parquet and DuckDB writers (src/query/export.ts). */
  exporters?: {parquet?: ParquetExporter; duckdb?: DuckDbExporter}
}

export interface ConvertResult {
  format: ConvertFormat
  /** Inputs opened. */
  inputs: number
  /** Records read, of every type (header and entities included). */
  recordsIn: number
  /** Event and flow records read. */
  events: number
  /** Records written: .sf counts the header and entities too; the other formats count rows (event and flow records). */
  recordsOut: number
  /** Event and flow records written (for .sf: recordsOut without the header and entities; otherwise recordsOut). */
  eventsOut: number
  /** What was created: one path, the rotated files, or `-`. */
  outputs: string[]
  stats: PipelineStats
}

const TEXT_FORMATS: Partial<Record<ConvertFormat, PrintFormat>> = {json: 'json', ndjson: 'json', flatjson: 'flatjson', csv: 'csv'}

/** Check that the options go together; throws ConvertOptionError. */
export function validateConvertOptions(opts: ConvertOptions): void {
  const f = opts.format
  const only = (what: string, ok: boolean, formats: string): void => {
    if (!ok) throw new ConvertOptionError(`${what} applies to ${formats} output only, not ${f}`)
  }
  if (opts.output === '') throw new ConvertOptionError('no output given')
  if (opts.output === '-') {
    if (!isStreamingFormat(f)) throw new ConvertOptionError(`${f} output cannot go to stdout: give a file name`)
    if (opts.stdout === undefined) throw new ConvertOptionError('no stdout sink for output -')
  }
  if (opts.rotate !== undefined) {
    only('rotation', f === 'sf', '.sf')
    if (!(Number.isSafeInteger(opts.rotate) && opts.rotate > 0)) throw new ConvertOptionError(`rotation needs a whole number of seconds above 0, got ${opts.rotate}`)
    if (opts.output === '-') throw new ConvertOptionError('rotated output cannot go to stdout: give a file name prefix')
  }
  if (opts.schema !== undefined) only('a schema version', f === 'sf', '.sf')
  if (opts.partitionBy !== undefined && opts.partitionBy.length > 0) {
    only('partitioning', f === 'parquet', 'Parquet')
    for (const k of opts.partitionBy) {
      if (!(PARTITION_KEYS as readonly string[]).includes(k)) throw new ConvertOptionError(`unknown partition key '${k}' (expected ${PARTITION_KEYS.join(', ')})`)
    }
    if (new Set(opts.partitionBy).size !== opts.partitionBy.length) throw new ConvertOptionError('a partition key is given twice')
  }
  if (opts.rowGroupSize !== undefined) {
    only('a row group size', f === 'parquet', 'Parquet')
    if (!(Number.isSafeInteger(opts.rowGroupSize) && opts.rowGroupSize > 0)) throw new ConvertOptionError(`row group size must be a whole number above 0, got ${opts.rowGroupSize}`)
  }
  if (opts.compression !== undefined) {
    only('compression', f === 'sf' || f === 'parquet', '.sf and Parquet')
    const allowed: readonly string[] = f === 'sf' ? SF_COMPRESSIONS : PARQUET_COMPRESSIONS
    if (!allowed.includes(opts.compression)) throw new ConvertOptionError(`compression '${opts.compression}' is not one of ${allowed.join(', ')} (for ${f})`)
  }
  if (opts.fields !== undefined) only('a field list', TEXT_FORMATS[f] !== undefined, 'json, ndjson, flatjson and csv')
}

/** Convert `inputs` as `opts` say. See ConvertOptions; errors are typed (ConvertOptionError, OutputExistsError, TraceError, ...). */
export async function convert(inputs: readonly TraceInput[], opts: ConvertOptions): Promise<ConvertResult> {
  validateConvertOptions(opts)
  checkAborted(opts.signal)
  const f = opts.format
  const toStdout = opts.output === '-'
  // Fail before reading anything when the writer is missing.
  const parquet = f === 'parquet' ? opts.exporters?.parquet : undefined
  const duckdb = f === 'duckdb' ? opts.exporters?.duckdb : undefined
  if (f === 'parquet' && !parquet) throw new ConvertOptionError('Parquet output needs the DuckDB exporter, which this build lacks')
  if (f === 'duckdb' && !duckdb) throw new ConvertOptionError('DuckDB output needs the DuckDB exporter, which this build lacks')

  let read = 0
  const ins = opts.onProgress ? countingInputs(inputs, (n) => opts.onProgress!((read += n))) : inputs
  const staged: Staged[] = []
  const onAbort = (): void => {
    for (const s of staged) s.discard()
  }
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  const pipe: PipelineOptions = {strict: opts.strict, onWarning: opts.onWarning, onError: opts.onError, onOpen: opts.onOpen}
  const sel: RecordSelection = {filter: opts.filter, since: opts.since, until: opts.until, limit: opts.limit}
  /** A sink that refuses to write once aborted, so a late chunk cannot land anywhere. */
  const guard = (sink: ByteSink): ByteSink => ({
    write: (chunk) => {
      checkAborted(opts.signal)
      return sink.write(chunk)
    },
    close: () => sink.close(),
  })
  const stage = <T extends Staged>(s: T): T => {
    staged.push(s)
    return s
  }
  try {
    let stats: PipelineStats
    let recordsOut: number
    let eventsOut: number | undefined
    let outputs: string[]
    if (f === 'sf') {
      const codec = opts.compression === 'none' ? 'null' : (opts.compression as 'deflate' | 'null' | 'snappy' | undefined)
      // The schema is looked up on the plain inputs, so that the progress counts each byte once.
      const plan = await planSfSchema(inputs, opts.schema)
      const sfOpts = {...pipe, ...sel, plan, codec, signal: opts.signal}
      if (opts.rotate !== undefined) {
        const set = stage(new StagedFileSet(opts.output, {force: opts.force}))
        const target: SfTarget = {rotate: opts.rotate, open: (epoch) => guard(fileSink(set.file(`.${epoch}`)))}
        const r = await writeSf(ins, target, sfOpts)
        checkAborted(opts.signal)
        outputs = set.commit()
        ;[stats, recordsOut, eventsOut] = [r, r.written, r.selected]
      } else {
        const {sink, finish} = open(opts, stage)
        const r = await writeSf(ins, {sink: guard(sink)}, sfOpts)
        outputs = finish()
        ;[stats, recordsOut, eventsOut] = [r, r.written, r.selected]
      }
    } else if (TEXT_FORMATS[f] !== undefined) {
      const format = TEXT_FORMATS[f]!
      const columns = chooseColumns(format, {fields: opts.fields})
      const {sink, finish} = open(opts, stage)
      const out = guard(sink)
      let r
      try {
        r = await printRecords(ins, out, {...pipe, ...sel, format, columns})
      } finally {
        await out.close()
      }
      outputs = finish()
      ;[stats, recordsOut] = [r, r.printed]
    } else if (f === 'arrow' || f === 'arrow-stream') {
      const {sink, finish} = open(opts, stage)
      stats = new PipelineStats()
      const r = await writeArrowIpc(selectedBatches(ins, sel, pipe, stats, opts.signal), guard(sink), {stream: f === 'arrow-stream'})
      outputs = finish()
      recordsOut = r.records
    } else {
      const directory = f === 'parquet' && (opts.partitionBy?.length ?? 0) > 0
      const target = stage(new StagedPath(opts.output, {force: opts.force, directory, companions: f === 'duckdb' ? ['.wal'] : []}))
      stats = new PipelineStats()
      const codec = columnarCodec(f, opts, directory)
      const r = codec !== undefined
        ? await writeEventsParquet(ins, target.temp, {...pipe, since: sel.since, until: sel.until, limit: sel.limit, codec, rowGroupSize: opts.rowGroupSize, check: () => checkAborted(opts.signal)}, stats)
        : f === 'parquet'
          ? await parquet!(selectedBatches(ins, sel, pipe, stats, opts.signal), target.temp, {partitionBy: opts.partitionBy, compression: parquetCompression(opts.compression), rowGroupSize: opts.rowGroupSize})
          : await duckdb!(selectedBatches(ins, sel, pipe, stats, opts.signal), target.temp)
      checkAborted(opts.signal)
      target.commit()
      outputs = [opts.output]
      recordsOut = r.records
    }
    return {format: f, inputs: stats.files, recordsIn: stats.records, events: stats.events, recordsOut, eventsOut: eventsOut ?? recordsOut, outputs: toStdout ? ['-'] : outputs, stats}
  } catch (e) {
    onAbort()
    if (opts.signal?.aborted && !(e instanceof ConvertAbortedError)) throw new ConvertAbortedError(opts.signal.reason)
    throw e
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * The codec of a Parquet output written from columns (src/format/parquet), or undefined when it goes through DuckDB:
 * a filter (it reads record objects), partitions, a codec the column writer lacks (snappy, lz4), no libzstd for the
 * default, or SYSFLOW_PARQUET_WRITER=duckdb.
 */
function columnarCodec(f: ConvertFormat, opts: ConvertOptions, partitioned: boolean): Codec | undefined {
  if (f !== 'parquet' || partitioned || opts.filter !== undefined || process.env.SYSFLOW_PARQUET_WRITER === 'duckdb') return undefined
  const c = parquetCompression(opts.compression)
  if (c === 'zstd') return zstdAvailable() ? 'zstd' : undefined
  return c === 'gzip' || c === 'brotli' || c === 'uncompressed' ? c : undefined
}

function parquetCompression(c: string | undefined): string {
  if (c === undefined) return 'zstd'
  return c === 'none' ? 'uncompressed' : c
}

/** The byte sink of a single-file output (stdout, or a staged file) and how to finish it. */
function open(opts: ConvertOptions, stage: <T extends Staged>(s: T) => T): {sink: ByteSink; finish: () => string[]} {
  if (opts.output === '-') return {sink: opts.stdout!, finish: () => ['-']}
  const target = stage(new StagedPath(opts.output, {force: opts.force}))
  return {
    sink: fileSink(target.temp),
    finish: () => {
      checkAborted(opts.signal)
      target.commit()
      return [opts.output]
    },
  }
}
