// Joined records -> one wide Arrow record batch with every `events` column, each value from the catalogue's value().
// Used for Arrow IPC output; the DuckDB loader uses the narrow batches of ./narrow.ts instead.
//
// Consecutive records mostly share their process, file, container...: a column whose value depends only on those
// entities reuses the previous record's value when they are the same objects (the catalogue is only asked again
// when one changes). test/arrow.test.ts checks every cell against value().
import {Data, makeData, RecordBatch, Struct} from 'apache-arrow'
import {Joined} from '../join.js'
import {Kind} from '../records.js'
import {ColumnBuffer, makeBuffer} from './buffers.js'
import {bufferKind, EVENT_COLUMNS, EventColumn, eventsSchema, SHAPE_ATTRIBUTES} from './columns.js'


/** Whether record `b` has the same value as record `a` for columns of this group (undefined: no such group). */
type Same = (a: Joined, b: Joined) => boolean

const SAME: Record<string, Same> = {
  // Process and parent values: the process (a real one), its parent and its ancestry as joined.
  ctx: (a, b) => b.proc !== undefined && a.proc === b.proc && a.pproc === b.pproc && a.ancestry === b.ancestry,
  container: (a, b) => a.container === b.container,
  pod: (a, b) => a.pod === b.pod,
  header: (a, b) => a.header === b.header,
  file: (a, b) => a.file === b.file,
  newFile: (a, b) => a.newFile === b.newFile,
  shape: (a, b) => {
    const x = a.rec
    const y = b.rec
    if (x.kind !== y.kind) return false
    if (y.kind === Kind.K8sEvent) return x.kind === Kind.K8sEvent && x.action === y.action && x.component === y.component
    return x.kind !== Kind.K8sEvent && x.opFlags === y.opFlags && (y.kind !== Kind.FileFlow || (x.kind === Kind.FileFlow && x.openFlags === y.openFlags))
  },
}

function sameFor(c: EventColumn): Same | undefined {
  const sf = c.attr?.sf
  if (!sf) return undefined
  if (SHAPE_ATTRIBUTES.has(sf)) return SAME.shape
  if ((sf.startsWith('sf.proc.') && sf !== 'sf.proc.tid') || sf.startsWith('sf.pproc.')) return SAME.ctx
  return c.attr?.dep ? SAME[c.attr.dep] : undefined
}

const schema = eventsSchema()
const plans = EVENT_COLUMNS.map((c) => ({c, kind: bufferKind(c.type), same: sameFor(c)}))

/** The wide `events` record batch of these records (one row per record, columns as eventsSchema()). */
export function eventsRecordBatch(batch: readonly Joined[]): RecordBatch {
  const n = batch.length
  const children: Data[] = []
  for (const {c, kind, same} of plans) {
    const buf: ColumnBuffer = makeBuffer(kind, n)
    if (c.attr === undefined) {
      // `time`: the instant of sf.ts.
      for (let i = 0; i < n; i++) buf.push(batch[i].rec.ts)
    } else {
      const value = c.attr.value
      let last: Joined | undefined
      let lastValue: unknown
      for (let i = 0; i < n; i++) {
        const j = batch[i]
        if (!(same && last !== undefined && same(last, j))) {
          lastValue = value(j)
          last = j
        }
        buf.push(lastValue)
      }
    }
    children.push(buf.finish())
  }
  return new RecordBatch(schema, makeData({type: new Struct(schema.fields), length: n, nullCount: 0, children}))
}
