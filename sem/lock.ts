// Copyright 2026 the posix-ipc authors. MIT license.

import { C, E } from "../_ffi/constants.ts";
import { cString, toPath } from "../_ffi/cstring.ts";
import { lastError, osError } from "../_ffi/errno.ts";
import { closeFd, fstat } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { deadlineOf, delay } from "../_ffi/poll.ts";
import { checkModeBits, checkTimeout } from "../_ffi/names.ts";

/**
 * Options of {@linkcode Lock.open}.
 *
 * @example Only an existing lock file
 * ```ts
 * import { Lock, type LockOpenOptions } from "@posix/ipc/sem";
 * import { assertThrows } from "@std/assert";
 *
 * const options: LockOpenOptions = { create: false };
 * const dir = Deno.makeTempDirSync();
 * assertThrows(() => Lock.open(`${dir}/missing.lock`, options), Deno.errors.NotFound);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface LockOpenOptions {
  /** Create the lock file if missing. Default true. */
  create?: boolean;
  /** Permission bits of a created lock file. Default `0o600`. */
  mode?: number;
}

/**
 * Options of {@linkcode Lock.acquire}.
 *
 * @example A shared lock, with a timeout
 * ```ts
 * import { Lock, type LockAcquireOptions } from "@posix/ipc/sem";
 * import { assert } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * using lock = Lock.open(`${dir}/data.lock`);
 * const options: LockAcquireOptions = { shared: true, timeout: 1000 };
 * using _held = await lock.acquire(options);
 * assert(lock.held);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface LockAcquireOptions {
  /** Aborting rejects with the signal's reason; the lock is not taken. */
  signal?: AbortSignal;
  /** Milliseconds; then `Deno.errors.TimedOut`. */
  timeout?: number;
  /** Take a shared (reader) lock instead of an exclusive one. Default false. */
  shared?: boolean;
}

/**
 * A held {@linkcode Lock}: disposing it unlocks.
 *
 * @example Unlock early
 * ```ts
 * import { Lock, type LockGuard } from "@posix/ipc/sem";
 * import { assert } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * using lock = Lock.open(`${dir}/app.lock`);
 * const guard: LockGuard = await lock.acquire();
 * guard.release();
 * assert(!lock.held);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface LockGuard extends Disposable {
  /** Unlocks (once; later calls do nothing). */
  release(): void;
}

let newLock: (fd: number, path: string) => Lock;

/**
 * A cross-process lock that **the kernel releases when its holder dies**:
 * `flock(2)` on a lock file. Use it for mutual exclusion where a named
 * semaphore would stay taken forever if its holder were killed. Same shape
 * as `Semaphore.acquire()`: `using _lock = await lock.acquire()`.
 *
 * Each `Lock.open` is its own open file description, so two handles — in one
 * process or in two — exclude each other. Waiting polls `flock(LOCK_NB)` on
 * a capped backoff (1 to 32 ms): no thread is parked, and an abort is
 * immediate; a waiter notices a release within about 32 ms.
 *
 * Locks are advisory: they bind only processes that use them. On NFS,
 * `flock` may be emulated with `fcntl` locks.
 *
 * System calls: `open(O_CREAT | O_CLOEXEC)`, `flock`, `close`.
 *
 * @example Only one holder at a time
 * ```ts
 * import { Lock } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/app.lock`;
 * using a = Lock.open(path);
 * using b = Lock.open(path);
 * {
 *   using _held = await a.acquire();
 *   assertEquals(b.tryAcquire(), null); // a holds it
 * }
 * using _now = b.tryAcquire()!; // released when a's block ended
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class Lock implements Disposable {
  #fd: number;
  #held = false;
  #queue: Promise<void> = Promise.resolve();
  /** The lock file's path. */
  readonly path: string;

  static {
    newLock = (fd, path) => new Lock(fd, path);
  }

  private constructor(fd: number, path: string) {
    this.#fd = fd;
    this.path = path;
  }

  /**
   * Opens (and by default creates) a lock file.
   *
   * @param path The lock file.
   * @param options Creation and mode.
   * @returns The lock handle (not yet locked).
   * @throws {Deno.errors.NotFound} If the file is missing and `create` is false.
   * @throws {TypeError} If the path is a directory or another non-file.
   */
  static open(path: string | URL, options: LockOpenOptions = {}): Lock {
    const call = "Lock.open()";
    const p = toPath(path, call);
    const mode = checkModeBits(options.mode, call) ?? 0o600;
    const create = options.create ?? true;
    const fd = libc().open(
      cString(p),
      C.O_RDWR | C.O_CLOEXEC | (create ? C.O_CREAT : 0),
      mode,
    );
    if (fd === -1) {
      throw lastError(`Cannot open lock file ${JSON.stringify(p)}`);
    }
    const kind = fstat(fd).kind;
    if (kind !== "file") {
      closeFd(fd);
      throw new TypeError(
        `${call}: ${JSON.stringify(p)} is a ${kind}, not a regular file`,
      );
    }
    return newLock(fd, p);
  }

  /** Whether this handle holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  #use(action: string): number {
    if (this.#fd < 0) {
      throw new Deno.errors.BadResource(
        `${action}: the lock ${JSON.stringify(this.path)} is closed`,
      );
    }
    return this.#fd;
  }

  #try(shared: boolean, action: string): boolean {
    const fd = this.#use(action);
    if (libc().flock(fd, (shared ? C.LOCK_SH : C.LOCK_EX) | C.LOCK_NB) === 0) {
      return true;
    }
    const code = errno();
    if (code === E.EAGAIN || code === E.EINTR) return false;
    throw osError(code, `${action}: ${JSON.stringify(this.path)}`);
  }

  #guard(): LockGuard {
    this.#held = true;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#held = false;
      if (this.#fd >= 0) libc().flock(this.#fd, C.LOCK_UN);
    };
    return { release, [Symbol.dispose]: release };
  }

  /**
   * Takes the lock if it is free, without waiting.
   *
   * @param options `shared` for a reader lock.
   * @returns The guard, or null if another handle holds it (or this one does).
   */
  tryAcquire(options: { shared?: boolean } = {}): LockGuard | null {
    if (this.#held) {
      this.#use("Lock.tryAcquire()");
      return null;
    }
    return this.#try(options.shared === true, "Lock.tryAcquire()")
      ? this.#guard()
      : null;
  }

  /**
   * Waits for the lock and takes it. Waiters of one handle are served in
   * order (a handle holds the lock at most once).
   *
   * @param options Abort signal, timeout, shared.
   * @returns The guard; dispose it (or call `release()`) to unlock.
   * @throws {Deno.errors.TimedOut} If `timeout` elapsed first.
   * @throws {Deno.errors.BadResource} If the handle is closed.
   */
  acquire(options: LockAcquireOptions = {}): Promise<LockGuard> {
    const call = "Lock.acquire()";
    const { signal, timeout, shared = false } = options;
    try {
      checkTimeout(timeout, call);
    } catch (error) {
      return Promise.reject(error);
    }
    const deadline = deadlineOf(timeout);
    const run = async (): Promise<LockGuard> => {
      let backoff = 1;
      for (;;) {
        signal?.throwIfAborted();
        while (this.#held) await delay(1, signal);
        if (this.#try(shared, call)) return this.#guard();
        const left = deadline - performance.now();
        if (left <= 0) {
          throw new Deno.errors.TimedOut(
            `${call}: ${
              JSON.stringify(this.path)
            } stayed locked for ${timeout} ms`,
          );
        }
        await delay(Math.min(backoff, left), signal);
        backoff = Math.min(backoff * 2, 32);
      }
    };
    const result = this.#queue.then(run);
    this.#queue = result.then(() => {}, () => {});
    return result;
  }

  /** Closes the lock file; a held lock is released. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    closeFd(this.#fd);
    this.#fd = -1;
    this.#held = false;
  }

  /** Same as {@linkcode Lock.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
