// socketWriter(): records streamed to the SysFlow processor's unix socket (the collector's -u), fed typed records
// (as read) or joined records (from records() or the callback), like writer(). See src/capture/socket-output.ts.
import {SocketOutput, SocketOutputOptions, SocketOutputResult} from '../capture/socket-output.js'
import {compileFilter} from '../format/filter/index.js'
import {Joined} from '../format/join.js'

export interface SysFlowSocketOptions extends Omit<SocketOutputOptions, 'filter'> {
  /** Send only event and flow records matching this SysFlow condition (or predicate). */
  filter?: string | ((j: Joined) => boolean)
}

export type SysFlowSocketResult = SocketOutputResult

/** Writes records to a processor socket: write() (await a returned promise), then close() for the counts. */
export class SysFlowSocketWriter extends SocketOutput {
  constructor(path: string, options: SysFlowSocketOptions = {}) {
    super(path, {...options, filter: typeof options.filter === 'string' ? compileFilter(options.filter) : options.filter})
  }
}

/** A writer to the SysFlow processor listening on the unix socket `path` (SOCK_SEQPACKET). */
export function socketWriter(path: string, options: SysFlowSocketOptions = {}): SysFlowSocketWriter {
  return new SysFlowSocketWriter(path, options)
}
