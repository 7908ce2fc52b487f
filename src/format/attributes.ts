// The attribute catalogue: every `sf.*` attribute of the SysFlow policy language and every key of sysprint's
// output, as data. `--list`, the filter compiler, column validation, CSV headers, printers and the Arrow schema
// all read this one table, so they cannot drift apart (sysflow-format.md §3 and §5).
//
// Each entry has up to two faces:
//   value(j): the typed, exact value the policy language and the Arrow/DuckDB columns use (undefined when the
//             record type does not carry the attribute);
//   print(j): the value sysprint's JSON output shows (null or "" for absent ones, exactly as sysprint does).
import {ipv4, isOpenRead, isOpenWrite, opFlagNames, opFlagsDisplay, openFlagNames, fileTypeChar} from './flags.js'
import {Joined} from './join.js'
import {Container, File, Kind, KIND_ABBREV, Pod, Process, Service} from './records.js'
import {isoNanos} from './time.js'

export type AttrType =
  | 'string' // text
  | 'int' // 32-bit integer
  | 'int64' // bigint
  | 'bool'
  | 'char' // one character (file type)
  | 'strlist' // list of strings (set semantics in filters)
  | 'intlist' // list of bigints
  | 'json' // JSON text (jsonpath suffixes in filters)
  | 'time' // ISO string (sysprint's ts/endts)

export type EntityDep = 'header' | 'proc' | 'pproc' | 'file' | 'newFile' | 'container' | 'pod'

export type AttrValue = string | number | bigint | boolean | string[] | bigint[] | undefined
/** What sysprint's JSON shows: scalars, null, lists and objects (bigints stay exact). */
export type PrintValue = string | number | bigint | boolean | null | PrintValue[] | {[k: string]: PrintValue}

export interface Attribute {
  /** Policy-language name, e.g. `sf.proc.exe`; undefined for sysprint-only output keys. */
  sf?: string
  /** sysprint's key (output key and short name), e.g. `proc.exe`; undefined for processor-only attributes. */
  key?: string
  /** Other accepted names (Falco-style aliases). */
  aliases?: string[]
  type: AttrType
  description: string
  /** Column header and base width in sysprint's `str` output. */
  header?: string
  width?: number
  /** Not part of the default outputs (-A, CSV); can still be selected with -c and used in filters. */
  queryOnly?: boolean
  /** print() reads only this entity of the joined record: printers may cache its rendering per entity. */
  dep?: EntityDep
  /** The record kinds that carry this attribute; for other kinds value() is undefined and print() a constant. */
  on?: readonly Kind[]
  /** print() depends on nothing but the record kind (sf.type). */
  byKind?: boolean
  /** For ISO time columns: the nanoseconds print() formats (undefined when absent), so printers can write bytes. */
  nanos?(j: Joined): bigint | undefined
  value(j: Joined): AttrValue
  print(j: Joined): PrintValue
}

// --- helpers over the joined record -------------------------------------------------------------------------

const rk = (j: Joined) => j.rec.kind
const isNetFlow = (j: Joined) => j.rec.kind === Kind.NetworkFlow
const hasNet = (j: Joined) => j.rec.kind === Kind.NetworkFlow || j.rec.kind === Kind.NetworkEvent
const hasRet = (j: Joined) => j.rec.kind === Kind.ProcessEvent || j.rec.kind === Kind.FileEvent || j.rec.kind === Kind.NetworkEvent

function basename(p: string): string {
  let end = p.length
  while (end > 1 && p.charCodeAt(end - 1) === 0x2f) end--
  const i = p.lastIndexOf('/', end - 1)
  return p.slice(i + 1, end)
}

// Ancestry lists are read per record by filters (sf.proc.aname): keep each process's exe basename once.
const exeNames = new WeakMap<Process, string>()
function exeName(p: Process): string {
  let n = exeNames.get(p)
  if (n === undefined) {
    n = basename(p.exe ?? '')
    exeNames.set(p, n)
  }
  return n
}
function dirname(p: string): string {
  const i = p.lastIndexOf('/')
  return i < 0 ? '' : i === 0 ? '/' : p.slice(0, i)
}
/** Process.env joined by `;`, empty and bare `=` entries dropped (sysprint). */
function envText(p: Process | undefined): string {
  return p?.env ? p.env.filter((e) => e !== '' && e !== '=').join(';') : ''
}
// Kept per process, as exeName: ancestry lists (sf.proc.acmdline) ask it of every ancestor of every context.
const cmdlines = new WeakMap<Process, string>()
function cmdline(p: Process): string {
  let c = cmdlines.get(p)
  if (c === undefined) {
    c = `${p.exe ?? ''} ${p.exeArgs ?? ''}`
    cmdlines.set(p, c)
  }
  return c
}
/** Socket paths like `a->b /path`: the processor reports `/path` as the path and `a->b` as the symlink part. */
function splitSocketPath(path: string): [string, string] {
  const arrow = path.indexOf('->')
  if (arrow < 0) return [path, '']
  const sp = path.indexOf(' ', arrow)
  return sp < 0 ? ['', path] : [path.slice(sp + 1), path.slice(0, sp)]
}

function fd(j: Joined): number | undefined {
  const r = j.rec
  return r.kind === Kind.FileFlow || r.kind === Kind.NetworkFlow ? r.fd : undefined
}
function tid(j: Joined): bigint | undefined {
  const r = j.rec
  return r.kind === Kind.K8sEvent || r.kind === Kind.ProcessFlow ? undefined : r.tid
}
function endTs(j: Joined): bigint | undefined {
  const r = j.rec
  return r.kind === Kind.FileFlow || r.kind === Kind.NetworkFlow || r.kind === Kind.ProcessFlow ? r.endTs : undefined
}
type Net = {sip: number | undefined; sport: number | undefined; dip: number | undefined; dport: number | undefined; proto: number | undefined}
function net(j: Joined): Net | undefined {
  const r = j.rec
  return r.kind === Kind.NetworkFlow || r.kind === Kind.NetworkEvent ? r : undefined
}
function flowCounters(j: Joined) {
  const r = j.rec
  return r.kind === Kind.FileFlow || r.kind === Kind.NetworkFlow ? r : undefined
}
function openFlags(j: Joined): number | undefined {
  return j.rec.kind === Kind.FileFlow ? j.rec.openFlags : undefined
}
/** The values a writer schema had (list attributes leave absent ones out). */
function present<T>(...vs: (T | undefined)[]): T[] {
  return vs.filter((v): v is T => v !== undefined)
}
function opFlags(j: Joined): number | undefined {
  const r = j.rec
  return r.kind === Kind.K8sEvent ? undefined : r.opFlags
}
function procPid(j: Joined): bigint | undefined {
  const r = j.rec
  return r.kind === Kind.K8sEvent ? undefined : (j.proc?.oid.hpid ?? r.procOID.hpid)
}
function procCreateTs(j: Joined): bigint | undefined {
  const r = j.rec
  return r.kind === Kind.K8sEvent ? undefined : (j.proc?.oid.createTS ?? r.procOID.createTS)
}
function state(j: Joined): string {
  return j.proc?.state ?? j.file?.state ?? ''
}
function resource(j: Joined): string {
  if (j.file) return j.newFile ? `${j.file.path ?? ''}, ${j.newFile.path ?? ''}` : (j.file.path ?? '')
  const n = isNetFlow(j) ? net(j) : undefined
  return n ? `${ip(n.sip)}:${n.sport ?? ''}-${ip(n.dip)}:${n.dport ?? ''}` : ''
}
/** A dotted IPv4 address, or "" when the writer schema had no such field. */
function ip(v: number | undefined): string {
  return v === undefined ? '' : ipv4(v)
}
function podIps(p: Pod, which: 'hostIP' | 'internalIP'): string[] | undefined {
  return p[which]?.map(ipv4)
}
/** Services as sysprint and the policy language show them: clusterIP as dotted strings (absent fields null). */
function servicesView(p: Pod): {[k: string]: PrintValue}[] {
  return (p.services ?? []).map((s: Service) => ({
    name: nul(s.name),
    id: nul(s.id),
    namespace: nul(s.namespace),
    portList: (s.portList ?? []).map((pt) => ({port: nul(pt.port), targetPort: nul(pt.targetPort), nodePort: nul(pt.nodePort), proto: nul(pt.proto)})),
    clusterIP: (s.clusterIP ?? []).map(ipv4),
  }))
}
/** The K8s message without the trailing "\n\0" the collector leaves on it. */
export function keMessageJson(msg: string): string {
  return msg.replace(/[\s\u0000]+$/, '')
}

// Which record kinds carry which attributes (the `on` of the catalogue).
const NOT_KE = [Kind.ProcessEvent, Kind.NetworkFlow, Kind.FileFlow, Kind.FileEvent, Kind.NetworkEvent, Kind.ProcessFlow]
const WITH_TID = [Kind.ProcessEvent, Kind.NetworkFlow, Kind.FileFlow, Kind.FileEvent, Kind.NetworkEvent]
const EVENTS = [Kind.ProcessEvent, Kind.FileEvent, Kind.NetworkEvent]
const FLOWS = [Kind.FileFlow, Kind.NetworkFlow, Kind.ProcessFlow]
const IO_FLOWS = [Kind.FileFlow, Kind.NetworkFlow]
const NET = [Kind.NetworkFlow, Kind.NetworkEvent]
const FF = [Kind.FileFlow]
const PF = [Kind.ProcessFlow]
const KE = [Kind.K8sEvent]

// Absent-value conventions, named for what sysprint prints.
const nul = <T>(v: T | undefined): T | null => (v === undefined ? null : v)
const blank = <T>(v: T | undefined): T | '' => (v === undefined ? '' : v)

// Builders for the repetitive process/parent entries.
type ProcPick = (j: Joined) => Process | undefined
// sysprint orders the parent's keys differently from the process's.
const PPROC_ORDER = ['pid', 'gid', 'uid', 'group', 'tty', 'entry', 'env', 'user', 'cwd', 'exe', 'args', 'name', 'cmdline', 'createts', 'oid']

function procAttrs(prefix: 'proc' | 'pproc', pick: ProcPick, who: string): Attribute[] {
  const list = procAttrList(prefix, pick, who)
  if (prefix === 'proc') return list
  const rank = (a: Attribute) => PPROC_ORDER.indexOf(a.sf!.slice('sf.pproc.'.length))
  return list.sort((a, b) => rank(a) - rank(b))
}

function procAttrList(prefix: 'proc' | 'pproc', pick: ProcPick, who: string): Attribute[] {
  const P = prefix === 'proc' ? '' : 'P'
  const sf = `sf.${prefix}`
  const isParent = prefix === 'pproc'
  const dep: EntityDep = prefix
  // sysprint prints a missing parent's numbers as null but its createts as "" (its own inconsistency, kept).
  return [
    // value() falls back on the OIDs the record itself carries; print() shows what sysprint shows (the entity's).
    {sf: `${sf}.pid`, key: `${prefix}.pid`, dep, type: 'int64', description: `${who} PID`, header: `${P}PID`, width: 8,
      value: isParent ? (j) => pick(j)?.oid.hpid ?? j.proc?.poid?.hpid : procPid,
      print: (j) => nul(pick(j)?.oid.hpid)},
    ...(isParent ? [] : [{sf: 'sf.proc.tid', key: 'proc.tid', on: WITH_TID, type: 'int64', description: 'Thread ID', header: 'TID', width: 8, value: tid, print: (j: Joined) => nul(tid(j))} satisfies Attribute]),
    {sf: `${sf}.uid`, key: `${prefix}.uid`, dep, type: 'int', description: `${who} user ID`, header: `${P}UID`, width: 5, value: (j) => pick(j)?.uid, print: (j) => nul(pick(j)?.uid)},
    {sf: `${sf}.user`, key: `${prefix}.user`, dep, type: 'string', description: `${who} user name`, header: `${P}User`, width: 8, value: (j) => pick(j)?.userName, print: (j) => pick(j)?.userName ?? ''},
    {sf: `${sf}.gid`, key: `${prefix}.gid`, dep, type: 'int', description: `${who} group ID`, header: `${P}GID`, width: 5, value: (j) => pick(j)?.gid, print: (j) => nul(pick(j)?.gid)},
    {sf: `${sf}.group`, key: `${prefix}.group`, dep, type: 'string', description: `${who} group name`, header: `${P}Group`, width: 8, value: (j) => pick(j)?.groupName, print: (j) => pick(j)?.groupName ?? ''},
    {sf: `${sf}.cwd`, key: `${prefix}.cwd`, dep, type: 'string', description: `${who} current working directory (schema v5)`, header: `${P}Cwd`, width: 20, value: (j) => pick(j)?.cwd, print: (j) => pick(j)?.cwd ?? ''},
    {sf: `${sf}.exe`, key: `${prefix}.exe`, dep, type: 'string', description: `${who} executable path`, header: `${P}Cmd`, width: 20, value: (j) => pick(j)?.exe?.trim(), print: (j) => pick(j)?.exe ?? ''},
    {sf: `${sf}.args`, key: `${prefix}.args`, dep, type: 'string', description: `${who} command arguments`, header: `${P}Args`, width: 20, value: (j) => pick(j)?.exeArgs?.trim(), print: (j) => pick(j)?.exeArgs ?? ''},
    {sf: `${sf}.name`, key: `${prefix}.name`, dep, type: 'string', description: `${who} name (basename of the executable)`, queryOnly: true, value: (j) => { const e = pick(j)?.exe; return e === undefined ? undefined : basename(e) }, print: (j) => { const e = pick(j)?.exe; return e === undefined ? '' : basename(e) }},
    {sf: `${sf}.cmdline`, key: `${prefix}.cmdline`, dep, type: 'string', description: `${who} command line (executable and arguments)`, queryOnly: true, value: (j) => { const p = pick(j); return p ? cmdline(p) : undefined }, print: (j) => { const p = pick(j); return p ? cmdline(p) : '' }},
    {sf: `${sf}.tty`, key: `${prefix}.tty`, dep, type: 'bool', description: `${who} has a TTY`, header: `${P}TTY`, width: 5, value: (j) => pick(j)?.tty, print: (j) => blank(pick(j)?.tty)},
    {sf: `${sf}.entry`, key: `${prefix}.entry`, dep, type: 'bool', description: `${who} is a container or host entrypoint (schema v2+)`, header: `${P}Entry`, width: 5, value: (j) => pick(j)?.entry, print: (j) => blank(pick(j)?.entry)},
    {sf: `${sf}.env`, key: `${prefix}.env`, dep, type: 'string', description: `${who} environment, ';'-separated (schema v5)`, header: `${P}Env`, width: 30, value: (j) => { const p = pick(j); return p?.env ? envText(p) : undefined }, print: (j) => envText(pick(j))},
    {sf: `${sf}.createts`, key: `${prefix}.createts`, dep, type: 'int64', description: `${who} creation time (ns; 0 if it predates the capture)`, header: isParent ? 'PProc. Creation Time' : 'Proc. Creation Time', width: 21,
      value: isParent ? (j) => pick(j)?.oid.createTS ?? j.proc?.poid?.createTS : procCreateTs,
      print: isParent ? (j) => blank(pick(j)?.oid.createTS) : (j) => nul(pick(j)?.oid.createTS)},
    {sf: `${sf}.oid`, dep, type: 'string', description: `${who} OID (hpid and createTS)`, queryOnly: true,
      value: (j) => { const p = pick(j); return p ? `${p.oid.hpid}:${p.oid.createTS}` : undefined }, print: (j) => { const p = pick(j); return p ? `${p.oid.hpid}:${p.oid.createTS}` : '' }},
  ]
}

function fileAttrs(prefix: 'file' | 'newfile', pick: (j: Joined) => File | undefined): Attribute[] {
  const n = prefix === 'file' ? '' : 'new'
  const dep: EntityDep = prefix === 'file' ? 'file' : 'newFile'
  const what = prefix === 'file' ? 'File' : 'New file'
  const path = (j: Joined) => { const p = pick(j)?.path; return p === undefined ? undefined : splitSocketPath(p)[0] }
  return [
    {sf: `sf.file.${n}oid`, dep, type: 'string', description: `${what} OID (SHA-1 of container id and path, hex)`, queryOnly: true, value: (j) => pick(j)?.oid, print: (j) => pick(j)?.oid ?? ''},
    {sf: `sf.file.${n}name`, dep, type: 'string', description: `${what} name (basename)`, queryOnly: true, ...(n ? {} : {key: 'file.name'}), value: (j) => { const p = path(j); return p === undefined ? undefined : basename(p) }, print: (j) => { const p = path(j); return p === undefined ? '' : basename(p) }},
    {sf: `sf.file.${n}directory`, dep, type: 'string', description: `${what} directory`, queryOnly: true, ...(n ? {} : {key: 'file.directory'}), value: (j) => { const p = path(j); return p === undefined ? undefined : dirname(p) }, print: (j) => { const p = path(j); return p === undefined ? '' : dirname(p) }},
    {sf: `sf.file.${n}symlink`, dep, type: 'string', description: `${what} socket endpoints (the "a->b" part of a socket path)`, queryOnly: true, value: (j) => { const p = pick(j)?.path; return p === undefined ? undefined : splitSocketPath(p)[1] }, print: (j) => { const p = pick(j)?.path; return p === undefined ? '' : splitSocketPath(p)[1] }},
  ]
}

const noProc = (j: Joined) => j.proc
const parent = (j: Joined) => j.pproc

// --- the catalogue, in sysprint's output order (sysflow-format.md §5.4), processor-only attributes after ---------

export const ATTRIBUTES: readonly Attribute[] = [
  {key: 'idx', type: 'int64', description: 'Record number', header: 'Rec #', width: 6, queryOnly: true, value: () => undefined, print: () => null},
  {key: 'version', dep: 'header', type: 'string', description: 'SysFlow JSON schema version (always "4", as sysprint)', header: 'API version', width: 8, value: () => '4', print: () => '4'},
  {sf: 'sf.type', key: 'type', byKind: true, aliases: ['evt.rawres'], type: 'string', description: 'Record type (PE, PF, NF, FF, FE, NE, KE)', header: 'T', width: 2, value: (j) => KIND_ABBREV[rk(j)], print: (j) => KIND_ABBREV[rk(j)]},
  {key: 'state', type: 'string', description: 'Entity state (CREATED, MODIFIED, REUP) of the process, or of the file', header: 'State', width: 12, value: (j) => state(j) || undefined, print: state},
  {sf: 'sf.opflags', key: 'opflags', on: NOT_KE, aliases: ['evt.type'], type: 'strlist', description: 'Operation flags (names; sysprint shows its compact string)', header: 'Op Flags', width: 14,
    value: (j) => { const f = opFlags(j); return f === undefined ? undefined : opFlagNames(f, hasNet(j)) },
    print: (j) => { const f = opFlags(j); return f === undefined ? '' : opFlagsDisplay(f) }},
  {key: 'opflags_bitmap', on: NOT_KE, type: 'int', description: 'Operation flags bitmap', header: 'Op Flags', width: 5, value: opFlags, print: (j) => blank(opFlags(j))},
  {sf: 'sf.ret', key: 'ret', on: EVENTS, aliases: ['evt.res'], type: 'int', description: 'Return code (events)', header: 'Ret', width: 4, value: (j) => (hasRet(j) ? (j.rec as {ret: number | undefined}).ret : undefined), print: (j) => (hasRet(j) ? nul((j.rec as {ret: number | undefined}).ret) : null)},
  {key: 'ts', type: 'time', nanos: (j) => j.rec.ts, description: 'Record start time (ISO-8601 UTC, nanoseconds)', header: 'Start Time', width: 26, value: (j) => isoNanos(j.rec.ts), print: (j) => isoNanos(j.rec.ts)},
  {sf: 'sf.ts', key: 'ts_uts', aliases: ['evt.rawtime', 'evt.time'], type: 'int64', description: 'Record start time (ns since the epoch)', header: 'Start Time', width: 21, value: (j) => j.rec.ts, print: (j) => j.rec.ts},
  {key: 'endts', on: FLOWS, type: 'time', nanos: endTs, description: 'Record end time (ISO-8601 UTC, nanoseconds)', header: 'End Time', width: 26, value: (j) => { const e = endTs(j); return e === undefined ? undefined : isoNanos(e) }, print: (j) => { const e = endTs(j); return e === undefined ? '' : isoNanos(e) }},
  {sf: 'sf.endts', key: 'endts_uts', on: FLOWS, type: 'int64', description: 'Record end time (ns since the epoch; flows)', header: 'End Time', width: 21, value: endTs, print: (j) => nul(endTs(j))},
  ...procAttrs('proc', noProc, 'Process'),
  {sf: 'sf.proc.aname', key: 'proc.aname', type: 'strlist', description: 'Names of the process and its ancestors, self first', queryOnly: true, value: (j) => j.ancestry.map(exeName), print: (j) => j.ancestry.map(exeName)},
  {sf: 'sf.proc.aexe', type: 'strlist', description: 'Executables of the process and its ancestors, self first', queryOnly: true, value: (j) => j.ancestry.map((p) => p.exe ?? ''), print: (j) => j.ancestry.map((p) => p.exe ?? '')},
  {sf: 'sf.proc.acmdline', type: 'strlist', description: 'Command lines of the process and its ancestors, self first', queryOnly: true, value: (j) => j.ancestry.map(cmdline), print: (j) => j.ancestry.map(cmdline)},
  {sf: 'sf.proc.apid', key: 'proc.apid', type: 'intlist', description: 'PIDs of the process and its ancestors, self first', queryOnly: true, value: (j) => j.ancestry.map((p) => p.oid.hpid), print: (j) => j.ancestry.map((p) => p.oid.hpid)},
  ...procAttrs('pproc', parent, 'Parent process'),
  {sf: 'sf.file.fd', key: 'file.fd', on: IO_FLOWS, aliases: ['fd.num'], type: 'int', description: 'File descriptor number (flows)', header: 'FD', width: 5, value: fd, print: (j) => blank(fd(j))},
  {sf: 'sf.file.path', key: 'file.path', dep: 'file', aliases: ['fd.name'], type: 'string', description: 'File path', header: 'Path', width: 30, value: (j) => (j.file?.path === undefined ? undefined : splitSocketPath(j.file.path)[0]), print: (j) => j.file?.path ?? ''},
  {sf: 'sf.file.newpath', key: 'file.newpath', dep: 'newFile', type: 'string', description: 'New file path (rename, link, symlink)', header: 'New Path', width: 30, value: (j) => (j.newFile?.path === undefined ? undefined : splitSocketPath(j.newFile.path)[0]), print: (j) => j.newFile?.path ?? ''},
  ...fileAttrs('file', (j) => j.file),
  ...fileAttrs('newfile', (j) => j.newFile),
  {sf: 'sf.file.type', key: 'file.type', dep: 'file', aliases: ['fd.typechar'], type: 'char', description: 'File type character (f file, d dir, u unix socket, p pipe, 4/6 IP socket, ? unknown)', header: 'File Type', width: 8, value: (j) => (j.file?.restype === undefined ? undefined : fileTypeChar(j.file.restype)), print: (j) => (j.file?.restype === undefined ? '' : fileTypeChar(j.file.restype))},
  {sf: 'sf.file.is_open_write', on: FF, key: 'file.is_open_write', aliases: ['evt.is_open_write'], type: 'bool', description: 'File opened with write access', queryOnly: true, value: (j) => { const f = openFlags(j); return f === undefined ? undefined : isOpenWrite(f) }, print: (j) => { const f = openFlags(j); return f === undefined ? '' : isOpenWrite(f) }},
  {sf: 'sf.file.is_open_read', on: FF, key: 'file.is_open_read', aliases: ['evt.is_open_read'], type: 'bool', description: 'File opened with read access', queryOnly: true, value: (j) => { const f = openFlags(j); return f === undefined ? undefined : isOpenRead(f) }, print: (j) => { const f = openFlags(j); return f === undefined ? '' : isOpenRead(f) }},
  {sf: 'sf.file.openflags', on: FF, key: 'file.openflags', type: 'strlist', description: 'File open flags (names; sysprint shows the number)', header: 'Open Flags', width: 5, value: (j) => { const f = openFlags(j); return f === undefined ? undefined : openFlagNames(f) }, print: (j) => blank(openFlags(j))},
  {sf: 'sf.net.proto', on: NET, key: 'net.proto', aliases: ['fd.l4proto'], type: 'int', description: 'Network protocol (IANA number: 6 tcp, 17 udp)', header: 'Proto', width: 5, value: (j) => net(j)?.proto, print: (j) => blank(net(j)?.proto)},
  {sf: 'sf.net.sport', on: NET, key: 'net.sport', aliases: ['fd.sport'], type: 'int', description: 'Source port', header: 'SPort', width: 5, value: (j) => net(j)?.sport, print: (j) => nul(net(j)?.sport)},
  {sf: 'sf.net.dport', on: NET, key: 'net.dport', aliases: ['fd.dport'], type: 'int', description: 'Destination port', header: 'DPort', width: 5, value: (j) => net(j)?.dport, print: (j) => nul(net(j)?.dport)},
  {sf: 'sf.net.port', on: NET, key: 'net.port', aliases: ['fd.port'], type: 'strlist', description: 'Source or destination port', queryOnly: true, value: (j) => { const n = net(j); return n ? present(n.sport, n.dport).map(String) : undefined }, print: (j) => { const n = net(j); return n ? present(n.sport, n.dport).map(String) : '' }},
  {sf: 'sf.net.sip', on: NET, key: 'net.sip', aliases: ['fd.sip'], type: 'string', description: 'Source IP address', header: 'SIP', width: 16, value: (j) => { const v = net(j)?.sip; return v === undefined ? undefined : ipv4(v) }, print: (j) => ip(net(j)?.sip)},
  {sf: 'sf.net.dip', on: NET, key: 'net.dip', aliases: ['fd.dip'], type: 'string', description: 'Destination IP address', header: 'DIP', width: 16, value: (j) => { const v = net(j)?.dip; return v === undefined ? undefined : ipv4(v) }, print: (j) => ip(net(j)?.dip)},
  {sf: 'sf.net.ip', on: NET, key: 'net.ip', aliases: ['fd.ip'], type: 'strlist', description: 'Source or destination IP address', queryOnly: true, value: (j) => { const n = net(j); return n ? present(n.sip, n.dip).map(ipv4) : undefined }, print: (j) => { const n = net(j); return n ? present(n.sip, n.dip).map(ipv4) : '' }},
  {key: 'res', on: [Kind.FileFlow, Kind.FileEvent, Kind.NetworkFlow], type: 'string', description: 'File or network resource (path, or sip:sport-dip:dport)', header: 'Resource', width: 45, value: (j) => resource(j) || undefined, print: resource},
  {sf: 'sf.flow.rbytes', on: IO_FLOWS, key: 'flow.rbytes', type: 'int64', description: 'Bytes read or received (flows)', header: 'NoBRead', width: 8, value: (j) => flowCounters(j)?.numRRecvBytes, print: (j) => nul(flowCounters(j)?.numRRecvBytes)},
  {sf: 'sf.flow.rops', on: IO_FLOWS, key: 'flow.rops', type: 'int64', description: 'Read or receive operations (flows)', header: 'NoOpsRead', width: 8, value: (j) => flowCounters(j)?.numRRecvOps, print: (j) => nul(flowCounters(j)?.numRRecvOps)},
  {sf: 'sf.flow.wbytes', on: IO_FLOWS, key: 'flow.wbytes', type: 'int64', description: 'Bytes written or sent (flows)', header: 'NoBWrite', width: 8, value: (j) => flowCounters(j)?.numWSendBytes, print: (j) => nul(flowCounters(j)?.numWSendBytes)},
  {sf: 'sf.flow.wops', on: IO_FLOWS, key: 'flow.wops', type: 'int64', description: 'Write or send operations (flows)', header: 'NoOpsWrite', width: 8, value: (j) => flowCounters(j)?.numWSendOps, print: (j) => nul(flowCounters(j)?.numWSendOps)},
  {sf: 'sf.pf.nthreads', on: PF, key: 'pf.nthreads', type: 'int64', description: 'Threads created (process flows)', header: 'NoThreads', width: 8, value: (j) => (j.rec.kind === Kind.ProcessFlow ? j.rec.numThreadsCloned : undefined), print: (j) => (j.rec.kind === Kind.ProcessFlow ? nul(j.rec.numThreadsCloned) : null)},
  {sf: 'sf.pf.nexits', on: PF, key: 'pf.nexits', type: 'int64', description: 'Threads exited (process flows)', header: 'NoThrExits', width: 8, value: (j) => (j.rec.kind === Kind.ProcessFlow ? j.rec.numThreadsExited : undefined), print: (j) => (j.rec.kind === Kind.ProcessFlow ? nul(j.rec.numThreadsExited) : null)},
  {sf: 'sf.pf.nerrors', on: PF, key: 'pf.nerrors', type: 'int64', description: 'Clone errors (process flows)', header: 'NoThrErrs', width: 8, value: (j) => (j.rec.kind === Kind.ProcessFlow ? j.rec.numCloneErrors : undefined), print: (j) => (j.rec.kind === Kind.ProcessFlow ? nul(j.rec.numCloneErrors) : null)},
  ...containerAttrs(),
  ...podAttrs(),
  {sf: 'sf.node.id', dep: 'header', key: 'node.id', type: 'string', description: 'Node identifier (the exporter)', header: 'Node ID', width: 12, value: (j) => j.header?.exporter, print: (j) => j.header?.exporter ?? ''},
  {sf: 'sf.node.ip', dep: 'header', key: 'node.ip', type: 'string', description: 'Node IP address (schema v2+)', header: 'Node IP', width: 16, value: (j) => j.header?.ip, print: (j) => j.header?.ip ?? ''},
  {key: 'filename', dep: 'header', type: 'string', description: 'Trace file name as the exporter wrote it (schema v3+)', header: 'File name', width: 15, value: (j) => j.header?.filename, print: (j) => j.header?.filename ?? ''},
  {sf: 'sf.meta.schema', dep: 'header', key: 'schema', aliases: ['sf.schema.version'], type: 'int64', description: 'SysFlow schema version of the trace (1000 for legacy traces)', header: 'SF Schema', width: 8, value: (j) => j.header?.version, print: (j) => nul(j.header?.version)},
  {sf: 'sf.meta.tracename', dep: 'header', type: 'string', description: 'Base name of the trace file the exporter wrote (schema v3+)', queryOnly: true, value: (j) => (j.header?.filename === undefined ? undefined : basename(j.header.filename)), print: (j) => (j.header?.filename === undefined ? '' : basename(j.header.filename))},
  {key: 'tags', dep: 'header', type: 'strlist', description: 'Enrichment tags', header: 'Tags', width: 10, value: () => [], print: () => []},
  {sf: 'sf.ke.action', on: KE, key: 'k8s.action', type: 'string', description: 'K8s event action', header: 'K8s EV Action', width: 25, value: (j) => (j.rec.kind === Kind.K8sEvent ? j.rec.action : undefined), print: (j) => (j.rec.kind === Kind.K8sEvent ? (j.rec.action ?? '') : '')},
  {sf: 'sf.ke.kind', on: KE, key: 'k8s.kind', type: 'string', description: 'K8s event component type', header: 'K8s EV Comp Type', width: 26, value: (j) => (j.rec.kind === Kind.K8sEvent ? j.rec.component : undefined), print: (j) => (j.rec.kind === Kind.K8sEvent ? (j.rec.component ?? '') : '')},
  {sf: 'sf.ke.message', on: KE, key: 'k8s.msg', type: 'json', description: 'K8s event message (JSON)', header: 'K8s EV Msg', width: 100, value: (j) => (j.rec.kind === Kind.K8sEvent && j.rec.message !== undefined ? keMessageJson(j.rec.message) : undefined), print: (j) => (j.rec.kind === Kind.K8sEvent ? (j.rec.message ?? '') : '')},
]

function containerAttrs(): Attribute[] {
  const c = (j: Joined): Container | undefined => j.container
  const s = (name: 'id' | 'name' | 'imageid' | 'image', desc: string, header: string, aliases?: string[]): Attribute => ({
    sf: `sf.container.${name}`, key: `container.${name}`, aliases, dep: 'container', type: 'string', description: desc, header, width: 12,
    value: (j) => c(j)?.[name], print: (j) => c(j)?.[name] ?? '',
  })
  return [
    s('id', 'Container ID', 'Cont ID'),
    s('name', 'Container name', 'Cont Name'),
    s('imageid', 'Container image ID', 'Image ID', ['sf.container.image.id']),
    s('image', 'Container image name', 'Image Name'),
    {sf: 'sf.container.type', key: 'container.type', dep: 'container', type: 'string', description: 'Container type (DOCKER, CRIO, ...; sysprint shows CT_DOCKER)', header: 'Cont Type', width: 8, value: (j) => c(j)?.type?.replace(/^CT_/, ''), print: (j) => c(j)?.type ?? ''},
    {sf: 'sf.container.privileged', key: 'container.privileged', dep: 'container', type: 'bool', description: 'Container is privileged', header: 'Privileged', width: 5, value: (j) => c(j)?.privileged, print: (j) => blank(c(j)?.privileged)},
  ]
}

function ifPod<T>(x: Pod | undefined, f: (x: Pod) => T | undefined): T | undefined {
  return x ? f(x) : undefined
}

function podAttrs(): Attribute[] {
  const p = (j: Joined): Pod | undefined => j.pod
  const s = (sf: string, key: string, desc: string, header: string, width: number, get: (pod: Pod) => string | undefined): Attribute => ({
    sf: `sf.pod.${sf}`, key: `pod.${key}`, dep: 'pod', type: 'string', description: desc, header, width,
    value: (j) => { const x = p(j); return x ? get(x) : undefined }, print: (j) => { const x = p(j); return (x ? get(x) : undefined) ?? '' },
  })
  return [
    {sf: 'sf.pod.ts', dep: 'pod', type: 'int64', description: 'Pod record time (ns)', queryOnly: true, value: (j) => p(j)?.ts, print: (j) => nul(p(j)?.ts)},
    s('id', 'id', 'Pod identifier', 'Pod Id', 12, (x) => x.id),
    s('name', 'name', 'Pod name', 'Pod Name', 30, (x) => x.name),
    s('nodename', 'nname', 'Pod node name', 'Pod Node Name', 12, (x) => x.nodeName),
    {sf: 'sf.pod.hostip', key: 'pod.hostip', dep: 'pod', type: 'json', description: 'Pod host IPs (JSON list of dotted strings)', header: 'Pod Host IP', width: 16, value: (j) => { const ips = ifPod(p(j), (x) => podIps(x, 'hostIP')); return ips && JSON.stringify(ips) }, print: (j) => ifPod(p(j), (x) => podIps(x, 'hostIP')) ?? ''},
    {sf: 'sf.pod.internalip', key: 'pod.internalip', dep: 'pod', type: 'json', description: 'Pod internal IPs (JSON list of dotted strings)', header: 'Pod Intern IP', width: 16, value: (j) => { const ips = ifPod(p(j), (x) => podIps(x, 'internalIP')); return ips && JSON.stringify(ips) }, print: (j) => ifPod(p(j), (x) => podIps(x, 'internalIP')) ?? ''},
    s('namespace', 'ns', 'Pod namespace', 'Pod Namespace', 12, (x) => x.namespace),
    {sf: 'sf.pod.restartcnt', key: 'pod.rstrtcnt', dep: 'pod', type: 'int64', description: 'Pod restart count', header: 'Rstrt Cnt', width: 9, value: (j) => p(j)?.restartCount, print: (j) => nul(p(j)?.restartCount)},
    {sf: 'sf.pod.services', key: 'pod.services', dep: 'pod', type: 'json', description: 'Pod services (JSON: name, id, namespace, portList, clusterIP)', header: 'Pod Services', width: 100, value: (j) => { const x = p(j); return x ? JSON.stringify(servicesView(x)) : undefined }, print: (j) => { const x = p(j); return x ? servicesView(x) : '' }},
    {sf: 'sf.pod.labels', dep: 'pod', type: 'json', description: 'Pod labels (JSON object)', queryOnly: true, value: (j) => { const m = p(j)?.labels; return m && JSON.stringify(m) }, print: (j) => { const m = p(j)?.labels; return m ? {...m} : '' }},
    {sf: 'sf.pod.selectors', dep: 'pod', type: 'json', description: 'Pod selectors (JSON object)', queryOnly: true, value: (j) => { const m = p(j)?.selectors; return m && JSON.stringify(m) }, print: (j) => { const m = p(j)?.selectors; return m ? {...m} : '' }},
  ]
}

// --- lookups -----------------------------------------------------------------------------------------------------

const byName = new Map<string, Attribute>()
for (const a of ATTRIBUTES) {
  for (const n of [a.sf, a.key, ...(a.aliases ?? [])]) if (n && !byName.has(n)) byName.set(n, a)
}

/** Find an attribute by its sf.* name, sysprint key or alias (also `sf.` + sysprint key, as sfql allows). */
export function findAttribute(name: string): Attribute | undefined {
  return byName.get(name) ?? (name.startsWith('sf.') ? byName.get(name.slice(3)) : undefined)
}

/** The keys sysprint prints by default in json/flatjson/csv (and `-A`), in order. */
export const DEFAULT_KEYS: readonly string[] = ATTRIBUTES.filter((a) => a.key && !a.queryOnly).map((a) => a.key!)

/** Every accepted name, for suggestions. */
export function attributeNames(): string[] {
  return [...byName.keys()]
}
