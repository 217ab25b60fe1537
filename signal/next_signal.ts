// Copyright 2026 the posix-ipc authors. MIT license.

import { checkListenable } from "../_check/signals.ts";
import { noteSignalListener } from "../_object/exit.ts";
import { Owner, type Pending, type Source, waitFor } from "../_wait/engine.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";
import { keepAlive } from "./_names.ts";

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
export type NextSignalOptions = WaitOptions;

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
export async function nextSignal(
  names: Deno.Signal | readonly Deno.Signal[],
  options?: NextSignalOptions,
): Promise<Deno.Signal> {
  const call = "nextSignal()";
  const list = checkListenable(names, call);
  const until = untilOf(options, call);
  const owner = new Owner(
    `process ${Deno.pid} (waiting for ${list.join(" or ")})`,
  );
  const [index] = await waitFor(
    owner,
    call,
    "received none",
    list.map(signalSource),
    until,
  );
  return list[index]!;
}

/** A delivery of `name`, as a wait source; the process stays alive while it waits. */
function signalSource(name: Deno.Signal): Source {
  const armed = new Map<
    Pending,
    { listener: () => void; release: () => void; forget: () => void }
  >();
  const source: Source = {
    check: () => 0,
    arm(p) {
      const listener = () => p.fire(source, 1);
      try {
        Deno.addSignalListener(name, listener);
      } catch (error) {
        return p.fail(
          new TypeError(`nextSignal(): ${(error as Error).message}`, {
            cause: error,
          }),
        );
      }
      armed.set(p, {
        listener,
        release: p.ref ? keepAlive() : () => {},
        forget: noteSignalListener(name),
      });
    },
    disarm(p) {
      const state = armed.get(p);
      if (!state) return;
      armed.delete(p);
      Deno.removeSignalListener(name, state.listener);
      state.release();
      state.forget();
    },
  };
  return source;
}
