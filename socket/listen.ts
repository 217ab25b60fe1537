// Copyright 2026 the posix-ipc authors. MIT license.

import { C } from "../_ffi/constants.ts";
import { cString, describe } from "../_ffi/cstring.ts";
import { libc } from "../_ffi/libc.ts";
import { unlinkAtExit } from "../_ffi/shutdown.ts";
import { sockaddrUn } from "../_ffi/socket.ts";
import {
  applySocketMode,
  checkMode,
  clearStaleSocket,
  removeOurSocket,
  socketInode,
} from "./_unix_path.ts";

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
export interface UnixListenOptions {
  /** Filesystem path of the socket (at most 107 bytes). */
  path: string;
  /** Permission bits applied to the socket file (who may connect). */
  mode?: number;
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
  /** Address to bind. Default `"0.0.0.0"`, as `Deno.listen`. */
  hostname?: string;
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
  listener: Deno.Listener,
  path: string | null,
  unlinkOnExit: boolean,
) => SocketListener;

/**
 * A listening socket from {@linkcode listen}: iterate it (or call
 * {@linkcode SocketListener.accept}) to get connections.
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
 * const client = await connect({ path });
 * const w = client.writable.getWriter();
 * await w.write(new TextEncoder().encode("hi"));
 * await client.closeWrite();
 * assertEquals(await new Response(client.readable).text(), "hi");
 * await serving;
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SocketListener implements AsyncIterable<Deno.Conn>, Disposable {
  #listener: Deno.Listener;
  #path: string | null;
  #ino: bigint | null = null;
  #closed = false;
  #forgetExit: (() => void) | undefined;

  static {
    newListener = (listener, path, unlinkOnExit) =>
      new SocketListener(listener, path, unlinkOnExit);
  }

  private constructor(
    listener: Deno.Listener,
    path: string | null,
    unlinkOnExit: boolean,
  ) {
    this.#listener = listener;
    this.#path = path;
    if (path !== null) {
      this.#ino = socketInode(path);
      if (unlinkOnExit) {
        this.#forgetExit = unlinkAtExit(
          path,
          () => libc().unlink(cString(path)),
        );
      }
    }
  }

  /** The local address: `{ transport: "unix", path }` or `{ transport: "tcp", hostname, port }`. */
  get addr(): Deno.Addr {
    return this.#listener.addr;
  }

  /**
   * Waits for the next connection.
   *
   * @throws {Deno.errors.BadResource} If the listener is closed.
   */
  accept(): Promise<Deno.Conn> {
    if (this.#closed) {
      return Promise.reject(
        new Deno.errors.BadResource(
          "SocketListener.accept(): the listener is closed",
        ),
      );
    }
    return this.#listener.accept();
  }

  /** Connections as they arrive; the iteration ends when the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<Deno.Conn> {
    while (!this.#closed) {
      try {
        yield await this.#listener.accept();
      } catch (error) {
        if (this.#closed || error instanceof Deno.errors.BadResource) return;
        throw error;
      }
    }
  }

  /** Lets the process exit while the listener waits (as `Deno.Listener.unref`). */
  unref(): void {
    this.#listener.unref();
  }

  /** Undoes {@linkcode SocketListener.unref}. */
  ref(): void {
    this.#listener.ref();
  }

  /** Stops listening and removes the socket file (if it is still ours). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed by Deno.
    }
    removeOurSocket(this.#path, this.#ino);
    this.#forgetExit?.();
  }

  /** Same as {@linkcode SocketListener.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Listens on a Unix socket path or a TCP port, on top of `Deno.listen`.
 *
 * For Unix paths it adds the hygiene every daemon needs: a **stale** socket
 * file left by a process that died is replaced; a **live** one — another
 * process is listening — is refused with `AddrInUse`, never stolen; `mode` is
 * applied to the socket file; `close()` removes the file.
 *
 * System calls: `stat`, `socket`/`connect` (the liveness probe), `unlink`,
 * then `Deno.listen`, `chmod`.
 *
 * Permissions: `--allow-read` and `--allow-write` for Unix paths,
 * `--allow-net` for TCP, `--allow-ffi`.
 *
 * @param options `{ path, mode? }` for Unix, `{ port, hostname? }` for TCP.
 * @returns The listener.
 * @throws {Deno.errors.AddrInUse} If a live socket listens at the path (or the TCP port is taken).
 * @throws {Deno.errors.AlreadyExists} If something other than a socket is at the path.
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
  if ("path" in options) {
    const { path, mode } = options;
    sockaddrUn(path, call); // validates the path's type and length
    checkMode(mode, call);
    clearStaleSocket(path, C.SOCK_STREAM, call);
    const listener = Deno.listen({ transport: "unix", path });
    try {
      applySocketMode(path, mode, call);
    } catch (error) {
      listener.close();
      throw error;
    }
    return newListener(listener, path, options.unlinkOnExit === true);
  }
  if ("port" in options) {
    const { port, hostname } = options;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(
        `${call}: port must be an integer from 0 to 65535, got ${
          describe(port)
        }`,
      );
    }
    if (hostname !== undefined && typeof hostname !== "string") {
      throw new TypeError(
        `${call}: hostname must be a string, got ${describe(hostname)}`,
      );
    }
    return newListener(
      Deno.listen({ port, ...(hostname ? { hostname } : {}) }),
      null,
      false,
    );
  }
  throw new TypeError(
    `${call}: options must have a path (Unix) or a port (TCP)`,
  );
}
