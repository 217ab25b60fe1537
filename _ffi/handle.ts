// Copyright 2026 the posix-ipc authors. MIT license.
// FdHandle: ownership of one fd with waits that a close interrupts, and the
// deferred close that keeps the fd number from being reused while a pool
// thread still polls it.

import { closeFd } from "./fd.ts";
import { pollNow, waitFd, type WaitGroup, type WaitOptions } from "./poll.ts";

/**
 * How long a wait spins on poll(…, 0) before it parks a thread, in ms.
 * Measured on a 2-core machine: 20–50 µs doubles a child's stdout throughput
 * over no spin; longer spins start to cost the peer CPU time.
 */
export const SPIN_MS = 0.05;

/**
 * Marks a handle whose fd `spawn()` may hand over to a child: calling it
 * gives up the parent's copy (closes it) after the child has started.
 */
export const HAND_OVER: unique symbol = Symbol("posix-ipc.handOver");

/** A handle that can be handed to a child process. */
export interface HandOver {
  readonly fd: number;
  [HAND_OVER](): void;
}

/** Whether `value` is a handle that `spawn()` hands over. */
export function isHandOver(value: unknown): value is HandOver {
  return typeof value === "object" && value !== null &&
    typeof (value as Partial<HandOver>)[HAND_OVER] === "function";
}

/** One owned, non-blocking fd. */
export class FdHandle implements WaitGroup {
  #fd: number;
  #closed = false;
  #waits = new Set<() => void>();
  /** What the fd is, for messages: `pipe (fd 5)`. */
  readonly label: string;

  constructor(fd: number, label: string) {
    this.#fd = fd;
    this.label = label;
  }

  /** The fd, or -1 once closed. */
  get fd(): number {
    return this.#closed ? -1 : this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The fd for an operation; throws `BadResource` naming `action` once closed. */
  use(action: string): number {
    if (this.#closed) {
      throw new Deno.errors.BadResource(
        `${action}: the ${this.label} is closed`,
      );
    }
    return this.#fd;
  }

  /** WaitGroup: a close fires every registered wake. */
  add(wake: () => void): void {
    this.#waits.add(wake);
  }

  /** WaitGroup. */
  delete(wake: () => void): void {
    this.#waits.delete(wake);
    if (this.#closed && this.#waits.size === 0) this.#release();
  }

  /**
   * Waits for readiness; resolves with revents, or 0 on timeout.
   * Throws `BadResource` if the handle is (or gets) closed.
   */
  async wait(
    events: number,
    action: string,
    options?: WaitOptions,
  ): Promise<number> {
    const fd = this.use(action);
    // Spin briefly with poll(…, 0) before parking a pool thread: a busy peer
    // usually makes the fd ready within microseconds, a thread hop costs tens.
    // poll(…, 0) registers no waiter and takes no pipe lock, so spinning does
    // not slow the peer down.
    if (SPIN_MS > 0) {
      const until = performance.now() + SPIN_MS;
      do {
        const ready = pollNow(fd, events);
        if (ready !== 0) return ready;
      } while (performance.now() < until);
    }
    const revents = await waitFd(fd, events, options, this);
    this.use(action);
    return revents;
  }

  /** Releases the fd now, or as soon as pending waits have returned. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#waits.size === 0) this.#release();
    else for (const wake of [...this.#waits]) wake();
  }

  /**
   * Gives up ownership without closing: returns the fd and marks the handle
   * closed. Throws `BadResource` when already closed, `Busy` when a wait is pending.
   */
  detach(action: string): number {
    const fd = this.use(action);
    if (this.#waits.size > 0) {
      throw new Deno.errors.Busy(
        `${action}: the ${this.label} is in use by a pending read or write`,
      );
    }
    this.#closed = true;
    this.#fd = -1;
    return fd;
  }

  #release(): void {
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }
}
