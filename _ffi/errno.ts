// Copyright 2026 the posix-ipc authors. MIT license.
// errno → Deno.errors, in one place.

import { ERRNO_NAMES } from "./constants.ts";
import { errno, libc } from "./libc.ts";

type ErrorClass = new (message?: string, options?: ErrorOptions) => Error;

const CLASSES: Readonly<Record<string, ErrorClass>> = {
  ENOENT: Deno.errors.NotFound,
  ESRCH: Deno.errors.NotFound,
  ENXIO: Deno.errors.NotFound,
  EEXIST: Deno.errors.AlreadyExists,
  EACCES: Deno.errors.PermissionDenied,
  EPERM: Deno.errors.PermissionDenied,
  EROFS: Deno.errors.PermissionDenied,
  EPIPE: Deno.errors.BrokenPipe,
  ECONNREFUSED: Deno.errors.ConnectionRefused,
  ECONNRESET: Deno.errors.ConnectionReset,
  ECONNABORTED: Deno.errors.ConnectionAborted,
  ENOTCONN: Deno.errors.NotConnected,
  EADDRINUSE: Deno.errors.AddrInUse,
  EADDRNOTAVAIL: Deno.errors.AddrNotAvailable,
  EAGAIN: Deno.errors.WouldBlock,
  ETIMEDOUT: Deno.errors.TimedOut,
  EINTR: Deno.errors.Interrupted,
  EBADF: Deno.errors.BadResource,
  EBUSY: Deno.errors.Busy,
  ENOTDIR: Deno.errors.NotADirectory,
  EISDIR: Deno.errors.IsADirectory,
  ELOOP: Deno.errors.FilesystemLoop,
  ENOSYS: Deno.errors.NotSupported,
  EOPNOTSUPP: Deno.errors.NotSupported,
  ENOTSUP: Deno.errors.NotSupported,
  EAFNOSUPPORT: Deno.errors.NotSupported,
  EINVAL: Deno.errors.InvalidData,
};

/** An OS error: a `Deno.errors.*` instance that also carries `code` and `errno`. */
export type OsError = Error & { code: string; errno: number };

/** The symbolic name of an errno value, e.g. `"ENOENT"`. */
export function errnoName(code: number): string {
  const known = ERRNO_NAMES[code];
  if (known) return known;
  const lib = libc();
  const p = lib.strerrorname_np?.(code);
  return p ? Deno.UnsafePointerView.getCString(p) : `errno ${code}`;
}

/** The description of an errno value, lower-cased, e.g. `"no such file or directory"`. */
export function errnoText(code: number): string {
  const p = libc().strerror(code);
  const text = p ? Deno.UnsafePointerView.getCString(p) : "unknown error";
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * Builds the `Deno.errors.*` error for an errno value.
 *
 * @param code The errno value.
 * @param action What failed, naming the object: `Cannot open FIFO "/tmp/x"`.
 */
export function osError(code: number, action: string): OsError {
  const name = errnoName(code);
  const Class = CLASSES[name] ?? Error;
  const error = new Class(`${action}: ${name} (${errnoText(code)})`) as OsError;
  error.code = name;
  error.errno = code;
  return error;
}

/** Builds the error for the current thread's errno (after a failed synchronous call). */
export function lastError(action: string): OsError {
  return osError(errno(), action);
}

/**
 * Returns `result` when it is not -1, otherwise throws the error for errno.
 * For calls that return -1 and set errno.
 */
export function check<T extends number | bigint>(result: T, action: string): T {
  if (result === -1 || result === -1n) throw lastError(action);
  return result;
}
