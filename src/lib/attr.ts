// attr(): any attribute of the catalogue (src/format/attributes.ts) by its policy name (`sf.proc.exe`), sysprint
// key (`proc.exe`) or alias, on a joined record. The same functions the filters and printers use, so the values
// cannot drift from theirs.
import {Attribute, AttrValue, findAttribute, PrintValue} from '../format/attributes.js'
import {Joined} from '../format/join.js'
import {EventRecord} from '../format/records.js'
import {deliveredJoin} from './driver.js'

const cache = new Map<string, Attribute>()

function lookup(name: string): Attribute {
  let a = cache.get(name)
  if (a === undefined) {
    a = findAttribute(name)
    if (a === undefined) throw new RangeError(`unknown SysFlow attribute ${JSON.stringify(name)} (sysflow print --list shows them all)`)
    cache.set(name, a)
  }
  return a
}

function joined(x: Joined | EventRecord): Joined {
  if ('rec' in x) return x
  const j = deliveredJoin(x)
  if (j === undefined) throw new TypeError('attr() needs the joined record: pass the callback\'s 7th argument or a record from records()')
  return j
}

/** The typed value (bigint for 64-bit, string lists, ...); undefined when the record type has no such attribute. */
export function attr(record: Joined | EventRecord, name: string): AttrValue {
  return lookup(name).value(joined(record))
}

/** The value as sysprint's JSON shows it (print -o json/flatjson): null or "" where it is absent. */
export function printAttr(record: Joined | EventRecord, name: string): PrintValue {
  return lookup(name).print(joined(record))
}
