// Copyright 2026 the posix-ipc authors. MIT license.
// The options of every call that creates a named object, defined once.

/**
 * What a handle removes when it goes away: the same two options, with the
 * same meaning, for every kind of named object (shared memory, channels,
 * semaphores, message queues, socket files, FIFOs).
 *
 * Both apply only to an object **this handle created**: a handle that opened
 * an existing object (or adopted an fd) never removes anything. Before
 * removing, the name is checked to still refer to this very object (device
 * and inode), so a newer object that took the name is left alone.
 *
 * @example A segment that disappears with its creator
 * ```ts
 * import { SharedMemory, type UnlinkOptions } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const cleanup: UnlinkOptions = { unlinkOnClose: true, unlinkOnExit: true };
 * {
 *   using _shm = SharedMemory.create(name, { size: 4096, ...cleanup });
 * }
 * assertEquals(Deno.statSync("/dev/shm").isDirectory, true);
 * let found = true;
 * try { Deno.statSync(`/dev/shm${name}`); } catch { found = false; }
 * assertEquals(found, false);
 * ```
 */
export interface UnlinkOptions {
  /** `close()` (and `using`) also removes the name. Default false. */
  unlinkOnClose?: boolean;
  /**
   * Remove the name when this process exits: normally, on `Deno.exit()`, on
   * an uncaught exception or unhandled rejection, and on SIGINT, SIGTERM or
   * SIGHUP (the process then exits with 128 + the signal number, unless it
   * listens for that signal through this package's `signals()`,
   * `nextSignal()` or `onShutdown()`). A process killed with SIGKILL cannot
   * clean up: `ipc rm --stale` finds what it left. Default false.
   */
  unlinkOnExit?: boolean;
}
