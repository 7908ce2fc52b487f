// Running the real CLI (bin/run.js) as a child process, the way a user does.
import {spawnSync} from 'node:child_process'
import path from 'node:path'

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
  /** stdout split into lines, without the empty string after the final newline. */
  lines: string[]
  /** stderr split into lines, likewise. */
  errLines: string[]
}

const RUN = path.resolve(process.cwd(), 'bin/run.js')

function splitLines(s: string): string[] {
  const lines = s.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

/** `env` adds to (or, with undefined, removes from) the environment; NO_COLOR=1 unless removed. */
export function runCli(args: readonly string[], opts: {input?: Buffer | string; cwd?: string; env?: Record<string, string | undefined>} = {}): CliResult {
  const env: Record<string, string | undefined> = {...process.env, NO_COLOR: '1', ...opts.env}
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  const r = spawnSync(process.execPath, [RUN, ...args], {
    input: opts.input,
    cwd: opts.cwd ?? process.cwd(),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 60_000,
    env,
  })
  if (r.error) throw r.error
  return {status: r.status, stdout: r.stdout, stderr: r.stderr, lines: splitLines(r.stdout), errLines: splitLines(r.stderr)}
}
