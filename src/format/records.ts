// Typed SysFlow records: one interface per member of the `rec` union, fields named as in the Avro schema (v5).
// Every Avro `long` is a bigint (timestamps are nanoseconds above 2^53); `int` is a number.
// Fields a writer schema lacks (cwd/env before v5, podId before v4, ...) are `undefined`, never invented.

/** Canonical union index of each record type (the v5 `rec` union order; new members were only appended). */
export const enum Kind {
  Header = 0,
  Container = 1,
  Process = 2,
  File = 3,
  ProcessEvent = 4,
  NetworkFlow = 5,
  FileFlow = 6,
  FileEvent = 7,
  NetworkEvent = 8,
  ProcessFlow = 9,
  Pod = 10,
  K8sEvent = 11,
}

/** sysprint's abbreviation of each kind (`sf.type`), indexed by Kind. */
export const KIND_ABBREV = ['H', 'C', 'P', 'F', 'PE', 'NF', 'FF', 'FE', 'NE', 'PF', 'POD', 'KE'] as const
export type KindAbbrev = (typeof KIND_ABBREV)[number]

/** Avro full names, indexed by Kind. */
export const KIND_FULLNAME = [
  'sysflow.entity.SFHeader',
  'sysflow.entity.Container',
  'sysflow.entity.Process',
  'sysflow.entity.File',
  'sysflow.event.ProcessEvent',
  'sysflow.flow.NetworkFlow',
  'sysflow.flow.FileFlow',
  'sysflow.event.FileEvent',
  'sysflow.event.NetworkEvent',
  'sysflow.flow.ProcessFlow',
  'sysflow.entity.Pod',
  'sysflow.event.K8sEvent',
] as const

/** Process identity: host pid plus creation time (0 when the process predates the capture). */
export interface OID {
  createTS: bigint
  hpid: bigint
}

/** FOID (fixed(20), SHA-1 of container id + path), as 40 lowercase hex characters. */
export type FOID = string

export type SFObjectState = 'CREATED' | 'MODIFIED' | 'REUP'

export interface SFHeader {
  kind: Kind.Header
  version: bigint
  exporter: string
  ip: string | undefined
  filename: string | undefined
}

export interface Container {
  kind: Kind.Container
  id: string
  name: string
  image: string
  imageid: string
  type: string
  privileged: boolean
  podId: string | null | undefined
}

export interface Process {
  kind: Kind.Process
  state: SFObjectState
  oid: OID
  poid: OID | null
  ts: bigint
  exe: string
  exeArgs: string
  uid: number
  userName: string
  gid: number
  groupName: string
  tty: boolean
  containerId: string | null
  entry: boolean | undefined
  cwd: string | undefined
  env: string[] | undefined
}

export interface File {
  kind: Kind.File
  state: SFObjectState
  oid: FOID
  ts: bigint
  restype: number
  path: string
  containerId: string | null
}

export interface ProcessEvent {
  kind: Kind.ProcessEvent
  procOID: OID
  ts: bigint
  tid: bigint
  opFlags: number
  args: string[]
  ret: number
}

export interface NetworkFlow {
  kind: Kind.NetworkFlow
  procOID: OID
  ts: bigint
  tid: bigint
  opFlags: number
  endTs: bigint
  sip: number
  sport: number
  dip: number
  dport: number
  proto: number
  fd: number
  numRRecvOps: bigint
  numWSendOps: bigint
  numRRecvBytes: bigint
  numWSendBytes: bigint
}

export interface FileFlow {
  kind: Kind.FileFlow
  procOID: OID
  ts: bigint
  tid: bigint
  opFlags: number
  openFlags: number
  endTs: bigint
  fileOID: FOID
  fd: number
  numRRecvOps: bigint
  numWSendOps: bigint
  numRRecvBytes: bigint
  numWSendBytes: bigint
}

export interface FileEvent {
  kind: Kind.FileEvent
  procOID: OID
  ts: bigint
  tid: bigint
  opFlags: number
  fileOID: FOID
  ret: number
  newFileOID: FOID | null
}

export interface NetworkEvent {
  kind: Kind.NetworkEvent
  procOID: OID
  ts: bigint
  tid: bigint
  opFlags: number
  sip: number
  sport: number
  dip: number
  dport: number
  proto: number
  ret: number
}

export interface ProcessFlow {
  kind: Kind.ProcessFlow
  procOID: OID
  ts: bigint
  numThreadsCloned: bigint
  opFlags: number
  endTs: bigint
  numThreadsExited: bigint
  numCloneErrors: bigint
}

export interface Port {
  port: number
  targetPort: number
  nodePort: number
  proto: string
}

export interface Service {
  name: string
  id: string
  namespace: string
  portList: Port[]
  clusterIP: bigint[]
}

export interface Pod {
  kind: Kind.Pod
  ts: bigint
  id: string
  name: string
  nodeName: string
  hostIP: bigint[]
  internalIP: bigint[]
  namespace: string
  restartCount: bigint
  labels: Record<string, string>
  selectors: Record<string, string>
  services: Service[]
}

export interface K8sEvent {
  kind: Kind.K8sEvent
  /** Avro field `kind` (K8sComponent); renamed because `kind` is the record discriminator. */
  component: string
  action: string
  ts: bigint
  message: string
}

export type EntityRecord = SFHeader | Container | Process | File | Pod
export type EventRecord = ProcessEvent | NetworkFlow | FileFlow | FileEvent | NetworkEvent | ProcessFlow | K8sEvent
export type SysFlowRecord = EntityRecord | EventRecord
/** Event and flow records that name a process. */
export type ProcessRecord = ProcessEvent | NetworkFlow | FileFlow | FileEvent | NetworkEvent | ProcessFlow

export function isEvent(r: SysFlowRecord): r is EventRecord {
  return r.kind >= Kind.ProcessEvent && r.kind !== Kind.Pod
}
