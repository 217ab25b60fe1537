// Copyright 2026 the posix-ipc authors. MIT license.
// Helpers for the process, signal and cleanup tests (pipe, spawn, pipeline,
// kill, unlinkOnExit): /proc inspection and raw fds. Child processes, their
// watchdogs and fd leak checks are in _helpers.ts.

import { assertEquals } from "@std/assert";
import { within } from "./_helpers.ts";

/** Closes fds by number through libc (what a broken cleanup left open). */
export function closeRawFds(fds: number[]): void {
  if (fds.length === 0) return;
  const lib = Deno.dlopen("libc.so.6", {
    close: { parameters: ["i32"], result: "i32" },
  });
  try {
    for (const fd of fds) lib.symbols.close(fd);
  } finally {
    lib.close();
  }
}

/** The state letter of /proc/PID/stat ("S", "R", "Z", …), or null when gone. */
export function processState(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] ?? null;
  } catch {
    return null;
  }
}

/** Pids of live (not zombie) processes, of any parent, whose command line contains `needle`. */
export function pidsWithArg(needle: string): number[] {
  const out: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      const state = processState(pid);
      if (cmdline.includes(needle) && state !== null && state !== "Z") {
        out.push(pid);
      }
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Polls `condition` every 5 ms until it holds; a watchdog fails after `ms`.
 * For conditions the kernel makes true soon (a signalled process dying).
 */
export async function until(
  condition: () => boolean,
  ms: number,
  what: string,
): Promise<void> {
  let stop = false;
  await within(
    (async () => {
      while (!stop && !condition()) {
        await new Promise((r) => setTimeout(r, 5));
      }
    })(),
    ms,
    what,
    () => stop = true,
  );
}

/** Asserts that `/proc/PID/stat` shows no such process (gone or a zombie). */
export function assertGone(pid: number, what: string): void {
  const state = processState(pid);
  assertEquals(state === null || state === "Z", true, `${what}: ${state}`);
}
