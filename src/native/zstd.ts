// Zstandard compression through the system's libzstd (Debian's libzstd1, which apt itself depends on), for the
// Parquet pages the columnar export writes: Node 20's zlib has no zstd (it came in Node 22.15). One call per
// page: ffi-rs hands both Buffers' memory to C, so nothing is copied on the way.
import {DataType, load, open} from 'ffi-rs'

const LIB = 'sysflow_libzstd'
const PATHS = ['libzstd.so.1', '/usr/lib/x86_64-linux-gnu/libzstd.so.1', '/usr/lib/aarch64-linux-gnu/libzstd.so.1', '/usr/lib64/libzstd.so.1']

let state: 'unknown' | 'ready' | 'absent' = 'unknown'

function ready(): boolean {
  if (state === 'unknown') {
    state = 'absent'
    for (const path of PATHS) {
      try {
        open({library: LIB, path})
        // size_t ZSTD_compressBound(size_t srcSize): a call that cannot fail proves the symbols are there.
        load({library: LIB, funcName: 'ZSTD_compressBound', retType: DataType.U64, paramsType: [DataType.U64], paramsValue: [1]})
        state = 'ready'
        break
      } catch {
        // not at this path
      }
    }
  }
  return state === 'ready'
}

/** Whether libzstd could be loaded (the columnar Parquet writer needs it for its default codec). */
export function zstdAvailable(): boolean {
  return ready()
}

/** The largest a frame of `n` bytes compresses to (ZSTD_COMPRESSBOUND). */
function bound(n: number): number {
  return n + (n >>> 8) + (n < 128 * 1024 ? (128 * 1024 - n) >>> 11 : 0)
}

/** One zstd frame of `src` at `level`, written into `scratch` when it is large enough (returns a view of it). */
export function zstdCompress(src: Uint8Array, level: number, scratch?: Buffer): Buffer {
  if (!ready()) throw new Error('libzstd (libzstd.so.1) is not available')
  const cap = bound(src.length)
  const dst = scratch !== undefined && scratch.length >= cap ? scratch : Buffer.allocUnsafe(cap)
  // ffi-rs needs a Buffer (it reads the bytes of a Uint8Array as a copy otherwise).
  const input = Buffer.isBuffer(src) ? src : Buffer.from(src.buffer, src.byteOffset, src.length)
  // size_t ZSTD_compress(void *dst, size_t dstCapacity, const void *src, size_t srcSize, int compressionLevel)
  const n = load({
    library: LIB,
    funcName: 'ZSTD_compress',
    retType: DataType.U64,
    paramsType: [DataType.U8Array, DataType.U64, DataType.U8Array, DataType.U64, DataType.I32],
    paramsValue: [dst, cap, input, src.length, level],
  }) as number
  // Errors are the size_t values of -1..-120 (ZSTD_isError); the bound makes them impossible but for memory.
  if (n > cap) throw new Error(`zstd compression failed (code ${n})`)
  return dst.subarray(0, n)
}
