// Tier 1: the libscap C API as ffi-rs sees it. Each declaration sits under the C prototype it mirrors
// (Debian libfalcosecurity0 0.1.1dev+git20220316.e5c53d64, /usr/include/falcosecurity-libs/userspace/libscap/scap.h).
// Nothing here interprets results; src/native/scap.ts does that.
import {DataType, JsExternal, load, open} from 'ffi-rs'

/** The ffi-rs library keys (ffi-rs keeps one open library per key). */
export const LIB = 'sysflow_libscap'
export const LIBC = 'sysflow_libc'

export function openLibraries(scapPath: string): void {
  open({library: LIB, path: scapPath})
  // '' opens the running process image, which has libc's symbols.
  open({library: LIBC, path: ''})
}

const E = DataType.External

function call<T>(funcName: string, retType: DataType, paramsType: DataType[], paramsValue: unknown[], library = LIB): T {
  return load({library, funcName, retType, paramsType, paramsValue}) as T
}

// scap_t* scap_open_offline(const char* fname, char *error, int32_t *rc);
export function scap_open_offline(fname: string, error: Buffer, rc: Buffer): JsExternal {
  return call('scap_open_offline', E, [DataType.String, DataType.U8Array, DataType.U8Array], [fname, error, rc])
}

// scap_t* scap_open_live(char *error, int32_t *rc);
export function scap_open_live(error: Buffer, rc: Buffer): JsExternal {
  return call('scap_open_live', E, [DataType.U8Array, DataType.U8Array], [error, rc])
}

// void scap_close(scap_t* handle);
export function scap_close(h: JsExternal): void {
  call('scap_close', DataType.Void, [E], [h])
}

// const char* scap_getlasterr(scap_t* handle);
export function scap_getlasterr(h: JsExternal): string {
  return call('scap_getlasterr', DataType.String, [E], [h])
}

// int32_t scap_next(scap_t* handle, OUT scap_evt** pevent, OUT uint16_t* pcpuid);
// `pevent` is a native 8-byte slot (createPointer), so no per-call copy of the out-pointer is needed.
export function scap_next(h: JsExternal, peventSlot: JsExternal, pcpuid: Buffer): number {
  return call('scap_next', DataType.I32, [E, E, DataType.U8Array], [h, peventSlot, pcpuid])
}

// const struct ppm_event_info* scap_get_event_info_table();
export function scap_get_event_info_table(): JsExternal {
  return call('scap_get_event_info_table', E, [], [])
}

// scap_threadinfo* scap_get_proc_table(scap_t* handle);
export function scap_get_proc_table(h: JsExternal): JsExternal {
  return call('scap_get_proc_table', E, [E], [h])
}

// scap_userlist* scap_get_user_list(scap_t* handle);
export function scap_get_user_list(h: JsExternal): JsExternal {
  return call('scap_get_user_list', E, [E], [h])
}

// const scap_machine_info* scap_get_machine_info(scap_t* handle);
export function scap_get_machine_info(h: JsExternal): JsExternal {
  return call('scap_get_machine_info', E, [E], [h])
}

// int32_t scap_get_stats(scap_t* handle, OUT scap_stats* stats);   (scap_stats: 9 x uint64_t = 72 bytes)
export function scap_get_stats(h: JsExternal, stats: Buffer): number {
  return call('scap_get_stats', DataType.I32, [E, DataType.U8Array], [h, stats])
}

// int64_t scap_get_readfile_offset(scap_t* handle);
export function scap_get_readfile_offset(h: JsExternal): number {
  return call('scap_get_readfile_offset', DataType.I64, [E], [h])
}

// uint64_t scap_get_driver_api_version(scap_t* handle);
export function scap_get_driver_api_version(h: JsExternal): number {
  return call('scap_get_driver_api_version', DataType.U64, [E], [h])
}

// int32_t scap_clear_eventmask(scap_t* handle);
export function scap_clear_eventmask(h: JsExternal): number {
  return call('scap_clear_eventmask', DataType.I32, [E], [h])
}

// int32_t scap_set_eventmask(scap_t* handle, uint32_t event_id);
export function scap_set_eventmask(h: JsExternal, evt: number): number {
  return call('scap_set_eventmask', DataType.I32, [E, DataType.U32], [h, evt])
}

// int32_t scap_set_snaplen(scap_t* handle, uint32_t snaplen);
export function scap_set_snaplen(h: JsExternal, snaplen: number): number {
  return call('scap_set_snaplen', DataType.I32, [E, DataType.U32], [h, snaplen])
}

// void* memmove(void* dst, const void* src, size_t n);  -- with n = 0, it returns `dst` as a pointer: the only
// way ffi-rs offers to turn an address read from native memory into a JsExternal.
export function pointerAt(address: bigint): JsExternal {
  return call('memmove', E, [DataType.BigInt, DataType.BigInt, DataType.U64], [address, address, 0], LIBC)
}
