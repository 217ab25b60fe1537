// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkBoolean,
  checkInteger,
  checkMode,
  checkOptions,
  describe,
} from "../_check/mod.ts";
import { C, E } from "../_ffi/constants.ts";
import { lastError, osError } from "../_ffi/errors.ts";
import { closeFd } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import {
  newSocket,
  resolveHostSync,
  setIntOption,
  showPath,
  socketAddr,
  socketPath,
} from "../_ffi/socket.ts";
import { Lifecycle } from "../_object/lifecycle.ts";
import type { UnlinkOptions } from "../_object/options.ts";
import { FdHandle } from "../_wait/fd_handle.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";
import { bindUnix } from "./_bind.ts";
import { adoptSocket, type SocketEnd, socketEnd } from "./socket_end.ts";

export type { UnlinkOptions };

/**
 * Options of {@linkcode listen} for a Unix socket.
 *
 * @example An owner-only socket, removed at exit
 * ```ts
 * import { listen, type UnixListenOptions } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const options: UnixListenOptions = { path: `${dir}/api.sock`, mode: 0o600, unlinkOnExit: true };
 * using _listener = listen(options);
 * assertEquals(Deno.statSync(options.path).mode! & 0o777, 0o600);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface UnixListenOptions extends UnlinkOptions {
  /**
   * Filesystem path of the socket (at most 107 bytes), or a Linux abstract
   * name spelled with a leading NUL: `"\0my-service"` (no file; it vanishes
   * with the socket).
   */
  path: string;
  /**
   * Permission bits of the socket file (who may connect), exactly: the file
   * is never more open than this, from the moment it exists (the umask may
   * narrow it for an instant, never widen it; the umask itself is not
   * touched). Default: `0o777` minus the umask.
   */
  mode?: number;
  /** Pending connections the kernel queues. Default 511. */
  backlog?: number;
  /**
   * Remove the socket file when the listener is closed (if it is still this
   * listener's). Default **true**, as Node's `net.Server` does: a listening
   * socket's file is its own.
   */
  unlinkOnClose?: boolean;
}

/**
 * Options of {@linkcode listen} for TCP.
 *
 * @example Any free port on loopback
 * ```ts
 * import { listen, type TcpListenOptions } from "@posix/ipc/socket";
 * import { assert } from "@std/assert";
 *
 * const options: TcpListenOptions = { port: 0, hostname: "127.0.0.1" };
 * using listener = listen(options);
 * assert((listener.addr as Deno.NetAddr).port > 0);
 * ```
 */
export interface TcpListenOptions {
  /** Port to listen on; 0 picks a free one (see `addr`). */
  port: number;
  /** Address to bind (a literal, or a name from /etc/hosts). Default `"0.0.0.0"`, as `Deno.listen`. */
  hostname?: string;
  /** Pending connections the kernel queues. Default 511. */
  backlog?: number;
  /** Let several sockets bind the same port (`SO_REUSEPORT`). Default false. */
  reusePort?: boolean;
}

/**
 * Options of {@linkcode listen}: a Unix path or a TCP port.
 *
 * @example Unix or TCP from configuration
 * ```ts
 * import { listen, type ListenOptions } from "@posix/ipc/socket";
 *
 * const dir = Deno.makeTempDirSync();
 * const config: ListenOptions = { path: `${dir}/svc.sock` };
 * using listener = listen(config);
 * console.log(listener.addr);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export type ListenOptions = UnixListenOptions | TcpListenOptions;

let newListener: (
  fd: number,
  lifecycle: Lifecycle | null,
  name: string,
  adopted: boolean,
) => SocketListener;

/** A listener around an adopted listening fd (it has no lifecycle). */
export function adoptedListener(fd: number, name: string): SocketListener {
  return newListener(fd, null, name, true);
}

/**
 * A listening stream socket (Unix or TCP) from {@linkcode listen},
 * {@linkcode SocketListener.fromFd} or `listenFds()`: iterate it (or call
 * {@linkcode SocketListener.accept}) for connections, each a `SocketEnd`.
 *
 * It has an `fd`, so it can be given to worker processes —
 * `spawn(cmd, { fds: { 3: listener } })` or, for the socket-activation
 * convention, `spawn(cmd, { listenFds: [listener] })` — the pre-fork model
 * of nginx and PostgreSQL. Passing it to `spawn` keeps it here (to start
 * more workers); close it here when no longer needed. Children get it in
 * blocking mode, as C and Python programs expect; accepting here too still
 * works, but is best left to the workers (see `accept`).
 *
 * @example Serve one connection
 * ```ts
 * import { connect, listen } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/echo.sock`;
 * using listener = listen({ path });
 * const serving = (async () => {
 *   for await (const conn of listener) {
 *     await conn.readable.pipeTo(conn.writable); // echo until the client half-closes
 *     break;
 *   }
 * })();
 * using client = await connect({ path });
 * await client.write(new TextEncoder().encode("hi"));
 * client.closeWrite();
 * assertEquals(await new Response(client.readable).text(), "hi");
 * await serving;
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SocketListener implements AsyncIterable<SocketEnd>, Disposable {
  #handle: FdHandle;
  #lifecycle: Lifecycle | null;
  #path: string | null = null;
  /**
   * The socket's name in the socket-activation protocol (`LISTEN_FDNAMES`):
   * from the environment for `listenFds()`, else `"unknown"`.
   */
  readonly name: string;

  static {
    newListener = (fd, lifecycle, name, adopted) =>
      new SocketListener(fd, lifecycle, name, adopted);
  }

  private constructor(
    fd: number,
    lifecycle: Lifecycle | null,
    name: string,
    adopted: boolean,
  ) {
    const path = this.#path = socketPath(fd);
    this.#handle = new FdHandle(
      fd,
      path !== null ? `listener ${showPath(path)}` : `listener (fd ${fd})`,
      "socket",
    );
    // Other processes hold an inherited listener: see FdHandle.shared.
    if (adopted) this.#handle.markShared();
    this.#lifecycle = lifecycle;
    this.name = name;
  }

  /**
   * Adopts an inherited listening stream socket (Unix or TCP), e.g. one a
   * parent placed with `spawn(…, { fds: { 3: listener } })`. It is made
   * close-on-exec and non-blocking; closing it removes no file.
   *
   * @param fd The descriptor number.
   * @returns The listener that now owns `fd`.
   * @throws {TypeError} If `fd` is not a listening stream socket (the message says what it is).
   *
   * @example Adopt fd 3 in a worker
   * ```ts ignore
   * import { SocketListener } from "@posix/ipc/socket";
   *
   * using listener = SocketListener.fromFd(3);
   * for await (const conn of listener) conn.close();
   * ```
   */
  static fromFd(fd: number): SocketListener {
    return adoptedListener(
      adoptSocket(fd, C.SOCK_STREAM, "SocketListener.fromFd()", true),
      "unknown",
    );
  }

  /** The descriptor, or -1 once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /** The local address: `{ transport: "unix", path }` or `{ transport: "tcp", hostname, port }`. */
  get addr(): Deno.Addr {
    const fd = this.#handle.use("SocketListener.addr");
    return socketAddr(fd, false) ?? { transport: "unix", path: "" };
  }

  /** The bound Unix path (`"\0name"` for an abstract name), or null for TCP; still given once closed. */
  get path(): string | null {
    if (!this.#handle.closed) this.#path = socketPath(this.#handle.fd);
    return this.#path;
  }

  /**
   * Waits for the next connection.
   *
   * A listener shared with other processes (adopted, or given to a child
   * with `spawn()`) has one `O_NONBLOCK` flag for all of them. `spawn()`
   * clears it for the child, as C and Python programs expect; accepting
   * here sets it again and leaves it set, so that this process never waits
   * in `accept4` — and if another process clears it at the wrong moment,
   * the call is interrupted after a few milliseconds, never left waiting.
   * So let either this process or its children accept, not both, when the
   * children are C or Python programs doing blocking accepts (they would
   * see `EAGAIN`); Deno workers of this package and event-loop servers
   * (nginx, libuv, asyncio) do not mind.
   *
   * @param options An abort signal and a timeout.
   * @returns The connection.
   * @throws {Deno.errors.BadResource} If the listener is (or gets) closed.
   * @throws {Deno.errors.TimedOut} If no connection came within `timeout`.
   *
   * @example Accept with a deadline
   * ```ts
   * import { listen } from "@posix/ipc/socket";
   * import { assertRejects } from "@std/assert";
   *
   * using listener = listen({ port: 0, hostname: "127.0.0.1" });
   * await assertRejects(() => listener.accept({ timeout: 10 }), Deno.errors.TimedOut);
   * ```
   */
  async accept(options?: WaitOptions): Promise<SocketEnd> {
    const call = "SocketListener.accept()";
    return await this.#handle.retry(
      call,
      "had no connection",
      C.POLLIN,
      untilOf(options, call),
      () => this.#tryAccept(call),
    );
  }

  #tryAccept(call: string): SocketEnd | undefined {
    const conn = this.#handle.tryAccept(call, this.#handle.label);
    return conn >= 0 ? socketEnd(conn) : undefined;
  }

  /** Connections as they arrive; the iteration ends when the listener is closed. */
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

  /** Lets the process exit while the listener waits (as `Deno.Listener.unref`). */
  unref(): void {
    this.#handle.setRef(false);
  }

  /** Undoes {@linkcode SocketListener.unref}. */
  ref(): void {
    this.#handle.setRef(true);
  }

  /**
   * Stops listening: pending accepts fail with `BadResource`. A listener
   * made by `listen()` removes its socket file (unless `unlinkOnClose: false`,
   * and only if the file is still its own); an adopted one removes nothing.
   * Idempotent.
   */
  close(): void {
    if (this.#handle.closed) return;
    try {
      this.#handle.close();
    } finally {
      this.#lifecycle?.close("SocketListener.close()");
    }
  }

  /** Same as {@linkcode SocketListener.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const DEFAULT_BACKLOG = 511;

/**
 * Listens on a Unix socket path (or Linux abstract name) or a TCP port.
 *
 * For Unix paths it adds the hygiene every daemon needs: the socket file is
 * created with `mode` already in place (no window in which another user can
 * connect); a **stale** file left by a process that died is replaced, a
 * **live** one is refused with `AddrInUse`, never stolen — and two processes
 * starting together on a stale path cannot both win; `close()` removes the
 * file if it is still this listener's.
 *
 * Use `Deno.listen` instead when you need a `Deno.Conn` for another Deno API
 * (TLS, `Deno.serveHttp`); use this when you need an `fd` to give to
 * workers, peer credentials, or descriptor passing.
 *
 * System calls: `socket`, `fchmod` (the mode, before `bind`), `bind`,
 * `listen`, `chmod` through an `O_PATH` fd (bits the umask removed); for a
 * stale file `flock` of the directory, `connect` (the liveness probe),
 * `unlinkat`.
 *
 * @param options `{ path, mode? }` for Unix, `{ port, hostname? }` for TCP.
 * @returns The listener.
 * @throws {Deno.errors.AddrInUse} If a live socket is bound at the path (or the TCP port is taken).
 * @throws {Deno.errors.AlreadyExists} If something other than a socket is at the path.
 * @throws {Deno.errors.NotFound} If the path's directory does not exist.
 * @throws {TypeError} If the options have neither a string `path` nor a numeric `port`.
 * @throws {RangeError} If the path is too long for a socket address or `mode`/`port` is out of range.
 *
 * @example Listen on TCP, pick a free port
 * ```ts
 * import { listen } from "@posix/ipc/socket";
 * import { assert } from "@std/assert";
 *
 * using listener = listen({ port: 0, hostname: "127.0.0.1" });
 * assert((listener.addr as Deno.NetAddr).port > 0);
 * ```
 */
export function listen(options: ListenOptions): SocketListener {
  const call = "listen()";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${call}: options must be { path } or { port }, got ${describe(options)}`,
    );
  }
  const backlog = options.backlog === undefined
    ? DEFAULT_BACKLOG
    : checkInteger(options.backlog, "backlog", call, 0, 0x7fffffff);
  if ("path" in options) {
    const o = checkOptions<UnixListenOptions>(options, call);
    const mode = checkMode(o.mode, call);
    const unlinkOnClose =
      checkBoolean(o.unlinkOnClose, "unlinkOnClose", call) ??
        true;
    const unlinkOnExit = checkBoolean(o.unlinkOnExit, "unlinkOnExit", call);
    const fd = newSocket(C.AF_UNIX, C.SOCK_STREAM, call);
    try {
      // listen() runs under bindUnix's directory lock: until it has, the
      // new file would look stale to a process starting on the same path.
      const bound = bindUnix(
        fd,
        o.path!,
        C.SOCK_STREAM,
        mode,
        call,
        () => startListening(fd, backlog, call, showPath(o.path!)),
      );
      const lifecycle = bound.place && bound.identity
        ? new Lifecycle(
          `socket file ${showPath(o.path!)}`,
          bound.place,
          bound.identity,
          true,
          { unlinkOnClose, unlinkOnExit },
        )
        : null;
      return newListener(fd, lifecycle, "unknown", false);
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }
  if ("port" in options) {
    const o = checkOptions<TcpListenOptions>(options, call);
    const port = checkInteger(o.port, "port", call, 0, 65535);
    if (o.hostname !== undefined && typeof o.hostname !== "string") {
      throw new TypeError(
        `${call}: hostname must be a string, got ${describe(o.hostname)}`,
      );
    }
    const reusePort = checkBoolean(o.reusePort, "reusePort", call) ?? false;
    const hostname = o.hostname ?? "0.0.0.0";
    const [addr] = resolveHostSync(hostname, port, call);
    const fd = newSocket(addr!.family, C.SOCK_STREAM, call);
    try {
      setIntOption(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1, call);
      if (reusePort) setIntOption(fd, C.SOL_SOCKET, C.SO_REUSEPORT, 1, call);
      const where = `${hostname}:${port}`;
      if (libc().bind(fd, addr!.addr, addr!.len) === -1) {
        const code = errno();
        if (code === E.EADDRINUSE) {
          throw new Deno.errors.AddrInUse(`${call}: ${where} is in use`);
        }
        throw osError(code, call, `cannot bind ${where}`);
      }
      startListening(fd, backlog, call, where);
      return newListener(fd, null, "unknown", false);
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }
  throw new TypeError(
    `${call}: options must have a path (Unix) or a port (TCP)`,
  );
}

function startListening(
  fd: number,
  backlog: number,
  call: string,
  where: string,
): void {
  if (libc().listen(fd, backlog) === -1) {
    throw lastError(call, `cannot listen on ${where}`);
  }
}
