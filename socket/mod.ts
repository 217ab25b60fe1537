// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * Sockets: Unix and TCP streams with path hygiene, message framing, socket
 * pairs for children, Unix datagrams, descriptor passing and peer identity.
 *
 * Sockets are the workhorse of local IPC (Docker, D-Bus, PostgreSQL): two-way,
 * many clients, any language. Deno already has `Deno.listen`/`Deno.connect`;
 * this module builds on them and adds what is missing:
 *
 * - {@linkcode listen}/{@linkcode connect}: stale Unix socket files are
 *   replaced, live ones refused (`AddrInUse`), `mode` applied, the file
 *   removed on close; `connect` takes `signal` and `timeout`.
 * - {@linkcode framed}: whole messages over any byte stream, in a documented
 *   length-prefixed format other languages can speak.
 * - {@linkcode socketPair}: a private two-way channel to give a child as fd
 *   3, with half-close, `SCM_RIGHTS` descriptor passing (`sendFds`/
 *   `receiveFds`) and `peerCredentials()` (`SO_PEERCRED`).
 * - {@linkcode UnixDatagram}: `AF_UNIX` datagrams without `--unstable-net`;
 *   boundaries kept, never truncated silently, descriptors allowed.
 *
 * When not to use: for bulk data between two processes on one machine,
 * shared memory is faster; for a child's stdout, a pipe is simpler.
 *
 * System calls: `Deno.listen`/`Deno.connect` for streams; `socketpair`,
 * `socket`, `bind`, `connect`, `shutdown`, `sendmsg`/`recvmsg`,
 * `getsockopt`, `poll` for the FFI sockets.
 *
 * Linux vs macOS: `SO_PEERCRED` is Linux-only (macOS has `LOCAL_PEERCRED`,
 * not wrapped: `NotSupported`); socket paths are limited to 107 bytes on
 * Linux, 103 on macOS.
 *
 * Permissions: `--allow-ffi`; `--allow-read`/`--allow-write` for Unix paths
 * with `listen`/`connect`; `--allow-net` for TCP.
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

export * from "./listen.ts";
export * from "./connect.ts";
export * from "./framed.ts";
export * from "./socket_pair.ts";
export * from "./unix_datagram.ts";
export * from "./listen_fds.ts";
