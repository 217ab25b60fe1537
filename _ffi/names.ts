// Copyright 2026 the posix-ipc authors. MIT license.
// POSIX IPC object names (shared memory, semaphores, message queues).

import { describe } from "./cstring.ts";

const encoder = new TextEncoder();

/** Longest POSIX IPC name in bytes (NAME_MAX), including the leading slash. */
export const NAME_MAX = 255;

/**
 * Validates a POSIX IPC name and returns it as a C string: a leading `/`, at
 * least one more character, no other `/`, no NUL, at most 255 bytes.
 *
 * @throws {TypeError} Naming the call and the rule broken.
 */
export function posixName(
  name: unknown,
  call: string,
  max: number = NAME_MAX,
): Uint8Array<ArrayBuffer> {
  if (typeof name !== "string") {
    throw new TypeError(
      `${call}: the name must be a string, got ${describe(name)}`,
    );
  }
  const rule =
    'a leading "/" and no other "/", at most 255 bytes (e.g. "/my-app")';
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
  if (bytes.length > max) {
    throw new TypeError(
      `${call}: the name is ${bytes.length} bytes, longer than ${max}: ${
        describe(name)
      }`,
    );
  }
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * Validates a size: a positive safe integer (at most `max`).
 *
 * @throws {RangeError} Naming the option and the value.
 */
export function checkSize(
  value: unknown,
  what: string,
  call: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (
    typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0 ||
    value > max
  ) {
    throw new RangeError(
      `${call}: ${what} must be a positive integer${
        max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ""
      }, got ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Validates permission bits.
 *
 * @throws {RangeError} If not an integer from 0 to 0o777.
 */
export function checkModeBits(mode: unknown, call: string): number | undefined {
  if (mode === undefined) return undefined;
  if (
    typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 ||
    mode > 0o777
  ) {
    throw new RangeError(
      `${call}: mode must be an integer from 0 to 0o777, got ${describe(mode)}`,
    );
  }
  return mode;
}

/**
 * Validates a `timeout` option: undefined, or a non-negative number of
 * milliseconds (Infinity allowed).
 *
 * @throws {RangeError} Naming the call and the value.
 */
export function checkTimeout(
  timeout: unknown,
  call: string,
): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== "number" || !(timeout >= 0)) {
    throw new RangeError(
      `${call}: timeout must be a non-negative number of milliseconds, got ${
        describe(timeout)
      }`,
    );
  }
  return timeout;
}
