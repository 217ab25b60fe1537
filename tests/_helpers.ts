// Copyright 2026 the posix-ipc authors. MIT license.
// Test helpers: fd and IPC-object leak checks, random names, watchdogs, C
// peers compiled on the fly, and child processes (Deno fixtures, Python,
// C): run to their end or read line by line, every wait under a watchdog
// that kills them. The one copy of each: _proc_helpers.ts,
// _socket_helpers.ts and _named_helpers.ts add only what is theirs.

import { waitingFor, waitUntil } from "./_harness.ts";
import { assertEquals } from "@std/assert";
import { pipe } from "../pipe/mod.ts";

/** The open fds of this process, with what they point to. */
export function openFds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(entry.name);
    try {
      out.set(fd, Deno.readLinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // The directory fd of this very listing, gone already.
    }
  }
  return out;
}

/**
 * The fds opened since `before` (a {@linkcode openFds} snapshot) that are
 * still open after up to ~1 s of event-loop turns (closes may be deferred).
 */
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

/**
 * Runs `fn` and checks that every fd it opened was closed again. Waits a few
 * turns of the event loop for deferred closes first.
 */
export async function assertNoFdLeak(
  fn: () => Promise<void> | void,
): Promise<void> {
  const before = openFds();
  await fn();
  assertEquals(await leakedFds(before), [], "fds opened and not closed");
}

/** Entries of a directory (e.g. /dev/shm), or [] when it does not exist. */
export function listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Where POSIX shared memory, named semaphores and message queues live. */
export const IPC_DIRS = ["/dev/shm", "/dev/mqueue"];

/**
 * The processes (other than this one) that hold `path` open or mapped, from
 * /proc/PID/fd and /proc/PID/maps.
 */
export function heldBy(path: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${pid}/maps`).includes(` ${path}\n`)) {
        pids.push(pid);
        continue;
      }
      for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
        try {
          if (Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`) === path) {
            pids.push(pid);
            break;
          }
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/**
 * Runs `fn` under {@linkcode assertNoFdLeak} and checks that each of `dirs`
 * lists the same entries afterwards: nothing left behind, nothing removed.
 * Only entries whose name carries this test process's mark count: /dev/shm
 * and /dev/mqueue are shared by every process on the machine (another test
 * run, other software). {@linkcode randomName} puts the mark in every name,
 * and the package's own temporaries carry the pid too.
 */
export async function assertNoLeaks(
  fn: () => Promise<void> | void,
  dirs: string[] = IPC_DIRS,
  mark = `-${Deno.pid}-`,
): Promise<void> {
  const ours = (dir: string) => listDir(dir).filter((n) => n.includes(mark));
  const before = dirs.map(ours);
  await assertNoFdLeak(fn);
  dirs.forEach((dir, i) => {
    const was = before[i]!;
    const now = ours(dir);
    assertEquals(
      {
        added: now.filter((n) => !was.includes(n)),
        removed: was.filter((n) => !now.includes(n)),
      },
      { added: [], removed: [] },
      `entries of ${dir}`,
    );
  });
}

/**
 * A random name with a prefix and this process's pid, e.g.
 * `pipc-test-4242-3f9a…` (the pid is the mark leak checks look for).
 */
export function randomName(prefix = "pipc-test"): string {
  return `${prefix}-${Deno.pid}-${crypto.randomUUID().slice(0, 13)}`;
}

/** A fresh temporary directory removed by the returned disposer. */
export function tempDir(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "pipc-test-" });
  return {
    path,
    [Symbol.dispose]() {
      Deno.removeSync(path, { recursive: true });
    },
  };
}

/**
 * Rejects when `promise` does not settle within `ms`, after calling
 * `onTimeout` (e.g. to kill what the test started). A watchdog, not a
 * timing assertion; the test's own watchdog names it too while it waits.
 */
export async function within<T>(
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
    return await waitingFor(
      `${what} (within ${ms} ms)`,
      Promise.race([promise, watchdog]),
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Nanoseconds the main thread has spent runnable but waiting for a CPU
 * (/proc/self/task/PID/schedstat), or 0 where the kernel does not say.
 */
function runqueueWaitNs(): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/schedstat`);
    return Number(stat.split(" ")[1]);
  } catch {
    return 0;
  }
}

/**
 * Waits until this process has had `ms` milliseconds in which it was not
 * kept off the CPU by other processes: wall time minus the main thread's
 * run-queue wait. A timing check over such a window ("timers fire while X
 * waits") measures this process, not how busy the machine is.
 */
export async function runnableFor(ms: number): Promise<void> {
  const start = performance.now();
  const waited = runqueueWaitNs();
  while (
    performance.now() - start - (runqueueWaitNs() - waited) / 1e6 < ms
  ) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * For `connect(…).catch(notListening)`: `undefined` for the errors of a
 * socket that nobody listens on yet (ENOENT, ECONNREFUSED), others rethrown.
 */
export function notListening(error: unknown): undefined {
  if (
    error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.ConnectionRefused
  ) {
    return undefined;
  }
  throw error;
}

/**
 * Reads a child's text output until it contains `text`; returns all read.
 * Fails if the output ends first, instead of spinning on EOF (a loop of
 * reads that resolve at once starves the timers, the watchdog's too).
 */
export function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  text: string,
): Promise<string> {
  return waitingFor(
    `the child to say ${JSON.stringify(text)}`,
    (async () => {
      let said = "";
      while (!said.includes(text)) {
        const { value, done } = await reader.read();
        if (done) {
          throw new Error(
            `The child's output ended before it said ${
              JSON.stringify(text)
            }; it said ${JSON.stringify(said)}`,
          );
        }
        said += value;
      }
      return said;
    })(),
  );
}

/** Whether a promise is still pending after the event loop had a few turns. */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
  return !settled;
}

/** SHA-256 of bytes as hex. */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** Random bytes of any size (crypto.getRandomValues is limited to 64 KiB). */
export function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  }
  return out;
}

const BUILD_DIR = new URL("./.build/", import.meta.url).pathname;

/**
 * Compiles a small C program (cached by content) and returns its path.
 */
export async function compileC(
  name: string,
  source: string,
  flags: string[] = [],
): Promise<string> {
  Deno.mkdirSync(BUILD_DIR, { recursive: true });
  const hash =
    (await sha256(new TextEncoder().encode(source + flags.join(" "))))
      .slice(0, 12);
  const exe = `${BUILD_DIR}${name}-${hash}`;
  try {
    Deno.statSync(exe);
    return exe;
  } catch {
    // not built yet
  }
  const src = `${exe}.c`;
  Deno.writeTextFileSync(src, source);
  const tmp = `${exe}.tmp${crypto.randomUUID().slice(0, 8)}`;
  const out = await new Deno.Command("gcc", {
    args: ["-O2", "-o", tmp, src, ...flags],
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `gcc failed for ${name}:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  Deno.renameSync(tmp, exe);
  return exe;
}

// ------------------------------------------------------- child processes

/** `deno run` arguments for a Deno script (a file URL or path), with -A. */
export function denoArgs(script: string | URL, ...args: string[]): string[] {
  const path = script instanceof URL ? script.pathname : script;
  return ["run", "--allow-all", "--quiet", path, ...args];
}

/**
 * {@linkcode denoArgs} for a fixture of the regression tests: when
 * `PIPC_IMPORT_MAP` is set, the child gets that import map too, to run the
 * same code against another checkout of the library (see
 * tests/regressions/process_test.ts).
 */
export function fixtureArgs(script: string | URL, ...args: string[]): string[] {
  const map = Deno.env.get("PIPC_IMPORT_MAP");
  const [run, ...rest] = denoArgs(script, ...args);
  return map
    ? [run!, `--import-map=${map}`, "--no-lock", ...rest]
    : [run!, ...rest];
}

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

/** Whether a path exists (lstat: a dangling symlink exists too). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes a path (a directory with its contents) if it is there; never throws, never follows a symlink. */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch {
    // gone already
  }
}

/** Waits, under the test's watchdog, until `path` exists. */
export function waitForPath(path: string): Promise<void> {
  return waitUntil(() => exists(path), `${path} to appear`, 5);
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

/** How a program that {@linkcode run} ran ended, and what it printed. */
export interface RunResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode run} and {@linkcode LineChild}. */
export interface ChildOptions {
  /** What the watchdog calls it (default: the command line). */
  what?: string;
  /** The watchdog's bound, in milliseconds (default 60 s). */
  ms?: number;
  env?: Record<string, string>;
  cwd?: string;
}

const dec = new TextDecoder();

/**
 * Runs `script` (sh) in new mount and IPC namespaces with an empty tmpfs on
 * /dev/shm and a fresh mqueue on /dev/mqueue: what it creates and removes
 * there is invisible to every other process of the machine. Needs root and
 * `unshare`.
 */
export function inIpcSandbox(
  script: string,
  env: Record<string, string>,
  what = "a script in private mount and IPC namespaces",
): Promise<RunResult> {
  return run("unshare", [
    "--mount",
    "--ipc",
    "--propagation",
    "private",
    "--",
    "sh",
    "-ec",
    `mount -t tmpfs -o size=4m,mode=1777 pipc-test /dev/shm
mount -t mqueue pipc-test /dev/mqueue
${script}`,
  ], { env, what });
}

/**
 * Runs a program to its end (`Deno.Command`, not the code under test) with
 * a watchdog that SIGKILLs it when it takes longer than `ms`.
 */
export async function run(
  command: string,
  args: string[],
  options: ChildOptions = {},
): Promise<RunResult> {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  }).spawn();
  try {
    const out = await within(
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
 * A child whose stdout is read line by line, every wait on it under a
 * watchdog that kills it. Disposing kills it if it still runs and reaps it.
 */
export class LineChild implements AsyncDisposable {
  readonly process: Deno.ChildProcess;
  readonly name: string;
  #lines: ReadableStreamDefaultReader<string>;
  #buffered = "";
  #stderr: Promise<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;

  constructor(
    name: string,
    command: string,
    args: string[],
    options: Omit<ChildOptions, "what" | "ms"> & {
      stdin?: "piped" | "null";
    } = {},
  ) {
    this.name = name;
    this.process = new Deno.Command(command, {
      args,
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    }).spawn();
    this.#lines = this.process.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    this.#stderr = new Response(this.process.stderr).text().catch(() => "");
  }

  /** A Deno script run as a child (`deno run -A`), its stdin piped. */
  static deno(
    name: string,
    script: string | URL,
    args: string[] = [],
  ): LineChild {
    return new LineChild(name, Deno.execPath(), denoArgs(script, ...args), {
      stdin: "piped",
    });
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
  next(what = "a line", ms = 30_000): Promise<string | null> {
    return within(
      this.#next(),
      ms,
      `${what} from ${this.name}`,
      () => this.kill(),
    );
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
      this.kill();
      const stderr = await this.stderr(5_000).catch(() => "");
      throw new Error(
        `${this.name}: expected ${JSON.stringify(expected)}, got ${
          JSON.stringify(line)
        }; stderr: ${stderr.slice(-2000)}`,
      );
    }
  }

  /** Writes `text` to the child's stdin (spawned with `stdin: "piped"`). */
  write(text: string): Promise<void> {
    this.#writer ??= this.process.stdin.getWriter();
    return within(
      this.#writer.write(new TextEncoder().encode(text)),
      30_000,
      `writing to ${this.name}`,
      () => this.kill(),
    );
  }

  /** Writes one line to the child's stdin. */
  send(line: string): Promise<void> {
    return this.write(line + "\n");
  }

  /** Sends a signal if the child still runs (never throws). */
  kill(signal: Deno.Signal = "SIGKILL"): void {
    killQuietly(this.process, signal);
  }

  /** The exit status, under a watchdog that kills the child. */
  status(ms = 30_000): Promise<Deno.CommandStatus> {
    return within(
      this.process.status,
      ms,
      `exit of ${this.name}`,
      () => this.kill(),
    );
  }

  /** Everything the child wrote on stderr (complete once it has exited). */
  stderr(ms = 10_000): Promise<string> {
    return within(this.#stderr, ms, `stderr of ${this.name}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill();
    await within(this.process.status, 10_000, `exit of ${this.name}`)
      .catch(() => {});
    try {
      if (this.#writer) await this.#writer.close().catch(() => {});
      else this.process.stdin.close();
    } catch {
      // not piped, or closed already
    }
    await this.#lines.cancel().catch(() => {});
    await this.#stderr.catch(() => {});
  }
}

/** Writes a Deno script to a temp file and returns its path. */
export function scriptFile(dir: string, name: string, code: string): string {
  const path = `${dir}/${name}`;
  Deno.writeTextFileSync(path, code);
  return path;
}

/** The URL of the package root, for child scripts to import from. */
export const ROOT: string = new URL("../", import.meta.url).href;

// Warm up resources opened lazily on first use and kept for the life of the
// process — the crypto worker's event loop (an eventfd and an epoll fd), and
// the package's wait engine (its epoll set and wake eventfd) — so that leak
// checks see only what the code under test opens.
await sha256(new Uint8Array(1));
{
  const { reader, writer } = pipe();
  await reader.read(new Uint8Array(1), { timeout: 0 }).catch(() => {});
  reader.close();
  writer.close();
}
