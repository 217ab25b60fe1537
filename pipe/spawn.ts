// Copyright 2026 the posix-ipc authors. MIT license.

import { checkAbortSignal, checkOptions, describe } from "../_check/mod.ts";
import { closeFd, makePipe } from "../_ffi/fd.ts";
import {
  basePlan,
  Child,
  childFd,
  type ChildStatus,
  type FdSource,
  fdSource,
  type FileTarget,
  handOvers,
  spawnPlan,
  type StdioOption,
  stdioOption,
  type SubprocessReadable,
  subprocessReadable,
} from "./_process.ts";
import { PipeReader, PipeWriter } from "./pipe.ts";

export type {
  ChildStatus,
  FdSource,
  FileTarget,
  StdioOption,
  SubprocessReadable,
};

/**
 * A listening socket for {@linkcode SpawnOptions.listenFds}: a
 * `SocketListener` of `@posix/ipc/socket`, or any object with a listening
 * socket's `fd`, with an optional `name` for `LISTEN_FDNAMES`.
 *
 * @example Name the sockets a child receives
 * ```ts
 * import { type ListenFd, spawn } from "@posix/ipc/pipe";
 * import { listen } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * using listener = listen({ port: 0, hostname: "127.0.0.1" });
 * const api: ListenFd = { fd: listener.fd, name: "api" };
 * const child = spawn("sh", {
 *   args: ["-c", 'echo "$LISTEN_FDS $LISTEN_FDNAMES"'],
 *   listenFds: [api],
 *   stdout: "piped",
 * });
 * assertEquals(await child.stdout.text(), "1 api\n");
 * ```
 */
export interface ListenFd {
  /** The listening socket's descriptor. */
  readonly fd: number;
  /** Its name in `LISTEN_FDNAMES`. Default `"unknown"`, as systemd. */
  readonly name?: string;
}

/**
 * Options of {@linkcode spawn}, shaped like `Deno.CommandOptions`, plus
 * extra fds, files as stdio, socket activation and process groups.
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
 * assertEquals(await spawn("sh", options).stdout.text(), "hello in /");
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
   * `"inherit"` (default), `"null"` (`/dev/null`), a file (`{ path }`), a
   * pipe end or other handle with an `fd`, or a raw fd number.
   */
  stdin?: StdioOption;
  /**
   * The child's stdout; as `stdin` (default `"inherit"`). A file
   * (`{ path, append? }`) is created if missing; the child writes to it
   * directly, no byte passes through JavaScript.
   */
  stdout?: StdioOption;
  /** The child's stderr; as `stdout` (default `"inherit"`). */
  stderr?: StdioOption;
  /**
   * Extra descriptors of the child, by number (3 and up): a handle of this
   * package, any object with an `fd`, a raw fd, or a file. Pipe and socket
   * ends are handed over (this process's copy is closed once the child has
   * started); listeners, shared memory, raw fds and other objects stay open
   * here. Every descriptor the child gets is blocking, as programs expect.
   */
  fds?: Record<number, FdSource>;
  /**
   * Socket activation: listening sockets placed at fds 3, 4, … with
   * `LISTEN_FDS`, `LISTEN_FDNAMES` and `LISTEN_PID` set for the child, as
   * systemd does — so a Deno child's `listenFds()`, a Python child's
   * `socket.fromfd(3, …)` and a C child following `sd_listen_fds` accept on
   * them. (`LISTEN_PID` must be the child's own pid: the child is started
   * through `/bin/sh`, which sets it and then `exec`s the program.) The
   * listeners stay open here.
   */
  listenFds?: readonly ListenFd[];
  /**
   * Start the child in a new process group that it leads (`true`), or in the
   * existing group with this id. Signal the whole group with
   * `child.kill(signal, { group: true })`; a terminal's Ctrl-C no longer
   * reaches it.
   */
  processGroup?: boolean | number;
  /** Start the child in a new session (`setsid`): a new group, no controlling terminal. */
  newSession?: boolean;
  /** Aborting sends SIGTERM to the child (to its group when it leads one). */
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
  readonly stdout: Uint8Array<ArrayBuffer>;
  /** Everything the child wrote to stderr (when piped). */
  readonly stderr: Uint8Array<ArrayBuffer>;
}

/**
 * Options of {@linkcode ChildProcess.kill}.
 *
 * @example Stop a whole job
 * ```ts
 * import { type KillOptions, spawn } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const job = spawn("sh", { args: ["-c", "sleep 30 & sleep 30; wait"], processGroup: true });
 * const options: KillOptions = { group: true };
 * job.kill("SIGTERM", options); // the shell and both sleeps
 * assertEquals((await job.status).signal, "SIGTERM");
 * ```
 */
export interface KillOptions {
  /**
   * Signal every process of the child's group (the child must lead one:
   * spawn it with `processGroup: true` or `newSession: true`), also after
   * the child itself has exited. Default false.
   */
  group?: boolean;
}

let newChild: (
  child: Child,
  stdin: PipeWriter | null,
  stdout: PipeReader | null,
  stderr: PipeReader | null,
  signal: AbortSignal | undefined,
) => ChildProcess;

/**
 * A child process started by {@linkcode spawn}, with the shape of
 * `Deno.ChildProcess` (`pid`, `status`, `stdin`, `stdout`, `stderr`,
 * `output()`, `kill()`, `ref()`/`unref()`) and what systems code needs
 * besides (its process group).
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
  #stdoutStream: SubprocessReadable | undefined;
  #stderrStream: SubprocessReadable | undefined;

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
      const onAbort = () =>
        child.kill("SIGTERM", "spawn(): abort", child.pgid !== null);
      signal.addEventListener("abort", onAbort, { once: true });
      child.status.finally(() => signal.removeEventListener("abort", onAbort));
    }
  }

  /** The child's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The process group the child leads (started with `processGroup: true` or `newSession`), else null. */
  get pgid(): number | null {
    return this.#child.pgid;
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
    if (!this.#stdin) {
      throw new TypeError("ChildProcess.stdin: stdin is not piped");
    }
    this.#stdinUsed = true;
    return this.#stdin.writable;
  }

  /**
   * The child's stdout, with `text()`, `bytes()`, `json()`.
   *
   * @throws {TypeError} If stdout is not `"piped"`.
   */
  get stdout(): SubprocessReadable {
    if (!this.#stdout) {
      throw new TypeError("ChildProcess.stdout: stdout is not piped");
    }
    return this.#stdoutStream ??= subprocessReadable(this.#stdout.readable);
  }

  /**
   * The child's stderr, with `text()`, `bytes()`, `json()`.
   *
   * @throws {TypeError} If stderr is not `"piped"`.
   */
  get stderr(): SubprocessReadable {
    if (!this.#stderr) {
      throw new TypeError("ChildProcess.stderr: stderr is not piped");
    }
    return this.#stderrStream ??= subprocessReadable(this.#stderr.readable);
  }

  /**
   * Waits for the child to exit and collects its piped stdout and stderr.
   * Output that is not piped reads as an empty array.
   */
  async output(): Promise<SpawnOutput> {
    const collect = (
      end: PipeReader | null,
      stream: () => SubprocessReadable,
    ) => end ? stream().bytes() : Promise.resolve(new Uint8Array(0));
    const [stdout, stderr, status] = await Promise.all([
      collect(this.#stdout, () => this.stdout),
      collect(this.#stderr, () => this.stderr),
      this.#child.status,
    ]);
    return { ...status, stdout, stderr };
  }

  /**
   * Sends a signal to the child (default `SIGTERM`), or to its whole
   * process group with `{ group: true }`. A child that has already exited is
   * not an error: nothing is sent and the result is false (as Node's
   * `subprocess.kill()`), so `for (const w of workers) w.kill()` never stops
   * halfway. A group outlives its leader while any member runs, so a group
   * kill still reaches the members after the child itself has exited.
   *
   * @param signal The signal name. Default `"SIGTERM"`.
   * @param options `group` to signal the child's process group.
   * @returns True if the signal was sent, false if the child (with `group`, every member of its group) had already exited.
   * @throws {TypeError} If the signal name is unknown, or `group` is asked of a child that leads no group.
   */
  kill(signal: Deno.Signal = "SIGTERM", options?: KillOptions): boolean {
    const call = "ChildProcess.kill()";
    const group = checkOptions(options, call).group === true;
    return this.#child.kill(signal, call, group);
  }

  /** Lets this process exit while the child still runs (`status` then may never settle). */
  unref(): void {
    this.#child.setRef(false);
  }

  /** Undoes {@linkcode ChildProcess.unref}. */
  ref(): void {
    this.#child.setRef(true);
  }

  /** Kills the child if it still runs, waits for it, and closes the stdio pipes. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#child.kill("SIGTERM", "ChildProcess[Symbol.asyncDispose]()");
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
 * redirected) and those it is given, all of them blocking. The program is
 * looked up in `PATH`.
 *
 * System calls: `posix_spawnp` (glibc: `clone(CLONE_VM|CLONE_VFORK)` +
 * `execve`), `pipe2`, `open` (files, and /proc/self/fd to give a child its
 * own blocking copy of a pipe end), `fcntl(F_DUPFD_CLOEXEC)`, `pidfd_open`,
 * `waitpid`, `pidfd_send_signal`.
 *
 * @param command The program name or path.
 * @param options Arguments, stdio, extra fds, the environment, process group.
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
 * assertEquals((await child.stdout.text()).trim(), "1000");
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
  options?: SpawnOptions,
): ChildProcess {
  const call = "spawn()";
  const o = checkOptions(options, call);
  const signal = checkAbortSignal(o.signal, call);
  signal?.throwIfAborted();
  const plan = basePlan(command, o, call);
  const created: number[] = [];
  const parentEnds: [PipeWriter | null, PipeReader | null, PipeReader | null] =
    [null, null, null];
  let started = false;
  try {
    const stdio = [o.stdin, o.stdout, o.stderr];
    const names = ["stdin", "stdout", "stderr"];
    const piped: [number, number][] = [];
    for (let target = 0; target < 3; target++) {
      const setting = stdioOption(stdio[target], names[target]!, call);
      if (setting === "inherit") continue;
      if (setting === "piped") {
        const [r, w] = makePipe(false, call);
        created.push(r, w);
        const [childEnd, parentEnd] = target === 0 ? [r, w] : [w, r];
        plan.fds.set(target, {
          kind: "dup",
          source: childEnd,
          owned: false,
          handOver: null,
        });
        piped.push([target, parentEnd]);
      } else {
        plan.fds.set(target, setting);
      }
    }
    if (o.fds !== undefined) {
      if (typeof o.fds !== "object" || o.fds === null) {
        throw new TypeError(
          `${call}: fds must be a record of fd number → handle, got ${
            describe(o.fds)
          }`,
        );
      }
      for (const [key, value] of Object.entries(o.fds)) {
        const target = childFd(key, call);
        plan.fds.set(target, fdSource(value, `fds[${target}]`, call, false));
      }
    }
    if (o.listenFds !== undefined) addListenFds(plan, o.listenFds, call);
    const pid = spawnPlan(plan, call);
    started = true;
    for (const handOver of handOvers([plan])) handOver.giveUp();
    // The child has its copies: drop ours of the child's ends, keep the parent's.
    for (const [target, parentEnd] of piped) {
      const childEnd = plan.fds.get(target);
      if (childEnd?.kind === "dup") closeFd(childEnd.source);
      if (target === 0) parentEnds[0] = PipeWriter.fromFd(parentEnd);
      else parentEnds[target as 1 | 2] = PipeReader.fromFd(parentEnd);
    }
    created.length = 0;
    return newChild(
      new Child(pid, plan.processGroup === 0 || plan.newSession),
      parentEnds[0],
      parentEnds[1],
      parentEnds[2],
      signal,
    );
  } finally {
    for (const fd of created) closeFd(fd);
    if (!started) {
      for (const source of plan.fds.values()) {
        if (source.kind === "dup" && source.owned) closeFd(source.source);
      }
    }
  }
}

/** Places listening sockets at 3, 4, … and sets the LISTEN_* variables. */
export function addListenFds(
  plan: Parameters<typeof spawnPlan>[0],
  listeners: unknown,
  call: string,
): void {
  if (!Array.isArray(listeners)) {
    throw new TypeError(
      `${call}: listenFds must be an array of listeners, got ${
        describe(listeners)
      }`,
    );
  }
  const names: string[] = [];
  listeners.forEach((listener, i) => {
    const target = 3 + i;
    if (plan.fds.has(target)) {
      throw new TypeError(
        `${call}: listenFds places sockets at fds 3 to ${
          2 + listeners.length
        }; fds[${target}] is taken`,
      );
    }
    plan.fds.set(
      target,
      fdSource(
        typeof listener === "object" && listener !== null
          ? { fd: (listener as ListenFd).fd }
          : listener,
        `listenFds[${i}]`,
        call,
        false,
      ),
    );
    const name = (listener as ListenFd)?.name ?? "unknown";
    if (typeof name !== "string" || name.includes(":")) {
      throw new TypeError(
        `${call}: listenFds[${i}].name must be a string without ":", got ${
          describe(name)
        }`,
      );
    }
    names.push(name);
  });
  plan.extraEnv["LISTEN_FDS"] = String(listeners.length);
  plan.extraEnv["LISTEN_FDNAMES"] = names.join(":");
  plan.listenPid = true;
}
