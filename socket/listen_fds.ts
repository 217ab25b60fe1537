// Copyright 2026 the posix-ipc authors. MIT license.

import { C, E } from "../_ffi/constants.ts";
import { describe } from "../_ffi/cstring.ts";
import { osError } from "../_ffi/errno.ts";
import { fstat } from "../_ffi/fd.ts";
import { FdHandle } from "../_ffi/handle.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { getIntOption, socketPath } from "../_ffi/socket.ts";
import { adoptSocket, socketTypeName } from "./_adopt.ts";
import { SocketEnd } from "./socket_pair.ts";

/**
 * The first fd of the socket-activation protocol (SD_LISTEN_FDS_START).
 *
 * @example The first activated fd
 * ```ts
 * import { LISTEN_FDS_START } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(LISTEN_FDS_START, 3);
 * ```
 */
export const LISTEN_FDS_START = 3;

/**
 * Options of {@linkcode listenFds}.
 *
 * @example Keep children from seeing the variables
 * ```ts
 * import { listenFds, type ListenFdsOptions } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const options: ListenFdsOptions = { unsetEnvironment: true };
 * assertEquals(listenFds(options), []); // not socket-activated here
 * ```
 */
export interface ListenFdsOptions {
  /**
   * Remove `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` from the
   * environment afterwards, so children do not see them. Default false.
   */
  unsetEnvironment?: boolean;
}

/**
 * Options of {@linkcode ActivatedListener.accept}.
 *
 * @example Stop waiting for a connection
 * ```ts
 * import { type AcceptOptions, listenFds } from "@posix/ipc/socket";
 *
 * const options: AcceptOptions = { signal: AbortSignal.timeout(1000) };
 * for (const listener of listenFds()) {
 *   const conn = await listener.accept(options).catch(() => null);
 *   conn?.close();
 * }
 * ```
 */
export interface AcceptOptions {
  /** Aborting rejects the wait with the signal's reason. */
  signal?: AbortSignal;
}

let newActivated: (fd: number, name: string) => ActivatedListener;

/**
 * A listening stream socket received from a service manager (or any parent
 * following the socket-activation protocol), from {@linkcode listenFds}.
 * Iterate it for connections; each is a {@linkcode SocketEnd}, usable with
 * `framed()`.
 *
 * @example Serve an activated socket
 * ```ts ignore
 * import { framed, listenFds } from "@posix/ipc/socket";
 *
 * const [listener] = listenFds();
 * for await (const conn of listener!) {
 *   const { readable, writable } = framed(conn);
 *   readable.pipeTo(writable); // echo messages
 * }
 * ```
 */
export class ActivatedListener implements AsyncIterable<SocketEnd>, Disposable {
  #handle: FdHandle;
  /** The name from `LISTEN_FDNAMES` (`"unknown"` when none was given). */
  readonly name: string;
  /** The bound path of a Unix socket, or null. */
  readonly path: string | null;

  static {
    newActivated = (fd, name) => new ActivatedListener(fd, name);
  }

  private constructor(fd: number, name: string) {
    this.#handle = new FdHandle(
      fd,
      `activated socket ${JSON.stringify(name)} (fd ${fd})`,
    );
    this.name = name;
    this.path = socketPath(fd);
  }

  /** The descriptor, or -1 once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /**
   * Waits for the next connection.
   *
   * @param options An abort signal.
   * @returns The connection.
   * @throws {Deno.errors.BadResource} If the listener is closed.
   */
  async accept(options: AcceptOptions = {}): Promise<SocketEnd> {
    const call = "ActivatedListener.accept()";
    const lib = libc();
    for (;;) {
      const fd = this.#handle.use(call);
      const conn = lib.accept4!(
        fd,
        null,
        null,
        C.SOCK_NONBLOCK | C.SOCK_CLOEXEC,
      );
      if (conn >= 0) return SocketEnd.fromFd(conn);
      const code = errno();
      if (code !== E.EAGAIN && code !== E.EINTR && code !== E.ECONNABORTED) {
        throw osError(code, `${call}: ${this.name}`);
      }
      if (code === E.EAGAIN) {
        await this.#handle.wait(
          C.POLLIN,
          call,
          options.signal ? { signal: options.signal } : {},
        );
      }
    }
  }

  /** Connections as they arrive; ends when the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<SocketEnd> {
    while (!this.#handle.closed) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#handle.closed || error instanceof Deno.errors.BadResource) {
          return;
        }
        throw error;
      }
    }
  }

  /** Stops listening (the socket file, owned by the service manager, stays). Idempotent. */
  close(): void {
    this.#handle.close();
  }

  /** Same as {@linkcode ActivatedListener.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Socket activation (the systemd protocol): adopts the listening sockets a
 * service manager passed at fds 3, 4, … when `LISTEN_PID` is this process's
 * pid, with the count in `LISTEN_FDS` and names in `LISTEN_FDNAMES`
 * (colon-separated). When the variables are absent or meant for another
 * process, returns an empty array (a service can then listen by itself).
 *
 * Each fd is checked (it must be a listening stream socket, Unix or TCP),
 * made close-on-exec and non-blocking, and owned by its listener.
 *
 * Permissions: `--allow-env` (for the three variables), `--allow-ffi`.
 *
 * @param options Whether to remove the variables from the environment.
 * @returns The listeners, in fd order.
 * @throws {TypeError} If an fd is not a listening stream socket (the message names the fd and what it is), or `LISTEN_FDS` is malformed.
 *
 * @example Nothing activated: an empty list
 * ```ts
 * import { listenFds } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(listenFds(), []); // no LISTEN_PID for this process
 * ```
 */
export function listenFds(options: ListenFdsOptions = {}): ActivatedListener[] {
  const call = "listenFds()";
  const pid = Deno.env.get("LISTEN_PID");
  const count = Deno.env.get("LISTEN_FDS");
  const names = Deno.env.get("LISTEN_FDNAMES")?.split(":") ?? [];
  if (options.unsetEnvironment) {
    for (const name of ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]) {
      Deno.env.delete(name);
    }
  }
  if (pid === undefined || count === undefined || Number(pid) !== Deno.pid) {
    return [];
  }
  const n = Number(count);
  if (!Number.isInteger(n) || n < 0 || n > 10_000) {
    throw new TypeError(
      `${call}: LISTEN_FDS must be a count, got ${describe(count)}`,
    );
  }
  const out: ActivatedListener[] = [];
  for (let i = 0; i < n; i++) {
    const fd = LISTEN_FDS_START + i;
    const name = names[i] || "unknown";
    try {
      if (fstat(fd, `${call}: fd ${fd} (${name})`).kind === "socket") {
        const type = getIntOption(
          fd,
          C.SOL_SOCKET,
          C.SO_TYPE,
          `${call}: fd ${fd}`,
        );
        if (type !== C.SOCK_STREAM) {
          throw new TypeError(
            `${call}: fd ${fd} (${name}) is a ${
              socketTypeName(type)
            }, not a listening stream socket; adopt it with UnixDatagram.fromFd(${fd})`,
          );
        }
      }
      out.push(
        newActivated(
          adoptSocket(fd, C.SOCK_STREAM, `${call}: fd ${fd} (${name})`, true),
          name,
        ),
      );
    } catch (error) {
      for (const listener of out) listener.close();
      throw error;
    }
  }
  return out;
}
