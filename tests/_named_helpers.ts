// Copyright 2026 the posix-ipc authors. MIT license.
// Helpers of the named-object tests (shm, sem, mq and their regressions):
// which threads of this process sit in which system call, children under a
// watchdog that kills them, a line protocol with a Deno child, rejections
// checked under a watchdog, and cleanup of /dev/shm and /dev/mqueue names.

import { within } from "./_helpers.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

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

/** Whether a program is on PATH (for tests that need strace, python3, …). */
export function hasProgram(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch {
      // not there
    }
  }
  return false;
}

// --- children -----------------------------------------------------------------

/** How a child ended and what it printed. */
export interface ChildResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion under a watchdog that SIGKILLs it (and fails
 * naming `what`) if it does not finish in `ms`.
 */
export async function runChild(
  cmd: string,
  args: string[],
  what: string,
  ms = 60_000,
): Promise<ChildResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  try {
    const out = await within(output, ms, what);
    return {
      code: out.code,
      signal: out.signal,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
    await output.catch(() => {});
    throw error;
  }
}

/** `deno run -A --quiet script args…` as a child, under a watchdog. */
export function runDeno(
  script: string | URL,
  args: string[],
  what: string,
  ms = 60_000,
): Promise<ChildResult> {
  const path = script instanceof URL ? script.pathname : script;
  return runChild(
    Deno.execPath(),
    ["run", "--allow-all", "--quiet", path, ...args],
    what,
    ms,
  );
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

/**
 * A Deno child driven line by line over stdin/stdout: `next()` waits (under
 * a watchdog that kills the child) for the next line, `send()` writes one.
 * Disposing it kills the child and waits for it.
 */
export class LineChild implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #lines: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #stderr: Promise<string>;
  readonly what: string;

  constructor(script: string | URL, args: string[], what: string) {
    this.what = what;
    const path = script instanceof URL ? script.pathname : script;
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", path, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    this.#writer = this.#child.stdin.getWriter();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** The next line of stdout (null at EOF), waited for at most `ms`. */
  async next(ms = 30_000): Promise<string | null> {
    const read = async () => {
      for (;;) {
        const nl = this.#buffer.indexOf("\n");
        if (nl !== -1) {
          const line = this.#buffer.slice(0, nl);
          this.#buffer = this.#buffer.slice(nl + 1);
          return line;
        }
        const { value, done } = await this.#lines.read();
        if (done) return this.#buffer.length ? this.#buffer : null;
        this.#buffer += value;
      }
    };
    try {
      return await within(read(), ms, `a line from ${this.what}`);
    } catch (error) {
      this.kill();
      throw error;
    }
  }

  async send(line: string): Promise<void> {
    await this.#writer.write(enc.encode(line + "\n"));
  }

  kill(signal: Deno.Signal = "SIGKILL"): void {
    try {
      this.#child.kill(signal);
    } catch {
      // exited already
    }
  }

  /** Waits (at most `ms`) for the child to exit; kills it on timeout. */
  async status(
    ms = 30_000,
  ): Promise<Deno.CommandStatus & { stderr: string }> {
    try {
      const status = await within(
        this.#child.status,
        ms,
        `${this.what} to exit`,
      );
      return { ...status, stderr: await this.#stderr };
    } catch (error) {
      this.kill();
      throw error;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill();
    await this.#writer.close().catch(() => {});
    await this.#child.status;
    await this.#lines.cancel().catch(() => {});
    await this.#stderr.catch(() => "");
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

/** Removes a path if it exists; never throws (cleanup in `finally`). */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch {
    // already gone
  }
}

/** Whether a path exists (lstat: a dangling symlink exists). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
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
