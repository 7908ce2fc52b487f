// Which print format to use when none is asked for.
import {chooseColumns, ColumnChoice, PrintFormat} from '../format/printers/print.js'
import {strLineWidth} from '../format/printers/str.js'
import {OutputTarget} from './selection.js'

/**
 * Without -o: flatjson in a pipe; on a terminal, sysprint's str when its lines fit, else the table (which fits any
 * width), so that no row wraps. An explicit -o str is always sysprint's layout.
 */
export function defaultFormat(target: OutputTarget, choice: ColumnChoice): PrintFormat {
  if (!target.tty) return 'flatjson'
  return strLineWidth(chooseColumns('str', choice), target.columns) <= target.columns ? 'str' : 'table'
}
