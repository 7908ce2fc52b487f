// Alert when any process reads /etc/shadow: a read on it, or an open for reading.
// usage: node shadow-alert.mjs TRACE...   (omit TRACE to watch live: needs a capture driver)
import {SysFlowDriver, Kind, OpFlag, isOpenRead, isoNanos} from 'sysflow'

const clean = (s) => String(s ?? '?').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
let alerts = 0

const driver = new SysFlowDriver({
  input: process.argv.length > 2 ? process.argv.slice(2) : undefined,
  filter: 'sf.file.path = /etc/shadow', // compiled once: the callback only sees records on that file
  callback: (header, container, proc, file, file2, record) => {
    if (record.kind !== Kind.FileFlow) return
    const read = (record.opFlags & OpFlag.READ_RECV) !== 0 || ((record.opFlags & OpFlag.OPEN) !== 0 && isOpenRead(record.openFlags))
    if (!read) return
    alerts++
    const who = proc ? `${clean(proc.exe)} (pid ${proc.oid.hpid}, user ${clean(proc.userName)})` : `tid ${record.tid}`
    console.log(`ALERT ${isoNanos(record.ts)} ${who} in ${container ? clean(container.name) : 'host'} read /etc/shadow`)
  },
})
const stats = await driver.run()
console.log(`${alerts} alert(s) in ${stats.records} record(s) on /etc/shadow`)
