// Copyright 2026 the posix-ipc authors. MIT license.

import { checkAbortSignal, checkOptions, describe } from "../_check/mod.ts";
import { closeFd, makePipe } from "../_ffi/fd.ts";
import {
  basePlan,
  Child,
  type ChildStatus,
  type FdPlan,
  handOvers,
  type SpawnPlan,
  spawnPlan,
  type StdioOption,
  stdioOption,
  type SubprocessReadable,
  subprocessReadable,
} from "./_process.ts";
import { PipeReader, PipeWriter } from "./pipe.ts";
import type { KillOptions } from "./spawn.ts";

/**
 * One stage of a {@linkcode pipeline} with options of its own; a plain
 * `[program, ...args]` array is a stage with none.
 *
 * @example A stage that runs elsewhere and logs its errors
 * ```ts
 * import { pipeline, type PipelineStage } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const list: PipelineStage = { command: "ls", cwd: "/", stderr: { path: `${dir}/ls.log` } };
 * const p = pipeline([list, ["grep", "-c", "^etc$"]], { stdout: "piped" });
 * assertEquals((await new Response(p.stdout).text()).trim(), "1");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface PipelineStage {
  /** The program name or path. */
  command: string | URL;
  /** Arguments after the program name. */
  args?: readonly string[];
  /** Working directory of this stage (default: the pipeline's). */
  cwd?: string | URL;
  /** Variables for this stage, added to the pipeline's `env`. */
  env?: Record<string, string>;
  /** Start this stage from an empty environment (plus `env`). */
  clearEnv?: boolean;
  /** This stage's stderr (default: the pipeline's `stderr`). */
  stderr?: StdioOption;
}

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
 * assertEquals(await p.stdout.text(), "a\nb\n");
 * await p.status;
 * ```
 */
export interface PipelineOptions {
  /** The first stage's stdin, as in `spawn()` (a file: `{ path }`). Default `"inherit"`. */
  stdin?: StdioOption;
  /** The last stage's stdout, as in `spawn()` (a file: `{ path, append? }`). Default `"inherit"`. */
  stdout?: StdioOption;
  /**
   * Every stage's stderr unless a stage sets its own: one shared pipe when
   * `"piped"`, or one file or handle shared by all. Default `"inherit"`.
   */
  stderr?: StdioOption;
  /** Working directory of every stage. */
  cwd?: string | URL;
  /** Variables added to (or, with `clearEnv`, replacing) the environment of every stage. */
  env?: Record<string, string>;
  /** Start every stage from an empty environment. */
  clearEnv?: boolean;
  /**
   * Run the stages as one job in a new process group (led by the first
   * stage), as a shell does: `kill(signal, { group: true })` reaches them all.
   */
  processGroup?: boolean;
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
 * assertEquals((await p.stdout.text()).trim(), "3");
 * assertEquals((await p.status).map((s) => s.code), [0, 0]);
 * ```
 */
export class Pipeline implements AsyncDisposable {
  #children: Child[];
  #stdin: PipeWriter | null;
  #stdout: PipeReader | null;
  #stderr: PipeReader | null;
  #stdoutStream: SubprocessReadable | undefined;
  #stderrStream: SubprocessReadable | undefined;
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
      const onAbort = () => this.#killAll("SIGTERM", "pipeline(): abort");
      signal.addEventListener("abort", onAbort, { once: true });
      this.#status.finally(() => signal.removeEventListener("abort", onAbort));
    }
  }

  /** The process ids of the stages, in order. */
  get pids(): number[] {
    return this.#children.map((c) => c.pid);
  }

  /** The process group of the job (started with `processGroup: true`), else null. */
  get pgid(): number | null {
    return this.#children[0]?.pgid ?? null;
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
    if (!this.#stdin) {
      throw new TypeError("Pipeline.stdin: stdin is not piped");
    }
    return this.#stdin.writable;
  }

  /**
   * The last stage's stdout, with `text()`, `bytes()`, `json()`.
   *
   * @throws {TypeError} If stdout is not `"piped"`.
   */
  get stdout(): SubprocessReadable {
    if (!this.#stdout) {
      throw new TypeError("Pipeline.stdout: stdout is not piped");
    }
    return this.#stdoutStream ??= subprocessReadable(this.#stdout.readable);
  }

  /**
   * Every stage's stderr, interleaved as written.
   *
   * @throws {TypeError} If stderr is not `"piped"`.
   */
  get stderr(): SubprocessReadable {
    if (!this.#stderr) {
      throw new TypeError("Pipeline.stderr: stderr is not piped");
    }
    return this.#stderrStream ??= subprocessReadable(this.#stderr.readable);
  }

  /**
   * Sends a signal (default `SIGTERM`) to every stage still running, or to
   * the job's process group with `{ group: true }`.
   *
   * @returns How many stages (or, with `group`, whether the group) got it.
   * @throws {TypeError} If the signal name is unknown.
   */
  kill(signal: Deno.Signal = "SIGTERM", options?: KillOptions): number {
    const call = "Pipeline.kill()";
    if (checkOptions(options, call).group === true) {
      const leader = this.#children[0]!;
      return leader.kill(signal, call, true) ? this.#children.length : 0;
    }
    return this.#killAll(signal, call);
  }

  #killAll(signal: Deno.Signal, call: string): number {
    let sent = 0;
    for (const child of this.#children) {
      if (child.kill(signal, call)) sent++;
    }
    return sent;
  }

  /** Kills the stages still running, waits for all, and closes the stdio pipes. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#killAll("SIGTERM", "Pipeline[Symbol.asyncDispose]()");
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
 * If a stage cannot be started, the stages already started are killed, the
 * pipes are closed, and the error is thrown (naming the stage).
 *
 * @param commands One `[program, ...args]` array or {@linkcode PipelineStage} per stage.
 * @param options The outer stdio, the environment, a process group, an abort signal.
 * @returns The running stages.
 * @throws {TypeError} If `commands` is not a non-empty array of stages.
 * @throws {Deno.errors.NotFound} If a stage's program does not exist (the message names the stage).
 *
 * @example `yes | head -n 2`: `yes` dies of SIGPIPE, as in a shell
 * ```ts
 * import { pipeline } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const p = pipeline([["yes"], ["head", "-n", "2"]], { stdout: "piped" });
 * assertEquals(await p.stdout.text(), "y\ny\n");
 * const [yes, head] = await p.status;
 * assertEquals(yes!.signal, "SIGPIPE");
 * assertEquals(head!.code, 0);
 * ```
 *
 * @example stderr of every stage to a file
 * ```ts
 * import { pipeline } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const p = pipeline([["sh", "-c", "echo a >&2; echo x"], ["sh", "-c", "cat; echo b >&2"]], {
 *   stdout: "null",
 *   stderr: { path: `${dir}/errors.log` },
 * });
 * await p.status;
 * assertEquals(Deno.readTextFileSync(`${dir}/errors.log`).split("\n").sort().join(""), "ab");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function pipeline(
  commands: readonly (readonly string[] | PipelineStage)[],
  options?: PipelineOptions,
): Pipeline {
  const call = "pipeline()";
  if (!Array.isArray(commands) || commands.length === 0) {
    throw new TypeError(
      `${call}: commands must be a non-empty array of [program, ...args] arrays or stage objects, got ${
        describe(commands)
      }`,
    );
  }
  const o = checkOptions(options, call);
  const signal = checkAbortSignal(o.signal, call);
  signal?.throwIfAborted();
  const group = o.processGroup === true;
  const stages: { plan: SpawnPlan; stderr: unknown }[] = commands.map(
    (c, i) => {
      const what = `${call}: stage ${i}`;
      if (Array.isArray(c)) {
        if (c.length === 0 || c.some((a) => typeof a !== "string")) {
          throw new TypeError(
            `${what} must be a non-empty array of strings or a stage object`,
          );
        }
        return {
          plan: basePlan(c[0], {
            ...o,
            args: c.slice(1),
            processGroup: undefined,
            newSession: undefined,
          }, what),
          stderr: o.stderr,
        };
      }
      if (typeof c !== "object" || c === null) {
        throw new TypeError(
          `${what} must be an array or a stage object, got ${describe(c)}`,
        );
      }
      const s = c as PipelineStage;
      return {
        plan: basePlan(s.command, {
          args: s.args,
          cwd: s.cwd ?? o.cwd,
          env: { ...(o.env ?? {}), ...(s.env ?? {}) },
          clearEnv: s.clearEnv ?? o.clearEnv,
        }, what),
        stderr: "stderr" in s ? s.stderr : o.stderr,
      };
    },
  );
  const plans = stages.map((s) => s.plan);
  const owned: number[] = [];
  // Pids first, Child watches once every stage runs: a watch reaps an
  // exited stage at once, and a reaped leader takes its process group with
  // it (a later stage could not join it: EPERM).
  const pids: number[] = [];
  const watches = () => pids.map((pid, i) => new Child(pid, group && i === 0));
  let stdin: PipeWriter | null = null;
  let stdout: PipeReader | null = null;
  let stderr: PipeReader | null = null;
  const outer = (value: unknown, name: string): FdPlan | "inherit" => {
    const setting = stdioOption(value, name, call);
    if (setting !== "piped") return setting;
    const [r, w] = makePipe(false, call);
    if (name === "stdin") {
      stdin = PipeWriter.fromFd(w);
      owned.push(r);
      return { kind: "dup", source: r, owned: false, handOver: null };
    }
    const reader = PipeReader.fromFd(r);
    if (name === "stdout") stdout = reader;
    else stderr = reader;
    owned.push(w);
    return { kind: "dup", source: w, owned: false, handOver: null };
  };
  let failed = true;
  const opened: FdPlan[] = [];
  try {
    const inSetting = outer(o.stdin, "stdin");
    const outSetting = outer(o.stdout, "stdout");
    const errSetting = outer(o.stderr, "stderr");
    for (const s of [inSetting, outSetting, errSetting]) {
      if (s !== "inherit") opened.push(s);
    }
    let previousRead: number | null = null;
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!;
      const stageCall = `${call}: stage ${i} (${JSON.stringify(plan.command)})`;
      if (i === 0) {
        if (inSetting !== "inherit") plan.fds.set(0, shared(inSetting));
      } else {
        plan.fds.set(0, {
          kind: "dup",
          source: previousRead!,
          owned: false,
          handOver: null,
        });
      }
      if (i === plans.length - 1) {
        if (outSetting !== "inherit") plan.fds.set(1, shared(outSetting));
      } else {
        const [r, w] = makePipe(false, call);
        owned.push(r, w);
        plan.fds.set(1, {
          kind: "dup",
          source: w,
          owned: false,
          handOver: null,
        });
        previousRead = r;
      }
      const stageErr = stages[i]!.stderr === o.stderr
        ? errSetting
        : stdioOption(stages[i]!.stderr, "stderr", stageCall);
      if (stageErr === "piped") {
        throw new TypeError(
          `${stageCall}: a stage's own stderr cannot be "piped"; pipe the pipeline's stderr instead`,
        );
      }
      if (stageErr !== "inherit") {
        plan.fds.set(2, stageErr === errSetting ? shared(stageErr) : stageErr);
      }
      if (group) plan.processGroup = i === 0 ? 0 : pids[0]!;
      try {
        pids.push(spawnPlan(plan, stageCall));
      } catch (error) {
        if (error instanceof Error && !error.message.startsWith(stageCall)) {
          error.message = `${stageCall}: ${error.message}`;
        }
        throw error;
      }
    }
    for (const handOver of handOvers(plans)) handOver.giveUp();
    failed = false;
    return newPipeline(watches(), stdin, stdout, stderr, signal);
  } finally {
    for (const fd of owned) closeFd(fd);
    if (failed) {
      // Never throws: a stage that already exited is simply skipped.
      for (const child of watches()) child.kill("SIGKILL", call);
      (stdin as PipeWriter | null)?.close();
      (stdout as PipeReader | null)?.close();
      (stderr as PipeReader | null)?.close();
    }
    // Files the outer settings opened are closed once every stage has its copy.
    for (const s of opened) {
      if (s.kind === "dup" && s.owned) closeFd(s.source);
    }
  }
}

/** The same outer fd in several stages: the stages must not close it themselves. */
function shared(setting: FdPlan): FdPlan {
  return setting.kind === "dup" ? { ...setting, owned: false } : setting;
}
