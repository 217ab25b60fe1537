// Copyright 2026 the posix-ipc authors. MIT license.
// First-come, first-served waiters of one handle (a semaphore, a lock): one
// is served at a time through the engine; the others wait in JavaScript, and
// their own abort or deadline rejects them at once, in any position.

import { closedError, timedOutError } from "../_ffi/errors.ts";
import type { Owner, WaitUntil } from "./engine.ts";

interface Entry {
  serve: () => Promise<unknown>;
  abandon: (value: unknown) => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  serving: boolean;
  cleanup: () => void;
}

/** The waiters of one handle, served in order. */
export class WaitQueue {
  #owner: Owner;
  #entries: Entry[] = [];
  #running = false;

  constructor(owner: Owner) {
    this.#owner = owner;
  }

  /** How many waiters are queued (including the one being served). */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Runs `serve` when every earlier waiter is done. `serve` waits through
   * the engine with the same `until` (so at the head, the engine handles the
   * abort and the deadline). If the waiter gave up while `serve` was
   * finishing, `abandon` gets what it produced (to give it back).
   */
  run<T>(
    call: string,
    state: string,
    until: WaitUntil,
    serve: () => Promise<T>,
    abandon: (value: T) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const { signal, deadline } = until;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const give = (error: unknown) => {
        if (entry.settled || entry.serving) return;
        entry.reject(error);
        const i = this.#entries.indexOf(entry);
        if (i !== -1) this.#entries.splice(i, 1);
      };
      const onAbort = () => give(signal!.reason);
      const entry: Entry = {
        serve,
        abandon: abandon as (value: unknown) => void,
        settled: false,
        serving: false,
        resolve: (value) => {
          entry.cleanup();
          resolve(value as T);
        },
        reject: (error) => {
          entry.cleanup();
          reject(error);
        },
        cleanup: () => {
          entry.settled = true;
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      };
      if (deadline !== Infinity) {
        timer = setTimeout(
          () =>
            give(
              timedOutError(
                call,
                `${this.#owner.label} ${state} for ${until.timeout} ms`,
              ),
            ),
          Math.max(0, deadline - performance.now()),
        );
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#entries.push(entry);
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#entries.length > 0) {
        const entry = this.#entries[0]!;
        if (!entry.settled) {
          entry.serving = true;
          try {
            const value = await entry.serve();
            if (entry.settled) entry.abandon(value);
            else entry.resolve(value);
          } catch (error) {
            if (!entry.settled) entry.reject(error);
          }
          entry.serving = false;
        }
        if (this.#entries[0] === entry) this.#entries.shift();
      }
    } finally {
      this.#running = false;
    }
  }

  /** Rejects every waiter not being served with `BadResource`. */
  close(call: string): void {
    for (const entry of this.#entries.splice(0)) {
      if (!entry.serving) entry.reject(closedError(call, this.#owner.label));
    }
  }
}
