// Copyright 2026 the posix-ipc authors. MIT license.
// The one validation module: every argument of every public call is checked
// by one of these functions, and every limit is defined once, here. Each
// throws `TypeError` (wrong shape) or `RangeError` (out of range) whose
// message starts with the public call's name and names the value.

const encoder = new TextEncoder();

// --- limits -----------------------------------------------------------------

/** Longest POSIX IPC name after the leading `/`, in bytes, per kind (glibc's own limits). */
export const NAME_MAX = { shm: 255, mq: 255, sem: 251 } as const;
/** Largest permission bits accepted for a created object. */
export const MODE_MAX = 0o777;
/**
 * The default largest message of `framed()` and `UnixDatagram.receive()`:
 * 16 MiB.
 *
 * @example The default limit
 * ```ts
 * import { DEFAULT_MAX_MESSAGE_SIZE } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(DEFAULT_MAX_MESSAGE_SIZE, 16 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
/** The wire format of `framed()` carries a 32-bit length. */
export const FRAME_SIZE_MAX = 0xffffffff;
/** Most descriptors one `SCM_RIGHTS` message carries (Linux `SCM_MAX_FD`). */
export const MAX_FDS_PER_MESSAGE = 253;
/**
 * Most bytes a `ShmChannel` ring holds (1 GiB): the largest `capacity` of
 * `ShmChannelWriter.create`, and so the largest message it carries.
 *
 * @example Refuse a capacity the ring cannot have, before creating anything
 * ```ts
 * import { MAX_CAPACITY } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const wanted = 2 ** 31;
 * assertEquals(wanted > MAX_CAPACITY, true);
 * ```
 */
export const MAX_CAPACITY = 1 << 30;
/** Largest timeout a wait accepts, in ms (beyond it, pass no timeout). */
export const TIMEOUT_MAX = 2 ** 31 - 1;
/** Highest descriptor number `spawn()` can place in a child. */
export const CHILD_FD_MAX = 0xffff;

// --- descriptions -------------------------------------------------------------

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(
      value.length > 60 ? value.slice(0, 57) + "..." : value,
    );
  }
  if (typeof value === "bigint") return `${value}n`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    return value.constructor?.name
      ? `a ${value.constructor.name}`
      : "an object";
  }
  if (typeof value === "function") return "a function";
  return String(value);
}

// --- shapes -------------------------------------------------------------------

/**
 * The options object of a call: `undefined` gives `{}`.
 *
 * @throws {TypeError} If it is not an object.
 */
export function checkOptions<T extends object>(
  value: T | undefined,
  call: string,
): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `${call}: options must be an object, got ${describe(value)}`,
    );
  }
  return value;
}

/**
 * An optional boolean option.
 *
 * @throws {TypeError} If it is neither undefined nor a boolean.
 */
export function checkBoolean(
  value: unknown,
  what: string,
  call: string,
): boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  throw new TypeError(
    `${call}: ${what} must be a boolean, got ${describe(value)}`,
  );
}

/** The options every named kind takes only when a call may create it. */
export const CREATE_ONLY = ["mode", "unlinkOnClose", "unlinkOnExit"] as const;

/**
 * Refuses, for an open without `create`, the options that only apply to an
 * object the call creates (its mode, sizes, cleanup): a `TypeError` naming
 * them all. An option counts as given when it is neither undefined nor false.
 *
 * @param options The caller's options.
 * @param keys The creation-only options, in the order the message names them.
 * @param create Whether the call may create.
 * @param call The public call: `"Semaphore.open()"`.
 * @param kind What it creates: `"semaphore"`.
 * @param needs What creating needs besides `create: true`: `" (and a size)"`.
 */
export function checkCreateOnly(
  options: object,
  keys: readonly string[],
  create: boolean,
  call: string,
  kind: string,
  needs = "",
): void {
  if (create) return;
  const given = options as Record<string, unknown>;
  if (!keys.some((k) => given[k] !== undefined && given[k] !== false)) return;
  const list = keys.length === 1
    ? keys[0]
    : `${keys.slice(0, -1).join(", ")} and ${keys.at(-1)}`;
  throw new TypeError(
    `${call}: ${list} apply to a ${kind} this call creates; add create: true${needs}`,
  );
}

/**
 * An integer in `[min, max]`.
 *
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is not an integer in range.
 */
export function checkInteger(
  value: unknown,
  what: string,
  call: string,
  min: number,
  max: number,
): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `${call}: ${what} must be an integer, got ${describe(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${call}: ${what} must be an integer from ${min} to ${max}, got ${
        describe(value)
      }`,
    );
  }
  return value;
}

/**
 * A size in bytes (or a count): an integer from `min` (default 1) to `max`.
 *
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is out of range.
 */
export function checkSize(
  value: unknown,
  what: string,
  call: string,
  max: number = Number.MAX_SAFE_INTEGER,
  min = 1,
): number {
  return checkInteger(value, what, call, min, max);
}

/**
 * Permission bits of an object to create (0 to 0o777), or undefined.
 *
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is not an integer from 0 to 0o777.
 */
export function checkMode(mode: unknown, call: string): number | undefined {
  if (mode === undefined) return undefined;
  if (typeof mode !== "number") {
    throw new TypeError(
      `${call}: mode must be a number, got ${describe(mode)}`,
    );
  }
  if (!Number.isInteger(mode) || mode < 0 || mode > MODE_MAX) {
    throw new RangeError(
      `${call}: mode must be permission bits from 0 to 0o777, got ${
        Number.isInteger(mode) && mode >= 0 ? `0o${mode.toString(8)}` : mode
      }`,
    );
  }
  return mode;
}

/**
 * A `timeout` option: undefined, or milliseconds from 0 to 2³¹ − 1.
 *
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is negative, NaN or too large.
 */
export function checkTimeout(
  timeout: unknown,
  call: string,
): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== "number") {
    throw new TypeError(
      `${call}: timeout must be a number of milliseconds, got ${
        describe(timeout)
      }`,
    );
  }
  if (!(timeout >= 0 && timeout <= TIMEOUT_MAX)) {
    throw new RangeError(
      `${call}: timeout must be from 0 to ${TIMEOUT_MAX} ms, got ${timeout}`,
    );
  }
  return timeout;
}

/**
 * A `signal` option: undefined or an `AbortSignal`.
 *
 * @throws {TypeError} If it is something else.
 */
export function checkAbortSignal(
  signal: unknown,
  call: string,
): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw new TypeError(
    `${call}: signal must be an AbortSignal, got ${describe(signal)}`,
  );
}

/** The `signal` and `timeout` of a wait, validated. */
export interface WaitArgs {
  signal: AbortSignal | undefined;
  timeout: number | undefined;
}

/**
 * Validates the `signal` and `timeout` of a waiting call and throws the
 * signal's reason when it is already aborted.
 */
export function checkWait(
  options: { signal?: unknown; timeout?: unknown } | undefined,
  call: string,
): WaitArgs {
  const o = checkOptions(options, call);
  const signal = checkAbortSignal(o.signal, call);
  const timeout = checkTimeout(o.timeout, call);
  signal?.throwIfAborted();
  return { signal, timeout };
}

/**
 * Bytes to send or write: a `Uint8Array` whose buffer is not detached.
 *
 * @throws {TypeError} Naming what was given.
 */
export function checkBytes(
  value: unknown,
  call: string,
  what = "data",
): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(
      `${call}: ${what} must be a Uint8Array, got ${describe(value)}`,
    );
  }
  if ((value.buffer as ArrayBuffer).detached) {
    throw new TypeError(`${call}: the ${what}'s ArrayBuffer is detached`);
  }
  return value;
}

/**
 * A descriptor number: a non-negative integer.
 *
 * @throws {TypeError} If it is not one.
 */
export function checkFd(fd: unknown, call: string, what = "fd"): number {
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new TypeError(
      `${call}: ${what} must be a non-negative integer, got ${describe(fd)}`,
    );
  }
  return fd;
}

/**
 * A `string | URL` path argument as a path string.
 *
 * @throws {TypeError} If it is neither a non-empty string nor a `file:` URL, or contains NUL.
 */
export function checkPath(path: unknown, call: string, what = "path"): string {
  if (path instanceof URL) {
    if (path.protocol !== "file:") {
      throw new TypeError(
        `${call}: the ${what} URL must be a file: URL, got "${path.href}"`,
      );
    }
    return decodeURIComponent(path.pathname);
  }
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `${call}: the ${what} must be a non-empty string or a file: URL, got ${
        describe(path)
      }`,
    );
  }
  if (path.includes("\0")) {
    throw new TypeError(
      `${call}: the ${what} must not contain NUL characters: ${
        JSON.stringify(path)
      }`,
    );
  }
  return path;
}

/**
 * Encodes `value` as a NUL-terminated C string.
 *
 * @throws {TypeError} If it contains a NUL character.
 */
export function cString(
  value: string,
  call = "cString()",
  what = "string",
): Uint8Array<ArrayBuffer> {
  if (value.includes("\0")) {
    throw new TypeError(
      `${call}: the ${what} must not contain NUL characters: ${
        JSON.stringify(value)
      }`,
    );
  }
  const bytes = new Uint8Array(encoder.encode(value).length + 1);
  encoder.encodeInto(value, bytes);
  return bytes;
}

/** The kinds of POSIX IPC names. */
export type NameKind = keyof typeof NAME_MAX;

/**
 * A POSIX IPC name: a leading `/`, at least one more byte, no other `/`, no
 * NUL, not `/.` or `/..`, and at most {@linkcode NAME_MAX} bytes after the
 * slash for its kind. Returns it as a C string.
 *
 * @throws {TypeError} Naming the rule broken.
 */
export function checkName(
  name: unknown,
  call: string,
  kind: NameKind,
): Uint8Array<ArrayBuffer> {
  if (typeof name !== "string") {
    throw new TypeError(
      `${call}: the name must be a string, got ${describe(name)}`,
    );
  }
  const max = NAME_MAX[kind];
  const rule =
    `a leading "/", then 1 to ${max} bytes without "/" (e.g. "/my-app")`;
  if (!name.startsWith("/") || name.length < 2) {
    throw new TypeError(
      `${call}: invalid name ${JSON.stringify(name)}: POSIX names need ${rule}`,
    );
  }
  if (name.indexOf("/", 1) !== -1) {
    throw new TypeError(
      `${call}: invalid name ${
        JSON.stringify(name)
      }: only the leading "/" is allowed`,
    );
  }
  if (name.includes("\0")) {
    throw new TypeError(
      `${call}: invalid name ${
        JSON.stringify(name)
      }: NUL characters are not allowed`,
    );
  }
  if (name === "/." || name === "/..") {
    throw new TypeError(`${call}: invalid name ${JSON.stringify(name)}`);
  }
  const bytes = encoder.encode(name);
  if (bytes.length - 1 > max) {
    throw new TypeError(
      `${call}: the name has ${
        bytes.length - 1
      } bytes after "/", more than ${max}: ${describe(name)}`,
    );
  }
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}
