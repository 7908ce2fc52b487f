// Agreement between our capture output and the collector's golden .sf: per-type counts and, record by record,
// the key fields (type, opflags, ts, endts, pid, tid, exe, args, file path, ports and IPs, byte and op counts, ret).
import {KIND_ABBREV, Kind, SysFlowRecord} from '../format/records.js'

export interface TypeAgreement {
  type: string
  ours: number
  theirs: number
  /** Golden records with a record of ours that has the same key fields. */
  matching: number
}

export interface Agreement {
  types: TypeAgreement[]
  /** Event/flow records of the golden file, and how many of them we reproduce exactly on the key fields. */
  goldenEvents: number
  matchingEvents: number
  /** Up to 20 key strings present only in the golden file, and only in ours. */
  onlyTheirs: string[]
  onlyOurs: string[]
}

/** Key strings of every event and flow record, with exe, args and file paths resolved through the entities. */
export function keyFields(records: readonly SysFlowRecord[]): Map<number, string[]> {
  const procs = new Map<string, {exe: string; args: string; pid: bigint}>()
  const files = new Map<string, string>()
  const out = new Map<number, string[]>()
  const proc = (o: {hpid: bigint; createTS: bigint}) => {
    const p = procs.get(`${o.hpid}:${o.createTS}`)
    return p ? `${o.hpid}|${p.exe}|${p.args}` : `${o.hpid}|?|?`
  }
  const add = (k: number, s: string) => {
    let l = out.get(k)
    if (!l) out.set(k, (l = []))
    l.push(s)
  }
  for (const r of records) {
    switch (r.kind) {
      case Kind.Process:
        procs.set(`${r.oid.hpid}:${r.oid.createTS}`, {exe: r.exe ?? '', args: r.exeArgs ?? '', pid: r.oid.hpid})
        break
      case Kind.File:
        files.set(r.oid, r.path ?? '')
        break
      case Kind.ProcessEvent:
        add(r.kind, `PE ${r.opFlags} ${r.ts} ${proc(r.procOID)} ${r.tid} [${(r.args ?? []).join(',')}] ret=${r.ret}`)
        break
      case Kind.FileFlow:
        add(r.kind, `FF ${r.opFlags} ${r.ts}-${r.endTs} ${proc(r.procOID)} ${r.tid} ${files.get(r.fileOID) ?? r.fileOID} fd=${r.fd} of=${r.openFlags} r=${r.numRRecvOps}/${r.numRRecvBytes} w=${r.numWSendOps}/${r.numWSendBytes}`)
        break
      case Kind.NetworkFlow:
        add(r.kind, `NF ${r.opFlags} ${r.ts}-${r.endTs} ${proc(r.procOID)} ${r.tid} ${r.sip}:${r.sport}->${r.dip}:${r.dport}/${r.proto} fd=${r.fd} r=${r.numRRecvOps}/${r.numRRecvBytes} w=${r.numWSendOps}/${r.numWSendBytes}`)
        break
      case Kind.FileEvent:
        add(r.kind, `FE ${r.opFlags} ${r.ts} ${proc(r.procOID)} ${r.tid} ${files.get(r.fileOID) ?? r.fileOID} ${r.newFileOID === null ? '' : files.get(r.newFileOID) ?? r.newFileOID} ret=${r.ret}`)
        break
      case Kind.ProcessFlow:
        add(r.kind, `PF ${r.opFlags} ${r.ts}-${r.endTs} ${proc(r.procOID)} c=${r.numThreadsCloned} e=${r.numThreadsExited} err=${r.numCloneErrors}`)
        break
      default:
        break
    }
  }
  return out
}

function entityKey(r: SysFlowRecord): string | undefined {
  switch (r.kind) {
    case Kind.Process:
      return `P ${r.state} ${r.oid.hpid}:${r.oid.createTS} ${r.poid ? `${r.poid.hpid}:${r.poid.createTS}` : '-'} ${r.exe} [${r.exeArgs}] ${r.uid}/${r.gid} ${r.containerId ?? ''}`
    case Kind.File:
      return `F ${r.state} ${r.path} ${r.restype} ${r.containerId ?? ''}`
    case Kind.Container:
      return `C ${r.id} ${r.name} ${r.image} ${r.privileged}`
    default:
      return undefined
  }
}

export function compareRecords(ours: readonly SysFlowRecord[], theirs: readonly SysFlowRecord[]): Agreement {
  const types: TypeAgreement[] = []
  const onlyTheirs: string[] = []
  const onlyOurs: string[] = []
  let goldenEvents = 0
  let matchingEvents = 0
  const count = (rs: readonly SysFlowRecord[], k: number) => rs.reduce((n, r) => n + (r.kind === k ? 1 : 0), 0)
  const kOurs = keyFields(ours)
  const kTheirs = keyFields(theirs)
  for (let k = 0; k < KIND_ABBREV.length; k++) {
    const a = count(ours, k)
    const b = count(theirs, k)
    if (a === 0 && b === 0) continue
    let matching = 0
    let left: string[]
    let right: string[]
    if (k >= Kind.ProcessEvent) {
      left = kOurs.get(k) ?? []
      right = kTheirs.get(k) ?? []
    } else {
      left = ours.filter((r) => r.kind === k).map((r) => entityKey(r) ?? '')
      right = theirs.filter((r) => r.kind === k).map((r) => entityKey(r) ?? '')
    }
    const bag = new Map<string, number>()
    for (const s of left) bag.set(s, (bag.get(s) ?? 0) + 1)
    for (const s of right) {
      const n = bag.get(s) ?? 0
      if (n > 0) {
        matching++
        bag.set(s, n - 1)
      } else if (onlyTheirs.length < 20) onlyTheirs.push(s)
    }
    for (const [s, n] of bag) for (let i = 0; i < n && onlyOurs.length < 20; i++) onlyOurs.push(s)
    if (k >= Kind.ProcessEvent) {
      goldenEvents += right.length
      matchingEvents += matching
    }
    types.push({type: KIND_ABBREV[k], ours: a, theirs: b, matching})
  }
  return {types, goldenEvents, matchingEvents, onlyTheirs, onlyOurs}
}
