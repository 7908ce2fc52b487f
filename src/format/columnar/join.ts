// The join over column tables: join.ts's semantics (entity tables reset at every header and every input, the latest
// record of an entity wins, unresolved references counted, never dropped), computed as row indexes once per record:
//   - entities are numbered within their scope (a header, or an input's start): a process, file, container or pod is
//     a global row of the scope's store, which keeps the block tables the rows live in;
//   - a process context (process, parent, container, pod, ancestry self first) is a row of the scope's context table,
//     made when a process is first used after an entity arrived (as JoinTables.context() is);
//   - every event or flow record gets its context (or -1: no process), its file and new file (-1: none).
// Process identities are compared as four 32-bit words and FOIDs as bytes: no bigint, no string per record.
import {Unresolved} from '../join.js'
import {Kind} from '../records.js'
import {BytesColumn, ColumnTable, EVENTS_SPEC, LongColumn, NULL, PRESENT, specOf} from './columns.js'
import {BytesTable} from './bytes-table.js'
import {BlockColumns} from './decode.js'

const MISSING_PARENT = 1
const MISSING_CONTAINER = 2
const MISSING_POD = 4

function grown(a: Int32Array<ArrayBuffer>, need: number, fill = 0): Int32Array<ArrayBuffer> {
  if (need <= a.length) return a
  let n = Math.max(a.length * 2, 64)
  while (n < need) n *= 2
  const b = new Int32Array(n)
  if (fill !== 0) b.fill(fill, a.length)
  b.set(a)
  return b
}

/** Entity rows of one scope, numbered from 0 in arrival order: each a row of some block's table. */
export class EntityStore {
  private tables: ColumnTable[] = []
  private froms: number[] = []
  private bases: number[] = []
  n = 0
  /** The table and row of the last locate(). */
  table!: ColumnTable
  row = 0

  add(t: ColumnTable, row: number): number {
    const last = this.tables.length - 1
    if (last < 0 || this.tables[last] !== t || this.froms[last] + (this.n - this.bases[last]) !== row) {
      this.tables.push(t)
      this.froms.push(row)
      this.bases.push(this.n)
    }
    return this.n++
  }

  /** Point `table` and `row` at global row g. */
  locate(g: number): void {
    const b = this.bases
    let lo = 0
    let hi = b.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (b[mid] <= g) lo = mid
      else hi = mid - 1
    }
    this.table = this.tables[lo]
    this.row = this.froms[lo] + (g - b[lo])
  }

  private objects: unknown[] = []
  /** The typed record of global row g (built once, then shared: the same entity is the same object). */
  record(g: number, kind: number): unknown {
    // Kept dense (rows are asked for out of order): a sparse array would fall back to slow dictionary elements.
    while (this.objects.length <= g) this.objects.push(undefined)
    let o = this.objects[g]
    if (o === undefined) {
      this.locate(g)
      o = this.table.record(kind, this.row)
      this.objects[g] = o
    }
    return o
  }
}

/** Open addressing over (hpid, createTS) as four int32 words -> global process row. */
class OidHash {
  private keys = new Int32Array(4 * 256)
  private vals = new Int32Array(256).fill(-1)
  private size = 0

  private slot(a: number, b: number, c: number, d: number): number {
    const mask = this.vals.length - 1
    let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(c ^ Math.imul(d, 0x27d4eb2f), 0xc2b2ae35)
    h ^= h >>> 15
    let s = h & mask
    const k = this.keys
    const v = this.vals
    while (v[s] >= 0 && !(k[4 * s] === a && k[4 * s + 1] === b && k[4 * s + 2] === c && k[4 * s + 3] === d)) s = (s + 1) & mask
    return s
  }

  get(a: number, b: number, c: number, d: number): number {
    return this.vals[this.slot(a, b, c, d)]
  }

  set(a: number, b: number, c: number, d: number, g: number): void {
    if (2 * (this.size + 1) > this.vals.length) this.rehash()
    const s = this.slot(a, b, c, d)
    if (this.vals[s] < 0) this.size++
    const k = this.keys
    k[4 * s] = a
    k[4 * s + 1] = b
    k[4 * s + 2] = c
    k[4 * s + 3] = d
    this.vals[s] = g
  }

  private rehash(): void {
    const keys = this.keys
    const vals = this.vals
    this.keys = new Int32Array(keys.length * 2)
    this.vals = new Int32Array(vals.length * 2).fill(-1)
    this.size = 0
    for (let s = 0; s < vals.length; s++) if (vals[s] >= 0) this.set(keys[4 * s], keys[4 * s + 1], keys[4 * s + 2], keys[4 * s + 3], vals[s])
  }
}

/** FOID bytes -> global file row (-1: none). */
class BytesHash {
  private readonly table = new BytesTable(256)

  get(b: Uint8Array, at: number, len: number): number {
    return this.table.vals[this.table.slot(b, at, len)] - 1
  }

  set(b: Uint8Array, at: number, len: number, g: number): void {
    const t = this.table
    const s = t.slot(b, at, len)
    if (t.vals[s] === 0) t.insert(s, b, at, len, g + 1)
    else t.vals[s] = g + 1
  }
}

const NO_WORDS = new Int32Array(0)

function sameRange(a: Int32Array, x: number, n: number, y: number, m: number): boolean {
  if (n !== m) return false
  for (let k = 0; k < n; k++) if (a[x + k] !== a[y + k]) return false
  return true
}

function isEntity(kind: number): boolean {
  return kind === Kind.Header || kind === Kind.Container || kind === Kind.Process || kind === Kind.File || kind === Kind.Pod
}

function sameBytes(a: Uint8Array, x: number, b: Uint8Array | undefined, y: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (a[x + k] !== b![y + k]) return false
  return true
}
const C_PROC_TS = EVENTS_SPEC.col('procOID.createTS')
const C_PROC_PID = EVENTS_SPEC.col('procOID.hpid')
const C_FILE = EVENTS_SPEC.col('fileOID')
const C_NEWFILE = EVENTS_SPEC.col('newFileOID')
const P = specOf(Kind.Process)
const P_TS = P.col('oid.createTS')
const P_PID = P.col('oid.hpid')
const P_PTS = P.col('poid.createTS')
const P_PPID = P.col('poid.hpid')
const P_CONTAINER = P.col('containerId')
const F_OID = specOf(Kind.File).col('oid')
const C_ID = specOf(Kind.Container).col('id')
const C_POD = specOf(Kind.Container).col('podId')
const POD_ID = specOf(Kind.Pod).col('id')

/** One entity scope: what a header (or an input's start) opens, until the next one. */
export class JoinScope {
  readonly processes = new EntityStore()
  readonly files = new EntityStore()
  readonly containers = new EntityStore()
  readonly pods = new EntityStore()
  readonly procIds = new OidHash()
  readonly fileIds = new BytesHash()
  readonly containerIds = new Map<string, number>()
  readonly podIds = new Map<string, number>()
  /**
   * Identities a context or ancestry looked up and did not find: only their arrival, or a known one's replacement,
   * can change a context already made (an entity no context refers to changes none).
   */
  readonly wantedProcs = new OidHash()
  readonly wantedContainers = new Set<string>()
  readonly wantedPods = new Set<string>()

  // Contexts: rows of parallel arrays; the ancestry of context c is anc[ancStart[c] ..+ ancLen[c]].
  nctx = 0
  ctxProc = new Int32Array(64)
  ctxPproc = new Int32Array(64)
  ctxContainer = new Int32Array(64)
  ctxPod = new Int32Array(64)
  ctxMissing = new Int32Array(64)
  ancStart = new Int32Array(64)
  ancLen = new Int32Array(64)
  anc = new Int32Array(256)
  nanc = 0

  // Per process row: its context and ancestry, and the epochs they were made in.
  ctxOf = new Int32Array(64)
  ctxEpochOf = new Int32Array(64).fill(-1)
  ancOf = new Int32Array(64)
  ancLenOf = new Int32Array(64)
  ancEpochOf = new Int32Array(64).fill(-1)

  /** headerTable/headerRow: the scope's header, if it began with one. */
  constructor(readonly headerTable: ColumnTable | undefined, readonly headerRow: number) {}

  private headerObject: unknown
  /** The scope's header record (one object: consumers key entities by identity). */
  header(): unknown {
    if (this.headerObject === undefined && this.headerTable !== undefined) this.headerObject = this.headerTable.record(Kind.Header, this.headerRow)
    return this.headerObject
  }

  /** The ancestry of context c, as global process rows, self first. */
  ancestry(c: number): Int32Array {
    return this.anc.subarray(this.ancStart[c], this.ancStart[c] + this.ancLen[c])
  }
}

/** Events of a block joined in one scope: rows [from, to) of the block's events table. */
export interface JoinedSegment {
  scope: JoinScope
  from: number
  to: number
}

/** A decoded block with its join: per events row, the context, file and new file (-1: none). */
export interface JoinedColumns {
  file: string
  offset: number
  block: BlockColumns
  segments: JoinedSegment[]
  ctx: Int32Array
  fileRow: Int32Array
  newFileRow: Int32Array
  /**
   * The caller is done with this block (no view of its events table, sequence or row arrays is kept): they are
   * reused for a later block. Optional: a block never released is simply collected.
   */
  release(): void
  /** The entity records joined, in order: record index in the block, scope, global row in its store (-1: a header). */
  entSeq: number[]
  entScope: JoinScope[]
  entRow: number[]
}

export class ColumnJoin {
  scope = new JoinScope(undefined, -1)
  readonly unresolved: Unresolved = {process: 0, parent: 0, file: 0, container: 0, pod: 0}
  /**
   * Bumped when an entity arrives that a context (ctxEpoch) or an ancestry (procEpoch, processes only) may refer to:
   * the replacement of a known one, or one a lookup wanted. Contexts and ancestries are then made again when used.
   */
  private ctxEpoch = 0
  private procEpoch = 0
  // The last process looked up for a record (flows of one process come together).
  private lastA = 0
  private lastB = 0
  private lastC = 0
  private lastD = 0
  private lastProc = -2
  /** Row arrays of a released block. */
  private spare: Int32Array[] | undefined

  /** Empty the tables (a header, or a new input with no header yet). */
  reset(headerTable?: ColumnTable, headerRow = -1): void {
    this.scope = new JoinScope(headerTable, headerRow)
    this.lastProc = -2
  }

  /** Join one decoded block. */
  join(file: string, offset: number, block: BlockColumns, first = 0, end = block.count): JoinedColumns {
    const ev = block.events
    const n = ev.n
    let rows = this.spare
    this.spare = undefined
    if (rows === undefined || rows[0].length < n) rows = [new Int32Array(Math.max(n, 1024)), new Int32Array(Math.max(n, 1024)), new Int32Array(Math.max(n, 1024))]
    const ctx = rows[0].subarray(0, n)
    const fileRow = rows[1].subarray(0, n).fill(-1)
    const newFileRow = rows[2].subarray(0, n).fill(-1)
    const segments: JoinedSegment[] = []
    const {seqKind, seqRow} = block
    // Columns no record of the block has are not there (only K8s events lack procOID; only FF and FE have files).
    const procTs = (ev.cols[C_PROC_TS] as LongColumn | undefined)?.w ?? NO_WORDS
    const procPid = (ev.cols[C_PROC_PID] as LongColumn | undefined)?.w ?? NO_WORDS
    const foid = ev.cols[C_FILE] as BytesColumn
    const newFoid = ev.cols[C_NEWFILE] as BytesColumn
    const u = this.unresolved
    let scope = this.scope
    // Event rows before `first` are not joined (they belong to another range).
    let evNext = 0
    for (let k = 0; k < first; k++) if (seqKind[k] !== 255 && !isEntity(seqKind[k])) evNext = seqRow[k] + 1
    let from = evNext
    // The last file looked up (in this block: a file record or a header forgets it).
    let lastFile = -2
    let lastBuf = foid?.b
    let lastAt = 0
    let lastLen = 0
    // Entities, in order: record index, scope, global row (loaders take them in as they come).
    const entSeq: number[] = []
    const entScope: JoinScope[] = []
    const entRow: number[] = []
    for (let k = first; k < end; k++) {
      const kind = seqKind[k]
      const row = seqRow[k]
      switch (kind) {
        case 255:
          continue
        case Kind.Header: {
          // Events before the header were joined in the old scope.
          if (evNext > from) segments.push({scope, from, to: evNext})
          from = evNext
          this.reset(block.entities[Kind.Header], row)
          scope = this.scope
          entSeq.push(k)
          entScope.push(scope)
          entRow.push(-1)
          lastFile = -2
          continue
        }
        case Kind.Process:
        case Kind.File:
        case Kind.Container:
        case Kind.Pod:
          entSeq.push(k)
          entScope.push(scope)
          entRow.push(this.arrive(scope, kind, block.entities[kind]!, row))
          // The last lookups may name the entity that just arrived.
          if (kind === Kind.Process) this.lastProc = -2
          else if (kind === Kind.File) lastFile = -2
          continue
        default:
      }
      // An event or flow record: row `row` of the events table.
      evNext = row + 1
      if (kind === Kind.K8sEvent) {
        ctx[row] = -1
        continue
      }
      const a = procPid[2 * row]
      const b = procPid[2 * row + 1]
      const c = procTs[2 * row]
      const d = procTs[2 * row + 1]
      let p: number
      if (this.lastProc !== -2 && a === this.lastA && b === this.lastB && c === this.lastC && d === this.lastD) p = this.lastProc
      else {
        p = scope.procIds.get(a, b, c, d)
        this.lastA = a
        this.lastB = b
        this.lastC = c
        this.lastD = d
        this.lastProc = p
      }
      if (p < 0) {
        u.process++
        ctx[row] = -1
      } else {
        const cx = scope.ctxEpochOf[p] === this.ctxEpoch ? scope.ctxOf[p] : this.context(scope, p)
        ctx[row] = cx
        const missing = scope.ctxMissing[cx]
        if (missing !== 0) {
          if (missing & MISSING_PARENT) u.parent++
          if (missing & MISSING_CONTAINER) u.container++
          if (missing & MISSING_POD) u.pod++
        }
      }
      if (kind === Kind.FileFlow || kind === Kind.FileEvent) {
        // Flows of one file tend to come together too: compare with the last FOID before hashing.
        const at = foid.st[row]
        const len = foid.ln[row]
        let f: number
        if (lastFile !== -2 && len === lastLen && sameBytes(foid.b, at, lastBuf, lastAt, len)) f = lastFile
        else {
          f = scope.fileIds.get(foid.b, at, len)
          lastFile = f
          lastBuf = foid.b
          lastAt = at
          lastLen = len
        }
        fileRow[row] = f
        if (f < 0) u.file++
        if (kind === Kind.FileEvent && newFoid.s[row] === PRESENT) {
          const nf = scope.fileIds.get(newFoid.b, newFoid.st[row], newFoid.ln[row])
          newFileRow[row] = nf
          if (nf < 0) u.file++
        }
      }
    }
    if (evNext > from) segments.push({scope, from, to: evNext})
    const release = () => {
      this.spare = rows
      block.recycle()
    }
    return {file, offset, block, segments, ctx, fileRow, newFileRow, release, entSeq, entScope, entRow}
  }

  /**
   * An entity record (row `row` of table `t`) arrives in `scope`: its global row, its identity mapped to it, and the
   * epochs bumped if a context or ancestry already made may refer to it (a replacement, or an identity a lookup
   * wanted); an entity no context refers to changes none.
   */
  private arrive(scope: JoinScope, kind: number, t: ColumnTable, row: number): number {
    switch (kind) {
      case Kind.Process: {
        const g = scope.processes.add(t, row)
        const w1 = (t.cols[P_PID] as LongColumn).w
        const w2 = (t.cols[P_TS] as LongColumn).w
        const a = w1[2 * row]
        const b = w1[2 * row + 1]
        const c = w2[2 * row]
        const d = w2[2 * row + 1]
        if (scope.procIds.get(a, b, c, d) >= 0 || scope.wantedProcs.get(a, b, c, d) >= 0) {
          this.ctxEpoch++
          this.procEpoch++
        }
        scope.procIds.set(a, b, c, d, g)
        return g
      }
      case Kind.File: {
        const g = scope.files.add(t, row)
        const c = t.cols[F_OID] as BytesColumn
        scope.fileIds.set(c.b, c.st[row], c.ln[row], g)
        return g
      }
      case Kind.Container:
        return this.arriveById(scope.containers.add(t, row), (t.cols[C_ID] as BytesColumn).text(row), scope.containerIds, scope.wantedContainers)
      default:
        return this.arriveById(scope.pods.add(t, row), (t.cols[POD_ID] as BytesColumn).text(row), scope.podIds, scope.wantedPods)
    }
  }

  /** A container or pod: known by its id string. */
  private arriveById(g: number, id: string, ids: Map<string, number>, wanted: Set<string>): number {
    if (ids.has(id) || wanted.has(id)) this.ctxEpoch++
    ids.set(id, g)
    return g
  }

  /** The context of process row p as the tables stand now (JoinTables.context()). */
  private context(scope: JoinScope, p: number): number {
    const procs = scope.processes
    procs.locate(p)
    const t = procs.table
    const r = procs.row
    let missing = 0
    let pproc = -1
    let container = -1
    let pod = -1
    const pts = t.cols[P_PTS] as LongColumn
    if (pts.s[r] !== NULL) {
      const pp = (t.cols[P_PPID] as LongColumn).w
      pproc = scope.procIds.get(pp[2 * r], pp[2 * r + 1], pts.w[2 * r], pts.w[2 * r + 1])
      if (pproc < 0) {
        missing |= MISSING_PARENT
        scope.wantedProcs.set(pp[2 * r], pp[2 * r + 1], pts.w[2 * r], pts.w[2 * r + 1], 0)
      }
    }
    const cid = t.cols[P_CONTAINER] as BytesColumn
    // A container id that is set and not empty (the row join tests it for truth).
    if (cid.s[r] === PRESENT && cid.ln[r] > 0) {
      const id = cid.text(r)
      const g = scope.containerIds.get(id)
      if (g === undefined) {
        missing |= MISSING_CONTAINER
        scope.wantedContainers.add(id)
      } else {
        container = g
        scope.containers.locate(g)
        const pid = scope.containers.table.cols[C_POD] as BytesColumn
        const cr = scope.containers.row
        if (pid.s[cr] === PRESENT && pid.ln[cr] > 0) {
          const podId = pid.text(cr)
          const pg = scope.podIds.get(podId)
          if (pg === undefined) {
            missing |= MISSING_POD
            scope.wantedPods.add(podId)
          } else pod = pg
        }
      }
    }
    if (p >= scope.ctxOf.length) {
      const need = p + 1
      scope.ctxOf = grown(scope.ctxOf, need)
      scope.ctxEpochOf = grown(scope.ctxEpochOf, need, -1)
      scope.ancOf = grown(scope.ancOf, need)
      scope.ancLenOf = grown(scope.ancLenOf, need)
      scope.ancEpochOf = grown(scope.ancEpochOf, need, -1)
    }
    // The context this process had before (an entity arrived since): kept when nothing it is made of changed, so
    // contexts stay as few as the distinct ones (consumers key their rows by them).
    const prev = scope.ctxEpochOf[p] >= 0 ? scope.ctxOf[p] : -1
    if (scope.ancEpochOf[p] !== this.procEpoch) {
      const before = scope.nanc
      this.ancestry(scope, p)
      if (prev >= 0 && sameRange(scope.anc, scope.ancStart[prev], scope.ancLen[prev], scope.ancOf[p], scope.ancLenOf[p])) {
        scope.nanc = before
        scope.ancOf[p] = scope.ancStart[prev]
      }
    }
    if (prev >= 0 && scope.ctxPproc[prev] === pproc && scope.ctxContainer[prev] === container && scope.ctxPod[prev] === pod &&
      scope.ctxMissing[prev] === missing && scope.ancStart[prev] === scope.ancOf[p] && scope.ancLen[prev] === scope.ancLenOf[p]) {
      scope.ctxEpochOf[p] = this.ctxEpoch
      return prev
    }
    const c = scope.nctx++
    if (c >= scope.ctxProc.length) {
      scope.ctxProc = grown(scope.ctxProc, c + 1)
      scope.ctxPproc = grown(scope.ctxPproc, c + 1)
      scope.ctxContainer = grown(scope.ctxContainer, c + 1)
      scope.ctxPod = grown(scope.ctxPod, c + 1)
      scope.ctxMissing = grown(scope.ctxMissing, c + 1)
      scope.ancStart = grown(scope.ancStart, c + 1)
      scope.ancLen = grown(scope.ancLen, c + 1)
    }
    scope.ctxProc[c] = p
    scope.ctxPproc[c] = pproc
    scope.ctxContainer[c] = container
    scope.ctxPod[c] = pod
    scope.ctxMissing[c] = missing
    scope.ancStart[c] = scope.ancOf[p]
    scope.ancLen[c] = scope.ancLenOf[p]
    scope.ctxOf[p] = c
    scope.ctxEpochOf[p] = this.ctxEpoch
    return c
  }

  /** The process and its known ancestors, self first; stops at a missing parent, a cycle, or 1024 (JoinTables.ancestry). */
  private ancestry(scope: JoinScope, p: number): void {
    const start = scope.nanc
    const procs = scope.processes
    let len = 0
    for (let q = p; q >= 0 && len < 1024;) {
      let seen = false
      for (let i = start; i < start + len; i++) if (scope.anc[i] === q) seen = true
      if (seen) break
      scope.anc = grown(scope.anc, start + len + 1)
      scope.anc[start + len++] = q
      procs.locate(q)
      const t = procs.table
      const r = procs.row
      const pts = t.cols[P_PTS] as LongColumn
      if (pts.s[r] === NULL) break
      const pp = (t.cols[P_PPID] as LongColumn).w
      q = scope.procIds.get(pp[2 * r], pp[2 * r + 1], pts.w[2 * r], pts.w[2 * r + 1])
      if (q < 0) scope.wantedProcs.set(pp[2 * r], pp[2 * r + 1], pts.w[2 * r], pts.w[2 * r + 1], 0)
    }
    scope.nanc = start + len
    scope.ancOf[p] = start
    scope.ancLenOf[p] = len
    scope.ancEpochOf[p] = this.procEpoch
  }
}
