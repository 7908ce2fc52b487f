// The -c list of fields (print, convert). An empty list is a mistake, not "every field": it used to print every
// column in silence. Blank entries between commas ("type,,res", a trailing comma) are dropped.
import {UsageError} from './report.js'

/** The fields of a -c value, in order; undefined when -c was not given. Throws UsageError for an empty list. */
export function fieldList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const fields = value.split(',').map((s) => s.trim()).filter(Boolean)
  if (fields.length === 0) throw new UsageError(`-c: no fields in '${value}' (give comma-separated fields, 'sysflow print --list' shows them; -A prints every field)`)
  return fields
}
