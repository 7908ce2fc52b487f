// purgeDuckDbAllocator: the pages DuckDB's jemalloc keeps after a query freed them go back to the system. The
// Parquet export calls it after every slice; without it a long export kept ~1 GB resident (see the module).
import fs from 'node:fs'
import test from 'ava'
import {DuckDBInstance} from '@duckdb/node-api'
import {purgeDuckDbAllocator} from '../src/native/duckdb-allocator.js'

/** Resident bytes of this process, as the kernel counts them now (maxRSS only ever grows). */
function rss(): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return Number(m![1]) * 1024
}

test('purgeDuckDbAllocator returns what a dropped table held to the system', async (t) => {
  if (process.platform !== 'linux') return t.pass('DuckDB has jemalloc on Linux only: nothing to purge here')
  const inst = await DuckDBInstance.create(':memory:', {threads: '1'})
  const c = await inst.connect()
  try {
    // ~256 MB of DuckDB blocks (32M BIGINTs), freed by the DROP; jemalloc keeps the pages (dirty) for reuse.
    await c.run('CREATE TABLE big AS SELECT range AS x FROM range(32000000)')
    const held = rss()
    await c.run('DROP TABLE big')
    const dropped = rss()
    t.true(purgeDuckDbAllocator(), 'libduckdb is loaded and has jemalloc on Linux')
    const purged = rss()
    t.log(`resident: ${(held / 1e6).toFixed(0)} MB with the table, ${(dropped / 1e6).toFixed(0)} MB dropped, ${(purged / 1e6).toFixed(0)} MB purged`)
    // The drop alone returns (almost) nothing; the purge returns most of the table's 256 MB.
    t.true(dropped - purged > 150e6, `purged ${((dropped - purged) / 1e6).toFixed(0)} MB`)
    // Purging again is harmless and finds nothing more worth speaking of.
    t.true(purgeDuckDbAllocator())
    t.true(rss() - purged < 20e6)
  } finally {
    c.closeSync()
    inst.closeSync()
  }
})
