// `--help` of every command, pinned (width 100, no colour), and `sysflow help CMD` gives the same text. A flag or
// description change fails here; after checking it by eye, refresh with
// SYSFLOW_UPDATE_GOLDEN=1 npx ava dist/test/help-golden.test.js.
import fs from 'node:fs'
import path from 'node:path'
import test from 'ava'
import {runCli} from './helpers/cli.js'

const golden = path.resolve('test/golden')
const update = process.env.SYSFLOW_UPDATE_GOLDEN === '1'
const env = {NO_COLOR: '1', OCLIF_COLUMNS: '100', COLUMNS: '100', FORCE_COLOR: undefined}

for (const cmd of ['print', 'query', 'convert', 'capture']) {
  test(`golden help-${cmd}.txt (sysflow ${cmd} --help)`, (t) => {
    const r = runCli([cmd, '--help'], {env})
    t.is(r.status, 0, r.stderr)
    t.is(r.stderr, '')
    const file = path.join(golden, `help-${cmd}.txt`)
    if (update) fs.writeFileSync(file, r.stdout)
    t.is(r.stdout, fs.readFileSync(file, 'utf8'))
    t.true(r.lines.every((l) => l.length <= 100), 'fits the width')
    t.is(runCli(['help', cmd], {env}).stdout, r.stdout)
  })
}

test('golden help.txt (sysflow --help lists the commands)', (t) => {
  // The version line names the platform and Node version: pinned as a pattern, the rest as text.
  const version = /^ {2}sysflow\/\d+\.\d+\.\d+ \S+ node-v\S+$/m
  const r = runCli(['--help'], {env})
  t.is(r.status, 0, r.stderr)
  t.regex(r.stdout, version)
  const text = r.stdout.replace(version, '  sysflow/VERSION PLATFORM NODE')
  const file = path.join(golden, 'help.txt')
  if (update) fs.writeFileSync(file, text)
  t.is(text, fs.readFileSync(file, 'utf8'))
  t.is(runCli(['help'], {env}).stdout, r.stdout)
})
