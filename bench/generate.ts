// Builds the bench trace: the real traces' records (or the project's fixtures when ../shared is absent) replayed
// round after round with shifted timestamps and identities, written by the project's own writer.
import fs from 'node:fs'
import path from 'node:path'
import {fileInput, readTrace} from '../src/format/reader.js'
import {Kind, OID, SysFlowRecord} from '../src/format/records.js'
import {TraceWriter, fileSink} from '../src/format/writer.js'

export interface Source {
  name: string
  records: SysFlowRecord[]
  span: bigint
}

function listTraces(dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...listTraces(p))
    else if (e.name.endsWith('.sf')) out.push(p)
  }
  return out.sort()
}

/** Load the records of every real trace (or fixture) into memory, with their time span. */
export async function loadSources(sharedTraces: string, fixtures: string): Promise<{from: string; sources: Source[]}> {
  const fromShared = fs.existsSync(sharedTraces)
  const files = fromShared ? listTraces(sharedTraces) : listTraces(fixtures).filter((f) => path.basename(f).startsWith('v'))
  const sources: Source[] = []
  for (const f of files) {
    const records: SysFlowRecord[] = []
    for await (const b of readTrace(fileInput(f))) records.push(...b.records)
    let min = -1n
    let max = -1n
    for (const r of records) {
      if (r.kind === Kind.Header || r.kind === Kind.Container) continue
      if (min < 0n || r.ts < min) min = r.ts
      if (r.ts > max) max = r.ts
    }
    sources.push({name: f, records, span: max - min + 1n})
  }
  return {from: fromShared ? sharedTraces : fixtures, sources}
}

const shiftOid = (o: OID, pid: bigint, t: bigint): OID => ({hpid: o.hpid + pid, createTS: o.createTS === 0n ? 0n : o.createTS + t})
/** A distinct FOID per round: the round number in the last 8 hex digits. */
const shiftFoid = (f: string, round: number) => f.slice(0, 32) + ((parseInt(f.slice(32), 16) ^ round) >>> 0).toString(16).padStart(8, '0')

/** One record moved to round `round`: times later by `dt`, pids higher, file and container ids distinct. */
function shift(r: SysFlowRecord, round: number, dt: bigint): SysFlowRecord {
  const dp = BigInt(round) * 4_194_304n
  const cid = (id: string | null) => (id === null ? null : `${id}-${round}`)
  switch (r.kind) {
    case Kind.Header:
      return r
    case Kind.Pod:
      return {...r, id: `${r.id}-${round}`, ts: r.ts + dt}
    case Kind.K8sEvent:
      return {...r, ts: r.ts + dt}
    case Kind.Container:
      return {...r, id: `${r.id}-${round}`, podId: r.podId ? `${r.podId}-${round}` : r.podId}
    case Kind.Process:
      return {...r, ts: r.ts + dt, oid: shiftOid(r.oid, dp, dt), poid: r.poid && shiftOid(r.poid, dp, dt), containerId: cid(r.containerId)}
    case Kind.File:
      return {...r, ts: r.ts + dt, oid: shiftFoid(r.oid, round), containerId: cid(r.containerId)}
    case Kind.FileFlow:
      return {...r, ts: r.ts + dt, endTs: r.endTs! + dt, procOID: shiftOid(r.procOID, dp, dt), fileOID: shiftFoid(r.fileOID, round)}
    case Kind.FileEvent:
      return {...r, ts: r.ts + dt, procOID: shiftOid(r.procOID, dp, dt), fileOID: shiftFoid(r.fileOID, round), newFileOID: r.newFileOID && shiftFoid(r.newFileOID, round)}
    case Kind.NetworkFlow:
    case Kind.ProcessFlow:
      return {...r, ts: r.ts + dt, endTs: r.endTs! + dt, procOID: shiftOid(r.procOID, dp, dt)}
    default:
      return {...r, ts: r.ts + dt, procOID: shiftOid(r.procOID, dp, dt)}
  }
}

/**
 * Write at least `target` records: the sources replayed round after round. Each round starts with a header, as
 * each rotated file of a long capture does, so the join tables hold one round's entities, not the whole history.
 */
export async function writeBenchTrace(file: string, sources: Source[], target: number): Promise<number> {
  const w = new TraceWriter(fileSink(file))
  const first = sources[0].records[0]
  if (first.kind !== Kind.Header) throw new Error(`${sources[0].name} does not start with a header`)
  let dt = 0n
  for (let round = 0; w.recordCount < target; round++) {
    await w.write({kind: Kind.Header, version: 5n, exporter: 'bench', ip: '10.0.0.1', filename: `${file}.${round}`})
    for (const s of sources) {
      for (const r of s.records) {
        if (r.kind === Kind.Header) continue
        const pending = w.write(shift(r, round, dt))
        if (pending) await pending
      }
      dt += s.span
    }
  }
  await w.close()
  return w.recordCount
}
