// Copyright 2026 the posix-ipc authors. MIT license.
// Helpers of the socket tests (tests/socket_*_test.ts, tests/regressions/
// socket_test.ts): peers in other processes, each read of their output under
// a watchdog that kills them, and which python3 another user can run.

import { within } from "./_helpers.ts";

const dec = new TextDecoder();

/**
 * A python3 every user can run: /usr/bin/python3 when present (a pyenv shim
 * under /root is not reachable by uid 65534), else the one on PATH.
 */
export const PYTHON: string = (() => {
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3";
  } catch {
    return "python3";
  }
})();

/**
 * `deno run` arguments for a Deno fixture. When `PIPC_IMPORT_MAP` is set,
 * the child gets that import map too: the regression tests use it to run
 * the same code against another checkout of the library (see
 * tests/regressions/socket_test.ts).
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

/** Whether a path exists (lstat: a dangling symlink exists). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Waits (with a watchdog) until `path` exists. */
export async function waitForPath(path: string, ms = 10_000): Promise<void> {
  await within(
    (async () => {
      while (!exists(path)) await new Promise((r) => setTimeout(r, 5));
    })(),
    ms,
    `${path} to appear`,
  );
}

/** Kills a child if it still runs (by its own handle, never by name). */
export function killQuietly(
  child: { kill(signal?: Deno.Signal): void },
  signal: Deno.Signal = "SIGKILL",
): void {
  try {
    child.kill(signal);
  } catch {
    // exited already
  }
}

/** What `fn` threw, as `{ name, message }` (the class name), or null. */
export async function thrown(
  fn: () => unknown,
): Promise<{ name: string; message: string } | null> {
  try {
    await fn();
    return null;
  } catch (error) {
    return {
      name: (error as Error).constructor.name,
      message: (error as Error).message,
    };
  }
}

/** The outcome of {@linkcode run}. */
export interface RunResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end under a watchdog that SIGKILLs it when it takes
 * longer than `ms`.
 */
export async function run(
  command: string,
  args: string[],
  options: { what?: string; ms?: number } = {},
): Promise<RunResult> {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const what = options.what ?? `${command} ${args.join(" ")}`;
  try {
    const out = await within(child.output(), options.ms ?? 60_000, what);
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
 * A child whose stdout is read line by line, each read under a watchdog that
 * kills it. Disposing kills it (SIGKILL) if it still runs and reaps it.
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
    options: { env?: Record<string, string> } = {},
  ) {
    this.name = name;
    this.process = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.env ? { env: options.env } : {}),
    }).spawn();
    this.#lines = this.process.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    this.#stderr = new Response(this.process.stderr).text().catch(() => "");
  }

  /** The child's pid. */
  get pid(): number {
    return this.process.pid;
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
  async next(what = "a line", ms = 30_000): Promise<string | null> {
    try {
      return await within(this.#next(), ms, `${what} from ${this.name}`);
    } catch (error) {
      killQuietly(this.process);
      throw error;
    }
  }

  /** The next line parsed as JSON (null at EOF). */
  async json(what = "a JSON line", ms = 30_000): Promise<unknown> {
    const line = await this.next(what, ms);
    return line === null ? null : JSON.parse(line);
  }

  /** Waits for a line equal to `expected`; fails with the child's stderr otherwise. */
  async expect(expected: string, ms = 30_000): Promise<void> {
    const line = await this.next(JSON.stringify(expected), ms);
    if (line !== expected) {
      killQuietly(this.process);
      const stderr = await this.stderr().catch(() => "");
      throw new Error(
        `${this.name}: expected ${JSON.stringify(expected)}, got ${
          JSON.stringify(line)
        }; stderr: ${stderr.slice(-2000)}`,
      );
    }
  }

  /** The exit status, under a watchdog that kills the child. */
  async status(ms = 30_000): Promise<Deno.CommandStatus> {
    try {
      return await within(this.process.status, ms, `exit of ${this.name}`);
    } catch (error) {
      killQuietly(this.process);
      throw error;
    }
  }

  /** Everything the child wrote to stderr (once it has exited). */
  stderr(ms = 10_000): Promise<string> {
    return within(this.#stderr, ms, `stderr of ${this.name}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    killQuietly(this.process);
    await within(this.process.status, 10_000, `exit of ${this.name}`)
      .catch(() => {});
    await this.#lines.cancel().catch(() => {});
    await this.#stderr.catch(() => {});
  }
}
