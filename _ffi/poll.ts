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
 * Waits until any of `fds` is ready (see {@linkcode waitFd}). Resolves with
 * the `revents` of each, all 0 on timeout or a group wake.
 */
export async function waitFds(
  fds: readonly (readonly [fd: number, events: number])[],
  options: WaitOptions = {},
  group?: WaitGroup,
): Promise<number[]> {
  const { signal, timeout } = options;
  signal?.throwIfAborted();
  const deadline = timeout === undefined
    ? Infinity
    : performance.now() + timeout;
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
      const left = deadline === Infinity
        ? -1
        : Math.max(0, Math.ceil(deadline - performance.now()));
      for (let i = 0; i <= n; i++) view.setInt16(8 * i + 6, 0, true);
      const r = await libc().poll_async(
        pfds,
        BigInt(n + 1),
        Math.min(left, 0x7fffffff),
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
