// Copyright 2026 the posix-ipc authors. MIT license.

import { checkOptions, checkSize } from "../_check/mod.ts";
import { C } from "../_ffi/constants.ts";
import {
  closeFd,
  inspectFd,
  makePipe,
  ownDescription,
  setCloseOnExec,
  setNonBlocking,
  setPipeSize,
  statusFlags,
} from "../_ffi/fd.ts";
import { FdHandle, fdHandOver, setHandOver } from "../_wait/fd_handle.ts";
import type { WaitOptions } from "../_wait/options.ts";
import { fdReadable } from "../_streams/readable.ts";
import { fdWritable } from "../_streams/writable.ts";
import { readInto, writeFrom } from "../_streams/io.ts";

export type { WaitOptions };

/**
 * Options of {@linkcode pipe}.
 *
 * @example A 1 MiB pipe
 * ```ts
 * import { pipe, type PipeOptions } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const options: PipeOptions = { size: 1 << 20 };
 * const { reader, writer } = pipe(options);
 * // 1 MiB fits without a reader.
 * assertEquals(await writer.write(new Uint8Array(1 << 20)), 1 << 20);
 * writer.close();
 * reader.close();
 * ```
 */
export interface PipeOptions {
  /**
   * Kernel buffer size of the pipe in bytes (`F_SETPIPE_SZ`, Linux only). The
   * kernel rounds it up to a power-of-two number of pages; unprivileged
   * processes are limited by `/proc/sys/fs/pipe-max-size` (1 MiB by default).
   * Larger pipes mean fewer wake-ups and higher throughput. Default: the
   * system default (64 KiB on Linux).
   */
  size?: number;
}

/**
 * The two ends of a pipe made by {@linkcode pipe}.
 *
 * @example Both ends of a pipe
 * ```ts
 * import { type Pipe, pipe } from "@posix/ipc/pipe";
 * import { assert } from "@std/assert";
 *
 * const ends: Pipe = pipe();
 * assert(ends.reader.fd >= 0 && ends.writer.fd >= 0);
 * ends.reader.close();
 * ends.writer.close();
 * ```
 */
export interface Pipe {
  /** The read end. */
  reader: PipeReader;
  /** The write end. */
  writer: PipeWriter;
}

const O_ACCMODE = 3;

/** An inherited pipe end: its fd, and whether its description stayed shared. */
function adopt(
  fd: number,
  call: string,
  wantWrite: boolean,
): [number, boolean] {
  const info = inspectFd(fd, call);
  if (info.kind !== "fifo") {
    throw new TypeError(`${call}: fd ${fd} is a ${info.kind}, not a pipe`);
  }
  const mode = statusFlags(fd, call) & O_ACCMODE;
  if (wantWrite ? mode === C.O_RDONLY : mode === C.O_WRONLY) {
    throw new TypeError(
      `${call}: fd ${fd} is the ${
        wantWrite ? "read" : "write"
      } end of its pipe`,
    );
  }
  setCloseOnExec(fd, call);
  if (ownDescription(fd, call)) return [fd, false];
  setNonBlocking(fd, true, call);
  return [fd, true];
}

let newReader: (fd: number, shared?: boolean) => PipeReader;
let newWriter: (fd: number, shared?: boolean) => PipeWriter;

/**
 * The read end of a pipe. Read it through {@linkcode PipeReader.readable},
 * or hand it to a child with `spawn(…, { stdin: reader })`.
 *
 * @example Read what a writer sent
 * ```ts
 * import { pipe } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const { reader, writer } = pipe();
 * const w = writer.writable.getWriter();
 * await w.write(new TextEncoder().encode("hi"));
 * await w.close();
 * const text = await new Response(reader.readable).text();
 * assertEquals(text, "hi");
 * ```
 */
export class PipeReader implements Disposable {
  #handle: FdHandle;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;

  static {
    newReader = (fd, shared) => new PipeReader(fd, shared);
  }

  private constructor(fd: number, shared = false) {
    this.#handle = new FdHandle(fd, `pipe read end (fd ${fd})`);
    if (shared) this.#handle.markShared();
    setHandOver(this, fdHandOver(this.#handle, () => !!this.#readable));
  }

  /**
   * Adopts an inherited pipe read end, e.g. fd 3 placed by a parent's
   * `spawn(…, { fds: { 3: reader } })`. The fd is checked with `fstat`/`fcntl`,
   * made close-on-exec, and given a non-blocking open file description of
   * its own under the same number (so the process that passed it still sees
   * its own mode: see `ownDescription` in the design notes); it is closed
   * with the handle.
   *
   * @param fd The descriptor number.
   * @returns The handle that now owns `fd`.
   * @throws {TypeError} If `fd` is not a pipe or FIFO open for reading.
   * @throws {Deno.errors.BadResource} If `fd` is not open.
   *
   * @example Adopt fd 3 in a child
   * ```ts ignore
   * import { PipeReader } from "@posix/ipc/pipe";
   *
   * using input = PipeReader.fromFd(3);
   * for await (const chunk of input.readable) console.log(chunk.length);
   * ```
   */
  static fromFd(fd: number): PipeReader {
    return new PipeReader(...adopt(fd, "PipeReader.fromFd()", false));
  }

  /** The descriptor number, or -1 once closed or handed over. */
  get fd(): number {
    return this.#handle.fd;
  }

  /**
   * The bytes of the pipe as a `ReadableStream` of type `"bytes"` (BYOB
   * readers supported). The stream owns the fd: reading to EOF or
   * cancelling closes it. Created on first access.
   */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return this.#readable ??= fdReadable(this.#handle, "PipeReader.readable");
  }

  /**
   * Reads available bytes into `buffer` (at least one, at most its length),
   * waiting when there are none: the low-level path under {@linkcode PipeReader.readable},
   * one system call and no stream machinery. Use one or the other, not both.
   *
   * @param buffer Where to put the bytes.
   * @param options An abort signal and a timeout for the wait.
   * @returns The number of bytes read, or null at end of stream.
   * @throws {Deno.errors.BadResource} If the handle is (or gets) closed.
   * @throws {Deno.errors.TimedOut} If nothing arrived within `timeout`.
   *
   * @example Read with a reused buffer
   * ```ts
   * import { pipe } from "@posix/ipc/pipe";
   * import { assertEquals } from "@std/assert";
   *
   * const { reader, writer } = pipe();
   * await writer.write(new Uint8Array([1, 2, 3]));
   * writer.close();
   * const buffer = new Uint8Array(16);
   * assertEquals(await reader.read(buffer), 3);
   * assertEquals(await reader.read(buffer), null);
   * reader.close();
   * ```
   */
  read(buffer: Uint8Array, options?: WaitOptions): Promise<number | null> {
    return readInto(this.#handle, buffer, "PipeReader.read()", options);
  }

  /** Closes the read end. Pending reads fail with `BadResource`. Idempotent. */
  close(): void {
    this.#handle.close();
  }

  /** Same as {@linkcode PipeReader.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The write end of a pipe. Write to it through
 * {@linkcode PipeWriter.writable}, or hand it to a child with
 * `spawn(…, { stdout: writer })`.
 *
 * @example Write, then close to signal EOF
 * ```ts
 * import { pipe } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const { reader, writer } = pipe();
 * const done = new Response(reader.readable).arrayBuffer();
 * const w = writer.writable.getWriter();
 * await w.write(new Uint8Array([1, 2, 3]));
 * await w.close();
 * assertEquals(new Uint8Array(await done), new Uint8Array([1, 2, 3]));
 * ```
 */
export class PipeWriter implements Disposable {
  #handle: FdHandle;
  #writable: WritableStream<Uint8Array> | undefined;

  static {
    newWriter = (fd, shared) => new PipeWriter(fd, shared);
  }

  private constructor(fd: number, shared = false) {
    this.#handle = new FdHandle(fd, `pipe write end (fd ${fd})`);
    if (shared) this.#handle.markShared();
    setHandOver(this, fdHandOver(this.#handle, () => !!this.#writable));
  }

  /**
   * Adopts an inherited pipe write end (see {@linkcode PipeReader.fromFd}).
   *
   * @param fd The descriptor number.
   * @returns The handle that now owns `fd`.
   * @throws {TypeError} If `fd` is not a pipe or FIFO open for writing.
   * @throws {Deno.errors.BadResource} If `fd` is not open.
   *
   * @example Adopt fd 4 in a child
   * ```ts ignore
   * import { PipeWriter } from "@posix/ipc/pipe";
   *
   * using out = PipeWriter.fromFd(4);
   * const w = out.writable.getWriter();
   * await w.write(new TextEncoder().encode("done\n"));
   * await w.close();
   * ```
   */
  static fromFd(fd: number): PipeWriter {
    return new PipeWriter(...adopt(fd, "PipeWriter.fromFd()", true));
  }

  /** The descriptor number, or -1 once closed or handed over. */
  get fd(): number {
    return this.#handle.fd;
  }

  /**
   * A `WritableStream` writing into the pipe. The stream owns the fd:
   * closing or aborting it closes the write end, which the reader sees as
   * EOF. Writing when no reader is left fails with `Deno.errors.BrokenPipe`.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= fdWritable(this.#handle, "PipeWriter.writable");
  }

  /**
   * Writes all of `data`, waiting for room as needed: the low-level path
   * under {@linkcode PipeWriter.writable}. Use one or the other, not both.
   *
   * @param data The bytes.
   * @param options An abort signal and a timeout for the whole write.
   * @returns The number of bytes written (all of them).
   * @throws {Deno.errors.BrokenPipe} If no reader is left.
   * @throws {TypeError} If `data` is not a Uint8Array or is detached.
   *
   * @example Write, then close for EOF
   * ```ts
   * import { pipe } from "@posix/ipc/pipe";
   * import { assertEquals } from "@std/assert";
   *
   * const { reader, writer } = pipe();
   * assertEquals(await writer.write(new TextEncoder().encode("hi")), 2);
   * writer.close();
   * assertEquals(await new Response(reader.readable).text(), "hi");
   * ```
   */
  write(data: Uint8Array, options?: WaitOptions): Promise<number> {
    return writeFrom(this.#handle, data, "PipeWriter.write()", options);
  }

  /** Closes the write end; readers see EOF once every copy is closed. Idempotent. */
  close(): void {
    this.#handle.close();
  }

  /** Same as {@linkcode PipeWriter.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Creates an anonymous pipe: a one-way kernel byte channel. Both ends are
 * close-on-exec and non-blocking; pass an end to `spawn()` to connect a child.
 *
 * System calls: `pipe2(O_CLOEXEC | O_NONBLOCK)`, `fcntl(F_SETPIPE_SZ)`.
 *
 * @param options The kernel buffer size.
 * @returns The read end and the write end.
 * @throws {RangeError} If `size` is not a positive safe integer.
 * @throws {Deno.errors.PermissionDenied} If `size` exceeds `/proc/sys/fs/pipe-max-size` for an unprivileged process.
 *
 * @example Send bytes through a pipe
 * ```ts
 * import { pipe } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const { reader, writer } = pipe({ size: 1 << 20 });
 * const w = writer.writable.getWriter();
 * await w.write(new TextEncoder().encode("hello"));
 * await w.close();
 * assertEquals(await new Response(reader.readable).text(), "hello");
 * ```
 */
export function pipe(options?: PipeOptions): Pipe {
  const call = "pipe()";
  const { size } = checkOptions(options, call);
  if (size !== undefined) checkSize(size, "size", call);
  const [r, w] = makePipe(true, call);
  if (size !== undefined) {
    try {
      setPipeSize(w, size, call);
    } catch (error) {
      closeFd(r);
      closeFd(w);
      throw error;
    }
  }
  return { reader: newReader(r), writer: newWriter(w) };
}
