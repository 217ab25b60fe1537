// Copyright 2026 the posix-ipc authors. MIT license.

import { checkTimeout } from "../_ffi/names.ts";
import { describe } from "../_ffi/cstring.ts";
import { sockaddrUn } from "../_ffi/socket.ts";

/**
 * Options of {@linkcode connect} for a Unix socket.
 *
 * @example Connect with a timeout
 * ```ts
 * import { connect, listen, type UnixConnectOptions } from "@posix/ipc/socket";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/s.sock`;
 * using _listener = listen({ path });
 * const options: UnixConnectOptions = { path, timeout: 1000 };
 * (await connect(options)).close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface UnixConnectOptions {
  /** Filesystem path of the socket. */
  path: string;
  /** Aborting rejects with the signal's reason (a late connection is closed). */
  signal?: AbortSignal;
  /** Milliseconds before giving up with `Deno.errors.TimedOut`. */
  timeout?: number;
}

/**
 * Options of {@linkcode connect} for TCP.
 *
 * @example Connect to a TCP port
 * ```ts
 * import { connect, listen, type TcpConnectOptions } from "@posix/ipc/socket";
 *
 * using listener = listen({ port: 0, hostname: "127.0.0.1" });
 * const options: TcpConnectOptions = { port: (listener.addr as Deno.NetAddr).port, timeout: 1000 };
 * (await connect(options)).close();
 * ```
 */
export interface TcpConnectOptions {
  /** Port to connect to. */
  port: number;
  /** Host to connect to. Default `"127.0.0.1"`. */
  hostname?: string;
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Milliseconds before giving up with `Deno.errors.TimedOut`. */
  timeout?: number;
}

/**
 * Options of {@linkcode connect}: a Unix path or a TCP port.
 *
 * @example Either kind
 * ```ts
 * import { connect, type ConnectOptions, listen } from "@posix/ipc/socket";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/s.sock`;
 * using _listener = listen({ path });
 * // An absolute path is a socket file, anything else is "host:port".
 * function parseAddress(address: string): ConnectOptions {
 *   if (address.startsWith("/")) return { path: address };
 *   const colon = address.lastIndexOf(":");
 *   return { hostname: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
 * }
 * (await connect(parseAddress(path))).close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export type ConnectOptions = UnixConnectOptions | TcpConnectOptions;

function rewrap(error: unknown, target: string): unknown {
  if (
    error instanceof Error && error.constructor !== Error &&
    !(error instanceof DOMException)
  ) {
    const Class = error.constructor as new (
      message: string,
      options: ErrorOptions,
    ) => Error;
    try {
      return new Class(
        `connect(): cannot connect to ${target}: ${error.message}`,
        { cause: error },
      );
    } catch {
      return error;
    }
  }
  return error;
}

/**
 * Connects to a Unix socket path or a TCP port (on top of `Deno.connect`),
 * with an abort signal and a timeout for both.
 *
 * @param options `{ path }` or `{ port, hostname? }`, plus `signal` and `timeout`.
 * @returns The connection (`Deno.Conn`, with `readable`, `writable`, `closeWrite()`).
 * @throws {Deno.errors.NotFound} If no socket file exists at the path.
 * @throws {Deno.errors.ConnectionRefused} If nobody listens there (a stale file, or a closed port).
 * @throws {Deno.errors.TimedOut} If `timeout` elapsed first.
 * @throws {TypeError} If the options have neither a string `path` nor a numeric `port`.
 *
 * @example Connection refused on a closed TCP port
 * ```ts
 * import { connect, listen } from "@posix/ipc/socket";
 * import { assertRejects } from "@std/assert";
 *
 * const listener = listen({ port: 0, hostname: "127.0.0.1" });
 * const { port } = listener.addr as Deno.NetAddr;
 * listener.close();
 * await assertRejects(() => connect({ port, timeout: 2000 }), Deno.errors.ConnectionRefused);
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Deno.Conn> {
  const call = "connect()";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${call}: options must be { path } or { port }, got ${describe(options)}`,
    );
  }
  const { signal, timeout } = options;
  checkTimeout(timeout, call);
  let target: string;
  let start: (signal: AbortSignal | undefined) => Promise<Deno.Conn>;
  if ("path" in options) {
    const { path } = options;
    sockaddrUn(path, call);
    target = JSON.stringify(path);
    start = () => Deno.connect({ transport: "unix", path });
  } else if ("port" in options) {
    const { port, hostname = "127.0.0.1" } = options;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(
        `${call}: port must be an integer from 1 to 65535, got ${
          describe(port)
        }`,
      );
    }
    target = `${hostname}:${port}`;
    start = (s) =>
      Deno.connect({ hostname, port, ...(s ? { signal: s } : {}) });
  } else {
    throw new TypeError(
      `${call}: options must have a path (Unix) or a port (TCP)`,
    );
  }
  signal?.throwIfAborted();
  if (timeout === undefined && !signal) {
    try {
      return await start(undefined);
    } catch (error) {
      throw rewrap(error, target);
    }
  }
  // A timer cleared once settled, so that it never keeps the process alive.
  const gaveUp = new AbortController();
  const timer = timeout === undefined
    ? undefined
    : setTimeout(() => gaveUp.abort(), timeout);
  const onAbort = () => gaveUp.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  const connecting = start(gaveUp.signal);
  const abandoned = new Promise<never>((_, reject) => {
    gaveUp.signal.addEventListener(
      "abort",
      () => reject(gaveUp.signal.reason),
      {
        once: true,
      },
    );
  });
  try {
    return await Promise.race([connecting, abandoned]);
  } catch (error) {
    // A connection that completes after we gave up is closed at once.
    connecting.then((conn) => conn.close(), () => {});
    if (signal?.aborted) throw signal.reason;
    if (gaveUp.signal.aborted) {
      throw new Deno.errors.TimedOut(
        `${call}: no connection to ${target} within ${timeout} ms`,
      );
    }
    throw rewrap(error, target);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    abandoned.catch(() => {});
  }
}
