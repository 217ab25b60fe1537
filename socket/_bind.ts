// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: binding a Unix socket to a path with the hygiene every daemon
// needs, shared by listen() and UnixDatagram.bind().
//
// - The socket file is never more open than `mode`: the socket's own inode
//   gets `mode` (fchmod) before bind(), and bind() creates the file with
//   that mode minus the umask; the bits the umask removed are then added
//   through an O_PATH fd (setExactMode). The umask itself is never changed:
//   it belongs to the whole process, and other threads' files would get it.
// - A stale socket file (no socket bound to it) is replaced; a live one is
//   refused (AddrInUse); anything else at the path is refused. A socket is
//   live from bind() on, listening or not: the probe connects with the
//   socket's own type, then, if refused, with the other type, which a bound
//   socket answers with EPROTOTYPE and a stale file with ECONNREFUSED.
// - Replacing a stale file (stat, probe, unlink by identity, bind) is done
//   under an flock of the directory, so two processes replacing the same
//   stale file cannot both succeed and orphan one another. Only that path
//   takes the lock, and only for a bounded time: a bind on a free path never
//   waits, and a local user holding the lock of a world-readable directory
//   can delay a replacement by LOCK_WAIT_MS (then Busy), never a listen().

import { C, E } from "../_ffi/constants.ts";
import { check, lastError, osError } from "../_ffi/errors.ts";
import {
  closeFd,
  setExactMode,
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

/** One connect to `addr` with a socket of `type`: its errno, 0 if connected. */
function connectOnce(addr: SockAddr, type: number, call: string): number {
  const fd = newSocket(C.AF_UNIX, type, call);
  try {
    return libc().connect(fd, addr.addr, addr.len) === 0 ? 0 : errno();
  } finally {
    closeFd(fd);
  }
}

/**
 * Whether a socket is bound to the socket file at `addr`. A non-blocking
 * connect of the same type succeeds (or finds the backlog full) when one is
 * listening; a socket of the other type answers EPROTOTYPE. A stream socket
 * that is bound but not yet listening refuses like a stale file, so a
 * refusal is checked with a connect of the other type: EPROTOTYPE means a
 * socket is bound (live), ECONNREFUSED that none is (stale).
 */
function probe(
  addr: SockAddr,
  type: number,
  call: string,
  path: string,
): "stale" | "live" | "other-type" {
  const code = connectOnce(addr, type, call);
  if (code === 0 || code === E.EAGAIN || code === E.EINPROGRESS) return "live";
  if (code === E.EPROTOTYPE) return "other-type";
  if (code === E.ECONNREFUSED || code === E.ENOENT) {
    const other = type === C.SOCK_STREAM ? C.SOCK_DGRAM : C.SOCK_STREAM;
    const again = connectOnce(addr, other, call);
    if (again === E.ECONNREFUSED || again === E.ENOENT) return "stale";
    if (again === E.EPROTOTYPE) return "live"; // bound, not listening yet
    if (again === 0 || again === E.EAGAIN || again === E.EINPROGRESS) {
      return "other-type";
    }
    throw osError(
      again,
      call,
      `cannot tell whether ${showPath(path)} is in use`,
    );
  }
  throw osError(code, call, `cannot tell whether ${showPath(path)} is in use`);
}

/** How long a stale-file replacement waits for the directory lock. */
const LOCK_WAIT_MS = 200;

function lockDirectory(dirfd: number, call: string, dir: string): boolean {
  const lib = libc();
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < LOCK_WAIT_MS; i++) {
    if (lib.flock(dirfd, C.LOCK_EX | C.LOCK_NB) === 0) return true;
    const code = errno();
    if (code !== E.EAGAIN && code !== E.EINTR) return false; // no flock here: go on without
    Atomics.wait(pause, 0, 0, 1);
  }
  throw new Deno.errors.Busy(
    `${call}: cannot lock the directory ${
      JSON.stringify(dir)
    } for ${LOCK_WAIT_MS} ms to replace a stale socket file safely`,
  );
}

/**
 * Binds `fd` to `path` (a file path, or `"\0name"` for an abstract name),
 * replacing a stale socket file and refusing a live one. `onBound` (e.g.
 * `listen()`) runs right after the bind; if it throws, the new socket file
 * is removed again.
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
  if (mode !== undefined) {
    // The file bind() creates gets the socket inode's mode minus the umask.
    check(lib.fchmod(fd, mode), call, `cannot set the mode of ${show}`);
  }
  const [dir, file] = splitPath(path);
  const dirfd = lib.open(
    cString(dir, call, "directory"),
    C.O_RDONLY | C.O_DIRECTORY | C.O_CLOEXEC,
    0,
  );
  if (dirfd === -1) throw lastError(call, `cannot bind ${show}`);
  let triedLock = false;
  let locked = false;
  try {
    for (let attempt = 0;; attempt++) {
      if (lib.bind(fd, addr.addr, addr.len) === 0) {
        return bound(dirfd, file, mode, call, show, onBound);
      }
      const code = errno();
      if (code !== E.EADDRINUSE || attempt > 6) {
        throw osError(code, call, `cannot bind ${show}`);
      }
      // Something is at the path: replacing it, if stale, takes the lock.
      if (!triedLock) {
        triedLock = true;
        locked = lockDirectory(dirfd, call, dir);
        continue; // the holder may have just replaced it
      }
      const info: StatInfo | null = statAt(dirfd, file, call);
      if (info === null) continue;
      if (info.kind !== "socket") {
        throw new Deno.errors.AlreadyExists(
          `${call}: ${show} exists and is a ${info.kind}, not a socket`,
        );
      }
      let state = probe(addr, type, call, path);
      if (state === "stale") {
        // A bind that has just created the file may not be findable for a
        // few microseconds: ask once more before removing anything.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        state = probe(addr, type, call, path);
      }
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

/** After a successful bind: the exact mode, `onBound`, the file's identity. */
function bound(
  dirfd: number,
  file: string,
  mode: number | undefined,
  call: string,
  show: string,
  onBound: (() => void) | undefined,
): Bound {
  const info = statAt(dirfd, file, call);
  const ours = info !== null && info.kind === "socket";
  try {
    if (ours && mode !== undefined) {
      setExactMode(dirfd, file, mode, "socket", call, `socket file ${show}`);
    }
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

/** An O_PATH duplicate of a directory fd, kept by the lifecycle. */
function pathFd(dirfd: number, call: string): number {
  const fd = libc().fcntl(dirfd, C.F_DUPFD_CLOEXEC, 0);
  if (fd === -1) throw lastError(call, "cannot keep the socket's directory");
  return fd;
}
