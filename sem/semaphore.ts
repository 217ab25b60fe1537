// Copyright 2026 the posix-ipc authors. MIT license.

import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { cString, describe } from "../_ffi/cstring.ts";
import { lastError, osError } from "../_ffi/errno.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { checkModeBits, checkTimeout, posixName } from "../_ffi/names.ts";
import { unlinkAtExit } from "../_ffi/shutdown.ts";

/**
 * Options of {@linkcode Semaphore.open}.
 *
 * @example A counting semaphore for 3 slots
 * ```ts
 * import { Semaphore, type SemaphoreOpenOptions } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: SemaphoreOpenOptions = { create: true, exclusive: true, initial: 3, mode: 0o600, unlinkOnClose: true };
 * using slots = Semaphore.open(name, options);
 * assertEquals(slots.value, 3);
 * ```
 */
export interface SemaphoreOpenOptions {
  /** Create the semaphore if it does not exist. Default false. */
  create?: boolean;
  /** With `create`: fail with `AlreadyExists` if it exists. Default false. */
  exclusive?: boolean;
  /** Initial value of a created semaphore (0 to `SEM_VALUE_MAX`). Default 0. */
  initial?: number;
  /** Permission bits of a created semaphore, applied exactly. Default `0o600`. */
  mode?: number;
  /** `close()` (and `using`) also unlinks the name. Default false. */
  unlinkOnClose?: boolean;
  /**
   * With `create`: unlink the name when this process exits — normally, or on SIGINT/SIGTERM
   * (which then run this cleanup and exit with 128 + the signal number, as
   * `onShutdown` does) — unless it was unlinked already. A process killed
   * with SIGKILL cannot clean up: `ipc rm --stale` finds what it left.
   * Default false.
   */
  unlinkOnExit?: boolean;
}

/**
 * Options of {@linkcode Semaphore.wait}.
 *
 * @example Wait at most 10 ms
 * ```ts
 * import { Semaphore, type SemaphoreWaitOptions } from "@posix/ipc/sem";
 * import { assertRejects } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using sem = Semaphore.open(name, { create: true, unlinkOnClose: true });
 * const options: SemaphoreWaitOptions = { timeout: 10 };
 * await assertRejects(() => sem.wait(options), Deno.errors.TimedOut);
 * ```
 */
export interface SemaphoreWaitOptions {
  /** Aborting rejects with the signal's reason; nothing is consumed. */
  signal?: AbortSignal;
  /** Milliseconds; then `Deno.errors.TimedOut`, nothing consumed. */
  timeout?: number;
}

/**
 * What {@linkcode Semaphore.acquire} returns: posts once when disposed.
 *
 * @example Release early
 * ```ts
 * import { Semaphore, type SemaphoreGuard } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using mutex = Semaphore.open(name, { create: true, initial: 1, unlinkOnClose: true });
 * const guard: SemaphoreGuard = await mutex.acquire();
 * guard.release(); // posts now; the later dispose does nothing
 * assertEquals(mutex.value, 1);
 * ```
 */
export interface SemaphoreGuard extends Disposable {
  /** Posts the semaphore (once; later calls do nothing). */
  release(): void;
}

/**
 * The largest value a semaphore can hold on this system.
 *
 * @example The largest value
 * ```ts
 * import { SEM_VALUE_MAX } from "@posix/ipc/sem";
 * import { assert } from "@std/assert";
 *
 * assert(SEM_VALUE_MAX >= 32767);
 * ```
 */
export const SEM_VALUE_MAX: number = C.SEM_VALUE_MAX;

/**
 * Most pool threads parked in `sem_timedwait` at once, across all semaphores of this process.
 *
 * @example The thread budget of waits
 * ```ts
 * import { MAX_PARKED_THREADS } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(MAX_PARKED_THREADS, 8);
 * ```
 */
export const MAX_PARKED_THREADS = 8;
/** Length of one `sem_timedwait` slice. */
const SLICE_MS = 50;
/** Spin on `sem_trywait` this long before parking a thread. */
const SPIN_MS = 0.05;

let parkedThreads = 0;
const waitingForSlot = new Set<() => void>();

function releaseSlot(): void {
  parkedThreads--;
  // Offer free slots until they are taken: a semaphore offered one may find
  // its post already there and not need it.
  while (parkedThreads < MAX_PARKED_THREADS && waitingForSlot.size > 0) {
    const next = waitingForSlot.values().next().value!;
    waitingForSlot.delete(next);
    next();
  }
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  settled: boolean;
  cleanup: () => void;
}

let newSemaphore: (
  sem: Deno.PointerObject,
  name: string,
  unlinkOnClose: boolean,
) => Semaphore;

/**
 * A POSIX named semaphore: a counter shared by processes, for mutual
 * exclusion (initial 1, `using _ = await sem.acquire()`) or counting
 * resources and signalling (post on one side, wait on the other).
 *
 * Waiting never blocks the event loop, and **an aborted or timed-out wait
 * never consumes a later post**: a wait first spins briefly on
 * `sem_trywait` (a user-space atomic), then one pool thread per handle waits
 * in `sem_timedwait` slices of 50 ms; a post it takes for a waiter that has
 * given up is posted back at once. At most {@linkcode MAX_PARKED_THREADS}
 * threads are parked per process; further waiters queue in JavaScript.
 *
 * A holder that dies keeps its count: the kernel does not undo semaphore
 * operations. For a lock that is released when its holder dies, use `Lock`.
 *
 * Linux vs macOS: macOS has neither `sem_timedwait` nor `sem_getvalue`
 * (and unnamed semaphores); there, waiting polls `sem_trywait` on a capped
 * 1–50 ms backoff (no thread is parked) and `value` throws `NotSupported`.
 *
 * @example Guard a critical section
 * ```ts
 * import { Semaphore } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using mutex = Semaphore.open(name, { create: true, initial: 1, unlinkOnClose: true });
 * {
 *   using _lock = await mutex.acquire();
 *   assertEquals(mutex.value, 0); // held
 * }
 * assertEquals(mutex.value, 1); // released when the block ended
 * ```
 */
export class Semaphore implements Disposable {
  #sem: Deno.PointerObject | null;
  #closing = false;
  #parked = false;
  #polls = 0;
  #queue: Waiter[] = [];
  #unlinkOnClose: boolean;
  #forgetExit: (() => void) | undefined;
  /** The POSIX name. */
  readonly name: string;

  static {
    newSemaphore = (sem, name, unlinkOnClose) =>
      new Semaphore(sem, name, unlinkOnClose);
  }

  private constructor(
    sem: Deno.PointerObject,
    name: string,
    unlinkOnClose: boolean,
  ) {
    this.#sem = sem;
    this.name = name;
    this.#unlinkOnClose = unlinkOnClose;
  }

  /**
   * Opens (or creates) a named semaphore.
   *
   * System calls: `sem_open` (glibc: `open` + `mmap` of `/dev/shm/sem.NAME`),
   * `chmod` of that file for an exact `mode`.
   *
   * @param name A POSIX name: `/` then up to 250 bytes without `/`.
   * @param options Creation, initial value, mode.
   * @returns The semaphore.
   * @throws {TypeError} If the name is not a valid POSIX name.
   * @throws {RangeError} If `initial` is not an integer from 0 to `SEM_VALUE_MAX`.
   * @throws {Deno.errors.NotFound} If it does not exist and `create` is not set.
   * @throws {Deno.errors.AlreadyExists} If `exclusive` and it exists.
   *
   * @example Create exclusively, post, wait with a timeout
   * ```ts
   * import { Semaphore } from "@posix/ipc/sem";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using ready = Semaphore.open(name, { create: true, exclusive: true });
   * ready.post(); // another process would do this
   * await ready.wait({ timeout: 1000 });
   * assertEquals(ready.value, 0);
   * ready.unlink();
   * ```
   */
  static open(name: string, options: SemaphoreOpenOptions = {}): Semaphore {
    const call = "Semaphore.open()";
    const cname = posixName(name, call, 251);
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `${call}: options must be an object, got ${describe(options)}`,
      );
    }
    const { create = false, exclusive = false, initial = 0 } = options;
    if (
      !Number.isInteger(initial) || initial < 0 || initial > C.SEM_VALUE_MAX
    ) {
      throw new RangeError(
        `${call}: initial must be an integer from 0 to ${C.SEM_VALUE_MAX} (SEM_VALUE_MAX), got ${
          describe(initial)
        }`,
      );
    }
    const mode = checkModeBits(options.mode, call) ?? 0o600;
    if (exclusive && !create) {
      throw new TypeError(`${call}: exclusive needs create`);
    }
    const lib = libc();
    const action = `Cannot open semaphore ${JSON.stringify(name)}`;
    const failed = (p: Deno.PointerValue) =>
      p === null || BigInt(Deno.UnsafePointer.value(p)) === C.SEM_FAILED;
    let sem: Deno.PointerValue = null;
    let created = false;
    if (create) {
      sem = lib.sem_open(cname, C.O_CREAT | C.O_EXCL, mode, initial);
      created = !failed(sem);
      if (!created && (exclusive || errno() !== E.EEXIST)) {
        throw lastError(action);
      }
    }
    if (!created) {
      sem = lib.sem_open(cname, 0, 0, 0);
      if (failed(sem)) throw lastError(action);
    }
    if (created && IS_LINUX) {
      // sem_open applied the umask; the mode asked for is applied exactly.
      lib.chmod(cString(`/dev/shm/sem.${name.slice(1)}`), mode);
    }
    const semaphore = newSemaphore(sem!, name, options.unlinkOnClose === true);
    if (create && options.unlinkOnExit) {
      semaphore.#forgetExit = unlinkAtExit(
        IS_LINUX ? `/dev/shm/sem.${name.slice(1)}` : null,
        () => libc().sem_unlink(cname),
      );
    }
    return semaphore;
  }

  /**
   * Removes a named semaphore. Processes that have it open keep using it;
   * it is destroyed when the last one closes it. Unlink once.
   *
   * @param name The POSIX name.
   * @throws {Deno.errors.NotFound} If it does not exist.
   */
  static unlink(name: string): void {
    const cname = posixName(name, "Semaphore.unlink()", 251);
    if (libc().sem_unlink(cname) === -1) {
      throw lastError(`Cannot unlink semaphore ${JSON.stringify(name)}`);
    }
  }

  #handle(action: string): Deno.PointerObject {
    if (!this.#sem || this.#closing) {
      throw new Deno.errors.BadResource(
        `${action}: the semaphore ${JSON.stringify(this.name)} is closed`,
      );
    }
    return this.#sem;
  }

  /**
   * Decrements the semaphore if it is positive, without waiting.
   *
   * @returns True if it was decremented, false if it was 0.
   */
  tryWait(): boolean {
    const sem = this.#handle("Semaphore.tryWait()");
    if (libc().sem_trywait(sem) === 0) return true;
    const code = errno();
    if (code === E.EAGAIN || code === E.EINTR) return false;
    throw osError(code, `Semaphore.tryWait(): ${JSON.stringify(this.name)}`);
  }

  /**
   * Increments the semaphore, waking one waiter (in any process).
   *
   * @throws {RangeError} If the value would exceed `SEM_VALUE_MAX`.
   */
  post(): void {
    const sem = this.#handle("Semaphore.post()");
    if (libc().sem_post(sem) === -1) {
      const code = errno();
      if (code === E.EOVERFLOW) {
        throw new RangeError(
          `Semaphore.post(): ${
            JSON.stringify(this.name)
          } is at SEM_VALUE_MAX (${C.SEM_VALUE_MAX})`,
        );
      }
      throw osError(code, `Semaphore.post(): ${JSON.stringify(this.name)}`);
    }
  }

  /**
   * The current value (`sem_getvalue`): a snapshot, already stale when read
   * if other processes use the semaphore.
   *
   * @throws {Deno.errors.NotSupported} On macOS.
   */
  get value(): number {
    const sem = this.#handle("Semaphore.value");
    if (!IS_LINUX) {
      throw new Deno.errors.NotSupported(
        "Semaphore.value: sem_getvalue is not available on macOS",
      );
    }
    const out = new Int32Array(1);
    if (libc().sem_getvalue(sem, out) === -1) {
      throw lastError(`Semaphore.value: ${JSON.stringify(this.name)}`);
    }
    return Math.max(0, out[0]!);
  }

  /**
   * Waits until the semaphore is positive and decrements it. Never blocks
   * the event loop; waiters of one handle are served in order.
   *
   * @param options An abort signal and a timeout.
   * @throws {Deno.errors.TimedOut} If `timeout` elapsed first (nothing consumed).
   * @throws {Deno.errors.BadResource} If the semaphore is (or gets) closed.
   * @throws {RangeError} If `timeout` is negative or not a number.
   */
  wait(options: SemaphoreWaitOptions = {}): Promise<void> {
    const call = "Semaphore.wait()";
    try {
      this.#handle(call);
      const { signal, timeout } = options ?? {};
      checkTimeout(timeout, call);
      signal?.throwIfAborted();
      if (this.#queue.length === 0) {
        const until = performance.now() + SPIN_MS;
        do {
          if (this.tryWait()) return Promise.resolve();
        } while (performance.now() < until);
      }
      return new Promise<void>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = () => give(signal!.reason);
        const waiter: Waiter = {
          settled: false,
          resolve: () => {
            waiter.cleanup();
            resolve();
          },
          reject: (error) => {
            waiter.cleanup();
            reject(error);
          },
          cleanup: () => {
            waiter.settled = true;
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
          },
        };
        const give = (error: unknown) => {
          if (waiter.settled) return;
          waiter.reject(error);
          const i = this.#queue.indexOf(waiter);
          if (i !== -1) this.#queue.splice(i, 1);
        };
        if (timeout !== undefined) {
          timer = setTimeout(
            () =>
              give(
                new Deno.errors.TimedOut(
                  `${call}: ${
                    JSON.stringify(this.name)
                  } stayed at 0 for ${timeout} ms`,
                ),
              ),
            timeout,
          );
        }
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#queue.push(waiter);
        this.#pump();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Serves queued waiters: trywait, else park one thread (if a slot is free). */
  #pump(): void {
    if (this.#parked || !this.#sem) return;
    if (this.#closing) return this.#finishClose();
    while (this.#queue.length && this.#queue[0]!.settled) this.#queue.shift();
    if (this.#queue.length === 0) return;
    const lib = libc();
    while (this.#queue.length && lib.sem_trywait(this.#sem) === 0) {
      this.#queue.shift()!.resolve();
    }
    if (this.#queue.length === 0) return;
    if (!lib.sem_timedwait_async || parkedThreads >= MAX_PARKED_THREADS) {
      // macOS has no timed wait to park in, and past MAX_PARKED_THREADS no
      // thread is free: poll sem_trywait on a capped backoff (1 to 32 ms),
      // taking a thread as soon as one frees up.
      this.#parked = true;
      const delay = Math.min(32, 2 ** Math.min(5, this.#polls++));
      const retry = () => {
        clearTimeout(timer);
        waitingForSlot.delete(retry);
        this.#parked = false;
        this.#pump();
      };
      const timer = setTimeout(retry, delay);
      if (lib.sem_timedwait_async) waitingForSlot.add(retry);
      return;
    }
    this.#polls = 0;
    this.#parked = true;
    parkedThreads++;
    const deadline = Date.now() + SLICE_MS;
    const abstime = new BigInt64Array([
      BigInt(Math.floor(deadline / 1000)),
      BigInt((deadline % 1000) * 1_000_000),
    ]);
    const sem = this.#sem;
    lib.sem_timedwait_async(sem, abstime).then((r) => {
      this.#parked = false;
      releaseSlot();
      if (r === 0) {
        // Took one: hand it to the first waiter still waiting, or give it back.
        while (this.#queue.length && this.#queue[0]!.settled) {
          this.#queue.shift();
        }
        const waiter = this.#closing ? undefined : this.#queue.shift();
        if (waiter) waiter.resolve();
        else lib.sem_post(sem);
      }
      this.#pump();
    });
  }

  /**
   * Waits (as {@linkcode Semaphore.wait}) and returns a guard that posts the
   * semaphore when disposed: `using _lock = await sem.acquire();`.
   *
   * @param options An abort signal and a timeout.
   * @returns The guard.
   */
  async acquire(options: SemaphoreWaitOptions = {}): Promise<SemaphoreGuard> {
    await this.wait(options);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.post();
    };
    return { release, [Symbol.dispose]: release };
  }

  /**
   * Closes this process's handle (`sem_close`), once no thread is parked on
   * it; pending waits fail with `BadResource`. Also unlinks the name when
   * opened with `unlinkOnClose`. Idempotent.
   */
  close(): void {
    if (this.#closing || !this.#sem) return;
    this.#closing = true;
    for (const waiter of this.#queue.splice(0)) {
      if (!waiter.settled) {
        waiter.reject(
          new Deno.errors.BadResource(
            `Semaphore.wait(): the semaphore ${
              JSON.stringify(this.name)
            } was closed`,
          ),
        );
      }
    }
    if (this.#unlinkOnClose) {
      libc().sem_unlink(posixName(this.name, "Semaphore.close()", 251));
      this.#forgetExit?.();
    }
    if (!this.#parked) this.#finishClose();
  }

  #finishClose(): void {
    if (!this.#sem) return;
    libc().sem_close(this.#sem);
    this.#sem = null;
  }

  /**
   * Removes this semaphore's name (see {@linkcode Semaphore.unlink}).
   *
   * @throws {Deno.errors.NotFound} If the name is already gone.
   */
  unlink(): void {
    Semaphore.unlink(this.name);
    this.#forgetExit?.();
  }

  /** Same as {@linkcode Semaphore.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
