// Copyright 2026 the posix-ipc authors. MIT license.
// An fd-backed WritableStream: synchronous write(2) from the chunk itself, and
// readiness waiting on EAGAIN (see readable.ts).

import { C, E } from "../_ffi/constants.ts";
import { osError } from "../_ffi/errno.ts";
import type { FdHandle } from "../_ffi/handle.ts";
import { errno, libc } from "../_ffi/libc.ts";
import type { WaitOptions } from "../_ffi/poll.ts";

/** Options of {@linkcode fdWritable}. */
export interface FdWritableOptions {
  /**
   * Called once when the stream is finished with the fd (close, abort or a
   * failed write). Default: close the handle.
   */
  onDone?: () => void;
}

/**
 * Checks that `chunk` is a usable `Uint8Array`.
 *
 * @throws {TypeError} If it is not a Uint8Array or its buffer is detached.
 */
export function checkChunk(
  chunk: unknown,
  action: string,
): asserts chunk is Uint8Array {
  if (!(chunk instanceof Uint8Array)) {
    throw new TypeError(
      `${action}: chunks must be Uint8Array, got ${
        chunk === null ? "null" : typeof chunk
      }`,
    );
  }
  if ((chunk.buffer as ArrayBuffer).detached) {
    throw new TypeError(`${action}: the chunk's ArrayBuffer is detached`);
  }
}

/** Writes all of `bytes` to a non-blocking fd, waiting for room as needed. */
export async function writeAll(
  handle: FdHandle,
  bytes: Uint8Array,
  action: string,
  options?: WaitOptions,
): Promise<void> {
  const lib = libc();
  let offset = 0;
  while (offset < bytes.byteLength) {
    const fd = handle.use(action);
    const rest = offset === 0 ? bytes : bytes.subarray(offset);
    const n = Number(lib.write(fd, rest, BigInt(rest.byteLength)));
    if (n >= 0) {
      offset += n;
      continue;
    }
    const code = errno();
    if (code === E.EAGAIN) {
      await handle.wait(C.POLLOUT, action, options);
    } else if (code !== E.EINTR) {
      throw osError(code, `${action} (fd ${fd})`);
    }
  }
}

/**
 * A `WritableStream<Uint8Array>` writing to `handle`'s fd. The stream owns the
 * fd: close, abort or a failed write calls `onDone`.
 */
export function fdWritable(
  handle: FdHandle,
  options: FdWritableOptions = {},
): WritableStream<Uint8Array> {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    if (options.onDone) options.onDone();
    else handle.close();
  };
  const action = `Cannot write to ${handle.label}`;
  const lib = libc();
  const fail = (error: unknown): never => {
    finish();
    throw error;
  };
  return new WritableStream<Uint8Array>({
    write(chunk) {
      try {
        checkChunk(chunk, action);
      } catch (error) {
        fail(error);
      }
      // Fast path: the whole chunk usually fits; no promise is created then.
      let written = 0;
      if (!handle.closed) {
        const n = Number(lib.write(handle.fd, chunk, BigInt(chunk.byteLength)));
        if (n === chunk.byteLength) return;
        if (n > 0) written = n;
        else if (n < 0) {
          const code = errno();
          if (code !== E.EAGAIN && code !== E.EINTR) {
            fail(osError(code, `${action} (fd ${handle.fd})`));
          }
        }
      }
      return writeAll(handle, chunk.subarray(written), action).catch(fail);
    },
    close() {
      finish();
    },
    abort() {
      finish();
    },
  });
}
