// DuckDB's allocator (the jemalloc linked into libduckdb on Linux) keeps the pages it freed, to reuse them: it
// returns them to the system after a decay time, but only when it next allocates in that arena and never from a
// thread that is idle. A long export frees and reallocates hundreds of MB per slice, from the threads that run
// its COPYs, so the process keeps the peak of every slice on top of the next one (measured: 1.0 GB resident while
// DuckDB itself accounted for 130-450 MB). Purging once per slice returns them, at the cost of one madvise sweep
// (unlike a zero decay time, which pays on every free: +25% CPU measured).
import fs from 'node:fs'
import {DataType, load, open} from 'ffi-rs'

const LIB = 'sysflow_libduckdb'
/** jemalloc's "all arenas" index (MALLCTL_ARENAS_ALL). */
const ARENAS_ALL = 4096

let state: 'unknown' | 'ready' | 'absent' = 'unknown'

/** The libduckdb this process has loaded (from /proc/self/maps), if any. */
function loadedLibduckdb(): string | undefined {
  let maps: string
  try {
    maps = fs.readFileSync('/proc/self/maps', 'utf8')
  } catch {
    return undefined
  }
  for (const line of maps.split('\n')) {
    const at = line.indexOf('/')
    if (at >= 0 && line.endsWith('/libduckdb.so')) return line.slice(at)
  }
  return undefined
}

/**
 * Return the pages DuckDB's allocator holds free to the system (jemalloc's `arena.<all>.purge`). Returns false,
 * doing nothing, where DuckDB has no jemalloc of its own to ask (not Linux, a build without it, not loaded yet).
 */
export function purgeDuckDbAllocator(): boolean {
  if (state === 'unknown') {
    state = 'absent'
    const lib = loadedLibduckdb()
    if (lib) {
      try {
        open({library: LIB, path: lib})
        state = 'ready'
      } catch {
        // not loadable by path: leave the allocator alone
      }
    }
  }
  if (state !== 'ready') return false
  try {
    // int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen): a purge
    // neither reads nor writes, so the four are NULL and 0, passed as pointer-sized integers.
    const rc = load({
      library: LIB,
      funcName: 'duckdb_je_mallctl',
      retType: DataType.I32,
      paramsType: [DataType.String, DataType.I64, DataType.I64, DataType.I64, DataType.I64],
      paramsValue: [`arena.${ARENAS_ALL}.purge`, 0, 0, 0, 0],
    }) as number
    return rc === 0
  } catch {
    state = 'absent'
    return false
  }
}
