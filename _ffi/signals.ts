// Copyright 2026 the posix-ipc authors. MIT license.
// Signal names ↔ numbers for the running OS.

import { SIGNALS } from "./constants.ts";
import { describe } from "./cstring.ts";

/** Signal names this OS knows, as `Deno.Signal` values. */
export function signalNames(): Deno.Signal[] {
  return Object.keys(SIGNALS) as Deno.Signal[];
}

/**
 * The number of a signal name (or a number passed through).
 *
 * @throws {TypeError} If the name is unknown; the message lists the valid names.
 */
export function signalNumber(signal: unknown, call: string): number {
  if (
    typeof signal === "number" && Number.isInteger(signal) && signal >= 0 &&
    signal < 65
  ) {
    return signal;
  }
  if (typeof signal === "string") {
    const n = SIGNALS[signal];
    if (n !== undefined) return n;
  }
  throw new TypeError(
    `${call}: unknown signal ${describe(signal)}; valid signals: ${
      signalNames().join(", ")
    }`,
  );
}

/** The name of a signal number, or null when this OS has no name for it. */
export function signalName(signo: number): Deno.Signal | null {
  for (const [name, n] of Object.entries(SIGNALS)) {
    if (n === signo && name !== "SIGPOLL") return name as Deno.Signal;
  }
  return null;
}
