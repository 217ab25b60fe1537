// Copyright 2026 the posix-ipc authors. MIT license.

import { C, E } from "../_ffi/constants.ts";
import { cString, describe } from "../_ffi/cstring.ts";
import { lastError, osError } from "../_ffi/errno.ts";
import { closeFd } from "../_ffi/fd.ts";
import { FdHandle } from "../_ffi/handle.ts";
import { libc } from "../_ffi/libc.ts";
import { deadlineOf, delay, type WaitOptions } from "../_ffi/poll.ts";
import {
  checkFdList,
  closeAll,
  MAX_FDS_PER_MESSAGE,
  peekDatagramSize,
  receiveMessage,
  sendMessage,
  sockaddrUn,
  socketPath,
  unixSocket,
} from "../_ffi/socket.ts";
import { unlinkAtExit } from "../_ffi/shutdown.ts";
import { checkTimeout } from "../_ffi/names.ts";
import { checkChunk } from "../_streams/writable.ts";
import { adoptSocket } from "./_adopt.ts";
import {
  applySocketMode,
  checkMode,
  clearStaleSocket,
  removeOurSocket,
  socketInode,
} from "./_unix_path.ts";

/**
 * A datagram received by {@linkcode UnixDatagram}.
 *
 * @example A message and its sender
 * ```ts
 * import { type Datagram, UnixDatagram } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * using a = UnixDatagram.bind(`${dir}/a`);
 * using b = UnixDatagram.bind(`${dir}/b`);
 * await a.send(new Uint8Array([42]), b.path!);
 * const got: Datagram = await b.receive();
 * assertEquals([got.data[0], got.path, got.fds.length], [42, a.path, 0]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface Datagram {
  /** The message, exactly as sent (boundaries are kept). */
  data: Uint8Array;
  /** The sender's bound path, or null when the sender is unbound. */
  path: string | null;
  /** Descriptors that came with it (close-on-exec, owned by the caller now). */
  fds: number[];
}

/**
 * Options of {@linkcode UnixDatagram.bind}.
 *
 * @example A group-writable socket, removed at exit
 * ```ts
 * import { UnixDatagram, type UnixDatagramBindOptions } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const options: UnixDatagramBindOptions = { mode: 0o620, maxMessageSize: 4096, unlinkOnExit: true };
 * const dir = Deno.makeTempDirSync();
 * using socket = UnixDatagram.bind(`${dir}/log.sock`, options);
 * assertEquals(Deno.statSync(socket.path!).mode! & 0o777, 0o620);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface UnixDatagramBindOptions {
  /** Permission bits of the socket file (who may send to it). */
  mode?: number;
  /**
   * Largest datagram {@linkcode UnixDatagram.receive} accepts, in bytes.
   * A larger one is consumed and reported as a `RangeError` naming both
   * sizes. Default 16 MiB.
   */
  maxMessageSize?: number;
  /**
   * Remove the socket file when this process exits — normally, or on SIGINT/SIGTERM
   * (which then run this cleanup and exit with 128 + the signal number, as
   * `onShutdown` does) — unless it was unlinked already. A process killed
   * with SIGKILL cannot clean up: `ipc rm --stale` finds what it left.
   * Default false.
   */
  unlinkOnExit?: boolean;
}

/**
 * Options of {@linkcode UnixDatagram.send}.
 *
 * @example Send with a deadline
 * ```ts
 * import { type DatagramSendOptions, UnixDatagram } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * using rx = UnixDatagram.bind(`${dir}/rx`);
 * using tx = UnixDatagram.unbound();
 * const options: DatagramSendOptions = { timeout: 1000 };
 * await tx.send(new Uint8Array(3), rx.path!, options);
 * assertEquals((await rx.receive()).data.length, 3);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface DatagramSendOptions {
  /** Descriptors to pass along (`SCM_RIGHTS`). */
  fds?: readonly (number | { readonly fd: number })[];
  /** Aborting stops waiting for room in the receiver's queue. */
  signal?: AbortSignal;
  /** Milliseconds to wait for room; then `Deno.errors.TimedOut`. */
  timeout?: number;
}

/**
 * Options of {@linkcode UnixDatagram.receive}.
 *
 * @example Wait at most 20 ms
 * ```ts
 * import { type DatagramReceiveOptions, UnixDatagram } from "@posix/ipc/socket";
 * import { assertRejects } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * using socket = UnixDatagram.bind(`${dir}/rx`);
 * const options: DatagramReceiveOptions = { timeout: 20 };
 * await assertRejects(() => socket.receive(options), Deno.errors.TimedOut);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface DatagramReceiveOptions {
  /** Aborting rejects with the signal's reason; no datagram is consumed. */
  signal?: AbortSignal;
  /** Milliseconds to wait; then `Deno.errors.TimedOut`, nothing consumed. */
  timeout?: number;
}

const DEFAULT_MAX = 16 * 1024 * 1024;

let newDatagram: (fd: number, path: string | null, max: number) => UnixDatagram;

/**
 * An `AF_UNIX` datagram socket through libc — stable, no `--unstable-net`.
 * Every message keeps its boundaries; a receive gets exactly one whole
 * datagram, sized to fit (never silently truncated). Messages can carry
 * descriptors.
 *
 * System calls: `socket(AF_UNIX, SOCK_DGRAM)`, `bind`, `chmod`, `sendmsg`,
 * `recv(MSG_PEEK | MSG_TRUNC)` (the size), `recvmsg`, `poll`, `unlink`.
 *
 * @example Request and reply between two bound sockets
 * ```ts
 * import { UnixDatagram } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * using server = UnixDatagram.bind(`${dir}/server.sock`);
 * using client = UnixDatagram.bind(`${dir}/client.sock`);
 * await client.send(new TextEncoder().encode("ping"), server.path!);
 * const request = await server.receive();
 * assertEquals(request.path, client.path);
 * await server.send(new TextEncoder().encode("pong"), request.path!);
 * assertEquals(new TextDecoder().decode((await client.receive()).data), "pong");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class UnixDatagram implements Disposable {
  #handle: FdHandle;
  #path: string | null;
  #ino: bigint | null = null;
  #max: number;
  #readable: ReadableStream<Datagram> | undefined;
  #forgetExit: (() => void) | undefined;

  static {
    newDatagram = (fd, path, max) => new UnixDatagram(fd, path, max);
  }

  private constructor(fd: number, path: string | null, max: number) {
    this.#handle = new FdHandle(
      fd,
      path
        ? `datagram socket ${JSON.stringify(path)}`
        : `datagram socket (fd ${fd})`,
    );
    this.#path = path;
    this.#max = max;
    if (path !== null) this.#ino = socketInode(path);
  }

  /**
   * Binds a datagram socket at `path`. A stale socket file is replaced; a
   * live one is refused with `AddrInUse`. `close()` removes the file.
   *
   * @param path Where to bind (at most 107 bytes).
   * @param options The file mode and the receive size limit.
   * @returns The bound socket.
   * @throws {Deno.errors.AddrInUse} If a live socket is bound there.
   * @throws {Deno.errors.AlreadyExists} If something other than a socket is there.
   * @throws {RangeError} If the path is too long or an option is out of range.
   */
  static bind(
    path: string,
    options: UnixDatagramBindOptions = {},
  ): UnixDatagram {
    const call = "UnixDatagram.bind()";
    const { addr, len } = sockaddrUn(path, call);
    checkMode(options.mode, call);
    const max = checkMax(options.maxMessageSize, call);
    clearStaleSocket(path, C.SOCK_DGRAM, call);
    const fd = unixSocket(C.SOCK_DGRAM, `${call}: cannot create a socket`);
    if (libc().bind(fd, addr, len) === -1) {
      const error = lastError(`${call}: cannot bind ${JSON.stringify(path)}`);
      closeFd(fd);
      throw error;
    }
    try {
      applySocketMode(path, options.mode, call);
    } catch (error) {
      closeFd(fd);
      libc().unlink(cString(path));
      throw error;
    }
    const socket = newDatagram(fd, path, max);
    if (options.unlinkOnExit) {
      socket.#forgetExit = unlinkAtExit(
        path,
        () => libc().unlink(cString(path)),
      );
    }
    return socket;
  }

  /**
   * An unbound datagram socket: it can send, but nobody can reply to it
   * (receivers see `path: null`).
   *
   * @param options The receive size limit.
   * @returns The socket.
   */
  static unbound(options: { maxMessageSize?: number } = {}): UnixDatagram {
    const call = "UnixDatagram.unbound()";
    const max = checkMax(options.maxMessageSize, call);
    return newDatagram(
      unixSocket(C.SOCK_DGRAM, `${call}: cannot create a socket`),
      null,
      max,
    );
  }

  /**
   * Adopts an inherited datagram socket fd (checked with `getsockopt`), e.g.
   * one passed by a parent or by socket activation.
   *
   * @param fd The descriptor number.
   * @returns The handle that now owns `fd`.
   * @throws {TypeError} If `fd` is not a datagram socket (the message says what it is).
   */
  static fromFd(fd: number): UnixDatagram {
    const adopted = adoptSocket(fd, C.SOCK_DGRAM, "UnixDatagram.fromFd()");
    return newDatagram(adopted, socketPath(adopted), DEFAULT_MAX);
  }

  /** The bound path, or null for an unbound socket. */
  get path(): string | null {
    return this.#path;
  }

  /** The descriptor number, or -1 once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /**
   * Sends one datagram to the socket bound at `path`, waiting while the
   * receiver's queue is full.
   *
   * @param data The message (its size is limited by the kernel's socket buffers).
   * @param path The receiver's path.
   * @param options Descriptors to pass, an abort signal, a timeout.
   * @throws {Deno.errors.NotFound} If nothing is bound at `path`.
   * @throws {Deno.errors.ConnectionRefused} If the socket file there is stale.
   * @throws {RangeError} If the message is too large for a datagram (EMSGSIZE); the message names the size.
   */
  async send(
    data: Uint8Array,
    path: string,
    options: DatagramSendOptions = {},
  ): Promise<void> {
    const call = "UnixDatagram.send()";
    checkChunk(data, call);
    const dest = sockaddrUn(path, call);
    const fds = options.fds === undefined ? [] : checkFdList(options.fds, call);
    const { signal, timeout } = options;
    checkTimeout(timeout, call);
    signal?.throwIfAborted();
    const deadline = deadlineOf(timeout);
    const action = `Cannot send a datagram of ${data.byteLength} bytes to ${
      JSON.stringify(path)
    }`;
    let backoff = 0.25;
    for (;;) {
      const fd = this.#handle.use(call);
      let sent: number;
      try {
        sent = sendMessage(fd, data, fds, dest, action);
      } catch (error) {
        if ((error as { errno?: number }).errno === E.EMSGSIZE) {
          throw new RangeError(
            `${call}: a datagram of ${data.byteLength} bytes is too large for this socket (EMSGSIZE)`,
            {
              cause: error,
            },
          );
        }
        throw error;
      }
      if (sent >= 0) return;
      // The receiver's queue is full. poll() cannot tell an unconnected
      // sender when it drains, so retry on a short capped backoff.
      if (performance.now() >= deadline) {
        throw new Deno.errors.TimedOut(
          `${call}: the receiver ${
            JSON.stringify(path)
          } stayed full for ${timeout} ms`,
        );
      }
      await delay(
        Math.min(backoff, Math.max(0, deadline - performance.now())),
        signal,
      );
      backoff = Math.min(backoff * 2, 16);
    }
  }

  /**
   * Receives the next datagram, whole. Waiting never blocks the event loop;
   * an aborted or timed-out receive consumes nothing.
   *
   * @param options An abort signal and a timeout.
   * @returns The message, the sender's path and any descriptors.
   * @throws {RangeError} If the datagram is over `maxMessageSize` (it is consumed; both sizes are named).
   * @throws {Deno.errors.TimedOut} If nothing arrived within `timeout`.
   * @throws {Deno.errors.BadResource} If the socket is closed.
   */
  async receive(options: DatagramReceiveOptions = {}): Promise<Datagram> {
    const call = "UnixDatagram.receive()";
    const { signal, timeout } = options;
    checkTimeout(timeout, call);
    signal?.throwIfAborted();
    const deadline = deadlineOf(timeout);
    for (;;) {
      const fd = this.#handle.use(call);
      const size = peekDatagramSize(
        fd,
        `Cannot receive on ${this.#handle.label}`,
      );
      if (size !== null) return this.#take(fd, size, call);
      const wait: WaitOptions = { signal };
      if (deadline !== Infinity) {
        wait.timeout = Math.max(0, deadline - performance.now());
      }
      const revents = await this.#handle.wait(C.POLLIN, call, wait);
      if (revents === 0 && performance.now() >= deadline) {
        throw new Deno.errors.TimedOut(
          `${call}: no datagram within ${timeout} ms`,
        );
      }
    }
  }

  #take(fd: number, size: number, call: string): Datagram {
    const buffer = new Uint8Array(size > this.#max ? 1 : size);
    const got = receiveMessage(
      fd,
      buffer,
      MAX_FDS_PER_MESSAGE,
      true,
      `Cannot receive on ${this.#handle.label}`,
    );
    if (!got) {
      throw osError(E.EAGAIN, `Cannot receive on ${this.#handle.label}`);
    }
    if (got.size > this.#max) {
      closeAll(got.fds);
      throw new RangeError(
        `${call}: dropped a datagram of ${got.size} bytes from ${
          got.path ?? "an unbound socket"
        }, over maxMessageSize (${this.#max} bytes)`,
      );
    }
    return {
      data: buffer.subarray(0, got.length),
      path: got.path,
      fds: got.fds,
    };
  }

  /**
   * Received datagrams as a stream (each chunk one whole datagram). Cancel
   * it to stop; the socket stays open until `close()`.
   */
  get readable(): ReadableStream<Datagram> {
    return this.#readable ??= new ReadableStream<Datagram>({
      pull: async (controller) => {
        try {
          controller.enqueue(await this.receive());
        } catch (error) {
          if (this.#handle.closed) controller.close();
          else throw error;
        }
      },
    }, { highWaterMark: 0 });
  }

  /** Closes the socket and removes its file (if it is still this socket's). Idempotent. */
  close(): void {
    if (this.#handle.closed) return;
    this.#handle.close();
    removeOurSocket(this.#path, this.#ino);
    this.#forgetExit?.();
  }

  /** Same as {@linkcode UnixDatagram.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function checkMax(value: unknown, call: string): number {
  if (value === undefined) return DEFAULT_MAX;
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new RangeError(
      `${call}: maxMessageSize must be a non-negative integer, got ${
        describe(value)
      }`,
    );
  }
  return value as number;
}
