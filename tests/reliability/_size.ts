// Copyright 2026 the posix-ipc authors. MIT license.
// Sizes of the reliability suite: quick by default (CI), full with
// PIPC_FULL=1 (see the README's "Reliability" section).

const full = (() => {
  try {
    return Deno.env.get("PIPC_FULL") === "1";
  } catch {
    return false;
  }
})();

/** Whether the full sizes were asked for. */
export const FULL: boolean = full;
/** Create/open/close/unlink cycles per kind. */
export const CYCLES: number = full ? 10_000 : 1_000;
/** Concurrent waits on semaphores, and on queues. */
export const WAITS = 1_000;
/** Random messages per transport in the framing property test. */
export const MESSAGES: number = full ? 2_000 : 300;
/** Random streams fed to the framing decoder. */
export const FUZZ_CASES: number = full ? 5_000 : 500;
