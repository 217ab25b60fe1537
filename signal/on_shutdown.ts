// Copyright 2026 the posix-ipc authors. MIT license.

import { checkOptions, checkTimeout, describe } from "../_check/mod.ts";
import { checkListenable } from "../_check/signals.ts";
import { addShutdown } from "../_object/exit.ts";

/**
 * Options of {@linkcode onShutdown}.
 *
 * @example Only SIGTERM, within 5 seconds
 * ```ts
 * import { onShutdown, type OnShutdownOptions } from "@posix/ipc/signal";
 *
 * const options: OnShutdownOptions = { signals: ["SIGTERM"], timeout: 5000 };
 * using _registration = onShutdown(() => console.log("cleaning up"), options);
 * ```
 */
export interface OnShutdownOptions {
  /** The signals that start the shutdown. Default `["SIGINT", "SIGTERM"]`. */
  signals?: Deno.Signal[];
  /** Milliseconds the callback may take before the process exits anyway. */
  timeout?: number;
}

/**
 * Runs `callback` once when the process is asked to stop (SIGINT or SIGTERM
 * by default), then exits with the conventional status, 128 + the signal
 * number (130 for SIGINT, 143 for SIGTERM). A second signal during the
 * cleanup exits at once. Typical cleanup: unlink the IPC names this process
 * created, remove socket files, flush a log.
 *
 * Several registrations share one listener per signal: all matching
 * callbacks run, concurrently, and the process exits when all are done (or
 * their timeouts have passed). Objects created with `unlinkOnExit` are
 * cleaned up in the same exit.
 *
 * @param callback The cleanup; may be async. It receives the signal's name.
 * @param options Which signals, and a time limit.
 * @returns A disposable that unregisters (then the signals have their default action again).
 * @throws {TypeError} If a signal name is unknown or cannot be caught.
 * @throws {RangeError} If `timeout` is negative.
 *
 * @example Clean up on SIGTERM
 * ```ts ignore
 * import { onShutdown } from "@posix/ipc/signal";
 * import { SharedMemory } from "@posix/ipc/shm";
 *
 * const shm = SharedMemory.create("/my-app", { size: 4096 });
 * using _cleanup = onShutdown(() => shm.unlink(), { timeout: 5000 });
 * // … serve until `kill -TERM <pid>`: the name is removed, the exit status is 143.
 * ```
 *
 * @example Register and unregister
 * ```ts
 * import { onShutdown } from "@posix/ipc/signal";
 *
 * const registration = onShutdown(async (signal) => console.log(`stopping on ${signal}`));
 * registration[Symbol.dispose](); // the process can exit by itself again
 * ```
 */
export function onShutdown(
  callback: (signal: Deno.Signal) => void | Promise<void>,
  options?: OnShutdownOptions,
): Disposable {
  const call = "onShutdown()";
  if (typeof callback !== "function") {
    throw new TypeError(
      `${call}: callback must be a function, got ${describe(callback)}`,
    );
  }
  const o = checkOptions(options, call);
  const signals = checkListenable(o.signals ?? ["SIGINT", "SIGTERM"], call);
  const timeout = checkTimeout(o.timeout, call);
  let unregister: () => void;
  try {
    unregister = addShutdown({ callback, signals, timeout });
  } catch (error) {
    throw new TypeError(`${call}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { [Symbol.dispose]: unregister };
}
