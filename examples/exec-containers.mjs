// Print every exec with its container (or "host"), through the LibSysFlow-style callback.
// usage: node exec-containers.mjs TRACE...   (.sf files, directories, globs or a .scap capture)
import {SysFlowDriver, Kind, OpFlag, isoNanos} from 'sysflow'

// Trace strings are the traced program's: show control characters escaped, never raw on a terminal.
const clean = (s) => String(s ?? '?').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)

const driver = new SysFlowDriver({
  input: process.argv.slice(2),
  callback: (header, container, proc, file, file2, record) => {
    if (record.kind !== Kind.ProcessEvent || (record.opFlags & OpFlag.EXEC) === 0) return
    const where = container ? `${clean(container.name)} (${clean(container.id)})` : 'host'
    const cmd = proc ? clean([proc.exe, proc.exeArgs].filter(Boolean).join(' ')) : '(unknown process)'
    console.log(`${isoNanos(record.ts)}  ${where}  pid ${proc?.oid.hpid ?? record.tid}  ${cmd}`)
  },
})
const stats = await driver.run()
console.log(`${stats.records} records read`)
