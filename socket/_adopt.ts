// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: checking and taking ownership of an inherited socket fd.

import { C } from "../_ffi/constants.ts";
import { inspectFd, setCloseOnExec, setNonBlocking } from "../_ffi/fd.ts";
import { getIntOption } from "../_ffi/socket.ts";

/** Names of socket types for messages. */
export function socketTypeName(type: number): string {
  return type === C.SOCK_STREAM
    ? "stream socket"
    : type === C.SOCK_DGRAM
    ? "datagram socket"
    : type === C.SOCK_SEQPACKET
    ? "seqpacket socket"
    : `socket of type ${type}`;
}

/**
 * Checks that `fd` is an open socket of `type` (and listening or not, as
 * asked), then makes it close-on-exec and non-blocking.
 *
 * @throws {TypeError} Naming what the fd is, when it is not what is asked.
 */
export function adoptSocket(
  fd: number,
  type: number,
  call: string,
  listening = false,
): number {
  const info = inspectFd(fd, call);
  if (info.kind !== "socket") {
    throw new TypeError(`${call}: fd ${fd} is a ${info.kind}, not a socket`);
  }
  const action = `${call}: cannot inspect socket fd ${fd}`;
  const actual = getIntOption(fd, C.SOL_SOCKET, C.SO_TYPE, action);
  if (actual !== type) {
    throw new TypeError(
      `${call}: fd ${fd} is a ${socketTypeName(actual)}, not a ${
        socketTypeName(type)
      }`,
    );
  }
  if (type === C.SOCK_STREAM) {
    const accepting =
      getIntOption(fd, C.SOL_SOCKET, C.SO_ACCEPTCONN, action) !==
        0;
    if (accepting !== listening) {
      throw new TypeError(
        `${call}: fd ${fd} is a ${
          accepting ? "listening" : "connected"
        } stream socket, not a ${listening ? "listening" : "connected"} one`,
      );
    }
  }
  setCloseOnExec(fd);
  setNonBlocking(fd, true);
  return fd;
}
