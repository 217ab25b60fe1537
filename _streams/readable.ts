// Copyright 2026 the posix-ipc authors. MIT license.
// Reading an fd: the one read loop (try, would block, wait through the
// engine) and the fd-backed ReadableStream of type "bytes" with BYOB support.

import { C } from "../_ffi/constants.ts";
import { retry, type WaitUntil } from "../_wait/engine.ts";
import { FOREVER } from "../_wait/options.ts";
import type { FdHandle } from "../_wait/fd_handle.ts";
import { byteReadable, type ByteSource } from "./byte_source.ts";

/**
 * Reads available bytes into `view`, waiting for readiness when none are
 * there. Resolves with the count, 0 at end of stream.
 */
export function readFd(
  handle: FdHandle,
  view: Uint8Array,
  call: string,
  until: WaitUntil = FOREVER,
): Promise<number> {
  const n = handle.tryRead(view, call);
  if (n >= 0) return Promise.resolve(n);
  return retry(
    handle.owner,
    call,
    "stayed empty",
    [handle.source(C.POLLIN)],
    until,
    () => {
      const got = handle.tryRead(view, call);
      return got < 0 ? undefined : got;
    },
    true,
  );
}

/** The {@linkcode ByteSource} of an fd: null at EOF. */
export function fdByteSource(
  handle: FdHandle,
  call: string,
  done: () => void,
): ByteSource {
  return {
    tryRead(view) {
      if (handle.closed) return undefined; // read() reports BadResource
      const n = handle.tryRead(view, call);
      return n < 0 ? undefined : n === 0 ? null : n;
    },
    read: (view) => readFd(handle, view, call).then((n) => n === 0 ? null : n),
    done,
  };
}

/**
 * A `ReadableStream<Uint8Array>` of type `"bytes"` reading `handle`'s fd.
 * The stream owns the fd: EOF, cancel or an error calls `done` (default:
 * close the handle).
 */
export function fdReadable(
  handle: FdHandle,
  call: string,
  done: () => void = () => handle.close(),
): ReadableStream<Uint8Array<ArrayBuffer>> {
  return byteReadable(fdByteSource(handle, call, done));
}
