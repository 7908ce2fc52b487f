// Output formats of `convert`: names, the extensions that imply them, and what each one allows.

export const CONVERT_FORMATS = ['sf', 'json', 'ndjson', 'flatjson', 'csv', 'parquet', 'arrow', 'arrow-stream', 'duckdb'] as const
export type ConvertFormat = (typeof CONVERT_FORMATS)[number]

/** Extension (lower case, with the dot) -> format. `.json` and `.ndjson` both mean sysprint's nested keys, one object per line. */
const EXTENSIONS: ReadonlyMap<string, ConvertFormat> = new Map([
  ['.sf', 'sf'],
  ['.json', 'json'],
  ['.ndjson', 'ndjson'],
  ['.jsonl', 'ndjson'],
  ['.flatjson', 'flatjson'],
  ['.csv', 'csv'],
  ['.parquet', 'parquet'],
  ['.arrow', 'arrow'],
  ['.feather', 'arrow'],
  ['.arrows', 'arrow-stream'],
  ['.duckdb', 'duckdb'],
])

/** The extensions `formatFromPath` knows, for messages. */
export const KNOWN_EXTENSIONS: readonly string[] = [...EXTENSIONS.keys()]

/** The format an output path's extension implies, or undefined. A trailing slash or separator is ignored. */
export function formatFromPath(path: string): ConvertFormat | undefined {
  const base = path.replace(/[/\\]+$/, '').split(/[/\\]/).pop() ?? ''
  const dot = base.lastIndexOf('.')
  if (dot <= 0) return undefined
  return EXTENSIONS.get(base.slice(dot).toLowerCase())
}

/** Formats that can be written as a stream (to stdout): no seeking, no footer pointing back, no database file. */
export function isStreamingFormat(f: ConvertFormat): boolean {
  return f !== 'parquet' && f !== 'arrow' && f !== 'duckdb'
}

/** Hive partition keys of a Parquet dataset (`type=FF/date=2019-03-25/...`). */
export const PARTITION_KEYS = ['type', 'date', 'hour', 'node', 'container'] as const
export type PartitionKey = (typeof PARTITION_KEYS)[number]

/** Parquet compression codecs (DuckDB's names; `none` is `uncompressed`). */
export const PARQUET_COMPRESSIONS = ['zstd', 'snappy', 'gzip', 'lz4', 'brotli', 'uncompressed', 'none'] as const
/** Avro block codecs for `.sf` output (`none` is Avro's `null`). */
export const SF_COMPRESSIONS = ['deflate', 'snappy', 'null', 'none'] as const
/** Every value `--compression` accepts; which ones apply depends on the format. */
export const COMPRESSIONS = [...new Set<string>([...PARQUET_COMPRESSIONS, ...SF_COMPRESSIONS])] as readonly string[]
