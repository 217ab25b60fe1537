// Copyright 2026 the posix-ipc authors. MIT license.
// The low-level read(buffer)/write(bytes) of fd handles, beside their streams:
// one synchronous system call when the fd is ready, no stream machinery.

import { checkBytes } from "../_check/mod.ts";
import type { FdHandle } from "../_wait/fd_handle.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";
import { readFd } from "./readable.ts";
import { writeAll } from "./writable.ts";

/**
 * Reads available bytes into `buffer` (at least one), waiting when none are
 * there. Resolves with the count, or null at end of stream.
 */
export async function readInto(
  handle: FdHandle,
  buffer: Uint8Array,
  call: string,
  options?: WaitOptions,
): Promise<number | null> {
  checkBytes(buffer, call, "buffer");
  const until = untilOf(options, call);
  if (buffer.length === 0) return 0;
  const n = await readFd(handle, buffer, call, until);
  return n === 0 ? null : n;
}

/** Writes all of `bytes`, waiting for room as needed; resolves with their count. */
export async function writeFrom(
  handle: FdHandle,
  bytes: Uint8Array,
  call: string,
  options?: WaitOptions,
): Promise<number> {
  checkBytes(bytes, call);
  const until = untilOf(options, call);
  await writeAll(handle, bytes, call, until);
  return bytes.length;
}
