#!/usr/bin/env node
// `--color never` (space form) is rewritten `--color=never` before anything reads argv: oclif's colour library
// takes a bare `--color` as "force colour" and would colour its output even into a file.
const argv = process.argv
for (let i = 2; i < argv.length - 1; i++) {
  if (argv[i] === '--') break
  if (argv[i] === '--color' && /^(auto|always|never)$/.test(argv[i + 1])) argv.splice(i, 2, `--color=${argv[i + 1]}`)
}
let main
try {
  ;({main} = await import('../dist/src/cli/main.js'))
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e
  const root = new URL('..', import.meta.url).pathname
  process.stderr.write(`sysflow: error: not built yet: run 'npm run build' in ${root}\n`)
  process.exit(2)
}
await main(import.meta.url)
