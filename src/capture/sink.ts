// Where the processors put their records (the collector's SysFlowWriter): one array, drained by the caller in
// batches, and a switch that silences records while an unwanted event (-c and a host thread) still updates state.
import type {SysFlowRecord} from '../format/records.js'

export class RecordSink {
  readonly out: SysFlowRecord[] = []
  /** Set while handling an event whose records are not wanted. */
  quiet = false
}
