// Copyright 2026 the posix-ipc authors. MIT license.
// Helpers of the named-object tests (shm, sem, mq and their regressions):
// which threads of this process sit in which system call, children's
// results for assertion messages, rejections checked under a watchdog, and
// cleanup of /dev/shm and /dev/mqueue names. Child processes themselves
// (run, LineChild) are in _helpers.ts.

import {
  denoArgs,
  removeQuietly,
  run,
  type RunResult,
  within,
} from "./_helpers.ts";

// --- threads and system calls ---------------------------------------------------

const X86 = Deno.build.arch === "x86_64";

/**
 * System call numbers of this architecture (x86_64 or aarch64), for reading
 * `/proc/<pid>/task/<tid>/syscall` and strace summaries.
 */
export const SYS = {
  futex: X86 ? 202 : 98,
  futex_waitv: 449,
  epoll_wait: X86 ? 232 : -1, // aarch64 only has epoll_pwait
  epoll_pwait: X86 ? 281 : 22,
  epoll_pwait2: 441,
} as const;

/**
 * How many threads of process `pid` (default: this one) are blocked in
 * system call `nr` right now, from `/proc/<pid>/task/<tid>/syscall` (the
 * first field is the call number; a running thread reads "running").
 */
export function threadsInSyscall(
  nr: number,
  pid: number | "self" = "self",
): number {
  let count = 0;
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/syscall`);
    } catch {
      continue; // the thread ended meanwhile
    }
    if (Number(text.split(" ")[0]) === nr) count++;
  }
  return count;
}

/**
 * Waits (at most `ms`, a watchdog) until exactly `want` threads of this
 * process are blocked in system call `nr`; fails naming what it saw last.
 * Threads park and repark on their own schedule, so this polls.
 */
export async function expectThreadsInSyscall(
  nr: number,
  want: number,
  what: string,
  ms = 5000,
): Promise<void> {
  const end = performance.now() + ms;
  let seen = threadsInSyscall(nr);
  while (seen !== want) {
    if (performance.now() > end) {
      throw new Error(
        `${what}: ${seen} threads are in system call ${nr}, expected ${want} (waited ${ms} ms)`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
    seen = threadsInSyscall(nr);
  }
}

/**
 * The number of threads of this process blocked in system call `nr` once it
 * holds still for 100 ms (at most `ms`): a baseline for
 * {@linkcode expectThreadsInSyscall}, so that threads another test module
 * left parked do not count. The counts assume no other test module runs in
 * this process meanwhile (`deno test` without `--parallel`, as `deno task
 * test` runs).
 */
export async function settledThreadsInSyscall(
  nr: number,
  ms = 5000,
): Promise<number> {
  const end = performance.now() + ms;
  let last = threadsInSyscall(nr);
  let since = performance.now();
  while (performance.now() - since < 100 && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 10));
    const now = threadsInSyscall(nr);
    if (now !== last) {
      last = now;
      since = performance.now();
    }
  }
  return last;
}

// --- children -----------------------------------------------------------------

/** How a child ended and what it printed. */
export type ChildResult = RunResult;

/** {@linkcode run} with its watchdog's name and bound as arguments. */
export function runChild(
  cmd: string,
  args: string[],
  what: string,
  ms = 60_000,
): Promise<ChildResult> {
  return run(cmd, args, { what, ms });
}

/** `deno run -A --quiet script args…` as a child, under a watchdog. */
export function runDeno(
  script: string | URL,
  args: string[],
  what: string,
  ms = 60_000,
): Promise<ChildResult> {
  return run(Deno.execPath(), denoArgs(script, ...args), { what, ms });
}

/** How a child ended, for assertion messages. */
export function describeChild(r: ChildResult): string {
  return `exit code ${r.code}, signal ${r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** The last stdout line of a child as JSON (what the child modes print). */
export function lastJson(r: ChildResult): Record<string, unknown> {
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`the child printed no JSON line\n${describeChild(r)}`);
  }
}

// --- promises -------------------------------------------------------------------

/**
 * Awaits `promise` under a watchdog and checks that it rejects with
 * `ErrorClass`; a resolution, another error or a hang fails saying which.
 */
export async function expectRejection(
  promise: Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => Error,
  what: string,
  ms = 10_000,
): Promise<Error> {
  let outcome: { value: unknown } | { error: unknown };
  try {
    outcome = { value: await within(promise, ms, what) };
  } catch (error) {
    outcome = { error };
  }
  if ("value" in outcome) {
    throw new Error(
      `${what}: expected a rejection with ${ErrorClass.name}, but it resolved with ${
        JSON.stringify(outcome.value)
      }`,
    );
  }
  const e = outcome.error;
  if (!(e instanceof ErrorClass)) {
    const desc = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new Error(
      `${what}: expected a rejection with ${ErrorClass.name}, got ${desc}`,
      { cause: e },
    );
  }
  return e;
}

// --- names and files --------------------------------------------------------------

/** A random POSIX name: `/pipc-<tag>-xxxxxxxx`. */
export function posixName(tag: string): string {
  return `/pipc-${tag}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Removes every trace of POSIX names in /dev/shm (the segment and a
 * semaphore's `sem.` file) and /dev/mqueue. For `finally` blocks.
 */
export function removeNames(...names: string[]): void {
  for (const name of names) {
    const file = name.slice(1);
    removeQuietly(`/dev/shm/${file}`);
    removeQuietly(`/dev/shm/sem.${file}`);
    removeQuietly(`/dev/mqueue/${file}`);
  }
}

/** Lines of /proc/self/maps that mention `needle`. */
export function mapsMentioning(needle: string): string[] {
  return Deno.readTextFileSync("/proc/self/maps").split("\n").filter((l) =>
    l.includes(needle)
  );
}
