// Compile-time checks of the consumer API's types (the build type-checks this file; it has no runtime test).
// Each @ts-expect-error must be an error, or the build fails: a type that loosened to any shows up here.
import {attr, Kind, records, SysFlowDriver, writer, type EventRecord, type JoinedRecord, type SysFlowConfig} from '../src/index.js'

export async function typed(): Promise<number> {
  const config: SysFlowConfig = {
    input: 'a.sf',
    collectionMode: 'nofiles',
    fileReadMode: 0,
    callback: (header, container, process, file, file2, record: EventRecord, joined: JoinedRecord) => {
      const ts: bigint = record.ts
      if (record.kind === Kind.NetworkFlow) {
        const dport: number | undefined = record.dport // absent where a writer lacked the field
        void dport
      }
      // @ts-expect-error a FileEvent has no dport
      if (record.kind === Kind.FileEvent) void record.dport
      void [header?.version, container?.image, process?.oid.hpid, file?.restype, file2?.path, ts, joined.pproc]
    },
  }
  const stats = await new SysFlowDriver(config).run()
  // @ts-expect-error fileReadMode is 0, 1 or 2
  void new SysFlowDriver({fileReadMode: 3, callback: () => undefined})
  // @ts-expect-error stats.records is a number
  const s: string = stats.records
  void s
  for await (const r of records(['a.sf', 'b.sf'])) void attr(r, 'sf.proc.exe')
  const w = writer('x.sf')
  // @ts-expect-error write takes records, not strings
  w.write('x')
  return stats.records
}
