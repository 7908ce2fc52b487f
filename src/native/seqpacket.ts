// Tier 2: SOCK_SEQPACKET unix sockets over libc: what the SysFlow processor listens on (Go's "unixpacket"). Each
// send is one message, delivered whole or not at all, in order. Sends never block (MSG_DONTWAIT) and never raise
// SIGPIPE (MSG_NOSIGNAL): a full socket says EAGAIN, a peer gone says EPIPE, and the caller decides. Waiting is a
// timer, never a blocking call: no foreign call runs off the main thread (ffi-rs calls on a worker thread racing
// libscap's on the main one crashed the process).
import {setTimeout as sleep} from 'node:timers/promises'
import * as c from './socket-bindings.js'

const AF_UNIX = 1
const SOCK_SEQPACKET = 5
const SOCK_NONBLOCK = 0x800
const MSG_DONTWAIT = 0x40
const MSG_NOSIGNAL = 0x4000
/** sizeof(struct sockaddr_un): sa_family_t, then sun_path[108]. */
const SUN_PATH = 108

export const EAGAIN = 11

/** A socket call failed: the call, the path and errno. */
export class SocketError extends Error {
  constructor(readonly call: string, readonly path: string, readonly errno: number, message: string) {
    super(`${call} ${path}: ${message}`)
    this.name = 'SocketError'
  }
}

/** struct sockaddr_un for `path` (NUL-terminated; longer than sun_path allows is an error, as in C). */
export function sockaddrUn(path: string): Buffer {
  const p = Buffer.from(path, 'utf8')
  if (p.length >= SUN_PATH) throw new RangeError(`unix socket path too long (${p.length} bytes, at most ${SUN_PATH - 1}): ${path}`)
  const a = Buffer.alloc(2 + SUN_PATH)
  a.writeUInt16LE(AF_UNIX, 0)
  p.copy(a, 2)
  return a
}

function newSocket(path: string, flags = 0): number {
  const s = c.socket(AF_UNIX, SOCK_SEQPACKET | flags, 0)
  if (s.value < 0) throw new SocketError('socket', path, s.errnoCode, s.errnoMessage)
  return s.value
}

/** A connected SEQPACKET socket. */
export class SeqPacketSocket {
  private closed = false
  /** Wraps a connected descriptor (from connect() or a listener's accept()). */
  constructor(readonly fd: number, readonly path: string) {}

  /** Connect to `path`; a SocketError says why not (ENOENT, ECONNREFUSED: nobody listens there yet). */
  static connect(path: string): SeqPacketSocket {
    const fd = newSocket(path)
    const r = c.connect(fd, sockaddrUn(path))
    if (r.value !== 0) {
      c.close(fd)
      throw new SocketError('connect', path, r.errnoCode, r.errnoMessage)
    }
    return new SeqPacketSocket(fd, path)
  }

  /** Send one message without blocking: 0 when sent, else errno (EAGAIN: the socket is full, try again later). */
  send(msg: Buffer): number {
    const r = c.send(this.fd, msg, MSG_DONTWAIT | MSG_NOSIGNAL)
    return r.value === msg.length ? 0 : r.value < 0 ? r.errnoCode : EAGAIN
  }

  /** Receive one message, or undefined when none is waiting; an empty Buffer means the peer closed. */
  recv(buf: Buffer): Buffer | undefined {
    const r = c.recv(this.fd, buf, MSG_DONTWAIT)
    if (r.value < 0) {
      if (r.errnoCode === EAGAIN) return undefined
      throw new SocketError('recv', this.path, r.errnoCode, r.errnoMessage)
    }
    return Buffer.from(buf.subarray(0, r.value))
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    c.close(this.fd)
  }
}

/** A listening SEQPACKET socket (the processor's side; tests use it to read what we send). */
export class SeqPacketListener {
  private closed = false
  readonly fd: number

  constructor(readonly path: string, backlog = 16) {
    // Non-blocking, so that accept() says EAGAIN instead of waiting.
    this.fd = newSocket(path, SOCK_NONBLOCK)
    const b = c.bind(this.fd, sockaddrUn(path))
    const l = b.value === 0 ? c.listen(this.fd, backlog) : b
    if (l.value !== 0) {
      c.close(this.fd)
      throw new SocketError(b.value === 0 ? 'listen' : 'bind', path, l.errnoCode, l.errnoMessage)
    }
  }

  /** The next connection; checks every `everyMs` without blocking the event loop. */
  async accept(everyMs = 5): Promise<SeqPacketSocket> {
    for (;;) {
      if (this.closed) throw new SocketError('accept', this.path, 9, 'listener closed')
      const r = c.accept(this.fd)
      if (r.value >= 0) return new SeqPacketSocket(r.value, this.path)
      if (r.errnoCode !== EAGAIN) throw new SocketError('accept', this.path, r.errnoCode, r.errnoMessage)
      await sleep(everyMs)
    }
  }

  /** Stop listening (the socket file stays: the caller removes it, as the processor does on start). */
  close(): void {
    if (this.closed) return
    this.closed = true
    c.close(this.fd)
  }
}
