// Container identity from cgroup paths, as libsinsp's container engines find it (runc.cpp `match_one_container_id`
// over each engine's cgroup_layout list): the id is the text between the LAST occurrence of a layout's prefix and
// the last occurrence of its suffix, and it must be exactly 64 hex characters; the reported id is its first 12.
// Engines are tried in libsinsp's order (docker, podman, cri), each over all of the thread's cgroups, so a bare
// `/<64 hex>` is a docker container as libsinsp reports it, whatever runtime put it there.

/** SysFlow's ContainerType names (sinsp's numbering). */
export type ContainerTypeName = 'CT_DOCKER' | 'CT_CRI' | 'CT_CONTAINERD' | 'CT_CRIO' | 'CT_CUSTOM'

/** The engine whose cgroup layout matched. */
export type ContainerEngine = 'docker' | 'podman' | 'cri'

export interface CgroupContainer {
  /** The full id as it appears in the cgroup (64 hex characters, case kept). */
  fullId: string
  /** The reported id: the first 12 characters (libsinsp's REPORTED_CONTAINER_ID_LENGTH, the collector's id). */
  id: string
  engine: ContainerEngine
  /** From the layout: cri-containerd -> CT_CONTAINERD, crio -> CT_CRIO; podman has no SysFlow type (CT_CUSTOM). */
  type: ContainerTypeName
  /** Kubernetes pod uid from a kubepods path (dashes, as the API shows it), null outside kubepods. */
  podUid: string | null
  /** The cgroup path that matched. */
  cgroup: string
}

/** One line of /proc/<pid>/cgroup: `hierarchy:controllers:path` (v2: `0::/path`). */
export interface CgroupLine {
  hierarchy: number
  /** Controllers of a v1 hierarchy (`name=systemd` included as is); empty for the v2 hierarchy. */
  controllers: string[]
  path: string
}

interface Layout {
  prefix: string
  suffix: string
  type: ContainerTypeName
}

const ID_LENGTH = 64
const REPORTED_ID_LENGTH = 12
const HEX = /^[0-9a-fA-F]+$/

// libsinsp docker_linux.cpp DOCKER_CGROUP_LAYOUT.
const DOCKER: Layout[] = [
  {prefix: '/', suffix: '', type: 'CT_DOCKER'}, // non-systemd docker (also kubepods with any runtime)
  {prefix: '/docker-', suffix: '.scope', type: 'CT_DOCKER'}, // systemd docker
]
// libsinsp podman.cpp ROOT_PODMAN_CGROUP_LAYOUT (the suffix is not anchored, so `.scope/container` matches too).
const PODMAN: Layout[] = [
  {prefix: '/libpod-', suffix: '.scope', type: 'CT_CUSTOM'},
  {prefix: '/libpod-', suffix: '', type: 'CT_CUSTOM'}, // non-systemd podman
]
// libsinsp cri.cpp CRI_CGROUP_LAYOUT; the runtime type comes from the runtime there, from the prefix here.
const CRI: Layout[] = [
  {prefix: '/crio-', suffix: '', type: 'CT_CRIO'}, // non-systemd cri-o
  {prefix: '/cri-containerd-', suffix: '.scope', type: 'CT_CONTAINERD'}, // systemd containerd
  {prefix: '/crio-', suffix: '.scope', type: 'CT_CRIO'}, // systemd cri-o
  {prefix: ':cri-containerd:', suffix: '', type: 'CT_CONTAINERD'}, // containerd without SystemdCgroup
]
const ENGINES: [ContainerEngine, Layout[]][] = [['docker', DOCKER], ['podman', PODMAN], ['cri', CRI]]

/** The 64-character id between the last `prefix` and the last `suffix` of `cgroup`, or undefined. */
function matchLayout(cgroup: string, l: Layout): string | undefined {
  const p = cgroup.lastIndexOf(l.prefix)
  if (p < 0) return undefined
  const start = p + l.prefix.length
  const end = l.suffix === '' ? cgroup.length : cgroup.lastIndexOf(l.suffix)
  if (end < 0 || end - start !== ID_LENGTH) return undefined
  const id = cgroup.slice(start, end)
  return HEX.test(id) ? id : undefined
}

// A pod uid: 8-4-4-4-12 hex with dashes (cgroupfs driver) or underscores (systemd driver).
const POD_UID = /(?:^|[/-])pod([0-9a-fA-F]{8}([-_])[0-9a-fA-F]{4}\2[0-9a-fA-F]{4}\2[0-9a-fA-F]{4}\2[0-9a-fA-F]{12})(?=\.slice(?:[/:]|$)|\/|$)/g

/** The pod uid of the innermost kubepods pod segment of a cgroup path, dashes restored; null when none. */
export function podUidFromCgroup(cgroup: string): string | null {
  if (!cgroup.includes('kubepods')) return null
  let last: string | null = null
  for (const m of cgroup.matchAll(POD_UID)) last = m[1].replace(/_/g, '-').toLowerCase()
  return last
}

/** The cgroup path of one entry in any of the forms threads carry: `subsys=path` (libscap), `N:ctl:path`
 * (/proc/<pid>/cgroup), or a bare path. */
export function cgroupPath(entry: string): string {
  if (entry.startsWith('/')) return entry
  // /proc form: the path is everything after the second colon (paths may contain colons themselves).
  const m = /^\d+:[^:]*:(.*)$/.exec(entry)
  if (m) return m[1]
  // libscap form: subsystem names have no '/', the path starts with one; `name=systemd=/...` has two '='.
  const slash = entry.indexOf('=/')
  return slash >= 0 ? entry.slice(slash + 1) : entry
}

/** Match one cgroup path against every engine's layouts (libsinsp's order). */
export function containerFromCgroupPath(path: string): CgroupContainer | undefined {
  return containerFromCgroups([path])
}

/** The container of a thread from its cgroups (libscap `subsys=path` entries, /proc lines, or paths):
 * for each engine in libsinsp's order, the first cgroup that matches one of its layouts. */
export function containerFromCgroups(cgroups: readonly string[]): CgroupContainer | undefined {
  const paths = cgroups.map(cgroupPath)
  for (const [engine, layouts] of ENGINES) {
    for (const cg of paths) {
      for (const l of layouts) {
        const fullId = matchLayout(cg, l)
        if (fullId !== undefined) {
          return {fullId, id: fullId.slice(0, REPORTED_ID_LENGTH), engine, type: l.type, podUid: podUidFromCgroup(cg), cgroup: cg}
        }
      }
    }
  }
  return undefined
}

/** The 12-character container id, "" on the host (the state engine's `Thread.containerId`). */
export function containerIdFromCgroups(cgroups: readonly string[]): string {
  return containerFromCgroups(cgroups)?.id ?? ''
}

/** Parse /proc/<pid>/cgroup. Lines that do not have the three fields are skipped. */
export function parseProcCgroup(text: string): CgroupLine[] {
  const out: CgroupLine[] = []
  for (const line of text.split('\n')) {
    const a = line.indexOf(':')
    const b = a < 0 ? -1 : line.indexOf(':', a + 1)
    if (b < 0) continue
    const h = line.slice(0, a)
    if (!/^\d+$/.test(h)) continue
    const ctl = line.slice(a + 1, b)
    out.push({hierarchy: Number(h), controllers: ctl === '' ? [] : ctl.split(','), path: line.slice(b + 1)})
  }
  return out
}
