// Copyright 2026 the posix-ipc authors. MIT license.

import { checkTimeout } from "../_ffi/names.ts";
import { keepAlive, listenable } from "./_names.ts";

/**
 * Options of {@linkcode nextSignal}.
 *
 * @example Wait at most 20 ms
 * ```ts
 * import { nextSignal, type NextSignalOptions } from "@posix/ipc/signal";
 * import { assertRejects } from "@std/assert";
 *
 * const options: NextSignalOptions = { timeout: 20 };
 * await assertRejects(() => nextSignal("SIGUSR2", options), Deno.errors.TimedOut);
 * ```
 */
export interface NextSignalOptions {
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Milliseconds; then `Deno.errors.TimedOut`. */
  timeout?: number;
}

/**
 * Waits for the next delivery of one of `names`. The listeners exist only
 * while waiting (and keep the process alive meanwhile): afterwards the
 * process can exit by itself, and those signals have their default action
 * again.
 *
 * @param names One signal name or several.
 * @param options An abort signal and a timeout.
 * @returns The name of the signal that arrived.
 * @throws {TypeError} If a name is unknown or cannot be caught.
 * @throws {Deno.errors.TimedOut} If `timeout` elapsed first.
 *
 * @example Wait for SIGUSR1
 * ```ts
 * import { nextSignal } from "@posix/ipc/signal";
 * import { assertEquals } from "@std/assert";
 *
 * setTimeout(() => Deno.kill(Deno.pid, "SIGUSR1"), 10);
 * assertEquals(await nextSignal(["SIGUSR1", "SIGUSR2"], { timeout: 5000 }), "SIGUSR1");
 * ```
 */
export function nextSignal(
  names: Deno.Signal | readonly Deno.Signal[],
  options: NextSignalOptions = {},
): Promise<Deno.Signal> {
  const call = "nextSignal()";
  try {
    const list = listenable(names, call);
    const { signal, timeout } = options;
    checkTimeout(timeout, call);
    signal?.throwIfAborted();
    return new Promise<Deno.Signal>((resolve, reject) => {
      const handlers = new Map<Deno.Signal, () => void>();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const release = keepAlive(); // the process waits for the signal
      const done = () => {
        release();
        for (const [name, handler] of handlers) {
          Deno.removeSignalListener(name, handler);
        }
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(signal!.reason);
      };
      try {
        for (const name of list) {
          const handler = () => {
            done();
            resolve(name);
          };
          Deno.addSignalListener(name, handler);
          handlers.set(name, handler);
        }
      } catch (error) {
        done();
        throw new TypeError(`${call}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(
            new Deno.errors.TimedOut(
              `${call}: none of ${
                list.join(", ")
              } arrived within ${timeout} ms`,
            ),
          );
        }, timeout);
      }
    });
  } catch (error) {
    return Promise.reject(error);
  }
}
