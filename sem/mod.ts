// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * POSIX named semaphores, and a kernel-released cross-process lock.
 *
 * A semaphore is a counter shared by processes: `wait()` decrements it (and
 * waits while it is 0), `post()` increments it. With an initial value of 1 it
 * is a mutex around shared memory; with 0 it is a signal from one process to
 * another. {@linkcode Semaphore} waits never block the event loop and never
 * swallow a post after a timeout or an abort.
 *
 * A semaphore's count is not given back when a holder dies (the kernel does
 * not undo it). Where that matters, use {@linkcode Lock}: an `flock(2)` lock
 * the kernel releases with its holder's last descriptor.
 *
 * When not to use: to move data, use a pipe, a socket or `ShmChannel`; a
 * semaphore carries no data.
 *
 * System calls: `sem_open`, `sem_trywait`, `sem_timedwait`, `sem_post`,
 * `sem_getvalue`, `sem_close`, `sem_unlink` (glibc keeps a named semaphore in
 * `/dev/shm/sem.NAME`); `open`, `flock` for `Lock`.
 *
 * Linux vs macOS: macOS lacks `sem_timedwait` and `sem_getvalue`: waits poll
 * `sem_trywait` on a 1–50 ms backoff there, and `value` throws
 * `NotSupported`.
 *
 * Permissions: `--allow-ffi`.
 *
 * @example The classic race, fixed
 * ```ts
 * import { Semaphore } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using mutex = Semaphore.open(name, { create: true, initial: 1, unlinkOnClose: true });
 * let counter = 0;
 * await Promise.all(Array.from({ length: 10 }, async () => {
 *   using _lock = await mutex.acquire();
 *   const seen = counter;
 *   await new Promise((r) => setTimeout(r, 1)); // a read-modify-write with a gap
 *   counter = seen + 1;
 * }));
 * assertEquals(counter, 10);
 * ```
 *
 * @module
 */

export * from "./semaphore.ts";
export * from "./lock.ts";
