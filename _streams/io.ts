// Copyright 2026 the posix-ipc authors. MIT license.
// The low-level read(buffer)/write(bytes) of fd handles, beside their streams:
// one synchronous system call when the fd is ready, no stream machinery.

import type { FdHandle } from "../_ffi/handle.ts";
import { describe } from "../_ffi/cstring.ts";
import { readFd } from "./readable.ts";
import { checkChunk, writeAll } from "./writable.ts";

/**
 * Options of the low-level `read()` and `write()` of handles.
 *
 * @example Give up a read after a while
 * ```ts
 * import { type IoOptions, pipe } from "@posix/ipc/pipe";
 * import { assertRejects } from "@std/assert";
 *
 * const { reader, writer } = pipe();
 * const options: IoOptions = { signal: AbortSignal.timeout(10) };
 * await assertRejects(() => reader.read(new Uint8Array(8), options), DOMException);
 * reader.close();
 * writer.close();
 * ```
 */
export interface IoOptions {
  /** Aborting rejects a pending wait with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Reads available bytes into `buffer` (at least one), waiting when none are
 * there. Resolves with the count, or null at end of stream.
 */
export function readInto(
  handle: FdHandle,
  buffer: Uint8Array,
  call: string,
  options: IoOptions = {},
): Promise<number | null> {
  if (!(buffer instanceof Uint8Array)) {
    return Promise.reject(
      new TypeError(
        `${call}: buffer must be a Uint8Array, got ${describe(buffer)}`,
      ),
    );
  }
  if (buffer.length === 0) return Promise.resolve(0);
  return readFd(handle, buffer, `Cannot read from ${handle.label}`, options)
    .then((n) => n === 0 ? null : n);
}

/** Writes all of `bytes`, waiting for room as needed; resolves with their count. */
export async function writeFrom(
  handle: FdHandle,
  bytes: Uint8Array,
  call: string,
  options: IoOptions = {},
): Promise<number> {
  checkChunk(bytes, call);
  await writeAll(handle, bytes, `Cannot write to ${handle.label}`, options);
  return bytes.length;
}
