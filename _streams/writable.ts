// Copyright 2026 the posix-ipc authors. MIT license.
// Writing an fd: the one write loop and the fd-backed WritableStream, with a
// synchronous fast path (no promise when the whole chunk fits).

import { C } from "../_ffi/constants.ts";
import { checkBytes } from "../_check/mod.ts";
import { retry, type WaitUntil } from "../_wait/engine.ts";
import { FOREVER } from "../_wait/options.ts";
import type { FdHandle } from "../_wait/fd_handle.ts";

/**
 * Writes all of `bytes` from `offset`, waiting for room as needed (within
 * the caller's deadline). Resolves when everything is written.
 */
export async function writeAll(
  handle: FdHandle,
  bytes: Uint8Array,
  call: string,
  until: WaitUntil = FOREVER,
  offset = 0,
): Promise<void> {
  while (offset < bytes.byteLength) {
    const rest = offset === 0 ? bytes : bytes.subarray(offset);
    const n = handle.tryWrite(rest, call);
    if (n >= 0) {
      offset += n;
      continue;
    }
    offset += await retry(
      handle.owner,
      call,
      "stayed full",
      [handle.source(C.POLLOUT)],
      until,
      () => {
        const m = handle.tryWrite(rest, call);
        return m < 0 ? undefined : m;
      },
      true,
    );
  }
}

/**
 * A `WritableStream<Uint8Array>` writing to `handle`'s fd. The stream owns
 * the fd: close, abort or a failed write calls `done` (default: close the
 * handle).
 */
export function fdWritable(
  handle: FdHandle,
  call: string,
  done: () => void = () => handle.close(),
): WritableStream<Uint8Array> {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  const fail = (error: unknown): never => {
    finish();
    throw error;
  };
  return new WritableStream<Uint8Array>({
    write(chunk) {
      let written = 0;
      try {
        checkBytes(chunk, call, "chunk");
        written = handle.closed ? 0 : Math.max(0, handle.tryWrite(chunk, call));
      } catch (error) {
        fail(error);
      }
      if (written === chunk.byteLength) return;
      return writeAll(handle, chunk, call, FOREVER, written).catch(fail);
    },
    close() {
      finish();
    },
    abort() {
      finish();
    },
  });
}
