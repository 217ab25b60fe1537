// Copyright 2026 the posix-ipc authors. MIT license.
// Test helpers: fd and IPC-object leak checks, random names, watchdogs, C
// peers compiled on the fly, Deno child processes.

import { waitingFor } from "./_harness.ts";
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
 * Runs `fn` and checks that every fd it opened was closed again. Waits a few
 * turns of the event loop for deferred closes first.
 */
export async function assertNoFdLeak(
  fn: () => Promise<void> | void,
): Promise<void> {
  const before = openFds();
  await fn();
  let leaked: string[] = [];
  for (let i = 0; i < 50; i++) {
    const after = openFds();
    leaked = [...after].filter(([fd, target]) => before.get(fd) !== target)
      .map(([fd, target]) => `${fd} -> ${target}`);
    if (leaked.length === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assertEquals(leaked, [], "fds opened and not closed");
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

/** Rejects when `promise` does not settle within `ms` (a watchdog, not a timing assertion). */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Watchdog: ${what} did not finish in ${ms} ms`)),
      ms,
    );
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

/** Mount and IPC namespaces of a test's own (see {@linkcode privateIpc}). */
export interface PrivateIpc extends AsyncDisposable {
  /** Where this process sees the namespace's files: `${root}/dev/shm`. */
  readonly root: string;
  /**
   * Arguments for `nsenter` that run `command` inside:
   * `new Deno.Command("nsenter", { args: ns.enter(command, ...args) })`
   * (nsenter execs it: the child's pid is the command's).
   */
  enter(command: string, ...args: string[]): string[];
}

/**
 * New mount and IPC namespaces with an empty /dev/shm and /dev/mqueue of
 * their own, for tests of machine-wide sweeps (`ipc rm --stale`): inside,
 * they reach nothing of other processes or other test runs, and another
 * run's sweep cannot reach this test's objects. Needs root, unshare and
 * nsenter. A holder process keeps the namespaces until disposal.
 */
export async function privateIpc(): Promise<PrivateIpc> {
  const holder = new Deno.Command("unshare", {
    args: [
      "--mount",
      "--ipc",
      "--propagation",
      "private",
      "--",
      "sh",
      "-ec",
      `mount -t tmpfs -o size=64m,mode=1777 pipc-test /dev/shm
mount -t mqueue pipc-test /dev/mqueue
echo ready
exec sleep 2147483647`,
    ],
    stdout: "piped",
  }).spawn();
  const lines = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const dispose = async () => {
    try {
      holder.kill("SIGKILL");
    } catch {
      // already gone
    }
    await lines.cancel();
    await holder.status;
  };
  try {
    await readUntil(lines, "ready");
  } catch (error) {
    await dispose();
    throw error;
  }
  const pid = String(holder.pid);
  return {
    root: `/proc/${pid}/root`,
    enter: (command, ...args) => [
      "--target",
      pid,
      "--mount",
      "--ipc",
      "--",
      command,
      ...args,
    ],
    [Symbol.asyncDispose]: dispose,
  };
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

/** Runs a Deno script (a file URL or path) as a child process with -A. */
export function denoArgs(script: string | URL, ...args: string[]): string[] {
  const path = script instanceof URL ? script.pathname : script;
  return ["run", "--allow-all", "--quiet", path, ...args];
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
