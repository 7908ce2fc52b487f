// The K8sEvent message as the collector writes it. libsinsp's k8s handlers reduce every list and watch answer with
// a jq filter per component (k8s_<component>_handler.cpp: EVENT_FILTER for a watch event, STATE_FILTER for the
// initial list, which becomes one ADDED message holding every item), enqueue the result written by jsoncpp's
// FastWriter (keys sorted, no spaces, a trailing newline) as a capture event, and the collector's
// k8seventprocessor.cpp stores that event's payload (NUL-terminated) as the message, with kind and action read back
// from it. So `sf.ke.message[items.0.namespace]` answers on our traces as on the collector's.

/** A Kubernetes API object as JSON (watch `object`, or a list item). */
export type ApiObject = Record<string, unknown> & {metadata?: Record<string, unknown>}

/** The components the collector watches, with libsinsp's paths, field selectors and filters. */
export interface Resource {
  /** Plural name, as in RBAC rules and k8s_component::list. */
  plural: string
  /** API group ('' for core), for RBAC messages. */
  group: string
  /** Collection path (all namespaces). */
  path: string
  /** The kind the STATE_FILTER writes for the initial list. */
  kind: string
  /** k8s_component::get_selector (plus the node's pods only, like the collector's node selector). */
  fieldSelector?: (node: string) => string
  /** The handler's jq filter of one object. */
  filter: (o: ApiObject) => Record<string, unknown>
}

const md = (o: ApiObject, k: string): unknown => o.metadata?.[k] ?? null
const at = (o: unknown, ...path: string[]): unknown => {
  let v: unknown = o
  for (const p of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null
    v = (v as Record<string, unknown>)[p]
  }
  return v ?? null
}
const common = (o: ApiObject) => ({namespace: md(o, 'namespace'), name: md(o, 'name'), uid: md(o, 'uid'), timestamp: md(o, 'creationTimestamp')})
const replicas = (o: ApiObject, selector: unknown) => ({
  ...common(o), specReplicas: at(o, 'spec', 'replicas'), statReplicas: at(o, 'status', 'replicas'), selector, labels: md(o, 'labels'),
})

/** jq's `[.status.addresses[].address] | unique`: sorted, without duplicates. */
function uniqueAddresses(o: ApiObject): unknown[] {
  const a = at(o, 'status', 'addresses')
  if (!Array.isArray(a)) return []
  const seen = new Map<string, unknown>()
  for (const x of a) {
    const v = at(x, 'address')
    seen.set(JSON.stringify(v), v)
  }
  return [...seen.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, v]) => v)
}

export const RESOURCES: Resource[] = [
  {plural: 'nodes', group: '', path: '/api/v1/nodes', kind: 'Node',
    filter: (o) => ({name: md(o, 'name'), uid: md(o, 'uid'), timestamp: md(o, 'creationTimestamp'), labels: md(o, 'labels'), addresses: uniqueAddresses(o)})},
  {plural: 'namespaces', group: '', path: '/api/v1/namespaces', kind: 'Namespace',
    filter: (o) => ({name: md(o, 'name'), uid: md(o, 'uid'), timestamp: md(o, 'creationTimestamp'), labels: md(o, 'labels')})},
  {plural: 'pods', group: '', path: '/api/v1/pods', kind: 'Pod',
    fieldSelector: (node) => `status.phase!=Failed,status.phase!=Unknown,status.phase!=Succeeded,spec.nodeName=${node}`,
    filter: (o) => ({
      ...common(o), nodeName: at(o, 'spec', 'nodeName'), hostIP: at(o, 'status', 'hostIP'), podIP: at(o, 'status', 'podIP'),
      phase: at(o, 'status', 'phase'), containers: at(o, 'spec', 'containers'), containerStatuses: at(o, 'status', 'containerStatuses'),
      initContainerStatuses: at(o, 'status', 'initContainerStatuses'), labels: md(o, 'labels'),
    })},
  {plural: 'replicationcontrollers', group: '', path: '/api/v1/replicationcontrollers', kind: 'ReplicationController',
    fieldSelector: () => 'status.replicas!=0', filter: (o) => replicas(o, at(o, 'spec', 'selector'))},
  {plural: 'replicasets', group: 'apps', path: '/apis/apps/v1/replicasets', kind: 'ReplicaSet',
    filter: (o) => replicas(o, at(o, 'spec', 'selector', 'matchLabels'))},
  {plural: 'services', group: '', path: '/api/v1/services', kind: 'Service',
    filter: (o) => ({...common(o), clusterIP: at(o, 'spec', 'clusterIP'), ports: at(o, 'spec', 'ports'), labels: md(o, 'labels'), selector: at(o, 'spec', 'selector')})},
  {plural: 'daemonsets', group: 'apps', path: '/apis/apps/v1/daemonsets', kind: 'DaemonSet',
    filter: (o) => ({
      ...common(o), desiredScheduled: at(o, 'status', 'desiredNumberScheduled'), currentScheduled: at(o, 'status', 'currentNumberScheduled'),
      selector: at(o, 'spec', 'selector', 'matchLabels'), labels: md(o, 'labels'),
    })},
  {plural: 'deployments', group: 'apps', path: '/apis/apps/v1/deployments', kind: 'Deployment',
    filter: (o) => replicas(o, at(o, 'spec', 'selector', 'matchLabels'))},
  {plural: 'events', group: '', path: '/api/v1/events', kind: 'Event',
    filter: (o) => ({
      ...common(o), lastTimestamp: o.lastTimestamp ?? null, eventTime: o.eventTime ?? null, reason: o.reason ?? null,
      message: o.message ?? null, involvedObject: o.involvedObject ?? null,
    })},
]

/** jsoncpp's quoting without UTF-8 output: control characters and every non-ASCII UTF-16 unit as \uXXXX. */
function quote(s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) out += '\\"'
    else if (c === 0x5c) out += '\\\\'
    else if (c === 0x08) out += '\\b'
    else if (c === 0x0c) out += '\\f'
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c === 0x09) out += '\\t'
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0')
    else out += s[i]
  }
  return out + '"'
}

/** Json::FastWriter: object members in sorted order, no whitespace. */
export function fastWrite(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'string') return quote(v)
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (Array.isArray(v)) return '[' + v.map(fastWrite).join(',') + ']'
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort()
    return '{' + keys.map((k) => quote(k) + ':' + fastWrite(o[k])).join(',') + '}'
  }
  return 'null'
}

/** What a message holds, before it is written. */
export interface Payload {
  type: unknown
  apiVersion: unknown
  kind: unknown
  items: Record<string, unknown>[]
}

/** A watch event (EVENT_FILTER): the event's type, the object's apiVersion and kind, one item. */
export function eventPayload(r: Resource, type: string, obj: ApiObject): Payload {
  return {type, apiVersion: obj.apiVersion ?? null, kind: obj.kind ?? null, items: [r.filter(obj)]}
}

/** A list answer (STATE_FILTER): ADDED, the list's apiVersion, the component's kind, every item. */
export function statePayload(r: Resource, list: {apiVersion?: unknown; items?: unknown}): Payload {
  const items = Array.isArray(list.items) ? (list.items as ApiObject[]).map((o) => r.filter(o)) : []
  return {type: 'ADDED', apiVersion: list.apiVersion ?? null, kind: r.kind, items}
}

/** The payload as the collector's K8sEvent message: FastWriter's JSON and newline, and the event's NUL. */
export function messageOf(p: Payload): string {
  return fastWrite(p) + '\n\u0000'
}

/** The message of a watch event. */
export function eventMessage(r: Resource, type: string, obj: ApiObject): string {
  return messageOf(eventPayload(r, type, obj))
}

/** The message of a list answer. */
export function stateMessage(r: Resource, list: {apiVersion?: unknown; items?: unknown}): string {
  return messageOf(statePayload(r, list))
}

/** k8seventprocessor.cpp getK8sComponent: from the message's `kind` ("Event" is not one of its names). */
export function componentOf(kind: unknown): string {
  switch (kind) {
    case 'Namespace': return 'K8S_NAMESPACES'
    case 'Node': return 'K8S_NODES'
    case 'Pod': return 'K8S_PODS'
    case 'ReplicationController': return 'K8S_REPLICATIONCONTROLLERS'
    case 'ReplicaSet': return 'K8S_REPLICASETS'
    case 'Service': return 'K8S_SERVICES'
    case 'DaemonSet': return 'K8S_DAEMONSETS'
    case 'Deployment': return 'K8S_DEPLOYMENTS'
    case 'EventList': return 'K8S_EVENTS'
    default: return 'K8S_UNKNOWN'
  }
}

/** k8seventprocessor.cpp getAction: the first letter of the message's `type`. */
export function actionOf(type: unknown): string {
  if (typeof type !== 'string' || type === '') return 'K8S_COMPONENT_UNKNOWN'
  switch (type[0]) {
    case 'A': return 'K8S_COMPONENT_ADDED'
    case 'M': return 'K8S_COMPONENT_MODIFIED'
    case 'D': return 'K8S_COMPONENT_DELETED'
    case 'N': return 'K8S_COMPONENT_NONEXISTENT'
    case 'E': return 'K8S_COMPONENT_ERROR'
    default: return 'K8S_COMPONENT_UNKNOWN'
  }
}
