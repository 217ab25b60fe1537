// Copyright 2026 the posix-ipc authors. MIT license.
// Readiness waiting without blocking the event loop and without leaving a
// thread parked after the caller gave up.
//
// A wait polls the fd together with a private wake fd (an eventfd on Linux, a
// pipe elsewhere) on Deno's blocking pool. Aborting, timing out or closing the
// owner writes the wake fd, so `poll()` returns at once and the thread is
// free; the wake fd is closed when the wait settles.

import { C, IS_LINUX } from "./constants.ts";
import { closeFd, makePipe } from "./fd.ts";
import { check } from "./errno.ts";
import { libc } from "./libc.ts";

const ONE = new BigUint64Array([1n]);
const DRAIN = new Uint8Array(64);

/** A one-shot wake-up channel for one wait. */
class Wake {
  readonly readFd: number;
  readonly #writeFd: number;
  #closed = false;

  constructor() {
    const lib = libc();
    if (IS_LINUX && lib.eventfd) {
      this.readFd = check(
        lib.eventfd(0, C.EFD_CLOEXEC | C.EFD_NONBLOCK),
        "Cannot create an eventfd",
      );
      this.#writeFd = this.readFd;
    } else {
      [this.readFd, this.#writeFd] = makePipe(true);
    }
  }

  fire(): void {
    if (!this.#closed) libc().write(this.#writeFd, ONE, 8n);
  }

  /** Consumes the wake-ups fired so far. */
  drain(): void {
    if (this.#closed) return;
    const lib = libc();
    while (lib.read(this.readFd, DRAIN, BigInt(DRAIN.length)) > 0) {
      // an eventfd empties in one read; a pipe may take several
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.readFd);
    if (this.#writeFd !== this.readFd) closeFd(this.#writeFd);
  }
}

/** Options of a readiness wait. */
export interface WaitOptions {
  /** Aborting rejects the wait with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Milliseconds; the wait resolves with 0 when it elapses. */
  timeout?: number | undefined;
}

/** Something that can interrupt a wait (an fd owner being closed). */
export interface WaitGroup {
  add(wake: () => void): void;
  delete(wake: () => void): void;
}

/**
 * Checks readiness of `fd` for `events` without waiting.
 * Returns the `revents`, or 0 when not ready.
 */
export function pollNow(fd: number, events: number): number {
  const pfd = new Uint8Array(8);
  const view = new DataView(pfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, events, true);
  const r = libc().poll(pfd, 1n, 0);
  return r > 0 ? view.getInt16(6, true) : 0;
}

/**
 * Waits until `fd` is ready for `events` (`POLLIN`/`POLLOUT`), on Deno's
 * blocking pool, without blocking the event loop.
 *
 * Resolves with the `revents` (which may include `POLLHUP`/`POLLERR`), or 0
 * when `timeout` elapsed or `group` woke the wait (the owner decides which).
 * Rejects with `signal.reason` when aborted.
 */
export async function waitFd(
  fd: number,
  events: number,
  options: WaitOptions = {},
  group?: WaitGroup,
): Promise<number> {
  return (await waitFds([[fd, events]], options, group))[0]!;
}

/**
 * Most waits that get a pool thread of their own (the lowest latency: one
 * thread hop). Further concurrent waits share one reactor thread that polls
 * them all, so thousands of waits never exhaust Deno's blocking pool (which
 * file I/O uses too).
 */
export const MAX_DIRECT_WAITS = 8;
let directWaits = 0;

/**
 * Waits until any of `fds` is ready (see {@linkcode waitFd}). Resolves with
 * the `revents` of each, all 0 on timeout or a group wake.
 */
export async function waitFds(
  fds: readonly (readonly [fd: number, events: number])[],
  options: WaitOptions = {},
  group?: WaitGroup,
): Promise<number[]> {
  options.signal?.throwIfAborted();
  if (directWaits >= MAX_DIRECT_WAITS) return reactor.wait(fds, options, group);
  directWaits++;
  try {
    return await directWait(fds, options, group);
  } finally {
    directWaits--;
  }
}

/** When a wait of `timeout` ms that starts now ends (`Infinity` without a timeout). */
export function deadlineOf(timeout: number | undefined): number {
  return timeout === undefined ? Infinity : performance.now() + timeout;
}

function pollTimeout(deadline: number): number {
  return deadline === Infinity ? -1 : Math.min(
    Math.max(0, Math.ceil(deadline - performance.now())),
    0x7fffffff,
  );
}

/** One wait, one pool thread: fds + a private wake fd. */
async function directWait(
  fds: readonly (readonly [fd: number, events: number])[],
  options: WaitOptions,
  group?: WaitGroup,
): Promise<number[]> {
  const { signal } = options;
  const deadline = deadlineOf(options.timeout);
  const wake = new Wake();
  const fire = () => wake.fire();
  signal?.addEventListener("abort", fire, { once: true });
  group?.add(fire);
  const n = fds.length;
  const pfds = new Uint8Array(8 * (n + 1));
  const view = new DataView(pfds.buffer);
  fds.forEach(([fd, events], i) => {
    view.setInt32(8 * i, fd, true);
    view.setInt16(8 * i + 4, events, true);
  });
  view.setInt32(8 * n, wake.readFd, true);
  view.setInt16(8 * n + 4, C.POLLIN, true);
  const revents = () => fds.map((_, i) => view.getInt16(8 * i + 6, true));
  try {
    for (let attempt = 0;; attempt++) {
      for (let i = 0; i <= n; i++) view.setInt16(8 * i + 6, 0, true);
      const r = await libc().poll_async(
        pfds,
        BigInt(n + 1),
        pollTimeout(deadline),
      );
      signal?.throwIfAborted();
      if (r > 0) return revents();
      if (r === 0) {
        if (deadline !== Infinity && performance.now() >= deadline) {
          return revents();
        }
        continue;
      }
      // r === -1: errno belongs to the pool thread and is lost; EINTR is the
      // only failure poll() has with valid arguments, so retry a few times.
      if (attempt > 100) {
        throw new Error(
          `Cannot wait for fds ${fds.map(([fd]) => fd)}: poll() keeps failing`,
        );
      }
    }
  } finally {
    signal?.removeEventListener("abort", fire);
    group?.delete(fire);
    wake.close();
  }
}

interface Pending {
  fds: readonly (readonly [fd: number, events: number])[];
  deadline: number;
  finish: (revents: number[] | null, error?: unknown) => void;
}

/**
 * The shared waiter: one pool thread polls every registered fd plus a wake
 * fd; registering, cancelling or closing a waiter fires the wake fd so the
 * set is rebuilt. It stops (and closes its wake fd) when nobody waits.
 */
class Reactor {
  #pending = new Set<Pending>();
  #wake: Wake | null = null;
  #running = false;

  wait(
    fds: readonly (readonly [fd: number, events: number])[],
    options: WaitOptions,
    group?: WaitGroup,
  ): Promise<number[]> {
    const { signal } = options;
    return new Promise<number[]>((resolve, reject) => {
      const zeros = () => fds.map(() => 0);
      const cancel = () => pending.finish(zeros());
      const onAbort = () => pending.finish(null, signal!.reason);
      const pending: Pending = {
        fds,
        deadline: deadlineOf(options.timeout),
        finish: (revents, error) => {
          if (!this.#pending.delete(pending)) return;
          signal?.removeEventListener("abort", onAbort);
          group?.delete(cancel);
          if (revents) resolve(revents);
          else reject(error);
          this.#wake?.fire();
        },
      };
      this.#pending.add(pending);
      signal?.addEventListener("abort", onAbort, { once: true });
      group?.add(cancel);
      if (this.#running) this.#wake!.fire();
      else this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    const wake = this.#wake = new Wake();
    try {
      while (this.#pending.size > 0) {
        const list = [...this.#pending];
        const count = list.reduce((n, p) => n + p.fds.length, 0);
        const pfds = new Uint8Array(8 * (count + 1));
        const view = new DataView(pfds.buffer);
        let i = 0;
        let deadline = Infinity;
        for (const p of list) {
          deadline = Math.min(deadline, p.deadline);
          for (const [fd, events] of p.fds) {
            view.setInt32(8 * i, fd, true);
            view.setInt16(8 * i + 4, events, true);
            i++;
          }
        }
        view.setInt32(8 * count, wake.readFd, true);
        view.setInt16(8 * count + 4, C.POLLIN, true);
        await libc().poll_async(pfds, BigInt(count + 1), pollTimeout(deadline));
        wake.drain();
        const now = performance.now();
        i = 0;
        for (const p of list) {
          const revents = p.fds.map((_, k) =>
            view.getInt16(8 * (i + k) + 6, true)
          );
          i += p.fds.length;
          if (revents.some((r) => r !== 0)) p.finish(revents);
          else if (p.deadline <= now) p.finish(revents);
        }
      }
    } finally {
      this.#running = false;
      this.#wake = null;
      wake.close();
    }
  }
}

const reactor = new Reactor();

/**
 * Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as
 * the signal aborts (the timer is cleared, so nothing keeps the process alive).
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
