// concatParquet / mergeDatasets: Parquet files written by DuckDB joined without re-encoding. The footer codec
// writes back exactly what it read; the joined file reads back as the parts one after the other, with its row
// groups, statistics and bloom filters where the readers look for them.
import fs from 'node:fs'
import path from 'node:path'
import test from 'ava'
import {DuckDBConnection} from '@duckdb/node-api'
import {concatParquet, mergeDatasets, readStruct, writeStruct} from '../src/query/parquet-concat.js'
import {withDuck} from './helpers/duck.js'
import {withTempDir} from './helpers/tmp.js'


const rows = async (c: DuckDBConnection, sql: string) => (await c.runAndReadAll(sql)).getRows().map((r) => r.map(String).join('|'))

/** Part i: rows [i*1000, (i+1)*1000) of a table with ints, strings (few distinct: dictionaries, bloom filters), lists and NULLs. */
function partSql(i: number, file: string, extra = ''): string {
  return `COPY (SELECT n, 'name-' || (n % 7) AS s, CASE WHEN n % 3 = 0 THEN NULL ELSE [n, n + 1] END AS l, (n * 1000000007)::BIGINT AS big
    FROM range(${i * 1000}, ${(i + 1) * 1000}) r(n)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2048${extra})`
}

test('the footer codec writes back the bytes it read', (t) =>
  withTempDir(async (dir) =>
    withDuck(async (c) => {
      await c.run('SET preserve_insertion_order = false')
      for (const [i, extra] of [[0, ''], [1, ', COMPRESSION snappy'], [2, ", ROW_GROUP_SIZE_BYTES '1MB'"]] as const) {
        const file = path.join(dir, `p${i}.parquet`)
        await c.run(partSql(i, file, extra))
        const b = fs.readFileSync(file)
        const len = b.readUInt32LE(b.length - 8)
        const footer = b.subarray(b.length - 8 - len, b.length - 8)
        t.deepEqual(Buffer.from(writeStruct(readStruct(footer))), footer)
      }
    })))

test('concatParquet: the parts one after the other, row groups, statistics and bloom filters in place', (t) =>
  withTempDir(async (dir) =>
    withDuck(async (c) => {
      const parts = [0, 1, 2].map((i) => path.join(dir, `p${i}.parquet`))
      for (const [i, p] of parts.entries()) await c.run(partSql(i, p))
      // Several row groups in the last part.
      await c.run(`COPY (SELECT * FROM read_parquet('${parts[2]}') UNION ALL SELECT n + 1000, s, l, big FROM read_parquet('${parts[2]}')) TO '${parts[2]}.x' (FORMAT parquet, ROW_GROUP_SIZE 2048)`)
      fs.renameSync(`${parts[2]}.x`, parts[2])
      const list = `[${parts.map((p) => `'${p}'`).join(', ')}]`
      const expected = await rows(c, `SELECT * FROM read_parquet(${list})`)
      const groups = Number((await c.runAndReadAll(`SELECT count(DISTINCT (file_name, row_group_id)) FROM parquet_metadata(${list})`)).getRows()[0][0])
      t.true(groups > 3)
      const out = path.join(dir, 'all.parquet')
      concatParquet(parts, out)
      t.deepEqual(await rows(c, `SELECT * FROM read_parquet('${out}')`), expected)
      t.is(Number((await c.runAndReadAll(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${out}')`)).getRows()[0][0]), groups)
      // Filters read statistics and bloom filters from the offsets the footer gives.
      t.deepEqual(await rows(c, `SELECT count(*) FROM read_parquet('${out}') WHERE n BETWEEN 2500 AND 2599`), ['100'])
      t.deepEqual(await rows(c, `SELECT count(*) FROM read_parquet('${out}') WHERE s = 'name-3'`), await rows(c, `SELECT count(*) FROM read_parquet(${list}) WHERE s = 'name-3'`))
      const bloom = await rows(c, `SELECT count(*) FROM parquet_metadata('${out}') WHERE bloom_filter_offset IS NOT NULL`)
      const check = await rows(c, `SELECT count(*) FROM parquet_bloom_probe('${out}', 's', 'name-3') WHERE NOT bloom_filter_excludes`)
      t.not(bloom[0], '0', 'the parts have bloom filters')
      t.is(check[0], String(groups), 'every row group may hold name-3')
      t.deepEqual(await rows(c, `SELECT count(*) FROM parquet_bloom_probe('${out}', 's', 'no-such-name') WHERE bloom_filter_excludes`), [String(groups)])
    })))

test('concatParquet: parts with different columns are refused, nothing is left behind', (t) =>
  withTempDir(async (dir) =>
    withDuck(async (c) => {
      const a = path.join(dir, 'a.parquet')
      const b = path.join(dir, 'b.parquet')
      await c.run(`COPY (SELECT 1 AS x) TO '${a}' (FORMAT parquet)`)
      await c.run(`COPY (SELECT 'one' AS x) TO '${b}' (FORMAT parquet)`)
      t.throws(() => concatParquet([a, b], path.join(dir, 'out.parquet')), {message: /schema differs/})
      t.deepEqual(fs.readdirSync(dir).sort(), ['a.parquet', 'b.parquet'])
    })))

test('mergeDatasets: one file per partition, its rows from the first dataset to the last and in file order', (t) =>
  withTempDir(async (dir) =>
    withDuck(async (c) => {
      const sets = [0, 1].map((i) => path.join(dir, `ds${i}`))
      for (const [i, ds] of sets.entries()) {
        await c.run(`COPY (SELECT n, n % 2 AS k FROM range(${i * 100}, ${i * 100 + 100}) r(n)) TO '${ds}' (FORMAT parquet, PARTITION_BY (k))`)
      }
      // A partition written in two files by one COPY (DuckDB numbers them in the order it writes them).
      fs.mkdirSync(path.join(sets[1], 'k=2'))
      await c.run(`COPY (SELECT 500 AS n) TO '${path.join(sets[1], 'k=2', 'data_10.parquet')}' (FORMAT parquet)`)
      await c.run(`COPY (SELECT 400 AS n) TO '${path.join(sets[1], 'k=2', 'data_2.parquet')}' (FORMAT parquet)`)
      const out = path.join(dir, 'out')
      mergeDatasets(sets, out)
      t.deepEqual(fs.readdirSync(out).sort(), ['k=0', 'k=1', 'k=2'])
      for (const k of [0, 1]) {
        const files = fs.readdirSync(path.join(out, `k=${k}`))
        t.is(files.length, 1)
        const got = await rows(c, `SELECT n FROM read_parquet('${path.join(out, `k=${k}`, files[0])}', hive_partitioning = false)`)
        t.deepEqual(got, Array.from({length: 100}, (_, i) => String(2 * i + k)))
      }
      t.deepEqual(await rows(c, `SELECT n FROM read_parquet('${path.join(out, 'k=2', 'data_2.parquet')}')`), ['400', '500'])
    })))
