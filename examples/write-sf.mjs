// Keep the records matching a condition in a new .sf file (or rotated files in a directory ending in /).
// usage: node write-sf.mjs CONDITION OUTPUT TRACE...
import {records, writer} from 'sysflow'

const [condition, output, ...inputs] = process.argv.slice(2)
const out = writer(output, {filter: condition})
for await (const r of records(inputs)) {
  const wait = out.write(r) // entities the record references are written before it
  if (wait) await wait
}
const {records: n, files} = await out.close()
console.log(`${n} records written to ${files.join(', ')}`)
