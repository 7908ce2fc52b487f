// The capture command's library call: source (offline .scap or live driver) -> collector -> filtered .sf output,
// with rotation, signals (SIGINT/SIGTERM stop, flush with OP_TRUNCATE, close a valid file) and stats.
import {Joined} from '../format/join.js'
import {CaptureBatch, captureBatches, captureLive, CaptureOptions, CaptureStats, CollectionMode} from './index.js'
export {CaptureInputError} from './index.js'
import {CaptureOutput} from './output.js'
import {SocketOutput} from './socket-output.js'
import {Driver, explainLiveError, preflight, preflightEbpf, resolveDriver} from './preflight.js'
import {captureLiveEbpf, EbpfStats} from './live/ebpf.js'
import {findLibbpf} from '../native/bpf.js'
import {ScapError} from '../native/scap.js'
import {ScapFormatError} from '../native/savefile.js'
import {K8sConfigError, K8sFlags, resolveK8s} from './k8s/config.js'

export interface CaptureRunOptions {
  input?: string
  /** The .sf file or directory; ignored when `socket` is given. */
  output: string
  /** Stream to the SysFlow processor's unix socket (the collector's -u) instead of writing files. */
  socket?: string
  /** Socket output: connection lost, not reachable, reconnected (one line each). */
  onSocketWarning?: (message: string) => void
  rotateSec?: number
  exporter?: string
  nodeIp?: string
  mode?: CollectionMode
  filter?: (j: Joined) => boolean
  containersOnly?: boolean
  durationSec?: number
  maxEvents?: number
  compat?: 'collector'
  driver?: Driver | 'auto'
  libscap?: string
  fileReadMode?: 0 | 1 | 2
  /** Live eBPF: called once the probe is attached (every later call is recorded). */
  onReady?: () => void
  /** Replace an existing output file. */
  force?: boolean
  /** A damaged or truncated capture was converted up to the damage (the output is valid); exit code 1. */
  onDamage?: (e: ScapFormatError) => void
  /** Live: Kubernetes pod metadata and K8sEvents (--k8s, --k8s-api, --kubeconfig, --node-name). */
  k8s?: K8sFlags
  /** Kubernetes API unreachable, back, or refusing (one line each). */
  onK8sWarning?: (message: string) => void
}

export interface CaptureRunStats {
  events: number
  records: number
  skippedUnknownEvents: number
  malformedEvents: number
  drops: bigint
  files: number
  seconds: number
  /** Socket output: records dropped because the processor was away (queue full, or still queued at the end). */
  socketDropped?: number
  /** eBPF driver: records read from the probe, and lost in the kernel (ring buffer full). */
  probeRecords?: number
  /** eBPF driver, after drops: threads ended because /proc no longer listed them (their exit was dropped). */
  purgedThreads?: number
}

export async function captureToFile(o: CaptureRunOptions): Promise<CaptureRunStats> {
  const t0 = process.hrtime.bigint()
  const live = o.input === undefined
  const driver = resolveDriver(o.driver ?? 'auto')
  if (!live && o.k8s?.mode === 'on') throw new K8sConfigError('--k8s on needs a live capture (Kubernetes metadata is read at capture time, not from a .scap file)')
  const k8s = live ? await resolveK8s(o.k8s ?? {}) : undefined
  if (k8s && driver !== 'ebpf') o.onK8sWarning?.(`Kubernetes metadata is collected with --driver ebpf only; capturing without it`)
  if (live && driver === 'ebpf') preflightEbpf(() => findLibbpf())
  else if (live) preflight(driver)
  const probe: EbpfStats = {probeRecords: 0, lost: 0n}
  let stop = false
  const onSignal = () => {
    stop = true
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const rotNs = o.rotateSec !== undefined ? BigInt(o.rotateSec) * 1_000_000_000n : undefined
  let fileStart = -1n
  // Rotation follows event time offline and the wall clock live.
  const wallOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
  const clock = (ts: bigint) => (live ? process.hrtime.bigint() + wallOffset : ts)
  const opts: CaptureOptions = {
    exporter: o.exporter, nodeIp: o.nodeIp, filename: o.socket === undefined ? o.output : '', mode: o.mode, compat: o.compat, containersOnly: o.containersOnly,
    durationSec: o.durationSec, maxEvents: o.maxEvents, libscap: o.libscap, shouldStop: () => stop, onDamage: o.onDamage,
    fileReadMode: o.fileReadMode,
    onRotate: rotNs === undefined ? undefined : (ts) => {
      const now = clock(ts)
      if (fileStart < 0n) {
        fileStart = now
        return false
      }
      if (now - fileStart >= rotNs) {
        fileStart = now
        return true
      }
      return false
    },
  }
  const stats = new CaptureStats()
  const sock = o.socket === undefined ? undefined : new SocketOutput(o.socket, {filter: o.filter, onWarning: o.onSocketWarning})
  let socketDropped: number | undefined
  const out = sock
    ? {write: (b: CaptureBatch) => sock.writeBatch(b), close: async () => void (socketDropped = (await sock.close()).dropped), abort: () => sock.abort(), get written() { return sock.sent }, files: []}
    : new CaptureOutput({path: o.output, filter: o.filter, force: o.force})
  try {
    let src
    try {
      src = !live ? captureBatches(o.input!, opts, stats) : driver === 'ebpf' ? captureLiveEbpf({...opts, onReady: o.onReady, k8s, onK8sWarning: o.onK8sWarning}, stats, probe) : captureLive(opts, stats)
      for await (const b of src) await out.write(b)
    } catch (e) {
      if (live && e instanceof ScapError) throw explainLiveError(e.message)
      throw e
    }
    await out.close()
  } catch (e) {
    out.abort()
    throw e
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return {
    events: stats.events, records: out.written, skippedUnknownEvents: stats.skippedUnknownEvents, malformedEvents: stats.malformedEvents,
    drops: stats.drops, files: out.files.length, seconds: Number(process.hrtime.bigint() - t0) / 1e9, socketDropped,
    probeRecords: live && driver === 'ebpf' ? probe.probeRecords : undefined,
    purgedThreads: live && driver === 'ebpf' ? stats.purgedThreads : undefined,
  }
}
