// Container name and image from a docker socket: a local HTTP server on a unix socket plays the daemon (inspect
// answer, 404, a hang, garbage), and the answer goes through the state engine's container JSON reader.
import test from 'ava'
import http from 'node:http'
import path from 'node:path'
import {containerFromJson} from '../src/capture/state.js'
import {containerFromCgroups} from '../src/capture/live/cgroup.js'
import {containerJson, describeContainer, dockerContainer, fromInspect, imageTag} from '../src/capture/live/docker.js'
import {withTempDir} from './helpers/tmp.js'

const ID = '0123456789abcdef'.repeat(4)
const IMG = 'f'.repeat(64)

const INSPECT = {
  Id: ID, Name: '/web-1', Image: `sha256:${IMG}`,
  Config: {Image: 'registry.local:5000/team/nginx:1.25'}, HostConfig: {Privileged: true},
}

async function withDaemon(handler: http.RequestListener, body: (sock: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const sock = path.join(dir, 'docker.sock')
    const server = http.createServer(handler)
    await new Promise<void>((res) => server.listen(sock, res))
    try {
      await body(sock)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((res) => server.close(() => res()))
    }
  })
}

test('docker: inspect answer -> container JSON -> the state engine container', async (t) => {
  const seen: string[] = []
  await withDaemon((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    if (req.url === `/containers/${ID}/json`) {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify(INSPECT))
    } else {
      res.writeHead(404)
      res.end('{"message":"No such container"}')
    }
  }, async (sock) => {
    const c = await dockerContainer(ID, {socketPath: sock})
    t.deepEqual(c, {id: ID.slice(0, 12), name: 'web-1', image: 'registry.local:5000/team/nginx:1.25', imagetag: '1.25', imageid: IMG, type: 0, privileged: true})
    t.deepEqual(containerFromJson(containerJson(c!)), {
      id: ID.slice(0, 12), name: 'web-1', image: 'registry.local:5000/team/nginx:1.25:1.25', imageid: IMG, type: 'CT_DOCKER', privileged: true,
    })
    t.is(await dockerContainer('b'.repeat(64), {socketPath: sock}), undefined)
    t.deepEqual(seen, [`GET /containers/${ID}/json`, `GET /containers/${'b'.repeat(64)}/json`])
  })
})

test('docker: a hung daemon, garbage, no socket and a bad id all give undefined', async (t) => {
  await withDaemon((req, res) => {
    if (req.url?.startsWith('/containers/aaaaaaaaaaaa')) return // never answers
    res.writeHead(200)
    res.end('not json')
  }, async (sock) => {
    t.is(await dockerContainer('a'.repeat(12), {socketPath: sock, timeoutMs: 100}), undefined)
    t.is(await dockerContainer(ID, {socketPath: sock}), undefined)
  })
  t.is(await dockerContainer(ID, {socketPath: '/nonexistent/docker.sock'}), undefined)
  t.is(await dockerContainer('../../etc', {socketPath: '/nonexistent/docker.sock'}), undefined)
})

test('docker: image tags and inspect fields as sinsp splits them', (t) => {
  t.is(imageTag('alpine'), 'latest')
  t.is(imageTag('alpine:3.19'), '3.19')
  t.is(imageTag('localhost:5000/alpine'), 'latest')
  t.is(imageTag('localhost:5000/alpine:edge'), 'edge')
  t.is(imageTag(`alpine@sha256:${IMG}`), '')
  t.is(imageTag(`alpine:3@sha256:${IMG}`), '3')
  t.is(fromInspect({Id: 'short'}), undefined)
  t.is(fromInspect(null), undefined)
  t.deepEqual(fromInspect({Id: ID}), {id: ID.slice(0, 12), name: '', image: '', imagetag: 'latest', imageid: '', type: 0, privileged: false})
})

test('docker: a cgroup match described by its runtime, or as the collector writes an incomplete one', async (t) => {
  const inspect = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(req.url === `/containers/${ID}/json` ? 200 : 404)
    res.end(JSON.stringify(INSPECT))
  }
  await withDaemon(inspect, async (sock) => {
    const d = await describeContainer(containerFromCgroups([`cpu=/docker/${ID}`])!, {dockerSocket: sock})
    t.is(containerFromJson(containerJson(d))?.name, 'web-1')
    // podman answers the docker API on its own socket; SysFlow has no podman type.
    const p = await describeContainer(containerFromCgroups([`0::/machine.slice/libpod-${ID}.scope`])!, {podmanSocket: sock})
    t.deepEqual(containerFromJson(containerJson(p)), {
      id: ID.slice(0, 12), name: 'web-1', image: 'registry.local:5000/team/nginx:1.25:1.25', imageid: IMG, type: 'CT_CUSTOM', privileged: true,
    })
    // The daemon does not know it: incomplete, like the collector.
    const u = await describeContainer(containerFromCgroups([`cpu=/docker/${'c'.repeat(64)}`])!, {dockerSocket: sock})
    t.deepEqual(containerFromJson(containerJson(u)), {
      id: 'cccccccccccc', name: 'incomplete', image: 'incomplete:incomplete', imageid: '', type: 'CT_DOCKER', privileged: false,
    })
  })
  // containerd is not asked: its type comes from the cgroup layout.
  const c = await describeContainer(containerFromCgroups([`0::/kubepods.slice/cri-containerd-${ID}.scope`])!, {dockerSocket: '/nonexistent'})
  t.deepEqual(containerFromJson(containerJson(c)), {
    id: ID.slice(0, 12), name: 'incomplete', image: 'incomplete:incomplete', imageid: '', type: 'CT_CONTAINERD', privileged: false,
  })
})
