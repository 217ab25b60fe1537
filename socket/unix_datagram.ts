// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkBoolean,
  checkBytes,
  checkMode,
  checkOptions,
  checkSize,
  DEFAULT_MAX_MESSAGE_SIZE,
  MAX_FDS_PER_MESSAGE,
} from "../_check/mod.ts";
import { C, E } from "../_ffi/constants.ts";
import { closeFd } from "../_ffi/fd.ts";
import {
  checkFdList,
  closeAll,
  newSocket,
  peekDatagramSize,
  receiveMessage,
  sendMessage,
  showPath,
  sockaddrUn,
  socketPath,
} from "../_ffi/socket.ts";
import { Lifecycle } from "../_object/lifecycle.ts";
import type { UnlinkOptions } from "../_object/options.ts";
import { pollSource, retry } from "../_wait/engine.ts";
import { FdHandle } from "../_wait/fd_handle.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";
import { bindUnix } from "./_bind.ts";
import { adoptSocket } from "./socket_end.ts";

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
  data: Uint8Array<ArrayBuffer>;
  /**
   * The sender's address: a path, a Linux abstract name spelled `"\0name"`
   * (pass it to `send()` to reply), or null when the sender is unbound.
   */
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
export interface UnixDatagramBindOptions extends UnlinkOptions {
  /**
   * Permission bits of the socket file (who may send to it), exactly, and
   * never more open than this from the moment it exists (as for
   * `listen({ path, mode })`). Default: `0o777` minus the umask.
   */
  mode?: number;
  /**
   * Largest datagram {@linkcode UnixDatagram.receive} accepts, in bytes.
   * A larger one is consumed and reported as a `RangeError` naming both
   * sizes. Default 16 MiB.
   */
  maxMessageSize?: number;
  /**
   * Remove the socket file when the socket is closed (if it is still this
   * socket's). Default **true**: a bound socket's file is its own.
   */
  unlinkOnClose?: boolean;
}

/**
 * Options of {@linkcode UnixDatagram.send}: descriptors to pass, and the
 * `signal` and `timeout` of every wait (here: for room in a full receiver).
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
export interface DatagramSendOptions extends WaitOptions {
  /** Descriptors to pass along (`SCM_RIGHTS`). */
  fds?: readonly (number | { readonly fd: number })[];
}

/**
 * Options of {@linkcode UnixDatagram.receive}: the `signal` and `timeout` of
 * every wait. An aborted or timed-out receive consumes nothing.
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
export type DatagramReceiveOptions = WaitOptions;

let newDatagram: (
  fd: number,
  lifecycle: Lifecycle | null,
  max: number,
) => UnixDatagram;

/**
 * An `AF_UNIX` datagram socket through libc — stable, no `--unstable-net`.
 * Every message keeps its boundaries; a receive gets exactly one whole
 * datagram, sized to fit (never silently truncated). Messages can carry
 * descriptors. Addresses are paths, or Linux abstract names spelled with a
 * leading NUL (`"\0name"`) in both directions.
 *
 * System calls: `socket(AF_UNIX, SOCK_DGRAM)`, `fchmod` + `bind`,
 * `sendmsg`, `recv(MSG_PEEK | MSG_TRUNC)` (the size), `recvmsg`, `unlinkat`.
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
  #lifecycle: Lifecycle | null;
  #path: string | null = null;
  #max: number;
  #readable: ReadableStream<Datagram> | undefined;

  static {
    newDatagram = (fd, lifecycle, max) => new UnixDatagram(fd, lifecycle, max);
  }

  private constructor(fd: number, lifecycle: Lifecycle | null, max: number) {
    const path = this.#path = socketPath(fd);
    this.#handle = new FdHandle(
      fd,
      path !== null
        ? `datagram socket ${showPath(path)}`
        : `datagram socket (fd ${fd})`,
      "socket",
    );
    this.#lifecycle = lifecycle;
    this.#max = max;
  }

  /**
   * Binds a datagram socket at `path` (or a Linux abstract name `"\0name"`).
   * A stale socket file is replaced; a live one is refused with `AddrInUse`.
   * `close()` removes the file (if it is still this socket's).
   *
   * @param path Where to bind (at most 107 bytes).
   * @param options The file mode, the receive size limit, cleanup.
   * @returns The bound socket.
   * @throws {Deno.errors.AddrInUse} If a live socket is bound there.
   * @throws {Deno.errors.AlreadyExists} If something other than a socket is there.
   * @throws {RangeError} If the path is too long or an option is out of range.
   *
   * @example An abstract name: no file at all
   * ```ts
   * import { UnixDatagram } from "@posix/ipc/socket";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `\0doc-${crypto.randomUUID().slice(0, 8)}`;
   * using rx = UnixDatagram.bind(name);
   * using tx = UnixDatagram.unbound();
   * await tx.send(new Uint8Array([1]), name);
   * assertEquals((await rx.receive()).data, new Uint8Array([1]));
   * ```
   */
  static bind(
    path: string,
    options?: UnixDatagramBindOptions,
  ): UnixDatagram {
    const call = "UnixDatagram.bind()";
    const o = checkOptions(options, call);
    sockaddrUn(path, call);
    const mode = checkMode(o.mode, call);
    const max = checkMax(o.maxMessageSize, call);
    const unlinkOnClose =
      checkBoolean(o.unlinkOnClose, "unlinkOnClose", call) ??
        true;
    const unlinkOnExit = checkBoolean(o.unlinkOnExit, "unlinkOnExit", call);
    const fd = newSocket(C.AF_UNIX, C.SOCK_DGRAM, call);
    try {
      const bound = bindUnix(fd, path, C.SOCK_DGRAM, mode, call);
      const lifecycle = bound.place && bound.identity
        ? new Lifecycle(
          `socket file ${showPath(path)}`,
          bound.place,
          bound.identity,
          true,
          { unlinkOnClose, unlinkOnExit },
        )
        : null;
      return newDatagram(fd, lifecycle, max);
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }

  /**
   * An unbound datagram socket: it can send, but nobody can reply to it
   * (receivers see `path: null`).
   *
   * @param options The receive size limit.
   * @returns The socket.
   *
   * @example Send without an address of one's own
   * ```ts
   * import { UnixDatagram } from "@posix/ipc/socket";
   * import { assertEquals } from "@std/assert";
   *
   * const dir = Deno.makeTempDirSync();
   * using rx = UnixDatagram.bind(`${dir}/rx`);
   * using tx = UnixDatagram.unbound();
   * await tx.send(new Uint8Array([9]), rx.path!);
   * assertEquals((await rx.receive()).path, null);
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  static unbound(options?: { maxMessageSize?: number }): UnixDatagram {
    const call = "UnixDatagram.unbound()";
    const o = checkOptions(options, call);
    const max = checkMax(o.maxMessageSize, call);
    return newDatagram(newSocket(C.AF_UNIX, C.SOCK_DGRAM, call), null, max);
  }

  /**
   * Adopts an inherited datagram socket fd (checked with `getsockopt`), e.g.
   * one passed by a parent or by a socket manager. Closing it removes no
   * file: the socket belongs to whoever bound it.
   *
   * @param fd The descriptor number.
   * @returns The handle that now owns `fd`.
   * @throws {TypeError} If `fd` is not a datagram socket (the message says what it is).
   *
   * @example Adopt an activated datagram socket
   * ```ts ignore
   * import { UnixDatagram } from "@posix/ipc/socket";
   *
   * using socket = UnixDatagram.fromFd(3);
   * const { data } = await socket.receive();
   * ```
   */
  static fromFd(fd: number): UnixDatagram {
    const adopted = adoptSocket(
      fd,
      C.SOCK_DGRAM,
      "UnixDatagram.fromFd()",
      false,
    );
    return newDatagram(adopted, null, DEFAULT_MAX_MESSAGE_SIZE);
  }

  /** The bound path (`"\0name"` for an abstract name), or null for an unbound socket; still given once closed. */
  get path(): string | null {
    if (!this.#handle.closed) this.#path = socketPath(this.#handle.fd);
    return this.#path;
  }

  /** The descriptor number, or -1 once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /**
   * Sends one datagram to the socket at `path` (a path or `"\0name"`),
   * waiting while the receiver's queue is full.
   *
   * @param data The message (its size is limited by the kernel's socket buffers).
   * @param path The receiver's address.
   * @param options Descriptors to pass, an abort signal, a timeout.
   * @throws {Deno.errors.NotFound} If nothing is bound at `path`.
   * @throws {Deno.errors.ConnectionRefused} If the socket file there is stale.
   * @throws {RangeError} If the message is too large for a datagram (EMSGSIZE); the message names the size.
   * @throws {Deno.errors.TimedOut} If the receiver stayed full for `timeout`.
   */
  async send(
    data: Uint8Array,
    path: string,
    options?: DatagramSendOptions,
  ): Promise<void> {
    const call = "UnixDatagram.send()";
    checkBytes(data, call);
    const dest = sockaddrUn(path, call);
    const o = checkOptions(options, call);
    const fds = o.fds === undefined ? [] : checkFdList(o.fds, call);
    const until = untilOf(o, call);
    const handle = this.#handle;
    const action = `cannot send a datagram of ${data.byteLength} bytes to ${
      showPath(path)
    }`;
    const attempt = () => {
      try {
        const n = sendMessage(handle.use(call), data, fds, dest, call, action);
        return n < 0 ? undefined : true;
      } catch (error) {
        if ((error as { errno?: number }).errno === E.EMSGSIZE) {
          throw new RangeError(
            `${call}: a datagram of ${data.byteLength} bytes is too large for this socket (EMSGSIZE)`,
            { cause: error },
          );
        }
        throw error;
      }
    };
    if (attempt()) return;
    // The receiver's queue is full. poll() cannot tell an unconnected sender
    // when it drains, so the engine retries on its backoff schedule.
    await retry(
      handle.owner,
      call,
      `found ${showPath(path)} full`,
      [pollSource(() => true)],
      until,
      attempt,
    );
  }

  /**
   * Receives the next datagram, whole. Waiting never blocks the event loop;
   * an aborted or timed-out receive consumes nothing.
   *
   * @param options An abort signal and a timeout.
   * @returns The message, the sender's address and any descriptors.
   * @throws {RangeError} If the datagram is over `maxMessageSize` (it is consumed; both sizes are named).
   * @throws {Deno.errors.TimedOut} If nothing arrived within `timeout`.
   * @throws {Deno.errors.BadResource} If the socket is (or gets) closed.
   */
  async receive(options?: DatagramReceiveOptions): Promise<Datagram> {
    const call = "UnixDatagram.receive()";
    return await this.#handle.retry(
      call,
      "stayed empty",
      C.POLLIN,
      untilOf(options, call),
      () => this.#tryTake(call),
    );
  }

  #tryTake(call: string): Datagram | undefined {
    const fd = this.#handle.use(call);
    const action = `cannot receive on ${this.#handle.label}`;
    const size = peekDatagramSize(fd, call, action);
    if (size === null) return undefined;
    const buffer = new Uint8Array(size > this.#max ? 1 : size);
    const got = receiveMessage(
      fd,
      buffer,
      MAX_FDS_PER_MESSAGE,
      true,
      call,
      action,
    );
    if (!got) return undefined;
    if (got.size > this.#max) {
      closeAll(got.fds);
      throw new RangeError(
        `${call}: dropped a datagram of ${got.size} bytes from ${
          got.path === null ? "an unbound socket" : showPath(got.path)
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
   * Received datagrams as a stream (each chunk one whole datagram, with its
   * sender). Cancel it to stop; the socket stays open until `close()`.
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

  /**
   * Closes the socket; pending receives fail with `BadResource`. A socket
   * made by `bind()` removes its file (unless `unlinkOnClose: false`, and only
   * if the file is still its own); an adopted one removes nothing.
   * Idempotent.
   */
  close(): void {
    if (this.#handle.closed) return;
    try {
      this.#handle.close();
    } finally {
      this.#lifecycle?.close("UnixDatagram.close()");
    }
  }

  /** Same as {@linkcode UnixDatagram.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function checkMax(value: unknown, call: string): number {
  if (value === undefined) return DEFAULT_MAX_MESSAGE_SIZE;
  return checkSize(value, "maxMessageSize", call, Number.MAX_SAFE_INTEGER, 0);
}
