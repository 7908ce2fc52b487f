import {DuckDBInstance} from '@duckdb/node-api'
const [a, b] = process.argv.slice(2)
const db = await DuckDBInstance.create(':memory:'); const c = await db.connect()
await c.run(`create table a as select row_number() over () as rn, * from read_parquet('${a}')`)
await c.run(`create table b as select row_number() over () as rn, * from read_parquet('${b}')`)
for (const [x, y] of [['a','b'],['b','a']]) {
  const r = await c.runAndReadAll(`select count(*) from (select * from ${x} except all select * from ${y})`)
  console.log(`${x} - ${y}:`, String(r.getRows()[0][0]))
}
const cols = (await c.runAndReadAll(`select column_name from (describe a)`)).getRows().map(r => r[0])
for (const col of cols) {
  const r = await c.runAndReadAll(`select count(*) from a join b using (rn) where a."${col}" is distinct from b."${col}"`)
  const n = Number(r.getRows()[0][0])
  if (n > 0) {
    const ex = await c.runAndReadAll(`select a.rn, a."${col}"::varchar, b."${col}"::varchar from a join b using (rn) where a."${col}" is distinct from b."${col}" limit 2`)
    console.log(col, n, JSON.stringify(ex.getRows().map(r=>r.map(String))).slice(0, 300))
  }
}
