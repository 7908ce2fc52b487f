// The collector's file-event processor (fileeventprocessor.cpp): mkdir, rmdir, unlink (one file, CREATED) and link,
// symlink, rename (the old path REUP, the new one CREATED), each a FileEvent after its process and files.
import {Kind} from '../format/records.js'
import type {FileContext, ProcessContext} from './context.js'
import type {RecordSink} from './sink.js'
import type {Thread} from './state.js'

export class FileEventProcessor {
  constructor(private readonly sink: RecordSink, private readonly procs: ProcessContext, private readonly files: FileContext) {}

  /** A file event of thread `t` on `path1` (and `path2` for the two-file operations), paths already resolved. */
  write(t: Thread, ts: bigint, op: number, res: number, restype: number, path1: string, path2: string | undefined): void {
    if (this.sink.quiet) return
    const proc = this.procs.getProcess(t, 'REUP', ts)
    const cid = t.containerId
    const two = path2 !== undefined
    const oid1 = this.files.write(cid, path1, two ? 'REUP' : 'CREATED', restype, ts)
    const oid2 = path2 !== undefined ? this.files.write(cid, path2, 'CREATED', restype, ts) : null
    this.sink.out.push({kind: Kind.FileEvent, procOID: proc.rec.oid, ts, tid: BigInt(t.tid), opFlags: op, fileOID: oid1, ret: res, newFileOID: oid2})
  }
}
