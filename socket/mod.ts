// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * Sockets: Unix and TCP streams with path hygiene and descriptors you can
 * hand to workers, message framing, socket pairs for children, Unix
 * datagrams, descriptor passing, peer identity and socket activation.
 *
 * Sockets are the workhorse of local IPC (Docker, D-Bus, PostgreSQL): two-way,
 * many clients, any language. Every connection here is a {@linkcode SocketEnd}
 * — from {@linkcode socketPair}, a listener's `accept()`, {@linkcode connect}
 * or an adopted fd — with `fd`, `read`/`write`, Web Streams, `closeWrite()`,
 * and on Unix sockets `peerCredentials()` and `sendFds()`/`receiveFds()`.
 *
 * | You need | Use |
 * | --- | --- |
 * | a `Deno.Conn` for another Deno API (TLS, HTTP) | `Deno.listen` / `Deno.connect` |
 * | a listener workers can share (`fd`), the peer's uid/pid, fd passing, a socket file created with its mode | {@linkcode listen} / {@linkcode connect} |
 * | a private channel to one child | {@linkcode socketPair} |
 * | sockets a service manager passed (systemd, `spawn(…, { listenFds })`) | {@linkcode listenFds} |
 * | whole messages over any of these | {@linkcode framed} |
 * | messages with boundaries, no connection | {@linkcode UnixDatagram} |
 *
 * Unix socket paths may be Linux abstract names, spelled with a leading NUL
 * (`"\0my-service"`, as Node and Python spell them): no file, nothing to
 * clean up.
 *
 * When not to use: for bulk data between two processes on one machine,
 * shared memory is faster; for a child's stdout, a pipe is simpler.
 *
 * System calls: `socket`, `fchmod` + `bind`, `listen`,
 * `accept4`, `connect`, `recv`/`send` (`MSG_DONTWAIT`), `shutdown`,
 * `sendmsg`/`recvmsg`, `getsockopt`, `flock`, `unlinkat`, `getaddrinfo`.
 *
 * Linux vs macOS: `SO_PEERCRED` and abstract names are Linux-only
 * (`NotSupported` on macOS); socket paths are limited to 107 bytes on
 * Linux, 103 on macOS.
 *
 * Permissions: `--allow-ffi` (which, in practice, grants everything).
 *
 * @example A framed request/response over a Unix socket
 * ```ts
 * import { connect, framed, listen } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/api.sock`;
 * using listener = listen({ path, mode: 0o600 });
 * const serving = (async () => {
 *   const conn = await listener.accept();
 *   const { readable, writable } = framed(conn);
 *   const replies = writable.getWriter();
 *   for await (const request of readable) await replies.write(request.reverse());
 *   await replies.close();
 * })();
 * const client = framed(await connect({ path }));
 * const requests = client.writable.getWriter();
 * await requests.write(new Uint8Array([1, 2, 3]));
 * await requests.close();
 * const [reply] = await Array.fromAsync(client.readable);
 * assertEquals(reply, new Uint8Array([3, 2, 1]));
 * await serving;
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  listen,
  type ListenOptions,
  SocketListener,
  type TcpListenOptions,
  type UnixListenOptions,
} from "./listen.ts";
export * from "./connect.ts";
export * from "./framed.ts";
export {
  type PeerCredentials,
  type ReceivedFds,
  type ReceiveFdsOptions,
  SocketEnd,
  type WaitOptions,
} from "./socket_end.ts";
export * from "./socket_pair.ts";
export * from "./unix_datagram.ts";
export * from "./listen_fds.ts";
