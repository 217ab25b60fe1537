// Copyright 2026 the posix-ipc authors. MIT license.

import { C } from "../_ffi/constants.ts";
import { describe } from "../_ffi/cstring.ts";
import { FdHandle, HAND_OVER } from "../_ffi/handle.ts";
import {
  checkFdList,
  MAX_FDS_PER_MESSAGE,
  type PeerCredentials,
  peerCredentials,
  receiveMessage,
  sendMessage,
  shutdownWrite,
  unixSocketPair,
} from "../_ffi/socket.ts";
import { adoptSocket } from "./_adopt.ts";
import { FdStreams } from "../_streams/duplex.ts";
import { type IoOptions, readInto, writeFrom } from "../_streams/io.ts";
import { checkChunk, writeAll } from "../_streams/writable.ts";

export type { PeerCredentials };

/**
 * Options of {@linkcode SocketEnd.receiveFds}.
 *
 * @example Accept one descriptor and a little data
 * ```ts
 * import { pipe, PipeWriter } from "@posix/ipc/pipe";
 * import { type ReceiveFdsOptions, socketPair } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = socketPair();
 * const { reader, writer } = pipe();
 * await a.sendFds(new Uint8Array([1]), [writer]);
 * writer.close();
 * const options: ReceiveFdsOptions = { maxBytes: 16, maxFds: 1 };
 * const got = await b.receiveFds(options);
 * assertEquals(got!.fds.length, 1);
 * PipeWriter.fromFd(got!.fds[0]!).close();
 * reader.close();
 * a.close();
 * b.close();
 * ```
 */
export interface ReceiveFdsOptions {
  /** Most bytes of data to receive with the descriptors. Default 64 KiB. */
  maxBytes?: number;
  /** Most descriptors to accept; extra ones are closed by the kernel. Default 253. */
  maxFds?: number;
  /** Aborting rejects the wait with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Data and descriptors received by {@linkcode SocketEnd.receiveFds}.
 *
 * @example Data and descriptors
 * ```ts
 * import { pipe, PipeReader } from "@posix/ipc/pipe";
 * import { type ReceivedFds, socketPair } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = socketPair();
 * const { reader, writer } = pipe();
 * await a.sendFds(new TextEncoder().encode("take"), [reader]);
 * reader.close();
 * const got: ReceivedFds = (await b.receiveFds())!;
 * assertEquals(new TextDecoder().decode(got.data), "take");
 * using received = PipeReader.fromFd(got.fds[0]!);
 * writer.close();
 * assertEquals(await received.read(new Uint8Array(1)), null);
 * a.close();
 * b.close();
 * ```
 */
export interface ReceivedFds {
  /** The bytes sent along with the descriptors. */
  data: Uint8Array;
  /**
   * The received descriptors, close-on-exec, now owned by the caller: adopt
   * them (`PipeReader.fromFd`, `SocketEnd.fromFd`, `SharedMemory.fromFd`, …)
   * or close them.
   */
  fds: number[];
}

let newEnd: (fd: number) => SocketEnd;

/**
 * One end of a connected `AF_UNIX` stream socket, from
 * {@linkcode socketPair} (or adopted with {@linkcode SocketEnd.fromFd}):
 * a two-way byte stream that can also carry descriptors and tells who is on
 * the other side.
 *
 * @example A request and its reply over a socket pair
 * ```ts
 * import { socketPair } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = socketPair();
 * const w = a.writable.getWriter();
 * await w.write(new TextEncoder().encode("ping"));
 * await w.close(); // half-close: b sees EOF, a can still read
 * assertEquals(await new Response(b.readable).text(), "ping");
 * const bw = b.writable.getWriter();
 * await bw.write(new TextEncoder().encode("pong"));
 * await bw.close();
 * assertEquals(await new Response(a.readable).text(), "pong");
 * ```
 */
export class SocketEnd implements Disposable {
  #handle: FdHandle;
  #streams: FdStreams;

  static {
    newEnd = (fd) => new SocketEnd(fd);
  }

  private constructor(fd: number) {
    this.#handle = new FdHandle(fd, `socket (fd ${fd})`);
    this.#streams = new FdStreams(this.#handle, {
      read: true,
      write: true,
      onWriteDone: () => shutdownWrite(this.#handle.fd),
    });
  }

  /**
   * Adopts an inherited connected stream socket (e.g. fd 3 placed by a
   * parent's `spawn(…, { fds: { 3: end } })`). Checks with `fstat` and
   * `getsockopt(SO_TYPE)` that it is one, makes it close-on-exec and
   * non-blocking; the handle owns it from now on.
   *
   * @param fd The descriptor number.
   * @returns The handle that now owns `fd`.
   * @throws {TypeError} If `fd` is not a stream socket (the message says what it is).
   * @throws {Deno.errors.BadResource} If `fd` is not open.
   *
   * @example Adopt fd 3 in a child
   * ```ts ignore
   * import { framed, SocketEnd } from "@posix/ipc/socket";
   *
   * using channel = SocketEnd.fromFd(3);
   * const { readable } = framed(channel);
   * for await (const message of readable) console.log(message.length);
   * ```
   */
  static fromFd(fd: number): SocketEnd {
    return new SocketEnd(adoptSocket(fd, C.SOCK_STREAM, "SocketEnd.fromFd()"));
  }

  /** The descriptor number, or -1 once closed or handed over. */
  get fd(): number {
    return this.#handle.fd;
  }

  /**
   * Bytes from the peer as a `"bytes"` stream (BYOB readers supported); it
   * ends when the peer closes or half-closes its write side.
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#streams.readable("socket end");
  }

  /**
   * Bytes to the peer. Closing it half-closes the socket (`shutdown(SHUT_WR)`):
   * the peer sees EOF while this end can still read the reply.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#streams.writable("socket end");
  }

  /**
   * Reads available bytes into `buffer`, waiting when there are none: the
   * low-level path under {@linkcode SocketEnd.readable} (use one or the
   * other). `framed()` uses it when given a socket end.
   *
   * @param buffer Where to put the bytes.
   * @param options An abort signal for the wait.
   * @returns The number of bytes read, or null when the peer closed or half-closed.
   */
  read(buffer: Uint8Array, options?: IoOptions): Promise<number | null> {
    return readInto(this.#handle, buffer, "SocketEnd.read()", options);
  }

  /**
   * Writes all of `data`, waiting for room as needed: the low-level path
   * under {@linkcode SocketEnd.writable} (use one or the other).
   *
   * @param data The bytes.
   * @param options An abort signal for the waits.
   * @returns The number of bytes written (all of them).
   * @throws {Deno.errors.BrokenPipe} If the peer is gone.
   */
  write(data: Uint8Array, options?: IoOptions): Promise<number> {
    return writeFrom(this.#handle, data, "SocketEnd.write()", options);
  }

  /** Half-closes: the peer reads EOF; this end can still read. */
  closeWrite(): void {
    this.#handle.use("Cannot half-close the socket");
    this.#streams.endWrite();
  }

  /**
   * Sends bytes together with descriptors (`SCM_RIGHTS`). The receiver gets
   * its own copies of the fds (pipe ends, sockets, shared memory, files); this
   * process keeps its own.
   *
   * @param data At least one byte: descriptors travel attached to data.
   * @param fds Descriptors, or handles with an `fd` (at most 253).
   * @param options An abort signal for the wait when the socket is full.
   * @throws {RangeError} If `data` is empty or there are too many fds.
   * @throws {TypeError} If an fd is not an integer or a handle.
   * @throws {Deno.errors.BrokenPipe} If the peer is gone.
   */
  async sendFds(
    data: Uint8Array,
    fds: readonly (number | { readonly fd: number })[],
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const action = "SocketEnd.sendFds()";
    checkChunk(data, action);
    if (data.byteLength === 0) {
      throw new RangeError(
        `${action}: data must hold at least one byte to carry the descriptors`,
      );
    }
    const list = checkFdList(fds, action);
    let sent: number;
    for (;;) {
      const fd = this.#handle.use(action);
      sent = sendMessage(
        fd,
        data,
        list,
        null,
        `Cannot send fds on ${this.#handle.label}`,
      );
      if (sent >= 0) break;
      await this.#handle.wait(C.POLLOUT, action, options);
    }
    if (sent < data.byteLength) {
      await writeAll(this.#handle, data.subarray(sent), action);
    }
  }

  /**
   * Receives the next bytes and any descriptors attached to them. Do not
   * read the same socket through `readable` meanwhile: a plain read discards
   * descriptors. Resolves with null at end of stream.
   *
   * @param options Buffer sizes and an abort signal.
   * @returns The data and the received descriptors, or null at EOF.
   * @throws {RangeError} If `maxBytes` or `maxFds` is out of range.
   */
  async receiveFds(
    options: ReceiveFdsOptions = {},
  ): Promise<ReceivedFds | null> {
    const action = "SocketEnd.receiveFds()";
    const { maxBytes = 64 * 1024, maxFds = MAX_FDS_PER_MESSAGE, signal } =
      options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(
        `${action}: maxBytes must be a positive integer, got ${
          describe(maxBytes)
        }`,
      );
    }
    if (
      !Number.isInteger(maxFds) || maxFds < 1 || maxFds > MAX_FDS_PER_MESSAGE
    ) {
      throw new RangeError(
        `${action}: maxFds must be an integer from 1 to ${MAX_FDS_PER_MESSAGE}, got ${
          describe(maxFds)
        }`,
      );
    }
    const buffer = new Uint8Array(maxBytes);
    for (;;) {
      const fd = this.#handle.use(action);
      const got = receiveMessage(
        fd,
        buffer,
        maxFds,
        false,
        `Cannot receive fds on ${this.#handle.label}`,
      );
      if (got) {
        if (got.length === 0 && got.fds.length === 0) return null;
        return { data: buffer.slice(0, got.length), fds: got.fds };
      }
      await this.#handle.wait(C.POLLIN, action, signal ? { signal } : {});
    }
  }

  /**
   * The process on the other side (`SO_PEERCRED`, Linux): for a socket pair,
   * the process that created it.
   */
  peerCredentials(): PeerCredentials {
    const action = "SocketEnd.peerCredentials()";
    return peerCredentials(this.#handle.use(action), action);
  }

  /** Closes this end. Idempotent. */
  close(): void {
    this.#handle.close();
  }

  /** Same as {@linkcode SocketEnd.close}. */
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

/**
 * Creates a pair of connected `AF_UNIX` stream sockets: a private two-way
 * channel, like Node's IPC channel but language-neutral. Keep one end and
 * give the other to a child with `spawn(…, { fds: { 3: end } })`; the child
 * adopts it (`SocketEnd.fromFd(3)` in Deno, or fd 3 in any language).
 *
 * System calls: `socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)`,
 * `read`/`write`, `shutdown`, `sendmsg`/`recvmsg` (`SCM_RIGHTS`),
 * `getsockopt(SO_PEERCRED)`.
 *
 * @returns Two connected ends.
 *
 * @example Pass a pipe's read end through a socket pair
 * ```ts
 * import { socketPair } from "@posix/ipc/socket";
 * import { pipe, PipeReader } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const [here, there] = socketPair();
 * const { reader, writer } = pipe();
 * await here.sendFds(new Uint8Array([1]), [reader]);
 * reader.close();
 * const got = await there.receiveFds();
 * using received = PipeReader.fromFd(got!.fds[0]!);
 * const w = writer.writable.getWriter();
 * await w.write(new TextEncoder().encode("via SCM_RIGHTS"));
 * await w.close();
 * assertEquals(await new Response(received.readable).text(), "via SCM_RIGHTS");
 * here.close();
 * there.close();
 * ```
 */
export function socketPair(): [SocketEnd, SocketEnd] {
  const [a, b] = unixSocketPair(
    C.SOCK_STREAM,
    "socketPair(): cannot create a socket pair",
  );
  return [newEnd(a), newEnd(b)];
}
