// Copyright 2026 the posix-ipc authors. MIT license.
// Small file-descriptor helpers over libc.

import { C, E, IS_LINUX } from "./constants.ts";
import { describe } from "./cstring.ts";
import { check, lastError } from "./errno.ts";
import { errno, libc } from "./libc.ts";

/** Closes an fd. EINTR is not retried: Linux has released the fd already. */
export function closeFd(fd: number): void {
  if (fd >= 0) libc().close(fd);
}

/** Sets or clears `O_NONBLOCK` on the open file description behind `fd`. */
export function setNonBlocking(fd: number, on: boolean): void {
  const lib = libc();
  const flags = check(
    lib.fcntl(fd, C.F_GETFL, 0),
    `Cannot read the flags of fd ${fd}`,
  );
  const next = on ? flags | C.O_NONBLOCK : flags & ~C.O_NONBLOCK;
  if (next !== flags) {
    check(lib.fcntl(fd, C.F_SETFL, next), `Cannot set the flags of fd ${fd}`);
  }
}

/** Whether `O_NONBLOCK` is set on `fd`. */
export function isNonBlocking(fd: number): boolean {
  const flags = check(
    libc().fcntl(fd, C.F_GETFL, 0),
    `Cannot read the flags of fd ${fd}`,
  );
  return (flags & C.O_NONBLOCK) !== 0;
}

/** Sets `FD_CLOEXEC` on `fd`. */
export function setCloseOnExec(fd: number): void {
  check(
    libc().fcntl(fd, C.F_SETFD, C.FD_CLOEXEC),
    `Cannot set close-on-exec on fd ${fd}`,
  );
}

/** Duplicates `fd` to the lowest free fd ≥ `min`, close-on-exec. */
export function dupCloseOnExec(fd: number, min = 0): number {
  return check(
    libc().fcntl(fd, C.F_DUPFD_CLOEXEC, min),
    `Cannot duplicate fd ${fd}`,
  );
}

/** Whether `fd` is an open descriptor of this process. */
export function isOpenFd(fd: number): boolean {
  return libc().fcntl(fd, C.F_GETFD, 0) !== -1;
}

/** Creates a pipe; both ends close-on-exec, and non-blocking when asked. */
export function makePipe(nonBlocking: boolean): [read: number, write: number] {
  const lib = libc();
  const fds = new Int32Array(2);
  if (lib.pipe2) {
    check(
      lib.pipe2(fds, C.O_CLOEXEC | (nonBlocking ? C.O_NONBLOCK : 0)),
      "Cannot create a pipe",
    );
  } else {
    check(lib.pipe(fds), "Cannot create a pipe");
    for (const fd of fds) {
      setCloseOnExec(fd);
      if (nonBlocking) setNonBlocking(fd, true);
    }
  }
  return [fds[0]!, fds[1]!];
}

/** The file type of an fd or path, from `st_mode`. */
export type FileKind =
  | "fifo"
  | "socket"
  | "file"
  | "directory"
  | "character-device"
  | "block-device"
  | "symlink"
  | "unknown";

/** The fields of `struct stat` the package uses. */
export interface StatInfo {
  kind: FileKind;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: bigint;
  dev: bigint;
}

function decodeStat(buf: Uint8Array): StatInfo {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const L = C.STAT;
  const mode = L.modeBytes === 2
    ? view.getUint16(L.mode, true)
    : view.getUint32(L.mode, true);
  const type = mode & C.S_IFMT;
  const kind: FileKind = type === C.S_IFIFO
    ? "fifo"
    : type === C.S_IFSOCK
    ? "socket"
    : type === C.S_IFREG
    ? "file"
    : type === C.S_IFDIR
    ? "directory"
    : type === C.S_IFCHR
    ? "character-device"
    : type === C.S_IFBLK
    ? "block-device"
    : type === C.S_IFLNK
    ? "symlink"
    : "unknown";
  return {
    kind,
    mode: mode & 0o7777,
    uid: view.getUint32(L.uid, true),
    gid: view.getUint32(L.gid, true),
    size: Number(view.getBigInt64(L.st_size, true)),
    ino: view.getBigUint64(L.ino, true),
    dev: L.modeBytes === 2
      ? BigInt(view.getInt32(L.dev, true))
      : view.getBigUint64(L.dev, true),
  };
}

/** `fstat(2)` of an fd. */
export function fstat(fd: number, action?: string): StatInfo {
  const buf = new Uint8Array(C.STAT.size + 64);
  check(libc().fstat(fd, buf), action ?? `Cannot stat fd ${fd}`);
  return decodeStat(buf);
}

/** `stat(2)` of a path (following symlinks); null when it does not exist. */
export function statPath(path: Uint8Array, action: string): StatInfo | null {
  const buf = new Uint8Array(C.STAT.size + 64);
  if (libc().stat(path, buf) === -1) {
    if (errno() === E.ENOENT) return null;
    throw lastError(action);
  }
  return decodeStat(buf);
}

/**
 * Validates a pipe/FIFO buffer size option.
 *
 * @throws {RangeError} If it is not a positive safe integer.
 */
export function checkPipeSize(size: unknown, call: string): void {
  if (
    size !== undefined && (!Number.isSafeInteger(size) || (size as number) <= 0)
  ) {
    throw new RangeError(
      `${call}: size must be a positive safe integer, got ${describe(size)}`,
    );
  }
}

/**
 * Sets the kernel buffer size of the pipe or FIFO behind `fd`
 * (`F_SETPIPE_SZ`, Linux only; a no-op elsewhere).
 *
 * @throws {Deno.errors.PermissionDenied} Above /proc/sys/fs/pipe-max-size for an unprivileged process.
 */
export function setPipeSize(fd: number, size: number, call: string): void {
  if (!IS_LINUX) return;
  if (libc().fcntl(fd, C.F_SETPIPE_SZ, Math.min(size, 0x7fffffff)) === -1) {
    throw lastError(
      `${call}: cannot set the pipe size to ${size} bytes (limit: /proc/sys/fs/pipe-max-size)`,
    );
  }
}

/**
 * Reads a small file (e.g. under /proc/sys) through libc, so that no
 * `--allow-read` is needed. Returns null if it cannot be read.
 */
export function readSmallFile(path: string): string | null {
  const lib = libc();
  const fd = lib.open(
    new TextEncoder().encode(path + "\0"),
    C.O_RDONLY | C.O_CLOEXEC,
    0,
  );
  if (fd === -1) return null;
  try {
    const buf = new Uint8Array(4096);
    const n = Number(lib.read(fd, buf, BigInt(buf.length)));
    return n < 0 ? null : new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    closeFd(fd);
  }
}

/** The target of /proc/self/fd/N (Linux), through libc: no `--allow-read` needed. */
export function fdLink(fd: number): string | null {
  if (!IS_LINUX) return null;
  const buf = new Uint8Array(4096);
  const n = Number(
    libc().readlink(
      new TextEncoder().encode(`/proc/self/fd/${fd}\0`),
      buf,
      BigInt(buf.length),
    ),
  );
  return n < 0 ? null : new TextDecoder().decode(buf.subarray(0, n));
}

/**
 * The open fds of this process from `from` up, found with one poll() per
 * 65536 numbers (POLLNVAL marks the closed ones) up to RLIMIT_NOFILE.
 */
export function openFdsFrom(from: number): number[] {
  const lib = libc();
  const rlim = new BigUint64Array(2);
  const limit = lib.getrlimit(C.RLIMIT_NOFILE, rlim) === 0
    ? Math.min(Number(rlim[0]), 1 << 20)
    : 1024;
  const out: number[] = [];
  const CHUNK = 65536;
  for (let base = from; base < limit; base += CHUNK) {
    const count = Math.min(CHUNK, limit - base);
    const pfds = new Uint8Array(8 * count);
    const view = new DataView(pfds.buffer);
    for (let i = 0; i < count; i++) view.setInt32(8 * i, base + i, true);
    lib.poll(pfds, BigInt(count), 0);
    for (let i = 0; i < count; i++) {
      if ((view.getInt16(8 * i + 6, true) & C.POLLNVAL) === 0) {
        out.push(base + i);
      }
    }
  }
  return out;
}

/**
 * Checks that `fd` is a descriptor number and returns what `fstat` says of
 * it: the first step of every `fromFd()`.
 *
 * @throws {TypeError} If `fd` is not a non-negative integer.
 * @throws {Deno.errors.BadResource} If it is not open.
 */
export function inspectFd(fd: unknown, call: string): StatInfo {
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new TypeError(
      `${call}: fd must be a non-negative integer, got ${describe(fd)}`,
    );
  }
  return fstat(fd, `${call}: cannot inspect fd ${fd}`);
}
