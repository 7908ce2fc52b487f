// Count event and flow records per executable, through the LibSysFlow-style callback.
// usage: node count-by-exe.mjs TRACE...   (.sf files, directories, globs or a .scap capture)
import {SysFlowDriver} from 'sysflow'

const counts = new Map()
const driver = new SysFlowDriver({
  input: process.argv.slice(2),
  callback: (header, container, process) => {
    const exe = process?.exe ?? '(none)'
    counts.set(exe, (counts.get(exe) ?? 0) + 1)
  },
})
const stats = await driver.run()
for (const [exe, n] of [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) console.log(`${n}\t${exe}`)
console.log(`${stats.records}\trecords`)
