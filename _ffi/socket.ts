// Copyright 2026 the posix-ipc authors. MIT license.
// Sockets through libc: addresses (Unix paths, Linux abstract names, IPv4,
// IPv6), socket creation, SCM_RIGHTS messages, SO_PEERCRED, name lookup.

import { checkFd, describe, MAX_FDS_PER_MESSAGE } from "../_check/mod.ts";
import { C, E, IS_LINUX } from "./constants.ts";
import { check, osError } from "./errors.ts";
import { closeFd, setCloseOnExec, setNonBlocking } from "./fd.ts";
import { errno, libc } from "./libc.ts";
import { pin, readBytes, readCString, unpinAll } from "./memory.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An encoded `struct sockaddr`. */
export interface SockAddr {
  addr: Uint8Array<ArrayBuffer>;
  len: number;
  family: number;
}

/** Whether a Unix socket address is in Linux's abstract namespace (`"\0name"`). */
export function isAbstract(path: string): boolean {
  return path.startsWith("\0");
}

/**
 * Encodes a `struct sockaddr_un`: a filesystem path, or (Linux) an abstract
 * name spelled with a leading NUL, `"\0name"`, as Node and Python spell it.
 *
 * @throws {TypeError} If the path is not a non-empty string, or contains NUL after the start.
 * @throws {RangeError} If it does not fit `sun_path` (107 bytes on Linux).
 */
export function sockaddrUn(path: unknown, call: string): SockAddr {
  if (typeof path !== "string" || path === "" || path === "\0") {
    throw new TypeError(
      `${call}: the socket path must be a non-empty string, got ${
        describe(path)
      }`,
    );
  }
  const abstract = isAbstract(path);
  if (abstract && !IS_LINUX) {
    throw new Deno.errors.NotSupported(
      `${call}: abstract socket names ("\\0name") are Linux-only`,
    );
  }
  if (path.indexOf("\0", abstract ? 1 : 0) !== -1) {
    throw new TypeError(
      `${call}: the socket path must not contain NUL characters${
        abstract ? " after the leading one" : ""
      }: ${JSON.stringify(path)}`,
    );
  }
  const bytes = encoder.encode(path);
  const max = abstract ? C.SUN_PATH_MAX : C.SUN_PATH_MAX - 1;
  if (bytes.length > max) {
    throw new RangeError(
      `${call}: the socket path is ${bytes.length} bytes; at most ${max} fit in sockaddr_un: ${
        JSON.stringify(path)
      }`,
    );
  }
  const addr = new Uint8Array(C.SIZEOF_SOCKADDR_UN);
  if (IS_LINUX) new DataView(addr.buffer).setUint16(0, C.AF_UNIX, true);
  else {
    addr[0] = C.SIZEOF_SOCKADDR_UN;
    addr[1] = C.AF_UNIX;
  }
  addr.set(bytes, C.SUN_PATH_OFFSET);
  // An abstract name is exactly its bytes; a path is NUL-terminated.
  const len = C.SUN_PATH_OFFSET + bytes.length + (abstract ? 0 : 1);
  return { addr, len, family: C.AF_UNIX };
}

/**
 * Decodes any `struct sockaddr` this package meets into a `Deno.Addr`:
 * `{ transport: "unix", path }` (abstract names as `"\0name"`; an unnamed
 * socket has path `""`), or `{ transport: "tcp", hostname, port }`.
 */
export function decodeAddr(addr: Uint8Array, len: number): Deno.Addr {
  const view = new DataView(addr.buffer, addr.byteOffset, addr.byteLength);
  const family = IS_LINUX ? view.getUint16(0, true) : addr[1]!;
  if (family === C.AF_INET && len >= 8) {
    return {
      transport: "tcp",
      hostname: [...addr.subarray(4, 8)].join("."),
      port: view.getUint16(2, false),
    };
  }
  if (family === C.AF_INET6 && len >= 24) {
    const words: string[] = [];
    for (let i = 0; i < 8; i++) {
      words.push(view.getUint16(8 + 2 * i, false).toString(16));
    }
    return {
      transport: "tcp",
      hostname: compressIpv6(words),
      port: view.getUint16(2, false),
    };
  }
  return { transport: "unix", path: decodeUnixPath(addr, len) };
}

function compressIpv6(words: string[]): string {
  // The longest run of zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === -1) return words.join(":");
  return `${words.slice(0, best).join(":")}::${
    words.slice(best + bestLen).join(":")
  }`;
}

/** The path of a `sockaddr_un` (`"\0name"` for abstract ones, `""` for unnamed). */
export function decodeUnixPath(addr: Uint8Array, len: number): string {
  if (len <= C.SUN_PATH_OFFSET) return "";
  const raw = addr.subarray(C.SUN_PATH_OFFSET, len);
  if (raw[0] === 0) return "\0" + decoder.decode(raw.subarray(1));
  const end = raw.indexOf(0);
  return decoder.decode(end === -1 ? raw : raw.subarray(0, end));
}

/** A printable form of a Unix socket path for messages (abstract names as `@name`). */
export function showPath(path: string): string {
  return isAbstract(path)
    ? `abstract socket ${JSON.stringify("@" + path.slice(1))}`
    : JSON.stringify(path);
}

/** Encodes an IPv4 or IPv6 literal and port, or null when `host` is not a literal. */
export function sockaddrIp(host: string, port: number): SockAddr | null {
  const lib = libc();
  const bare = host.startsWith("[") && host.endsWith("]")
    ? host.slice(1, -1)
    : host;
  const four = new Uint8Array(4);
  if (lib.inet_pton(C.AF_INET, encoder.encode(bare + "\0"), four) === 1) {
    const addr = new Uint8Array(16);
    const view = new DataView(addr.buffer);
    if (IS_LINUX) view.setUint16(0, C.AF_INET, true);
    else {
      addr[0] = 16;
      addr[1] = C.AF_INET;
    }
    view.setUint16(2, port, false);
    addr.set(four, 4);
    return { addr, len: 16, family: C.AF_INET };
  }
  const six = new Uint8Array(16);
  if (lib.inet_pton(C.AF_INET6, encoder.encode(bare + "\0"), six) === 1) {
    const addr = new Uint8Array(28);
    const view = new DataView(addr.buffer);
    if (IS_LINUX) view.setUint16(0, C.AF_INET6, true);
    else {
      addr[0] = 28;
      addr[1] = C.AF_INET6;
    }
    view.setUint16(2, port, false);
    addr.set(six, 8);
    return { addr, len: 28, family: C.AF_INET6 };
  }
  return null;
}

/**
 * Resolves a host name to socket addresses (`getaddrinfo`, on a pool
 * thread: it may ask DNS). IP literals are encoded without a lookup.
 *
 * @throws {Deno.errors.NotFound} If the name does not resolve.
 */
export async function resolveHost(
  host: string,
  port: number,
  call: string,
): Promise<SockAddr[]> {
  const literal = sockaddrIp(host, port);
  if (literal) return [literal];
  const { hints, out } = lookupArgs();
  const rc = await libc().getaddrinfo_async(
    encoder.encode(host + "\0"),
    null,
    hints,
    out,
  );
  return addrinfoList(rc, out, host, port, call);
}

/**
 * {@linkcode resolveHost} on this thread, for synchronous calls (`listen()`):
 * meant for literals and names in /etc/hosts such as "localhost".
 */
export function resolveHostSync(
  host: string,
  port: number,
  call: string,
): SockAddr[] {
  const literal = sockaddrIp(host, port);
  if (literal) return [literal];
  const { hints, out } = lookupArgs();
  const rc = libc().getaddrinfo(encoder.encode(host + "\0"), null, hints, out);
  return addrinfoList(rc, out, host, port, call);
}

function lookupArgs(): { hints: Uint8Array; out: BigUint64Array } {
  const hints = new Uint8Array(64);
  const hv = new DataView(hints.buffer);
  hv.setInt32(0, C.AI_ADDRCONFIG, true);
  hv.setInt32(C.ADDRINFO.socktype, C.SOCK_STREAM, true);
  return { hints, out: new BigUint64Array(1) };
}

function addrinfoList(
  rc: number,
  out: BigUint64Array,
  host: string,
  port: number,
  call: string,
): SockAddr[] {
  const lib = libc();
  if (rc !== 0) {
    const why = readCString(BigInt(lib.gai_strerror(rc))) || `error ${rc}`;
    throw new Deno.errors.NotFound(
      `${call}: cannot resolve ${JSON.stringify(host)}: ${why}`,
    );
  }
  const head = out[0]!;
  const result: SockAddr[] = [];
  try {
    for (let p = head; p !== 0n;) {
      const info = readBytes(p, C.ADDRINFO.next + 8);
      const view = new DataView(info.buffer);
      const family = view.getInt32(C.ADDRINFO.family, true);
      const len = view.getUint32(C.ADDRINFO.addrlen, true);
      const addrAddress = view.getBigUint64(C.ADDRINFO.addr, true);
      if (
        addrAddress !== 0n && (family === C.AF_INET || family === C.AF_INET6)
      ) {
        const addr = readBytes(addrAddress, len);
        new DataView(addr.buffer).setUint16(2, port, false);
        result.push({ addr, len, family });
      }
      p = view.getBigUint64(C.ADDRINFO.next, true);
    }
  } finally {
    lib.freeaddrinfo(head);
  }
  if (result.length === 0) {
    throw new Deno.errors.NotFound(
      `${call}: ${JSON.stringify(host)} has no IPv4 or IPv6 address`,
    );
  }
  return result;
}

/** A new socket, close-on-exec and non-blocking. */
export function newSocket(
  family: number,
  type: number,
  call: string,
): number {
  const lib = libc();
  const fd = check(
    lib.socket(family, type | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0),
    call,
    "cannot create a socket",
  );
  if (!IS_LINUX) {
    setCloseOnExec(fd, call);
    setNonBlocking(fd, true, call);
  }
  return fd;
}

/** A connected pair of AF_UNIX sockets, close-on-exec and non-blocking. */
export function unixSocketPair(type: number, call: string): [number, number] {
  const lib = libc();
  const fds = new Int32Array(2);
  check(
    lib.socketpair(C.AF_UNIX, type | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0, fds),
    call,
    "cannot create a socket pair",
  );
  if (!IS_LINUX) {
    for (const fd of fds) {
      setCloseOnExec(fd, call);
      setNonBlocking(fd, true, call);
    }
  }
  return [fds[0]!, fds[1]!];
}

/** Reads an int socket option. */
export function getIntOption(
  fd: number,
  level: number,
  name: number,
  call: string,
): number {
  const value = new Int32Array(1);
  const len = new Uint32Array([4]);
  check(
    libc().getsockopt(fd, level, name, value, len),
    call,
    `cannot inspect socket fd ${fd}`,
  );
  return value[0]!;
}

/** Sets an int socket option. */
export function setIntOption(
  fd: number,
  level: number,
  name: number,
  value: number,
  call: string,
): void {
  check(
    libc().setsockopt(fd, level, name, new Int32Array([value]), 4),
    call,
    `cannot set an option of socket fd ${fd}`,
  );
}

/**
 * Credentials of the peer process of a connected Unix socket.
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

/**
 * `getsockopt(SO_PEERCRED)` (Linux). Only Unix sockets have a peer process.
 *
 * @throws {Deno.errors.NotSupported} For a TCP socket, or off Linux.
 */
export function peerCredentials(
  fd: number,
  call: string,
  label: string,
): PeerCredentials {
  if (!IS_LINUX) {
    throw new Deno.errors.NotSupported(`${call}: SO_PEERCRED is Linux-only`);
  }
  if (getIntOption(fd, C.SOL_SOCKET, C.SO_DOMAIN, call) !== C.AF_UNIX) {
    throw new Deno.errors.NotSupported(
      `${call}: ${label} is a TCP socket; only a Unix socket tells who its peer process is`,
    );
  }
  const cred = new Int32Array(3);
  const len = new Uint32Array([12]);
  check(
    libc().getsockopt(fd, C.SOL_SOCKET, C.SO_PEERCRED, cred, len),
    call,
    `cannot read the peer of ${label}`,
  );
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
    const n = typeof fd === "object" && fd !== null
      ? (fd as { fd?: unknown }).fd
      : fd;
    if (typeof n === "number" && n === -1) {
      throw new Deno.errors.BadResource(
        `${call}: fds[${i}] is a closed handle`,
      );
    }
    return checkFd(n, call, `fds[${i}]`);
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
  dest: SockAddr | null,
  call: string,
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
  let n: number;
  try {
    n = Number(libc().sendmsg(fd, msg, C.MSG_NOSIGNAL | C.MSG_DONTWAIT));
  } finally {
    unpinAll();
  }
  if (n >= 0) return n;
  const code = errno();
  if (code === E.EAGAIN || code === E.EINTR) return -1;
  throw osError(code, call, action);
}

/** What {@linkcode receiveMessage} got. */
export interface ReceivedMessage {
  /** Bytes received into the buffer. */
  length: number;
  /** The real size of the datagram (larger than `length` when truncated). */
  size: number;
  /** Descriptors received (close-on-exec), owned by the caller now. */
  fds: number[];
  /** The sender's Unix address (datagrams): a path, `"\0name"`, or null when unbound. */
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
  call: string,
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
  let n: number;
  try {
    n = Number(
      libc().recvmsg(
        fd,
        msg,
        flags | C.MSG_CMSG_CLOEXEC | C.MSG_TRUNC | C.MSG_DONTWAIT,
      ),
    );
  } finally {
    unpinAll();
  }
  if (n < 0) {
    const code = errno();
    if (code === E.EAGAIN || code === E.EINTR) return null;
    throw osError(code, call, action);
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
  const namelen = addr ? view.getUint32(M.namelen, true) : 0;
  const path = addr ? decodeUnixPath(addr, namelen) : "";
  return {
    length: Math.min(n, buffer.byteLength),
    size: n,
    fds,
    path: path === "" ? null : path,
    fdsTruncated: (msgFlags & C.MSG_CTRUNC) !== 0,
  };
}

/** Size of the next datagram waiting on `fd`, or null when none (EAGAIN). */
export function peekDatagramSize(
  fd: number,
  call: string,
  action: string,
): number | null {
  const one = new Uint8Array(1);
  const n = Number(
    libc().recv(fd, one, 0n, C.MSG_PEEK | C.MSG_TRUNC | C.MSG_DONTWAIT),
  );
  if (n >= 0) return n;
  const code = errno();
  if (code === E.EAGAIN || code === E.EINTR) return null;
  throw osError(code, call, action);
}

/** `shutdown(fd, SHUT_WR)`; errors (the peer is gone) change nothing. */
export function shutdownWrite(fd: number): void {
  libc().shutdown(fd, C.SHUT_WR);
}

/** The local (`getsockname`) or peer (`getpeername`) address of a socket. */
export function socketAddr(fd: number, peer: boolean): Deno.Addr | null {
  const addr = new Uint8Array(C.SIZEOF_SOCKADDR_UN + 32);
  const len = new Uint32Array([addr.length]);
  const lib = libc();
  const rc = peer
    ? lib.getpeername(fd, addr, len)
    : lib.getsockname(fd, addr, len);
  if (rc === -1) return null;
  return decodeAddr(addr, len[0]!);
}

/** The bound Unix path of a socket (`"\0name"` when abstract), or null for unnamed and non-Unix sockets. */
export function socketPath(fd: number): string | null {
  const addr = socketAddr(fd, false);
  return addr?.transport === "unix" && addr.path !== "" ? addr.path : null;
}

/** Closes fds received but not wanted. */
export function closeAll(fds: readonly number[]): void {
  for (const fd of fds) closeFd(fd);
}

function ptr(buffer: ArrayBufferView): bigint {
  return pin(buffer);
}
