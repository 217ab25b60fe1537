// Copyright 2026 the posix-ipc authors. MIT license.
// Small file-descriptor and file-system helpers over libc. Everything that
// names a path relative to a directory takes the directory's fd (`*at`
// calls), so a directory swapped for a symlink cannot redirect it.

import { checkFd, cString } from "../_check/mod.ts";
import { C, E, IS_LINUX } from "./constants.ts";
import { check, lastError, osError } from "./errors.ts";
import { errno, libc } from "./libc.ts";

/** Closes an fd. EINTR is not retried: Linux has released the fd already. */
export function closeFd(fd: number): void {
  if (fd >= 0) libc().close(fd);
}

/** Sets or clears `O_NONBLOCK` on the open file description behind `fd`. */
export function setNonBlocking(fd: number, on: boolean, call: string): void {
  const lib = libc();
  const flags = check(
    lib.fcntl(fd, C.F_GETFL, 0),
    call,
    `cannot read the flags of fd ${fd}`,
  );
  const next = on ? flags | C.O_NONBLOCK : flags & ~C.O_NONBLOCK;
  if (next !== flags) {
    check(
      lib.fcntl(fd, C.F_SETFL, next),
      call,
      `cannot set the flags of fd ${fd}`,
    );
  }
}

/**
 * Gives the pipe or FIFO `fd` an open file description of its own, in
 * non-blocking mode, under the same fd number: reopened through
 * /proc/self/fd (Linux), then `dup3`'d onto `fd`. O_NONBLOCK is a flag of
 * the description, shared by every process holding it; with a description
 * of its own, this process's mode never changes what the process that
 * passed the fd sees (a blocking writer does not start failing with
 * EAGAIN), and theirs never makes this process wait.
 *
 * Returns false, leaving `fd` as it was, when that cannot be done (not
 * Linux, not a pipe or FIFO, /proc not mounted, or a write end whose pipe
 * has no reader yet): the caller then shares the description.
 */
export function ownDescription(fd: number, call: string): boolean {
  const lib = libc();
  if (!lib.dup3 || fstat(fd, call).kind !== "fifo") return false;
  const copy = reopenFifo(fd, true, call);
  if (copy === -1) return false;
  const done = lib.dup3(copy, fd, C.O_CLOEXEC) === fd;
  lib.close(copy);
  return done;
}

/**
 * A new open file description of the pipe or FIFO `fd` (Linux: opened
 * through /proc/self/fd), with the same access mode, close-on-exec, in the
 * mode asked; -1 when that cannot be done (see {@linkcode ownDescription}).
 */
export function reopenFifo(
  fd: number,
  nonBlocking: boolean,
  call: string,
): number {
  if (!IS_LINUX) return -1;
  const lib = libc();
  // Opened non-blocking: a write end must not wait for a reader here.
  const copy = lib.open(
    cString(`/proc/self/fd/${fd}`),
    (statusFlags(fd, call) & 3) | C.O_NONBLOCK | C.O_CLOEXEC,
    0,
  );
  if (copy !== -1 && !nonBlocking) setNonBlocking(copy, false, call);
  return copy;
}

/**
 * Makes the permission bits of `name` in `dirfd` exactly `mode`, for a file
 * this process has just created with `mode` — which the umask may have
 * narrowed, never widened, so the file was never more open than asked.
 *
 * Why not narrow the umask around the creation instead: the umask belongs
 * to the process, so every file another thread (a Worker, Deno's own file
 * system pool) created in that instant would get it too.
 *
 * The file is opened `O_PATH | O_NOFOLLOW` and changed through that fd
 * (Linux), and only if it is of `kind` and owned by this process's
 * effective uid: a symlink or another user's file swapped in meanwhile is
 * never changed. Returns the file's identity.
 *
 * @throws {Deno.errors.AlreadyExists} If `name` is no longer what was created.
 */
export function setExactMode(
  dirfd: number,
  name: string,
  mode: number,
  kind: FileKind,
  call: string,
  what: string,
): StatInfo {
  const lib = libc();
  const replaced = (info: StatInfo | null) =>
    new Deno.errors.AlreadyExists(
      `${call}: ${what} was replaced by ${
        info === null ? "nothing" : `a ${info.kind} of uid ${info.uid}`
      } before its mode could be set`,
    );
  if (!IS_LINUX) {
    const info = statAt(dirfd, name, call);
    if (info === null || info.kind !== kind) throw replaced(info);
    if ((info.mode & 0o7777) !== mode) {
      check(
        lib.fchmodat(dirfd, cString(name), mode, C.AT_SYMLINK_NOFOLLOW),
        call,
        `cannot set the mode of ${what}`,
      );
    }
    return { ...info, mode: (info.mode & ~0o7777) | mode };
  }
  const fd = lib.openat(
    dirfd,
    cString(name, call, "path"),
    C.O_PATH | C.O_NOFOLLOW | C.O_CLOEXEC,
    0,
  );
  if (fd === -1) {
    if (errno() === E.ENOENT) throw replaced(null);
    throw lastError(call, `cannot open ${what} to set its mode`);
  }
  try {
    const info = fstat(fd, call, what);
    if (info.kind !== kind || info.uid !== lib.geteuid()) throw replaced(info);
    if ((info.mode & 0o7777) !== mode) {
      check(
        lib.chmod(cString(`/proc/self/fd/${fd}`), mode),
        call,
        `cannot set the mode of ${what}`,
      );
    }
    return { ...info, mode: (info.mode & ~0o7777) | mode };
  } finally {
    lib.close(fd);
  }
}

/** The status flags of `fd` (`F_GETFL`): access mode, O_NONBLOCK, … */
export function statusFlags(fd: number, call: string): number {
  return check(
    libc().fcntl(fd, C.F_GETFL, 0),
    call,
    `cannot read the flags of fd ${fd}`,
  );
}

/** Sets `FD_CLOEXEC` on `fd`. */
export function setCloseOnExec(fd: number, call: string): void {
  check(
    libc().fcntl(fd, C.F_SETFD, C.FD_CLOEXEC),
    call,
    `cannot set close-on-exec on fd ${fd}`,
  );
}

/** Duplicates `fd` to the lowest free fd ≥ `min`, close-on-exec. */
export function dupCloseOnExec(fd: number, call: string, min = 0): number {
  return check(
    libc().fcntl(fd, C.F_DUPFD_CLOEXEC, min),
    call,
    `cannot duplicate fd ${fd}`,
  );
}

/** Whether `fd` is an open descriptor of this process. */
export function isOpenFd(fd: number): boolean {
  return libc().fcntl(fd, C.F_GETFD, 0) !== -1;
}

/** Creates a pipe; both ends close-on-exec, and non-blocking when asked. */
export function makePipe(
  nonBlocking: boolean,
  call: string,
): [read: number, write: number] {
  const lib = libc();
  const fds = new Int32Array(2);
  if (lib.pipe2) {
    check(
      lib.pipe2(fds, C.O_CLOEXEC | (nonBlocking ? C.O_NONBLOCK : 0)),
      call,
      "cannot create a pipe",
    );
  } else {
    check(lib.pipe(fds), call, "cannot create a pipe");
    for (const fd of fds) {
      setCloseOnExec(fd, call);
      if (nonBlocking) setNonBlocking(fd, true, call);
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

/** Whether two stats name the same object (device and inode). */
export function sameObject(
  a: { dev: bigint; ino: bigint } | null,
  b: { dev: bigint; ino: bigint } | null,
): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}

/** `fstat(2)` of an fd. */
export function fstat(fd: number, call: string, object?: string): StatInfo {
  const buf = new Uint8Array(C.STAT.size + 64);
  check(libc().fstat(fd, buf), call, `cannot inspect ${object ?? `fd ${fd}`}`);
  return decodeStat(buf);
}

/** `stat(2)` of a path (following symlinks); null when it does not exist. */
export function statPath(
  path: string,
  call: string,
): StatInfo | null {
  const buf = new Uint8Array(C.STAT.size + 64);
  if (libc().stat(cString(path, call, "path"), buf) === -1) {
    if (errno() === E.ENOENT) return null;
    throw lastError(call, `cannot inspect ${JSON.stringify(path)}`);
  }
  return decodeStat(buf);
}

/**
 * `fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)`: what is at `name` in the
 * directory, without following a final symlink; null when nothing is.
 */
export function statAt(
  dirfd: number,
  name: string,
  call: string,
): StatInfo | null {
  const lib = libc();
  const buf = new Uint8Array(C.STAT.size + 64);
  const cname = cString(name, call, "name");
  if (lib.fstatat) {
    if (lib.fstatat(dirfd, cname, buf, C.AT_SYMLINK_NOFOLLOW) === -1) {
      if (errno() === E.ENOENT) return null;
      throw lastError(call, `cannot inspect ${JSON.stringify(name)}`);
    }
    return decodeStat(buf);
  }
  // No fstatat symbol (old glibc): open with O_PATH | O_NOFOLLOW and fstat.
  const fd = lib.openat(
    dirfd,
    cname,
    C.O_PATH | C.O_NOFOLLOW | C.O_CLOEXEC,
    0,
  );
  if (fd === -1) {
    if (errno() === E.ENOENT) return null;
    if (errno() === E.ELOOP) return { ...SYMLINK };
    throw lastError(call, `cannot inspect ${JSON.stringify(name)}`);
  }
  try {
    return fstat(fd, call);
  } finally {
    closeFd(fd);
  }
}
const SYMLINK: StatInfo = {
  kind: "symlink",
  mode: 0,
  uid: 0,
  gid: 0,
  size: 0,
  ino: 0n,
  dev: 0n,
};

/**
 * Opens a directory without following symlinks at its last component, for
 * the `*at` calls. Returns the fd (close-on-exec).
 */
export function openDirectory(path: string, call: string): number {
  return check(
    libc().open(
      cString(path, call, "directory"),
      C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC,
      0,
    ),
    call,
    `cannot open the directory ${JSON.stringify(path)}`,
  );
}

/**
 * Removes `name` from the directory `dirfd` only if it is still the object
 * `expected` (device and inode) — never a newer object that took the name.
 * Returns true when it removed it.
 */
export function unlinkIfSame(
  dirfd: number,
  name: string,
  expected: { dev: bigint; ino: bigint },
  call: string,
): boolean {
  const now = statAt(dirfd, name, call);
  if (!sameObject(now, expected)) return false;
  if (libc().unlinkat(dirfd, cString(name, call, "name"), 0) === -1) {
    if (errno() === E.ENOENT) return false;
    throw lastError(call, `cannot remove ${JSON.stringify(name)}`);
  }
  return true;
}

/**
 * Splits a path into its directory and last component, for `*at` calls:
 * `"/tmp/a.sock"` → `["/tmp", "a.sock"]`, `"a.sock"` → `[".", "a.sock"]`.
 */
export function splitPath(path: string): [dir: string, name: string] {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const slash = trimmed.lastIndexOf("/");
  if (slash === -1) return [".", trimmed];
  return [
    slash === 0 ? "/" : trimmed.slice(0, slash),
    trimmed.slice(slash + 1),
  ];
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
      call,
      `cannot set the pipe size to ${size} bytes (limit: /proc/sys/fs/pipe-max-size)`,
    );
  }
}

/**
 * Reserves `size` bytes of `fd`'s file (fallocate), so that writing to a
 * mapping of it can never fail for lack of space later (a SIGBUS). Growing
 * only: the file is never shrunk.
 *
 * @throws {Deno.errors.*} ENOSPC as an error naming the size and the free space.
 */
export function reserveSpace(
  fd: number,
  size: number,
  call: string,
  object: string,
): void {
  const lib = libc();
  let code = 0;
  if (lib.fallocate) {
    if (lib.fallocate(fd, 0, 0n, BigInt(size)) === -1) code = errno();
  } else {
    code = E.EOPNOTSUPP;
  }
  if (code === E.EOPNOTSUPP || code === E.ENOSYS) {
    // Not every file system has fallocate (posix_fallocate writes zeros).
    code = lib.posix_fallocate(fd, 0n, BigInt(size));
  }
  if (code === 0) return;
  if (code === E.ENOSPC) {
    const free = freeSpace(fd);
    throw osError(
      code,
      call,
      `cannot reserve ${formatBytes(size)} for ${object}${
        free === null ? "" : ` (${formatBytes(free)} free on its file system)`
      }`,
    );
  }
  throw osError(
    code,
    call,
    `cannot reserve ${formatBytes(size)} for ${object}`,
  );
}

/** Bytes available to unprivileged users on `fd`'s file system, or null. */
export function freeSpace(fd: number): number | null {
  const buf = new Uint8Array(C.STATVFS.size + 64);
  if (libc().fstatvfs(fd, buf) === -1) return null;
  const view = new DataView(buf.buffer);
  return Number(view.getBigUint64(C.STATVFS.frsize, true)) *
    Number(view.getBigUint64(C.STATVFS.bavail, true));
}

/** `1536` → `"1.5 KiB"`; exact bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return bytes === 1 ? "1 byte" : `${bytes} bytes`;
  return `${
    Number.isInteger(value) ? value : value.toFixed(value < 10 ? 1 : 0)
  } ${units[unit]}`;
}

/**
 * Reads a small file (e.g. under /proc/sys) through libc, so that no
 * `--allow-read` is needed. Returns null if it cannot be read.
 */
export function readSmallFile(path: string, max = 4096): string | null {
  const lib = libc();
  const fd = lib.open(cString(path), C.O_RDONLY | C.O_CLOEXEC, 0);
  if (fd === -1) return null;
  try {
    const buf = new Uint8Array(max);
    let used = 0;
    while (used < buf.length) {
      const n = Number(
        lib.read(fd, buf.subarray(used), BigInt(buf.length - used)),
      );
      if (n < 0) return null;
      if (n === 0) break;
      used += n;
    }
    return new TextDecoder().decode(buf.subarray(0, used));
  } finally {
    closeFd(fd);
  }
}

/** The target of /proc/self/fd/N (Linux), through libc: no `--allow-read` needed. */
export function fdLink(fd: number): string | null {
  if (!IS_LINUX) return null;
  const buf = new Uint8Array(4096);
  const n = Number(
    libc().readlink(cString(`/proc/self/fd/${fd}`), buf, BigInt(buf.length)),
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
  return fstat(checkFd(fd, call), call);
}
