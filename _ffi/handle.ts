// Copyright 2026 the posix-ipc authors. MIT license.
// FdHandle: ownership of one fd with waits that a close interrupts, and the
// deferred close that keeps the fd number from being reused while a pool
// thread still polls it.

import { closeFd } from "./fd.ts";
import { pollNow, waitFd, type WaitGroup, type WaitOptions } from "./poll.ts";

/**
 * Spin bounds, in ms. A wait first spins with poll(…, 0): a busy peer usually
 * makes the fd ready within microseconds, while parking a pool thread costs
 * tens (and a cross-core wake-up about 40 µs on a 2-core machine). The spin
 * adapts per handle: it grows while waits end soon after they start (the
 * peer is streaming) and shrinks when they turn out long (the peer is idle),
 * so idle waits hardly block the event loop.
 */
const SPIN_MIN_MS = 0.01;
const SPIN_START_MS = 0.05;
const SPIN_MAX_MS = 0.2;

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
  #spinMs = SPIN_START_MS;
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
    // Spin with poll(…, 0) before parking a pool thread. poll(…, 0) registers
    // no waiter and takes no pipe or socket lock, so it does not slow the peer.
    const start = performance.now();
    const until = start + this.#spinMs;
    do {
      const ready = pollNow(fd, events);
      if (ready !== 0) {
        this.#spinMs = Math.min(SPIN_MAX_MS, this.#spinMs * 1.25);
        return ready;
      }
    } while (performance.now() < until);
    const revents = await waitFd(fd, events, options, this);
    // Parked: a short park means a longer spin would have caught it.
    const waited = performance.now() - start;
    this.#spinMs = waited < 1
      ? Math.min(SPIN_MAX_MS, this.#spinMs * 2)
      : Math.max(SPIN_MIN_MS, this.#spinMs / 4);
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

  /**
   * Gives up this process's copy of the fd after `spawn()` passed it to a
   * child: closes it without the usual release semantics of a stream.
   *
   * @throws {TypeError} If a stream of the handle is in use (`inUse`).
   */
  handOver(inUse: boolean): void {
    if (inUse) {
      throw new TypeError(
        `Cannot hand over the ${this.label}: its stream is in use`,
      );
    }
    closeFd(this.detach(`Cannot hand over the ${this.label}`));
  }

  #release(): void {
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }
}
