// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: checking signal names for listening.

import { describe } from "../_ffi/cstring.ts";
import { signalNames } from "../_ffi/signals.ts";

const UNCATCHABLE: Record<string, string> = {
  SIGKILL:
    "SIGKILL cannot be caught, blocked or ignored: the kernel ends the process",
  SIGSTOP:
    "SIGSTOP cannot be caught, blocked or ignored: the kernel stops the process",
};
const REFUSED: Record<string, string> = {
  SIGSEGV:
    "SIGSEGV signals a memory fault in this process; Deno does not let JavaScript handle it",
  SIGILL:
    "SIGILL signals an illegal instruction in this process; Deno does not let JavaScript handle it",
  SIGFPE:
    "SIGFPE signals an arithmetic fault in this process; Deno does not let JavaScript handle it",
};

/**
 * Validates one signal name or a list for listening.
 *
 * @throws {TypeError} If empty, unknown (listing the valid names), or not catchable (saying why).
 */
export function listenable(names: unknown, call: string): Deno.Signal[] {
  const list = Array.isArray(names) ? names : [names];
  if (list.length === 0) {
    throw new TypeError(`${call}: give at least one signal name`);
  }
  const valid = signalNames();
  for (const name of list) {
    if (typeof name !== "string" || !valid.includes(name as Deno.Signal)) {
      throw new TypeError(
        `${call}: unknown signal ${describe(name)}; valid signals: ${
          valid.join(", ")
        }`,
      );
    }
    const why = UNCATCHABLE[name] ?? REFUSED[name];
    if (why) throw new TypeError(`${call}: cannot listen for ${name}: ${why}`);
  }
  return [...new Set(list as Deno.Signal[])];
}

/**
 * Keeps the event loop alive while something waits for a signal (Deno's
 * signal listeners do not), with a long no-op interval. Returns a stopper.
 */
export function keepAlive(): () => void {
  const id = setInterval(() => {}, 0x7fffffff);
  return () => clearInterval(id);
}
