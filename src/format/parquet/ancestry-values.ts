// The context group's ancestry lists (proc_aname, proc_aexe, proc_acmdline, proc_apid) built from each ancestor's
// elements, found once per ancestor and row group, instead of value() per context: contexts are nearly all
// distinct (39 k on the 2M-record bench trace, 5.4 ancestors each) but share most of their ancestors, and value()
// made four arrays of a context's whole ancestry and looked up every element of each. Each element is still the
// catalogue's own: the list column's value() asked of a view whose ancestry is that one process (the four are
// maps over the ancestry, self first). test/parquet-columns.test.ts compares every cell with the DuckDB-written
// export.
import {Attribute} from '../attributes.js'
import {JoinScope} from '../columnar/join.js'
import {Joined} from '../join.js'
import {Kind, Process} from '../records.js'
import {KeyedValues, ListValues} from './prepare.js'

/** The context group's columns built here (element-wise maps over the ancestry). */
const LISTS = new Set(['proc_aname', 'proc_aexe', 'proc_acmdline', 'proc_apid'])

/** Per scope: each process row's element indexes per list column, valid in the row group of its stamp. */
interface Cache {
  stamp: Int32Array
  ids: Int32Array
}

export class AncestryValues {
  private readonly caches = new WeakMap<JoinScope, Cache>()
  private readonly one = {ancestry: [] as Process[]}

  private constructor(
    /** Indexes (in the group) of the list columns, their accumulators and value(). */
    readonly columns: readonly number[],
    private readonly accs: readonly ListValues[],
    private readonly values: readonly Attribute['value'][],
  ) {}

  /** The lists of a group's columns (events column names, accumulators, value()), if it has them all. */
  static of(names: readonly string[], accs: readonly KeyedValues[], values: readonly Attribute['value'][]): AncestryValues | undefined {
    const at = names.flatMap((n, k) => (LISTS.has(n) ? [k] : []))
    if (at.length !== LISTS.size || !at.every((k) => accs[k] instanceof ListValues)) return undefined
    return new AncestryValues(at, at.map((k) => accs[k] as ListValues), at.map((k) => values[k]))
  }

  /** Add context c's lists (row group `serial`). */
  add(s: JoinScope, c: number, serial: number): void {
    const m = this.accs.length
    const cache = this.cache(s)
    const anc = s.anc
    const start = s.ancStart[c]
    const n = s.ancLen[c]
    for (let x = 0; x < n; x++) {
      const g = anc[start + x]
      if (cache.stamp[g] !== serial) this.elements(s, cache, g, serial)
    }
    for (let k = 0; k < m; k++) {
      const acc = this.accs[k]
      acc.beginList(n)
      for (let x = 0; x < n; x++) acc.pushId(cache.ids[m * anc[start + x] + k])
    }
  }

  /** Process row g's element of each list, as dictionary indexes of this row group. */
  private elements(s: JoinScope, cache: Cache, g: number, serial: number): void {
    const one = this.one
    one.ancestry[0] = s.processes.record(g, Kind.Process) as Process
    const jn = one as unknown as Joined
    const m = this.accs.length
    for (let k = 0; k < m; k++) {
      const list = this.values[k](jn) as readonly (string | bigint | null | undefined)[]
      if (list.length !== 1) throw new Error(`ancestry list column ${this.columns[k]}: not one element per ancestor`)
      cache.ids[m * g + k] = this.accs[k].idOf(list[0])
    }
    cache.stamp[g] = serial
  }

  private cache(s: JoinScope): Cache {
    let c = this.caches.get(s)
    const need = s.processes.n
    if (c === undefined || c.stamp.length < need) {
      const cap = Math.max(64, need * 2)
      const stamp = new Int32Array(cap).fill(-1)
      const ids = new Int32Array(cap * this.accs.length)
      if (c !== undefined) {
        stamp.set(c.stamp)
        ids.set(c.ids)
      }
      this.caches.set(s, (c = {stamp, ids}))
    }
    return c
  }
}
