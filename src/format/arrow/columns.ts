// The `events` columns, generated from the attribute catalogue: one column per `sf.*` attribute, named without the
// `sf.` prefix and with `_` for `.` (sf.proc.exe -> proc_exe), in catalogue order, plus `time` (the instant of `ts`
// as a nanosecond timestamp) right after `ts`. The Arrow schema, the DuckDB view and the Parquet export all come
// from this list, so they cannot drift from the catalogue.
import {DataType, Field, Int32, Int64, List, Bool, Schema, TimestampNanosecond, Utf8} from 'apache-arrow'
import {ATTRIBUTES, Attribute, AttrType} from '../attributes.js'
import type {BufferKind} from './buffers.js'

/** The column types an `events` column can have: the catalogue's, plus `timestamp` for `time`. */
export type ColumnType = Exclude<AttrType, 'time'> | 'timestamp'

export interface EventColumn {
  /** Column name, e.g. `proc_exe`. */
  name: string
  type: ColumnType
  /** The catalogue entry; undefined for `time` (derived from `sf.ts`). */
  attr: Attribute | undefined
}

/** `sf.proc.exe` -> `proc_exe`. */
export function columnName(sf: string): string {
  return (sf.startsWith('sf.') ? sf.slice(3) : sf).replace(/\./g, '_')
}

function buildColumns(): EventColumn[] {
  const out: EventColumn[] = []
  const seen = new Set<string>()
  for (const a of ATTRIBUTES) {
    if (!a.sf) continue
    if (a.type === 'time') throw new Error(`${a.sf}: 'time' attributes have no events column type`)
    const name = columnName(a.sf)
    if (seen.has(name)) throw new Error(`two catalogue attributes map to the events column ${name}`)
    seen.add(name)
    out.push({name, type: a.type, attr: a})
    if (a.sf === 'sf.ts') out.push({name: 'time', type: 'timestamp', attr: undefined})
  }
  if (seen.has('time')) throw new Error('a catalogue attribute maps to the reserved events column `time`')
  return out
}

/** Every `events` column, in order. */
export const EVENT_COLUMNS: readonly EventColumn[] = buildColumns()

/** The JSON-typed columns carry Arrow's canonical JSON extension type name in their field metadata. */
export const ARROW_JSON_METADATA: ReadonlyMap<string, string> = new Map([['ARROW:extension:name', 'arrow.json']])

/** The Arrow type of a column type (lists of strings and of int64 are `List<Utf8>` and `List<Int64>`). */
export function arrowType(t: ColumnType): DataType {
  switch (t) {
    case 'string':
    case 'char':
    case 'json':
      return new Utf8()
    case 'int':
      return new Int32()
    case 'int64':
      return new Int64()
    case 'bool':
      return new Bool()
    case 'strlist':
      return new List(new Field('item', new Utf8(), true))
    case 'intlist':
      return new List(new Field('item', new Int64(), true))
    case 'timestamp':
      return new TimestampNanosecond()
  }
}

export function arrowField(c: EventColumn): Field {
  return new Field(c.name, arrowType(c.type), true, c.type === 'json' ? new Map(ARROW_JSON_METADATA) : undefined)
}

/** The Arrow schema of the wide `events` record batches (every catalogue column, plus `time`). */
export function eventsSchema(): Schema {
  return new Schema(EVENT_COLUMNS.map(arrowField))
}

/** Raw storage of a catalogue value in an Arrow buffer: strings as text, lists as lists. */
export function bufferKind(t: ColumnType): BufferKind {
  switch (t) {
    case 'string':
    case 'char':
    case 'json':
      return 'utf8'
    case 'int':
      return 'int32'
    case 'int64':
      return 'int64'
    case 'bool':
      return 'bool'
    case 'strlist':
      return 'list<utf8>'
    case 'intlist':
      return 'list<int64>'
    case 'timestamp':
      return 'timestamp'
  }
}

/** Attributes that depend only on the record kind and its flags (one "shape" per combination). */
export const SHAPE_ATTRIBUTES: ReadonlySet<string> = new Set(['sf.type', 'sf.opflags', 'sf.file.openflags', 'sf.file.is_open_read', 'sf.file.is_open_write', 'sf.ke.action', 'sf.ke.kind'])
