// The database layout: the narrow tables the loader fills (see src/format/arrow/narrow.ts), and the views users
// query: `events` (one column per catalogue attribute, in catalogue order, plus `time`) and the entity views
// `processes`, `files`, `containers`, `pods`, `k8s_events`, `headers`.
//
// The view reaches dimension rows by list lookup rather than by join: each dimension is aggregated once per query
// into lists ordered by key (`list(x ORDER BY key)`, keys dense from 1), and a fact row reads `list[key]`. DuckDB
// prunes the lists a query does not use, so `count(*)` costs no lookup at all and `group by proc_exe` one. The
// values that come from entities are computed here, once per entity, from the raw entity fields, mirroring the
// catalogue's value() functions; test/query-columns.test.ts checks every column against value() on every record of
// the fixtures and of the real traces.
import {ColumnType, EVENT_COLUMNS, ENTITY_TABLES, ENTITY_VIEWS, narrowPlan, NarrowPlan, NarrowTable, BufferKind, RECORD_FIELDS} from '../format/arrow/index.js'

/** The DuckDB type of an events column type (catalogue type). */
export function duckdbType(t: ColumnType): string {
  switch (t) {
    case 'string':
    case 'char':
      return 'VARCHAR'
    case 'int':
      return 'INTEGER'
    case 'int64':
      return 'BIGINT'
    case 'bool':
      return 'BOOLEAN'
    case 'strlist':
      return 'VARCHAR[]'
    case 'intlist':
      return 'BIGINT[]'
    case 'json':
      return 'JSON'
    case 'timestamp':
      return 'TIMESTAMP_NS'
  }
}

function storageType(k: BufferKind): string {
  switch (k) {
    case 'int32':
      return 'INTEGER'
    case 'uint32':
      return 'UINTEGER'
    case 'int64':
      return 'BIGINT'
    case 'uint8':
      return 'UTINYINT'
    case 'bool':
      return 'BOOLEAN'
    case 'utf8':
      return 'VARCHAR'
    case 'timestamp':
      return 'TIMESTAMP_NS'
    case 'list<int32>':
      return 'INTEGER[]'
    case 'list<int64>':
      return 'BIGINT[]'
    case 'list<utf8>':
      return 'VARCHAR[]'
  }
}

export const q = (name: string): string => `"${name.replace(/"/g, '""')}"`
const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`

/** ECMAScript's white space and line terminators: what String.prototype.trim() removes. */
const JS_WHITESPACE = '\t\n\u000b\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff'

// --- SQL mirrors of the catalogue's helpers (src/format/attributes.ts) ----------------------------------------

/** basename(): trailing slashes dropped (all but a lone first one), then what follows the last slash. */
const basename = (x: string): string => `regexp_extract(CASE WHEN regexp_full_match(${x}, '/+') THEN '/' ELSE regexp_replace(${x}, '/+$', '') END, '[^/]*$')`
/** dirname(): before the last slash; '/' when that is the first character; '' without a slash. */
const dirname = (x: string): string => `CASE WHEN strpos(${x}, '/') = 0 THEN '' ELSE coalesce(nullif(regexp_extract(${x}, '(?s)^(.*)/', 1), ''), '/') END`
/** splitSocketPath(): `a->b /path` is the path `/path` with the endpoints `a->b`. */
const arrowAt = (x: string): string => `strpos(${x}, '->')`
const spaceAfterArrow = (x: string): string => `strpos(substr(${x}, ${arrowAt(x)}), ' ')`
const socketPath = (x: string): string => `CASE WHEN ${arrowAt(x)} = 0 THEN ${x} WHEN ${spaceAfterArrow(x)} = 0 THEN '' ELSE substr(${x}, ${arrowAt(x)} + ${spaceAfterArrow(x)}) END`
const socketEnds = (x: string): string => `CASE WHEN ${arrowAt(x)} = 0 THEN '' WHEN ${spaceAfterArrow(x)} = 0 THEN ${x} ELSE left(${x}, ${arrowAt(x)} + ${spaceAfterArrow(x)} - 2) END`
/** ipv4(): the first octet in the least significant byte. */
const dotted = (x: string): string => `CASE WHEN ${x} IS NULL THEN NULL ELSE concat_ws('.', ${x} & 255, (${x} >> 8) & 255, (${x} >> 16) & 255, (${x} >> 24) & 255) END`
/** fileTypeChar(): the code point as a character ('?' outside Unicode; a surrogate arrives as U+FFFD). */
const typeChar = (x: string): string => `CASE WHEN ${x} < 0 OR ${x} > 1114111 THEN '?' WHEN ${x} BETWEEN 55296 AND 57343 THEN '\ufffd' ELSE chr(${x}) END`

/**
 * Per-entity values, as CTEs of lists ordered by key. The names are internal to the view.
 *   S: strings; P: processes; F: files; K: containers; D: pods; H: headers; T: shapes; C: process contexts.
 */
/**
 * The strings as one list, as a derived table. Every list (CTE) of the views is referenced exactly once: DuckDB
 * then inlines it and prunes what a query does not use. (A CTE referenced twice would be materialised whole; and
 * `NOT MATERIALIZED` is lost when DuckDB stores a view in a database file, so it cannot be relied on.)
 */
const S_TABLE = '(SELECT list(s ORDER BY id) AS s FROM _strings) S'
const str = (col: string): string => `S.s[${col}]`

const P_COLS: Record<string, string> = {
  exe_raw: str('p.exe'),
  exe: `trim(${str('p.exe')}, ${lit(JS_WHITESPACE)})`,
  args: `trim(${str('p.exe_args')}, ${lit(JS_WHITESPACE)})`,
  name: basename(str('p.exe')),
  cmdline: `${str('p.exe')} || ' ' || ${str('p.exe_args')}`,
  user: str('p.user_name'),
  group: str('p.group_name'),
  cwd: str('p.cwd'),
  uid: 'p.uid',
  gid: 'p.gid',
  tty: 'p.tty',
  entry: 'p.entry',
  env: `CASE WHEN p.env IS NULL THEN NULL ELSE array_to_string(list_filter(list_transform(p.env, i -> S.s[i]), e -> e <> '' AND e <> '='), ';') END`,
  oid: `p.oid_hpid::VARCHAR || ':' || p.oid_create_ts::VARCHAR`,
  hpid: 'p.oid_hpid',
  create_ts: 'p.oid_create_ts',
  poid_hpid: 'p.poid_hpid',
  poid_create_ts: 'p.poid_create_ts',
}
const F_PATH = socketPath(str('f.path'))
const F_COLS: Record<string, string> = {
  path: F_PATH,
  name: basename(F_PATH),
  directory: dirname(F_PATH),
  symlink: socketEnds(str('f.path')),
  oid: `coalesce(f.oid_text, printf('%08x%08x%08x%08x%08x', f.oid1, f.oid2, f.oid3, f.oid4, f.oid5))`,
  type: typeChar('f.restype'),
}
const K_COLS: Record<string, string> = {id: 'k.id', name: 'k.name', imageid: 'k.imageid', image: 'k.image', type: "regexp_replace(k.type, '^CT_', '')", privileged: 'k.privileged'}
const D_COLS: Record<string, string> = {
  ts: 'd.ts', id: 'd.id', name: 'd.name', nodename: 'd.node_name', hostip: 'to_json(d.host_ip)', internalip: 'to_json(d.internal_ip)', namespace: 'd.namespace',
  restartcnt: 'd.restart_count', services: 'd.services', labels: 'd.labels', selectors: 'd.selectors',
}
const H_COLS: Record<string, string> = {id: 'h.exporter', ip: 'h.ip', schema: 'h.version', tracename: `CASE WHEN h.filename IS NULL THEN NULL ELSE ${basename('h.filename')} END`}

/** Per-context values (C), from `_ctx c` and the lists above. */
function ctxColumns(): Record<string, string> {
  const out: Record<string, string> = {
    proc_pid: 'c.pid',
    proc_createts: 'c.create_ts',
    pproc_pid: 'coalesce(P.hpid[c.pproc], P.poid_hpid[c.proc])',
    pproc_createts: 'coalesce(P.create_ts[c.pproc], P.poid_create_ts[c.proc])',
    proc_aname: 'list_transform(c.anc, k -> P.name[k])',
    proc_aexe: 'list_transform(c.anc, k -> P.exe_raw[k])',
    proc_acmdline: 'list_transform(c.anc, k -> P.cmdline[k])',
    proc_apid: 'list_transform(c.anc, k -> P.hpid[k])',
  }
  for (const a of ['uid', 'user', 'gid', 'group', 'cwd', 'exe', 'args', 'name', 'cmdline', 'tty', 'entry', 'env', 'oid']) {
    out[`proc_${a}`] = `P.${a}[c.proc]`
    out[`pproc_${a}`] = `P.${a}[c.pproc]`
  }
  for (const a of Object.keys(K_COLS)) out[`container_${a}`] = `K.${a}[c.container]`
  for (const a of Object.keys(D_COLS)) out[`pod_${a}`] = `D.${a}[c.pod]`
  for (const a of Object.keys(H_COLS)) out[a === 'schema' || a === 'tracename' ? `meta_${a}` : `node_${a}`] = `H.${a}[c.header]`
  return out
}
const C_COLS = ctxColumns()

/** Per-`_aux`-row values (A): the rename target's file values and the IPs and ports as text. */
function auxColumns(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of RECORD_FIELDS) if (f.table === '_aux') out[f.field] = `a.${f.field}`
  for (const a of Object.keys(F_COLS)) if (a !== 'type') out[`new${a}`] = `F.${a}[a.newfile]`
  out.sip_text = dotted('a.sip')
  out.dip_text = dotted('a.dip')
  out.ip = `CASE WHEN a.sip IS NULL THEN NULL ELSE [${dotted('a.sip')}, ${dotted('a.dip')}] END`
  out.port = 'CASE WHEN a.sport IS NULL THEN NULL ELSE [a.sport::VARCHAR, a.dport::VARCHAR] END'
  return out
}
const A_COLS = auxColumns()

/**
 * SQL of each derived events column, by sf name (over `e`, the fact row, and the CTE lists). These are the
 * attributes the loader does not store per record: the plan asks for exactly this set.
 */
function derivedSql(): Map<string, string> {
  const m = new Map<string, string>()
  for (const c of Object.keys(C_COLS)) m.set(`sf.${c.replace('_', '.')}`, `C.${c}[e.ctx]`)
  for (const a of Object.keys(F_COLS)) {
    m.set(`sf.file.${a}`, `F.${a}[e.file]`)
    if (a !== 'type') m.set(`sf.file.new${a}`, `A.new${a}[e.aux]`)
  }
  m.set('sf.net.sip', 'A.sip_text[e.aux]')
  m.set('sf.net.dip', 'A.dip_text[e.aux]')
  m.set('sf.net.ip', 'A.ip[e.aux]')
  m.set('sf.net.port', 'A.port[e.aux]')
  return m
}

const DERIVED_SQL = derivedSql()
/** The sf names the query layer computes (the loader's NarrowBuilder takes this set). */
export const DERIVABLE: ReadonlySet<string> = new Set(DERIVED_SQL.keys())

let cachedPlan: NarrowPlan | undefined
export function plan(): NarrowPlan {
  return (cachedPlan ??= narrowPlan(DERIVABLE))
}

/** CREATE TABLE statements of the narrow tables and the strings table. */
export function tableDdl(): string[] {
  const out = ['CREATE TABLE IF NOT EXISTS _strings (id INTEGER, s VARCHAR)']
  for (const t of plan().tables) out.push(`CREATE TABLE IF NOT EXISTS ${q(t.name)} (${t.columns.map((c) => `${q(c.name)} ${storageType(c.kind)}`).join(', ')})`)
  return out
}

/** A fingerprint of the layout: a database written with another layout cannot be appended to or queried. */
export function layoutFingerprint(): string {
  return plan().tables.map((t) => `${t.name}(${t.columns.map((c) => `${c.name}:${c.kind}`).join(',')})`).join(';')
}

/** `SELECT list(x ORDER BY key) AS name, ... FROM table alias[, more]`: one row of lists indexed by key. */
function lists(table: string, alias: string, cols: Record<string, string>, extraFrom = ''): string {
  const items = Object.entries(cols).map(([k, x]) => `list(${x} ORDER BY ${alias}.key) AS ${q(k)}`)
  return `SELECT ${items.join(', ')} FROM ${table} ${alias}${extraFrom}`
}

/** The `events` view. */
export function eventsViewSql(): string {
  const p = plan()
  const select: string[] = []
  for (const c of EVENT_COLUMNS) {
    const st = p.storage.get(c.name)!
    let expr: string
    if (c.attr === undefined) expr = 'make_timestamp_ns(e.ts)'
    else if (st.at === 'fact') expr = `e.${q(st.column)}`
    else if (st.at === 'aux') expr = `A.${q(st.column)}[e.aux]`
    else if (st.at === 'shape') expr = `T.${q(st.column)}[e.shape]`
    else {
      const sql = DERIVED_SQL.get(c.attr.sf!)
      if (sql === undefined) throw new Error(`no SQL for the derived column ${c.name}`)
      expr = sql
    }
    select.push(`CAST(${expr} AS ${duckdbType(c.type)}) AS ${q(c.name)}`)
  }
  const shapeCols = Object.fromEntries(p.shape.map((s) => [s.col.name, `t.${q(s.col.name)}`]))
  const files = lists('_files', 'f', F_COLS, `, ${S_TABLE}`)
  const ctes = [
    `P AS (${lists('_processes', 'p', P_COLS, `, ${S_TABLE}`)})`,
    `K AS (${lists('_containers', 'k', K_COLS)})`,
    `D AS (${lists('_pods', 'd', D_COLS)})`,
    `H AS (${lists('_headers', 'h', H_COLS)})`,
    `T AS (${lists('_shape', 't', shapeCols)})`,
    `C AS (${lists('_ctx', 'c', C_COLS, ', P, K, D, H')})`,
    `F AS (${files})`,
    // The rename targets' file values come from a second copy of the file lists (F is referenced once).
    `A AS (${lists('_aux', 'a', A_COLS, `, (${files}) F`)})`,
  ]
  return `CREATE OR REPLACE VIEW events AS WITH ${ctes.join(',\n  ')}\nSELECT ${select.join(',\n  ')}\nFROM _events e, T, C, F, A`
}

/** The entity views: the raw entity fields, strings resolved, internal keys hidden. */
export function entityViewsSql(): string[] {
  const out: string[] = []
  for (const t of ENTITY_TABLES) {
    const cols = entityColumns(t)
    const needsS = t.columns.some((c) => c.ref === 'sid')
    out.push(`CREATE OR REPLACE VIEW ${q(ENTITY_VIEWS[t.name])} AS SELECT ${cols.join(', ')} FROM ${q(t.name)} x${needsS ? `, ${S_TABLE}` : ''}`)
  }
  return out
}

function entityColumns(t: NarrowTable): string[] {
  const cols: string[] = []
  for (const c of t.columns) {
    if (c.name === 'key') continue
    if (t.name === '_files' && /^oid\d$/.test(c.name)) continue
    if (t.name === '_files' && c.name === 'oid_text') {
      cols.push(`${F_COLS.oid.replace(/\bf\./g, 'x.')} AS oid`)
      continue
    }
    let x = `x.${q(c.name)}`
    if (c.ref === 'sid') x = c.kind === 'list<int32>' ? `CASE WHEN ${x} IS NULL THEN NULL ELSE list_transform(${x}, i -> S.s[i]) END` : `S.s[${x}]`
    if (c.json) x = `CAST(${x} AS JSON)`
    cols.push(`${x} AS ${q(c.name)}`)
  }
  return cols
}

/** Every view a user sees, in the order `--schema` lists them. */
export const USER_VIEWS: readonly string[] = ['events', ...ENTITY_TABLES.map((t) => ENTITY_VIEWS[t.name])]
