// Copyright 2026 the posix-ipc authors. MIT license.
// An fd-backed ReadableStream of type "bytes" with BYOB support.
//
// Pattern: the fd is O_NONBLOCK; read(2) is a synchronous FFI call straight
// into the consumer's buffer (the BYOB view, or an auto-allocated chunk); on
// EAGAIN the pull awaits readiness with a nonblocking poll() that a cancel or
// close interrupts through the handle's wake fds.

import { C, E } from "../_ffi/constants.ts";
import { osError } from "../_ffi/errno.ts";
import type { FdHandle } from "../_ffi/handle.ts";
import { errno, libc } from "../_ffi/libc.ts";
import type { WaitOptions } from "../_ffi/poll.ts";
import { byteReadable } from "./byte_source.ts";

/** Options of {@linkcode fdReadable}. */
export interface FdReadableOptions {
  /** Size of the buffers allocated for default (non-BYOB) reads. Default 64 KiB. */
  chunkSize?: number;
  /**
   * Called once when the stream is finished with the fd (EOF, cancel or
   * error). Default: close the handle.
   */
  onDone?: () => void;
  /** Bytes already read from the fd, delivered before anything else. */
  prefix?: Uint8Array;
}

/**
 * Reads available bytes from a non-blocking fd into `view`, waiting for
 * readiness when none are available. Resolves with the byte count, 0 at EOF.
 */
export async function readFd(
  handle: FdHandle,
  view: Uint8Array,
  action: string,
  options?: WaitOptions,
): Promise<number> {
  const lib = libc();
  for (;;) {
    const fd = handle.use(action);
    const n = Number(lib.read(fd, view, BigInt(view.byteLength)));
    if (n >= 0) return n;
    const code = errno();
    if (code === E.EAGAIN) {
      await handle.wait(C.POLLIN, action, options);
    } else if (code !== E.EINTR) {
      throw osError(code, `${action} (fd ${fd})`);
    }
  }
}

/**
 * A `ReadableStream<Uint8Array>` of type `"bytes"` reading `handle`'s fd.
 * The stream owns the fd: EOF, cancel or an error calls `onDone`.
 */
export function fdReadable(
  handle: FdHandle,
  options: FdReadableOptions = {},
): ReadableStream<Uint8Array> {
  let prefix = options.prefix?.length ? options.prefix : undefined;
  const action = `Cannot read from ${handle.label}`;
  const lib = libc();
  return byteReadable({
    tryRead(bytes) {
      if (prefix) {
        const n = Math.min(prefix.length, bytes.length);
        bytes.set(prefix.subarray(0, n));
        prefix = n < prefix.length ? prefix.subarray(n) : undefined;
        return n;
      }
      if (handle.closed) return undefined; // read() reports BadResource
      const n = Number(lib.read(handle.fd, bytes, BigInt(bytes.byteLength)));
      if (n > 0) return n;
      if (n === 0) return null;
      const code = errno();
      if (code !== E.EAGAIN && code !== E.EINTR) {
        throw osError(code, `${action} (fd ${handle.fd})`);
      }
      return undefined;
    },
    read: (bytes) =>
      readFd(handle, bytes, action).then((n) => n === 0 ? null : n),
    done: () => {
      if (options.onDone) options.onDone();
      else handle.close();
    },
  }, options.chunkSize);
}
