// Whether this machine can run the live eBPF tests: undefined when the preflight passes, else its reason (the
// tests print it as a visible skip).
import {preflightEbpf} from '../../src/capture/preflight.js'
import {findLibbpf} from '../../src/native/bpf.js'

export function canCapture(): string | undefined {
  try {
    preflightEbpf(() => findLibbpf())
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}
