// The SysFlow Avro schemas of every version, generated from one description so they cannot drift apart.
// v5 is what the writer emits; the older ones let the fixture script write every layout the reader accepts.
// History (sysflow-format.md §1.5): 1000 = legacy 9-member union (some writers label ns longs timestamp-millis);
// 1001 = +entry, +ip, +ProcessFlow, +Container.imagerepo; 2 drops logical types; 3 +filename; 4 +podId, Pod,
// K8sEvent; 5 +Process.cwd, +Process.env.

export type SchemaVersion = '1000ms' | '1000' | '1001' | '2' | '3' | '4' | '5'
export const SCHEMA_VERSIONS: readonly SchemaVersion[] = ['1000ms', '1000', '1001', '2', '3', '4', '5']

type Json = string | number | boolean | null | Json[] | {[k: string]: Json}
type Field = {name: string; type: Json; default?: Json}

const CONTAINER_TYPES_OLD = ['CT_DOCKER', 'CT_LXC', 'CT_LIBVIRT_LXC', 'CT_MESOS', 'CT_RKT', 'CT_CUSTOM']
export const CONTAINER_TYPES = [...CONTAINER_TYPES_OLD, 'CT_CRI', 'CT_CONTAINERD', 'CT_CRIO', 'CT_BPM']
export const K8S_COMPONENTS = [
  'K8S_NODES', 'K8S_NAMESPACES', 'K8S_PODS', 'K8S_REPLICATIONCONTROLLERS', 'K8S_SERVICES', 'K8S_EVENTS',
  'K8S_REPLICASETS', 'K8S_DAEMONSETS', 'K8S_DEPLOYMENTS', 'K8S_UNKNOWN',
]
export const K8S_ACTIONS = [
  'K8S_COMPONENT_ADDED', 'K8S_COMPONENT_MODIFIED', 'K8S_COMPONENT_DELETED', 'K8S_COMPONENT_ERROR',
  'K8S_COMPONENT_NONEXISTENT', 'K8S_COMPONENT_UNKNOWN',
]

/** The numeric header version a schema writes (SFHeader.version). */
export function headerVersion(v: SchemaVersion): bigint {
  return v === '1000ms' ? 1000n : BigInt(v)
}

/** Build the writer schema of one version, in the collector's field order. */
export function sysflowSchema(v: SchemaVersion): Json {
  const n = v === '1000ms' || v === '1000' ? 1 : v === '1001' ? 1.5 : Number(v)
  const ts: Json = v === '1000ms' ? {type: 'long', logicalType: 'timestamp-millis'} : 'long'
  const rec = (ns: string, name: string, fields: Field[]): Json => ({type: 'record', namespace: ns, name, fields})
  const oid = 'sysflow.type.OID'
  const foid = 'sysflow.type.FOID'
  const opt = (t: Json): Json => ['null', t]

  const header: Field[] = [{name: 'version', type: 'long', ...(n >= 1.5 ? {default: Number(headerVersion(v))} : {})}, {name: 'exporter', type: 'string'}]
  if (n >= 1.5) header.push({name: 'ip', type: 'string', default: 'NA'})
  if (n >= 3) header.push({name: 'filename', type: 'string'})

  const container: Field[] = [
    {name: 'id', type: 'string'},
    {name: 'name', type: 'string'},
    {name: 'image', type: 'string'},
    {name: 'imageid', type: 'string'},
    {name: 'type', type: {type: 'enum', namespace: 'sysflow.type', name: 'ContainerType', symbols: v === '1000ms' || v === '1000' ? CONTAINER_TYPES_OLD : CONTAINER_TYPES}},
    {name: 'privileged', type: 'boolean'},
  ]
  if (v === '1001') container.push({name: 'imagerepo', type: 'string'})
  if (n >= 4) container.push({name: 'podId', type: opt('string')})

  const process: Field[] = [
    {name: 'state', type: {type: 'enum', namespace: 'sysflow.type', name: 'SFObjectState', symbols: ['CREATED', 'MODIFIED', 'REUP']}},
    {name: 'oid', type: rec('sysflow.type', 'OID', [{name: 'createTS', type: ts}, {name: 'hpid', type: 'long'}])},
    {name: 'poid', type: opt(oid)},
    {name: 'ts', type: ts},
    {name: 'exe', type: 'string'},
    {name: 'exeArgs', type: 'string'},
    {name: 'uid', type: 'int'},
    {name: 'userName', type: 'string'},
    {name: 'gid', type: 'int'},
    {name: 'groupName', type: 'string'},
    {name: 'tty', type: 'boolean'},
    {name: 'containerId', type: opt('string')},
  ]
  if (n >= 1.5) process.push({name: 'entry', type: 'boolean', default: false})
  if (n >= 5) process.push({name: 'cwd', type: 'string'}, {name: 'env', type: {type: 'array', items: 'string'}})

  const file: Field[] = [
    {name: 'state', type: 'sysflow.type.SFObjectState'},
    {name: 'oid', type: {type: 'fixed', namespace: 'sysflow.type', name: 'FOID', size: 20}},
    {name: 'ts', type: ts},
    {name: 'restype', type: 'int'},
    {name: 'path', type: 'string'},
    {name: 'containerId', type: opt('string')},
  ]
  const head: Field[] = [{name: 'procOID', type: oid}, {name: 'ts', type: ts}, {name: 'tid', type: 'long'}, {name: 'opFlags', type: 'int'}]
  const counters: Field[] = ['numRRecvOps', 'numWSendOps', 'numRRecvBytes', 'numWSendBytes'].map((name) => ({name, type: 'long'}))
  const ints = (...names: string[]): Field[] => names.map((name) => ({name, type: 'int'}))

  const union: Json[] = [
    rec('sysflow.entity', 'SFHeader', header),
    rec('sysflow.entity', 'Container', container),
    rec('sysflow.entity', 'Process', process),
    rec('sysflow.entity', 'File', file),
    rec('sysflow.event', 'ProcessEvent', [...head, {name: 'args', type: {type: 'array', items: 'string'}}, {name: 'ret', type: 'int'}]),
    rec('sysflow.flow', 'NetworkFlow', [...head, {name: 'endTs', type: ts}, ...ints('sip', 'sport', 'dip', 'dport', 'proto', 'fd'), ...counters]),
    rec('sysflow.flow', 'FileFlow', [...head, {name: 'openFlags', type: 'int'}, {name: 'endTs', type: ts}, {name: 'fileOID', type: foid}, {name: 'fd', type: 'int'}, ...counters]),
    rec('sysflow.event', 'FileEvent', [...head, {name: 'fileOID', type: foid}, {name: 'ret', type: 'int'}, {name: 'newFileOID', type: opt(foid)}]),
    rec('sysflow.event', 'NetworkEvent', [...head, ...ints('sip', 'sport', 'dip', 'dport', 'proto', 'ret')]),
  ]
  if (n >= 1.5) {
    union.push(rec('sysflow.flow', 'ProcessFlow', [
      {name: 'procOID', type: oid}, {name: 'ts', type: ts}, {name: 'numThreadsCloned', type: 'long'}, {name: 'opFlags', type: 'int'},
      {name: 'endTs', type: ts}, {name: 'numThreadsExited', type: 'long'}, {name: 'numCloneErrors', type: 'long'},
    ]))
  }
  if (n >= 4) {
    const ips: Json = {type: 'array', items: 'long'}
    const port = rec('sysflow.entity', 'Port', [...ints('port', 'targetPort', 'nodePort'), {name: 'proto', type: 'string'}])
    const service = rec('sysflow.entity', 'Service', [
      {name: 'name', type: 'string'}, {name: 'id', type: 'string'}, {name: 'namespace', type: 'string'},
      {name: 'portList', type: {type: 'array', items: port}}, {name: 'clusterIP', type: ips},
    ])
    union.push(
      rec('sysflow.entity', 'Pod', [
        {name: 'ts', type: 'long'}, {name: 'id', type: 'string'}, {name: 'name', type: 'string'}, {name: 'nodeName', type: 'string'},
        {name: 'hostIP', type: ips}, {name: 'internalIP', type: ips}, {name: 'namespace', type: 'string'},
        {name: 'restartCount', type: 'long'}, {name: 'labels', type: {type: 'map', values: 'string'}},
        {name: 'selectors', type: {type: 'map', values: 'string'}}, {name: 'services', type: {type: 'array', items: service}},
      ]),
      rec('sysflow.event', 'K8sEvent', [
        {name: 'kind', type: {type: 'enum', namespace: 'sysflow.type', name: 'K8sComponent', symbols: K8S_COMPONENTS}},
        {name: 'action', type: {type: 'enum', namespace: 'sysflow.type', name: 'K8sAction', symbols: K8S_ACTIONS}},
        {name: 'ts', type: 'long'}, {name: 'message', type: 'string'},
      ]),
    )
  }
  return {type: 'record', namespace: 'sysflow', name: 'SysFlow', fields: [{name: 'rec', type: union}]}
}
