// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkBoolean,
  checkMode,
  checkOptions,
  checkPath,
  cString,
} from "../_check/mod.ts";
import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { openError, osError } from "../_ffi/errors.ts";
import { closeFd, fstat } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import {
  kickPollers,
  pollSource,
  retry,
  type Source,
} from "../_wait/engine.ts";
import { FdHandle } from "../_wait/fd_handle.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";
import { WaitQueue } from "../_wait/queue.ts";

/**
 * Options of {@linkcode Lock.open}.
 *
 * @example Create the lock file if it is missing
 * ```ts
 * import { Lock, type LockOpenOptions } from "@posix/ipc/sem";
 * import { assert } from "@std/assert";
 *
 * const options: LockOpenOptions = { create: true, mode: 0o600 };
 * const dir = Deno.makeTempDirSync();
 * using lock = Lock.open(`${dir}/app.lock`, options);
 * assert(!lock.held);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface LockOpenOptions {
  /**
   * Create the lock file if it is missing (open-or-create); an existing file
   * is opened as it is. Default false: the file must exist.
   */
  create?: boolean;
  /** Permission bits of a created lock file. Default `0o600`. */
  mode?: number;
}

/**
 * Options of {@linkcode Lock.acquire}: the `signal` and `timeout` of every
 * wait, and the kind of lock.
 *
 * @example A shared lock, with a timeout
 * ```ts
 * import { Lock, type LockAcquireOptions } from "@posix/ipc/sem";
 * import { assert } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * using lock = Lock.open(`${dir}/data.lock`, { create: true });
 * const options: LockAcquireOptions = { shared: true, timeout: 1000 };
 * using _held = await lock.acquire(options);
 * assert(lock.held);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface LockAcquireOptions extends WaitOptions {
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
 * using lock = Lock.open(`${dir}/app.lock`, { create: true });
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

let newLock: (handle: FdHandle, path: string) => Lock;

/**
 * A cross-process lock that **the kernel releases when its holder dies**:
 * `flock(2)` on a lock file. Use it for mutual exclusion where a named
 * semaphore would stay taken forever if its holder were killed. Same shape
 * as `Semaphore.acquire()`: `using _lock = await lock.acquire()`.
 *
 * Each `Lock.open` is its own open file description, so two handles — in one
 * process or in two — exclude each other; waiters of one handle are served
 * in order. The kernel does not tell a waiter when a lock is released, so a
 * waiting `acquire()` retries on a backoff schedule (1 ms doubling to 64 ms);
 * a release in this process, and (Linux) a holder closing the file or
 * exiting, wakes it at once. An abort or timeout is immediate.
 *
 * Locks are advisory: they bind only processes that use them. On NFS,
 * `flock` may be emulated with `fcntl` locks. The lock file is opened without
 * following a symbolic link, and must be a regular file.
 *
 * System calls: `open(O_NOFOLLOW | O_CLOEXEC)`, `fstat`, `flock`,
 * `inotify_add_watch` (Linux, `IN_CLOSE`), `close`.
 *
 * @example Only one holder at a time
 * ```ts
 * import { Lock } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/app.lock`;
 * using a = Lock.open(path, { create: true });
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
  #handle: FdHandle;
  #held = false;
  #waiters: WaitQueue;
  #closeWatch: FdHandle | null | undefined;
  /** The lock file's path. */
  readonly path: string;

  static {
    newLock = (handle, path) => new Lock(handle, path);
  }

  private constructor(handle: FdHandle, path: string) {
    this.#handle = handle;
    this.path = path;
    this.#waiters = new WaitQueue(handle.owner);
  }

  /**
   * Opens a lock file (with `create: true`, creates it if it is missing).
   *
   * @param path The lock file.
   * @param options Creation and mode.
   * @returns The lock handle (not yet locked).
   * @throws {Deno.errors.NotFound} If the file is missing and `create` is not set.
   * @throws {Deno.errors.InvalidData} If the path is a symbolic link, a directory or another non-file.
   *
   * @example Open an existing lock file
   * ```ts
   * import { Lock } from "@posix/ipc/sem";
   * import { assertThrows } from "@std/assert";
   *
   * const dir = Deno.makeTempDirSync();
   * assertThrows(() => Lock.open(`${dir}/missing.lock`), Deno.errors.NotFound);
   * Deno.writeTextFileSync(`${dir}/app.lock`, "");
   * Lock.open(`${dir}/app.lock`).close();
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  static open(path: string | URL, options?: LockOpenOptions): Lock {
    const call = "Lock.open()";
    const p = checkPath(path, call);
    const o = checkOptions(options, call);
    const create = checkBoolean(o.create, "create", call) ?? false;
    const mode = checkMode(o.mode, call) ?? 0o600;
    const label = `lock file ${JSON.stringify(p)}`;
    // O_NOFOLLOW: a symlink planted by another user is not followed;
    // O_NONBLOCK: a FIFO planted there does not block the open.
    const fd = libc().open(
      cString(p, call, "path"),
      C.O_RDWR | C.O_CLOEXEC | C.O_NOFOLLOW | C.O_NONBLOCK |
        (create ? C.O_CREAT : 0),
      mode,
    );
    if (fd === -1) throw openError(errno(), call, label);
    try {
      const kind = fstat(fd, call, label).kind;
      if (kind !== "file") {
        throw new Deno.errors.InvalidData(
          `${call}: ${label} is a ${kind}, not a regular file`,
        );
      }
    } catch (error) {
      closeFd(fd);
      throw error;
    }
    return newLock(new FdHandle(fd, label), p);
  }

  /** Whether this handle holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  #try(shared: boolean, call: string): boolean {
    const fd = this.#handle.use(call);
    if (libc().flock(fd, (shared ? C.LOCK_SH : C.LOCK_EX) | C.LOCK_NB) === 0) {
      return true;
    }
    const code = errno();
    if (code === E.EAGAIN || code === E.EINTR) return false;
    throw osError(code, call, `cannot lock ${this.#handle.label}`);
  }

  #guard(): LockGuard {
    this.#held = true;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#held = false;
      if (!this.#handle.closed) libc().flock(this.#handle.fd, C.LOCK_UN);
      kickPollers(); // other handles of this process retry now
    };
    return { release, [Symbol.dispose]: release };
  }

  /**
   * Takes the lock if it is free, without waiting.
   *
   * @param options `shared` for a reader lock.
   * @returns The guard, or null if another handle holds it (or this one does).
   * @throws {Deno.errors.BadResource} If the handle is closed.
   *
   * @example Try, and do something else if it is taken
   * ```ts
   * import { Lock } from "@posix/ipc/sem";
   * import { assert } from "@std/assert";
   *
   * const dir = Deno.makeTempDirSync();
   * using lock = Lock.open(`${dir}/job.lock`, { create: true });
   * using guard = lock.tryAcquire();
   * assert(guard !== null);
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  tryAcquire(options?: { shared?: boolean }): LockGuard | null {
    const call = "Lock.tryAcquire()";
    const o = checkOptions(options, call);
    const shared = checkBoolean(o.shared, "shared", call) ?? false;
    this.#handle.use(call);
    if (this.#held || this.#waiters.size > 0) return null;
    return this.#try(shared, call) ? this.#guard() : null;
  }

  /**
   * Waits for the lock and takes it. Waiters of one handle are served in
   * order (a handle holds the lock at most once at a time).
   *
   * @param options Abort signal, timeout, shared.
   * @returns The guard; dispose it (or call `release()`) to unlock.
   * @throws {Deno.errors.TimedOut} If `timeout` elapsed first (the lock is not taken).
   * @throws {Deno.errors.BadResource} If the handle is (or gets) closed.
   *
   * @example Wait for another handle's release
   * ```ts
   * import { Lock } from "@posix/ipc/sem";
   * import { assert } from "@std/assert";
   *
   * const dir = Deno.makeTempDirSync();
   * using a = Lock.open(`${dir}/app.lock`, { create: true });
   * using b = Lock.open(`${dir}/app.lock`);
   * const held = await a.acquire();
   * setTimeout(() => held.release(), 10);
   * using _mine = await b.acquire({ timeout: 5000 });
   * assert(b.held);
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  acquire(options?: LockAcquireOptions): Promise<LockGuard> {
    const call = "Lock.acquire()";
    let shared: boolean;
    let until;
    try {
      const o = checkOptions(options, call);
      shared = checkBoolean(o.shared, "shared", call) ?? false;
      until = untilOf(o, call);
      this.#handle.use(call);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#waiters.run(
      call,
      "stayed locked",
      until,
      () =>
        retry(
          this.#handle.owner,
          call,
          "stayed locked",
          this.#sources(shared, call),
          until,
          () => {
            this.#drainCloses();
            return !this.#held && this.#try(shared, call)
              ? this.#guard()
              : undefined;
          },
        ),
      (guard) => guard.release(), // given up meanwhile: unlock again
    );
  }

  /** What a waiting acquire watches: a retry schedule, and closes of the file. */
  #sources(shared: boolean, call: string): Source[] {
    const sources: Source[] = [
      pollSource(() =>
        !this.#held && this.#handle.fd >= 0 && this.#peek(shared, call)
      ),
    ];
    const watch = this.#watchCloses();
    if (watch) sources.push(watch.source(C.POLLIN));
    return sources;
  }

  /** Whether the lock could be taken now (takes and releases it at once). */
  #peek(shared: boolean, call: string): boolean {
    if (!this.#try(shared, call)) return false;
    libc().flock(this.#handle.fd, C.LOCK_UN);
    return true;
  }

  /** An inotify fd reporting closes of the lock file (a holder exiting). */
  #watchCloses(): FdHandle | null {
    if (this.#closeWatch !== undefined) return this.#closeWatch;
    const lib = libc();
    this.#closeWatch = null;
    if (!IS_LINUX || !lib.inotify_init1 || !lib.inotify_add_watch) return null;
    const fd = lib.inotify_init1(C.IN_NONBLOCK | C.IN_CLOEXEC);
    if (fd === -1) return null;
    const IN_CLOSE = 0x18; // IN_CLOSE_WRITE | IN_CLOSE_NOWRITE
    if (
      lib.inotify_add_watch(
        fd,
        cString(`/proc/self/fd/${this.#handle.fd}`),
        IN_CLOSE,
      ) === -1
    ) {
      closeFd(fd);
      return null;
    }
    return this.#closeWatch = new FdHandle(
      fd,
      `close watch of ${this.#handle.label}`,
    );
  }

  #drainCloses(): void {
    const watch = this.#closeWatch;
    if (!watch) return;
    const buffer = new Uint8Array(4096);
    while (watch.tryRead(buffer, "Lock.acquire()") > 0) {
      // the events only say "try again"
    }
  }

  /** Closes the lock file; a held lock is released, waiters fail with `BadResource`. Idempotent. */
  close(): void {
    if (this.#handle.closed) return;
    this.#waiters.close("Lock.acquire()");
    this.#closeWatch?.close();
    this.#handle.close();
    this.#held = false;
    kickPollers();
  }

  /** Same as {@linkcode Lock.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
