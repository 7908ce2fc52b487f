// The thread that encodes, compresses and writes the row groups of a columnar Parquet export (./sink.ts).
import {parentPort} from 'node:worker_threads'
import {ParquetFileWriter} from './file.js'
import {RowGroupEncoder} from './row-group.js'
import {buffersOf, FromWorker, openEncoder, ToWorker} from './sink.js'

let file: ParquetFileWriter | undefined
let encoder: RowGroupEncoder | undefined
const reply = (m: FromWorker) => parentPort!.postMessage(m)

parentPort!.on('message', (m: ToWorker) => {
  try {
    switch (m.type) {
      case 'open':
        ;({file, encoder} = openEncoder(m))
        return
      case 'group': {
        encoder!.write(m.data)
        // The arrays go back for a later row group.
        const arrays = {keys: m.data.keys, kinds: m.data.kinds, direct: m.data.direct, time: m.data.time}
        return parentPort!.postMessage({type: 'written', arrays} satisfies FromWorker, buffersOf(arrays))
      }
      case 'close':
        file!.close()
        return reply({type: 'closed'})
      case 'abandon':
        file?.abandon()
        file = undefined
        return reply({type: 'closed'})
    }
  } catch (e) {
    reply({type: 'error', message: e instanceof Error ? e.message : String(e)})
  }
})
