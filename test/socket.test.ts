// The socket output (the collector's -u): a SEQPACKET listener made with the same libc binding reads what we
// send, and avsc decodes each message on its own against the v5 schema (one bare SysFlow datum per message, the
// way sf-processor's streaming driver reads them). Exact counts and values against the source's own records.
import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'
import {spawn} from 'node:child_process'
import {setTimeout as sleep} from 'node:timers/promises'
import avro from 'avsc'
import {socketWriter, SysFlowDriver} from '../src/index.js'
import {avscBigintLong} from '../src/format/avro/avsc-long.js'
import {fileInput, readTrace} from '../src/format/reader.js'
import {sysflowSchema} from '../src/format/schema.js'
import {SysFlowRecord} from '../src/format/records.js'
import {captureToFile} from '../src/capture/run.js'
import {findSystemLibscap} from '../src/native/loader.js'
import {SeqPacketListener, SeqPacketSocket} from '../src/native/seqpacket.js'
import {runCli} from './helpers/cli.js'
import {sharedDir} from './helpers/shared.js'
import {withTempDir} from './helpers/tmp.js'

const V5 = 'test/fixtures/v5.sf'
const LongType = avscBigintLong as unknown as avro.Type
// A fresh registry each time: avsc records the named types it defines in it.
const avscOptions = () => ({wrapUnions: true, registry: {long: LongType}, typeHook: (x: avro.Schema) => (typeof x === 'object' && (x as {type?: unknown}).type === 'long' ? LongType : undefined)})
const V5_TYPE = avro.Type.forSchema(sysflowSchema('5') as avro.Schema, avscOptions())

/** A datum as comparable text: bigints and bytes exact. */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))
}

/** Each message decoded alone (avsc throws on a short message and on trailing bytes). */
function decodeEach(msgs: Buffer[]): string[] {
  return msgs.map((m) => show(V5_TYPE.fromBuffer(m)))
}

/** A .sf file's records as avsc reads them (its own container reader). */
async function avscFile(file: string): Promise<string[]> {
  const out: string[] = []
  await new Promise<void>((resolve, reject) => {
    avro
      .createFileDecoder(file, {parseHook: (s: avro.Schema) => avro.Type.forSchema(s, avscOptions())})
      .on('data', (r: unknown) => out.push(show(r)))
      .on('error', reject)
      .on('end', resolve)
  })
  return out
}

async function typedRecords(file: string): Promise<SysFlowRecord[]> {
  const out: SysFlowRecord[] = []
  for await (const b of readTrace(fileInput(file))) out.push(...b.records)
  return out
}

/** A processor stand-in: accepts connections one after another and keeps every message. */
class Listener {
  readonly messages: Buffer[] = []
  connections = 0
  private readonly l: SeqPacketListener
  private stopped = false
  readonly done: Promise<void>

  constructor(readonly path: string) {
    this.l = new SeqPacketListener(path)
    this.done = this.loop()
  }

  private async loop(): Promise<void> {
    const buf = Buffer.alloc(1 << 16)
    while (!this.stopped) {
      let conn: SeqPacketSocket
      try {
        conn = await this.l.accept()
      } catch {
        return // closed
      }
      this.connections++
      for (;;) {
        const m = conn.recv(buf)
        if (m === undefined) {
          if (this.stopped) break
          await sleep(5)
          continue
        }
        if (m.length === 0) break // the writer closed
        this.messages.push(m)
      }
      conn.close()
    }
  }

  /** Go away: the connection, the listening socket and its file. */
  async close(): Promise<void> {
    // The reading loop closes its connection itself.
    this.stopped = true
    this.l.close()
    await this.done
    fs.rmSync(this.path, {force: true})
  }

  async waitFor(n: number): Promise<void> {
    for (let i = 0; i < 500 && this.messages.length < n; i++) await sleep(10)
  }
}

async function withListener<T>(body: (sock: string, dir: string, listen: () => Listener) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const sock = path.join(dir, 'sysflow.sock')
    const made: Listener[] = []
    try {
      return await body(sock, dir, () => {
        const l = new Listener(sock)
        made.push(l)
        return l
      })
    } finally {
      for (const l of made) await l.close()
    }
  })
}

test.serial('socketWriter: every record of v5.sf, one message each, decoded alone with the v5 schema', async (t) => {
  await withListener(async (sock, _dir, listen) => {
    const l = listen()
    const recs = await typedRecords(V5)
    const w = socketWriter(sock)
    for (const r of recs) {
      const p = w.write(r)
      if (p) await p
    }
    const res = await w.close()
    const want = await avscFile(V5)
    t.is(want.length, recs.length)
    t.deepEqual({records: res.records, dropped: res.dropped, connects: res.connects}, {records: want.length, dropped: 0, connects: 1})
    await l.waitFor(want.length)
    t.is(l.messages.length, want.length)
    t.deepEqual(decodeEach(l.messages), want)
    t.true(show(V5_TYPE.fromBuffer(l.messages[0])).includes('SFHeader'), 'the header comes first')
  })
})

test.serial('socketWriter: a processor slower than us: the full socket is waited for, nothing dropped', async (t) => {
  await withListener(async (sock, _dir, listen) => {
    const recs = await typedRecords(V5)
    const events = recs.filter((r) => r.kind >= 4 && r.kind !== 10)
    const l = listen()
    const w = socketWriter(sock, {queueRecords: 1000})
    // Far more messages than a unix socket queues (max_dgram_qlen, 512 by default): send says EAGAIN and we wait.
    const rounds = 300
    let waited = 0
    for (const r of recs) await w.write(r)
    for (let i = 0; i < rounds; i++) {
      for (const e of events) {
        const p = w.write(e)
        if (p) {
          waited++
          await p
        }
      }
    }
    const res = await w.close()
    t.is(res.dropped, 0)
    t.is(res.records, recs.length + rounds * events.length)
    t.true(waited > 0, 'write() asked the producer to wait')
    await l.waitFor(res.records)
    t.is(l.messages.length, res.records)
    const got = decodeEach(l.messages)
    const one = (await avscFile(V5)).filter((_x, i) => recs[i].kind >= 4 && recs[i].kind !== 10)
    t.deepEqual(got.slice(-one.length), one, 'the last round, exact')
  })
})

test.serial('socketWriter: a processor that starts listening late gets everything (retry with backoff)', async (t) => {
  await withListener(async (sock, _dir, listen) => {
    const warnings: string[] = []
    const recs = await typedRecords(V5)
    const w = socketWriter(sock, {retryMs: 10, maxRetryMs: 40, onWarning: (m) => warnings.push(m)})
    for (const r of recs) await w.write(r)
    t.is(w.queued, recs.length, 'all queued while nobody listens')
    await sleep(150)
    const l = listen()
    const res = await w.close()
    t.deepEqual({records: res.records, dropped: res.dropped, connects: res.connects}, {records: recs.length, dropped: 0, connects: 1})
    await l.waitFor(recs.length)
    t.deepEqual(decodeEach(l.messages), await avscFile(V5))
    t.regex(warnings[0], /^socket .*sysflow\.sock: cannot connect \(.*\); retrying$/)
    t.regex(warnings[warnings.length - 1], /: connected$/)
  })
})

test.serial('socketWriter: a processor that goes away: what cannot be sent is counted as dropped, exactly', async (t) => {
  await withListener(async (sock, _dir, listen) => {
    const warnings: string[] = []
    const recs = await typedRecords(V5)
    const l = listen()
    const w = socketWriter(sock, {queueRecords: 8, retryMs: 10, maxRetryMs: 20, closeTimeoutMs: 200, onWarning: (m) => warnings.push(m)})
    const first = 6
    for (const r of recs.slice(0, first)) await w.write(r)
    const sent = w.sent
    await l.waitFor(sent)
    t.is(l.messages.length, sent)
    await l.close()
    const rest = recs.length - first
    t.true(rest > 8, 'more records than the queue holds')
    for (const r of recs.slice(first)) await w.write(r)
    const res = await w.close()
    t.is(res.records, sent)
    t.is(res.dropped, rest, 'every record written after the processor left is dropped and counted')
    t.true(warnings.some((m) => /the processor went away \(send: [A-Z]+\); reconnecting/.test(m)), warnings.join('\n'))
    t.deepEqual(decodeEach(l.messages), (await avscFile(V5)).slice(0, sent))
  })
})

test.serial('socketWriter: reconnects after the processor restarts, header and entities sent again', async (t) => {
  await withListener(async (sock, _dir, listen) => {
    const recs = await typedRecords(V5)
    const l1 = listen()
    const w = socketWriter(sock, {retryMs: 10, maxRetryMs: 20})
    const half = Math.floor(recs.length / 2)
    for (const r of recs.slice(0, half)) await w.write(r)
    await l1.waitFor(w.sent)
    await l1.close()
    const l2 = listen()
    for (const r of recs.slice(half)) await w.write(r)
    const res = await w.close()
    t.is(res.connects, 2)
    t.is(res.dropped, 0)
    await l2.waitFor(res.records - l1.messages.length)
    t.is(l1.messages.length + l2.messages.length, res.records)
    const second = decodeEach(l2.messages)
    t.true(second[0].includes('SFHeader'), 'a new connection starts with the header')
    // Every event on the new connection refers to a process this connection carried before it (entities resent).
    const procs = new Set<string>()
    let checked = 0
    for (const m of l2.messages) {
      const [name, v] = Object.entries((V5_TYPE.fromBuffer(m) as {rec: Record<string, {oid?: unknown; procOID?: unknown}>}).rec)[0]
      if (name === 'sysflow.entity.Process') procs.add(show(v.oid))
      else if (v.procOID !== undefined) {
        t.true(procs.has(show(v.procOID)), `${name} at ${checked}: its process was sent first on this connection`)
        checked++
      }
    }
    t.true(checked > 0)
    // Every event of the second half reached the second processor, in order.
    const want = await avscFile(V5)
    const events = (xs: string[]) => xs.filter((x) => !/"sysflow\.entity\./.test(x.slice(0, 30)))
    t.deepEqual(events(second), events(want.slice(half)))
  })
})

test.serial('SysFlowDriver socketPath: the events the callback gets, each after its entities', async (t) => {
  await withListener(async (sock, _dir, listen) => {
    const l = listen()
    let n = 0
    const stats = await new SysFlowDriver({input: V5, socketPath: sock, callback: () => void n++}).run()
    t.truthy(stats.socket)
    t.is(stats.socket!.dropped, 0)
    await l.waitFor(stats.socket!.records)
    t.is(l.messages.length, stats.socket!.records)
    const got = decodeEach(l.messages)
    const want = await avscFile(V5)
    const isEntity = (x: string) => /^\{"rec":\{"sysflow\.entity\./.test(x)
    t.deepEqual(got.filter((x) => !isEntity(x)), want.filter((x) => !isEntity(x)))
    t.is(got.filter((x) => !isEntity(x)).length, n)
    for (const e of got.filter(isEntity)) t.true(want.includes(e), `an entity of the trace: ${e.slice(0, 80)}`)
  })
})

const collectorDir = sharedDir('traces', 'collector')
const haveLibscap = Boolean(process.env.SYSFLOW_LIBSCAP) || findSystemLibscap() !== undefined
const scapTest = haveLibscap && collectorDir ? test.serial : test.skip
if (!haveLibscap || !collectorDir) test('capture --socket: SKIPPED (needs libscap and ../shared/traces/collector)', (t) => t.pass())

scapTest('capture -r --socket: the records capture -r writes to a file, one message each', async (t) => {
  const scap = path.join(collectorDir!, 'files', 'files.scap')
  await withListener(async (sock, dir, listen) => {
    const sf = path.join(dir, 'files.sf')
    await captureToFile({input: scap, output: sf})
    // The header names the output file; on a socket there is none (the collector leaves it empty).
    const want = (await avscFile(sf)).map((x, i) => (i === 0 ? x.replace(`"filename":${JSON.stringify(sf)}`, '"filename":""') : x))
    const l = listen()
    const stats = await captureToFile({input: scap, output: '', socket: sock})
    t.is(stats.socketDropped, 0)
    t.is(stats.records, want.length)
    await l.waitFor(want.length)
    t.deepEqual(decodeEach(l.messages), want)
    t.true(want.length > 40, `${want.length} records`)
  })
})

scapTest('CLI: capture -r X --socket PATH, through the real command', async (t) => {
  const scap = path.join(collectorDir!, 'files', 'files.scap')
  await withListener(async (sock, dir, listen) => {
    const sf = path.join(dir, 'files.sf')
    const file = runCli(['capture', '-r', scap, '-o', sf])
    t.is(file.status, 0, file.stderr)
    const want = (await avscFile(sf)).map((x, i) => (i === 0 ? x.replace(`"filename":${JSON.stringify(sf)}`, '"filename":""') : x))
    const l = listen()
    const child = spawn(process.execPath, [path.resolve('bin/run.js'), 'capture', '-r', scap, '--socket', sock, '--stats'], {stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    t.is(code, 0, err)
    t.regex(err, new RegExp(`, ${want.length} records written,`))
    await l.waitFor(want.length)
    t.deepEqual(decodeEach(l.messages), want)
  })
})

scapTest('CLI: capture --socket with no processor: retried, then every record counted as dropped, exit 1', async (t) => {
  const scap = path.join(collectorDir!, 'files', 'files.scap')
  await withTempDir(async (dir) => {
    const sock = path.join(dir, 'nobody.sock')
    const file = runCli(['capture', '-r', scap, '-o', path.join(dir, 'f.sf')])
    t.is(file.status, 0, file.stderr)
    const n = (await avscFile(path.join(dir, 'f.sf'))).length
    // Waits closeTimeoutMs (10 s) for a processor that never comes.
    const r = runCli(['capture', '-r', scap, '--socket', sock, '--stats'])
    t.is(r.status, 1, r.stderr)
    t.regex(r.errLines[0], /^sysflow: warning: socket .*nobody\.sock: cannot connect \(No such file or directory.*\); retrying$/)
    t.true(r.errLines.includes(`sysflow: warning: ${sock}: ${n} records dropped (the processor was not taking them)`), r.stderr)
    t.regex(r.stderr, /, 0 records written,/)
  })
})

test.serial('CLI: capture needs exactly one of -o and --socket', (t) => {
  const none = runCli(['capture', '-r', 'x.scap'])
  t.is(none.status, 2)
  t.is(none.stderr, 'sysflow: error: Exactly one of the following must be provided: --output, --socket\n')
  const both = runCli(['capture', '-r', 'x.scap', '-o', 'a.sf', '--socket', '/tmp/x.sock'])
  t.is(both.status, 2)
  t.regex(both.stderr, /^sysflow: error: --output cannot also be provided when using --socket/)
  const rotate = runCli(['capture', '-r', 'x.scap', '--socket', '/tmp/x.sock', '-G', '5'])
  t.is(rotate.stderr, 'sysflow: error: --rotate=5 cannot also be provided when using --socket\n')
  t.is(rotate.status, 2)
})
