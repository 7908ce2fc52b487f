// Exact answers on k8s_small.sf (schema v4, pods and k8s events). Expected values come from the reference sysprint
// output (../shared/reference/sysprint: one JSON object per record, joined by the Python tool) and from a plain
// scan of the raw records, never from our own queries; the main figures are also written out literally.
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import test from 'ava'
import {fileInput, readTrace} from '../src/format/reader.js'
import {Kind, Pod} from '../src/format/records.js'
import {loadTraces, QuerySession} from '../src/query/index.js'
import {sharedPath} from './helpers/shared.js'
import {parseJsonExact} from './helpers/json-exact.js'

const TRACE = sharedPath('traces/sysflow/sf-processor/k8s_small.sf')
const REF = sharedPath('reference/sysprint/sysflow__sf-processor__k8s_small.json.gz')
const KE_REF = sharedPath('reference/sysprint/k8s_small.ke.json')

interface RefRecord {
  type: string
  ts_uts: number | bigint
  pod: {name: string; ns: string; services: {clusterIP: string[]}[] | ''}
  flow: {rbytes: number | null; wbytes: number | null}
  k8s: {kind: string; action: string; msg: string}
}

if (![TRACE, REF, KE_REF].every((f) => fs.existsSync(f))) {
  test.skip('k8s_small queries: SKIPPED, ../shared/traces or ../shared/reference not found', () => {})
} else {
  const ref: RefRecord[] = zlib.gunzipSync(fs.readFileSync(REF)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RefRecord)
  const keRef: RefRecord[] = fs.readFileSync(KE_REF, 'utf8').split('\n').filter(Boolean).map((l) => parseJsonExact(l) as unknown as RefRecord)

  let session: QuerySession
  test.before(async () => {
    session = await QuerySession.open()
    await loadTraces(session, [fileInput(TRACE)], {workers: 0})
  })
  test.after.always(() => session?.close())
  const rows = async (sql: string) => (await session.connection.runAndReadAll(sql)).getRows()

  test('the reference has every event and flow record', async (t) => {
    const [[n]] = await rows('SELECT count(*) FROM events')
    t.is(Number(n), ref.length)
    t.is(ref.length, 5247)
  })

  test('pods per namespace (distinct pods seen in events)', async (t) => {
    const expected: Record<string, number> = {}
    const seen = new Set<string>()
    for (const r of ref) {
      if (!r.pod.name || seen.has(`${r.pod.ns}/${r.pod.name}`)) continue
      seen.add(`${r.pod.ns}/${r.pod.name}`)
      expected[r.pod.ns] = (expected[r.pod.ns] ?? 0) + 1
    }
    t.deepEqual(expected, {'robot-shop': 10, 'kube-system': 7, sysflow: 1})
    const got = Object.fromEntries((await rows('SELECT pod_namespace, count(DISTINCT pod_name) FROM events WHERE pod_name IS NOT NULL GROUP BY 1')).map(([k, n]) => [k as string, Number(n)]))
    t.deepEqual(got, expected)
  })

  test('pods per namespace (the pods table: the Pod records themselves)', async (t) => {
    const expected: Record<string, number> = {}
    for await (const b of readTrace(fileInput(TRACE))) for (const r of b.records) if (r.kind === Kind.Pod) expected[(r as Pod).namespace!] = (expected[(r as Pod).namespace!] ?? 0) + 1
    t.is(Object.values(expected).reduce((a, b) => a + b, 0), 19)
    const got = Object.fromEntries((await rows('SELECT namespace, count(*) FROM pods GROUP BY 1')).map(([k, n]) => [k as string, Number(n)]))
    t.deepEqual(got, expected)
  })

  test('the cluster IPs of the services behind each pod', async (t) => {
    const expected: Record<string, string[]> = {}
    for (const r of ref) {
      if (!r.pod.name || !Array.isArray(r.pod.services)) continue
      const set = new Set(expected[r.pod.name] ?? [])
      for (const s of r.pod.services) for (const ip of s.clusterIP) set.add(ip)
      if (set.size) expected[r.pod.name] = [...set].sort()
    }
    t.deepEqual(expected['redis-0'], ['10.111.214.104'])
    t.deepEqual(expected['rabbitmq-785b678f74-mhhtg'], ['10.109.218.161'])
    t.is(Object.keys(expected).length, 9)
    // Every cluster IP of every service, through JSON paths over the JSON column.
    const got: Record<string, string[]> = {}
    for (const [pod, ips] of await rows(`
        SELECT pod_name, list_sort(list_distinct(flatten(list(json_extract_string(pod_services, '$[*].clusterIP[*]')))))
        FROM events WHERE pod_name IS NOT NULL GROUP BY pod_name`)) {
      const list = (ips as {items: string[]}).items
      if (list.length) got[pod as string] = [...list]
    }
    t.deepEqual(got, expected)
    // The first cluster IP of the first service, the documented way (`->>` gives text).
    const first = Object.fromEntries((await rows(`SELECT DISTINCT pod_name, pod_services->>'$[0].clusterIP[0]' FROM events WHERE (pod_services->>'$[0].clusterIP[0]') IS NOT NULL`)).map(([p, ip]) => [p as string, ip]))
    t.deepEqual(first, Object.fromEntries(Object.entries(expected).map(([p, ips]) => [p, ips[0]])))
  })

  test('the namespaces and kinds of the k8s events', async (t) => {
    const expected = keRef.map((r) => {
      const msg = JSON.parse(r.k8s.msg.replace(/[\s\u0000]+$/, '')) as {items: {namespace: string}[]}
      return `${r.ts_uts} ${r.k8s.kind} ${r.k8s.action} ${msg.items[0].namespace}`
    }).sort()
    t.is(expected.length, 4)
    t.true(expected.every((e) => e.includes(' K8S_PODS ') && e.endsWith(' robot-shop')))
    const got = (await rows(`SELECT ts, ke_kind, ke_action, json_extract_string(ke_message, '$.items[0].namespace') FROM events WHERE type = 'KE'`)).map((r) => r.join(' ')).sort()
    t.deepEqual(got, expected)
    const fromTable = (await rows(`SELECT ts, kind, action, message->>'$.items[0].namespace' FROM k8s_events`)).map((r) => r.join(' ')).sort()
    t.deepEqual(fromTable, expected)
  })

  test('network bytes per pod', async (t) => {
    const expected: Record<string, [number, number]> = {}
    for (const r of ref) {
      if (r.type !== 'NF') continue
      const k = r.pod.name || '(none)'
      const e = (expected[k] ??= [0, 0])
      e[0] += r.flow.rbytes ?? 0
      e[1] += r.flow.wbytes ?? 0
    }
    t.deepEqual(expected['kube-apiserver-minikube'], [391495, 633382])
    t.deepEqual(expected['sysflowagent-9wslt'], [1814, 95751])
    const got = Object.fromEntries((await rows(`SELECT coalesce(pod_name, '(none)'), sum(flow_rbytes), sum(flow_wbytes) FROM events WHERE type = 'NF' GROUP BY 1`)).map(([k, r, w]) => [k as string, [Number(r), Number(w)]]))
    t.deepEqual(got, expected)
  })

  test('JSON columns are DuckDB JSON: path queries and types', async (t) => {
    const [[services, hostip, labels, msg]] = await rows(`SELECT typeof(pod_services), typeof(pod_hostip), typeof(pod_labels), typeof(ke_message) FROM events LIMIT 1`)
    t.deepEqual([services, hostip, labels, msg], ['JSON', 'JSON', 'JSON', 'JSON'])
    const hosts = (await rows(`SELECT DISTINCT pod_hostip->>'$[0]' FROM events WHERE pod_hostip IS NOT NULL`)).map((r) => r[0])
    t.deepEqual(hosts, ['192.168.59.100'])
    const [[n]] = await rows(`SELECT count(*) FROM events WHERE type = 'KE' AND (ke_message->>'$.kind') = 'Pod'`)
    t.is(Number(n), 4)
    const [[endsClean]] = await rows(`SELECT bool_and(NOT contains(ke_message::VARCHAR, chr(0))) FROM events WHERE type = 'KE'`)
    t.true(endsClean as boolean, 'the trailing NUL is gone')
  })

  test('k8s_small through the command line (one process)', async (t) => {
    const {spawnSync} = await import('node:child_process')
    const r = spawnSync(process.execPath, [path.resolve('bin/run.js'), 'query', `SELECT pod_namespace, count(DISTINCT pod_name) AS pods FROM events WHERE pod_name IS NOT NULL GROUP BY 1 ORDER BY 1`, TRACE, '-o', 'csv'], {encoding: 'utf8'})
    t.is(r.status, 0, r.stderr)
    t.is(r.stdout, 'pod_namespace,pods\nkube-system,7\nrobot-shop,10\nsysflow,1\n')
  })
}
