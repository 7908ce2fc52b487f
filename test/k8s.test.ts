// Kubernetes at capture time, without a kernel: the collector's message JSON and its kind/action mapping, pod
// matching by containerID (runtime prefixes), services selecting pods, the Pod record's values and IP encoding,
// the Pod written before its Container and again on MODIFIED; and the client against a test double of the API
// (test/helpers/k8s-api.ts): list then watch, a watch that breaks (resumed from its resourceVersion, no relist),
// a 410 Gone in the stream and as an HTTP status (relist), bookmarks asked for, RBAC 403 naming resource and
// verb, the API going away (one warning) and coming back (picked up again).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import test from 'ava'
import {Kind, Pod, SysFlowRecord} from '../src/format/records.js'
import {actionOf, componentOf, eventMessage, fastWrite, RESOURCES, stateMessage} from '../src/capture/k8s/message.js'
import {containerIdOf, ipOf, K8sState} from '../src/capture/k8s/pods.js'
import {K8sContext} from '../src/capture/k8s/context.js'
import {K8sClient} from '../src/capture/k8s/client.js'
import {K8sLive} from '../src/capture/k8s/live.js'
import {K8sConfigError, resolveK8s} from '../src/capture/k8s/config.js'
import {ContainerContext} from '../src/capture/context.js'
import {RecordSink} from '../src/capture/sink.js'
import {FakeK8sApi} from './helpers/k8s-api.js'
import {runCli} from './helpers/cli.js'
import {sharedPath} from './helpers/shared.js'
import {fileInput, readTrace} from '../src/format/reader.js'
import type {K8sEvent} from '../src/format/records.js'

const res = (plural: string) => RESOURCES.find((r) => r.plural === plural)!
const CID = 'ab12cd34ef56'.padEnd(64, '0')
const INIT = '9f'.repeat(32)

function pod(name: string, uid: string, labels: Record<string, string>, extra: {containerID?: string; ns?: string; node?: string; restarts?: number[]} = {}) {
  return {
    metadata: {name, namespace: extra.ns ?? 'shop', uid, labels, creationTimestamp: '2026-12-03T10:00:00Z'},
    spec: {nodeName: extra.node ?? 'node-1', containers: [{name: 'app', image: 'web:1', ports: [{name: 'http', containerPort: 8080, protocol: 'TCP'}]}]},
    status: {
      phase: 'Running', hostIP: '192.168.59.100', podIP: '10.244.0.7',
      containerStatuses: (extra.restarts ?? [0]).map((n, i) => ({name: `c${i}`, restartCount: n, ...(i === 0 && extra.containerID ? {containerID: extra.containerID} : {})})),
      initContainerStatuses: [{name: 'init', restartCount: 5, containerID: `cri-o://${INIT}`}],
    },
  }
}

function service(name: string, uid: string, selector: Record<string, string> | undefined, ns = 'shop', clusterIP = '10.96.0.10', ports: unknown[] = [{port: 80, targetPort: 8080, protocol: 'TCP'}]) {
  return {metadata: {name, namespace: ns, uid}, spec: {selector, clusterIP, ports}}
}

test('message: the collector payload (sorted keys, FastWriter, newline and NUL) for a watch event and a list', (t) => {
  const p = pod('web-0', 'u-1', {b: '2', a: '1'}, {containerID: `containerd://${CID}`})
  const ev = eventMessage(res('pods'), 'MODIFIED', {apiVersion: 'v1', kind: 'Pod', ...p})
  t.true(ev.endsWith('}\n\u0000'))
  const j = JSON.parse(ev.slice(0, -2))
  t.deepEqual(Object.keys(j), ['apiVersion', 'items', 'kind', 'type'])
  t.deepEqual(Object.keys(j.items[0]), ['containerStatuses', 'containers', 'hostIP', 'initContainerStatuses', 'labels', 'name', 'namespace', 'nodeName', 'phase', 'podIP', 'timestamp', 'uid'])
  t.is(j.items[0].timestamp, '2026-12-03T10:00:00Z')
  t.true(ev.startsWith('{"apiVersion":"v1","items":[{"containerStatuses":[{"containerID":"containerd://ab12cd34ef56'))
  t.true(ev.includes('"labels":{"a":"1","b":"2"},"name":"web-0","namespace":"shop","nodeName":"node-1","phase":"Running","podIP":"10.244.0.7","timestamp":"2026-12-03T10:00:00Z","uid":"u-1"}],"kind":"Pod","type":"MODIFIED"}'))
  // a list is one ADDED message with every item, of the component's kind; absent fields are null
  const st = stateMessage(res('services'), {apiVersion: 'v1', items: [{metadata: {name: 's', uid: 'x'}, spec: {}}]})
  t.is(st, '{"apiVersion":"v1","items":[{"clusterIP":null,"labels":null,"name":"s","namespace":null,"ports":null,"selector":null,"timestamp":null,"uid":"x"}],"kind":"Service","type":"ADDED"}\n\u0000')
  // nodes: jq's [.status.addresses[].address] | unique
  const node = eventMessage(res('nodes'), 'ADDED', {kind: 'Node', apiVersion: 'v1', metadata: {name: 'n', uid: 'n1'}, status: {addresses: [{address: 'n'}, {address: '10.0.0.2'}, {address: 'n'}]}})
  t.true(node.startsWith('{"apiVersion":"v1","items":[{"addresses":["10.0.0.2","n"],'))
  // jsoncpp escapes non-ASCII and control characters
  t.is(fastWrite({m: 'é\u0001"\\/\n'}), '{"m":"\\u00e9\\u0001\\"\\\\/\\n"}')
})

const K8S_SMALL = sharedPath('traces/sysflow/sf-processor/k8s_small.sf')
if (!fs.existsSync(K8S_SMALL)) {
  test.skip('message: byte for byte the collector\'s (k8s_small.sf): SKIPPED, ../shared/traces not found', () => {})
} else {
  test('message: byte for byte the collector\'s on every K8sEvent of k8s_small.sf (the API object rebuilt from its items)', async (t) => {
    const kes: K8sEvent[] = []
    for await (const b of readTrace(fileInput(K8S_SMALL))) for (const r of b.records) if (r.kind === Kind.K8sEvent) kes.push(r)
    t.is(kes.length, 4)
    for (const k of kes) {
      const m = JSON.parse(k.message!.slice(0, -2)) as {apiVersion: string; kind: string; type: string; items: Record<string, unknown>[]}
      const i = m.items[0]
      // the Pod as the API sent it, holding exactly what the filter keeps
      const raw = {
        apiVersion: m.apiVersion, kind: m.kind,
        metadata: {name: i.name, namespace: i.namespace, uid: i.uid, creationTimestamp: i.timestamp, labels: i.labels},
        spec: {nodeName: i.nodeName, containers: i.containers},
        status: {hostIP: i.hostIP, podIP: i.podIP, phase: i.phase, containerStatuses: i.containerStatuses, initContainerStatuses: i.initContainerStatuses},
      }
      t.is(eventMessage(res('pods'), m.type, raw), k.message!)
      t.is(componentOf(m.kind), k.component!)
      t.is(actionOf(m.type), k.action!)
    }
  })

  test('pods: the Pod record the collector rewrote after a MODIFIED pod event of k8s_small.sf, from that event\'s pod', async (t) => {
    const recs: SysFlowRecord[] = []
    for await (const b of readTrace(fileInput(K8S_SMALL))) recs.push(...b.records)
    let checked = 0
    for (const [n, r] of recs.entries()) {
      if (r.kind !== Kind.K8sEvent || r.action !== 'K8S_COMPONENT_MODIFIED') continue
      const i = (JSON.parse(r.message!.slice(0, -2)) as {items: Record<string, unknown>[]}).items[0]
      // updateAndWritePodState writes a pod the capture holds, before the event itself: the last Pod of that uid
      const next = recs.slice(0, n).reverse().find((x): x is Pod => x.kind === Kind.Pod && x.id === i.uid)
      if (next === undefined) continue
      const st = new K8sState()
      st.setPod({
        metadata: {name: i.name, namespace: i.namespace, uid: i.uid, creationTimestamp: i.timestamp, labels: i.labels},
        spec: {nodeName: i.nodeName, containers: i.containers},
        status: {hostIP: i.hostIP, podIP: i.podIP, phase: i.phase, containerStatuses: i.containerStatuses, initContainerStatuses: i.initContainerStatuses},
      })
      const ours = st.podRecord(String(i.uid), next.ts)!
      t.deepEqual({...ours, services: next.services}, next)
      checked++
    }
    t.is(checked, 1)
  })
}

test('message: kind and action mapped as k8seventprocessor.cpp maps them', (t) => {
  const kinds: [string, string][] = [['Namespace', 'K8S_NAMESPACES'], ['Node', 'K8S_NODES'], ['Pod', 'K8S_PODS'], ['ReplicationController', 'K8S_REPLICATIONCONTROLLERS'],
    ['ReplicaSet', 'K8S_REPLICASETS'], ['Service', 'K8S_SERVICES'], ['DaemonSet', 'K8S_DAEMONSETS'], ['Deployment', 'K8S_DEPLOYMENTS'], ['EventList', 'K8S_EVENTS'],
    ['Event', 'K8S_UNKNOWN'], ['Status', 'K8S_UNKNOWN']]
  for (const [k, c] of kinds) t.is(componentOf(k), c, k)
  t.is(componentOf(undefined), 'K8S_UNKNOWN')
  const actions: [unknown, string][] = [['ADDED', 'K8S_COMPONENT_ADDED'], ['MODIFIED', 'K8S_COMPONENT_MODIFIED'], ['DELETED', 'K8S_COMPONENT_DELETED'],
    ['NONEXISTENT', 'K8S_COMPONENT_NONEXISTENT'], ['ERROR', 'K8S_COMPONENT_ERROR'], ['BOOKMARK', 'K8S_COMPONENT_UNKNOWN'], ['', 'K8S_COMPONENT_UNKNOWN'], [7, 'K8S_COMPONENT_UNKNOWN']]
  for (const [a, c] of actions) t.is(actionOf(a), c, String(a))
  t.deepEqual(RESOURCES.map((r) => r.plural), ['nodes', 'namespaces', 'pods', 'replicationcontrollers', 'replicasets', 'services', 'daemonsets', 'deployments', 'events'])
  t.is(res('pods').fieldSelector!('node-7'), 'status.phase!=Failed,status.phase!=Unknown,status.phase!=Succeeded,spec.nodeName=node-7')
})

test('pods: containerID runtime prefixes stripped to the 12-character id; IPs as the format stores them', (t) => {
  t.is(containerIdOf(`containerd://${CID}`), 'ab12cd34ef56')
  t.is(containerIdOf(`cri-o://${CID}`), 'ab12cd34ef56')
  t.is(containerIdOf(`docker://${CID}`), 'ab12cd34ef56')
  t.is(containerIdOf('rkt://7e1c6bde-2c3a'), '7e1c6bde-2c3a')
  t.is(containerIdOf(CID), undefined)
  t.is(containerIdOf(`podman://${CID}`), undefined)
  t.deepEqual(ipOf('192.168.59.100'), [1681631424n]) // k8s_small.sf's hostIP
  t.deepEqual(ipOf('10.98.34.250'), [4196557322n]) // first octet least significant, unsigned
  t.deepEqual(ipOf('None'), [])
  t.deepEqual(ipOf(''), [])
  t.deepEqual(ipOf('256.1.1.1'), [])
})

test('pods: matched by container id (init containers too), services selecting them, the Pod record', (t) => {
  const s = new K8sState()
  s.setPod(pod('web-0', 'u-1', {app: 'web', tier: 'front', n: '3'}, {containerID: `containerd://${CID}`, restarts: [2, 3]}))
  s.setPod(pod('db-0', 'u-2', {app: 'db'}, {containerID: `docker://${'cd'.repeat(32)}`}))
  s.setService(service('web', 's-1', {app: 'web'}))
  s.setService(service('front', 's-2', {tier: 'front', app: 'web'}, 'shop', 'None', [{port: 443, targetPort: 'http', protocol: 'TCP', nodePort: 30443}, {port: 81}]))
  s.setService(service('other-ns', 's-3', {app: 'web'}, 'prod'))
  s.setService(service('no-selector', 's-4', undefined))
  s.setService(service('more', 's-5', {app: 'web', zone: 'a'}))
  t.is(s.podOfContainer('ab12cd34ef56'), 'u-1')
  t.is(s.podOfContainer('cdcdcdcdcdcd'), 'u-2')
  t.is(s.podOfContainer('9f9f9f9f9f9f'), 'u-1') // the first pod listing the init container
  t.is(s.podOfContainer('000000000000'), undefined)
  const rec = s.podRecord('u-1', 123n)!
  t.deepEqual(rec, {
    kind: Kind.Pod, ts: 123n, id: 'u-1', name: 'web-0', nodeName: 'node-1', hostIP: [1681631424n], internalIP: ipOf('10.244.0.7'),
    namespace: 'shop', restartCount: 5n, labels: {app: 'web', n: '3', tier: 'front'}, selectors: {},
    services: [
      {name: 'web', id: 's-1', namespace: 'shop', portList: [{port: 80, targetPort: 8080, nodePort: 0, proto: 'TCP'}], clusterIP: ipOf('10.96.0.10')},
      {name: 'front', id: 's-2', namespace: 'shop', portList: [{port: 443, targetPort: 8080, nodePort: 30443, proto: 'TCP'}], clusterIP: []},
    ],
  })
  // a label change changes the services that select it
  s.setPod(pod('web-0', 'u-1', {app: 'web', zone: 'a'}, {containerID: `containerd://${CID}`}))
  t.deepEqual(s.podRecord('u-1', 1n)!.services!.map((x) => x.name), ['web', 'more'])
  s.deletePod(pod('web-0', 'u-1', {}))
  t.is(s.podOfContainer('ab12cd34ef56'), undefined)
  t.is(s.podRecord('u-1', 1n), undefined)
})

test('context: the Pod written before the Container that links it, once per file, again when MODIFIED', (t) => {
  const s = new K8sState()
  s.setPod(pod('web-0', 'u-1', {app: 'web'}, {containerID: `containerd://${CID}`}))
  let now = 10n
  const k = new K8sContext(s, () => now++)
  const sink = new RecordSink()
  const cc = new ContainerContext(sink, k)
  cc.write('ab12cd34ef56')
  cc.write('ab12cd34ef56')
  cc.write('0123456789ab') // no pod lists it
  const kinds = (rs: SysFlowRecord[]) => rs.map((r) => (r.kind === Kind.Pod ? `Pod:${r.id}` : r.kind === Kind.Container ? `C:${r.id}:${r.podId}` : String(r.kind)))
  t.deepEqual(kinds(sink.out), ['Pod:u-1', 'C:ab12cd34ef56:u-1', 'C:0123456789ab:null'])
  // MODIFIED: written again as it is now
  s.setPod(pod('web-0', 'u-1', {app: 'web', v: '2'}, {containerID: `containerd://${CID}`}))
  k.podModified('u-1', sink.out)
  k.podModified('u-9', sink.out) // never written: not in the capture
  const p = sink.out[3] as Pod
  t.is(sink.out.length, 4)
  t.deepEqual(p.labels, {app: 'web', v: '2'})
  t.is(p.ts, 11n)
  // rotation: the pod again before the container
  sink.out.length = 0
  cc.clearWritten()
  cc.write('ab12cd34ef56')
  t.deepEqual(kinds(sink.out), ['Pod:u-1', 'C:ab12cd34ef56:u-1'])
})

test('context: a container written before any pod listed it is written again, after its Pod, once a pod does', (t) => {
  const s = new K8sState()
  const k = new K8sContext(s, () => 7n)
  const sink = new RecordSink()
  const cc = new ContainerContext(sink, k)
  cc.write('ab12cd34ef56')
  t.deepEqual(k.newlyLinked(), [])
  // kubelet reports the container's id in the pod's status after the container started
  s.setPod(pod('web-0', 'u-1', {app: 'web'}, {containerID: `containerd://${CID}`}))
  t.deepEqual(k.newlyLinked(), ['ab12cd34ef56'])
  for (const id of k.newlyLinked()) cc.relinkPod(id)
  cc.relinkPod('ab12cd34ef56') // linked already: nothing more
  cc.relinkPod('ffffffffffff') // never seen
  t.deepEqual(sink.out.map((r) => (r.kind === Kind.Pod ? `Pod:${r.id}` : r.kind === Kind.Container ? `C:${r.id}:${r.podId}` : '?')), ['C:ab12cd34ef56:null', 'Pod:u-1', 'C:ab12cd34ef56:u-1'])
  t.deepEqual(k.newlyLinked(), [])
})

test('config: --k8s auto/on/off, --k8s-api, --kubeconfig, in-cluster, node name', async (t) => {
  const none = '/nonexistent-sa'
  t.is(await resolveK8s({mode: 'off', apiUrl: 'http://127.0.0.1:1'}, {}, none), undefined)
  t.is(await resolveK8s({mode: 'auto'}, {KUBECONFIG: '/x'}, none), undefined) // a developer's KUBECONFIG alone does not turn it on
  const s = (await resolveK8s({mode: 'auto', apiUrl: 'http://127.0.0.1:8001/'}, {NODE_NAME: 'n7'}, none))!
  t.is(s.server, 'http://127.0.0.1:8001')
  t.is(s.nodeName, 'n7')
  t.is((await resolveK8s({apiUrl: 'http://127.0.0.1:8001', nodeName: 'flag'}, {NODE_NAME: 'env'}, none))!.nodeName, 'flag')
  await t.throwsAsync(resolveK8s({mode: 'on'}, {}, none), {instanceOf: K8sConfigError, message: /no Kubernetes API configured/})
  await t.throwsAsync(resolveK8s({apiUrl: 'ftp://x'}, {}, none), {instanceOf: K8sConfigError, message: /needs http/})
  await t.throwsAsync(resolveK8s({mode: 'on'}, {KUBECONFIG: '/no/such/kubeconfig'}, none), {instanceOf: K8sConfigError, message: /^KUBECONFIG \/no\/such\/kubeconfig: no such file$/})
  await t.throwsAsync(resolveK8s({kubeconfig: '/no/such/file'}, {}, none), {instanceOf: K8sConfigError, message: /^--kubeconfig \/no\/such\/file: no such file$/})
  // --k8s on, nothing else: ~/.kube/config, as kubectl
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sysflow-home-'))
  try {
    fs.mkdirSync(path.join(home, '.kube'))
    fs.writeFileSync(path.join(home, '.kube', 'config'), ['apiVersion: v1', 'kind: Config', 'current-context: c', 'clusters:', '- name: k', '  cluster:', '    server: https://10.0.0.1:6443',
      'users:', '- name: u', '  user:', '    token: t', 'contexts:', '- name: c', '  context:', '    cluster: k', '    user: u'].join('\n'))
    t.is((await resolveK8s({mode: 'on'}, {HOME: home}, none))!.server, 'https://10.0.0.1:6443')
    t.is(await resolveK8s({mode: 'auto'}, {HOME: home}, none), undefined)
  } finally {
    fs.rmSync(home, {recursive: true, force: true})
  }
})

test.serial('cli: --k8s on with -r is a usage error (exit 2, one line); -r ignores --k8s auto', (t) => {
  const r = runCli(['capture', '-r', '/nonexistent/x.scap', '--k8s', 'on', '-o', '/nonexistent/y.sf'])
  t.is(r.status, 2)
  t.deepEqual(r.errLines, ['sysflow: error: --k8s on needs a live capture (Kubernetes metadata is read at capture time, not from a .scap file)'])
  const out = path.join(os.tmpdir(), `sysflow-k8s-${process.pid}.sf`)
  const auto = runCli(['capture', '-r', '/nonexistent/x.scap', '--k8s-api', 'http://127.0.0.1:1', '-o', out])
  t.is(auto.status, 1)
  t.deepEqual(auto.errLines, ['sysflow: error: /nonexistent/x.scap: no such file'])
  t.false(fs.existsSync(out))
})

/** Poll until `cond` holds (the client works on the event loop). */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function withApi(body: (api: FakeK8sApi) => Promise<void>): Promise<void> {
  const api = new FakeK8sApi()
  await api.start()
  try {
    await body(api)
  } finally {
    await api.stop()
  }
}

async function client(api: FakeK8sApi, plurals: string[], node = 'node-1') {
  const messages: {m: Record<string, unknown>; r: string}[] = []
  const warnings: string[] = []
  const objects: string[] = []
  const c = new K8sClient({
    kubeConfig: (await resolveK8s({apiUrl: api.url}, {}, '/nonexistent-sa'))!.kubeConfig, nodeName: node, minBackoffMs: 50, maxBackoffMs: 200,
    resources: RESOURCES.filter((r) => plurals.includes(r.plural)),
    onMessage: (m, r) => messages.push({m: JSON.parse(m.slice(0, -2)) as Record<string, unknown>, r: r.plural}),
    onObject: (r, verb, o) => objects.push(`${r.plural}:${verb}:${String(o.metadata?.name)}`),
    onWarning: (w) => warnings.push(w),
  })
  return {c, messages, warnings, objects}
}

test('client: list, watch, a broken watch resumed without relisting, 410 Gone in the stream relists', async (t) => {
  await withApi(async (api) => {
    api.seed('/api/v1/pods', pod('web-0', 'u-1', {app: 'web'}, {containerID: `containerd://${CID}`}))
    api.seed('/api/v1/pods', pod('elsewhere', 'u-3', {app: 'web'}, {node: 'node-2'}))
    const {c, messages, warnings, objects} = await client(api, ['pods'])
    c.start()
    try {
      await c.firstSync
      await until(() => api.watches('/api/v1/pods').length === 1, 'the watch')
      // one ADDED message for the list, this node's pods only
      t.is(messages.length, 1)
      t.is(messages[0].m.type, 'ADDED')
      t.is(messages[0].m.kind, 'Pod')
      t.deepEqual((messages[0].m.items as {name: string}[]).map((i) => i.name), ['web-0'])
      const w = api.watches('/api/v1/pods')[0].query
      t.is(w.get('allowWatchBookmarks'), 'true')
      t.is(w.get('fieldSelector'), 'status.phase!=Failed,status.phase!=Unknown,status.phase!=Succeeded,spec.nodeName=node-1')
      t.is(w.get('resourceVersion'), '102')
      api.emit('/api/v1/pods', 'MODIFIED', pod('web-0', 'u-1', {app: 'web', v: '2'}, {containerID: `containerd://${CID}`}))
      await until(() => messages.length === 2, 'the MODIFIED event')
      t.is(messages[1].m.type, 'MODIFIED')
      t.deepEqual((messages[1].m.items as {labels: unknown}[])[0].labels, {app: 'web', v: '2'})
      // the watch breaks: resumed from the last resourceVersion, no second list
      api.breakWatches()
      await until(() => api.watches('/api/v1/pods').length === 2, 'the watch to resume')
      t.is(api.watches('/api/v1/pods')[1].query.get('resourceVersion'), '103')
      api.emit('/api/v1/pods', 'ADDED', pod('web-1', 'u-2', {app: 'web'}))
      await until(() => messages.length === 3, 'the ADDED after the break')
      t.is(api.lists('/api/v1/pods'), 1)
      // history compacted, watch broken: the resumed watch gets 410 Gone, the informer lists again
      api.emit('/api/v1/pods', 'DELETED', pod('web-1', 'u-2', {app: 'web'}))
      await until(() => messages.length === 4, 'the DELETED')
      api.compact()
      api.collections.get('/api/v1/pods')!.objects.delete('shop/web-0') // gone while nobody watched
      api.breakWatches()
      await until(() => api.lists('/api/v1/pods') === 2, 'the relist after 410')
      await until(() => objects.includes('pods:delete:web-0'), 'the vanished pod deleted on relist')
      // the 410 itself is an ERROR event, written as the collector writes it
      const err = messages.find((x) => x.m.type === 'ERROR')
      t.truthy(err)
      t.is(err!.m.kind, 'Status')
      t.is(messages.at(-1)!.m.type, 'ADDED')
      t.deepEqual(messages.at(-1)!.m.items, [])
      t.deepEqual(objects, ['pods:add:web-0', 'pods:update:web-0', 'pods:add:web-1', 'pods:delete:web-1', 'pods:delete:web-0'])
      t.deepEqual(warnings, [])
    } finally {
      await c.stop()
    }
  })
})

test('client: --kubeconfig (cluster, user token, current context) authenticates both the list and the watch', async (t) => {
  await withApi(async (api) => {
    const kcPath = path.join(os.tmpdir(), `sysflow-kubeconfig-${process.pid}.yaml`)
    fs.writeFileSync(kcPath, [
      'apiVersion: v1', 'kind: Config', 'current-context: e2e',
      'clusters:', `- name: fake`, `  cluster:`, `    server: ${api.url}`, `    insecure-skip-tls-verify: true`,
      'users:', '- name: capture', '  user:', '    token: s3cr3t-token',
      'contexts:', '- name: e2e', '  context:', '    cluster: fake', '    user: capture',
    ].join('\n'))
    // a second file (KUBECONFIG=a:b) naming the same cluster and another context: the first file's win, as in kubectl
    const kcMore = `${kcPath}.more`
    fs.writeFileSync(kcMore, [
      'apiVersion: v1', 'kind: Config', 'current-context: other',
      'clusters:', '- name: fake', '  cluster:', '    server: http://127.0.0.1:9', '- name: far', '  cluster:', '    server: http://127.0.0.1:10',
      'contexts:', '- name: other', '  context:', '    cluster: far', '    user: capture',
    ].join('\n'))
    try {
      const setup = (await resolveK8s({mode: 'on', nodeName: 'node-1'}, {KUBECONFIG: `${kcPath}${path.delimiter}${kcMore}`}, '/nonexistent-sa'))!
      t.is(setup.server, api.url)
      t.deepEqual(setup.kubeConfig.getContexts().map((c) => c.name), ['e2e', 'other'])
      const live = new K8sLive(setup, {onWarning: (w) => t.fail(w)})
      try {
        await live.ready(5000)
        await until(() => api.watches('/api/v1/pods').length === 1, 'the watch')
        const pods = api.requests.filter((r) => r.path === '/api/v1/pods')
        t.deepEqual(pods.map((r) => `${r.watch ? 'watch' : 'list'} ${r.authorization}`), ['list Bearer s3cr3t-token', 'watch Bearer s3cr3t-token'])
      } finally {
        await live.stop()
      }
    } finally {
      fs.rmSync(kcPath, {force: true})
      fs.rmSync(kcMore, {force: true})
    }
  })
})

test('client: 410 Gone as the watch HTTP status relists too', async (t) => {
  await withApi(async (api) => {
    api.goneAsHttp = true
    api.seed('/api/v1/services', service('web', 's-1', {app: 'web'}))
    const {c, messages, warnings} = await client(api, ['services'])
    c.start()
    try {
      await until(() => api.watches('/api/v1/services').length === 1, 'the watch')
      api.compact()
      api.breakWatches()
      await until(() => messages.filter((x) => x.m.type === 'ADDED').length === 2, 'the relist')
      t.is(api.lists('/api/v1/services'), 2)
      t.deepEqual(warnings, [])
    } finally {
      await c.stop()
    }
  })
})

test('client: RBAC 403 names resource and verb; the others go on', async (t) => {
  await withApi(async (api) => {
    api.forbidden.add('events')
    api.forbiddenWatch.add('replicasets')
    api.seed('/api/v1/namespaces', {metadata: {name: 'shop', uid: 'ns-1'}})
    const {c, messages, warnings} = await client(api, ['namespaces', 'events', 'replicasets'])
    c.start()
    try {
      await until(() => warnings.length === 2 && messages.length === 2, 'the refusals and the lists')
      await new Promise((r) => setTimeout(r, 300)) // retried at most once more: still one warning each
      t.deepEqual(warnings.sort(), [
        'kubernetes API refused to list events (403 Forbidden): the capture\'s account needs the RBAC verb "list" on resource "events" in the core API group (""); capturing without events',
        'kubernetes API refused to watch replicasets (403 Forbidden): the capture\'s account needs the RBAC verb "watch" on resource "replicasets" in API group "apps"; capturing without replicasets',
      ])
      t.deepEqual(messages.map((x) => `${x.r}:${String(x.m.kind)}`).sort(), ['namespaces:Namespace', 'replicasets:ReplicaSet'])
    } finally {
      await c.stop()
    }
  })
})

test('client: an API error status is one warning naming it; the resource is picked up when it answers', async (t) => {
  await withApi(async (api) => {
    api.failing.add('pods')
    const {c, messages, warnings} = await client(api, ['pods'])
    c.start()
    try {
      await until(() => api.lists('/api/v1/pods') >= 3, 'the retries')
      t.deepEqual(warnings, [`kubernetes API ${api.url} answered HTTP 500 (Internal Server Error): capturing without k8s metadata until it answers again`])
      t.is(messages.length, 0)
      api.failing.delete('pods')
      await until(() => messages.length === 1, 'the list once it answers')
      t.is(warnings.length, 2)
      t.regex(warnings[1], /is reachable again/)
    } finally {
      await c.stop()
    }
  })
})

test('client: the API goes away (one warning), comes back on the same port (picked up again)', async (t) => {
  const api = new FakeK8sApi()
  await api.start()
  const port = Number(new URL(api.url).port)
  const {c, messages, warnings} = await client(api, ['pods', 'services'])
  c.start()
  try {
    await until(() => api.watches('/api/v1/pods').length === 1 && api.watches('/api/v1/services').length === 1, 'the watches')
    await api.stop()
    await until(() => warnings.length === 1, 'the warning')
    await new Promise((r) => setTimeout(r, 600)) // several retries of both informers
    t.is(warnings.length, 1)
    t.regex(warnings[0], /^kubernetes API http:\/\/127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED\): capturing without k8s metadata until it answers again$/)
    await api.start(port)
    api.emit('/api/v1/pods', 'ADDED', pod('web-9', 'u-9', {app: 'web'}))
    await until(() => messages.some((x) => (x.m.items as {name?: string}[])[0]?.name === 'web-9'), 'the event after the return')
    t.is(warnings.length, 2)
    t.regex(warnings[1], /is reachable again/)
  } finally {
    await c.stop()
    await api.stop()
  }
})

test('live: an API that accepts connections but never answers: the start waits a bounded time, one warning', async (t) => {
  const held: http.ServerResponse[] = []
  const hang = http.createServer((_req, res) => void held.push(res))
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`
  const warnings: string[] = []
  const live = new K8sLive((await resolveK8s({apiUrl: url, nodeName: 'node-1'}, {}, '/nonexistent-sa'))!, {onWarning: (w) => warnings.push(w)})
  try {
    await live.ready(300)
    t.deepEqual(warnings, [`kubernetes API ${url} did not answer within 0.3 s: capturing without k8s metadata until it answers`])
    t.true(held.length >= 1, 'the list was asked')
  } finally {
    await live.stop()
    for (const r of held) r.destroy()
    hang.closeAllConnections()
    await new Promise<void>((r) => hang.close(() => r()))
  }
})

test('live: K8sEvents and MODIFIED pods queued, drained in order (Pod rewritten before its event)', async (t) => {
  await withApi(async (api) => {
    api.seed('/api/v1/pods', pod('web-0', 'u-1', {app: 'web'}, {containerID: `containerd://${CID}`}))
    api.seed('/api/v1/services', service('web', 's-1', {app: 'web'}))
    const live = new K8sLive((await resolveK8s({apiUrl: api.url, nodeName: 'node-1'}, {}, '/nonexistent-sa'))!, {onWarning: (w) => t.fail(w)})
    void live.start()
    try {
      await live.ready(5000)
      await until(() => [...api.collections.keys()].every((p) => api.watches(p).length === 1), 'the 9 watches')
      const out: SysFlowRecord[] = []
      t.is(live.context.exportPod('ab12cd34ef56', out), 'u-1')
      t.deepEqual((out[0] as Pod).services!.map((s) => s.clusterIP), [[ipOf('10.96.0.10')[0]]])
      api.emit('/api/v1/pods', 'MODIFIED', pod('web-0', 'u-1', {app: 'web', v: '2'}, {containerID: `containerd://${CID}`}))
      await until(() => live.k8sEvents === 10, '9 lists and the MODIFIED pod') // two watch streams keep no order between them
      api.emit('/api/v1/events', 'ADDED', {metadata: {name: 'web-0.1', namespace: 'shop', uid: 'e-1'}, reason: 'Started', message: 'Started container app', involvedObject: {kind: 'Pod', name: 'web-0'}})
      await until(() => live.k8sEvents === 11, '9 lists and 2 events')
      out.length = 0
      live.drain(out)
      const desc = out.map((r) => (r.kind === Kind.K8sEvent ? `KE:${r.component}:${r.action}` : r.kind === Kind.Pod ? `Pod:${JSON.stringify(r.labels)}` : '?'))
      t.is(desc.filter((d) => d === 'KE:K8S_PODS:K8S_COMPONENT_ADDED').length, 1)
      t.deepEqual(desc.slice(-3), ['Pod:{"app":"web","v":"2"}', 'KE:K8S_PODS:K8S_COMPONENT_MODIFIED', 'KE:K8S_UNKNOWN:K8S_COMPONENT_ADDED'])
      t.is(out.length, 12)
    } finally {
      await live.stop()
    }
  })
})
