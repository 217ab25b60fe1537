// Copyright 2026 the posix-ipc authors. MIT license.

import { describe } from "../_ffi/cstring.ts";
import { signalNames } from "../_ffi/signals.ts";

/**
 * Sends a signal to a process, or to a process group (`Deno.kill` with clear
 * errors).
 *
 * - `pid > 0`: that process.
 * - `pid === 0`: every process in this process's group.
 * - `pid < 0`: every process in group `-pid` (e.g. a job started with its
 *   own group).
 *
 * Permissions: `--allow-run`. The kernel lets a process signal another only
 * when their user ids match (or it is privileged), with one exception:
 * `SIGCONT` may be sent to any process in the same session.
 *
 * @param pid The process (or negated group) id.
 * @param signal The signal name. Default `"SIGTERM"`.
 * @throws {TypeError} If the signal name is unknown (the message lists the valid ones) or `pid` is not an integer.
 * @throws {Deno.errors.NotFound} If no such process (or group) exists (ESRCH).
 * @throws {Deno.errors.PermissionDenied} If this process may not signal it (EPERM).
 *
 * @example Stop a child, with a clear error afterwards
 * ```ts
 * import { kill } from "@posix/ipc/signal";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
 * kill(child.pid, "SIGTERM");
 * assertEquals((await child.status).signal, "SIGTERM");
 * assertThrows(() => kill(child.pid), Deno.errors.NotFound);
 * ```
 */
export function kill(pid: number, signal: Deno.Signal = "SIGTERM"): void {
  const call = "kill()";
  if (
    typeof pid !== "number" || !Number.isInteger(pid) ||
    Math.abs(pid) > 0x7fffffff
  ) {
    throw new TypeError(
      `${call}: pid must be an integer, got ${describe(pid)}`,
    );
  }
  const valid = signalNames();
  if (typeof signal !== "string" || !valid.includes(signal)) {
    throw new TypeError(
      `${call}: unknown signal ${describe(signal)}; valid signals: ${
        valid.join(", ")
      }`,
    );
  }
  const target = pid > 0
    ? `process ${pid}`
    : pid === 0
    ? "this process group"
    : `process group ${-pid}`;
  try {
    Deno.kill(pid, signal);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Cannot send ${signal} to ${target}: ESRCH (no such process)`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new Deno.errors.PermissionDenied(
        `Cannot send ${signal} to ${target}: EPERM (operation not permitted)`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}
