// Copyright 2026 the posix-ipc authors. MIT license.

import { checkListenable } from "../_check/signals.ts";
import { checkAbortSignal, checkOptions, checkSize } from "../_check/mod.ts";
import { noteSignalListener } from "../_object/exit.ts";
import { keepAlive } from "./_names.ts";

/**
 * Options of {@linkcode signals}.
 *
 * @example Listen until aborted
 * ```ts
 * import { signals, type SignalsOptions } from "@posix/ipc/signal";
 * import { assertEquals } from "@std/assert";
 *
 * const options: SignalsOptions = { signal: AbortSignal.timeout(20), bufferSize: 16 };
 * assertEquals(await Array.fromAsync(signals("SIGUSR1", options)), []);
 * ```
 */
export interface SignalsOptions {
  /** Aborting ends the stream (and removes the listeners). */
  signal?: AbortSignal;
  /**
   * Most deliveries kept while nobody reads; newer ones are then dropped.
   * Default 1024.
   */
  bufferSize?: number;
}

/**
 * Deliveries of one or more signals as a stream: every delivery the process
 * receives is enqueued, in order. While a read waits, the process stays
 * alive (a daemon can do nothing but wait for signals). Cancelling the
 * stream, breaking out of a `for await`, or aborting removes the listeners,
 * so the process can then exit by itself.
 *
 * The kernel coalesces: a standard signal sent several times before this
 * process handles it arrives once (signals carry no data and are not
 * queued). Count on "at least once after the last send", not on one
 * delivery per `kill()`; acknowledge each one if the sender needs that.
 * While nobody reads, at most `bufferSize` deliveries are kept.
 *
 * Listening starts when `signals()` returns (before the first read) and
 * replaces the default action: with a stream of SIGTERM open, a SIGTERM no
 * longer ends the process (see `onShutdown` for orderly exits). Tell a peer
 * you are ready only after calling it.
 *
 * @param names One signal name or several.
 * @param options An abort signal and the buffer size.
 * @returns The stream of delivered signal names.
 * @throws {TypeError} If a name is unknown (the message lists the valid ones), or if it cannot be caught (SIGKILL, SIGSTOP; the message says why).
 *
 * @example Reload on SIGHUP until SIGTERM
 * ```ts
 * import { signals } from "@posix/ipc/signal";
 * import { assertEquals } from "@std/assert";
 *
 * const seen: Deno.Signal[] = [];
 * const stream = signals(["SIGHUP", "SIGTERM"]);
 * setTimeout(() => Deno.kill(Deno.pid, "SIGHUP"), 10);
 * setTimeout(() => Deno.kill(Deno.pid, "SIGTERM"), 50);
 * for await (const signal of stream) {
 *   seen.push(signal);
 *   if (signal === "SIGTERM") break; // removes the listeners
 * }
 * assertEquals(seen, ["SIGHUP", "SIGTERM"]);
 * ```
 */
export function signals(
  names: Deno.Signal | readonly Deno.Signal[],
  options: SignalsOptions = {},
): ReadableStream<Deno.Signal> {
  const call = "signals()";
  const list = checkListenable(names, call);
  const o = checkOptions(options, call);
  const signal = checkAbortSignal(o.signal, call);
  const bufferSize = o.bufferSize === undefined
    ? 1024
    : checkSize(o.bufferSize, "bufferSize", call);
  signal?.throwIfAborted();
  const handlers = new Map<Deno.Signal, () => void>();
  const notes: (() => void)[] = [];
  let onAbort: (() => void) | undefined;
  // While a read waits, the process stays alive; otherwise it may exit.
  let release: (() => void) | undefined;
  const idle = () => {
    release?.();
    release = undefined;
  };
  const remove = () => {
    idle();
    for (const [name, handler] of handlers) {
      Deno.removeSignalListener(name, handler);
    }
    handlers.clear();
    for (const forget of notes.splice(0)) forget();
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  };
  return new ReadableStream<Deno.Signal>({
    start(controller) {
      try {
        for (const name of list) {
          const handler = () => {
            // With a high-water mark of 0, desiredSize is minus the queue length.
            if ((controller.desiredSize ?? 0) <= -bufferSize) return;
            controller.enqueue(name);
            idle();
          };
          Deno.addSignalListener(name, handler);
          handlers.set(name, handler);
          notes.push(noteSignalListener(name));
        }
      } catch (error) {
        remove();
        throw new TypeError(`${call}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (signal) {
        onAbort = () => {
          remove();
          controller.close();
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
    },
    pull() {
      release ??= keepAlive();
    },
    cancel() {
      remove();
    },
  }, { highWaterMark: 0 });
}
