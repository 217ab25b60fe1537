// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkBoolean,
  checkCreateOnly,
  checkMode,
  checkOptions,
  checkPath,
  checkSize,
  CREATE_ONLY,
  cString,
} from "../_check/mod.ts";
import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { lastError, osError } from "../_ffi/errors.ts";
import { closeFd, fstat, setPipeSize, statPath } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { Lifecycle, placeOfPath } from "../_object/lifecycle.ts";
import type { UnlinkOptions } from "../_object/options.ts";
import {
  Owner,
  pollNow,
  pollSource,
  retry,
  type Source,
  type WaitUntil,
} from "../_wait/engine.ts";
import { FdHandle, fdHandOver, setHandOver } from "../_wait/fd_handle.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";
import type { ByteSource } from "../_streams/byte_source.ts";
import { FdStreams } from "../_streams/duplex.ts";
import { fdByteSource } from "../_streams/readable.ts";
import { readInto, writeFrom } from "../_streams/io.ts";
import { createFifo } from "./mkfifo.ts";

export type { UnlinkOptions, WaitOptions };

/**
 * Options of {@linkcode openFifo}: the direction, the `signal` and `timeout`
 * of every wait (here: for the other side to arrive), an explicit
 * open-or-create, and the pipe size.
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
export interface OpenFifoOptions extends WaitOptions, UnlinkOptions {
  /** Open for reading: resolves once a writer has opened the FIFO. */
  read?: boolean;
  /** Open for writing: resolves once a reader has connected. */
  write?: boolean;
  /**
   * Create the FIFO if nothing is at the path (open-or-create), as
   * `mkfifo()` would; an existing FIFO is opened as it is.
   * `unlinkOnClose`/`unlinkOnExit` apply only if this call created it.
   */
  create?: boolean;
  /** With `create`: permission bits of a new FIFO (0 to 0o777). */
  mode?: number;
  /**
   * Kernel buffer size of the FIFO in bytes (`F_SETPIPE_SZ`, Linux only), as
   * in `pipe()`; set once the FIFO is open. Default: the system's (64 KiB).
   */
  size?: number;
}

let newFifo: (
  handle: FdHandle,
  path: string,
  read: boolean,
  write: boolean,
  prefix: Uint8Array | undefined,
  lifecycle: Lifecycle | null,
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
  #lifecycle: Lifecycle | null;
  /**
   * The byte the writer probe took from the FIFO (see openFifo), delivered
   * before anything else.
   */
  #prefix: Uint8Array | undefined;
  /** The path the FIFO was opened at. */
  readonly path: string;

  static {
    newFifo = (handle, path, read, write, prefix, lifecycle) =>
      new Fifo(handle, path, read, write, prefix, lifecycle);
  }

  private constructor(
    handle: FdHandle,
    path: string,
    read: boolean,
    write: boolean,
    prefix: Uint8Array | undefined,
    lifecycle: Lifecycle | null,
  ) {
    this.path = path;
    this.#handle = handle;
    this.#prefix = prefix?.length ? prefix : undefined;
    this.#lifecycle = lifecycle;
    this.#streams = new FdStreams(handle, {
      read,
      write,
      source: (done) => this.#source(done),
    });
    setHandOver(
      this,
      fdHandOver(
        handle,
        () =>
          this.#streams.used("read") || this.#streams.used("write") ||
          this.#prefix !== undefined,
      ),
    );
  }

  /** The fd's bytes, after the probed byte if there is one. */
  #source(done: () => void): ByteSource {
    const inner = fdByteSource(this.#handle, "Fifo.readable", done);
    const takePrefix = (view: Uint8Array) => {
      const prefix = this.#prefix!;
      const n = Math.min(prefix.length, view.length);
      view.set(prefix.subarray(0, n));
      this.#prefix = n < prefix.length ? prefix.subarray(n) : undefined;
      return n;
    };
    return {
      tryRead: (view) => this.#prefix ? takePrefix(view) : inner.tryRead(view),
      read: (view) =>
        this.#prefix ? Promise.resolve(takePrefix(view)) : inner.read(view),
      done: inner.done,
    };
  }

  /** The descriptor number, or -1 once closed or handed over. */
  get fd(): number {
    return this.#handle.fd;
  }

  /** Whether this handle created the FIFO (`create: true` found nothing there). */
  get created(): boolean {
    return this.#lifecycle?.created ?? false;
  }

  /**
   * The bytes written into the FIFO, as a `"bytes"` stream with BYOB support.
   * It ends when the last writer closes. The stream owns the read side.
   *
   * @throws {TypeError} If the FIFO was not opened for reading.
   */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return this.#streams.readable("Fifo.readable");
  }

  /**
   * Writes into the FIFO. Closing it closes the write side; readers see EOF
   * once every writer is gone. A write with no reader left fails with
   * `Deno.errors.BrokenPipe`.
   *
   * @throws {TypeError} If the FIFO was not opened for writing.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#streams.writable("Fifo.writable");
  }

  /**
   * Reads available bytes into `buffer`, waiting when there are none: the
   * low-level path under {@linkcode Fifo.readable} (use one or the other).
   *
   * @param buffer Where to put the bytes.
   * @param options An abort signal and a timeout for the wait.
   * @returns The number of bytes read, or null at end of stream.
   * @throws {TypeError} If the FIFO was not opened for reading.
   */
  read(buffer: Uint8Array, options?: WaitOptions): Promise<number | null> {
    try {
      this.#streams.check("read", "Fifo.read()");
    } catch (error) {
      return Promise.reject(error);
    }
    const prefix = this.#prefix;
    if (prefix && buffer instanceof Uint8Array && buffer.length > 0) {
      const n = Math.min(prefix.length, buffer.length);
      buffer.set(prefix.subarray(0, n));
      this.#prefix = n < prefix.length ? prefix.subarray(n) : undefined;
      return Promise.resolve(n);
    }
    return readInto(this.#handle, buffer, "Fifo.read()", options);
  }

  /**
   * Writes all of `data`, waiting for room as needed: the low-level path
   * under {@linkcode Fifo.writable} (use one or the other).
   *
   * @param data The bytes.
   * @param options An abort signal and a timeout for the whole write.
   * @returns The number of bytes written (all of them).
   * @throws {Deno.errors.BrokenPipe} If no reader is left.
   * @throws {TypeError} If the FIFO was not opened for writing.
   */
  write(data: Uint8Array, options?: WaitOptions): Promise<number> {
    try {
      this.#streams.check("write", "Fifo.write()");
    } catch (error) {
      return Promise.reject(error);
    }
    return writeFrom(this.#handle, data, "Fifo.write()", options);
  }

  /**
   * Closes the descriptor; pending reads and writes fail with
   * `BadResource`. The FIFO stays in the filesystem, unless this handle
   * created it with `unlinkOnClose`. Idempotent.
   */
  close(): void {
    if (this.#handle.closed) return;
    try {
      this.#handle.close();
    } finally {
      this.#lifecycle?.close("Fifo.close()");
    }
  }

  /** Same as {@linkcode Fifo.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
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
 *   one blocked in `open()` (like `cat fifo`) within about 32 ms.
 * - For both (Linux): resolves at once; the reader never sees EOF while this
 *   handle is open, because it is a writer too.
 *
 * Aborting or timing out releases everything, so a process that gave up
 * can exit by itself.
 *
 * A symlink to a FIFO is followed, as by any shell tool; what the path names
 * when the call starts is pinned (Linux: an `O_PATH` descriptor, which opens
 * nothing) and only that is opened, so a path another user swaps for a
 * symlink to a device or a file while this call waits is never opened.
 * Anything but a FIFO is refused with `TypeError`.
 *
 * System calls: `open(O_PATH)` and `open(O_NONBLOCK | O_CLOEXEC)` of
 * `/proc/self/fd/N` (Linux), `fstat`, `read`/`write`,
 * `inotify_init1`/`inotify_add_watch` (Linux), `mkfifo` (with `create`).
 *
 * @param path The FIFO's path.
 * @param options The direction(s), an abort signal, a timeout, open-or-create.
 * @returns The open FIFO.
 * @throws {TypeError} If neither `read` nor `write` is true, or `path` is not a FIFO (the message says what it is).
 * @throws {Deno.errors.NotFound} If nothing exists at `path` (and `create` is not set).
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
  const p = checkPath(path, call);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${call}: options must be an object with read and/or write`,
    );
  }
  const o = checkOptions(options, call);
  const read = checkBoolean(o.read, "read", call) ?? false;
  const write = checkBoolean(o.write, "write", call) ?? false;
  if (!read && !write) {
    throw new TypeError(`${call}: at least one of read and write must be true`);
  }
  const create = checkBoolean(o.create, "create", call) ?? false;
  const mode = checkMode(o.mode, call);
  checkBoolean(o.unlinkOnClose, "unlinkOnClose", call);
  checkBoolean(o.unlinkOnExit, "unlinkOnExit", call);
  checkCreateOnly(o, CREATE_ONLY, create, call, "FIFO");
  const size = o.size === undefined
    ? undefined
    : checkSize(o.size, "size", call);
  const until = untilOf(o, call);
  const label = `FIFO ${JSON.stringify(p)}`;
  let lifecycle: Lifecycle | null = null;
  let info = statPath(p, call);
  if (info === null && create) {
    try {
      createFifo(p, mode, call);
      info = statPath(p, call);
      if (info?.kind === "fifo") {
        lifecycle = new Lifecycle(label, placeOfPath(p, call), info, true, o);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      info = statPath(p, call); // another process created it: open theirs
    }
  }
  try {
    if (info === null) throw osError(E.ENOENT, call, `cannot open ${label}`);
    if (info.kind !== "fifo") {
      throw new TypeError(
        `${call}: ${JSON.stringify(p)} is a ${info.kind}, not a FIFO`,
      );
    }
    return await open(p, read, write, size, until, call, label, lifecycle);
  } catch (error) {
    if (lifecycle) {
      lifecycle.removeIfOurs(call);
      lifecycle.close(call);
    }
    throw error;
  }
}

async function open(
  path: string,
  read: boolean,
  write: boolean,
  size: number | undefined,
  until: WaitUntil,
  call: string,
  label: string,
  lifecycle: Lifecycle | null,
): Promise<Fifo> {
  // Pin the FIFO: an O_PATH fd opens nothing (no device's open runs), and
  // every open below goes through it (/proc/self/fd/N), so a path swapped
  // for a symlink to a device or a file while this call waits for its peer
  // is never opened. Where there is no O_PATH, the path is opened each time
  // and only fstat refuses what is not a FIFO.
  const pin = pinFifo(path, call, label);
  const cpath = pin === -1
    ? cString(path, call, "path")
    : cString(`/proc/self/fd/${pin}`);
  try {
    const lib = libc();
    const access = read && write ? C.O_RDWR : read ? C.O_RDONLY : C.O_WRONLY;
    const flags = access | C.O_NONBLOCK | C.O_CLOEXEC;
    const opened = (fd: number, prefix?: Uint8Array) => {
      const handle = new FdHandle(fd, label);
      try {
        if (fstat(fd, call, label).kind !== "fifo") {
          throw new TypeError(
            `${call}: ${JSON.stringify(path)} is no longer a FIFO`,
          );
        }
        if (size !== undefined) setPipeSize(fd, size, call);
      } catch (error) {
        handle.close();
        throw error;
      }
      return newFifo(handle, path, read, write, prefix, lifecycle);
    };
    if (read && write) {
      const fd = lib.open(cpath, flags, 0);
      if (fd === -1) throw lastError(call, `cannot open ${label}`);
      return opened(fd);
    }
    // Opens of the path wake a waiting side at once; a peer blocked inside
    // open() is not reported by inotify, so the engine also retries on its
    // schedule (up to 32 ms apart).
    const hints = watchOpens(path, label);
    try {
      const sources: Source[] = [pollSource(() => true, 32)];
      if (hints) sources.push(hints.source(C.POLLIN));
      if (write) {
        // open(O_WRONLY | O_NONBLOCK) fails with ENXIO until a reader exists.
        const owner = new Owner(label);
        const fd = await retry(
          owner,
          call,
          "had no reader",
          sources,
          until,
          () => {
            drain(hints);
            const fd = lib.open(cpath, flags, 0);
            if (fd >= 0) return fd;
            if (errno() !== E.ENXIO) {
              throw lastError(call, `cannot open ${label}`);
            }
            return undefined;
          },
        );
        return opened(fd);
      }
      // Read only: the open succeeds at once; then wait until a writer is
      // connected. The kernel does not notify a reader of that, but answers a
      // probe (see probeWriter); the fd's readiness and inotify's IN_OPEN only
      // tell when to probe again.
      const fd = lib.open(cpath, flags, 0);
      if (fd === -1) throw lastError(call, `cannot open ${label}`);
      const handle = new FdHandle(fd, label);
      try {
        let hangup = false;
        const readSources = [handle.source(C.POLLIN), ...sources];
        const prefix = await retry(
          handle.owner,
          call,
          "had no writer",
          readSources,
          until,
          () => {
            drain(hints);
            const probe = probeWriter(fd, call, label);
            if (probe !== null) return probe;
            // A writer came and left without writing (like `: > fifo`): the
            // reader gets an immediate EOF.
            if (hangup) return new Uint8Array(0);
            hangup = (pollNow(fd, C.POLLIN) & C.POLLHUP) !== 0;
            return undefined;
          },
        );
        return opened(handle.detach(call), prefix);
      } catch (error) {
        handle.close();
        throw error;
      }
    } finally {
      hints?.close();
    }
  } finally {
    if (pin !== -1) closeFd(pin);
  }
}

/**
 * An O_PATH fd of the FIFO at `path` (a symlink is followed, as by any
 * FIFO reader), or -1 where O_PATH does not exist. Not a FIFO: TypeError.
 */
function pinFifo(path: string, call: string, label: string): number {
  if (!IS_LINUX) return -1;
  const fd = libc().open(
    cString(path, call, "path"),
    C.O_PATH | C.O_CLOEXEC,
    0,
  );
  if (fd === -1) throw lastError(call, `cannot open ${label}`);
  try {
    const kind = fstat(fd, call, label).kind;
    if (kind !== "fifo") {
      throw new TypeError(
        `${call}: ${JSON.stringify(path)} is a ${kind}, not a FIFO`,
      );
    }
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return fd;
}

const probeByte = new Uint8Array(1);

/**
 * Whether a writer is connected to the FIFO read end `fd` (O_NONBLOCK).
 * On an empty FIFO, read() fails with EAGAIN while a writer is connected —
 * even one still inside a blocking open() — and returns 0 when none is
 * (Linux pipe_read). Returns null for "no writer", else the bytes the probe
 * consumed (empty, or the one byte that had just arrived).
 */
function probeWriter(
  fd: number,
  call: string,
  label: string,
): Uint8Array | null {
  const n = Number(libc().read(fd, probeByte, 1n));
  if (n === 1) return probeByte.slice();
  if (n === 0) return null;
  const code = errno();
  if (code === E.EAGAIN || code === E.EINTR) return new Uint8Array(0);
  throw osError(code, call, `cannot read from ${label}`);
}

/** An inotify fd reporting opens of `path`, or null where there is none. */
function watchOpens(path: string, label: string): FdHandle | null {
  const lib = libc();
  if (!IS_LINUX || !lib.inotify_init1 || !lib.inotify_add_watch) return null;
  const fd = lib.inotify_init1(C.IN_NONBLOCK | C.IN_CLOEXEC);
  if (fd === -1) return null;
  if (lib.inotify_add_watch(fd, cString(path), C.IN_OPEN) === -1) {
    closeFd(fd);
    return null;
  }
  return new FdHandle(fd, `open watch of ${label}`);
}

const eventBuffer = new Uint8Array(4096);

function drain(hints: FdHandle | null): void {
  if (!hints) return;
  while (hints.tryRead(eventBuffer, "openFifo()") > 0) {
    // the events only say "try again"
  }
}
