// Container ids from cgroup paths: libsinsp's engine layouts (docker, podman, cri-o, containerd), cgroup v1 and v2,
// the kubepods pod uid; paths built to break naive regexes must not match.
import test from 'ava'
import {cgroupPath, CgroupContainer, containerFromCgroups, containerIdFromCgroups, parseProcCgroup, podUidFromCgroup} from '../src/capture/live/cgroup.js'

const A = '0123456789abcdef'.repeat(4)
const B = 'fedcba9876543210'.repeat(4)
const U = 'ABCDEF0123456789'.repeat(4)
const POD = '5f1d2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7'
const POD2 = '00000000-1111-2222-3333-444444444444'
const POD_ = POD.replace(/-/g, '_')

type Want = Omit<CgroupContainer, 'fullId' | 'cgroup'> & {cgroup: string}

function docker(full: string, cgroup: string, podUid: string | null = null): Want {
  return {id: full.slice(0, 12), engine: 'docker', type: 'CT_DOCKER', podUid, cgroup}
}

// [name, cgroups, expected]
const CASES: [string, string[], Want | undefined][] = [
  ['v1 docker, /proc line', [`4:memory:/docker/${A}`], docker(A, `/docker/${A}`)],
  ['v1 docker, libscap entry', [`cpu=/docker/${A}`], docker(A, `/docker/${A}`)],
  ['v1 name=systemd entry', [`name=systemd=/docker/${A}`], docker(A, `/docker/${A}`)],
  ['v2 systemd docker scope', [`0::/system.slice/docker-${A}.scope`], docker(A, `/system.slice/docker-${A}.scope`)],
  ['docker- with 63 hex', [`0::/system.slice/docker-${A.slice(1)}.scope`], undefined],
  ['docker- with 65 hex', [`0::/system.slice/docker-${A}0.scope`], undefined],
  ['/docker/ with 65 hex', [`cpu=/docker/${A}f`], undefined],
  ['/docker/ with a non-hex character', [`cpu=/docker/${A.slice(0, 63)}g`], undefined],
  ['id not the last component', [`cpu=/docker/${A}/init`], undefined],
  ['docker elsewhere in the path', ['cpu=/system.slice/docker.service', '0::/system.slice/dockerd-helper.scope'], undefined],
  ['docker scope without .scope', [`0::/system.slice/docker-${A}`], undefined],
  ['uppercase hex kept', [`cpu=/docker/${U}`], docker(U, `/docker/${U}`)],
  ['docker in docker: innermost', [`cpu=/docker/${A}/docker/${B}`], docker(B, `/docker/${A}/docker/${B}`)],
  ['kubepods v1 cgroupfs: docker layout first, pod uid', [`cpu=/kubepods/besteffort/pod${POD}/${A}`], docker(A, `/kubepods/besteffort/pod${POD}/${A}`, POD)],
  ['kubepods guaranteed (no QoS level)', [`cpu=/kubepods/pod${POD}/${A}`], docker(A, `/kubepods/pod${POD}/${A}`, POD)],
  ['nested kubepods (kind): innermost id and pod',
    [`cpu=/kubepods/besteffort/pod${POD}/${A}/kubepods/burstable/pod${POD2}/${B}`],
    docker(B, `/kubepods/besteffort/pod${POD}/${A}/kubepods/burstable/pod${POD2}/${B}`, POD2)],
  ['systemd containerd in kubepods: pod uid underscores to dashes',
    [`0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${A}.scope`],
    {id: A.slice(0, 12), engine: 'cri', type: 'CT_CONTAINERD', podUid: POD,
      cgroup: `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${A}.scope`}],
  ['containerd without SystemdCgroup',
    [`cpu=/kubepods-besteffort-pod${POD_}.slice:cri-containerd:${A}`],
    {id: A.slice(0, 12), engine: 'cri', type: 'CT_CONTAINERD', podUid: POD, cgroup: `/kubepods-besteffort-pod${POD_}.slice:cri-containerd:${A}`}],
  ['systemd cri-o',
    [`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-${B}.scope`],
    {id: B.slice(0, 12), engine: 'cri', type: 'CT_CRIO', podUid: POD,
      cgroup: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-${B}.scope`}],
  ['cri-o conmon is not the container', [`0::/kubepods.slice/kubepods-burstable-pod${POD_}.slice/crio-conmon-${B}.scope`], undefined],
  ['non-systemd cri-o', [`cpu=/kubepods/burstable/pod${POD}/crio-${B}`],
    {id: B.slice(0, 12), engine: 'cri', type: 'CT_CRIO', podUid: POD, cgroup: `/kubepods/burstable/pod${POD}/crio-${B}`}],
  ['podman root', [`0::/machine.slice/libpod-${A}.scope`], {id: A.slice(0, 12), engine: 'podman', type: 'CT_CUSTOM', podUid: null, cgroup: `/machine.slice/libpod-${A}.scope`}],
  ['podman v2 inner cgroup', [`0::/machine.slice/libpod-${A}.scope/container`],
    {id: A.slice(0, 12), engine: 'podman', type: 'CT_CUSTOM', podUid: null, cgroup: `/machine.slice/libpod-${A}.scope/container`}],
  ['podman rootless', [`0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${B}.scope/container`],
    {id: B.slice(0, 12), engine: 'podman', type: 'CT_CUSTOM', podUid: null, cgroup: `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${B}.scope/container`}],
  ['podman non-systemd', [`cpu=/libpod_parent/libpod-${A}`], {id: A.slice(0, 12), engine: 'podman', type: 'CT_CUSTOM', podUid: null, cgroup: `/libpod_parent/libpod-${A}`}],
  ['podman conmon is not the container', [`0::/machine.slice/libpod-conmon-${A}.scope`], undefined],
  ['engine order over all cgroups: docker before podman', [`cpu=/machine.slice/libpod-${B}.scope`, `memory=/docker/${A}`], docker(A, `/docker/${A}`)],
  ['a colon in a /proc path', [`5:cpu,cpuacct:/we:ird/docker/${A}`], docker(A, `/we:ird/docker/${A}`)],
  ['pod lookalike outside kubepods', [`cpu=/system.slice/pod${POD}/${A}`], docker(A, `/system.slice/pod${POD}/${A}`)],
  ['kubepods with a malformed pod uid', [`cpu=/kubepods/besteffort/pod${POD.slice(1)}/${A}`], docker(A, `/kubepods/besteffort/pod${POD.slice(1)}/${A}`)],
  ['host: root, session scope, init scope', ['cpu=/', 'name=systemd=/user.slice/user-0.slice/session-3.scope', '0::/init.scope'], undefined],
  ['empty', [], undefined],
]

for (const [name, cgroups, want] of CASES) {
  test(`cgroup: ${name}`, (t) => {
    const got = containerFromCgroups(cgroups)
    if (want === undefined) {
      t.is(got, undefined)
      t.is(containerIdFromCgroups(cgroups), '')
      return
    }
    t.truthy(got)
    const {fullId, ...rest} = got!
    t.deepEqual(rest, want)
    t.is(fullId.length, 64)
    t.is(fullId.slice(0, 12), want.id)
    t.is(containerIdFromCgroups(cgroups), want.id)
  })
}

test('cgroup: the three entry forms give the same path', (t) => {
  t.is(cgroupPath(`3:cpu,cpuacct:/docker/${A}`), `/docker/${A}`)
  t.is(cgroupPath(`0::/system.slice/x.scope`), '/system.slice/x.scope')
  t.is(cgroupPath(`cpuacct=/docker/${A}`), `/docker/${A}`)
  t.is(cgroupPath(`name=systemd=/user.slice`), '/user.slice')
  t.is(cgroupPath(`=/kubepods/x`), '/kubepods/x')
  t.is(cgroupPath('/plain'), '/plain')
})

test('cgroup: pod uid only from a kubepods pod segment', (t) => {
  t.is(podUidFromCgroup(`/kubepods/besteffort/pod${POD}/${A}`), POD)
  t.is(podUidFromCgroup(`/kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${A}.scope`), POD)
  t.is(podUidFromCgroup(`/kubepods/besteffort/pod${POD}`), POD)
  t.is(podUidFromCgroup(`/kubepods/besteffort/pod${POD}x/${A}`), null)
  t.is(podUidFromCgroup(`/kubepods/besteffort/mypod${POD}/${A}`), null)
  t.is(podUidFromCgroup(`/system.slice/pod${POD}`), null)
})

test('cgroup: /proc/<pid>/cgroup parsed line by line, v1 controllers split, v2 empty', (t) => {
  const text = [
    '12:devices:/user.slice',
    '7:net_cls,net_prio:/',
    `4:memory:/docker/${A}`,
    '1:name=systemd:/user.slice/user-0.slice/session-1.scope',
    `0::/system.slice/docker-${A}.scope`,
    'garbage line',
    '',
  ].join('\n')
  t.deepEqual(parseProcCgroup(text), [
    {hierarchy: 12, controllers: ['devices'], path: '/user.slice'},
    {hierarchy: 7, controllers: ['net_cls', 'net_prio'], path: '/'},
    {hierarchy: 4, controllers: ['memory'], path: `/docker/${A}`},
    {hierarchy: 1, controllers: ['name=systemd'], path: '/user.slice/user-0.slice/session-1.scope'},
    {hierarchy: 0, controllers: [], path: `/system.slice/docker-${A}.scope`},
  ])
  t.is(containerIdFromCgroups(text.split('\n')), A.slice(0, 12))
})
