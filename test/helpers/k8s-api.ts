// A test double of the Kubernetes API on 127.0.0.1, speaking the real list and watch JSON: lists carry
// metadata.resourceVersion and items without kind/apiVersion; `?watch=true&resourceVersion=N` streams one JSON event
// per line ({type, object}) from N on and stays open; a resourceVersion older than the kept history gets the real
// API's answer (an ERROR event with a 410 Expired Status, then the stream ends), or with `goneAsHttp` an HTTP 410.
// Tests drive it: emit events, break open watches, compact the history, forbid a resource (403), stop and restart
// on the same port. Every request is logged.
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import type {Socket} from 'node:net'

type Obj = Record<string, unknown> & {metadata: Record<string, unknown>}

interface Collection {
  listKind: string
  apiVersion: string
  objects: Map<string, Obj>
}

export interface LoggedRequest {
  path: string
  watch: boolean
  query: URLSearchParams
  authorization: string | undefined
}

export class FakeK8sApi {
  private server: http.Server | undefined
  private port = 0
  private rv = 100
  /** Events kept for watches: [resourceVersion, path, type, object]. */
  private history: [number, string, string, Obj][] = []
  private oldest = 0
  private readonly watchers = new Set<{path: string; res: http.ServerResponse; filter: (o: Obj) => boolean}>()
  private readonly sockets = new Set<Socket>()
  readonly collections = new Map<string, Collection>()
  readonly requests: LoggedRequest[] = []
  readonly forbidden = new Set<string>()
  /** Resources answered with 500. */
  readonly failing = new Set<string>()
  /** Resources whose watch (not list) is refused. */
  readonly forbiddenWatch = new Set<string>()
  goneAsHttp = false

  constructor() {
    for (const [path, listKind, apiVersion] of [
      ['/api/v1/nodes', 'NodeList', 'v1'], ['/api/v1/namespaces', 'NamespaceList', 'v1'], ['/api/v1/pods', 'PodList', 'v1'],
      ['/api/v1/replicationcontrollers', 'ReplicationControllerList', 'v1'], ['/apis/apps/v1/replicasets', 'ReplicaSetList', 'apps/v1'],
      ['/api/v1/services', 'ServiceList', 'v1'], ['/apis/apps/v1/daemonsets', 'DaemonSetList', 'apps/v1'],
      ['/apis/apps/v1/deployments', 'DeploymentList', 'apps/v1'], ['/api/v1/events', 'EventList', 'v1'],
    ]) this.collections.set(path, {listKind, apiVersion, objects: new Map()})
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  lists(path: string): number {
    return this.requests.filter((r) => r.path === path && !r.watch).length
  }

  watches(path: string): LoggedRequest[] {
    return this.requests.filter((r) => r.path === path && r.watch)
  }

  /** Put an object in place before start (no event). */
  seed(path: string, obj: Obj): void {
    obj.metadata.resourceVersion = String(++this.rv)
    this.collections.get(path)!.objects.set(key(obj), obj)
    this.oldest = this.rv
  }

  /** An ADDED, MODIFIED or DELETED event: the store changes and open watches get it. */
  emit(path: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj): void {
    const c = this.collections.get(path)!
    obj.metadata.resourceVersion = String(++this.rv)
    if (type === 'DELETED') c.objects.delete(key(obj))
    else c.objects.set(key(obj), obj)
    const full = {kind: c.listKind.replace(/List$/, ''), apiVersion: c.apiVersion, ...obj}
    this.history.push([this.rv, path, type, full])
    for (const w of this.watchers) if (w.path === path && w.filter(full)) w.res.write(JSON.stringify({type, object: full}) + '\n')
  }

  /** Break every open watch (the connection drops mid-stream). */
  breakWatches(): void {
    for (const w of this.watchers) w.res.socket?.destroy()
    this.watchers.clear()
  }

  /** Other changes happened and the history was compacted: a watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.history = []
    this.oldest = ++this.rv
  }

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res))
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r))
    this.port = (this.server.address() as AddressInfo).port
  }

  /** The API goes away: the listener closes and every connection drops. */
  async stop(): Promise<void> {
    this.watchers.clear()
    const s = this.server
    this.server = undefined
    for (const so of this.sockets) so.destroy()
    if (s) await new Promise<void>((r) => s.close(() => r()))
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x')
    const watch = u.searchParams.get('watch') === 'true'
    this.requests.push({path: u.pathname, watch, query: u.searchParams, authorization: req.headers.authorization})
    const c = this.collections.get(u.pathname)
    if (!c) return this.status(res, 404, 'NotFound', `the server could not find the requested resource`)
    const plural = u.pathname.split('/').pop()!
    if (this.failing.has(plural)) return this.status(res, 500, 'InternalError', 'etcdserver: request timed out')
    if (this.forbidden.has(plural) || (watch && this.forbiddenWatch.has(plural))) {
      return this.status(res, 403, 'Forbidden', `${plural} is forbidden: User "system:serviceaccount:sysflow:sysflow" cannot ${watch ? 'watch' : 'list'} resource "${plural}"`)
    }
    const filter = fieldFilter(u.searchParams.get('fieldSelector'))
    if (!watch) {
      const items = [...c.objects.values()].filter(filter)
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({kind: c.listKind, apiVersion: c.apiVersion, metadata: {resourceVersion: String(this.rv)}, items}))
      return
    }
    const from = Number(u.searchParams.get('resourceVersion') ?? '0')
    if (from < this.oldest) {
      const gone = {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.oldest})`, reason: 'Expired', code: 410}
      if (this.goneAsHttp) {
        res.writeHead(410, {'content-type': 'application/json'})
        res.end(JSON.stringify(gone))
        return
      }
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({type: 'ERROR', object: gone}) + '\n')
      return
    }
    res.writeHead(200, {'content-type': 'application/json', 'transfer-encoding': 'chunked'})
    res.flushHeaders()
    for (const [rv, path, type, obj] of this.history) {
      if (rv > from && path === u.pathname && filter(obj)) res.write(JSON.stringify({type, object: obj}) + '\n')
    }
    if (u.searchParams.get('allowWatchBookmarks') === 'true') {
      res.write(JSON.stringify({type: 'BOOKMARK', object: {kind: c.listKind.replace(/List$/, ''), apiVersion: c.apiVersion, metadata: {resourceVersion: String(this.rv)}}}) + '\n')
    }
    const w = {path: u.pathname, res, filter}
    this.watchers.add(w)
    res.on('close', () => this.watchers.delete(w))
  }

  private status(res: http.ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, {'content-type': 'application/json'})
    res.end(JSON.stringify({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code}))
  }
}

function key(o: Obj): string {
  return `${String(o.metadata.namespace ?? '')}/${String(o.metadata.name)}`
}

/** Field selectors of the forms the capture sends: a=b and a!=b, comma-separated, on dotted paths. */
function fieldFilter(sel: string | null): (o: Obj) => boolean {
  if (!sel) return () => true
  const terms = sel.split(',').map((t) => {
    const ne = t.includes('!=')
    const [k, v] = ne ? t.split('!=') : t.split('=')
    return {path: k.split('.'), v, ne}
  })
  return (o) => terms.every(({path, v, ne}) => {
    let x: unknown = o
    for (const p of path) x = x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[p] : undefined
    return ne ? String(x ?? '') !== v : String(x ?? '') === v
  })
}
