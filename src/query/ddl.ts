// The database layout: the narrow tables the loader fills (see src/format/arrow/narrow.ts), and the views users
// query: `events` (one column per catalogue attribute, in catalogue order, plus `time`) and the entity views
// `processes`, `files`, `containers`, `pods`, `k8s_events`, `headers`.
//
// The view reaches dimension rows by list lookup rather than by join: each dimension is aggregated once per query
// into lists ordered by key (`list(x ORDER BY key)`, keys dense from 1), and a fact row reads `list[key]`. DuckDB
// prunes the lists a query does not use, so `count(*)` costs no lookup at all and `group by proc_exe` one. The
// values that come from entities are computed here, once per entity, from the raw entity fields, mirroring the
// catalogue's value() functions; test/query-columns.test.ts checks every column against value() on every record of
// the fixtures and of the real traces. A Parquet export reads the same values through joins instead (the export
// form, below); test/query-export.test.ts checks that it equals the view row for row.
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
/** A SQL string literal. */
export const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`

/** ECMAScript's white space and line terminators: what String.prototype.trim() removes. */
const JS_WHITESPACE = '\t\n\u000b\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff'

// --- SQL mirrors of the catalogue's helpers (src/format/attributes.ts) ----------------------------------------

/** basename(): trailing slashes dropped (all but a lone first one), then what follows the last slash. */
const basename = (x: string): string => `regexp_extract(CASE WHEN regexp_full_match(${x}, '/+') THEN '/' ELSE regexp_replace(${x}, '/+$', '') END, '[^/]*$')`
/** dirname(): before the last slash; '/' when that is the first character; '' without a slash. */
// A NULL path has no directory (catalogue dirname(): undefined); without the first branch the ELSE gave '/'.
const dirname = (x: string): string => `CASE WHEN ${x} IS NULL THEN NULL WHEN strpos(${x}, '/') = 0 THEN '' ELSE coalesce(nullif(regexp_extract(${x}, '(?s)^(.*)/', 1), ''), '/') END`
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
  // Ancestry elements, as the catalogue's sf.proc.aname/aexe: a process without an exe gives ''.
  anc_name: basename(`coalesce(${str('p.exe')}, '')`),
  anc_exe: `coalesce(${str('p.exe')}, '')`,
  exe: `trim(${str('p.exe')}, ${lit(JS_WHITESPACE)})`,
  args: `trim(${str('p.exe_args')}, ${lit(JS_WHITESPACE)})`,
  name: basename(str('p.exe')),
  // As the catalogue's cmdline(): a missing exe or args is '' (the command line of a known process is never NULL).
  cmdline: `coalesce(${str('p.exe')}, '') || ' ' || coalesce(${str('p.exe_args')}, '')`,
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

/** How the per-context values read the entities of a context `c`: its process, parent, ancestry, container, pod, header. */
interface CtxReaders {
  proc: (x: string) => string
  pproc: (x: string) => string
  /** The list of value x of the ancestry `c.anc` (self first). */
  anc: (x: string) => string
  container: (x: string) => string
  pod: (x: string) => string
  header: (x: string) => string
}

/** Per-context values (C), from `_ctx c` and the entity values the readers give. */
function ctxColumns(r: CtxReaders): Record<string, string> {
  const out: Record<string, string> = {
    proc_pid: 'c.pid',
    proc_createts: 'c.create_ts',
    pproc_pid: `coalesce(${r.pproc('hpid')}, ${r.proc('poid_hpid')})`,
    pproc_createts: `coalesce(${r.pproc('create_ts')}, ${r.proc('poid_create_ts')})`,
    proc_aname: r.anc('anc_name'),
    proc_aexe: r.anc('anc_exe'),
    proc_acmdline: r.anc('cmdline'),
    proc_apid: r.anc('hpid'),
  }
  for (const a of ['uid', 'user', 'gid', 'group', 'cwd', 'exe', 'args', 'name', 'cmdline', 'tty', 'entry', 'env', 'oid']) {
    out[`proc_${a}`] = r.proc(a)
    out[`pproc_${a}`] = r.pproc(a)
  }
  for (const a of Object.keys(K_COLS)) out[`container_${a}`] = r.container(a)
  for (const a of Object.keys(D_COLS)) out[`pod_${a}`] = r.pod(a)
  for (const a of Object.keys(H_COLS)) out[a === 'schema' || a === 'tracename' ? `meta_${a}` : `node_${a}`] = r.header(a)
  return out
}
/** The view reads the entity lists P, K, D, H by key. */
const C_COLS = ctxColumns({
  proc: (x) => `P.${x}[c.proc]`,
  pproc: (x) => `P.${x}[c.pproc]`,
  anc: (x) => `list_transform(c.anc, k -> P.${x}[k])`,
  container: (x) => `K.${x}[c.container]`,
  pod: (x) => `D.${x}[c.pod]`,
  header: (x) => `H.${x}[c.header]`,
})
/**
 * An export joins the process rows (PC: the process, PP: the parent) and the ancestry lists AN. Containers, pods
 * and headers are few: their lists, as in the view, cost less than joins.
 */
const C_JOINED_COLS = ctxColumns({
  proc: (x) => `PC.${q(x)}`,
  pproc: (x) => `PP.${q(x)}`,
  // An empty ancestry has no AN row; the list form gives [] for it.
  anc: (x) => `CASE WHEN c.anc IS NULL THEN NULL WHEN len(c.anc) = 0 THEN [] ELSE AN.${q(x)} END`,
  container: (x) => `K.${x}[c.container]`,
  pod: (x) => `D.${x}[c.pod]`,
  header: (x) => `H.${x}[c.header]`,
})

/**
 * Per-`_aux`-row values (A): the rename target's file values and the IPs and ports as text. `newFile(x)` reads the
 * file value x of the rename target (key `a.newfile`).
 */
function auxColumns(newFile: (x: string) => string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of RECORD_FIELDS) if (f.table === '_aux') out[f.field] = `a.${f.field}`
  for (const a of Object.keys(F_COLS)) if (a !== 'type') out[`new${a}`] = newFile(a)
  out.sip_text = dotted('a.sip')
  out.dip_text = dotted('a.dip')
  out.ip = `CASE WHEN a.sip IS NULL THEN NULL ELSE [${dotted('a.sip')}, ${dotted('a.dip')}] END`
  out.port = 'CASE WHEN a.sport IS NULL THEN NULL ELSE [a.sport::VARCHAR, a.dport::VARCHAR] END'
  return out
}
/** From a second copy of the file lists (the list form), or from the joined file row `NF` (the export form). */
const A_COLS = auxColumns((x) => `F.${x}[a.newfile]`)
const A_JOINED_COLS = auxColumns((x) => `NF.${q(x)}`)

/** The per-entity value tables the events columns read (C: contexts, F: files, A: aux rows, T: shapes), and the fact-row key that reaches each. */
type Dim = 'C' | 'F' | 'A' | 'T'
const DIM_KEY: Record<Dim, string> = {C: 'ctx', F: 'file', A: 'aux', T: 'shape'}

/** Where a derived events column comes from: a column of one of the per-entity value tables. */
interface Source {
  dim: Dim
  col: string
}

/**
 * The source of each derived events column, by sf name. These are the attributes the loader does not store per
 * record: the plan asks for exactly this set.
 */
function derivedSources(): Map<string, Source> {
  const m = new Map<string, Source>()
  for (const c of Object.keys(C_COLS)) m.set(`sf.${c.replace('_', '.')}`, {dim: 'C', col: c})
  for (const a of Object.keys(F_COLS)) {
    m.set(`sf.file.${a}`, {dim: 'F', col: a})
    if (a !== 'type') m.set(`sf.file.new${a}`, {dim: 'A', col: `new${a}`})
  }
  m.set('sf.net.sip', {dim: 'A', col: 'sip_text'})
  m.set('sf.net.dip', {dim: 'A', col: 'dip_text'})
  m.set('sf.net.ip', {dim: 'A', col: 'ip'})
  m.set('sf.net.port', {dim: 'A', col: 'port'})
  return m
}

const DERIVED = derivedSources()
/** The sf names the query layer computes (the loader's NarrowBuilder takes this set). */
export const DERIVABLE: ReadonlySet<string> = new Set(DERIVED.keys())

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

/** `SELECT key AS _key, x AS name, ... FROM table alias[, more] WHERE ...`: the same values, one row per entity row. */
function rows(table: string, alias: string, cols: Record<string, string>, extraFrom = '', where = ''): string {
  const items = Object.entries(cols).map(([k, x]) => `${x} AS ${q(k)}`)
  return `SELECT ${alias}.key AS _key, ${items.join(', ')} FROM ${table} ${alias}${extraFrom}${where ? ` WHERE ${where}` : ''}`
}

/** The events columns, in order, as `CAST(expr AS type) AS name`; `value(dim, col)` reads a value table. */
function eventsSelect(value: (dim: Dim, col: string) => string): string[] {
  const p = plan()
  return EVENT_COLUMNS.map((c) => {
    const st = p.storage.get(c.name)!
    let expr: string
    if (c.attr === undefined) expr = 'make_timestamp_ns(e.ts)'
    else if (st.at === 'fact') expr = `e.${q(st.column)}`
    else if (st.at === 'aux') expr = value('A', st.column)
    else if (st.at === 'shape') expr = value('T', st.column)
    else {
      const src = DERIVED.get(c.attr.sf!)
      if (src === undefined) throw new Error(`no SQL for the derived column ${c.name}`)
      expr = value(src.dim, src.col)
    }
    return `CAST(${expr} AS ${duckdbType(c.type)}) AS ${q(c.name)}`
  })
}

/** The `events` view: list lookups, so that DuckDB prunes what a query does not read (see the top). */
export function eventsViewSql(): string {
  const shapeCols = Object.fromEntries(plan().shape.map((s) => [s.col.name, `t.${q(s.col.name)}`]))
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
  const select = eventsSelect((dim, col) => `${dim}.${q(col)}[e.${DIM_KEY[dim]}]`)
  return `CREATE OR REPLACE VIEW events AS WITH ${ctes.join(',\n  ')}\nSELECT ${select.join(',\n  ')}\nFROM _events e, T, C, F, A`
}

// --- the export form ----------------------------------------------------------------------------------------
// A full scan through the view's list lookups costs ~100 ns per value, most of an export's time. An export
// (./export.ts) instead writes the fact rows a slice at a time, each slice in tables of its own, and reaches the
// entity values by hash joins: each slice computes the values of the contexts, processes, files and aux rows it
// references, once per entity row, with the same expressions as the view (containers, pods and headers are few:
// their lists, as in the view). What a slice costs besides its own rows is a scan of the entity tables' keys and
// the strings list, small next to writing its rows.

/** The narrow tables a slice has of its own: its fact rows and their aux rows (no other row references them). */
export const SLICE_TABLES = ['_events', '_aux'] as const

/**
 * The entity tables whose rows belong to one generation: the entities of one header (or input) are referenced by
 * records of that header only (the joiner starts afresh at each), and the export reaches them through per-entity
 * joins (not list positions), so it may keep them in chunks and drop those no later record can reference.
 */
export const GENERATION_TABLES = ['_ctx', '_processes', '_files'] as const
export type GenerationTable = (typeof GENERATION_TABLES)[number]

/** CREATE TABLE of the narrow table `table` (one of SLICE_TABLES or GENERATION_TABLES), empty again. */
export function createTableSql(table: (typeof SLICE_TABLES)[number] | GenerationTable): string {
  const t = plan().tables.find((x) => x.name === table)!
  return `CREATE TABLE ${q(t.name)} (${t.columns.map((c) => `${q(c.name)} ${storageType(c.kind)}`).join(', ')})`
}

/**
 * Every `events` row of a slice (fact rows in table `events`, their aux rows in table `aux`), in the fact rows'
 * order, with the view's column names, types and values in the view's column order. The value tables are
 * left-joined with the slice on the probe side, which streams it in order; the caller must keep DuckDB from
 * reordering or flipping the joins (see ./export.ts). `entities` may give, for the entity tables whose rows the
 * export keeps in chunks (GENERATION_TABLES), the SQL source of their rows (a table name or a parenthesized union).
 */
export function sliceSelectSql(events: string, aux: string, entities: Partial<Record<GenerationTable, string>> = {}): string {
  const ev = (key: string) => `SELECT ${key} FROM ${q(events)}`
  const src = (t: GenerationTable): string => entities[t] ?? t
  const shapeCols = Object.fromEntries(plan().shape.map((s) => [s.col.name, `t.${q(s.col.name)}`]))
  const ancCols = ['anc_name', 'anc_exe', 'cmdline', 'hpid'].map((x) => `list(p.${q(x)} ORDER BY u.i) AS ${q(x)}`)
  const ctes = [
    `S AS (SELECT list(s ORDER BY id) AS s FROM _strings)`,
    `cx AS (SELECT * FROM ${src('_ctx')} WHERE key IN (${ev('ctx')}))`,
    `ax AS (SELECT * FROM ${q(aux)})`,
    `P AS (${rows(src('_processes'), 'p', P_COLS, ', S', 'p.key IN (SELECT proc FROM cx UNION ALL SELECT pproc FROM cx UNION ALL SELECT unnest(anc) FROM cx)')})`,
    `AN AS (SELECT u.key AS _key, ${ancCols.join(', ')} FROM (SELECT key, unnest(anc) AS k, generate_subscripts(anc, 1) AS i FROM cx) u LEFT JOIN P p ON p._key = u.k GROUP BY u.key)`,
    `K AS (${lists('_containers', 'k', K_COLS)})`,
    `D AS (${lists('_pods', 'd', D_COLS)})`,
    `H AS (${lists('_headers', 'h', H_COLS)})`,
    `F AS (${rows(src('_files'), 'f', F_COLS, ', S', `f.key IN (${ev('file')} UNION ALL SELECT newfile FROM ax)`)})`,
  ]
  const cJoins = [['PC', 'P', 'proc'], ['PP', 'P', 'pproc'], ['AN', 'AN', 'key']]
  const dims: Record<Dim, string> = {
    C: rows('cx', 'c', C_JOINED_COLS, `${cJoins.map(([alias, t, k]) => ` LEFT JOIN ${t} ${alias} ON ${alias}._key = c.${k}`).join('')}, K, D, H`),
    F: 'SELECT * FROM F',
    A: rows('ax', 'a', A_JOINED_COLS, ' LEFT JOIN F NF ON NF._key = a.newfile'),
    T: rows('_shape', 't', shapeCols),
  }
  // Each value table gets a row of NULLs under key 0 ("none"), so that every fact row finds exactly one row: a
  // hash join emits the rows that found one in probe order, but those that did not after them.
  const joins = (Object.keys(dims) as Dim[]).map((d) => `LEFT JOIN (${dims[d]} UNION ALL BY NAME SELECT 0 AS _key) ${d} ON ${d}._key = e.${DIM_KEY[d]}`)
  const select = eventsSelect((dim, col) => `${dim}.${q(col)}`)
  return `WITH ${ctes.join(',\n  ')}\nSELECT ${select.join(',\n  ')}\nFROM ${q(events)} e\n  ${joins.join('\n  ')}`
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
