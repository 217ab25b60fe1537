// Copyright 2026 the posix-ipc authors. MIT license.

import { describe } from "../_ffi/cstring.ts";
import { closeFd, makePipe } from "../_ffi/fd.ts";
import {
  basePlan,
  Child,
  type ChildStatus,
  type FdPlan,
  handOver,
  keepNonBlocking,
  type SpawnPlan,
  spawnPlan,
  type StdioOption,
  stdioOption,
} from "./_process.ts";
import { PipeReader, PipeWriter } from "./pipe.ts";

/**
 * Options of {@linkcode pipeline}.
 *
 * @example Feed a pipeline
 * ```ts
 * import { pipeline, type PipelineOptions } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const options: PipelineOptions = { stdin: "piped", stdout: "piped", stderr: "null" };
 * const p = pipeline([["sort"], ["uniq"]], options);
 * const w = p.stdin.getWriter();
 * await w.write(new TextEncoder().encode("b\na\nb\n"));
 * await w.close();
 * assertEquals(await new Response(p.stdout).text(), "a\nb\n");
 * await p.status;
 * ```
 */
export interface PipelineOptions {
  /** The first stage's stdin, as in `spawn()` (default `"inherit"`). */
  stdin?: StdioOption;
  /** The last stage's stdout, as in `spawn()` (default `"inherit"`). */
  stdout?: StdioOption;
  /** Every stage's stderr (one shared pipe when `"piped"`; default `"inherit"`). */
  stderr?: StdioOption;
  /** Working directory of every stage. */
  cwd?: string | URL;
  /** Variables added to (or, with `clearEnv`, replacing) the environment of every stage. */
  env?: Record<string, string>;
  /** Start every stage from an empty environment. */
  clearEnv?: boolean;
  /** Aborting sends SIGTERM to every stage still running. */
  signal?: AbortSignal;
}

let newPipeline: (
  children: Child[],
  stdin: PipeWriter | null,
  stdout: PipeReader | null,
  stderr: PipeReader | null,
  signal: AbortSignal | undefined,
) => Pipeline;

/**
 * Running stages started by {@linkcode pipeline}.
 *
 * @example Count the lines `printf` writes, shell-style
 * ```ts
 * import { pipeline } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const p = pipeline([["printf", "a\\nb\\nc\\n"], ["wc", "-l"]], { stdout: "piped" });
 * assertEquals((await new Response(p.stdout).text()).trim(), "3");
 * assertEquals((await p.status).map((s) => s.code), [0, 0]);
 * ```
 */
export class Pipeline implements AsyncDisposable {
  #children: Child[];
  #stdin: PipeWriter | null;
  #stdout: PipeReader | null;
  #stderr: PipeReader | null;
  #status: Promise<ChildStatus[]>;

  static {
    newPipeline = (children, stdin, stdout, stderr, signal) =>
      new Pipeline(children, stdin, stdout, stderr, signal);
  }

  private constructor(
    children: Child[],
    stdin: PipeWriter | null,
    stdout: PipeReader | null,
    stderr: PipeReader | null,
    signal: AbortSignal | undefined,
  ) {
    this.#children = children;
    this.#stdin = stdin;
    this.#stdout = stdout;
    this.#stderr = stderr;
    this.#status = Promise.all(children.map((c) => c.status));
    if (signal) {
      const onAbort = () => this.#killAll("SIGTERM");
      signal.addEventListener("abort", onAbort, { once: true });
      this.#status.finally(() => signal.removeEventListener("abort", onAbort));
    }
  }

  /** The process ids of the stages, in order. */
  get pids(): number[] {
    return this.#children.map((c) => c.pid);
  }

  /** Resolves with every stage's status, in order, when all have exited. */
  get status(): Promise<ChildStatus[]> {
    return this.#status;
  }

  /**
   * The first stage's stdin.
   *
   * @throws {TypeError} If stdin is not `"piped"`.
   */
  get stdin(): WritableStream<Uint8Array> {
    if (!this.#stdin) throw new TypeError("stdin is not piped");
    return this.#stdin.writable;
  }

  /**
   * The last stage's stdout.
   *
   * @throws {TypeError} If stdout is not `"piped"`.
   */
  get stdout(): ReadableStream<Uint8Array> {
    if (!this.#stdout) throw new TypeError("stdout is not piped");
    return this.#stdout.readable;
  }

  /**
   * Every stage's stderr, interleaved as written.
   *
   * @throws {TypeError} If stderr is not `"piped"`.
   */
  get stderr(): ReadableStream<Uint8Array> {
    if (!this.#stderr) throw new TypeError("stderr is not piped");
    return this.#stderr.readable;
  }

  /**
   * Sends a signal (default `SIGTERM`) to every stage still running.
   *
   * @throws {TypeError} If the signal name is unknown.
   */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    this.#killAll(signal);
  }

  #killAll(signal: Deno.Signal): void {
    for (const child of this.#children) {
      if (!child.exited) child.kill(signal, "Pipeline.kill()");
    }
  }

  /** Kills the stages still running, waits for all, and closes the stdio pipes. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#killAll("SIGTERM");
    await this.#status;
    this.#stdin?.close();
    this.#stdout?.close();
    this.#stderr?.close();
  }
}

/**
 * Starts commands connected stdout → stdin by kernel pipes, like the shell's
 * `a | b | c`. The bytes between stages never pass through JavaScript: each
 * stage reads the pipe the previous one writes. Every stage is started as by
 * `spawn()` (default signal dispositions, so an early-exiting reader ends its
 * writer with SIGPIPE, as in a shell).
 *
 * If a stage cannot be started, the stages already started are killed and
 * the error is thrown.
 *
 * @param commands One `[program, ...args]` array per stage.
 * @param options The outer stdio, the environment and an abort signal.
 * @returns The running stages.
 * @throws {TypeError} If `commands` is not a non-empty array of non-empty string arrays.
 * @throws {Deno.errors.NotFound} If a stage's program does not exist (the message names the stage).
 *
 * @example `yes | head -n 2`: `yes` dies of SIGPIPE, as in a shell
 * ```ts
 * import { pipeline } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const p = pipeline([["yes"], ["head", "-n", "2"]], { stdout: "piped" });
 * assertEquals(await new Response(p.stdout).text(), "y\ny\n");
 * const [yes, head] = await p.status;
 * assertEquals(yes!.signal, "SIGPIPE");
 * assertEquals(head!.code, 0);
 * ```
 */
export function pipeline(
  commands: readonly (readonly string[])[],
  options: PipelineOptions = {},
): Pipeline {
  const call = "pipeline()";
  if (
    !Array.isArray(commands) || commands.length === 0 ||
    commands.some((c) =>
      !Array.isArray(c) || c.length === 0 ||
      c.some((a) => typeof a !== "string")
    )
  ) {
    throw new TypeError(
      `${call}: commands must be a non-empty array of [program, ...args] string arrays, got ${
        describe(commands)
      }`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${call}: options must be an object, got ${describe(options)}`,
    );
  }
  options.signal?.throwIfAborted();
  const plans: SpawnPlan[] = commands.map((c, i) =>
    basePlan(c[0], { ...options, args: c.slice(1) }, `${call}: stage ${i}`)
  );
  const owned: number[] = [];
  const children: Child[] = [];
  let stdin: PipeWriter | null = null;
  let stdout: PipeReader | null = null;
  let stderr: PipeReader | null = null;
  const outer = (value: unknown, name: string): FdPlan | "inherit" | number => {
    const setting = stdioOption(value, name, call);
    if (setting !== "piped") return setting;
    const [r, w] = makePipe(false);
    owned.push(r, w);
    if (name === "stdin") {
      stdin = PipeWriter.fromFd(w);
      owned.splice(owned.indexOf(w), 1);
      return r;
    }
    const reader = PipeReader.fromFd(r);
    owned.splice(owned.indexOf(r), 1);
    if (name === "stdout") stdout = reader;
    else stderr = reader;
    return w;
  };
  const toPlan = (s: FdPlan | number): FdPlan =>
    typeof s === "number" ? { kind: "dup", source: s, handOver: null } : s;
  let failed = true;
  try {
    const inSetting = outer(options.stdin, "stdin");
    const outSetting = outer(options.stdout, "stdout");
    const errSetting = outer(options.stderr, "stderr");
    let previousRead: number | null = null;
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!;
      if (i === 0) {
        if (inSetting !== "inherit") plan.fds.set(0, toPlan(inSetting));
      } else {
        plan.fds.set(0, toPlan(previousRead!));
      }
      if (i === plans.length - 1) {
        if (outSetting !== "inherit") plan.fds.set(1, toPlan(outSetting));
      } else {
        const [r, w] = makePipe(false);
        owned.push(r, w);
        plan.fds.set(1, toPlan(w));
        previousRead = r;
      }
      if (errSetting !== "inherit") plan.fds.set(2, toPlan(errSetting));
      try {
        children.push(new Child(spawnPlan(plan, `${call}: stage ${i}`)));
      } catch (error) {
        if (error instanceof Error) {
          error.message = `${call}: stage ${i} (${
            JSON.stringify(plan.command)
          }): ${error.message}`;
        }
        throw error;
      }
    }
    for (const plan of plans) handOver(plan);
    failed = false;
    return newPipeline(children, stdin, stdout, stderr, options.signal);
  } finally {
    for (const fd of owned) closeFd(fd);
    if (failed) {
      for (const child of children) child.kill("SIGKILL", call);
      for (const plan of plans) keepNonBlocking(plan);
      (stdin as PipeWriter | null)?.close();
      (stdout as PipeReader | null)?.close();
      (stderr as PipeReader | null)?.close();
    }
  }
}
