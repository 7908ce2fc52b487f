// Tier 1: libbpf (Debian libbpf1, /usr/include/bpf/libbpf.h and bpf.h) and the few libc calls the ring buffer
// reader needs, as ffi-rs sees them. Each declaration sits under the C prototype it mirrors. Pointers travel as
// JsExternal; NULL is passed as a U64 0. Calls that can fail return errno with `errno: true`.
import {DataType, JsExternal, load, open} from 'ffi-rs'

export const LIBBPF = 'sysflow_libbpf'
export const LIBC = 'sysflow_libc_bpf'

export function openLibbpf(path: string): void {
  open({library: LIBBPF, path})
  // '' opens the running process image, which has libc's symbols.
  open({library: LIBC, path: ''})
}

const E = DataType.External
const I32 = DataType.I32

export interface WithErrno<T> {
  value: T
  errnoCode: number
  errnoMessage: string
}

function call<T>(funcName: string, retType: DataType, paramsType: DataType[], paramsValue: unknown[], library = LIBBPF): T {
  return load({library, funcName, retType, paramsType, paramsValue}) as T
}

function callErrno<T>(funcName: string, retType: DataType, paramsType: DataType[], paramsValue: unknown[], library = LIBBPF): WithErrno<T> {
  return load({library, funcName, retType, paramsType, paramsValue, errno: true}) as unknown as WithErrno<T>
}

// libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn);   (NULL silences libbpf's own stderr output)
export function libbpf_set_print_null(): void {
  call('libbpf_set_print', DataType.U64, [DataType.U64], [0])
}

// struct bpf_object *bpf_object__open_file(const char *path, const struct bpf_object_open_opts *opts);
export function bpf_object__open_file(path: string): WithErrno<JsExternal> {
  return callErrno('bpf_object__open_file', E, [DataType.String, DataType.U64], [path, 0])
}

// int bpf_object__load(struct bpf_object *obj);
export function bpf_object__load(obj: JsExternal): number {
  return call('bpf_object__load', I32, [E], [obj])
}

// void bpf_object__close(struct bpf_object *obj);
export function bpf_object__close(obj: JsExternal): void {
  call('bpf_object__close', DataType.Void, [E], [obj])
}

// struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name);
export function bpf_object__find_program_by_name(obj: JsExternal, name: string): JsExternal {
  return call('bpf_object__find_program_by_name', E, [E, DataType.String], [obj, name])
}

// struct bpf_link *bpf_program__attach(const struct bpf_program *prog);
export function bpf_program__attach(prog: JsExternal): WithErrno<JsExternal> {
  return callErrno('bpf_program__attach', E, [E], [prog])
}

// int bpf_link__destroy(struct bpf_link *link);
export function bpf_link__destroy(link: JsExternal): number {
  return call('bpf_link__destroy', I32, [E], [link])
}

// int bpf_object__find_map_fd_by_name(const struct bpf_object *obj, const char *name);
export function bpf_object__find_map_fd_by_name(obj: JsExternal, name: string): number {
  return call('bpf_object__find_map_fd_by_name', I32, [E, DataType.String], [obj, name])
}

// int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
export function bpf_map_update_elem(fd: number, key: Buffer, value: Buffer): WithErrno<number> {
  return callErrno('bpf_map_update_elem', I32, [I32, DataType.U8Array, DataType.U8Array, DataType.U64], [fd, key, value, 0])
}

// int bpf_map_lookup_elem(int fd, const void *key, void *value);   (value is an out buffer)
export function bpf_map_lookup_elem(fd: number, key: Buffer, value: Buffer): number {
  return call('bpf_map_lookup_elem', I32, [I32, DataType.U8Array, DataType.U8Array], [fd, key, value])
}

// int bpf_map_delete_elem(int fd, const void *key);
export function bpf_map_delete_elem(fd: number, key: Buffer): number {
  return call('bpf_map_delete_elem', I32, [I32, DataType.U8Array], [fd, key])
}

// int bpf_map_get_next_key(int fd, const void *key, void *next_key);   a key not in a hash map gives its first key;
// -ENOENT after the last
export function bpf_map_get_next_key(fd: number, key: Buffer, next: Buffer): number {
  return call('bpf_map_get_next_key', I32, [I32, DataType.U8Array, DataType.U8Array], [fd, key, next])
}

// int libbpf_num_possible_cpus(void);
export function libbpf_num_possible_cpus(): number {
  return call('libbpf_num_possible_cpus', I32, [], [])
}

// void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);   (the address as a bigint:
// MAP_FAILED is (void *)-1, which a JsExternal cannot show)
export function mmap(length: number, prot: number, flags: number, fd: number, offset: number): WithErrno<bigint> {
  return callErrno('mmap', DataType.BigInt, [DataType.U64, DataType.U64, I32, I32, I32, DataType.I64], [0, length, prot, flags, fd, offset], LIBC)
}

// void* memmove(void* dst, const void* src, size_t n);  -- with n = 0 it returns `dst` as a pointer: how ffi-rs
// turns an address into a JsExternal.
export function pointerAt(address: bigint): JsExternal {
  return call('memmove', E, [DataType.BigInt, DataType.BigInt, DataType.U64], [address, address, 0], LIBC)
}

// int munmap(void *addr, size_t length);
export function munmap(addr: JsExternal, length: number): number {
  return call('munmap', I32, [E, DataType.U64], [addr, length], LIBC)
}

// int poll(struct pollfd *fds, nfds_t nfds, int timeout);   on a libuv worker thread: the event loop never blocks
export function pollAsync(fds: Buffer, nfds: number, timeoutMs: number): Promise<number> {
  return load({library: LIBC, funcName: 'poll', retType: I32, paramsType: [DataType.U8Array, DataType.U64, I32], paramsValue: [fds, nfds, timeoutMs], runInNewThread: true}) as Promise<number>
}

// pid_t getpgid(pid_t pid);   the probe's marker call (see sysflow.bpf.c: SWEEP_MAGIC)
export function getpgid(pid: number): number {
  return call('getpgid', I32, [I32], [pid], LIBC)
}

// long sysconf(int name);
export function sysconf(name: number): number {
  return call('sysconf', DataType.I64, [I32], [name], LIBC)
}
