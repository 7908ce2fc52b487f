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
  version: bigint | undefined
  exporter: string | undefined
  ip: string | undefined
  filename: string | undefined
}

export interface Container {
  kind: Kind.Container
  id: string
  name: string | undefined
  image: string | undefined
  imageid: string | undefined
  type: string | undefined
  privileged: boolean | undefined
  podId: string | null | undefined
}

export interface Process {
  kind: Kind.Process
  state: SFObjectState | undefined
  oid: OID
  poid: OID | null
  ts: bigint
  exe: string | undefined
  exeArgs: string | undefined
  uid: number | undefined
  userName: string | undefined
  gid: number | undefined
  groupName: string | undefined
  tty: boolean | undefined
  containerId: string | null
  entry: boolean | undefined
  cwd: string | undefined
  env: string[] | undefined
}

export interface File {
  kind: Kind.File
  state: SFObjectState | undefined
  oid: FOID
  ts: bigint
  restype: number | undefined
  path: string | undefined
  containerId: string | null
}

export interface ProcessEvent {
  kind: Kind.ProcessEvent
  procOID: OID
  ts: bigint
  tid: bigint | undefined
  opFlags: number | undefined
  args: string[] | undefined
  ret: number | undefined
}

export interface NetworkFlow {
  kind: Kind.NetworkFlow
  procOID: OID
  ts: bigint
  tid: bigint | undefined
  opFlags: number | undefined
  endTs: bigint | undefined
  sip: number | undefined
  sport: number | undefined
  dip: number | undefined
  dport: number | undefined
  proto: number | undefined
  fd: number | undefined
  numRRecvOps: bigint | undefined
  numWSendOps: bigint | undefined
  numRRecvBytes: bigint | undefined
  numWSendBytes: bigint | undefined
}

export interface FileFlow {
  kind: Kind.FileFlow
  procOID: OID
  ts: bigint
  tid: bigint | undefined
  opFlags: number | undefined
  openFlags: number | undefined
  endTs: bigint | undefined
  fileOID: FOID
  fd: number | undefined
  numRRecvOps: bigint | undefined
  numWSendOps: bigint | undefined
  numRRecvBytes: bigint | undefined
  numWSendBytes: bigint | undefined
}

export interface FileEvent {
  kind: Kind.FileEvent
  procOID: OID
  ts: bigint
  tid: bigint | undefined
  opFlags: number | undefined
  fileOID: FOID
  ret: number | undefined
  newFileOID: FOID | null
}

export interface NetworkEvent {
  kind: Kind.NetworkEvent
  procOID: OID
  ts: bigint
  tid: bigint | undefined
  opFlags: number | undefined
  sip: number | undefined
  sport: number | undefined
  dip: number | undefined
  dport: number | undefined
  proto: number | undefined
  ret: number | undefined
}

export interface ProcessFlow {
  kind: Kind.ProcessFlow
  procOID: OID
  ts: bigint
  numThreadsCloned: bigint | undefined
  opFlags: number | undefined
  endTs: bigint | undefined
  numThreadsExited: bigint | undefined
  numCloneErrors: bigint | undefined
}

export interface Port {
  port: number | undefined
  targetPort: number | undefined
  nodePort: number | undefined
  proto: string | undefined
}

export interface Service {
  name: string | undefined
  id: string | undefined
  namespace: string | undefined
  portList: Port[] | undefined
  clusterIP: bigint[] | undefined
}

export interface Pod {
  kind: Kind.Pod
  ts: bigint
  id: string
  name: string | undefined
  nodeName: string | undefined
  hostIP: bigint[] | undefined
  internalIP: bigint[] | undefined
  namespace: string | undefined
  restartCount: bigint | undefined
  labels: Record<string, string> | undefined
  selectors: Record<string, string> | undefined
  services: Service[] | undefined
}

export interface K8sEvent {
  kind: Kind.K8sEvent
  /** Avro field `kind` (K8sComponent); renamed because `kind` is the record discriminator. */
  component: string | undefined
  action: string | undefined
  ts: bigint
  message: string | undefined
}

export type EntityRecord = SFHeader | Container | Process | File | Pod
export type EventRecord = ProcessEvent | NetworkFlow | FileFlow | FileEvent | NetworkEvent | ProcessFlow | K8sEvent
export type SysFlowRecord = EntityRecord | EventRecord
/** Event and flow records that name a process. */
export type ProcessRecord = ProcessEvent | NetworkFlow | FileFlow | FileEvent | NetworkEvent | ProcessFlow

export function isEvent(r: SysFlowRecord): r is EventRecord {
  return r.kind >= Kind.ProcessEvent && r.kind !== Kind.Pod
}
