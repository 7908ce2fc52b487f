// A throwaway in-memory DuckDB connection for tests that read back what the exports wrote.
import {DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'

export async function withDuck<T>(body: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const inst = await DuckDBInstance.create(':memory:')
  const c = await inst.connect()
  try {
    return await body(c)
  } finally {
    c.closeSync()
    inst.closeSync()
  }
}
