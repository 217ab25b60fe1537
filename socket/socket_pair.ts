// Copyright 2026 the posix-ipc authors. MIT license.

import { C } from "../_ffi/constants.ts";
import { unixSocketPair } from "../_ffi/socket.ts";
import { type SocketEnd, socketEnd } from "./socket_end.ts";

/**
 * Creates a pair of connected `AF_UNIX` stream sockets: a private two-way
 * channel, like Node's IPC channel but language-neutral. Keep one end and
 * give the other to a child with `spawn(…, { fds: { 3: end } })`; the child
 * adopts it (`SocketEnd.fromFd(3)` in Deno, or fd 3 in any language).
 *
 * System calls: `socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)`,
 * `recv`/`send` (`MSG_DONTWAIT`), `shutdown`, `sendmsg`/`recvmsg`
 * (`SCM_RIGHTS`), `getsockopt(SO_PEERCRED)`.
 *
 * @returns Two connected ends.
 *
 * @example Pass a pipe's read end through a socket pair
 * ```ts
 * import { socketPair } from "@posix/ipc/socket";
 * import { pipe, PipeReader } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const [here, there] = socketPair();
 * const { reader, writer } = pipe();
 * await here.sendFds(new Uint8Array([1]), [reader]);
 * reader.close();
 * const got = await there.receiveFds();
 * using received = PipeReader.fromFd(got!.fds[0]!);
 * const w = writer.writable.getWriter();
 * await w.write(new TextEncoder().encode("via SCM_RIGHTS"));
 * await w.close();
 * assertEquals(await new Response(received.readable).text(), "via SCM_RIGHTS");
 * here.close();
 * there.close();
 * ```
 */
export function socketPair(): [SocketEnd, SocketEnd] {
  const [a, b] = unixSocketPair(C.SOCK_STREAM, "socketPair()");
  return [socketEnd(a), socketEnd(b)];
}
