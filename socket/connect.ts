// Copyright 2026 the posix-ipc authors. MIT license.

import { describe } from "../_ffi/cstring.ts";
import { sockaddrUn } from "../_ffi/socket.ts";

/** Options of {@linkcode connect} for a Unix socket. */
export interface UnixConnectOptions {
  /** Filesystem path of the socket. */
  path: string;
  /** Aborting rejects with the signal's reason (a late connection is closed). */
  signal?: AbortSignal;
  /** Milliseconds before giving up with `Deno.errors.TimedOut`. */
  timeout?: number;
}

/** Options of {@linkcode connect} for TCP. */
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

/** Options of {@linkcode connect}: a Unix path or a TCP port. */
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
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0)) {
    throw new RangeError(
      `${call}: timeout must be a non-negative number of milliseconds, got ${
        describe(timeout)
      }`,
    );
  }
  signal?.throwIfAborted();
  let target: string;
  let connecting: Promise<Deno.Conn>;
  const timer = timeout === undefined
    ? undefined
    : AbortSignal.timeout(timeout);
  const signals = [signal, timer].filter((s): s is AbortSignal =>
    s !== undefined
  );
  const combined = signals.length ? AbortSignal.any(signals) : undefined;
  if ("path" in options) {
    sockaddrUn(options.path, call);
    target = JSON.stringify(options.path);
    connecting = Deno.connect({ transport: "unix", path: options.path });
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
    connecting = Deno.connect({
      hostname,
      port,
      ...(combined ? { signal: combined } : {}),
    });
  } else {
    throw new TypeError(
      `${call}: options must have a path (Unix) or a port (TCP)`,
    );
  }
  if (!combined) {
    try {
      return await connecting;
    } catch (error) {
      throw rewrap(error, target);
    }
  }
  const onAbort = new Promise<never>((_, reject) => {
    combined.addEventListener("abort", () => reject(combined.reason), {
      once: true,
    });
  });
  try {
    return await Promise.race([connecting, onAbort]);
  } catch (error) {
    // A connection that completes after we gave up is closed at once.
    connecting.then((conn) => conn.close(), () => {});
    if (timer?.aborted && !signal?.aborted) {
      throw new Deno.errors.TimedOut(
        `${call}: no connection to ${target} within ${timeout} ms`,
      );
    }
    if (signal?.aborted) throw signal.reason;
    throw rewrap(error, target);
  }
}
