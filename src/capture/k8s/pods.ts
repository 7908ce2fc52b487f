// The pods of this node and the services that select them, as libsinsp's k8s_state_t keeps them, and the Pod
// record the collector builds from them (k8scontext.cpp createPod): uid, name, node, host and pod IP, namespace,
// the sum of the containers' restart counts, labels, selectors (libsinsp never fills a pod's), and every service
// of the pod's namespace whose selector is non-empty and contained in the pod's labels, with its cluster IP and
// ports. A container is matched by the id in status.(init)containerStatuses[].containerID, runtime prefix
// stripped and cut to the 12 characters the capture reports (k8s_state_t::cache_pod).
import {Kind, Pod, Port, Service} from '../../format/records.js'
import type {ApiObject} from './message.js'

type Obj = Record<string, unknown>

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {})
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

/** Runtime prefixes of containerID (k8s_state_t): the id after them, 12 characters (rkt's whole). */
const PREFIXES: [string, number][] = [['docker://', 12], ['rkt://', Infinity], ['containerd://', 12], ['cri-o://', 12]]

/** The capture's container id of a containerStatuses[].containerID, undefined for an unknown runtime. */
export function containerIdOf(containerID: string): string | undefined {
  for (const [p, n] of PREFIXES) if (containerID.startsWith(p)) return containerID.slice(p.length, p.length + n)
  return undefined
}

/** An IPv4 address as SysFlow stores it (the collector's strToIP: inet_pton's bytes read little-endian); none if
 * it is not one (a headless service's "None"). */
export function ipOf(s: string): bigint[] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m) return []
  const b = m.slice(1).map(Number)
  if (b.some((x) => x > 255)) return []
  return [BigInt(b[0]) | (BigInt(b[1]) << 8n) | (BigInt(b[2]) << 16n) | (BigInt(b[3]) << 24n)]
}

/** k8s_component::extract_object: the string members of a JSON object. */
function pairs(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(obj(v)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (typeof x === 'string') out[k] = x
  return out
}

/** k8s_component::selectors_in_labels: every selector pair among the labels; no selectors or labels selects none. */
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const s = Object.entries(selector)
  if (s.length === 0 || Object.keys(labels).length === 0) return false
  return s.every(([k, v]) => labels[k] === v)
}

export class K8sState {
  /** Pods by uid, in the order first seen. */
  readonly pods = new Map<string, ApiObject>()
  /** Services by uid, in the order first seen. */
  readonly services = new Map<string, ApiObject>()
  private byContainer = new Map<string, string>()

  setPod(o: ApiObject): void {
    const uid = str(o.metadata?.uid)
    if (uid === '') return
    this.pods.set(uid, o)
    this.reindex()
  }

  deletePod(o: ApiObject): void {
    if (this.pods.delete(str(o.metadata?.uid))) this.reindex()
  }

  setService(o: ApiObject): void {
    const uid = str(o.metadata?.uid)
    if (uid !== '') this.services.set(uid, o)
  }

  deleteService(o: ApiObject): void {
    this.services.delete(str(o.metadata?.uid))
  }

  /** The uid of the pod running container `id` (12 characters), undefined when no pod of this node lists it. */
  podOfContainer(id: string): string | undefined {
    return this.byContainer.get(id)
  }

  private reindex(): void {
    const m = new Map<string, string>()
    for (const [uid, p] of this.pods) {
      const st = obj(p.status)
      for (const c of [...arr(st.containerStatuses), ...arr(st.initContainerStatuses)]) {
        const id = containerIdOf(str(obj(c).containerID))
        if (id !== undefined && !m.has(id)) m.set(id, uid)
      }
    }
    this.byContainer = m
  }

  /** The Pod record of pod `uid` now (createPod), undefined when the pod is gone. */
  podRecord(uid: string, ts: bigint): Pod | undefined {
    const p = this.pods.get(uid)
    if (p === undefined) return undefined
    const meta = obj(p.metadata)
    const st = obj(p.status)
    const labels = pairs(meta.labels)
    let restarts = 0n
    for (const c of arr(st.containerStatuses)) {
      const n = obj(c).restartCount
      if (typeof n === 'number' && Number.isInteger(n)) restarts += BigInt(n)
    }
    const services: Service[] = []
    for (const s of this.services.values()) {
      if (str(s.metadata?.namespace) !== str(meta.namespace) || !selects(pairs(obj(s.spec).selector), labels)) continue
      services.push(this.serviceRecord(s))
    }
    return {
      kind: Kind.Pod, ts, id: uid, name: str(meta.name), nodeName: str(obj(p.spec).nodeName), hostIP: ipOf(str(st.hostIP)),
      internalIP: ipOf(str(st.podIP)), namespace: str(meta.namespace), restartCount: restarts, labels, selectors: {}, services,
    }
  }

  /** A Service: cluster IP, and the ports whose port and target port are known (k8s_service_handler). */
  private serviceRecord(s: ApiObject): Service {
    const spec = obj(s.spec)
    const portList: Port[] = []
    for (const x of arr(spec.ports)) {
      const q = obj(x)
      const port = typeof q.port === 'number' ? q.port : 0
      let target = 0
      if (typeof q.targetPort === 'number') target = q.targetPort
      else if (typeof q.targetPort === 'string') target = this.namedPort(s, q.targetPort)
      if (port && target) portList.push({port, targetPort: target, nodePort: typeof q.nodePort === 'number' ? q.nodePort : 0, proto: str(q.protocol)})
    }
    return {name: str(s.metadata?.name), id: str(s.metadata?.uid), namespace: str(s.metadata?.namespace), portList, clusterIP: ipOf(str(spec.clusterIP))}
  }

  /** A named target port, from the containers of the pods the service selects (as libsinsp resolves it). */
  private namedPort(s: ApiObject, name: string): number {
    const selector = pairs(obj(s.spec).selector)
    let target = 0
    for (const p of this.pods.values()) {
      if (str(p.metadata?.namespace) !== str(s.metadata?.namespace) || !selects(selector, pairs(p.metadata?.labels))) continue
      for (const c of arr(obj(p.spec).containers)) {
        const hit = arr(obj(c).ports).find((x) => obj(x).name === name)
        if (hit !== undefined) {
          const n = obj(hit).containerPort
          target = typeof n === 'number' ? n : 0
          break
        }
        target = 0
      }
    }
    return target
  }
}
