// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * POSIX shared memory: segments seen as zero-copy `ArrayBuffer`s, and
 * {@linkcode ShmChannel}, a stream between two processes over a ring buffer
 * in shared memory.
 *
 * Shared memory is the fastest IPC there is: both processes map the same
 * physical pages, so data moves with no system call and no kernel copy. It
 * has no synchronization of its own: use `Atomics` on the buffer (they work
 * across processes), a named `Semaphore`, or `ShmChannel`, which does it for
 * you. Segments live in `/dev/shm` until unlinked, even when no process has
 * them open: unlink once, from one process (or create with `unlinkOnClose`).
 *
 * When not to use: for small, infrequent messages a socket is simpler and
 * fast enough; across machines, it does not exist.
 *
 * System calls: `shm_open`, `ftruncate`, `fchmod`, `fstat`, `mmap`, `munmap`,
 * `shm_unlink`, `memfd_create`, `open` (mapped files), `futex` (channel
 * waits), `kill(pid, 0)` (channel peer checks).
 *
 * Linux vs macOS: macOS has `shm_open` but no `memfd_create` and no futex:
 * `SharedMemory.anonymous()` and `ShmChannel` report `NotSupported` there.
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
