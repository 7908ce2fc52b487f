// The Kubernetes side of a live capture, on the official client (@kubernetes/client-node): one ListWatch informer
// per component the collector watches (list, then watch from the list's resourceVersion; a 410 Gone, as the watch's
// status or as an ERROR event in it, makes it list again). The client's informer stops at any other error and asks
// for no bookmarks; this wraps it (not a fork): bookmarks are asked for (so a quiet resource's watch restarts from a
// recent resourceVersion instead of relisting), and a failed list or watch is retried with a capped exponential
// backoff. Lists are read as raw JSON (the message keeps the API's own text for timestamps, which the typed client
// would turn into Dates). Everything runs on the event loop between ring-buffer reads; nothing in the event path
// waits for it. An unreachable API gives one warning per outage (and a line when it is back); an RBAC refusal
// names the resource and verb that are missing.
import http from 'node:http'
import https from 'node:https'
import {KubeConfig, ListWatch, Watch} from '@kubernetes/client-node'
import type {KubernetesListObject, KubernetesObject} from '@kubernetes/client-node'
import {ApiObject, eventPayload, messageOf, Payload, Resource, RESOURCES, statePayload} from './message.js'

export interface K8sClientOptions {
  kubeConfig: KubeConfig
  /** This node's name: only its pods are watched (spec.nodeName). */
  nodeName: string
  /** A K8sEvent message (the collector's payload, also given unwritten) for every list answer and watch event. */
  onMessage: (message: string, resource: Resource, payload: Payload) => void
  /** Informer state changes (after the object cache is updated). */
  onObject?: (resource: Resource, verb: 'add' | 'update' | 'delete', obj: ApiObject) => void
  /** One line each: API unreachable, back, RBAC refusals. */
  onWarning: (message: string) => void
  /** Components to watch (default: all the collector's). */
  resources?: Resource[]
  /** Backoff bounds, ms (default 500 .. 30000). */
  minBackoffMs?: number
  maxBackoffMs?: number
}

interface HttpError extends Error {
  statusCode?: number
}

/** GET a URL as JSON with the KubeConfig's credentials and TLS settings. */
async function getJson(kc: KubeConfig, url: URL, track: (r: http.ClientRequest) => void): Promise<unknown> {
  const opts: https.RequestOptions = {}
  await kc.applyToHTTPSOptions(opts)
  const mod = url.protocol === 'http:' ? http : https
  const headers = {...(opts.headers as Record<string, string> | undefined), Accept: 'application/json'}
  return new Promise((resolve, reject) => {
    const req = mod.request(url, {method: 'GET', agent: opts.agent, headers, auth: opts.auth, timeout: 60_000}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode !== 200) {
          const e: HttpError = new Error(`${res.statusCode} ${res.statusMessage ?? ''}`.trim())
          e.statusCode = res.statusCode
          return reject(e)
        }
        try {
          resolve(JSON.parse(text))
        } catch {
          reject(new Error(`the API answered ${url.pathname} with something that is not JSON`))
        }
      })
    })
    track(req)
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end()
  })
}

function statusOf(e: unknown): number | undefined {
  const x = e as {statusCode?: unknown; code?: unknown}
  if (typeof x?.statusCode === 'number') return x.statusCode
  if (typeof x?.code === 'number') return x.code
  return undefined
}

function reasonOf(e: unknown): string {
  const x = e as {code?: unknown; message?: unknown; cause?: {code?: unknown}}
  if (typeof x?.code === 'string') return x.code
  if (typeof x?.cause?.code === 'string') return x.cause.code
  return typeof x?.message === 'string' ? x.message : String(e)
}

export class K8sClient {
  private readonly informers: {r: Resource; lw: ListWatch<KubernetesObject>; backoff: number; timer?: NodeJS.Timeout; refused?: string; broken?: boolean}[] = []
  private readonly requests = new Set<http.ClientRequest>()
  private stopped = false
  private down = false
  private readonly server: string
  private readonly minBackoff: number
  private readonly maxBackoff: number
  private synced!: () => void
  /** Resolves once the pods have been listed (or the first attempt failed). */
  readonly firstSync = new Promise<void>((r) => (this.synced = r))

  constructor(private readonly o: K8sClientOptions) {
    this.server = o.kubeConfig.getCurrentCluster()?.server ?? ''
    this.minBackoff = o.minBackoffMs ?? 500
    this.maxBackoff = o.maxBackoffMs ?? 30_000
  }

  start(): void {
    const rs = this.o.resources ?? RESOURCES
    if (!rs.some((r) => r.plural === 'pods')) this.synced()
    for (const r of rs) {
      const fieldSelector = r.fieldSelector?.(this.o.nodeName)
      const inf = {r, lw: undefined as unknown as ListWatch<KubernetesObject>, backoff: this.minBackoff}
      inf.lw = new ListWatch(r.path, this.watcher(r), () => this.list(r, fieldSelector), false, undefined, fieldSelector)
      for (const verb of ['add', 'update', 'delete'] as const) inf.lw.on(verb, (obj) => this.o.onObject?.(r, verb, obj as ApiObject))
      inf.lw.on('error', (e: unknown) => this.failed(inf, e))
      this.informers.push(inf)
      void inf.lw.start().catch((e: unknown) => this.failed(inf, e))
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const inf of this.informers) {
      clearTimeout(inf.timer)
      await inf.lw.stop()
    }
    for (const req of this.requests) req.destroy()
    this.requests.clear()
  }

  /** The client's Watch, asking for bookmarks and turning each event into a K8sEvent message. */
  private watcher(r: Resource): Watch {
    const inner = new Watch(this.o.kubeConfig)
    const wrapped = {
      watch: async (path: string, query: Record<string, unknown>, cb: (phase: string, obj: ApiObject, raw: unknown) => void, done: (err: unknown) => void) => {
        // done() before the watch resolves: the request failed; after: an established stream broke (retried at once).
        let established = false
        const ctl = await inner.watch(path, {...query, allowWatchBookmarks: true}, (phase: string, obj: ApiObject, raw: unknown) => {
          if (this.stopped) return
          this.up()
          const inf = this.informers.find((x) => x.r === r)
          if (inf) inf.backoff = this.minBackoff
          cb(phase, obj, raw) // the informer's cache (and onObject) first, as libsinsp's state is updated first
          if (phase !== 'BOOKMARK') this.emit(r, eventPayload(r, phase, obj ?? {}))
        }, (err: unknown) => {
          if (err && statusOf(err) === 403) this.refused(r, 'watch')
          const inf = this.informers.find((x) => x.r === r)
          if (inf) inf.broken = established && !!err
          done(err)
        })
        established = true
        return ctl
      },
    }
    return wrapped as unknown as Watch
  }

  private async list(r: Resource, fieldSelector: string | undefined): Promise<KubernetesListObject<KubernetesObject>> {
    const url = new URL(this.server.replace(/\/+$/, '') + r.path)
    if (fieldSelector) url.searchParams.set('fieldSelector', fieldSelector)
    let list: {apiVersion?: unknown; items?: unknown; metadata?: {resourceVersion?: string}}
    try {
      list = (await getJson(this.o.kubeConfig, url, (req) => {
        this.requests.add(req)
        req.on('close', () => this.requests.delete(req))
      })) as typeof list
    } catch (e) {
      if (statusOf(e) === 403) this.refused(r, 'list')
      if (r.plural === 'pods') this.synced()
      throw e
    }
    if (this.stopped) return {apiVersion: '', kind: '', items: [], metadata: {}} as unknown as KubernetesListObject<KubernetesObject>
    this.up()
    const inf = this.informers.find((x) => x.r === r)
    if (inf) {
      inf.backoff = this.minBackoff
      inf.refused = undefined
    }
    this.emit(r, statePayload(r, list))
    if (!Array.isArray(list.items)) list.items = []
    if (r.plural === 'pods') setImmediate(() => this.synced()) // after the informer has cached the items (its await)
    return list as unknown as KubernetesListObject<KubernetesObject>
  }

  /** The start gave up waiting for the pod list (an API that accepts connections but does not answer). */
  noAnswer(ms: number): void {
    if (this.down || this.stopped) return
    this.down = true
    this.o.onWarning(`kubernetes API ${this.server} did not answer within ${ms / 1000} s: capturing without k8s metadata until it answers`)
  }

  private emit(r: Resource, p: Payload): void {
    this.o.onMessage(messageOf(p), r, p)
  }

  private refused(r: Resource, verb: string): void {
    const inf = this.informers.find((x) => x.r === r)
    if (inf?.refused === verb) return
    if (inf) inf.refused = verb
    const group = r.group === '' ? 'the core API group ("")' : `API group "${r.group}"`
    this.o.onWarning(`kubernetes API refused to ${verb} ${r.plural} (403 Forbidden): the capture's account needs the RBAC verb "${verb}" on resource "${r.plural}" in ${group}; capturing without ${r.plural}`)
  }

  private up(): void {
    if (!this.down) return
    this.down = false
    this.o.onWarning(`kubernetes API ${this.server} is reachable again: k8s metadata resumes`)
  }

  /** The informer stopped (list or watch failed): warn once per outage, retry with backoff. */
  private failed(inf: (typeof this.informers)[number], e: unknown): void {
    if (this.stopped) return
    const status = statusOf(e)
    if (inf.broken) {
      // The stream of a working watch broke: reconnect at once; a warning only if that fails.
      inf.broken = false
      void inf.lw.start().catch((err: unknown) => this.failed(inf, err))
      return
    }
    if (status !== 403 && !this.down) {
      this.down = true
      const what = status !== undefined ? `answered HTTP ${status} (${http.STATUS_CODES[status] ?? 'error'})` : `unreachable (${reasonOf(e)})`
      this.o.onWarning(`kubernetes API ${this.server} ${what}: capturing without k8s metadata until it answers again`)
    }
    clearTimeout(inf.timer)
    const wait = status === 403 ? this.maxBackoff : inf.backoff
    inf.backoff = Math.min(this.maxBackoff, inf.backoff * 2)
    inf.timer = setTimeout(() => {
      if (!this.stopped) void inf.lw.start().catch((err: unknown) => this.failed(inf, err))
    }, wait)
  }
}
