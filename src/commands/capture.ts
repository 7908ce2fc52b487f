import fs from 'node:fs'
import {Flags} from '@oclif/core'
import {commonFlags, forceFlag, SysflowCommand} from '../cli/base.js'
import {formatFromPath} from '../format/convert/formats.js'
import {UsageError} from '../cli/report.js'
import {compileFilter} from '../format/filter/index.js'
import {captureToFile} from '../capture/run.js'

export default class Capture extends SysflowCommand {
  static override summary = 'Capture SysFlow records live (eBPF probe or Falco driver) or from a .scap file.'
  static override description = `Turns Falco/sysdig events into SysFlow records the way the SysFlow collector does (ProcessEvent, ProcessFlow, FileFlow, NetworkFlow, FileEvent and their entities), through libscap (Debian package libfalcosecurity0).

Offline (-r) reads .scap files, gzipped too. Live capture (no -r) uses sysflow's own CO-RE eBPF probe (kernel >= 5.8 with BTF, root or CAP_BPF + CAP_PERFMON, the libbpf1 package), or the Falco kernel module where /dev/scap0 exists; when something is missing the command says what to do and exits with code 3. SIGINT/SIGTERM stop it cleanly: the probe is detached, the events already recorded are read, open flows are written with TRUNCATE and the file is closed.`
  static override examples = [
    '<%= config.bin %> capture -r trace.scap -o trace.sf',
    '<%= config.bin %> capture -r trace.scap.gz -o out/ -G 60 -e node1',
    "<%= config.bin %> capture -r trace.scap -o web.sf -f 'sf.type = NF and sf.net.dport = 80'",
    '<%= config.bin %> capture -o /var/sysflow/ -G 300 --driver ebpf',
  ]
  static override flags = {
    debug: commonFlags.debug,
    output: Flags.string({char: 'o', description: 'Output .sf file, or a directory (existing or ending in /) for rotated files. An existing file needs --force. This or --socket.', exactlyOne: ['output', 'socket']}),
    socket: Flags.string({description: "Stream records to the SysFlow processor's unix socket (SOCK_SEQPACKET, the collector's -u) instead of a file; a processor not listening yet or gone is retried, and records that cannot wait are counted as dropped.", exactlyOne: ['output', 'socket'], exclusive: ['rotate', 'force']}),
    force: forceFlag,
    read: Flags.string({char: 'r', description: 'Read events from this .scap file (gzipped too) instead of the live driver.'}),
    rotate: Flags.integer({char: 'G', description: 'Start a new file every SECONDS (event time offline, wall clock live); needs a directory output.', min: 1}),
    exporter: Flags.string({char: 'e', description: "Exporter id in the header (default: the capture's hostname)."}),
    'node-ip': Flags.string({description: 'Node IP in the header (default: $NODE_IP).'}),
    mode: Flags.string({char: 'm', description: 'Collection mode.', options: ['flow', 'consume', 'nofiles'], default: 'flow'}),
    filter: Flags.string({char: 'f', description: 'Keep only event and flow records matching this SysFlow condition.'}),
    containers: Flags.boolean({char: 'c', description: 'Only events of processes in containers.'}),
    duration: Flags.integer({description: 'Stop after SECONDS (event time offline, wall clock live).', min: 1}),
    'max-events': Flags.integer({description: 'Stop after this many events.', min: 1}),
    stats: Flags.boolean({description: 'Print event, record and drop counts to stderr at the end.'}),
    'file-read-mode': Flags.integer({description: "The collector's FILE_READ_MODE: 0 keeps every file flow (like the golden files); 1 drops every flow under /proc, /dev, /sys and the library directories; 2 only those opened read-only or that only read.", min: 0, max: 2, default: 0}),
    compat: Flags.string({description: "Reproduce the collector's golden output (ignore execveat, clone3, creat, openat2; no read filter).", options: ['collector']}),
    driver: Flags.string({description: "Live driver: ebpf is sysflow's own CO-RE probe (kernel >= 5.8 with BTF, libbpf1); kmod the Falco kernel module (/dev/scap0); bpf libscap's BPF probe (BPF_PROBE); auto picks kmod where /dev/scap* exists, else ebpf.", options: ['auto', 'ebpf', 'kmod', 'bpf'], default: 'auto', exclusive: ['read']}),
    libscap: Flags.string({description: 'Path of libscap.so (default: $SYSFLOW_LIBSCAP, then the system library).'}),
    k8s: Flags.string({description: 'Kubernetes pod metadata (Pod records linked from containers) and K8sEvent records, live: auto is on inside a cluster (KUBERNETES_SERVICE_HOST and a service account token) or when --k8s-api or --kubeconfig is given.', options: ['auto', 'on', 'off'], default: 'auto'}),
    'k8s-api': Flags.string({description: "Kubernetes API server URL (the collector's k8sAPIURL), e.g. http://127.0.0.1:8001 for kubectl proxy."}),
    kubeconfig: Flags.string({description: 'kubeconfig file for the Kubernetes API (default with --k8s on: $KUBECONFIG, then ~/.kube/config).'}),
    'node-name': Flags.string({description: "This node's name: only its pods are watched (default: $NODE_NAME, then the hostname)."}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Capture)
    await this.guard(async (reporter) => {
      const output = flags.output ?? ''
      const format = flags.socket !== undefined || output.endsWith('/') || isDir(output) ? undefined : formatFromPath(output)
      if (format !== undefined && format !== 'sf') {
        // Capture writes SysFlow (.sf) only; convert reads .scap and writes every other format.
        const hint = flags.read === undefined ? 'capture to a .sf file, then sysflow convert it' : `sysflow convert ${flags.read} -o ${output}`
        throw new UsageError(`capture writes .sf files, not ${format}: ${hint}`)
      }
      if (flags.rotate !== undefined && !(output.endsWith('/') || isDir(output))) throw new UsageError('-G needs a directory output (-o DIR/)')
      const stats = await captureToFile({
        input: flags.read, output, socket: flags.socket, rotateSec: flags.rotate, exporter: flags.exporter,
        nodeIp: flags['node-ip'] ?? process.env.NODE_IP, mode: flags.mode as 'flow' | 'consume' | 'nofiles',
        filter: flags.filter === undefined ? undefined : compileFilter(flags.filter), containersOnly: flags.containers,
        durationSec: flags.duration, maxEvents: flags['max-events'], compat: flags.compat as 'collector' | undefined,
        driver: flags.driver as 'auto' | 'ebpf' | 'kmod' | 'bpf', libscap: flags.libscap, fileReadMode: flags['file-read-mode'] as 0 | 1 | 2, force: flags.force,
        onReady: flags.stats ? () => process.stderr.write('sysflow: capture: started (eBPF probe attached); SIGINT or SIGTERM stops it\n') : undefined,
        onSocketWarning: (m) => process.stderr.write(`sysflow: warning: ${m}\n`),
        k8s: {mode: flags.k8s as 'auto' | 'on' | 'off', apiUrl: flags['k8s-api'], kubeconfig: flags.kubeconfig, nodeName: flags['node-name']},
        onK8sWarning: (m) => process.stderr.write(`sysflow: warning: ${m}\n`),
        onDamage: (e) => reporter.warn({file: e.file, offset: e.offset, message: `${e.problem}; the events before it were captured`, skippedRecords: 0, skippedBytes: 1}),
      })
      if (stats.drops > 0n) process.stderr.write(`sysflow: warning: the driver dropped ${stats.drops} events (${stats.probeRecords !== undefined ? 'eBPF ring buffer full' : 'libscap stats'})${stats.purgedThreads ? `; ${stats.purgedThreads} threads whose exit was among them were ended when /proc no longer listed them` : ''}\n`)
      // Records the processor never got are a loss, like skipped records: a warning and exit code 1.
      if (stats.socketDropped) reporter.warn({file: flags.socket!, offset: -1, message: `${stats.socketDropped} records dropped (the processor was not taking them)`, skippedRecords: stats.socketDropped, skippedBytes: 0})
      if (flags.stats) {
        process.stderr.write(`sysflow: capture: ${stats.events} events, ${stats.records} records written, ${stats.skippedUnknownEvents} unknown events skipped, ${stats.malformedEvents} malformed, ${stats.probeRecords !== undefined ? `${stats.probeRecords} probe records, ` : ''}${stats.drops} drops, ${stats.files} file(s), ${stats.seconds.toFixed(3)} s\n`)
      }
    })
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}
