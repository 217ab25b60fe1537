// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkBytes,
  checkInteger,
  checkOptions,
  checkSize,
  MAX_FDS_PER_MESSAGE,
} from "../_check/mod.ts";
import { C } from "../_ffi/constants.ts";
import { inspectFd, setCloseOnExec, setNonBlocking } from "../_ffi/fd.ts";
import {
  checkFdList,
  getIntOption,
  type PeerCredentials,
  peerCredentials,
  receiveMessage,
  sendMessage,
  setIntOption,
  shutdownWrite,
  socketAddr,
} from "../_ffi/socket.ts";
import { FdHandle, fdHandOver, setHandOver } from "../_wait/fd_handle.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";
import { FdStreams } from "../_streams/duplex.ts";
import { readInto, writeFrom } from "../_streams/io.ts";
import { writeAll } from "../_streams/writable.ts";
import { socketTypeName } from "./_bind.ts";

export type { PeerCredentials, WaitOptions };

/**
 * Options of {@linkcode SocketEnd.receiveFds}: buffer sizes, and the
 * `signal` and `timeout` of every wait.
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
 * const options: ReceiveFdsOptions = { maxBytes: 16, maxFds: 1, timeout: 1000 };
 * const got = await b.receiveFds(options);
 * assertEquals(got!.fds.length, 1);
 * PipeWriter.fromFd(got!.fds[0]!).close();
 * reader.close();
 * a.close();
 * b.close();
 * ```
 */
export interface ReceiveFdsOptions extends WaitOptions {
  /** Most bytes of data to receive with the descriptors. Default 64 KiB. */
  maxBytes?: number;
  /** Most descriptors to accept; extra ones are closed by the kernel. Default 253. */
  maxFds?: number;
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
  data: Uint8Array<ArrayBuffer>;
  /**
   * The received descriptors, close-on-exec, now owned by the caller: adopt
   * them (`PipeReader.fromFd`, `SocketEnd.fromFd`, `SharedMemory.fromFd`, …)
   * or close them.
   */
  fds: number[];
}

let newEnd: (fd: number) => SocketEnd;

/** @internal Wraps a connected stream socket fd this package made. */
export function socketEnd(fd: number): SocketEnd {
  return newEnd(fd);
}

/**
 * One end of a connected stream socket — Unix or TCP — from
 * {@linkcode socketPair}, `listener.accept()`, `connect()`, or adopted with
 * {@linkcode SocketEnd.fromFd}: a two-way byte stream with an `fd` (hand it
 * to a child), half-close, and, on Unix sockets, descriptor passing and the
 * peer's identity.
 *
 * Its shape follows `Deno.Conn` (`read`, `write`, `readable`, `writable`,
 * `closeWrite`, `localAddr`, `remoteAddr`, `ref`/`unref`, `close`), so code
 * written for one mostly works with the other; `framed()` takes either.
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
    this.#handle = new FdHandle(fd, `socket (fd ${fd})`, "socket");
    this.#streams = new FdStreams(this.#handle, {
      read: true,
      write: true,
      onWriteDone: () => shutdownWrite(this.#handle.fd),
    });
    setHandOver(
      this,
      fdHandOver(
        this.#handle,
        () => this.#streams.used("read") || this.#streams.used("write"),
      ),
    );
  }

  /**
   * Adopts an inherited connected stream socket (Unix or TCP), e.g. fd 3
   * placed by a parent's `spawn(…, { fds: { 3: end } })`. Checks with
   * `fstat` and `getsockopt` that it is one and makes it close-on-exec; its
   * `O_NONBLOCK` flag, shared with the process that passed it, is left as
   * it is (every call here passes `MSG_DONTWAIT`). The handle owns it from
   * now on.
   *
   * @param fd The descriptor number.
   * @returns The handle that now owns `fd`.
   * @throws {TypeError} If `fd` is not a connected stream socket (the message says what it is).
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
    return newEnd(
      adoptSocket(fd, C.SOCK_STREAM, "SocketEnd.fromFd()", false),
    );
  }

  /** The descriptor number, or -1 once closed or handed over. */
  get fd(): number {
    return this.#handle.fd;
  }

  /** This end's address: a Unix path (`""` for an unnamed end) or host and port. */
  get localAddr(): Deno.Addr {
    const fd = this.#handle.use("SocketEnd.localAddr");
    return socketAddr(fd, false) ?? { transport: "unix", path: "" };
  }

  /** The peer's address (`""` path for an unnamed Unix peer). */
  get remoteAddr(): Deno.Addr {
    const fd = this.#handle.use("SocketEnd.remoteAddr");
    return socketAddr(fd, true) ?? { transport: "unix", path: "" };
  }

  /**
   * Bytes from the peer as a `"bytes"` stream (BYOB readers supported); it
   * ends when the peer closes or half-closes its write side.
   */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return this.#streams.readable("SocketEnd.readable");
  }

  /**
   * Bytes to the peer. Closing it half-closes the socket (`shutdown(SHUT_WR)`):
   * the peer sees EOF while this end can still read the reply.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#streams.writable("SocketEnd.writable");
  }

  /**
   * Reads available bytes into `buffer`, waiting when there are none: the
   * low-level path under {@linkcode SocketEnd.readable} (use one or the
   * other). `framed()` uses it when given a socket end.
   *
   * @param buffer Where to put the bytes.
   * @param options An abort signal and a timeout for the wait.
   * @returns The number of bytes read, or null when the peer closed or half-closed.
   */
  read(buffer: Uint8Array, options?: WaitOptions): Promise<number | null> {
    return readInto(this.#handle, buffer, "SocketEnd.read()", options);
  }

  /**
   * Writes all of `data`, waiting for room as needed: the low-level path
   * under {@linkcode SocketEnd.writable} (use one or the other).
   *
   * @param data The bytes.
   * @param options An abort signal and a timeout for the whole write.
   * @returns The number of bytes written (all of them).
   * @throws {Deno.errors.BrokenPipe} If the peer is gone.
   */
  write(data: Uint8Array, options?: WaitOptions): Promise<number> {
    return writeFrom(this.#handle, data, "SocketEnd.write()", options);
  }

  /** Half-closes: the peer reads EOF; this end can still read. */
  closeWrite(): void {
    this.#handle.use("SocketEnd.closeWrite()");
    this.#streams.endWrite();
  }

  /**
   * Sends bytes together with descriptors (`SCM_RIGHTS`, Unix sockets). The
   * receiver gets its own copies of the fds (pipe ends, sockets, shared
   * memory, files); this process keeps its own.
   *
   * @param data At least one byte: descriptors travel attached to data.
   * @param fds Descriptors, or handles with an `fd` (at most 253).
   * @param options An abort signal and a timeout for the wait when the socket is full.
   * @returns The number of bytes sent (all of `data`).
   * @throws {RangeError} If `data` is empty or there are too many fds.
   * @throws {TypeError} If an fd is not an integer or a handle.
   * @throws {Deno.errors.BrokenPipe} If the peer is gone.
   */
  async sendFds(
    data: Uint8Array,
    fds: readonly (number | { readonly fd: number })[],
    options?: WaitOptions,
  ): Promise<number> {
    const call = "SocketEnd.sendFds()";
    checkBytes(data, call);
    if (data.byteLength === 0) {
      throw new RangeError(
        `${call}: data must hold at least one byte to carry the descriptors`,
      );
    }
    const list = checkFdList(fds, call);
    const until = untilOf(options, call);
    const handle = this.#handle;
    const action = `cannot send fds on ${handle.label}`;
    const sent = await handle.retry(
      call,
      "stayed full",
      C.POLLOUT,
      until,
      () => {
        const n = sendMessage(handle.use(call), data, list, null, call, action);
        return n < 0 ? undefined : n;
      },
    );
    if (sent < data.byteLength) await writeAll(handle, data, call, until, sent);
    return data.byteLength;
  }

  /**
   * Receives the next bytes and any descriptors attached to them. Do not
   * read the same socket through `readable` meanwhile: a plain read discards
   * descriptors. Resolves with null at end of stream.
   *
   * @param options Buffer sizes, an abort signal and a timeout.
   * @returns The data and the received descriptors, or null at EOF.
   * @throws {RangeError} If `maxBytes` or `maxFds` is out of range.
   */
  async receiveFds(options?: ReceiveFdsOptions): Promise<ReceivedFds | null> {
    const call = "SocketEnd.receiveFds()";
    const o = checkOptions(options, call);
    const maxBytes = o.maxBytes === undefined
      ? 64 * 1024
      : checkSize(o.maxBytes, "maxBytes", call);
    const maxFds = o.maxFds === undefined
      ? MAX_FDS_PER_MESSAGE
      : checkInteger(o.maxFds, "maxFds", call, 1, MAX_FDS_PER_MESSAGE);
    const until = untilOf(o, call);
    const handle = this.#handle;
    const buffer = new Uint8Array(maxBytes);
    const action = `cannot receive fds on ${handle.label}`;
    return await handle.retry(
      call,
      "stayed empty",
      C.POLLIN,
      until,
      () => {
        const got = receiveMessage(
          handle.use(call),
          buffer,
          maxFds,
          false,
          call,
          action,
        );
        if (!got) return undefined;
        if (got.length === 0 && got.fds.length === 0) return null;
        return { data: buffer.slice(0, got.length), fds: got.fds };
      },
    );
  }

  /**
   * The process on the other side (`SO_PEERCRED`, Linux): the process that
   * connected (or accepted), or for a socket pair the one that created it.
   *
   * @throws {Deno.errors.NotSupported} For a TCP connection (it has no peer process), or off Linux.
   */
  peerCredentials(): PeerCredentials {
    const call = "SocketEnd.peerCredentials()";
    return peerCredentials(this.#handle.use(call), call, this.#handle.label);
  }

  /**
   * Disables (or re-enables) Nagle's algorithm on a TCP connection
   * (`TCP_NODELAY`), as `Deno.TcpConn.setNoDelay`.
   *
   * @param noDelay True to send small writes at once. Default true.
   * @throws {Deno.errors.NotSupported} For a Unix socket.
   */
  setNoDelay(noDelay = true): void {
    this.#tcpOption(
      "SocketEnd.setNoDelay()",
      C.IPPROTO_TCP,
      C.TCP_NODELAY,
      noDelay,
    );
  }

  /**
   * Enables (or disables) TCP keep-alive probes (`SO_KEEPALIVE`), as
   * `Deno.TcpConn.setKeepAlive`.
   *
   * @param keepAlive True to probe an idle peer. Default true.
   * @throws {Deno.errors.NotSupported} For a Unix socket.
   */
  setKeepAlive(keepAlive = true): void {
    this.#tcpOption(
      "SocketEnd.setKeepAlive()",
      C.SOL_SOCKET,
      C.SO_KEEPALIVE,
      keepAlive,
    );
  }

  #tcpOption(call: string, level: number, name: number, on: boolean): void {
    const fd = this.#handle.use(call);
    if (getIntOption(fd, C.SOL_SOCKET, C.SO_DOMAIN, call) === C.AF_UNIX) {
      throw new Deno.errors.NotSupported(
        `${call}: ${this.#handle.label} is a Unix socket; this is a TCP option`,
      );
    }
    setIntOption(fd, level, name, on ? 1 : 0, call);
  }

  /** Lets the process exit while this end waits (as `Deno.Conn.unref`). */
  unref(): void {
    this.#handle.setRef(false);
  }

  /** Undoes {@linkcode SocketEnd.unref}. */
  ref(): void {
    this.#handle.setRef(true);
  }

  /** Closes this end; pending reads and writes fail with `BadResource`. Idempotent. */
  close(): void {
    this.#handle.close();
  }

  /** Same as {@linkcode SocketEnd.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Checks that `fd` is an open socket of `type` (listening or not, as asked),
 * then makes it close-on-exec (and, for a listener, non-blocking).
 *
 * @throws {TypeError} Naming what the fd is, when it is not what is asked.
 */
export function adoptSocket(
  fd: number,
  type: number,
  call: string,
  listening: boolean,
): number {
  const info = inspectFd(fd, call);
  if (info.kind !== "socket") {
    throw new TypeError(`${call}: fd ${fd} is a ${info.kind}, not a socket`);
  }
  const actual = getIntOption(fd, C.SOL_SOCKET, C.SO_TYPE, call);
  if (actual !== type) {
    throw new TypeError(
      `${call}: fd ${fd} is a ${socketTypeName(actual)}, not a ${
        socketTypeName(type)
      }`,
    );
  }
  if (type === C.SOCK_STREAM) {
    const accepting =
      getIntOption(fd, C.SOL_SOCKET, C.SO_ACCEPTCONN, call) !== 0;
    if (accepting !== listening) {
      throw new TypeError(
        `${call}: fd ${fd} is a ${
          accepting ? "listening" : "connected"
        } stream socket, not a ${listening ? "listening" : "connected"} one`,
      );
    }
  }
  setCloseOnExec(fd, call);
  // Only accept() depends on O_NONBLOCK (a flag the processes sharing the
  // socket share); every other call passes MSG_DONTWAIT, so the flag of a
  // connected or datagram socket is left as the other processes expect.
  if (listening) setNonBlocking(fd, true, call);
  return fd;
}
