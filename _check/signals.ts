// Copyright 2026 the posix-ipc authors. MIT license.
// Signal names: the one place they are validated, for sending and for
// listening.

import { SIGNALS } from "../_ffi/constants.ts";
import { describe } from "./mod.ts";

/** Signal names this OS knows, as `Deno.Signal` values. */
export function signalNames(): Deno.Signal[] {
  return Object.keys(SIGNALS) as Deno.Signal[];
}

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
 * A signal name to send; returns its number.
 *
 * @throws {TypeError} If it is not a signal name of this OS (the message lists them).
 */
export function checkSignal(signal: unknown, call: string): number {
  if (typeof signal === "string" && SIGNALS[signal] !== undefined) {
    return SIGNALS[signal]!;
  }
  throw new TypeError(
    `${call}: unknown signal ${describe(signal)}; valid signals: ${
      signalNames().join(", ")
    }`,
  );
}

/**
 * One signal name or a list, to listen for: each known and catchable.
 *
 * @throws {TypeError} If empty, unknown (listing the valid names), or not catchable (saying why).
 */
export function checkListenable(names: unknown, call: string): Deno.Signal[] {
  const list = Array.isArray(names) ? names : [names];
  if (list.length === 0) {
    throw new TypeError(`${call}: give at least one signal name`);
  }
  for (const name of list) {
    checkSignal(name, call);
    const why = UNCATCHABLE[name] ?? REFUSED[name];
    if (why) throw new TypeError(`${call}: cannot listen for ${name}: ${why}`);
  }
  return [...new Set(list as Deno.Signal[])];
}

/** The name of a signal number, or null when this OS has no name for it. */
export function signalName(signo: number): Deno.Signal | null {
  for (const [name, n] of Object.entries(SIGNALS)) {
    if (n === signo && name !== "SIGPOLL") return name as Deno.Signal;
  }
  return null;
}
