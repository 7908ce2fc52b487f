// Command-line inputs for every command that reads traces: .sf files, directories, globs and `-`, and also .scap
// captures, which go through the capture pipeline first (the format library cannot import src/capture).
import {captureRecords} from '../capture/index.js'
import {resolveInputs} from '../format/inputs.js'
import {recordsInput, TraceInput} from '../format/reader.js'

const SCAP = /\.scap(\.gz)?$/i

export function cliInputs(paths: readonly string[]): TraceInput[] {
  return resolveInputs(paths, {stdin: process.stdin}).map((input) => (SCAP.test(input.name) ? recordsInput(input.name, () => captureRecords(input.name)) : input))
}
