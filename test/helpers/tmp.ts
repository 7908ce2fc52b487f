// Temporary directories for tests: created under os.tmpdir(), removed afterwards even when the test fails.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export async function withTempDir<T>(body: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'sysflow-test-'))
  try {
    return await body(dir)
  } finally {
    await fs.promises.rm(dir, {recursive: true, force: true})
  }
}
