// Tier 1: the libc socket calls a SOCK_SEQPACKET unix socket needs (Node's net has no SEQPACKET), as ffi-rs sees
// them. Each declaration sits under the C prototype it mirrors (glibc, <sys/socket.h>, <unistd.h>). Calls
// that can fail return errno with `errno: true`; NULL is passed as a U64 0. Nothing here interprets results:
// src/native/seqpacket.ts does that.
import {DataType, load, open} from 'ffi-rs'

export const LIBC = 'sysflow_libc_socket'

let opened = false
function lib(): string {
  // '' opens the running process image, which has libc's symbols.
  if (!opened) open({library: LIBC, path: ''})
  opened = true
  return LIBC
}

const I32 = DataType.I32
const I64 = DataType.I64

export interface WithErrno<T> {
  value: T
  errnoCode: number
  errnoMessage: string
}

function callErrno<T>(funcName: string, retType: DataType, paramsType: DataType[], paramsValue: unknown[]): WithErrno<T> {
  return load({library: lib(), funcName, retType, paramsType, paramsValue, errno: true}) as unknown as WithErrno<T>
}

// int socket(int domain, int type, int protocol);
export function socket(domain: number, type: number, protocol: number): WithErrno<number> {
  return callErrno('socket', I32, [I32, I32, I32], [domain, type, protocol])
}

// int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen);
export function connect(fd: number, addr: Buffer): WithErrno<number> {
  return callErrno('connect', I32, [I32, DataType.U8Array, DataType.U32], [fd, addr, addr.length])
}

// int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen);
export function bind(fd: number, addr: Buffer): WithErrno<number> {
  return callErrno('bind', I32, [I32, DataType.U8Array, DataType.U32], [fd, addr, addr.length])
}

// int listen(int sockfd, int backlog);
export function listen(fd: number, backlog: number): WithErrno<number> {
  return callErrno('listen', I32, [I32, I32], [fd, backlog])
}

// int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);   (no peer address: NULLs)
export function accept(fd: number, flags = 0): WithErrno<number> {
  return callErrno('accept4', I32, [I32, DataType.U64, DataType.U64, I32], [fd, 0, 0, flags])
}

// ssize_t send(int sockfd, const void *buf, size_t len, int flags);
export function send(fd: number, buf: Buffer, flags: number): WithErrno<number> {
  return callErrno('send', I64, [I32, DataType.U8Array, DataType.U64, I32], [fd, buf, buf.length, flags])
}

// ssize_t recv(int sockfd, void *buf, size_t len, int flags);   (buf is an out buffer)
export function recv(fd: number, buf: Buffer, flags: number): WithErrno<number> {
  return callErrno('recv', I64, [I32, DataType.U8Array, DataType.U64, I32], [fd, buf, buf.length, flags])
}

// int close(int fd);
export function close(fd: number): number {
  return load({library: lib(), funcName: 'close', retType: I32, paramsType: [I32], paramsValue: [fd]}) as number
}
