// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: binding a Unix socket to a path with the hygiene every daemon
// needs, shared by listen() and UnixDatagram.bind().
//
// - The socket file is created with its final mode: the umask is narrowed to
//   exactly `mode` around bind(), so no client can connect in between (a
//   chmod afterwards would leave a window).
// - A stale socket file (no process bound to it) is replaced; a live one is
//   refused (AddrInUse); anything else at the path is refused. The whole
//   sequence — bind, the liveness probe, the removal, the bind again and, for
//   a stream socket, listen() — happens under an flock of the directory, and
//   the removal is by identity, so two processes replacing the same stale
//   file cannot both succeed and orphan one another. (A stream socket that
//   is bound but not yet listening refuses connections exactly as a stale
//   one does: without the lock over listen(), a second process would take
//   the first one's new file for stale and replace it.)

import { C, E } from "../_ffi/constants.ts";
import { lastError, osError } from "../_ffi/errors.ts";
import {
  closeFd,
  splitPath,
  statAt,
  type StatInfo,
  unlinkIfSame,
} from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import {
  isAbstract,
  newSocket,
  showPath,
  type SockAddr,
  sockaddrUn,
} from "../_ffi/socket.ts";
import { cString } from "../_check/mod.ts";
import type { Identity, Place } from "../_object/lifecycle.ts";

/** What a bind left in the file system: the socket file's place and identity. */
export interface Bound {
  /** Null for an abstract name (nothing in the file system). */
  place: Place | null;
  identity: Identity | null;
}

/** Socket type names for messages. */
export function socketTypeName(type: number): string {
  return type === C.SOCK_STREAM
    ? "stream socket"
    : type === C.SOCK_DGRAM
    ? "datagram socket"
    : type === C.SOCK_SEQPACKET
    ? "seqpacket socket"
    : `socket of type ${type}`;
}

/**
 * Whether a process is bound to the socket file at `addr`: a non-blocking
 * connect of the same type succeeds (or the backlog is full) when one is,
 * and is refused when the file is stale. A socket of the other type answers
 * EPROTOTYPE: it is live too.
 */
function probe(
  addr: SockAddr,
  type: number,
  call: string,
  path: string,
): "stale" | "live" | "other-type" {
  const fd = newSocket(C.AF_UNIX, type, call);
  try {
    if (libc().connect(fd, addr.addr, addr.len) === 0) return "live";
    const code = errno();
    if (code === E.EAGAIN || code === E.EINPROGRESS) return "live";
    if (code === E.ECONNREFUSED || code === E.ENOENT) return "stale";
    if (code === E.EPROTOTYPE) return "other-type";
    throw osError(
      code,
      call,
      `cannot tell whether ${showPath(path)} is in use`,
    );
  } finally {
    closeFd(fd);
  }
}

function lockDirectory(dirfd: number, call: string, dir: string): boolean {
  const lib = libc();
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 2000; i++) {
    if (lib.flock(dirfd, C.LOCK_EX | C.LOCK_NB) === 0) return true;
    const code = errno();
    if (code !== E.EAGAIN && code !== E.EINTR) return false; // no flock here: go on without
    Atomics.wait(pause, 0, 0, 1);
  }
  throw new Deno.errors.Busy(
    `${call}: cannot lock the directory ${
      JSON.stringify(dir)
    } for 2 s to replace a stale socket file safely`,
  );
}

/**
 * Binds `fd` to `path` (a file path, or `"\0name"` for an abstract name),
 * replacing a stale socket file and refusing a live one. `onBound` (e.g.
 * `listen()`) runs right after the bind, still under the directory lock; if
 * it throws, the new socket file is removed again.
 *
 * @throws {Deno.errors.AddrInUse} If a live socket is bound at the path.
 * @throws {Deno.errors.AlreadyExists} If something other than a socket is there.
 */
export function bindUnix(
  fd: number,
  path: string,
  type: number,
  mode: number | undefined,
  call: string,
  onBound?: () => void,
): Bound {
  const lib = libc();
  const addr = sockaddrUn(path, call);
  const show = showPath(path);
  if (isAbstract(path)) {
    if (lib.bind(fd, addr.addr, addr.len) === 0) {
      onBound?.();
      return { place: null, identity: null };
    }
    const code = errno();
    if (code === E.EADDRINUSE) {
      throw new Deno.errors.AddrInUse(`${call}: ${show} is already bound`);
    }
    throw osError(code, call, `cannot bind ${show}`);
  }
  const [dir, file] = splitPath(path);
  const dirfd = lib.open(
    cString(dir, call, "directory"),
    C.O_RDONLY | C.O_DIRECTORY | C.O_CLOEXEC,
    0,
  );
  if (dirfd === -1) throw lastError(call, `cannot bind ${show}`);
  let locked = false;
  try {
    locked = lockDirectory(dirfd, call, dir);
    for (let attempt = 0;; attempt++) {
      let rc: number;
      if (mode === undefined) {
        rc = lib.bind(fd, addr.addr, addr.len);
      } else {
        const old = lib.umask(0o777 & ~mode);
        rc = lib.bind(fd, addr.addr, addr.len);
        lib.umask(old);
      }
      if (rc === 0) {
        const info = statAt(dirfd, file, call);
        const ours = info !== null && info.kind === "socket";
        try {
          onBound?.();
        } catch (error) {
          if (ours) unlinkIfSame(dirfd, file, info, call);
          throw error;
        }
        if (!ours) {
          // Swapped away in the instant since bind: nothing of ours to track.
          return { place: null, identity: null };
        }
        return {
          place: { dirFd: pathFd(dirfd, call), file },
          identity: { dev: info.dev, ino: info.ino },
        };
      }
      const code = errno();
      if (code !== E.EADDRINUSE || attempt > 5) {
        throw osError(code, call, `cannot bind ${show}`);
      }
      const info: StatInfo | null = statAt(dirfd, file, call);
      if (info === null) continue;
      if (info.kind !== "socket") {
        throw new Deno.errors.AlreadyExists(
          `${call}: ${show} exists and is a ${info.kind}, not a socket`,
        );
      }
      const state = probe(addr, type, call, path);
      if (state === "live") {
        throw new Deno.errors.AddrInUse(
          `${call}: a live ${socketTypeName(type)} is bound at ${show}`,
        );
      }
      if (state === "other-type") {
        throw new Deno.errors.AddrInUse(
          `${call}: a live socket of another type (not a ${
            socketTypeName(type)
          }) is bound at ${show}`,
        );
      }
      unlinkIfSame(dirfd, file, info, call);
    }
  } finally {
    if (locked) lib.flock(dirfd, C.LOCK_UN);
    closeFd(dirfd);
  }
}

/** An O_PATH duplicate of a directory fd, kept by the lifecycle. */
function pathFd(dirfd: number, call: string): number {
  const fd = libc().fcntl(dirfd, C.F_DUPFD_CLOEXEC, 0);
  if (fd === -1) throw lastError(call, "cannot keep the socket's directory");
  return fd;
}
