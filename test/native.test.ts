// libscap bindings: the bulk block reader gives exactly the events libscap's scap_next gives.
import test from 'ava'
import path from 'node:path'
import {EF_LARGE_PAYLOAD, eventInfoTable, ScapHandle, SCAP_EOF} from '../src/native/scap.js'
import {EventBlockReader} from '../src/native/savefile.js'
import {LibscapUnavailableError, loadLibscap, findSystemLibscap} from '../src/native/loader.js'
import {sharedDir} from './helpers/shared.js'

const haveLibscap = Boolean(process.env.SYSFLOW_LIBSCAP) || findSystemLibscap() !== undefined
const traces = sharedDir('traces')

test('a missing libscap is one clear error with exit code 3', (t) => {
  const e = t.throws(() => loadLibscap('/nonexistent/libscap.so'), {instanceOf: LibscapUnavailableError})
  t.is(e.exitCode, 3)
  t.regex(e.message, /libfalcosecurity0/)
})

if (!traces || !haveLibscap) test.skip('bulk reader = scap_next (needs ../shared/traces and libscap)', () => {})
else {
  // V2 event blocks (collector captures) and old V1 blocks (the Falco captures, converted as libscap converts them).
  const files = ['collector/rename/rename.scap', 'collector/files/files.scap', 'falco/cat_write.scap', 'falco/connect_localhost.scap', 'falco/open-multiple-files.scap', 'falco/privileged.scap']
  for (const f of files) {
    test(`bulk reader = scap_next: ${f}`, async (t) => {
      const file = path.join(traces, f)
      const table = eventInfoTable()
      // Small chunks, so events straddle chunk boundaries.
      const reader = new EventBlockReader(file, table.map((e) => e.params.length), 4096, table.map((e) => (e.flags & EF_LARGE_PAYLOAD) !== 0))
      await reader.readHead()
      const h = ScapHandle.openOfflineSync(file)
      let n = 0
      try {
        t.true(h.procTable().length > 0)
        t.truthy(h.machineInfo().hostname)
        for (;;) {
          const a = h.nextSync()
          let b = reader.nextView()
          while (b === null) {
            await reader.refill()
            b = reader.nextView()
          }
          if (a === SCAP_EOF) {
            t.is(b, undefined)
            break
          }
          t.true(Buffer.isBuffer(a) && b !== undefined && (a as Buffer).equals(b), `event ${n}`)
          n++
        }
      } finally {
        h.close()
        await reader.close()
      }
      t.true(n > 0)
    })
  }
}
