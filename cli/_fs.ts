// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: the file-system calls of `ipc ls` and `ipc rm` (Linux). `ipc rm`
// runs as root in directories other users can write to, so:
//
// - names are bytes (getdents64), never decoded and re-encoded;
// - everything below a directory is reached through the directory's fd
//   (`openat`, `fstat` of an O_PATH fd, `unlinkat`), with O_NOFOLLOW on every
//   component: a directory swapped for a symlink cannot redirect a removal;
// - identity (device + inode) is checked on that fd just before `unlinkat`;
// - whether a socket file has a live socket is asked of the kernel on the
//   very inode (a datagram connect to /proc/self/fd/N of an O_PATH fd).

import { C, E } from "../_ffi/constants.ts";
import { errnoName, errnoText, lastError } from "../_ffi/errors.ts";
import { closeFd, fstat, sameObject, type StatInfo } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { escapeName, toBytes } from "./_names.ts";

/** A name as a NUL-terminated C string. */
function cBytes(name: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(name.length + 1);
  out.set(name);
  return out;
}

/** Device and inode. */
export interface Identity {
  dev: bigint;
  ino: bigint;
}

/** Why a directory could not be opened: "no such directory", … */
export class DirectoryError extends Error {}

/**
 * Opens a directory the user named (symlinks in the path are followed once,
 * as typed). Returns its fd.
 *
 * @throws {DirectoryError} Saying what is wrong with the path.
 */
export function openUserDirectory(path: string): number {
  const fd = libc().open(
    cBytes(toBytes(path)),
    C.O_RDONLY | C.O_DIRECTORY | C.O_CLOEXEC,
    0,
  );
  if (fd !== -1) return fd;
  const code = errno();
  const why = code === E.ENOENT
    ? "no such directory"
    : code === E.ENOTDIR
    ? "not a directory"
    : code === E.EACCES || code === E.EPERM
    ? "permission denied"
    : `${errnoName(code)} (${errnoText(code)})`;
  throw new DirectoryError(`${escapeName(path)}: ${why}`);
}

/** Opens a fixed system directory (/dev/shm) without following a symlink; null when absent. */
export function openSystemDirectory(path: string): number | null {
  const fd = libc().open(
    cBytes(toBytes(path)),
    C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC,
    0,
  );
  return fd === -1 ? null : fd;
}

/** Opens the subdirectory `name` of `dirfd`, never through a symlink; null if it is not one. */
export function openSubdirectory(
  dirfd: number,
  name: Uint8Array,
): number | null {
  const fd = libc().openat(
    dirfd,
    cBytes(name),
    C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC,
    0,
  );
  return fd === -1 ? null : fd;
}

/**
 * The names in a directory, as bytes (getdents64), without "." and "..".
 * Reads from the fd's current position: call once per opened fd.
 */
export function readNames(dirfd: number): Uint8Array[] {
  const lib = libc();
  if (!lib.sys_getdents64 || C.SYS_getdents64 < 0) {
    throw new Deno.errors.NotSupported(
      "ipc: reading directories needs Linux (getdents64)",
    );
  }
  const names: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  const view = new DataView(buf.buffer);
  const L = C.DIRENT64;
  for (;;) {
    const n = Number(
      lib.sys_getdents64(
        BigInt(C.SYS_getdents64),
        dirfd,
        buf,
        BigInt(buf.length),
      ),
    );
    if (n === -1) throw lastError("ipc", "cannot read a directory");
    if (n <= 0) return names;
    for (let off = 0; off < n;) {
      const reclen = view.getUint16(off + L.reclen, true);
      if (reclen === 0) break;
      const start = off + L.name;
      let end = start;
      while (end < off + reclen && buf[end] !== 0) end++;
      const name = buf.slice(start, end);
      const dot = name.length === 1 && name[0] === 0x2e;
      const dotdot = name.length === 2 && name[0] === 0x2e && name[1] === 0x2e;
      if (!dot && !dotdot) names.push(name);
      off += reclen;
    }
  }
}

/** An O_PATH fd of `name` in `dirfd`, the entry itself (never a symlink's target); null if absent. */
function openEntry(dirfd: number, name: Uint8Array): number | null {
  const fd = libc().openat(
    dirfd,
    cBytes(name),
    C.O_PATH | C.O_NOFOLLOW | C.O_CLOEXEC,
    0,
  );
  return fd === -1 ? null : fd;
}

/** `lstat` of `name` in `dirfd` (a symlink is reported as one); null when nothing is there. */
export function statEntry(dirfd: number, name: Uint8Array): StatInfo | null {
  const fd = openEntry(dirfd, name);
  if (fd === null) return null;
  try {
    return fstat(fd, "ipc");
  } finally {
    closeFd(fd);
  }
}

/** `fstat` of an fd, or null if it fails. */
export function statFd(fd: number): StatInfo | null {
  try {
    return fstat(fd, "ipc");
  } catch {
    return null;
  }
}

/** Whether a socket file has a socket bound to it, as the kernel says. */
export type SocketLiveness = "live" | "dead" | "gone" | "unknown";

/**
 * Asks the kernel whether a socket is bound to the socket file `name` in
 * `dirfd`, if that file is still `expected`: a datagram `connect()` to the
 * inode (through /proc/self/fd/N of an O_PATH fd). ECONNREFUSED means no
 * socket is bound to it; success, EPROTOTYPE (a stream socket) or EPERM (a
 * connected datagram socket) mean one is. Sends nothing, and a stream
 * listener sees no connection (the types differ); a datagram socket reached
 * is only marked established by the kernel, as after any connect. Works
 * across network namespaces, which sock_diag does not.
 */
export function probeSocket(
  dirfd: number,
  name: Uint8Array,
  expected: Identity,
): SocketLiveness {
  const lib = libc();
  const fd = openEntry(dirfd, name);
  if (fd === null) return "gone";
  try {
    const now = statFd(fd);
    if (!sameObject(now, expected) || now!.kind !== "socket") return "gone";
    const sock = lib.socket(C.AF_UNIX, C.SOCK_DGRAM | C.SOCK_CLOEXEC, 0);
    if (sock === -1) return "unknown";
    try {
      const path = toBytes(`/proc/self/fd/${fd}`);
      const addr = new Uint8Array(C.SIZEOF_SOCKADDR_UN);
      new DataView(addr.buffer).setUint16(0, C.AF_UNIX, true);
      addr.set(path, C.SUN_PATH_OFFSET);
      if (
        lib.connect(sock, addr, C.SUN_PATH_OFFSET + path.length + 1) === 0
      ) {
        return "live";
      }
      const code = errno();
      if (code === E.ECONNREFUSED) return "dead";
      if (code === E.EPROTOTYPE || code === E.EPERM || code === E.EAGAIN) {
        return "live";
      }
      return "unknown";
    } finally {
      closeFd(sock);
    }
  } finally {
    closeFd(fd);
  }
}

/** What {@linkcode removeEntry} says of an entry that went away by itself. */
export const GONE = "it is gone";

/**
 * Removes `name` from `dirfd` if it is still `expected` (device, inode and
 * file type). Returns null on success, {@linkcode GONE} when nothing is
 * there any more, else why not.
 */
export function removeEntry(
  dirfd: number,
  name: Uint8Array,
  expected: Identity & { kind: StatInfo["kind"] },
): string | null {
  const now = statEntry(dirfd, name);
  if (now === null) return GONE;
  if (!sameObject(now, expected) || now.kind !== expected.kind) {
    return "it changed since it was inspected (another file has the name now)";
  }
  if (libc().unlinkat(dirfd, cBytes(name), 0) === -1) {
    const code = errno();
    if (code === E.ENOENT) return GONE;
    return `${errnoName(code)} (${errnoText(code)})`;
  }
  return null;
}

/** The target of a symlink (e.g. /proc/PID/cwd) as bytes, or null. */
export function readLinkBytes(path: string): Uint8Array | null {
  const buf = new Uint8Array(4096);
  const n = Number(
    libc().readlink(cBytes(toBytes(path)), buf, BigInt(buf.length)),
  );
  return n < 0 ? null : buf.slice(0, n);
}

/** Opens `path` (a /proc magic link to a directory, like /proc/PID/cwd) as a directory; null if it fails. */
export function openLinkedDirectory(path: string): number | null {
  const fd = libc().open(
    cBytes(toBytes(path)),
    C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC,
    0,
  );
  return fd === -1 ? null : fd;
}

/**
 * Opens a regular file in `dirfd` read-only and non-blocking, never through
 * a symlink (for /dev/mqueue entries); null if it fails.
 */
export function openFileAt(dirfd: number, name: Uint8Array): number | null {
  const fd = libc().openat(
    dirfd,
    cBytes(name),
    C.O_RDONLY | C.O_NONBLOCK | C.O_NOFOLLOW | C.O_CLOEXEC,
    0,
  );
  return fd === -1 ? null : fd;
}

/** Reads up to `max` bytes from an fd as text; null on error. */
export function readText(fd: number, max = 4096): string | null {
  const buf = new Uint8Array(max);
  const n = Number(libc().read(fd, buf, BigInt(max)));
  return n < 0 ? null : new TextDecoder().decode(buf.subarray(0, n));
}

export { closeFd, sameObject, type StatInfo };
