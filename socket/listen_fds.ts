// Copyright 2026 the posix-ipc authors. MIT license.

import { checkBoolean, checkOptions } from "../_check/mod.ts";
import { C } from "../_ffi/constants.ts";
import { fstat } from "../_ffi/fd.ts";
import { getIntOption } from "../_ffi/socket.ts";
import { socketTypeName } from "./_bind.ts";
import { adoptedListener, type SocketListener } from "./listen.ts";
import { adoptSocket } from "./socket_end.ts";

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
 * Socket activation (the systemd protocol): adopts the listening sockets a
 * service manager — or a parent using `spawn(…, { listenFds })` — passed at
 * fds 3, 4, … when `LISTEN_PID` is this process's pid, with the count in
 * `LISTEN_FDS` and names in `LISTEN_FDNAMES` (colon-separated). When the
 * variables are absent or meant for another process, returns an empty array
 * (a service can then listen by itself).
 *
 * Each fd is checked (it must be a listening stream socket, Unix or TCP),
 * made close-on-exec and non-blocking, and owned by its `SocketListener`,
 * whose `name` is its `LISTEN_FDNAMES` entry. Closing it removes no file:
 * the socket belongs to the manager.
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
export function listenFds(options?: ListenFdsOptions): SocketListener[] {
  const call = "listenFds()";
  const o = checkOptions(options, call);
  const unset = checkBoolean(o.unsetEnvironment, "unsetEnvironment", call);
  const pid = Deno.env.get("LISTEN_PID");
  const count = Deno.env.get("LISTEN_FDS");
  const names = Deno.env.get("LISTEN_FDNAMES")?.split(":") ?? [];
  if (unset) {
    for (const name of ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]) {
      Deno.env.delete(name);
    }
  }
  if (pid === undefined || count === undefined || Number(pid) !== Deno.pid) {
    return [];
  }
  const n = Number(count);
  if (!/^[0-9]+$/.test(count) || n > 10_000) {
    throw new TypeError(
      `${call}: LISTEN_FDS must be a count, got ${JSON.stringify(count)}`,
    );
  }
  const out: SocketListener[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const fd = LISTEN_FDS_START + i;
      const name = names[i] || "unknown";
      const what = `${call}: fd ${fd} (${name})`;
      if (fstat(fd, what).kind === "socket") {
        const type = getIntOption(fd, C.SOL_SOCKET, C.SO_TYPE, what);
        if (type !== C.SOCK_STREAM) {
          throw new TypeError(
            `${what} is a ${
              socketTypeName(type)
            }, not a listening stream socket; adopt it with UnixDatagram.fromFd(${fd})`,
          );
        }
      }
      out.push(
        adoptedListener(adoptSocket(fd, C.SOCK_STREAM, what, true), name),
      );
    }
  } catch (error) {
    for (const listener of out) listener.close();
    throw error;
  }
  return out;
}
