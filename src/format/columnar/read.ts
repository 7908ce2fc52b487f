// Reading traces into columns: the reader's framing, warnings and errors (reader.ts's readDecoded), each block
// decoded into column tables (decode.ts) and joined as row indexes (join.ts), with the pipeline's per-input scope
// and unresolved-reference warnings (pipeline.ts). Rows where rows are needed: `joinedRows` builds the pipeline's
// Joined objects from a joined block, entities once per scope row.
import {RecDecoder} from '../avro/compile.js'
import {Cursor} from '../avro/binary.js'
import {ReadWarning, TraceError} from '../errors.js'
import {describeUnresolved} from '../join.js'
import {PipelineOptions, PipelineStats} from '../pipeline.js'
import {readDecoded, ReadOptions, ReadStats, TraceInput} from '../reader.js'
import {EventRecord, Kind, KIND_ABBREV, Process} from '../records.js'
import {BlockColumns, ColumnDecoder, columnDecoderFor} from './decode.js'
import {ColumnJoin, JoinedColumns, JoinScope} from './join.js'

const decoders = new WeakMap<RecDecoder, ColumnDecoder>()

function decodeColumns(rows: RecDecoder, c: Cursor, count: number): {value: BlockColumns; records: number} {
  let d = decoders.get(rows)
  if (d === undefined) {
    d = columnDecoderFor(rows)
    decoders.set(rows, d)
  }
  const value = d.block(c, count)
  return {value, records: value.records}
}

/** One trace, a decoded block at a time (as readTrace, in columns). */
export async function* readColumns(input: TraceInput, opts: ReadOptions = {}, stats = new ReadStats()): AsyncGenerator<{file: string; offset: number; block: BlockColumns}> {
  for await (const b of readDecoded(input, opts, stats, decodeColumns)) yield {file: b.file, offset: b.offset, block: b.value}
}

/**
 * Joined blocks of several inputs, in order (joinedBatches, in columns): a failing input goes to `onError` and
 * reading goes on (strict: throws); each input is its own entity scope; unresolved references are reported once
 * per input. Blocks with no event record are yielded too (their entities are in the scope).
 */
export async function* joinedColumns(inputs: readonly TraceInput[], opts: PipelineOptions = {}, stats = new PipelineStats()): AsyncGenerator<JoinedColumns> {
  const join = new ColumnJoin()
  const counts = new Array<number>(KIND_ABBREV.length).fill(0)
  let lastFile: string | undefined
  const flushUnresolved = (file: string | undefined) => {
    const text = describeUnresolved(join.unresolved)
    if (file !== undefined && text) {
      const w: ReadWarning = {file, offset: -1, message: text, skippedRecords: 0, skippedBytes: 0}
      opts.onWarning?.(w)
    }
    Object.assign(join.unresolved, {process: 0, parent: 0, file: 0, container: 0, pod: 0})
  }
  const onOpen: PipelineOptions['onOpen'] = (info) => {
    flushUnresolved(lastFile)
    lastFile = info.file
    join.reset()
    opts.onOpen?.(info)
  }
  try {
    for (const input of inputs) {
      try {
        for await (const b of readColumns(input, {...opts, onOpen}, stats)) {
          const {block} = b
          for (let k = 0; k < counts.length; k++) counts[k] += block.kindCounts[k]
          stats.events += block.events.n
          yield join.join(b.file, b.offset, block)
        }
      } catch (e) {
        if (opts.strict || !(e instanceof TraceError) || !opts.onError) throw e
        opts.onError(e)
      }
    }
  } finally {
    flushUnresolved(lastFile)
    counts.forEach((n, k) => {
      if (n > 0) stats.counts[KIND_ABBREV[k]] = n
    })
  }
}

/** A joined record built from columns: the pipeline's Joined, without its `tables`. */
export interface ColumnJoined {
  rec: EventRecord
  header: unknown
  proc: Process | undefined
  pproc: Process | undefined
  file: unknown
  newFile: unknown
  container: unknown
  pod: unknown
  ancestry: readonly Process[]
}

const ancestries = new WeakMap<JoinScope, Map<number, readonly Process[]>>()

/** The ancestry of context c (one array per context of the scope). */
export function ancestryOf(s: JoinScope, c: number): readonly Process[] {
  let anc = ancestries.get(s)
  if (anc === undefined) ancestries.set(s, (anc = new Map()))
  let a = anc.get(c)
  if (a === undefined) {
    a = Array.from(s.ancestry(c), (g) => s.processes.record(g, Kind.Process) as Process)
    anc.set(c, a)
  }
  return a
}

/**
 * Events row i of a joined block as the pipeline's Joined, each part made when it is first read: the one
 * definition of what a row is joined to, for joinedAt and for readers that want only some parts (the Parquet
 * writer asks for an entity's values without building the event record). Entity objects are shared within
 * their scope. reset() points it at another row.
 */
export class JoinedRow {
  private j!: JoinedColumns
  private s!: JoinScope
  private i = 0
  private recObj: EventRecord | undefined

  reset(j: JoinedColumns, s: JoinScope, i: number): this {
    this.j = j
    this.s = s
    this.i = i
    this.recObj = undefined
    return this
  }

  get rec(): EventRecord {
    this.recObj ??= this.j.block.events.record(this.j.block.eventKind[this.i], this.i) as unknown as EventRecord
    return this.recObj
  }

  /** The row's process context (-1: its process is not known). */
  private get c(): number {
    return this.j.ctx[this.i]
  }

  get header(): unknown {
    return this.s.header()
  }

  get proc(): Process | undefined {
    const c = this.c
    return c >= 0 ? (this.s.processes.record(this.s.ctxProc[c], Kind.Process) as Process) : undefined
  }

  get pproc(): Process | undefined {
    const c = this.c
    return c >= 0 && this.s.ctxPproc[c] >= 0 ? (this.s.processes.record(this.s.ctxPproc[c], Kind.Process) as Process) : undefined
  }

  get container(): unknown {
    const c = this.c
    return c >= 0 && this.s.ctxContainer[c] >= 0 ? this.s.containers.record(this.s.ctxContainer[c], Kind.Container) : undefined
  }

  get pod(): unknown {
    const c = this.c
    return c >= 0 && this.s.ctxPod[c] >= 0 ? this.s.pods.record(this.s.ctxPod[c], Kind.Pod) : undefined
  }

  get ancestry(): readonly Process[] {
    const c = this.c
    return c >= 0 ? ancestryOf(this.s, c) : NO_ANCESTRY
  }

  get file(): unknown {
    const f = this.j.fileRow[this.i]
    return f >= 0 ? this.s.files.record(f, Kind.File) : undefined
  }

  get newFile(): unknown {
    const f = this.j.newFileRow[this.i]
    return f >= 0 ? this.s.files.record(f, Kind.File) : undefined
  }
}

const row = new JoinedRow()

/** The Joined object of events row i of a joined block, in scope `s` (entity objects shared within their scope). */
export function joinedAt(j: JoinedColumns, s: JoinScope, i: number): ColumnJoined {
  const r = row.reset(j, s, i)
  return {rec: r.rec, header: r.header, proc: r.proc, pproc: r.pproc, file: r.file, newFile: r.newFile, container: r.container, pod: r.pod, ancestry: r.ancestry}
}

const NO_ANCESTRY: readonly Process[] = Object.freeze([])

const chains = new WeakMap<JoinScope, Map<number, readonly Process[]>>()

/**
 * What a process context is made of, for events row i (joinedAt without the record's own fields: only its kind
 * and procOID): the loader keys contexts by it. Contexts that share an ancestry share one array.
 */
export function contextAt(j: JoinedColumns, s: JoinScope, i: number): ColumnJoined {
  const kind = j.block.eventKind[i]
  const c = j.ctx[i]
  if (c < 0 || kind === Kind.K8sEvent) return joinedAt(j, s, i)
  const ev = j.block.events
  const procOID = ev.value(ev.spec.fields.get(kind)![0], i)
  let byStart = chains.get(s)
  if (byStart === undefined) chains.set(s, (byStart = new Map()))
  const start = s.ancStart[c]
  let ancestry = byStart.get(start)
  if (ancestry === undefined || ancestry.length !== s.ancLen[c]) {
    ancestry = Array.from(s.ancestry(c), (g) => s.processes.record(g, Kind.Process) as Process)
    byStart.set(start, ancestry)
  }
  return {
    rec: {kind, procOID} as unknown as EventRecord,
    header: s.header(),
    proc: s.processes.record(s.ctxProc[c], Kind.Process) as Process,
    pproc: s.ctxPproc[c] >= 0 ? (s.processes.record(s.ctxPproc[c], Kind.Process) as Process) : undefined,
    file: undefined,
    newFile: undefined,
    container: s.ctxContainer[c] >= 0 ? s.containers.record(s.ctxContainer[c], Kind.Container) : undefined,
    pod: s.ctxPod[c] >= 0 ? s.pods.record(s.ctxPod[c], Kind.Pod) : undefined,
    ancestry,
  }
}

/** The Joined objects of a joined block. */
export function joinedRows(j: JoinedColumns): ColumnJoined[] {
  const out: ColumnJoined[] = []
  for (const seg of j.segments) for (let i = seg.from; i < seg.to; i++) out.push(joinedAt(j, seg.scope, i))
  return out
}

/** The typed records of a decoded block, in order (what readTrace yields for the block). */
export function blockRecords(b: BlockColumns): unknown[] {
  const out: unknown[] = []
  for (let k = 0; k < b.count; k++) {
    const kind = b.seqKind[k]
    if (kind === 255) continue
    const t = kind === Kind.Header || kind === Kind.Container || kind === Kind.Process || kind === Kind.File || kind === Kind.Pod ? b.entities[kind]! : b.events
    out.push(t.record(kind, b.seqRow[k]))
  }
  return out
}
