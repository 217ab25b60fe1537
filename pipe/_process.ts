// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: posix_spawnp with an fd plan, environment building, and waiting
// for a child's exit through a pidfd (Linux ≥ 5.3) or WNOHANG polling.

import { C, E, IS_LINUX, SIGNALS } from "../_ffi/constants.ts";
import { cString, describe, toPath } from "../_ffi/cstring.ts";
import { osError } from "../_ffi/errno.ts";
import {
  closeFd,
  dupCloseOnExec,
  isNonBlocking,
  isOpenFd,
  setNonBlocking,
  statPath,
} from "../_ffi/fd.ts";
import { HAND_OVER, type HandOver, isHandOver } from "../_ffi/handle.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { waitFd } from "../_ffi/poll.ts";
import { signalName, signalNumber } from "../_ffi/signals.ts";

/**
 * What a child's stdio or extra fd is connected to.
 *
 * @example A raw fd or a handle
 * ```ts
 * import { type FdSource, pipe, spawn } from "@posix/ipc/pipe";
 *
 * const { reader, writer } = pipe();
 * const source: FdSource = writer; // or a raw number, e.g. writer.fd
 * await spawn("sh", { args: ["-c", "echo hi >&3"], fds: { 3: source } }).status;
 * reader.close();
 * ```
 */
export type FdSource = number | { readonly fd: number };

/**
 * A stdio setting of `spawn()`.
 *
 * @example Discard a child's output
 * ```ts
 * import { spawn, type StdioOption } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const quiet: StdioOption = "null";
 * const status = await spawn("echo", { args: ["unseen"], stdout: quiet }).status;
 * assertEquals(status.code, 0);
 * ```
 */
export type StdioOption = "piped" | "inherit" | "null" | FdSource;

/**
 * The exit status of a child process.
 *
 * @example Exit codes and signals
 * ```ts
 * import { type ChildStatus, spawn } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const child = spawn("sleep", { args: ["10"] });
 * child.kill("SIGKILL");
 * const status: ChildStatus = await child.status;
 * assertEquals(status, { success: false, code: 137, signal: "SIGKILL" });
 * ```
 */
export interface ChildStatus {
  /** True when the child exited with code 0. */
  success: boolean;
  /** The exit code; 128 + the signal number when killed by a signal. */
  code: number;
  /** The signal that killed the child, or null. */
  signal: Deno.Signal | null;
}

/** One planned descriptor of the child. */
export type FdPlan =
  | { kind: "dup"; source: number; handOver: HandOver | null }
  | { kind: "null" };

/** Everything posix_spawnp needs, validated. */
export interface SpawnPlan {
  command: string;
  args: string[];
  cwd: string | undefined;
  env: Record<string, string> | undefined;
  clearEnv: boolean;
  fds: Map<number, FdPlan>;
}

/** Validates an fd source (a raw fd number or a handle). */
export function fdSource(value: unknown, what: string): FdPlan {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError(
        `${what} must be a non-negative integer fd, got ${describe(value)}`,
      );
    }
    if (!isOpenFd(value)) {
      throw new Deno.errors.BadResource(`${what}: fd ${value} is not open`);
    }
    return { kind: "dup", source: value, handOver: null };
  }
  if (typeof value === "object" && value !== null && "fd" in value) {
    const fd = (value as { fd: unknown }).fd;
    if (typeof fd !== "number" || !Number.isInteger(fd)) {
      throw new TypeError(`${what}: the handle's fd is ${describe(fd)}`);
    }
    if (fd < 0 || !isOpenFd(fd)) {
      throw new Deno.errors.BadResource(`${what}: the handle is closed`);
    }
    return {
      kind: "dup",
      source: fd,
      handOver: isHandOver(value) ? value : null,
    };
  }
  throw new TypeError(
    `${what} must be an fd number or a handle with an fd, got ${
      describe(value)
    }`,
  );
}

/** Validates a stdio option; `piped` is returned as is for the caller to make. */
export function stdioOption(
  value: unknown,
  name: string,
  call: string,
): "piped" | "inherit" | FdPlan {
  if (value === undefined || value === "inherit") return "inherit";
  if (value === "piped") return "piped";
  if (value === "null") return { kind: "null" };
  if (typeof value === "string") {
    throw new TypeError(
      `${call}: ${name} must be "piped", "inherit", "null", an fd number or a handle, got ${
        describe(value)
      }`,
    );
  }
  return fdSource(value, `${call}: ${name}`);
}

/** Validates the command, args, cwd and env options. */
export function basePlan(
  command: unknown,
  options: {
    args?: unknown;
    cwd?: unknown;
    env?: unknown;
    clearEnv?: unknown;
  },
  call: string,
): SpawnPlan {
  if (typeof command !== "string" && !(command instanceof URL)) {
    throw new TypeError(
      `${call}: command must be a string or a file: URL, got ${
        describe(command)
      }`,
    );
  }
  const cmd = toPath(command, call);
  const args = options.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) {
    throw new TypeError(`${call}: args must be an array of strings`);
  }
  const cwd = options.cwd === undefined
    ? undefined
    : toPath(options.cwd, `${call}: cwd`);
  const env = options.env;
  if (env !== undefined) {
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      throw new TypeError(
        `${call}: env must be a record of strings, got ${describe(env)}`,
      );
    }
    for (const [k, v] of Object.entries(env)) {
      if (typeof v !== "string" || k === "" || k.includes("=")) {
        throw new TypeError(
          `${call}: env entry ${
            JSON.stringify(k)
          } must have a name without "=" and a string value`,
        );
      }
    }
  }
  if (options.clearEnv !== undefined && typeof options.clearEnv !== "boolean") {
    throw new TypeError(`${call}: clearEnv must be a boolean`);
  }
  return {
    command: cmd,
    args: args as string[],
    cwd,
    env: env as Record<string, string> | undefined,
    clearEnv: options.clearEnv === true,
    fds: new Map(),
  };
}

/** The current process environment as `environ` entries ("K=V"). */
function currentEnviron(): string[] {
  const address = libc().dlsym(null, cString("environ"));
  if (!address) return [];
  const environ = new Deno.UnsafePointerView(address).getPointer();
  if (!environ) return [];
  const view = new Deno.UnsafePointerView(environ);
  const out: string[] = [];
  for (let i = 0;; i++) {
    const entry = view.getPointer(i * 8);
    if (!entry) break;
    out.push(Deno.UnsafePointerView.getCString(entry));
  }
  return out;
}

/** A NULL-terminated `char *[]` and the C strings it points to (kept alive). */
function cStringArray(values: string[], what: string) {
  const strings = values.map((v, i) => cString(v, `${what} ${i}`));
  const array = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => {
    array[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s)));
  });
  return { array, strings };
}

let sigDefault: Uint8Array | undefined;
let sigEmpty: Uint8Array | undefined;

function signalSets(): [Uint8Array, Uint8Array] {
  if (!sigDefault || !sigEmpty) {
    const lib = libc();
    sigDefault = new Uint8Array(C.SIZEOF_SIGSET);
    sigEmpty = new Uint8Array(C.SIZEOF_SIGSET);
    lib.sigemptyset(sigDefault);
    lib.sigemptyset(sigEmpty);
    for (const [name, n] of Object.entries(SIGNALS)) {
      if (name !== "SIGKILL" && name !== "SIGSTOP") {
        lib.sigaddset(sigDefault, n);
      }
    }
  }
  return [sigDefault, sigEmpty];
}

/**
 * Starts `plan` with posix_spawnp. Children get default dispositions for every
 * signal and an empty signal mask, and only the fds of the plan (plus 0–2 when
 * inherited). Handles stay with the caller: see {@linkcode handOver}.
 *
 * @returns The child's pid.
 */
export function spawnPlan(plan: SpawnPlan, call: string): number {
  const lib = libc();
  const targets = [...plan.fds.keys()];
  // Sources are duplicated at or above `floor`, so no dup2 clobbers another
  // mapping's source; everything else the child would inherit is closed.
  const floor = Math.max(2, ...targets) + 1;
  const temps: number[] = [];
  const restoreNonBlocking: number[] = [];
  const fa = new Uint8Array(C.SIZEOF_SPAWN_FILE_ACTIONS);
  const attr = new Uint8Array(C.SIZEOF_SPAWNATTR);
  lib.posix_spawn_file_actions_init(fa);
  lib.posix_spawnattr_init(attr);
  const keep: Uint8Array[] = [];
  try {
    const devNull = cString("/dev/null");
    keep.push(devNull);
    // Duplicate every source above all targets first, so that one dup2 never
    // clobbers another mapping's source; dup2 then clears close-on-exec.
    for (const [target, source] of plan.fds) {
      if (source.kind === "null") {
        const flags = target === 0 ? C.O_RDONLY : C.O_WRONLY;
        check0(
          lib.posix_spawn_file_actions_addopen(fa, target, devNull, flags, 0),
          call,
        );
        continue;
      }
      const temp = dupCloseOnExec(source.source, floor);
      temps.push(temp);
      // Children expect blocking descriptors; our ends are O_NONBLOCK.
      if (source.handOver && isNonBlocking(temp)) {
        setNonBlocking(temp, false);
        restoreNonBlocking.push(temp);
      }
      check0(lib.posix_spawn_file_actions_adddup2(fa, temp, target), call);
    }
    // Close what is neither stdio nor mapped, even fds that some other code
    // left without close-on-exec (closing an fd that is not open is ignored).
    for (let fd = 3; fd < floor; fd++) {
      if (!plan.fds.has(fd)) {
        check0(lib.posix_spawn_file_actions_addclose(fa, fd), call);
      }
    }
    if (lib.posix_spawn_file_actions_addclosefrom_np) {
      check0(lib.posix_spawn_file_actions_addclosefrom_np(fa, floor), call);
    }
    if (plan.cwd !== undefined) {
      if (!lib.posix_spawn_file_actions_addchdir_np) {
        throw new Deno.errors.NotSupported(
          `${call}: cwd needs posix_spawn_file_actions_addchdir_np (glibc ≥ 2.29)`,
        );
      }
      const cwd = cString(plan.cwd, "cwd");
      keep.push(cwd);
      check0(lib.posix_spawn_file_actions_addchdir_np(fa, cwd), call);
    }
    const [sigdef, sigmask] = signalSets();
    check0(lib.posix_spawnattr_setsigdefault(attr, sigdef), call);
    check0(lib.posix_spawnattr_setsigmask(attr, sigmask), call);
    check0(
      lib.posix_spawnattr_setflags(
        attr,
        C.POSIX_SPAWN_SETSIGDEF | C.POSIX_SPAWN_SETSIGMASK |
          C.POSIX_SPAWN_CLOEXEC_DEFAULT,
      ),
      call,
    );

    const argv = cStringArray([plan.command, ...plan.args], "argument");
    let envp: Deno.PointerValue;
    let envKeep: unknown;
    if (plan.env === undefined && !plan.clearEnv) {
      const address = lib.dlsym(null, cString("environ"));
      envp = address ? new Deno.UnsafePointerView(address).getPointer() : null;
    } else {
      const merged = new Map<string, string>();
      if (!plan.clearEnv) {
        for (const entry of currentEnviron()) {
          const eq = entry.indexOf("=");
          if (eq > 0) merged.set(entry.slice(0, eq), entry.slice(eq + 1));
        }
      }
      for (const [k, v] of Object.entries(plan.env ?? {})) merged.set(k, v);
      const envArray = cStringArray(
        [...merged].map(([k, v]) => `${k}=${v}`),
        "environment entry",
      );
      envKeep = envArray;
      envp = Deno.UnsafePointer.of(envArray.array);
    }
    const file = cString(plan.command, "command");
    const pidOut = new Int32Array(1);
    const rc = lib.posix_spawnp(pidOut, file, fa, attr, argv.array, envp);
    void envKeep;
    void argv.strings;
    if (rc !== 0) throw spawnError(rc, plan);
    restoreNonBlocking.length = 0;
    return pidOut[0]!;
  } finally {
    for (const fd of restoreNonBlocking) setNonBlocking(fd, true);
    for (const fd of temps) closeFd(fd);
    lib.posix_spawn_file_actions_destroy(fa);
    lib.posix_spawnattr_destroy(attr);
    void keep;
  }
}

/** Gives up this process's copies of the handles a started plan handed over. */
export function handOver(plan: SpawnPlan): void {
  const done = new Set<HandOver>();
  for (const source of plan.fds.values()) {
    if (
      source.kind === "dup" && source.handOver && !done.has(source.handOver)
    ) {
      done.add(source.handOver);
      source.handOver[HAND_OVER]();
    }
  }
}

/** Restores O_NONBLOCK on handed-over sources after a failed start. */
export function keepNonBlocking(plan: SpawnPlan): void {
  for (const source of plan.fds.values()) {
    if (source.kind === "dup" && source.handOver && source.handOver.fd >= 0) {
      setNonBlocking(source.handOver.fd, true);
    }
  }
}

function check0(rc: number, call: string): void {
  if (rc !== 0) throw osError(rc, `${call}: cannot prepare the child`);
}

function spawnError(code: number, plan: SpawnPlan): Error {
  const what = `Cannot spawn ${JSON.stringify(plan.command)}`;
  if (
    code === E.ENOENT && plan.cwd !== undefined &&
    statPath(cString(plan.cwd), what) === null
  ) {
    return osError(code, `${what}: the working directory "${plan.cwd}"`);
  }
  return osError(code, what);
}

/** Decodes a `waitpid` status. */
export function decodeStatus(wstatus: number): ChildStatus {
  const termsig = wstatus & 0x7f;
  if (termsig === 0) {
    const code = (wstatus >> 8) & 0xff;
    return { success: code === 0, code, signal: null };
  }
  return { success: false, code: 128 + termsig, signal: signalName(termsig) };
}

/** A started child: its pid, its pidfd (Linux) and its exit status. */
export class Child {
  readonly pid: number;
  readonly status: Promise<ChildStatus>;
  #pidfd = -1;
  #exited = false;

  constructor(pid: number) {
    this.pid = pid;
    const lib = libc();
    if (IS_LINUX && lib.sys_pidfd_open) {
      const r = Number(lib.sys_pidfd_open(BigInt(C.SYS_pidfd_open), pid, 0));
      if (r >= 0) this.#pidfd = r;
    }
    this.status = this.#wait();
  }

  get exited(): boolean {
    return this.#exited;
  }

  async #wait(): Promise<ChildStatus> {
    const lib = libc();
    const buf = new Int32Array(1);
    let delay = 1;
    try {
      for (;;) {
        const r = lib.waitpid(this.pid, buf, C.WNOHANG);
        if (r === this.pid) return decodeStatus(buf[0]!);
        if (r === -1 && errno() !== E.EINTR) {
          // ECHILD: reaped elsewhere (SIGCHLD ignored); the status is unknown.
          return { success: false, code: -1, signal: null };
        }
        if (this.#pidfd >= 0) {
          await waitFd(this.#pidfd, C.POLLIN);
        } else {
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 50);
        }
      }
    } finally {
      this.#exited = true;
      closeFd(this.#pidfd);
      this.#pidfd = -1;
    }
  }

  /**
   * Sends a signal (pidfd_send_signal when available, so a reused pid is
   * never hit).
   *
   * @throws {TypeError} If the child has exited or the signal is unknown.
   */
  kill(signal: Deno.Signal | number, call: string): void {
    const signo = signalNumber(signal, call);
    if (this.#exited) {
      throw new TypeError(
        `${call}: child process ${this.pid} has already exited`,
      );
    }
    const lib = libc();
    let r: number;
    if (this.#pidfd >= 0 && lib.sys_pidfd_send_signal) {
      r = Number(
        lib.sys_pidfd_send_signal(
          BigInt(C.SYS_pidfd_send_signal),
          this.#pidfd,
          signo,
          null,
          0,
        ),
      );
    } else {
      r = lib.kill(this.pid, signo);
    }
    if (r === -1) {
      const code = errno();
      if (code === E.ESRCH) return; // exited, not yet reaped
      throw osError(code, `${call}: cannot signal process ${this.pid}`);
    }
  }
}
