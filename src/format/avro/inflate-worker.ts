// The inflate thread's body (./inflate-thread.ts): raw deflate payloads in, inflated payloads out, in order.
import {parentPort} from 'node:worker_threads'
import zlib from 'node:zlib'

export interface InflateRequest {
  id: number
  raw: Uint8Array
  chunkSize: number
  maxOutputLength: number
}

export type InflateReply = {id: number; out: ArrayBuffer; offset: number; length: number} | {id: number; error: string}

parentPort?.on('message', (m: InflateRequest) => {
  let reply: InflateReply
  let transfer: ArrayBuffer[] = []
  try {
    let out: Uint8Array = zlib.inflateRawSync(m.raw, {chunkSize: m.chunkSize, maxOutputLength: m.maxOutputLength})
    // Small results may live in Node's shared Buffer pool, which must not move: those are copied.
    if (out.length < 8192) out = new Uint8Array(out)
    reply = {id: m.id, out: out.buffer as ArrayBuffer, offset: out.byteOffset, length: out.length}
    transfer = [out.buffer as ArrayBuffer]
  } catch (e) {
    reply = {id: m.id, error: (e as Error).message}
  }
  parentPort!.postMessage(reply, transfer)
})
