// Live capture through sysflow's own eBPF probe: probe records -> libscap events -> the same capture loop and
// Collector as a .scap file. Records are decoded one at a time, in order, because a fork takes its parent's state
// (exe, args, cwd) from the Collector as it is at that point. Stopping (a signal, --duration) detaches the probe
// first and then drains what is already in the ring buffer, so the output ends with every recorded call; the
// capture loop then flushes the open flows with OP_TRUNCATE.
import fs from 'node:fs'
import os from 'node:os'
import {BpfProbe, SF_HDR_BYTES} from '../../native/bpf.js'
import {END, NEED_MORE} from '../../native/savefile.js'
import {Collector} from '../collector.js'
import {CaptureBatch, CaptureOptions, CaptureStats, EventSource, run} from '../index.js'
import {containerFromCgroups} from './cgroup.js'
import {containerJson, describeContainer, DescribeOptions} from './docker.js'
import {containerFromJson} from '../state.js'
import {ProcScan, scanProc} from './procfs.js'
import {LIVE_EVENT_TABLE} from './events.js'
import {GoneThreads} from './purge.js'
import {K_EXIT, RecordDecoder, syscallsFor} from './records.js'
import type {K8sSetup} from '../k8s/config.js'
import {K8sLive} from '../k8s/live.js'

export interface EbpfOptions extends CaptureOptions {
  /** The start state (default: procfs.ts's scan of /proc, as libscap's). */
  initialState?: () => Pick<ProcScan, 'threads' | 'users'>
  /** Where container names and images are asked (docker/podman sockets, timeout); false: not asked. */
  containerRuntime?: DescribeOptions | false
  /** Probe object path (default: the committed one). */
  probeObject?: string
  /** Called once the probe is attached and the start state read: from here on, every call is recorded. */
  onReady?: () => void
  /** Kubernetes API (k8s/config.ts): Pod records for containers, K8sEvent records; warnings to `onK8sWarning`. */
  k8s?: K8sSetup
  onK8sWarning?: (message: string) => void
  /** How long the start waits for the pods to be listed (ms, default 3000); the capture goes on without them. */
  k8sWaitMs?: number
}

/** Probe-level counters of the last eBPF capture (records read, lost in the kernel). */
export interface EbpfStats {
  probeRecords: number
  lost: bigint
}

export async function* captureLiveEbpf(opts: EbpfOptions = {}, stats = new CaptureStats(), probeStats?: EbpfStats): AsyncGenerator<CaptureBatch> {
  const probe = BpfProbe.openSync(opts.probeObject)
  const k8s = opts.k8s ? new K8sLive(opts.k8s, {onWarning: opts.onK8sWarning ?? (() => {})}) : undefined
  try {
    const c = new Collector(LIVE_EVENT_TABLE, k8s ? {...opts, pods: k8s.context} : opts)
    // The pods listed before the probe is attached (bounded): no ring-buffer data waits meanwhile.
    if (k8s) await k8s.ready(opts.k8sWaitMs ?? 3000)
    probe.configure(process.pid, syscallsFor(opts.mode ?? 'flow'))
    // Attach before the scan: a process that starts in between is then seen twice rather than not at all.
    probe.attach()
    const init = (opts.initialState ?? scanProc)()
    c.loadState(init.threads, init.users)
    // Container names and images from the runtime's socket (bounded wait each), for the containers of the start
    // state now, and for a container first seen in an event as its answer comes; 'incomplete' until then.
    const described: Promise<void>[] = []
    const describe = (cgroups: readonly string[]): Promise<void> => {
      const m = containerFromCgroups(cgroups)
      if (!m || opts.containerRuntime === false) return Promise.resolve()
      return describeContainer(m, opts.containerRuntime).then((rc) => {
        const info = containerFromJson(containerJson(rc))
        if (info && rc.name !== 'incomplete') answers.push(info)
      })
    }
    const answers: NonNullable<ReturnType<typeof containerFromJson>>[] = []
    const startIds = new Set<string>()
    for (const t of init.threads) {
      const m = containerFromCgroups(t.cgroups)
      if (m && !startIds.has(m.id)) {
        startIds.add(m.id)
        described.push(describe(t.cgroups))
      }
    }
    await Promise.all(described)
    c.onNewContainer = (cgroups) => void describe(cgroups)
    const applyAnswers = (): void => {
      while (answers.length > 0) c.addContainer(answers.shift()!)
    }
    applyAnswers()
    stats.hostname = os.hostname()
    const ring = probe.ringReader()
    opts.onReady?.()
    // The probe stamps CLOCK_MONOTONIC (as process.hrtime); records carry wall-clock time.
    const offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
    const deadline = opts.durationSec !== undefined ? Date.now() + opts.durationSec * 1000 : Infinity
    const userStop = opts.shouldStop
    // the events of the record being read, in place in the decoder's buffer
    let qpos = 0
    const offs: number[] = []
    // Reads and writes straight into the collector, unless rotation or an event limit needs each event's time.
    const direct = opts.onRotate === undefined && opts.maxEvents === undefined
    const dec = new RecordDecoder(c, offset, (_ev, at) => {
      offs.push(at)
    }, direct)
    const onRecord = (d: Buffer, at: number, len: number) => dec.record(d, at, len)
    let draining = false
    let outMark = 0
    let sinceCheck = 0
    let lastData = 0
    let lastSweep = Date.now()
    let leftovers: Buffer[] | undefined
    /**
     * Stop asked (signal, --duration): detach, then read what is left. Checked every 1024 records under load, and
     * every 100 ms the probe is asked to flush its older read/write aggregates (sysflow.bpf.c).
     */
    const checkStop = (): void => {
      sinceCheck = 0
      if (answers.length > 0) applyAnswers()
      k8s?.drain(c.out, (id) => c.relinkPod(id))
      const now = Date.now()
      if (!draining && now - lastSweep >= 100) {
        lastSweep = now
        probe.sweep()
        purge(now)
      }
      if (!draining && (userStop?.() || now >= deadline)) {
        probe.detach()
        draining = true
      }
    }
    // After drops, threads whose exit was lost are ended as an exit would (purge.ts), checked every 10 s, one
    // synthetic exit record at a time between ring records.
    const gone = new GoneThreads()
    let lastPurge = Date.now()
    const toEnd: number[] = []
    const exitRec = Buffer.alloc(SF_HDR_BYTES)
    const purge = (now: number): void => {
      if (now - lastPurge < 10_000) return
      lastPurge = now
      toEnd.push(...gone.check(probe.counters().lost, c.threads, (tid) => fs.existsSync(`/proc/${tid}`)))
      if (toEnd.length > 0) stats.purgedThreads += toEnd.length
    }
    /** The next synthetic exit, decoded; false when none is waiting. */
    const endOne = (): boolean => {
      const tid = toEnd.shift()
      if (tid === undefined) return false
      const t = c.threads.get(tid)
      if (t === undefined) return endOne()
      exitRec.writeBigUInt64LE(process.hrtime.bigint(), 0)
      exitRec.writeUInt32LE(tid, 8)
      exitRec.writeUInt32LE(t.pid, 12)
      exitRec.writeUInt16LE(K_EXIT, 16)
      exitRec.writeUInt16LE(SF_HDR_BYTES, 18)
      onRecord(exitRec, 0, SF_HDR_BYTES)
      return true
    }
    /** After detach and the ring read to its end: the aggregates still in the kernel; false when none are left. */
    const takeLeftover = (): boolean => {
      leftovers ??= probe.takeIoAggregates()
      const r = leftovers.shift()
      if (r === undefined) return false
      onRecord(r, 0, r.length)
      return true
    }
    const src: EventSource = {
      get event() {
        return dec.events
      },
      now: () => process.hrtime.bigint() + offset,
      next(): number {
        for (;;) {
          if (qpos < offs.length) return offs[qpos++]
          offs.length = 0
          qpos = 0
          if (++sinceCheck >= 1024) checkStop()
          // records written by direct calls: back to the capture loop to hand them on (once per 4096)
          if (c.out.length < outMark) outMark = 0
          if (c.out.length - outMark >= 4096) {
            outMark = c.out.length
            return NEED_MORE
          }
          if (toEnd.length > 0 && endOne()) continue
          if (ring.drain(onRecord, 1) === 0) {
            if (!draining) return NEED_MORE
            if (!takeLeftover()) return END
          }
        }
      },
      async refill(): Promise<boolean> {
        checkStop()
        if (draining || ring.backlog() > 0) return true
        // Busy: a 1 ms timer is far cheaper than a poll() on a worker thread, and the ring holds plenty for 1 ms.
        // Idle (nothing for 100 ms): poll, so an idle capture costs nothing.
        if (Date.now() - lastData < 100) await new Promise((r) => setTimeout(r, 1))
        else await ring.wait(10)
        if (ring.backlog() <= 0) return false
        lastData = Date.now()
        return true
      },
    }
    yield* run(c, src, {...opts, shouldStop: undefined, durationSec: undefined}, stats, () => {
      k8s?.drain(c.out, (id) => c.relinkPod(id))
      const k = probe.counters()
      stats.drops = k.lost
      if (probeStats) {
        probeStats.probeRecords = dec.records
        probeStats.lost = k.lost
      }
    })
  } finally {
    probe.close()
    await k8s?.stop()
  }
}
