// Copyright 2026 the posix-ipc authors. MIT license.

import { checkInteger, checkOptions, describe } from "../_check/mod.ts";
import { C, E } from "../_ffi/constants.ts";
import { osError } from "../_ffi/errors.ts";
import { closeFd } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import {
  getIntOption,
  newSocket,
  resolveHost,
  showPath,
  type SockAddr,
  sockaddrUn,
} from "../_ffi/socket.ts";
import { pollNow, pollSource, retry, type WaitUntil } from "../_wait/engine.ts";
import { FdHandle } from "../_wait/fd_handle.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";
import { type SocketEnd, socketEnd } from "./socket_end.ts";

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
export interface UnixConnectOptions extends WaitOptions {
  /** Filesystem path of the socket, or a Linux abstract name `"\0name"`. */
  path: string;
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
export interface TcpConnectOptions extends WaitOptions {
  /** Port to connect to. */
  port: number;
  /** Host to connect to (a literal or a name). Default `"127.0.0.1"`. */
  hostname?: string;
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

/**
 * Connects to a Unix socket (a path or an abstract name) or a TCP port,
 * with an abort signal and a timeout for the whole attempt. The connection
 * is a `SocketEnd`: a byte stream with an `fd`, half-close, and on Unix
 * sockets `peerCredentials()` and descriptor passing.
 *
 * System calls: `socket`, `connect` (non-blocking; a full Unix backlog is
 * retried), `getsockopt(SO_ERROR)`, `getaddrinfo` for a TCP host name.
 *
 * @param options `{ path }` or `{ port, hostname? }`, plus `signal` and `timeout`.
 * @returns The connection.
 * @throws {Deno.errors.NotFound} If no socket file exists at the path (or the host does not resolve).
 * @throws {Deno.errors.ConnectionRefused} If nobody listens there (a stale file, or a closed port).
 * @throws {Deno.errors.TimedOut} If `timeout` elapsed first.
 * @throws {TypeError} If the options have neither a string `path` nor a numeric `port`.
 *
 * @example Connection refused at a socket file nobody listens on any more
 * ```ts
 * import { connect, listen } from "@posix/ipc/socket";
 * import { assertRejects } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/gone.sock`;
 * listen({ path, unlinkOnClose: false }).close(); // leaves a stale file
 * await assertRejects(() => connect({ path, timeout: 2000 }), Deno.errors.ConnectionRefused);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function connect(options: ConnectOptions): Promise<SocketEnd> {
  const call = "connect()";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${call}: options must be { path } or { port }, got ${describe(options)}`,
    );
  }
  const until = untilOf(options, call);
  if ("path" in options) {
    const o = checkOptions<UnixConnectOptions>(options, call);
    const addr = sockaddrUn(o.path, call);
    return await connectTo(addr, showPath(o.path!), call, until);
  }
  if ("port" in options) {
    const o = checkOptions<TcpConnectOptions>(options, call);
    const port = checkInteger(o.port, "port", call, 1, 65535);
    if (o.hostname !== undefined && typeof o.hostname !== "string") {
      throw new TypeError(
        `${call}: hostname must be a string, got ${describe(o.hostname)}`,
      );
    }
    const hostname = o.hostname ?? "127.0.0.1";
    const addrs = await resolveHost(hostname, port, call);
    let last: unknown;
    for (const addr of addrs) {
      try {
        return await connectTo(addr, `${hostname}:${port}`, call, until);
      } catch (error) {
        if (
          error instanceof Deno.errors.TimedOut ||
          error instanceof DOMException || until.signal?.aborted
        ) {
          throw error;
        }
        last = error;
      }
    }
    throw last;
  }
  throw new TypeError(
    `${call}: options must have a path (Unix) or a port (TCP)`,
  );
}

async function connectTo(
  addr: SockAddr,
  target: string,
  call: string,
  until: WaitUntil,
): Promise<SocketEnd> {
  const lib = libc();
  const fd = newSocket(addr.family, C.SOCK_STREAM, call);
  const handle = new FdHandle(fd, `connection to ${target}`, "socket");
  const action = `cannot connect to ${target}`;
  try {
    let inProgress = false;
    await retry(
      handle.owner,
      call,
      "was not accepted",
      // A Unix listener with a full backlog answers EAGAIN and sends no
      // readiness: retry on a schedule. TCP says EINPROGRESS, then POLLOUT.
      () => inProgress ? [handle.source(C.POLLOUT)] : [pollSource(() => true)],
      until,
      () => {
        if (inProgress) {
          // Writable means the connection attempt finished, one way or the other.
          if (pollNow(fd, C.POLLOUT) === 0) return undefined;
          const code = getIntOption(fd, C.SOL_SOCKET, C.SO_ERROR, call);
          if (code === 0) return true;
          throw osError(code, call, action);
        }
        if (lib.connect(fd, addr.addr, addr.len) === 0) return true;
        const code = errno();
        if (code === E.EINPROGRESS) {
          inProgress = true;
          return undefined;
        }
        if (code === E.EAGAIN || code === E.EINTR) return undefined;
        throw osError(code, call, action);
      },
    );
    return socketEnd(handle.detach(call));
  } catch (error) {
    if (!handle.closed) handle.close();
    else closeFd(fd);
    throw error;
  }
}
