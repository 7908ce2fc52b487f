// Kubernetes data for a live capture: the client's informers feed the pod state (for Pod records, written by the
// collector's ContainerContext through `context`) and queue K8sEvent records and MODIFIED pods, which the capture
// loop takes with `drain` between ring-buffer reads (so they land after the header and in the current file, and
// the ring-buffer reader never waits for the API).
import {Kind, K8sEvent, SysFlowRecord} from '../../format/records.js'
import type {K8sClient} from './client.js'
import type {K8sSetup} from './config.js'
import {K8sContext} from './context.js'
import {actionOf, componentOf} from './message.js'
import {K8sState} from './pods.js'

export interface K8sLiveOptions {
  onWarning: (message: string) => void
  /** Backoff bounds, ms (tests). */
  minBackoffMs?: number
  maxBackoffMs?: number
}

export class K8sLive {
  readonly state = new K8sState()
  readonly context: K8sContext
  private client: K8sClient | undefined
  private started: Promise<void> | undefined
  private readonly make: () => Promise<K8sClient>
  private readonly queue: ({ke: K8sEvent} | {modified: string})[] = []
  /** Wall clock in ns (records carry wall-clock time). */
  private readonly offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
  private podsChanged = false
  /** K8sEvent records queued so far (for --stats and tests). */
  k8sEvents = 0

  constructor(setup: K8sSetup, o: K8sLiveOptions) {
    const now = () => process.hrtime.bigint() + this.offset
    this.context = new K8sContext(this.state, now)
    // The client (and its library) is loaded when the capture starts it.
    this.make = async () => new (await import('./client.js')).K8sClient({
      kubeConfig: setup.kubeConfig, nodeName: setup.nodeName, onWarning: o.onWarning, minBackoffMs: o.minBackoffMs, maxBackoffMs: o.maxBackoffMs,
      onObject: (r, verb, obj) => {
        if (r.plural === 'pods') {
          verb === 'delete' ? this.state.deletePod(obj) : this.state.setPod(obj)
          this.podsChanged = true
        }
        else if (r.plural === 'services') verb === 'delete' ? this.state.deleteService(obj) : this.state.setService(obj)
      },
      onMessage: (message, _r, p) => {
        // What k8seventprocessor.cpp reads back from the payload (given here unwritten, not parsed again): kind and
        // action, and the pods of a MODIFIED pod message rewritten.
        const component = componentOf(p.kind)
        const action = actionOf(p.type)
        if (action === 'K8S_COMPONENT_MODIFIED' && component === 'K8S_PODS') {
          for (const it of p.items) if (typeof it.uid === 'string') this.queue.push({modified: it.uid})
        }
        this.queue.push({ke: {kind: Kind.K8sEvent, component, action, ts: now(), message}})
        this.k8sEvents++
      },
    })
  }

  start(): Promise<void> {
    this.started ??= this.make().then((c) => {
      this.client = c
      if (!this.stopped) c.start()
    })
    return this.started
  }

  private stopped = false

  /** Resolves when the pods are listed, or after `ms` (the capture does not wait longer for the API). */
  ready(ms: number): Promise<void> {
    let t: NodeJS.Timeout | undefined
    let done = false
    const synced = this.start().then(() => this.client!.firstSync).then(() => void (done = true))
    return Promise.race([synced, new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => {
      clearTimeout(t)
      if (!done) this.client?.noAnswer(ms)
    })
  }

  /**
   * Queued K8sEvents and rewritten pods into the capture's output, in arrival order; after a pod change, `relink`
   * is called with each container written without a pod that a pod lists now.
   */
  drain(out: SysFlowRecord[], relink?: (containerId: string) => void): void {
    while (this.queue.length > 0) {
      const q = this.queue.shift()!
      if ('ke' in q) out.push(q.ke)
      else this.context.podModified(q.modified, out)
    }
    if (this.podsChanged && relink) {
      this.podsChanged = false
      for (const id of this.context.newlyLinked()) relink(id)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.started) await this.started.catch(() => {})
    await this.client?.stop()
  }
}
