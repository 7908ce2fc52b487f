// The collector's K8sContext (k8scontext.cpp): the Pod of a container is written before the Container that links
// to it (exportPod: once per file, again after a rotation), and a MODIFIED pod event writes the pod again, rebuilt
// from the current state, when the pod is one the capture has written.
import type {SysFlowRecord} from '../../format/records.js'
import type {K8sState} from './pods.js'

/** What ContainerContext asks (a hook in CollectorOptions): the pod id of a container, its Pod written first. */
export interface PodExporter {
  /** Writes the Pod of container `containerId` to `out` if it is not yet in the file; its id, or null. */
  exportPod(containerId: string, out: SysFlowRecord[]): string | null
  /** After a rotation: every pod is written again before its next use. */
  clearWritten(): void
}

export class K8sContext implements PodExporter {
  private readonly written = new Map<string, boolean>()
  /** Containers written without a pod (none listed them yet). */
  private readonly unlinked = new Set<string>()

  constructor(private readonly state: K8sState, private readonly now: () => bigint) {}

  exportPod(containerId: string, out: SysFlowRecord[]): string | null {
    const uid = this.state.podOfContainer(containerId)
    if (uid === undefined) {
      this.unlinked.add(containerId)
      return null
    }
    this.unlinked.delete(containerId)
    if (this.written.get(uid) !== true) {
      const rec = this.state.podRecord(uid, this.now())
      if (rec === undefined) return null
      out.push(rec)
      this.written.set(uid, true)
    }
    return uid
  }

  /** updateAndWritePodState: a pod already in the capture is written again as it is now. */
  podModified(uid: string, out: SysFlowRecord[]): void {
    if (!this.written.has(uid)) return
    const rec = this.state.podRecord(uid, this.now())
    if (rec === undefined) return
    out.push(rec)
    this.written.set(uid, true)
  }

  /** Containers written without a pod that a pod lists now. */
  newlyLinked(): string[] {
    const out: string[] = []
    for (const id of this.unlinked) if (this.state.podOfContainer(id) !== undefined) out.push(id)
    return out
  }

  clearWritten(): void {
    for (const k of this.written.keys()) this.written.set(k, false)
  }
}
