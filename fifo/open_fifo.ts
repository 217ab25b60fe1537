// Copyright 2026 the posix-ipc authors. MIT license.

import { checkTimeout } from "../_ffi/names.ts";
import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { cString, toPath } from "../_ffi/cstring.ts";
import { lastError, osError } from "../_ffi/errno.ts";
import {
  checkPipeSize,
  closeFd,
  fstat,
  setPipeSize,
  statPath,
} from "../_ffi/fd.ts";
import { FdHandle, HAND_OVER } from "../_ffi/handle.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { deadlineOf, delay, waitFd, waitFds } from "../_ffi/poll.ts";
import { FdStreams } from "../_streams/duplex.ts";
import { type IoOptions, readInto, writeFrom } from "../_streams/io.ts";

/**
 * Options of {@linkcode openFifo}.
 *
 * @example Wait at most 50 ms for a writer
 * ```ts
 * import { mkfifo, openFifo, type OpenFifoOptions } from "@posix/ipc/fifo";
 * import { assertRejects } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * await mkfifo(`${dir}/f`);
 * const options: OpenFifoOptions = { read: true, timeout: 50 };
 * await assertRejects(() => openFifo(`${dir}/f`, options), Deno.errors.TimedOut);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface OpenFifoOptions {
  /** Open for reading: resolves once a writer has opened the FIFO. */
  read?: boolean;
  /** Open for writing: resolves once a reader has connected. */
  write?: boolean;
  /** Aborting rejects a pending open with the signal's reason and releases everything. */
  signal?: AbortSignal;
  /** Milliseconds to wait for the other side; then `Deno.errors.TimedOut`. */
  timeout?: number;
  /**
   * Kernel buffer size of the FIFO in bytes (`F_SETPIPE_SZ`, Linux only), as
   * in `pipe()`; set once the FIFO is open. Default: the system's (64 KiB).
   */
  size?: number;
}

let newFifo: (
  fd: number,
  path: string,
  read: boolean,
  write: boolean,
  prefix: Uint8Array | undefined,
) => Fifo;

/**
 * An open FIFO, from {@linkcode openFifo}.
 *
 * @example Read what a shell writes into a FIFO
 * ```ts
 * import { mkfifo, openFifo } from "@posix/ipc/fifo";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/fifo`;
 * await mkfifo(path);
 * const writer = new Deno.Command("sh", { args: ["-c", `echo hello > ${path}`] }).spawn();
 * using fifo = await openFifo(path, { read: true });
 * assertEquals(await new Response(fifo.readable).text(), "hello\n");
 * await writer.status;
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class Fifo implements Disposable {
  #handle: FdHandle;
  #streams: FdStreams;
  /** The path the FIFO was opened at. */
  readonly path: string;

  static {
    newFifo = (fd, path, read, write, prefix) =>
      new Fifo(fd, path, read, write, prefix);
  }

  private constructor(
    fd: number,
    path: string,
    read: boolean,
    write: boolean,
    prefix: Uint8Array | undefined,
  ) {
    this.path = path;
    this.#handle = new FdHandle(fd, `FIFO ${JSON.stringify(path)}`);
    this.#streams = new FdStreams(this.#handle, {
      read,
      write,
      ...(prefix ? { prefix } : {}),
    });
  }

  /** The descriptor number, or -1 once closed or handed over. */
  get fd(): number {
    return this.#handle.fd;
  }

  /**
   * The bytes written into the FIFO, as a `"bytes"` stream with BYOB support.
   * It ends when the last writer closes. The stream owns the read side.
   *
   * @throws {TypeError} If the FIFO was not opened for reading.
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#streams.readable(`FIFO ${JSON.stringify(this.path)}`);
  }

  /**
   * Writes into the FIFO. Closing it closes the write side; readers see EOF
   * once every writer is gone. A write with no reader left fails with
   * `Deno.errors.BrokenPipe`.
   *
   * @throws {TypeError} If the FIFO was not opened for writing.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#streams.writable(`FIFO ${JSON.stringify(this.path)}`);
  }

  /**
   * Reads available bytes into `buffer`, waiting when there are none: the
   * low-level path under {@linkcode Fifo.readable} (use one or the other).
   *
   * @param buffer Where to put the bytes.
   * @param options An abort signal for the wait.
   * @returns The number of bytes read, or null at end of stream.
   * @throws {TypeError} If the FIFO was not opened for reading.
   */
  read(buffer: Uint8Array, options?: IoOptions): Promise<number | null> {
    this.#streams.check("read", `FIFO ${JSON.stringify(this.path)}`);
    const prefix = this.#streams.takePrefix();
    if (prefix && buffer instanceof Uint8Array && buffer.length > 0) {
      const n = Math.min(prefix.length, buffer.length);
      buffer.set(prefix.subarray(0, n));
      if (n < prefix.length) this.#streams.putPrefix(prefix.subarray(n));
      return Promise.resolve(n);
    }
    return readInto(this.#handle, buffer, "Fifo.read()", options);
  }

  /**
   * Writes all of `data`, waiting for room as needed: the low-level path
   * under {@linkcode Fifo.writable} (use one or the other).
   *
   * @param data The bytes.
   * @param options An abort signal for the waits.
   * @returns The number of bytes written (all of them).
   * @throws {Deno.errors.BrokenPipe} If no reader is left.
   * @throws {TypeError} If the FIFO was not opened for writing.
   */
  write(data: Uint8Array, options?: IoOptions): Promise<number> {
    this.#streams.check("write", `FIFO ${JSON.stringify(this.path)}`);
    return writeFrom(this.#handle, data, "Fifo.write()", options);
  }

  /** Closes the descriptor (the FIFO stays in the filesystem). Idempotent. */
  close(): void {
    this.#handle.close();
  }

  /** Same as {@linkcode Fifo.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Gives up this process's copy after `spawn()` passed it to a child. */
  [HAND_OVER](): void {
    this.#handle.handOver(
      this.#streams.used("read") || this.#streams.used("write"),
    );
  }
}

function timedOut(path: string, side: string, timeout: number): Error {
  return new Deno.errors.TimedOut(
    `openFifo(): no ${side} opened ${
      JSON.stringify(path)
    } within ${timeout} ms`,
  );
}

/**
 * Opens a FIFO made by `mkfifo()` (or the shell's `mkfifo`), without ever
 * blocking the event loop or leaving a thread parked.
 *
 * - For reading: resolves once a writer has opened the FIFO, even one that
 *   has not written yet. (The kernel does not notify a reader of a writer;
 *   an empty non-blocking read tells "no writer" from "nothing written yet",
 *   and is repeated whenever inotify reports an open of the path.)
 * - For writing: resolves once a reader has connected. A reader that opens
 *   without blocking (like this function) is seen at once through inotify;
 *   one blocked in `open()` (like `cat fifo`) within about 30 ms.
 * - For both (Linux): resolves at once; the reader never sees EOF while this
 *   handle is open, because it is a writer too.
 *
 * Aborting or timing out releases the fd and wakes any waiting thread, so a
 * process that gave up can exit by itself.
 *
 * System calls: `stat`, `open(O_NONBLOCK | O_CLOEXEC)`, `fstat`, `poll`,
 * `inotify_init1`/`inotify_add_watch` (Linux), `read`/`write`.
 *
 * @param path The FIFO's path.
 * @param options The direction(s), an abort signal and a timeout.
 * @returns The open FIFO.
 * @throws {TypeError} If neither `read` nor `write` is true, or `path` is not a FIFO (the message says what it is).
 * @throws {Deno.errors.NotFound} If nothing exists at `path`.
 * @throws {Deno.errors.PermissionDenied} If the FIFO's mode forbids the direction.
 * @throws {Deno.errors.TimedOut} If the other side did not come within `timeout`.
 *
 * @example Write to a reader that appears later
 * ```ts
 * import { mkfifo, openFifo } from "@posix/ipc/fifo";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/fifo`;
 * await mkfifo(path);
 * const reading = openFifo(path, { read: true })
 *   .then((fifo) => new Response(fifo.readable).text());
 * const fifo = await openFifo(path, { write: true });
 * const writer = fifo.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping"));
 * await writer.close();
 * assertEquals(await reading, "ping");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function openFifo(
  path: string | URL,
  options: OpenFifoOptions,
): Promise<Fifo> {
  const call = "openFifo()";
  const p = toPath(path, call);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${call}: options must be an object with read and/or write`,
    );
  }
  const { read = false, write = false, signal, timeout, size } = options;
  if (typeof read !== "boolean" || typeof write !== "boolean") {
    throw new TypeError(`${call}: read and write must be booleans`);
  }
  if (!read && !write) {
    throw new TypeError(`${call}: at least one of read and write must be true`);
  }
  checkTimeout(timeout, call);
  checkPipeSize(size, call);
  signal?.throwIfAborted();
  const action = `Cannot open FIFO ${JSON.stringify(p)}`;
  const cpath = cString(p, "path");
  const info = statPath(cpath, action);
  if (info === null) throw osError(E.ENOENT, action);
  if (info.kind !== "fifo") {
    throw new TypeError(
      `${call}: ${JSON.stringify(p)} is a ${info.kind}, not a FIFO`,
    );
  }
  const lib = libc();
  const access = read && write ? C.O_RDWR : read ? C.O_RDONLY : C.O_WRONLY;
  const flags = access | C.O_NONBLOCK | C.O_CLOEXEC;
  const deadline = deadlineOf(timeout);
  const left = () =>
    deadline === Infinity
      ? undefined
      : Math.max(0, deadline - performance.now());

  if (write && !read) {
    const fd = await openWriter(cpath, flags, action, signal, left);
    if (fd < 0) throw timedOut(p, "reader", timeout!);
    return newFifo(checkFifo(fd, p, action, size), p, read, write, undefined);
  }
  if (read && write) {
    const fd = lib.open(cpath, flags, 0);
    if (fd === -1) throw lastError(action);
    return newFifo(checkFifo(fd, p, action, size), p, read, write, undefined);
  }
  // Read only: wait until a writer is connected. The kernel does not notify
  // a reader of that, but it answers a probe (see probeWriter); inotify's
  // IN_OPEN and the fd's readiness only tell us when to probe again.
  const inotify = watchOpens(cpath);
  try {
    const fd = lib.open(cpath, flags, 0);
    if (fd === -1) throw lastError(action);
    checkFifo(fd, p, action, size);
    try {
      let backoff = 1;
      let hangup = false;
      for (;;) {
        const probe = probeWriter(fd, action);
        if (probe !== null) {
          return newFifo(fd, p, true, false, probe.length ? probe : undefined);
        }
        if (hangup) {
          // A writer came and left without writing: like `: > fifo`, the
          // reader gets an immediate EOF.
          return newFifo(fd, p, true, false, undefined);
        }
        const remaining = left();
        if (remaining === 0) throw timedOut(p, "writer", timeout!);
        const waits: [number, number][] = [[fd, C.POLLIN]];
        if (inotify >= 0) waits.push([inotify, C.POLLIN]);
        // Without inotify, re-probe on a capped backoff.
        const slice = inotify >= 0
          ? remaining
          : Math.min(backoff, remaining ?? backoff);
        const [revents = 0] = await waitFds(waits, { signal, timeout: slice });
        drainEvents(inotify);
        backoff = Math.min(backoff * 2, 32);
        hangup = (revents & C.POLLHUP) !== 0;
      }
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  } finally {
    closeFd(inotify);
  }
}

const probeByte = new Uint8Array(1);

/**
 * Whether a writer is connected to the FIFO read end `fd` (O_NONBLOCK).
 * On an empty FIFO, read() fails with EAGAIN while a writer is connected —
 * even one still inside a blocking open() — and returns 0 when none is
 * (Linux pipe_read). Returns null for "no writer", else the bytes the probe
 * consumed (empty, or the one byte that had just arrived).
 */
function probeWriter(fd: number, action: string): Uint8Array | null {
  const n = Number(libc().read(fd, probeByte, 1n));
  if (n === 1) return probeByte.slice();
  if (n === 0) return null;
  const code = errno();
  if (code === E.EAGAIN || code === E.EINTR) return new Uint8Array(0);
  throw osError(code, action);
}

function checkFifo(
  fd: number,
  path: string,
  action: string,
  size?: number,
): number {
  try {
    if (fstat(fd, action).kind !== "fifo") {
      throw new TypeError(
        `openFifo(): ${JSON.stringify(path)} is no longer a FIFO`,
      );
    }
    if (size !== undefined) setPipeSize(fd, size, "openFifo()");
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return fd;
}

/** An inotify fd watching opens of `cpath`, or -1 where there is none. */
function watchOpens(cpath: Uint8Array): number {
  const lib = libc();
  if (!IS_LINUX || !lib.inotify_init1 || !lib.inotify_add_watch) return -1;
  const fd = lib.inotify_init1(C.IN_NONBLOCK | C.IN_CLOEXEC);
  if (fd >= 0 && lib.inotify_add_watch(fd, cpath, C.IN_OPEN) === -1) {
    closeFd(fd);
    return -1;
  }
  return fd;
}

const eventBuffer = new Uint8Array(4096);

function drainEvents(inotify: number): void {
  if (inotify < 0) return;
  const lib = libc();
  while (lib.read(inotify, eventBuffer, BigInt(eventBuffer.length)) > 0) {
    // discard
  }
}

/**
 * open(O_WRONLY | O_NONBLOCK) fails with ENXIO until a reader exists. Retry
 * when inotify reports an open of the path, or on a capped backoff for
 * readers blocked inside open(), which inotify does not report.
 * Returns -1 on timeout.
 */
async function openWriter(
  cpath: Uint8Array,
  flags: number,
  action: string,
  signal: AbortSignal | undefined,
  left: () => number | undefined,
): Promise<number> {
  const lib = libc();
  const inotify = watchOpens(cpath);
  try {
    let backoff = 1;
    for (;;) {
      const fd = lib.open(cpath, flags, 0);
      if (fd >= 0) return fd;
      if (errno() !== E.ENXIO) throw lastError(action);
      const remaining = left();
      if (remaining === 0) return -1;
      const wait = Math.min(backoff, remaining ?? backoff);
      if (inotify >= 0) {
        await waitFd(inotify, C.POLLIN, { signal, timeout: wait });
        drainEvents(inotify);
      } else {
        await delay(wait, signal);
      }
      backoff = Math.min(backoff * 2, 32);
    }
  } finally {
    closeFd(inotify);
  }
}
