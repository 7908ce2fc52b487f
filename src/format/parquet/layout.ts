// The layout of the `events` Parquet columns the columnar writer produces (./events.ts builds the rows, ./row-group.ts
// encodes them): the Parquet schema (as the DuckDB-written export has it), the record's own fixed-width columns,
// and the key group of every other column: what its value depends on, so that it is asked once per key.
import {EVENT_COLUMNS, EventColumn} from '../arrow/columns.js'
import {EVENTS_SPEC} from '../columnar/columns.js'
import {Kind} from '../records.js'
import {LeafColumn, Physical} from './file.js'

/** DuckDB's default rows per row group, which the DuckDB-written export used too. */
export const ROW_GROUP_ROWS = 122880

// --- what each column reads --------------------------------------------------------------------------------------

/** Key groups: what a keyed column's value depends on. */
export type GroupName =
  | 'proc' | 'pproc' | 'ctx' | 'container' | 'pod' | 'file' | 'newFile' | 'header'
  | 'procOid' | 'kind' | 'opflags' | 'openflags' | 'sip' | 'dip' | 'ports' | 'ips' | 'k8s'

export const C = (name: string): number => EVENTS_SPEC.col(name)

/** The record's fixed-width fields copied as they are, by events column. */
export const DIRECT: Record<string, {field: string; long: boolean}> = {
  ts: {field: 'ts', long: true},
  endts: {field: 'endTs', long: true},
  proc_tid: {field: 'tid', long: true},
  ret: {field: 'ret', long: false},
  file_fd: {field: 'fd', long: false},
  net_proto: {field: 'proto', long: false},
  net_sport: {field: 'sport', long: false},
  net_dport: {field: 'dport', long: false},
  flow_rbytes: {field: 'numRRecvBytes', long: true},
  flow_rops: {field: 'numRRecvOps', long: true},
  flow_wbytes: {field: 'numWSendBytes', long: true},
  flow_wops: {field: 'numWSendOps', long: true},
  pf_nthreads: {field: 'numThreadsCloned', long: true},
  pf_nexits: {field: 'numThreadsExited', long: true},
  pf_nerrors: {field: 'numCloneErrors', long: true},
}

/** The key group of a column computed by value(). */
export function groupOf(c: EventColumn): GroupName {
  const a = c.attr!
  switch (c.name) {
    case 'type':
      return 'kind'
    case 'opflags':
      return 'opflags'
    case 'file_openflags':
    case 'file_is_open_write':
    case 'file_is_open_read':
      return 'openflags'
    case 'net_sip':
      return 'sip'
    case 'net_dip':
      return 'dip'
    case 'net_port':
      return 'ports'
    case 'net_ip':
      return 'ips'
    case 'proc_pid':
    case 'proc_createts':
      // The process's OID, or when it is missing the one the record carries.
      return 'procOid'
    case 'pproc_pid':
    case 'pproc_createts':
      // The parent's OID, or when it is missing the one the process names: both are the context's.
      return 'ctx'
    case 'proc_aname':
    case 'proc_aexe':
    case 'proc_acmdline':
    case 'proc_apid':
      return 'ctx'
  }
  if (a.dep !== undefined) return a.dep
  if (a.on !== undefined && a.on.length === 1 && a.on[0] === Kind.K8sEvent) return 'k8s'
  throw new Error(`events column ${c.name}: no key group for the columnar Parquet writer`)
}

function leafOf(c: EventColumn): LeafColumn {
  switch (c.type) {
    case 'string':
    case 'char':
      return {name: c.name, physical: 'BYTE_ARRAY', annotation: 'UTF8', list: false}
    case 'json':
      return {name: c.name, physical: 'BYTE_ARRAY', annotation: 'JSON', list: false}
    case 'int':
      return {name: c.name, physical: 'INT32', annotation: 'INT_32', list: false}
    case 'int64':
      return {name: c.name, physical: 'INT64', annotation: 'INT_64', list: false}
    case 'bool':
      return {name: c.name, physical: 'BOOLEAN', annotation: undefined, list: false}
    case 'strlist':
      return {name: c.name, physical: 'BYTE_ARRAY', annotation: 'UTF8', list: true}
    case 'intlist':
      return {name: c.name, physical: 'INT64', annotation: 'INT_64', list: true}
    case 'timestamp':
      return {name: c.name, physical: 'INT64', annotation: 'TIMESTAMP_MICROS', list: false}
  }
}

/** The Parquet schema of the events columns, as the DuckDB-written export has it. */
export const EVENTS_LEAVES: readonly LeafColumn[] = EVENT_COLUMNS.map(leafOf)

/** A keyed column's value as the catalogue gives it (undefined and null: no value). */
export type Stored = string | number | bigint | boolean | null | undefined
export type StoredList = readonly (string | bigint | null | undefined)[] | null | undefined

// Key groups by number; the first ENTITY_GROUPS are keyed by a row of the join scope.
export const G_PROC = 0
export const G_PROC_OID = 1
export const G_PPROC = 2
export const G_CTX = 3
export const G_CONTAINER = 4
export const G_POD = 5
export const G_FILE = 6
export const G_NEW_FILE = 7
export const G_HEADER = 8
export const ENTITY_GROUPS = 9
export const G_KIND = 9
export const G_OPFLAGS = 10
export const G_OPENFLAGS = 11
export const G_SIP = 12
export const G_DIP = 13
export const G_PORTS = 14
export const G_IPS = 15
export const G_K8S = 16
export const GROUP_NAMES: readonly GroupName[] = ['proc', 'procOid', 'pproc', 'ctx', 'container', 'pod', 'file', 'newFile', 'header', 'kind', 'opflags', 'openflags', 'sip', 'dip', 'ports', 'ips', 'k8s']

/** A keyed column: its place in the schema, its type, and how Parquet stores it. */
export interface KeyedLayout {
  index: number
  col: EventColumn
  physical: Physical
  list: boolean
}

/** A record's fixed-width column: its place, its events table column, longs or ints, and the kinds that carry it. */
export interface DirectLayout {
  index: number
  col: number
  long: boolean
  on: Uint8Array
}

function layout(): {groups: KeyedLayout[][]; direct: DirectLayout[]; time: number} {
  const groups: KeyedLayout[][] = GROUP_NAMES.map(() => [])
  const direct: DirectLayout[] = []
  let time = -1
  EVENT_COLUMNS.forEach((c, index) => {
    if (c.attr === undefined) {
      time = index
      return
    }
    const d = DIRECT[c.name]
    if (d !== undefined) {
      const on = new Uint8Array(16)
      for (const k of c.attr.on ?? [Kind.ProcessEvent, Kind.NetworkFlow, Kind.FileFlow, Kind.FileEvent, Kind.NetworkEvent, Kind.ProcessFlow, Kind.K8sEvent]) on[k] = 1
      direct.push({index, col: C(d.field), long: d.long, on})
      return
    }
    groups[GROUP_NAMES.indexOf(groupOf(c))].push({index, col: c, physical: EVENTS_LEAVES[index].physical, list: EVENTS_LEAVES[index].list})
  })
  return {groups, direct, time}
}

const L = layout()
/** Per key group, its columns. */
export const GROUP_COLUMNS: readonly (readonly KeyedLayout[])[] = L.groups
export const DIRECT_COLUMNS: readonly DirectLayout[] = L.direct
/** The index of `time` (ts in microseconds). */
export const TIME_INDEX = L.time
