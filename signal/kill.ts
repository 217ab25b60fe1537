// Copyright 2026 the posix-ipc authors. MIT license.

import { checkInteger } from "../_check/mod.ts";
import { checkSignal } from "../_check/signals.ts";

function send(
  pid: number,
  signal: Deno.Signal,
  call: string,
  target: string,
): void {
  try {
    Deno.kill(pid, signal);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `${call}: cannot send ${signal} to ${target}: ESRCH (no such process)`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new Deno.errors.PermissionDenied(
        `${call}: cannot send ${signal} to ${target}: EPERM (operation not permitted)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Sends a signal to one process (`Deno.kill` with clear errors). Only a
 * process id above 0 is accepted: the kernel reads `kill(0)` as "my own
 * process group" and `kill(-1)` as "every process I may signal" — as root,
 * the whole machine — so those are refused here; signal a group with
 * {@linkcode killProcessGroup}.
 *
 * Permissions: `--allow-run`. The kernel lets a process signal another only
 * when their user ids match (or it is privileged), with one exception:
 * `SIGCONT` may be sent to any process in the same session.
 *
 * @param pid The process id (> 0).
 * @param signal The signal name. Default `"SIGTERM"`.
 * @throws {RangeError} If `pid` is not an integer from 1 to 2³¹ − 1.
 * @throws {TypeError} If the signal name is unknown (the message lists the valid ones).
 * @throws {Deno.errors.NotFound} If no such process exists (ESRCH).
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
 * assertThrows(() => kill(-1), RangeError); // never the broadcast
 * ```
 */
export function kill(pid: number, signal: Deno.Signal = "SIGTERM"): void {
  const call = "kill()";
  if (typeof pid === "number" && Number.isInteger(pid) && pid <= 0) {
    throw new RangeError(
      `${call}: pid must be a process id above 0, got ${pid}${
        pid === -1
          ? " (the kernel would signal every process this one may)"
          : pid === 0
          ? " (the kernel would signal this process's group)"
          : ""
      }; use killProcessGroup() for a group`,
    );
  }
  checkInteger(pid, "pid", call, 1, 0x7fffffff);
  checkSignal(signal, call);
  send(pid, signal, call, `process ${pid}`);
}

/**
 * Sends a signal to every process of a process group: a job started with
 * `spawn(…, { processGroup: true })` (its `pgid`), or with `0`, explicitly,
 * the caller's own group.
 *
 * @param pgid The process group id, or 0 for this process's own group.
 * @param signal The signal name. Default `"SIGTERM"`.
 * @throws {RangeError} If `pgid` is negative or not an integer.
 * @throws {TypeError} If the signal name is unknown.
 * @throws {Deno.errors.NotFound} If no such group exists (ESRCH).
 * @throws {Deno.errors.PermissionDenied} If this process may not signal its members (EPERM).
 *
 * @example Stop a job and everything it started
 * ```ts
 * import { killProcessGroup } from "@posix/ipc/signal";
 * import { spawn } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const job = spawn("sh", { args: ["-c", "sleep 30 & wait"], processGroup: true });
 * killProcessGroup(job.pgid!, "SIGTERM");
 * assertEquals((await job.status).signal, "SIGTERM");
 * ```
 */
export function killProcessGroup(
  pgid: number,
  signal: Deno.Signal = "SIGTERM",
): void {
  const call = "killProcessGroup()";
  checkInteger(pgid, "pgid", call, 0, 0x7fffffff);
  checkSignal(signal, call);
  send(
    -pgid,
    signal,
    call,
    pgid === 0 ? "this process's group" : `process group ${pgid}`,
  );
}
