// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * POSIX shared memory: segments seen as zero-copy `ArrayBuffer`s, and a
 * stream between two processes over a ring buffer in shared memory
 * ({@linkcode ShmChannelWriter} → {@linkcode ShmChannelReader}).
 *
 * Shared memory is the fastest IPC there is: both processes map the same
 * physical pages, so data moves with no system call and no kernel copy. It
 * has no synchronization of its own: use `Atomics` on the buffer (they work
 * across processes), a named `Semaphore`, or the channel ends, which do it
 * for you. Segments live in `/dev/shm` until unlinked, even when no process has
 * them open: unlink once, from one process (or create with `unlinkOnClose`).
 *
 * When not to use: for small, infrequent messages a socket is simpler and
 * fast enough; across machines, it does not exist.
 *
 * System calls (Linux): `openat` in `/dev/shm` (`O_NOFOLLOW`), `fallocate`
 * and `linkat` (a segment appears whole, with its space reserved), `fstat`,
 * `fchmod`, `mmap`, `munmap`, `unlinkat`, `memfd_create` with seals, `open`
 * (mapped files), `futex_waitv`/`futex` (channel waits), `pidfd_open`
 * (channel peer checks). macOS: `shm_open`, `ftruncate`, `shm_unlink`.
 *
 * Linux vs macOS: macOS has `shm_open` but no `memfd_create` and no futex:
 * `SharedMemory.anonymous()` and the channel ends report `NotSupported` there.
 *
 * Permissions: `--allow-ffi`.
 *
 * @example A segment shared by name
 * ```ts
 * import { SharedMemory } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using writer = SharedMemory.create(name, { size: 64, unlinkOnClose: true });
 * using reader = SharedMemory.open(name);
 * new TextEncoder().encodeInto("shared!", new Uint8Array(writer.buffer));
 * assertEquals(new TextDecoder().decode(new Uint8Array(reader.buffer, 0, 7)), "shared!");
 * ```
 *
 * @module
 */

export * from "./shared_memory.ts";
export * from "./shm_channel.ts";
