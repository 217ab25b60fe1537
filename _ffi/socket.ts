// Copyright 2026 the posix-ipc authors. MIT license.
// AF_UNIX sockets through libc: sockaddr_un, socket creation, SCM_RIGHTS
// messages and SO_PEERCRED.

import { C, E, IS_LINUX } from "./constants.ts";
import { describe } from "./cstring.ts";
import { check, lastError } from "./errno.ts";
import { closeFd, setCloseOnExec, setNonBlocking } from "./fd.ts";
import { errno, libc } from "./libc.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Most fds one message carries (Linux SCM_MAX_FD). */
export const MAX_FDS_PER_MESSAGE = 253;

/**
 * Encodes a `struct sockaddr_un` for a filesystem path.
 *
 * @throws {TypeError} If the path is not a non-empty string.
 * @throws {RangeError} If it does not fit `sun_path` (107 bytes on Linux).
 */
export function sockaddrUn(
  path: unknown,
  call: string,
): { addr: Uint8Array<ArrayBuffer>; len: number } {
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    throw new TypeError(
      `${call}: the socket path must be a non-empty string without NUL, got ${
        describe(path)
      }`,
    );
  }
  const bytes = encoder.encode(path);
  if (bytes.length >= C.SUN_PATH_MAX) {
    throw new RangeError(
      `${call}: the socket path is ${bytes.length} bytes; at most ${
        C.SUN_PATH_MAX - 1
      } fit in sockaddr_un: ${JSON.stringify(path)}`,
    );
  }
  const addr = new Uint8Array(C.SIZEOF_SOCKADDR_UN);
  if (IS_LINUX) new DataView(addr.buffer).setUint16(0, C.AF_UNIX, true);
  else {
    addr[0] = C.SIZEOF_SOCKADDR_UN;
    addr[1] = C.AF_UNIX;
  }
  addr.set(bytes, C.SUN_PATH_OFFSET);
  return { addr, len: C.SUN_PATH_OFFSET + bytes.length + 1 };
}

/** Decodes the path of a `struct sockaddr_un` (null for unnamed sockets). */
export function decodeSockaddrUn(addr: Uint8Array, len: number): string | null {
  if (len <= C.SUN_PATH_OFFSET) return null;
  const raw = addr.subarray(C.SUN_PATH_OFFSET, len);
  if (raw[0] === 0) {
    // Abstract namespace (Linux): shown with a leading "@", as ss(8) does.
    return "@" + decoder.decode(raw.subarray(1));
  }
  const end = raw.indexOf(0);
  return decoder.decode(end === -1 ? raw : raw.subarray(0, end));
}

/** A new AF_UNIX socket, close-on-exec and non-blocking. */
export function unixSocket(type: number, action: string): number {
  const lib = libc();
  const fd = check(
    lib.socket(C.AF_UNIX, type | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0),
    action,
  );
  if (!IS_LINUX) {
    setCloseOnExec(fd);
    setNonBlocking(fd, true);
  }
  return fd;
}

/** A connected pair of AF_UNIX sockets, close-on-exec and non-blocking. */
export function unixSocketPair(type: number, action: string): [number, number] {
  const lib = libc();
  const fds = new Int32Array(2);
  check(
    lib.socketpair(C.AF_UNIX, type | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0, fds),
    action,
  );
  if (!IS_LINUX) {
    for (const fd of fds) {
      setCloseOnExec(fd);
      setNonBlocking(fd, true);
    }
  }
  return [fds[0]!, fds[1]!];
}

/** Reads an int socket option; throws the errno error naming `action`. */
export function getIntOption(
  fd: number,
  level: number,
  name: number,
  action: string,
): number {
  const value = new Int32Array(1);
  const len = new Uint32Array([4]);
  check(libc().getsockopt(fd, level, name, value, len), action);
  return value[0]!;
}

/**
 * Credentials of the peer process of a connected AF_UNIX socket.
 *
 * @example Who is on the other side
 * ```ts
 * import { type PeerCredentials, socketPair } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = socketPair();
 * const peer: PeerCredentials = a.peerCredentials();
 * assertEquals(peer.pid, Deno.pid); // a pair's peer is its creator
 * a.close();
 * b.close();
 * ```
 */
export interface PeerCredentials {
  /** Process id of the peer (when it connected or created the pair). */
  pid: number;
  /** Effective user id of the peer. */
  uid: number;
  /** Effective group id of the peer. */
  gid: number;
}

/** `getsockopt(SO_PEERCRED)` (Linux). */
export function peerCredentials(fd: number, action: string): PeerCredentials {
  if (!IS_LINUX) {
    throw new Deno.errors.NotSupported(`${action}: SO_PEERCRED is Linux-only`);
  }
  const cred = new Int32Array(3);
  const len = new Uint32Array([12]);
  check(libc().getsockopt(fd, C.SOL_SOCKET, C.SO_PEERCRED, cred, len), action);
  return { pid: cred[0]!, uid: cred[1]! >>> 0, gid: cred[2]! >>> 0 };
}

function align(n: number): number {
  return (n + 7) & ~7;
}

/** Validates a list of fds to pass with SCM_RIGHTS. */
export function checkFdList(fds: unknown, call: string): number[] {
  if (!Array.isArray(fds)) {
    throw new TypeError(`${call}: fds must be an array, got ${describe(fds)}`);
  }
  if (fds.length > MAX_FDS_PER_MESSAGE) {
    throw new RangeError(
      `${call}: at most ${MAX_FDS_PER_MESSAGE} fds fit in one message, got ${fds.length}`,
    );
  }
  return fds.map((fd, i) => {
    const n = typeof fd === "number"
      ? fd
      : typeof fd === "object" && fd !== null
      ? (fd as { fd?: unknown }).fd
      : undefined;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      throw new TypeError(
        `${call}: fds[${i}] must be an open fd or a handle with one, got ${
          describe(fd)
        }`,
      );
    }
    return n;
  });
}

/**
 * `sendmsg` with optional SCM_RIGHTS fds and destination address. Returns
 * the bytes sent, or -1 when the socket would block (EAGAIN).
 */
export function sendMessage(
  fd: number,
  data: Uint8Array,
  fds: readonly number[],
  dest: { addr: Uint8Array; len: number } | null,
  action: string,
): number {
  const M = C.MSGHDR;
  const msg = new Uint8Array(M.size);
  const view = new DataView(msg.buffer);
  const iov = new BigUint64Array(2);
  iov[0] = ptr(data);
  iov[1] = BigInt(data.byteLength);
  view.setBigUint64(M.iov, ptr(iov), true);
  view.setBigUint64(M.iovlen, 1n, true);
  if (dest) {
    view.setBigUint64(M.name, ptr(dest.addr), true);
    view.setUint32(M.namelen, dest.len, true);
  }
  let control: Uint8Array | undefined;
  if (fds.length > 0) {
    const dataLen = fds.length * 4;
    control = new Uint8Array(align(C.CMSGHDR_SIZE + dataLen));
    const cv = new DataView(control.buffer);
    cv.setBigUint64(0, BigInt(C.CMSGHDR_SIZE + dataLen), true);
    cv.setInt32(8, C.SOL_SOCKET, true);
    cv.setInt32(12, C.SCM_RIGHTS, true);
    fds.forEach((f, i) => cv.setInt32(C.CMSGHDR_SIZE + 4 * i, f, true));
    view.setBigUint64(M.control, ptr(control), true);
    view.setBigUint64(M.controllen, BigInt(control.length), true);
  }
  const n = Number(libc().sendmsg(fd, msg, C.MSG_NOSIGNAL));
  void iov;
  void control;
  void data;
  if (n >= 0) return n;
  if (errno() === E.EAGAIN || errno() === E.EINTR) return -1;
  throw lastError(action);
}

/** What {@linkcode receiveMessage} got. */
export interface ReceivedMessage {
  /** Bytes received into the buffer. */
  length: number;
  /** The real size of the datagram (larger than `length` when truncated). */
  size: number;
  /** Descriptors received (close-on-exec), owned by the caller now. */
  fds: number[];
  /** The sender's address path (datagrams), or null. */
  path: string | null;
  /** The kernel dropped some fds: the control buffer was too small. */
  fdsTruncated: boolean;
}

/**
 * `recvmsg` into `buffer` with room for `maxFds` descriptors (received
 * close-on-exec). Returns null when nothing is there (EAGAIN).
 */
export function receiveMessage(
  fd: number,
  buffer: Uint8Array,
  maxFds: number,
  wantAddress: boolean,
  action: string,
  flags = 0,
): ReceivedMessage | null {
  const M = C.MSGHDR;
  const msg = new Uint8Array(M.size);
  const view = new DataView(msg.buffer);
  const iov = new BigUint64Array(2);
  iov[0] = ptr(buffer);
  iov[1] = BigInt(buffer.byteLength);
  view.setBigUint64(M.iov, ptr(iov), true);
  view.setBigUint64(M.iovlen, 1n, true);
  const addr = wantAddress ? new Uint8Array(C.SIZEOF_SOCKADDR_UN) : undefined;
  if (addr) {
    view.setBigUint64(M.name, ptr(addr), true);
    view.setUint32(M.namelen, addr.length, true);
  }
  const control = maxFds > 0
    ? new Uint8Array(align(C.CMSGHDR_SIZE + maxFds * 4))
    : undefined;
  if (control) {
    view.setBigUint64(M.control, ptr(control), true);
    view.setBigUint64(M.controllen, BigInt(control.length), true);
  }
  const n = Number(
    libc().recvmsg(fd, msg, flags | C.MSG_CMSG_CLOEXEC | C.MSG_TRUNC),
  );
  void iov;
  if (n < 0) {
    if (errno() === E.EAGAIN || errno() === E.EINTR) return null;
    throw lastError(action);
  }
  const fds: number[] = [];
  if (control) {
    const used = Number(view.getBigUint64(M.controllen, true));
    const cv = new DataView(control.buffer);
    let offset = 0;
    while (offset + C.CMSGHDR_SIZE <= used) {
      const len = Number(cv.getBigUint64(offset, true));
      const level = cv.getInt32(offset + 8, true);
      const type = cv.getInt32(offset + 12, true);
      if (len < C.CMSGHDR_SIZE) break;
      if (level === C.SOL_SOCKET && type === C.SCM_RIGHTS) {
        for (let p = C.CMSGHDR_SIZE; p + 4 <= len; p += 4) {
          fds.push(cv.getInt32(offset + p, true));
        }
      }
      offset += align(len);
    }
  }
  const msgFlags = view.getInt32(M.flags, true);
  return {
    length: Math.min(n, buffer.byteLength),
    size: n,
    fds,
    path: addr ? decodeSockaddrUn(addr, view.getUint32(M.namelen, true)) : null,
    fdsTruncated: (msgFlags & C.MSG_CTRUNC) !== 0,
  };
}

/** Size of the next datagram waiting on `fd`, or null when none (EAGAIN). */
export function peekDatagramSize(fd: number, action: string): number | null {
  const one = new Uint8Array(1);
  const n = Number(
    libc().recv(fd, one, 0n, C.MSG_PEEK | C.MSG_TRUNC | C.MSG_DONTWAIT),
  );
  if (n >= 0) return n;
  if (errno() === E.EAGAIN || errno() === E.EINTR) return null;
  throw lastError(action);
}

/** `shutdown(fd, SHUT_WR)`; errors (the peer is gone) change nothing. */
export function shutdownWrite(fd: number): void {
  libc().shutdown(fd, C.SHUT_WR);
}

/** The bound path of a socket, or null. */
export function socketPath(fd: number): string | null {
  const addr = new Uint8Array(C.SIZEOF_SOCKADDR_UN);
  const len = new Uint32Array([addr.length]);
  if (libc().getsockname(fd, addr, len) === -1) return null;
  return decodeSockaddrUn(addr, len[0]!);
}

/** Closes fds received but not wanted. */
export function closeAll(fds: readonly number[]): void {
  for (const fd of fds) closeFd(fd);
}

function ptr(buffer: ArrayBufferView): bigint {
  return BigInt(
    Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer as BufferSource)),
  );
}
