// Copyright 2026 the posix-ipc authors. MIT license.
// The one error builder of the package. Every message reads
// `<call>: <what happened> <object>`, where `<call>` is the name the user
// typed (`PipeReader.read()`), `<what happened>` a short sentence-case phrase
// and `<object>` the handle's label (`pipe read end (fd 21)`), which carries
// the fd when there is one, once. OS failures add `: ENAME (description)`.

import { E, ERRNO_NAMES } from "./constants.ts";
import { errno, libc } from "./libc.ts";
import { readCString } from "./memory.ts";

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
  EPROTOTYPE: Deno.errors.InvalidData,
  ENOTSOCK: Deno.errors.InvalidData,
  EINVAL: Deno.errors.InvalidData,
};

/** An OS error: a `Deno.errors.*` instance that also carries `code` and `errno`. */
export type OsError = Error & { code: string; errno: number };

/** The symbolic name of an errno value, e.g. `"ENOENT"`. */
export function errnoName(code: number): string {
  const known = ERRNO_NAMES[code];
  if (known) return known;
  const p = libc().strerrorname_np?.(code);
  return p ? readCString(BigInt(p)) : `errno ${code}`;
}

/** The description of an errno value, lower-cased, e.g. `"no such file or directory"`. */
export function errnoText(code: number): string {
  const p = libc().strerror(code);
  const text = p ? readCString(BigInt(p)) : "unknown error";
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * The `Deno.errors.*` error for an errno value:
 * `<call>: <action>: ENAME (description)`.
 *
 * @param code The errno value.
 * @param call The public call, as the user typed it: `"openFifo()"`.
 * @param action What failed, naming the object: `cannot open FIFO "/tmp/x"`.
 */
export function osError(
  code: number,
  call: string,
  action: string,
  options?: ErrorOptions,
): OsError {
  const name = errnoName(code);
  const Class = CLASSES[name] ?? Error;
  const error = new Class(
    `${call}: ${action}: ${name} (${errnoText(code)})`,
    options,
  ) as OsError;
  error.code = name;
  error.errno = code;
  return error;
}

/** The error for this thread's errno, right after a failed synchronous call. */
export function lastError(call: string, action: string): OsError {
  return osError(errno(), call, action);
}

/**
 * The error of an `open` with `O_NOFOLLOW` of `label` that failed with
 * `code`: a symbolic link in the last component is `InvalidData` saying so
 * (it is never followed), anything else the errno's error.
 */
export function openError(code: number, call: string, label: string): Error {
  if (code === E.ELOOP) {
    return invalidDataError(
      call,
      `${label} is a symbolic link; it is not followed`,
    );
  }
  return osError(code, call, `cannot open ${label}`);
}

/** Returns `result` unless it is -1; then throws the errno error. */
export function check<T extends number | bigint>(
  result: T,
  call: string,
  action: string,
): T {
  if (result === -1 || result === -1n) throw lastError(call, action);
  return result;
}

/** `BadResource`: `<call>: <object> is closed`. */
export function closedError(call: string, object: string): Error {
  return new Deno.errors.BadResource(`${call}: ${object} is closed`);
}

/** `TimedOut`: `<call>: <what>` (the phrase says what did not happen in time). */
export function timedOutError(call: string, what: string): Error {
  return new Deno.errors.TimedOut(`${call}: ${what}`);
}

/** `InvalidData`: an object is not what it must be (wrong size, type or header). */
export function invalidDataError(
  call: string,
  what: string,
  options?: ErrorOptions,
): Error {
  return new Deno.errors.InvalidData(`${call}: ${what}`, options);
}

/** `NotSupported` on this system. */
export function notSupportedError(call: string, what: string): Error {
  return new Deno.errors.NotSupported(`${call}: ${what}`);
}
