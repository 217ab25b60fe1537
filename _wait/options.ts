// Copyright 2026 the posix-ipc authors. MIT license.
// The options every waiting call takes, validated in one place.

import { checkWait } from "../_check/mod.ts";
import { deadlineOf, type WaitUntil } from "./engine.ts";

/**
 * Options of every call that may wait (read, write, send, receive, accept,
 * acquire, open): the same two, with the same meaning, everywhere.
 *
 * - `signal`: aborting rejects the pending call with the signal's reason;
 *   nothing is consumed or left half-done.
 * - `timeout`: milliseconds for the whole call; then it rejects with
 *   `Deno.errors.TimedOut`, nothing consumed.
 *
 * Closing the handle meanwhile rejects with `Deno.errors.BadResource`.
 *
 * @example Give up a read after a while
 * ```ts
 * import { pipe, type WaitOptions } from "@posix/ipc/pipe";
 * import { assertRejects } from "@std/assert";
 *
 * const { reader, writer } = pipe();
 * const options: WaitOptions = { timeout: 10 };
 * await assertRejects(() => reader.read(new Uint8Array(8), options), Deno.errors.TimedOut);
 * reader.close();
 * writer.close();
 * ```
 */
export interface WaitOptions {
  /** Aborting rejects the wait with the signal's reason. */
  signal?: AbortSignal;
  /** Milliseconds for the whole call; then `Deno.errors.TimedOut`. */
  timeout?: number;
}

/**
 * Validates `signal` and `timeout` of a waiting call and fixes its deadline.
 *
 * @throws {TypeError} If `signal` is not an AbortSignal or `timeout` not a number.
 * @throws {RangeError} If `timeout` is negative or too large.
 */
export function untilOf(
  options: WaitOptions | undefined,
  call: string,
): WaitUntil {
  if (options === undefined) return FOREVER;
  const { signal, timeout } = checkWait(options, call);
  if (signal === undefined && timeout === undefined) return FOREVER;
  return { signal, timeout, deadline: deadlineOf(timeout) };
}

/** A wait with neither a signal nor a timeout (shared: never mutated). */
export const FOREVER: WaitUntil = Object.freeze({
  signal: undefined,
  timeout: undefined,
  deadline: Infinity,
});
