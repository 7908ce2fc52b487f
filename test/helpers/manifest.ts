// ../shared/traces/manifest.jsonl: each .sf file's exact record counts and first/last event timestamps.
import fs from 'node:fs'
import path from 'node:path'
import {sharedDir} from './shared.js'

export interface ManifestEntry {
  path: string
  version: number
  codec: string
  records: number
  counts: Record<string, number>
  firstTs: bigint
  lastTs: bigint
}

/** One manifest line. first_ts/last_ts exceed 2^53, so they are taken from the text, never through a JS number. */
export function parseManifestLine(line: string): ManifestEntry {
  const j = JSON.parse(line) as {path: string; version: number; codec: string; records: number; counts: Record<string, number>}
  const big = (key: string): bigint => {
    const m = new RegExp(`"${key}"\\s*:\\s*(-?\\d+)\\s*[,}]`).exec(line)
    if (!m) throw new Error(`manifest line without an integer ${key}: ${line}`)
    return BigInt(m[1])
  }
  return {path: j.path, version: j.version, codec: j.codec, records: j.records, counts: j.counts, firstTs: big('first_ts'), lastTs: big('last_ts')}
}

/** Every entry of a manifest file. */
export function readManifest(file: string): ManifestEntry[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map(parseManifestLine)
}

/** The entries of ../shared/traces/manifest.jsonl, or undefined when it is not there (the caller skips visibly). */
export function sharedManifest(): ManifestEntry[] | undefined {
  const traces = sharedDir('traces')
  const file = traces && path.join(traces, 'manifest.jsonl')
  return file && fs.existsSync(file) ? readManifest(file) : undefined
}
