// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkBoolean,
  checkCreateOnly,
  checkInteger,
  checkMode,
  checkName,
  checkOptions,
  CREATE_ONLY,
} from "../_check/mod.ts";
import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { closedError, lastError, osError } from "../_ffi/errors.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { Mapping } from "../_ffi/mmap.ts";
import {
  type Identity,
  Lifecycle,
  type RemovalOptions,
} from "../_object/lifecycle.ts";
import type { UnlinkOptions } from "../_object/options.ts";
import { createShmFile, openShmFile, shmPlace } from "../_object/shm_dir.ts";
import {
  futexSource,
  futexWake,
  type FutexWord,
  Owner,
  pollSource,
  retry,
  type Source,
  type WaitUntil,
} from "../_wait/engine.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";
import { WaitQueue } from "../_wait/queue.ts";

export type { UnlinkOptions, WaitOptions };

/**
 * Options of {@linkcode Semaphore.create}.
 *
 * @example A counting semaphore for 3 slots
 * ```ts
 * import { Semaphore, type SemaphoreCreateOptions } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: SemaphoreCreateOptions = { initial: 3, mode: 0o600, unlinkOnClose: true };
 * using slots = Semaphore.create(name, options);
 * assertEquals(slots.value, 3);
 * ```
 */
export interface SemaphoreCreateOptions extends UnlinkOptions {
  /** Initial value (0 to `SEM_VALUE_MAX`). Default 0. */
  initial?: number;
  /** Permission bits, applied exactly. Default `0o600`. */
  mode?: number;
}

/**
 * Options of {@linkcode Semaphore.open}.
 *
 * @example Open-or-create a mutex
 * ```ts
 * import { Semaphore, type SemaphoreOpenOptions } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: SemaphoreOpenOptions = { create: true, initial: 1, unlinkOnClose: true };
 * using a = Semaphore.open(name, options);
 * using b = Semaphore.open(name, options); // exists now: opened, initial ignored
 * assertEquals([a.created, b.created, b.value], [true, false, 1]);
 * ```
 */
export interface SemaphoreOpenOptions extends UnlinkOptions {
  /**
   * Create the semaphore if it does not exist (open-or-create). An existing
   * one is opened as it is: `initial` and `mode` apply only to a new one, and
   * `unlinkOnClose`/`unlinkOnExit` only if this call created it.
   */
  create?: boolean;
  /** With `create`: initial value of a new semaphore. Default 0. */
  initial?: number;
  /** With `create`: permission bits of a new semaphore. Default `0o600`. */
  mode?: number;
}

/**
 * Options of {@linkcode Semaphore.wait} and {@linkcode Semaphore.acquire}:
 * the same `signal` and `timeout` as every wait of this package.
 *
 * @example Wait at most 10 ms
 * ```ts
 * import { Semaphore, type SemaphoreWaitOptions } from "@posix/ipc/sem";
 * import { assertRejects } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using sem = Semaphore.create(name, { unlinkOnClose: true });
 * const options: SemaphoreWaitOptions = { timeout: 10 };
 * await assertRejects(() => sem.wait(options), Deno.errors.TimedOut);
 * ```
 */
export type SemaphoreWaitOptions = WaitOptions;

/**
 * What {@linkcode Semaphore.acquire} returns: posts once when disposed.
 *
 * @example Release early
 * ```ts
 * import { Semaphore, type SemaphoreGuard } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using mutex = Semaphore.create(name, { initial: 1, unlinkOnClose: true });
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

/** sizeof(sem_t) on 64-bit glibc and musl: the size of /dev/shm/sem.NAME. */
const SEM_SIZE = 32;
/** glibc's `private` field of a process-shared semaphore (FUTEX_SHARED). */
const GLIBC_SHARED = 128;

/** glibc's layout (value word at 0, waiter count at 4) can be waited on directly. */
function isGlibc(): boolean {
  return libc().gnu_get_libc_version !== null;
}

let newSemaphore: (
  sem: bigint,
  mapping: Mapping | null,
  name: string,
  lifecycle: Lifecycle | null,
) => Semaphore;

/**
 * A POSIX named semaphore: a counter shared by processes, for mutual
 * exclusion (initial 1, `using _ = await sem.acquire()`) or counting
 * resources and signalling (post on one side, wait on the other). C and
 * Python programs using `sem_open` on the same name share it.
 *
 * Waiting never blocks the event loop and costs nothing while idle: a wait
 * sleeps on the semaphore's own futex word (one thread for up to 127
 * waits across the process), woken by any process's `sem_post`; it spins
 * briefly first only while posts arrive within microseconds. **An aborted or
 * timed-out wait never consumes a later post**, and waiters of one handle
 * are served in order.
 *
 * A holder that dies keeps its count: the kernel does not undo semaphore
 * operations. For a lock that is released when its holder dies, use `Lock`.
 *
 * Linux vs macOS: on Linux the semaphore is the file glibc uses,
 * `/dev/shm/sem.NAME`, opened without following symlinks and checked (a
 * file of the wrong size or type is refused, never mapped). macOS has
 * neither such a file nor `sem_getvalue`: there `sem_open` is used, waits
 * poll `sem_trywait` (1–64 ms backoff) and `value` throws `NotSupported`.
 *
 * @example Guard a critical section
 * ```ts
 * import { Semaphore } from "@posix/ipc/sem";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using mutex = Semaphore.create(name, { initial: 1, unlinkOnClose: true });
 * {
 *   using _lock = await mutex.acquire();
 *   assertEquals(mutex.value, 0); // held
 * }
 * assertEquals(mutex.value, 1); // released when the block ended
 * ```
 */
export class Semaphore implements Disposable {
  /** The sem_t's address. */
  #sem: bigint;
  #mapping: Mapping | null;
  #lifecycle: Lifecycle | null;
  #owner: Owner;
  #waiters: WaitQueue;
  #closed = false;
  /** Waiters this handle announced in the shared waiter count. */
  #announced = 0;
  /** The POSIX name. */
  readonly name: string;

  static {
    newSemaphore = (sem, mapping, name, lifecycle) =>
      new Semaphore(sem, mapping, name, lifecycle);
  }

  private constructor(
    sem: bigint,
    mapping: Mapping | null,
    name: string,
    lifecycle: Lifecycle | null,
  ) {
    this.#sem = sem;
    this.#mapping = mapping;
    this.#lifecycle = lifecycle;
    this.name = name;
    this.#owner = new Owner(`semaphore ${JSON.stringify(name)}`);
    this.#waiters = new WaitQueue(this.#owner);
  }

  /**
   * Creates a named semaphore — exclusively: an existing name is an error,
   * never reused or re-initialized.
   *
   * System calls (Linux): `openat(/dev/shm, O_CREAT | O_EXCL)` of a
   * temporary name, `fchmod`, `fallocate`, `mmap`, `linkat` to `sem.NAME`;
   * elsewhere `sem_open(O_CREAT | O_EXCL)`.
   *
   * @param name A POSIX name: `/` then up to 251 bytes without `/`.
   * @param options Initial value, mode, cleanup.
   * @returns The semaphore.
   * @throws {TypeError} If the name is not a valid POSIX name.
   * @throws {RangeError} If `initial` is not an integer from 0 to `SEM_VALUE_MAX`.
   * @throws {Deno.errors.AlreadyExists} If the name exists.
   *
   * @example Create, post, wait with a timeout
   * ```ts
   * import { Semaphore } from "@posix/ipc/sem";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using ready = Semaphore.create(name, { unlinkOnClose: true });
   * ready.post(); // another process would do this
   * await ready.wait({ timeout: 1000 });
   * assertEquals(ready.value, 0);
   * ```
   */
  static create(name: string, options?: SemaphoreCreateOptions): Semaphore {
    const call = "Semaphore.create()";
    return open(name, checkOptions(options, call), "create", call);
  }

  /**
   * Opens an existing named semaphore; with `create: true`, creates it if it
   * does not exist (open-or-create).
   *
   * @param name The POSIX name.
   * @param options `create` (with `initial`, `mode`) for open-or-create.
   * @returns The semaphore.
   * @throws {Deno.errors.NotFound} If it does not exist (and `create` is not set).
   * @throws {Deno.errors.InvalidData} If `/dev/shm/sem.NAME` is not a semaphore (wrong size or type, a symlink).
   * @throws {TypeError} If `initial`, `mode` or a cleanup option is given without `create`.
   *
   * @example Open a semaphore another process created
   * ```ts
   * import { Semaphore } from "@posix/ipc/sem";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using creator = Semaphore.create(name, { initial: 2, unlinkOnClose: true });
   * using other = Semaphore.open(name);
   * assertEquals(other.value, 2);
   * ```
   */
  static open(name: string, options?: SemaphoreOpenOptions): Semaphore {
    const call = "Semaphore.open()";
    const o = checkOptions(options, call);
    const create = checkBoolean(o.create, "create", call) ?? false;
    checkCreateOnly(o, ["initial", ...CREATE_ONLY], create, call, "semaphore");
    return open(name, o, create ? "open-or-create" : "open", call);
  }

  /** Whether this handle created the semaphore. */
  get created(): boolean {
    return this.#lifecycle?.created ?? false;
  }

  #use(call: string): bigint {
    if (this.#closed) throw closedError(call, this.#owner.label);
    return this.#sem;
  }

  /**
   * Decrements the semaphore if it is positive, without waiting.
   *
   * @returns True if it was decremented, false if it was 0.
   * @throws {Deno.errors.BadResource} If the semaphore is closed.
   *
   * @example Take a slot if one is free
   * ```ts
   * import { Semaphore } from "@posix/ipc/sem";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using slots = Semaphore.create(name, { initial: 1, unlinkOnClose: true });
   * assertEquals([slots.tryWait(), slots.tryWait()], [true, false]);
   * ```
   */
  tryWait(): boolean {
    const call = "Semaphore.tryWait()";
    if (libc().sem_trywait(this.#use(call)) === 0) return true;
    const code = errno();
    if (code === E.EAGAIN || code === E.EINTR) return false;
    throw osError(code, call, `cannot decrement ${this.#owner.label}`);
  }

  /**
   * Increments the semaphore, waking one waiter (in any process).
   *
   * @throws {RangeError} If the value would exceed `SEM_VALUE_MAX`.
   * @throws {Deno.errors.BadResource} If the semaphore is closed.
   *
   * @example Signal another process
   * ```ts
   * import { Semaphore } from "@posix/ipc/sem";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using ready = Semaphore.create(name, { unlinkOnClose: true });
   * ready.post();
   * assertEquals(ready.value, 1);
   * ```
   */
  post(): void {
    const call = "Semaphore.post()";
    if (libc().sem_post(this.#use(call)) === -1) {
      const code = errno();
      if (code === E.EOVERFLOW) {
        throw new RangeError(
          `${call}: ${this.#owner.label} is at SEM_VALUE_MAX (${C.SEM_VALUE_MAX})`,
        );
      }
      throw osError(code, call, `cannot post ${this.#owner.label}`);
    }
  }

  /**
   * The current value (`sem_getvalue`): a snapshot, already stale when read
   * if other processes use the semaphore.
   *
   * @throws {Deno.errors.NotSupported} On macOS.
   */
  get value(): number {
    const call = "Semaphore.value";
    const sem = this.#use(call);
    if (!IS_LINUX) {
      throw new Deno.errors.NotSupported(
        `${call}: sem_getvalue is not available on macOS`,
      );
    }
    const out = new Int32Array(1);
    if (libc().sem_getvalue(sem, out) === -1) {
      throw lastError(call, `cannot read ${this.#owner.label}`);
    }
    return Math.max(0, out[0]!);
  }

  /**
   * Waits until the semaphore is positive and decrements it. Never blocks
   * the event loop; waiters of one handle are served in order. An aborted or
   * timed-out wait consumes nothing.
   *
   * @param options An abort signal and a timeout.
   * @throws {Deno.errors.TimedOut} If `timeout` elapsed first (nothing consumed).
   * @throws {Deno.errors.BadResource} If the semaphore is (or gets) closed.
   * @throws {RangeError} If `timeout` is negative or not a number.
   *
   * @example Wait for another process's post
   * ```ts
   * import { Semaphore } from "@posix/ipc/sem";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using done = Semaphore.create(name, { unlinkOnClose: true });
   * setTimeout(() => done.post(), 10);
   * await done.wait({ timeout: 5000 });
   * ```
   */
  wait(options?: SemaphoreWaitOptions): Promise<void> {
    const call = "Semaphore.wait()";
    let until: WaitUntil;
    try {
      this.#use(call);
      until = untilOf(options, call);
      if (this.#waiters.size === 0 && this.tryWait()) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#waiters.run(
      call,
      "stayed at 0",
      until,
      () => this.#waitOne(until),
      () => this.post(), // given up meanwhile: give the count back
    );
  }

  /** One decrement, waiting through the engine. */
  async #waitOne(until: WaitUntil): Promise<void> {
    const call = "Semaphore.wait()";
    if (this.#mapping === null || !isGlibc() || !this.#mapping.viewable) {
      // No futex word to wait on (macOS, musl): poll sem_trywait. The poll
      // itself takes the token, and hands it to the attempt.
      let taken = false;
      const take = () => (taken ||= this.tryWait());
      await retry(
        this.#owner,
        call,
        "stayed at 0",
        [pollSource(take)],
        until,
        () => take() ? true : undefined,
      );
      return;
    }
    // glibc protocol: announce a waiter (high word), so that sem_post wakes
    // the value word; sleep while the value is 0; take it with trywait.
    const words = new Int32Array(this.#mapping.buffer!, 0, SEM_SIZE / 4);
    const word: FutexWord = {
      view: words,
      index: 0,
      address: this.#mapping.address,
    };
    const sources: Source[] = [futexSource(word, 0)];
    Atomics.add(words, 1, 1);
    this.#announced++;
    let taken = false;
    try {
      await retry(this.#owner, call, "stayed at 0", sources, until, () => {
        return this.tryWait() ? true : undefined;
      });
      taken = true;
    } finally {
      if (!this.#closed) {
        this.#announced--;
        Atomics.sub(words, 1, 1);
        // A post may have woken this waiter and gone unused: pass it on.
        if (!taken && Atomics.load(words, 0) > 0) futexWake(word, 1);
      }
    }
  }

  /**
   * Waits (as {@linkcode Semaphore.wait}) and returns a guard that posts the
   * semaphore when disposed: `using _lock = await sem.acquire();`.
   *
   * @param options An abort signal and a timeout.
   * @returns The guard.
   *
   * @example A cross-process mutex
   * ```ts
   * import { Semaphore } from "@posix/ipc/sem";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using mutex = Semaphore.create(name, { initial: 1, unlinkOnClose: true });
   * {
   *   using _held = await mutex.acquire({ timeout: 1000 });
   *   // … the critical section …
   * }
   * ```
   */
  async acquire(options?: SemaphoreWaitOptions): Promise<SemaphoreGuard> {
    await this.wait(options);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (!this.#closed) this.post();
    };
    return { release, [Symbol.dispose]: release };
  }

  /**
   * Closes this process's handle; pending waits fail with `BadResource`.
   * Removes the name when this handle created the semaphore with
   * `unlinkOnClose` (and the name still refers to it). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    const call = "Semaphore.close()";
    this.#closed = true;
    this.#owner.close();
    this.#waiters.close("Semaphore.wait()");
    try {
      if (this.#mapping) {
        if (this.#announced > 0 && this.#mapping.viewable) {
          // Withdraw this process's waiters from the shared count.
          const words = new Int32Array(this.#mapping.buffer!, 0, SEM_SIZE / 4);
          Atomics.sub(words, 1, this.#announced);
          this.#announced = 0;
        }
        this.#mapping.unmap();
      } else libc().sem_close(this.#sem);
    } finally {
      this.#lifecycle?.close(call);
    }
  }

  /**
   * Removes this semaphore's name if it still refers to this semaphore;
   * processes that have it open keep using it.
   *
   * @throws {Deno.errors.NotFound} If the name is gone or names another semaphore.
   */
  unlink(): void {
    const call = "Semaphore.unlink()";
    if (this.#lifecycle) return this.#lifecycle.unlink(call);
    unlinkSemaphore(this.name);
  }

  /** Same as {@linkcode Semaphore.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function open(
  name: string,
  o: SemaphoreOpenOptions,
  how: "create" | "open" | "open-or-create",
  call: string,
): Semaphore {
  checkName(name, call, "sem");
  const initial = o.initial === undefined
    ? 0
    : checkInteger(o.initial, "initial", call, 0, C.SEM_VALUE_MAX);
  const mode = checkMode(o.mode, call) ?? 0o600;
  checkBoolean(o.unlinkOnClose, "unlinkOnClose", call);
  checkBoolean(o.unlinkOnExit, "unlinkOnExit", call);
  const label = `semaphore ${JSON.stringify(name)}`;
  if (!IS_LINUX) return openWithSemOpen(name, initial, mode, how, call, label);
  const file = `sem.${name.slice(1)}`;
  const expect = { kind: "semaphore", minSize: SEM_SIZE, exactSize: SEM_SIZE };
  const removal = {
    unlinkOnClose: o.unlinkOnClose,
    unlinkOnExit: o.unlinkOnExit,
  };
  for (let attempt = 0;; attempt++) {
    if (how !== "create") {
      try {
        const { fd, info } = openShmFile(file, false, expect, call, label);
        return adopt(fd, name, file, info, false, removal, call, label);
      } catch (error) {
        if (
          how === "open" || !(error instanceof Deno.errors.NotFound) ||
          attempt > 100
        ) {
          throw error;
        }
      }
    }
    try {
      const { fd, identity } = createShmFile(
        file,
        mode,
        SEM_SIZE,
        call,
        label,
        (fd) => {
          // The initial bytes of a process-shared named semaphore.
          const init = new Int32Array(SEM_SIZE / 4);
          init[0] = initial;
          init[2] = isGlibc() ? GLIBC_SHARED : 0;
          const bytes = new Uint8Array(init.buffer);
          if (
            Number(libc().write(fd, bytes, BigInt(bytes.length))) !==
              bytes.length
          ) {
            throw lastError(call, `cannot initialize ${label}`);
          }
        },
      );
      return adopt(fd, name, file, identity, true, removal, call, label);
    } catch (error) {
      if (how === "create" || !(error instanceof Deno.errors.AlreadyExists)) {
        throw error;
      }
    }
  }
}

function adopt(
  fd: number,
  name: string,
  file: string,
  identity: Identity,
  created: boolean,
  removal: RemovalOptions,
  call: string,
  label: string,
): Semaphore {
  let mapping: Mapping;
  try {
    mapping = new Mapping(fd, SEM_SIZE, true, call, label, false);
  } catch (error) {
    libc().close(fd);
    throw error;
  }
  const lifecycle = new Lifecycle(
    label,
    shmPlace(file),
    { dev: identity.dev, ino: identity.ino },
    created,
    removal,
  );
  return newSemaphore(mapping.address, mapping, name, lifecycle);
}

/** macOS: sem_open, no file to check. */
function openWithSemOpen(
  name: string,
  initial: number,
  mode: number,
  how: "create" | "open" | "open-or-create",
  call: string,
  label: string,
): Semaphore {
  const lib = libc();
  const cname = checkName(name, call, "sem");
  const failed = (p: bigint) => p === 0n || p === C.SEM_FAILED;
  let sem = 0n;
  if (how !== "open") {
    sem = BigInt(lib.sem_open(cname, C.O_CREAT | C.O_EXCL, mode, initial));
    if (failed(sem) && (how === "create" || errno() !== E.EEXIST)) {
      throw lastError(call, `cannot create ${label}`);
    }
  }
  if (failed(sem)) {
    sem = BigInt(lib.sem_open(cname, 0, 0, 0));
    if (failed(sem)) throw lastError(call, `cannot open ${label}`);
  }
  return newSemaphore(sem, null, name, null);
}

/**
 * Removes a named semaphore by name, whoever created it: what `sem_unlink`
 * does. Processes that have it open keep using it; it is destroyed when the
 * last one closes it. To remove only the semaphore a handle created, use
 * that handle's `unlink()` (it checks identity first).
 *
 * @param name The POSIX name.
 * @throws {Deno.errors.NotFound} If it does not exist.
 *
 * @example Clean up after a crashed run
 * ```ts
 * import { Semaphore, unlinkSemaphore } from "@posix/ipc/sem";
 * import { assertThrows } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * Semaphore.create(name).close();
 * unlinkSemaphore(name);
 * assertThrows(() => Semaphore.open(name), Deno.errors.NotFound);
 * ```
 */
export function unlinkSemaphore(name: string): void {
  const call = "unlinkSemaphore()";
  const cname = checkName(name, call, "sem");
  if (libc().sem_unlink(cname) === -1) {
    throw lastError(call, `cannot remove semaphore ${JSON.stringify(name)}`);
  }
}
