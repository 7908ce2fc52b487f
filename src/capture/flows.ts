// The collector's flow tables (fileflowprocessor.cpp, networkflowprocessor.cpp): one FileFlow or NetworkFlow per
// (thread, fd, file or 4-tuple), and the "related flows" of one: the flows of the same process on the same fd and
// file or 4-tuple, opened by other threads (a listener thread accepts, a worker thread reads and closes).
import type {OID} from '../format/records.js'
import {OpFlag} from '../format/flags.js'

export interface FlowBase {
  /** Table key: thread, fd and file (container + path) or 4-tuple. */
  key: string
  /** The same without the thread: flows sharing it are related. */
  rkey: string
  pid: number
  /** The thread, fd and container of the key, as numbers and strings (the descriptor cache compares them). */
  tidNum: number
  containerId: string
  /** True while the flow is in the table. */
  inTable: boolean
  procOID: OID
  ts: bigint
  tid: bigint
  opFlags: number
  fd: number
  lastUpdate: bigint
  exportTime: bigint
  numRRecvOps: bigint
  numWSendOps: bigint
  numRRecvBytes: bigint
  numWSendBytes: bigint
}

export interface FFlow extends FlowBase {
  net: false
  openFlags: number
  fileOID: string
  path: string
}

export interface NFlow extends FlowBase {
  net: true
  sip: number
  sport: number
  dip: number
  dport: number
  proto: number
}

export type Flow = FFlow | NFlow

// Keys are "<tid>\0<related key>", so the related key is a slice of the key, made only when a flow is created:
// an I/O event builds one string, as before.

export function fileFlowKey(pid: number, tid: number, fd: number, containerId: string, path: string): string {
  return `${tid}\0F${pid}\0${path}\0${containerId}\0${fd}`
}

export function netFlowKey(pid: number, tid: number, fd: number, sip: number, sport: number, dip: number, dport: number): string {
  return `${tid}\0N${pid}:${fd}:${sip}:${sport}:${dip}:${dport}`
}

/** The flow key without its thread: flows sharing it are related. */
export function relatedKey(key: string): string {
  return key.slice(key.indexOf('\0') + 1)
}

export class FlowTable {
  private readonly byKey = new Map<string, Flow>()
  private readonly byRelated = new Map<string, Flow[]>()

  get size(): number {
    return this.byKey.size
  }

  get(key: string): Flow | undefined {
    return this.byKey.get(key)
  }

  values(): IterableIterator<Flow> {
    return this.byKey.values()
  }

  add(f: Flow): void {
    this.byKey.set(f.key, f)
    f.inTable = true
    const l = this.byRelated.get(f.rkey)
    if (l === undefined) this.byRelated.set(f.rkey, [f])
    else l.push(f)
  }

  delete(f: Flow): void {
    if (this.byKey.get(f.key) !== f) return
    this.byKey.delete(f.key)
    f.inTable = false
    const l = this.byRelated.get(f.rkey)
    if (l === undefined) return
    const i = l.indexOf(f)
    if (i >= 0) l.splice(i, 1)
    if (l.length === 0) this.byRelated.delete(f.rkey)
  }

  clear(): void {
    for (const f of this.byKey.values()) f.inTable = false
    this.byKey.clear()
    this.byRelated.clear()
  }

  /**
   * removeAndWriteRelatedFlows: the flows with the same process, fd and file or 4-tuple as `rkey` but another
   * thread than `tid`, taken out of the table, the ones that opened the descriptor (OPEN for files, ACCEPT or CONNECT for sockets) first
   * (each put in front, as the collector inserts them), then the others in table order. Undefined when none.
   */
  takeRelated(rkey: string, tid: bigint): Flow[] | undefined {
    const l = this.byRelated.get(rkey)
    if (l === undefined) return undefined
    let out: Flow[] | undefined
    for (const f of l) {
      if (f.tid === tid) continue
      if (out === undefined) out = []
      // The file processor puts OPEN flows first, the network one ACCEPT and CONNECT flows.
      if ((f.opFlags & (f.net ? OpFlag.ACCEPT | OpFlag.CONNECT : OpFlag.OPEN)) !== 0) out.unshift(f)
      else out.push(f)
    }
    if (out !== undefined) for (const f of out) this.delete(f)
    return out
  }
}
