// Copyright 2026 the posix-ipc authors. MIT license.
// Helpers for the process, signal and cleanup tests (pipe, spawn, pipeline,
// kill, unlinkOnExit): watchdogs that kill what they started, child
// processes read line by line, /proc inspection.
//
// Every wait on a child or a kernel object goes through `watch()`: a race
// against a deadline that, when the deadline passes, kills what the test
// started and fails naming what it waited for.

import { assertEquals } from "@std/assert";
import { openFds } from "./_helpers.ts";

const dec = new TextDecoder();

/**
 * Rejects when `promise` does not settle within `ms`, after calling
 * `onTimeout` (which kills what the test started). A watchdog, not a timing
 * assertion.
 */
export async function watch<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout?.();
      } catch {
        // best effort: the test fails with the watchdog's message anyway
      }
      reject(new Error(`Watchdog: ${what} did not finish in ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends a signal to a child if it still runs (never throws, never by name). */
export function killQuietly(
  child: { kill(signal?: Deno.Signal): unknown },
  signal: Deno.Signal = "SIGKILL",
): void {
  try {
    child.kill(signal);
  } catch {
    // exited already
  }
}

/**
 * `deno run` arguments for a Deno fixture. When `PIPC_IMPORT_MAP` is set,
 * the child gets that import map too: the regression tests use it to run
 * the same code against another checkout of the library (see
 * tests/regressions/process_test.ts).
 */
export function fixtureArgs(script: string | URL, ...args: string[]): string[] {
  const path = script instanceof URL ? script.pathname : script;
  const map = Deno.env.get("PIPC_IMPORT_MAP");
  return [
    "run",
    "--allow-all",
    "--quiet",
    ...(map ? [`--import-map=${map}`, "--no-lock"] : []),
    path,
    ...args,
  ];
}

/** What `run()` returns. */
export interface RunResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end (`Deno.Command`, not the code under test) with
 * a watchdog that SIGKILLs it when it takes longer than `ms`.
 */
export async function run(
  command: string,
  args: string[],
  options: { what?: string; ms?: number; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
  }).spawn();
  try {
    const out = await watch(
      child.output(),
      options.ms ?? 60_000,
      options.what ?? `${command} ${args.join(" ")}`,
      () => killQuietly(child),
    );
    return {
      code: out.code,
      signal: out.signal,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } catch (error) {
    killQuietly(child);
    await child.status.catch(() => {});
    throw error;
  }
}

/**
 * A Deno child (`Deno.Command`) whose stdout is read line by line, every
 * read under a watchdog that kills it. Disposing kills it if it still runs
 * and waits for it.
 */
export class LineChild implements AsyncDisposable {
  readonly process: Deno.ChildProcess;
  readonly name: string;
  #lines: ReadableStreamDefaultReader<string>;
  #buffered = "";
  #stderr: Promise<string>;

  constructor(
    name: string,
    command: string,
    args: string[],
    options: { stdin?: "piped" | "null" } = {},
  ) {
    this.name = name;
    this.process = new Deno.Command(command, {
      args,
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#lines = this.process.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    this.#stderr = new Response(this.process.stderr).text().catch(() => "");
  }

  async #next(): Promise<string | null> {
    for (;;) {
      const i = this.#buffered.indexOf("\n");
      if (i !== -1) {
        const line = this.#buffered.slice(0, i);
        this.#buffered = this.#buffered.slice(i + 1);
        return line;
      }
      const { value, done } = await this.#lines.read();
      if (done) {
        const rest = this.#buffered;
        this.#buffered = "";
        return rest === "" ? null : rest;
      }
      this.#buffered += value;
    }
  }

  /** The next line (null at EOF), under a watchdog that kills the child. */
  next(what = "a line", ms = 30_000): Promise<string | null> {
    return watch(
      this.#next(),
      ms,
      `${what} from ${this.name}`,
      () => killQuietly(this.process),
    );
  }

  /** Waits for a line equal to `expected`; fails with the child's stderr otherwise. */
  async expect(expected: string, ms = 30_000): Promise<void> {
    const line = await this.next(JSON.stringify(expected), ms);
    if (line !== expected) {
      killQuietly(this.process);
      const err = await watch(this.#stderr, 5_000, `stderr of ${this.name}`)
        .catch(() => "");
      throw new Error(
        `${this.name}: expected ${JSON.stringify(expected)}, got ${
          JSON.stringify(line)
        }; stderr: ${err.slice(-2000)}`,
      );
    }
  }

  /** Writes `text` to the child's stdin (spawned with `stdin: "piped"`). */
  async write(text: string): Promise<void> {
    const w = this.process.stdin.getWriter();
    try {
      await watch(
        w.write(new TextEncoder().encode(text)),
        30_000,
        `writing to ${this.name}`,
        () => killQuietly(this.process),
      );
    } finally {
      w.releaseLock();
    }
  }

  /** The exit status, under a watchdog. */
  status(ms = 30_000): Promise<Deno.CommandStatus> {
    return watch(
      this.process.status,
      ms,
      `exit of ${this.name}`,
      () => killQuietly(this.process),
    );
  }

  /** Everything the child wrote on stderr (complete once it has exited). */
  stderr(ms = 10_000): Promise<string> {
    return watch(this.#stderr, ms, `stderr of ${this.name}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    killQuietly(this.process);
    await watch(this.process.status, 10_000, `exit of ${this.name}`)
      .catch(() => {});
    try {
      this.process.stdin.close();
    } catch {
      // not piped, or closed already
    }
    await this.#lines.cancel().catch(() => {});
    await this.#stderr.catch(() => {});
  }
}

/** fds opened since `before` and still open after up to ~1 s of event-loop turns. */
export async function leakedFds(
  before: Map<number, string>,
): Promise<string[]> {
  let leaked: string[] = [];
  for (let i = 0; i < 50; i++) {
    leaked = [...openFds()].filter(([fd, target]) => before.get(fd) !== target)
      .map(([fd, target]) => `${fd} -> ${target}`);
    if (leaked.length === 0) return [];
    await new Promise((r) => setTimeout(r, 20));
  }
  return leaked;
}

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
  await watch(
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

/** Whether a path exists (lstat: a dangling symlink exists too). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes a path if it is there (never follows a symlink). */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // gone already
  }
}

/** Asserts that `/proc/PID/stat` shows no such process (gone or a zombie). */
export function assertGone(pid: number, what: string): void {
  const state = processState(pid);
  assertEquals(state === null || state === "Z", true, `${what}: ${state}`);
}
