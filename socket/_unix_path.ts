// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: Unix socket path hygiene shared by listen() and UnixDatagram.bind().

import { E } from "../_ffi/constants.ts";
import { cString, describe } from "../_ffi/cstring.ts";
import { lastError, osError } from "../_ffi/errno.ts";
import { closeFd, statPath } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { sockaddrUn, unixSocket } from "../_ffi/socket.ts";

/**
 * Whether a Unix socket file has a live listener: a non-blocking connect
 * succeeds (or the backlog is full) when it does, and is refused when the
 * file is stale (its listener is gone).
 */
export function isLiveSocket(
  path: string,
  type: number,
  call: string,
): boolean {
  const { addr, len } = sockaddrUn(path, call);
  const fd = unixSocket(type, `${call}: cannot create a probe socket`);
  try {
    if (libc().connect(fd, addr, len) === 0) return true;
    const code = errno();
    if (code === E.EAGAIN || code === E.EINPROGRESS) return true;
    if (code === E.ECONNREFUSED) return false;
    if (code === E.ENOENT) return false;
    throw osError(code, `${call}: cannot probe ${JSON.stringify(path)}`);
  } finally {
    closeFd(fd);
  }
}

/**
 * Prepares a Unix socket path for binding: a stale socket file is removed, a
 * live one is refused, anything else at the path is refused.
 */
export function clearStaleSocket(
  path: string,
  type: number,
  call: string,
): void {
  const cpath = cString(path, "path");
  const info = statPath(
    cpath,
    `${call}: cannot inspect ${JSON.stringify(path)}`,
  );
  if (info === null) return;
  if (info.kind !== "socket") {
    throw new Deno.errors.AlreadyExists(
      `${call}: ${
        JSON.stringify(path)
      } exists and is a ${info.kind}, not a socket`,
    );
  }
  if (isLiveSocket(path, type, call)) {
    throw new Deno.errors.AddrInUse(
      `${call}: a live socket is listening at ${JSON.stringify(path)}`,
    );
  }
  if (libc().unlink(cpath) === -1 && errno() !== E.ENOENT) {
    throw lastError(
      `${call}: cannot remove the stale socket ${JSON.stringify(path)}`,
    );
  }
}

/** Validates and applies a socket file mode. */
export function applySocketMode(
  path: string,
  mode: unknown,
  call: string,
): void {
  if (mode === undefined) return;
  if (libc().chmod(cString(path), mode as number) === -1) {
    throw lastError(`${call}: cannot set the mode of ${JSON.stringify(path)}`);
  }
}

/** @throws {RangeError} If `mode` is not an integer from 0 to 0o7777. */
export function checkMode(mode: unknown, call: string): void {
  if (
    mode !== undefined &&
    (!Number.isInteger(mode) || (mode as number) < 0 ||
      (mode as number) > 0o7777)
  ) {
    throw new RangeError(
      `${call}: mode must be an integer from 0 to 0o7777, got ${
        describe(mode)
      }`,
    );
  }
}

/** The inode of the socket file at `path`, to recognise it later (or null). */
export function socketInode(path: string): bigint | null {
  return statPath(cString(path), `cannot inspect ${JSON.stringify(path)}`)
    ?.ino ?? null;
}

/**
 * Removes the socket file at `path` if it is still the one with inode `ino`:
 * another process may have bound the path since, and its file stays.
 */
export function removeOurSocket(path: string | null, ino: bigint | null): void {
  if (path === null || ino === null) return;
  const cpath = cString(path);
  const now = statPath(cpath, `cannot inspect ${JSON.stringify(path)}`);
  if (now?.kind === "socket" && now.ino === ino) libc().unlink(cpath);
}
