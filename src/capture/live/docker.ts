// Container name and image from the docker engine, when its socket answers: `GET /containers/<id>/json` over the
// unix socket (libsinsp's docker engine does the same request), with a short timeout, so a missing or hung daemon
// costs one bounded wait and the capture goes on with the id alone. The answer is shaped as the `container` object
// of libsinsp's CONTAINER_JSON event, so the state engine's `containerFromJson` reads live and recorded containers
// alike. (containerd and CRI-O answer only gRPC on their sockets; they are not queried: their containers keep the
// id from the cgroup, with no name or image.)
import http from 'node:http'
import type {CgroupContainer, ContainerTypeName} from './cgroup.js'

/** The fields of libsinsp's container JSON that SysFlow reads. `type` is sinsp's number (0 = CT_DOCKER). */
export interface RuntimeContainer {
  id: string
  name: string
  image: string
  imagetag: string
  imageid: string
  type: number
  privileged: boolean
}

export interface DockerOptions {
  socketPath?: string
  /** Whole-request budget in ms. Default 500. */
  timeoutMs?: number
  /** sinsp container type number written in the answer. Default 0 (CT_DOCKER). */
  type?: number
}

/** The tag of an image reference as sinsp's split_container_image finds it: after the last ':' of the last path
 * component, digest (`@sha256:...`) ignored; "latest" when none is given and no digest pins it. */
export function imageTag(image: string): string {
  const at = image.indexOf('@')
  const name = at >= 0 ? image.slice(0, at) : image
  const last = name.slice(name.lastIndexOf('/') + 1)
  const colon = last.indexOf(':')
  if (colon >= 0) return last.slice(colon + 1)
  return at >= 0 ? '' : 'latest'
}

/** Map a docker inspect answer to the container JSON fields; undefined when it is not one. */
export function fromInspect(j: unknown, type = 0): RuntimeContainer | undefined {
  if (typeof j !== 'object' || j === null) return undefined
  const o = j as {Id?: unknown; Name?: unknown; Image?: unknown; Config?: {Image?: unknown}; HostConfig?: {Privileged?: unknown}}
  if (typeof o.Id !== 'string' || o.Id.length < 12) return undefined
  const name = typeof o.Name === 'string' ? o.Name.replace(/^\//, '') : ''
  const image = typeof o.Config?.Image === 'string' ? o.Config.Image : ''
  const imgId = typeof o.Image === 'string' ? o.Image : ''
  const colon = imgId.indexOf(':')
  return {
    id: o.Id.slice(0, 12),
    name,
    image,
    imagetag: imageTag(image),
    imageid: colon >= 0 ? imgId.slice(colon + 1) : imgId,
    type,
    privileged: o.HostConfig?.Privileged === true,
  }
}

/** The CONTAINER_JSON event text for a container, for `containerFromJson`. */
export function containerJson(c: RuntimeContainer): string {
  return JSON.stringify({container: c})
}

/** Ask the docker daemon about a container (full or short id). Undefined when the socket is absent, the daemon
 * does not know the container, answers something else, or does not answer within the timeout. */
export function dockerContainer(id: string, opts: DockerOptions = {}): Promise<RuntimeContainer | undefined> {
  if (!/^[0-9a-fA-F]{12,64}$/.test(id)) return Promise.resolve(undefined)
  const timeoutMs = opts.timeoutMs ?? 500
  return new Promise((resolve) => {
    let done = false
    const finish = (v: RuntimeContainer | undefined): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      req.destroy()
      resolve(v)
    }
    const req = http.get({socketPath: opts.socketPath ?? '/var/run/docker.sock', path: `/containers/${id}/json`, headers: {Host: 'docker'}}, (res) => {
      if (res.statusCode !== 200) {
        res.resume()
        finish(undefined)
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        // An inspect answer is a few KiB; a flood is not one.
        if (size > 4 << 20) finish(undefined)
        else chunks.push(c)
      })
      res.on('end', () => {
        try {
          finish(fromInspect(JSON.parse(Buffer.concat(chunks).toString('utf8')), opts.type ?? 0))
        } catch {
          finish(undefined)
        }
      })
      res.on('error', () => finish(undefined))
    })
    req.on('error', () => finish(undefined))
    const timer = setTimeout(() => finish(undefined), timeoutMs)
  })
}

/** sinsp's container type numbers (SysFlow's ContainerType order). */
export const CONTAINER_TYPE_NUMBER: Record<ContainerTypeName, number> = {CT_DOCKER: 0, CT_CUSTOM: 5, CT_CRI: 6, CT_CONTAINERD: 7, CT_CRIO: 8}

export interface DescribeOptions {
  dockerSocket?: string
  /** podman serves the docker API on its own socket (libsinsp asks it the same question). */
  podmanSocket?: string
  timeoutMs?: number
}

/** The container of a cgroup match with whatever its runtime says: docker and podman asked on their sockets;
 * containerd and CRI-O (gRPC only) not asked. What is unknown is written as the collector writes it for a
 * container whose lookup failed: name "incomplete", image "incomplete:incomplete". */
export async function describeContainer(m: CgroupContainer, opts: DescribeOptions = {}): Promise<RuntimeContainer> {
  const type = CONTAINER_TYPE_NUMBER[m.type]
  let found: RuntimeContainer | undefined
  if (m.engine === 'docker') found = await dockerContainer(m.fullId, {socketPath: opts.dockerSocket, timeoutMs: opts.timeoutMs, type})
  else if (m.engine === 'podman') found = await dockerContainer(m.fullId, {socketPath: opts.podmanSocket ?? '/run/podman/podman.sock', timeoutMs: opts.timeoutMs, type})
  return found ?? {id: m.id, name: 'incomplete', image: 'incomplete', imagetag: 'incomplete', imageid: '', type, privileged: false}
}
