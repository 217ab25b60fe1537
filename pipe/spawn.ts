// Copyright 2026 the posix-ipc authors. MIT license.

import { describe } from "../_ffi/cstring.ts";
import { closeFd, makePipe } from "../_ffi/fd.ts";
import {
  basePlan,
  Child,
  type ChildStatus,
  type FdSource,
  fdSource,
  handOver,
  spawnPlan,
  type StdioOption,
  stdioOption,
} from "./_process.ts";
import { PipeReader, PipeWriter } from "./pipe.ts";

export type { ChildStatus, FdSource, StdioOption };

/**
 * Options of {@linkcode spawn}, shaped like `Deno.CommandOptions`.
 *
 * @example Environment, working directory and stdio
 * ```ts
 * import { spawn, type SpawnOptions } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const options: SpawnOptions = {
 *   args: ["-c", 'printf "%s in %s" "$GREETING" "$(pwd)"'],
 *   cwd: "/",
 *   env: { GREETING: "hello" },
 *   stdout: "piped",
 * };
 * const { stdout } = await spawn("sh", options).output();
 * assertEquals(new TextDecoder().decode(stdout), "hello in /");
 * ```
 */
export interface SpawnOptions {
  /** Arguments after the command name. */
  args?: readonly string[];
  /** Working directory of the child. */
  cwd?: string | URL;
  /** Variables added to (or, with `clearEnv`, replacing) the inherited environment. */
  env?: Record<string, string>;
  /** Start from an empty environment instead of this process's. */
  clearEnv?: boolean;
  /**
   * The child's stdin: `"piped"` (write it through `child.stdin`),
   * `"inherit"` (default), `"null"` (`/dev/null`), a pipe end or other
   * handle with an `fd`, or a raw fd number.
   */
  stdin?: StdioOption;
  /** The child's stdout; as `stdin` (default `"inherit"`). */
  stdout?: StdioOption;
  /** The child's stderr; as `stdin` (default `"inherit"`). */
  stderr?: StdioOption;
  /**
   * Extra descriptors of the child, by number (3 and up): a handle of this
   * package (pipe end, socket end, …), any object with an `fd`, or a raw fd.
   * Pipe and socket ends are handed over: this process's copy is closed once
   * the child has started. Raw fds and other objects stay open here.
   */
  fds?: Record<number, FdSource>;
  /** Aborting sends SIGTERM to the child. */
  signal?: AbortSignal;
}

/**
 * The result of {@linkcode ChildProcess.output}: the status and the collected output.
 *
 * @example Status and output together
 * ```ts
 * import { spawn, type SpawnOutput } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const child = spawn("sh", { args: ["-c", "echo err >&2; exit 2"], stdout: "piped", stderr: "piped" });
 * const out: SpawnOutput = await child.output();
 * assertEquals([out.code, new TextDecoder().decode(out.stderr)], [2, "err\n"]);
 * ```
 */
export interface SpawnOutput extends ChildStatus {
  /** Everything the child wrote to stdout (when piped). */
  readonly stdout: Uint8Array;
  /** Everything the child wrote to stderr (when piped). */
  readonly stderr: Uint8Array;
}

let newChild: (
  child: Child,
  stdin: PipeWriter | null,
  stdout: PipeReader | null,
  stderr: PipeReader | null,
  signal: AbortSignal | undefined,
) => ChildProcess;

/**
 * A child process started by {@linkcode spawn}; the same shape as
 * `Deno.ChildProcess`.
 *
 * @example Collect a child's output
 * ```ts
 * import { spawn } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const child = spawn("echo", { args: ["hi"], stdout: "piped" });
 * const { code, stdout } = await child.output();
 * assertEquals(code, 0);
 * assertEquals(new TextDecoder().decode(stdout), "hi\n");
 * ```
 */
export class ChildProcess implements AsyncDisposable {
  #child: Child;
  #stdin: PipeWriter | null;
  #stdout: PipeReader | null;
  #stderr: PipeReader | null;
  #stdinUsed = false;

  static {
    newChild = (child, stdin, stdout, stderr, signal) =>
      new ChildProcess(child, stdin, stdout, stderr, signal);
  }

  private constructor(
    child: Child,
    stdin: PipeWriter | null,
    stdout: PipeReader | null,
    stderr: PipeReader | null,
    signal: AbortSignal | undefined,
  ) {
    this.#child = child;
    this.#stdin = stdin;
    this.#stdout = stdout;
    this.#stderr = stderr;
    // Nobody can read an exited child's stdin: release an unused write end.
    child.status.then(() => {
      if (!this.#stdinUsed) this.#stdin?.close();
    });
    if (signal) {
      const onAbort = () => {
        if (!child.exited) child.kill("SIGTERM", "spawn(): abort");
      };
      signal.addEventListener("abort", onAbort, { once: true });
      child.status.finally(() => signal.removeEventListener("abort", onAbort));
    }
  }

  /** The child's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Resolves when the child exits. */
  get status(): Promise<ChildStatus> {
    return this.#child.status;
  }

  /**
   * The child's stdin. Unless this stream was taken, the write end is
   * closed when the child exits.
   *
   * @throws {TypeError} If stdin is not `"piped"`.
   */
  get stdin(): WritableStream<Uint8Array> {
    if (!this.#stdin) throw new TypeError("stdin is not piped");
    this.#stdinUsed = true;
    return this.#stdin.writable;
  }

  /**
   * The child's stdout.
   *
   * @throws {TypeError} If stdout is not `"piped"`.
   */
  get stdout(): ReadableStream<Uint8Array> {
    if (!this.#stdout) throw new TypeError("stdout is not piped");
    return this.#stdout.readable;
  }

  /**
   * The child's stderr.
   *
   * @throws {TypeError} If stderr is not `"piped"`.
   */
  get stderr(): ReadableStream<Uint8Array> {
    if (!this.#stderr) throw new TypeError("stderr is not piped");
    return this.#stderr.readable;
  }

  /**
   * Waits for the child to exit and collects its piped stdout and stderr.
   * Output that is not piped reads as an empty array.
   */
  async output(): Promise<SpawnOutput> {
    const collect = async (end: PipeReader | null) =>
      end
        ? new Uint8Array(await new Response(end.readable).arrayBuffer())
        : new Uint8Array(0);
    const [stdout, stderr, status] = await Promise.all([
      collect(this.#stdout),
      collect(this.#stderr),
      this.#child.status,
    ]);
    return { ...status, stdout, stderr };
  }

  /**
   * Sends a signal to the child (default `SIGTERM`).
   *
   * @throws {TypeError} If the child has already exited, or the signal name is unknown.
   */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    this.#child.kill(signal, "ChildProcess.kill()");
  }

  /** Kills the child if it still runs, waits for it, and closes the stdio pipes. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#child.exited) {
      try {
        this.#child.kill("SIGTERM", "ChildProcess[Symbol.asyncDispose]()");
      } catch {
        // Exited in between.
      }
    }
    await this.#child.status;
    this.#stdin?.close();
    this.#stdout?.close();
    this.#stderr?.close();
  }
}

/**
 * Starts a program without forking the Deno process (`posix_spawnp`), with
 * stdio connected as asked and extra descriptors at fd 3 and up.
 *
 * The child starts with default dispositions for every signal and an empty
 * signal mask, as from a shell, so a child writing to a closed pipe dies of
 * SIGPIPE instead of seeing EPIPE. It inherits only fds 0–2 (unless
 * redirected) and those in `fds`. The program is looked up in `PATH`.
 *
 * System calls: `posix_spawnp` (glibc: `clone(CLONE_VM|CLONE_VFORK)` +
 * `execve`), `pipe2`, `fcntl(F_DUPFD_CLOEXEC)`, `pidfd_open`, `waitpid`,
 * `pidfd_send_signal`.
 *
 * @param command The program name or path.
 * @param options Arguments, stdio, extra fds and the environment.
 * @returns The running child.
 * @throws {Deno.errors.NotFound} If the program (or `cwd`) does not exist.
 * @throws {Deno.errors.PermissionDenied} If the program is not executable.
 * @throws {TypeError} If an option has the wrong shape; the message names it.
 * @throws {Deno.errors.BadResource} If a handle passed as stdio or in `fds` is closed.
 *
 * @example Pipe data through `wc -c`
 * ```ts
 * import { spawn } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const child = spawn("wc", { args: ["-c"], stdin: "piped", stdout: "piped" });
 * const writer = child.stdin.getWriter();
 * await writer.write(new Uint8Array(1000));
 * await writer.close();
 * const { stdout } = await child.output();
 * assertEquals(new TextDecoder().decode(stdout).trim(), "1000");
 * ```
 *
 * @example Give a child a pipe at fd 3
 * ```ts
 * import { pipe, spawn } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const { reader, writer } = pipe();
 * const child = spawn("sh", { args: ["-c", "echo via-fd-3 >&3"], fds: { 3: writer } });
 * // The writer was handed over: EOF arrives when the child exits.
 * assertEquals(await new Response(reader.readable).text(), "via-fd-3\n");
 * assertEquals((await child.status).code, 0);
 * ```
 */
export function spawn(
  command: string | URL,
  options: SpawnOptions = {},
): ChildProcess {
  const call = "spawn()";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${call}: options must be an object, got ${describe(options)}`,
    );
  }
  options.signal?.throwIfAborted();
  const plan = basePlan(command, options, call);
  const created: number[] = [];
  const parentEnds: [
    PipeWriter | null,
    PipeReader | null,
    PipeReader | null,
  ] = [null, null, null];
  try {
    const stdio = [options.stdin, options.stdout, options.stderr];
    const names = ["stdin", "stdout", "stderr"];
    const piped: [number, number][] = [];
    for (let target = 0; target < 3; target++) {
      const setting = stdioOption(stdio[target], names[target]!, call);
      if (setting === "inherit") continue;
      if (setting === "piped") {
        const [r, w] = makePipe(false);
        created.push(r, w);
        const [childEnd, parentEnd] = target === 0 ? [r, w] : [w, r];
        plan.fds.set(target, { kind: "dup", source: childEnd, handOver: null });
        piped.push([target, parentEnd]);
      } else {
        plan.fds.set(target, setting);
      }
    }
    if (options.fds !== undefined) {
      if (typeof options.fds !== "object" || options.fds === null) {
        throw new TypeError(
          `${call}: fds must be a record of fd number → handle, got ${
            describe(options.fds)
          }`,
        );
      }
      for (const [key, value] of Object.entries(options.fds)) {
        const target = Number(key);
        if (!Number.isInteger(target) || target < 3 || target > 0xffff) {
          throw new RangeError(
            `${call}: fds keys must be integers from 3 to 65535, got ${
              JSON.stringify(key)
            }`,
          );
        }
        plan.fds.set(target, fdSource(value, `${call}: fds[${target}]`));
      }
    }
    const pid = spawnPlan(plan, call);
    handOver(plan);
    // The child has its copies: drop ours of the child's ends, keep the parent's.
    for (const [target, parentEnd] of piped) {
      const childEnd = plan.fds.get(target);
      if (childEnd?.kind === "dup") closeFd(childEnd.source);
      if (target === 0) parentEnds[0] = PipeWriter.fromFd(parentEnd);
      else parentEnds[target as 1 | 2] = PipeReader.fromFd(parentEnd);
    }
    created.length = 0;
    return newChild(
      new Child(pid),
      parentEnds[0],
      parentEnds[1],
      parentEnds[2],
      options.signal,
    );
  } finally {
    for (const fd of created) closeFd(fd);
  }
}
