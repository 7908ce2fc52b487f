// The live eBPF tests' helpers: whether this machine can run them (undefined when the preflight passes, else its
// reason, which the tests print as a visible skip), and the capture CLI started and stopped as a child.
import {ChildProcess, spawn} from 'node:child_process'
import path from 'node:path'
import {preflightEbpf} from '../../src/capture/preflight.js'
import {fileInput, readTrace} from '../../src/format/reader.js'
import type {SysFlowRecord} from '../../src/format/records.js'
import {findLibbpf} from '../../src/native/bpf.js'

export function canCapture(): string | undefined {
  try {
    preflightEbpf(() => findLibbpf())
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}

const RUN = path.resolve('bin/run.js')

/** Start `sysflow capture --driver ebpf --stats ARGS`; resolves once it says it has started. */
export function startCapture(args: string[]): Promise<{proc: ChildProcess; stderr: () => string}> {
  const proc = spawn(process.execPath, [RUN, 'capture', '--driver', 'ebpf', '--stats', ...args], {stdio: ['ignore', 'pipe', 'pipe']})
  let err = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`capture did not start: ${err}`)), 60_000)
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString()
      if (err.includes('started')) {
        clearTimeout(timer)
        resolve({proc, stderr: () => err})
      }
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`capture exited early (${code}): ${err}`))
    })
  })
}

/** Send `signal` (unless it has exited) and wait for the exit code. */
export function stop(proc: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve(proc.exitCode)
    proc.once('exit', (code) => resolve(code))
    proc.kill(signal)
  })
}

/** Every record of a trace file. */
export async function readAll(file: string): Promise<SysFlowRecord[]> {
  const out: SysFlowRecord[] = []
  for await (const b of readTrace(fileInput(file))) out.push(...b.records)
  return out
}
