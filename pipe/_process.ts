// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: posix_spawnp with an fd plan, the environment, and waiting for a
// child's exit through the engine (a pidfd on Linux ≥ 5.3, else waitpid
// polled on the engine's backoff schedule).

import {
  checkBoolean,
  checkMode,
  checkPath,
  CHILD_FD_MAX,
  cString,
  describe,
} from "../_check/mod.ts";
import { C, E, SIGNALS } from "../_ffi/constants.ts";
import { lastError, osError } from "../_ffi/errors.ts";
import {
  closeFd,
  dupCloseOnExec,
  fstat,
  isOpenFd,
  reopenFifo,
  setNonBlocking,
  statPath,
  statusFlags,
} from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { pin, readCString, readU64, unpinAll } from "../_ffi/memory.ts";
import { checkSignal, signalName } from "../_check/signals.ts";
import { pollSource, retry, type Source } from "../_wait/engine.ts";
import {
  FdHandle,
  handleOfFd,
  type HandOver,
  handOverOf,
} from "../_wait/fd_handle.ts";
import { Owner } from "../_wait/engine.ts";
import { pidfdOpen } from "../_wait/process.ts";
import { FOREVER } from "../_wait/options.ts";

/**
 * A file given to a child as stdio or an extra fd, opened by `spawn()` (in
 * this process, so an error names the file): for writing (created if
 * missing, truncated unless `append`), or for reading as stdin.
 *
 * @example A child's stderr appended to a log file
 * ```ts
 * import { type FileTarget, spawn } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const log: FileTarget = { path: `${dir}/app.log`, append: true };
 * await spawn("sh", { args: ["-c", "echo oops >&2"], stderr: log }).status;
 * await spawn("sh", { args: ["-c", "echo again >&2"], stderr: log }).status;
 * assertEquals(Deno.readTextFileSync(`${dir}/app.log`), "oops\nagain\n");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface FileTarget {
  /** The file. Relative paths are relative to this process's working directory. */
  path: string | URL;
  /** Append instead of truncating (output only). Default false. */
  append?: boolean;
  /** Permission bits of a file created for output. Default `0o666` minus the umask. */
  mode?: number;
}

/**
 * What a child's stdio or extra fd is connected to: a handle of this package
 * (pipe end, socket, listener, shared memory, …), any object with an `fd`, a
 * raw fd number, or a file.
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
export type FdSource = number | { readonly fd: number } | FileTarget;

/**
 * A stdio setting of `spawn()` and `pipeline()`.
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

/**
 * A child's stdout or stderr: a byte stream with the convenience readers of
 * Deno's subprocess streams.
 *
 * @example Read a child's output as text or JSON
 * ```ts
 * import { spawn, type SubprocessReadable } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const out: SubprocessReadable = spawn("echo", { args: ['{"ok":true}'], stdout: "piped" }).stdout;
 * assertEquals(await out.json(), { ok: true });
 * ```
 */
export interface SubprocessReadable
  extends ReadableStream<Uint8Array<ArrayBuffer>> {
  /** Everything, as bytes. */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
  /** Everything, as an `ArrayBuffer`. */
  arrayBuffer(): Promise<ArrayBuffer>;
  /** Everything, decoded as UTF-8. */
  text(): Promise<string>;
  /** Everything, parsed as JSON. */
  json(): Promise<unknown>;
}

/**
 * Gives a child's output stream the readers of Deno's subprocess streams.
 * Each is async, so a stream already read (locked or disturbed) gives a
 * rejected promise, as Deno's do, never a synchronous throw.
 */
export function subprocessReadable(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
): SubprocessReadable {
  const arrayBuffer = async () => await new Response(stream).arrayBuffer();
  return Object.assign(stream, {
    arrayBuffer,
    bytes: async () => new Uint8Array(await arrayBuffer()),
    text: async () => await new Response(stream).text(),
    json: async (): Promise<unknown> => await new Response(stream).json(),
  });
}

/** One planned descriptor of the child. */
export type FdPlan =
  | {
    kind: "dup";
    source: number;
    /** Closed by the plan after the spawn (a file it opened). */
    owned: boolean;
    handOver: HandOver | null;
  }
  | { kind: "null" };

/** Everything posix_spawnp needs, validated. */
export interface SpawnPlan {
  command: string;
  args: string[];
  cwd: string | undefined;
  env: Record<string, string> | undefined;
  clearEnv: boolean;
  fds: Map<number, FdPlan>;
  /** Extra variables set last (LISTEN_FDS, LISTEN_FDNAMES). */
  extraEnv: Record<string, string>;
  /** POSIX_SPAWN_SETPGROUP: 0 for a new group led by the child. */
  processGroup: number | undefined;
  /** POSIX_SPAWN_SETSID. */
  newSession: boolean;
  /** Run through `sh` to set LISTEN_PID to the child's own pid. */
  listenPid: boolean;
}

function isFileTarget(value: object): value is FileTarget {
  return "path" in value && !("fd" in value);
}

/** Opens a file target in this process (close-on-exec; the plan closes it). */
function openTarget(
  target: FileTarget,
  forInput: boolean,
  what: string,
  call: string,
): number {
  const path = checkPath(target.path, call, `${what} path`);
  const append = checkBoolean(target.append, `${what}.append`, call) ?? false;
  const mode = checkMode(target.mode, call) ?? 0o666;
  const flags = forInput
    ? C.O_RDONLY
    : C.O_WRONLY | C.O_CREAT | (append ? C.O_APPEND : C.O_TRUNC);
  const fd = libc().open(
    cString(path, call, "path"),
    flags | C.O_CLOEXEC | C.O_NOCTTY,
    mode,
  );
  if (fd === -1) {
    throw lastError(
      call,
      `cannot open ${JSON.stringify(path)} for the child's ${what}`,
    );
  }
  return fd;
}

const STDIO_WORDS = '"piped", "inherit", "null", ';
const FD_WORDS = "an fd number, a handle with an fd, or { path }";

/**
 * Validates an fd source (a raw fd number, a handle, or a file). `stdio`:
 * the value is a stdio setting, whose error message also lists the strings.
 */
export function fdSource(
  value: unknown,
  what: string,
  call: string,
  forInput: boolean,
  stdio = false,
): FdPlan {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError(
        `${call}: ${what} must be a non-negative integer fd, got ${
          describe(value)
        }`,
      );
    }
    if (!isOpenFd(value)) {
      throw new Deno.errors.BadResource(
        `${call}: ${what}: fd ${value} is not open`,
      );
    }
    return { kind: "dup", source: value, owned: false, handOver: null };
  }
  if (typeof value === "object" && value !== null) {
    if (isFileTarget(value)) {
      return {
        kind: "dup",
        source: openTarget(value, forInput, what, call),
        owned: true,
        handOver: null,
      };
    }
    if ("fd" in value) {
      const fd = (value as { fd: unknown }).fd;
      if (typeof fd !== "number" || !Number.isInteger(fd)) {
        throw new TypeError(
          `${call}: ${what}: the handle's fd is ${describe(fd)}`,
        );
      }
      if (fd < 0 || !isOpenFd(fd)) {
        throw new Deno.errors.BadResource(
          `${call}: ${what}: the handle is closed`,
        );
      }
      const handOver = handOverOf(value) ?? null;
      handOver?.check(call);
      return { kind: "dup", source: fd, owned: false, handOver };
    }
    if (value.constructor?.name === "FsFile") {
      throw new TypeError(
        `${call}: ${what} cannot be a Deno.FsFile (Deno does not expose its fd); pass { path } instead`,
      );
    }
  }
  throw new TypeError(
    `${call}: ${what} must be ${stdio ? STDIO_WORDS : ""}${FD_WORDS}, got ${
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
      `${call}: ${name} must be ${STDIO_WORDS}${FD_WORDS}, got ${
        describe(value)
      }`,
    );
  }
  return fdSource(value, name, call, name === "stdin", true);
}

/** Validates an extra-fd key. */
export function childFd(key: string, call: string): number {
  const target = Number(key);
  if (!Number.isInteger(target) || target < 3 || target > CHILD_FD_MAX) {
    throw new RangeError(
      `${call}: fds keys must be integers from 3 to ${CHILD_FD_MAX}, got ${
        JSON.stringify(key)
      }`,
    );
  }
  return target;
}

/** Validates the command, args, cwd, env and group options. */
export function basePlan(
  command: unknown,
  options: {
    args?: unknown;
    cwd?: unknown;
    env?: unknown;
    clearEnv?: unknown;
    processGroup?: unknown;
    newSession?: unknown;
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
  const cmd = checkPath(command, call, "command");
  const args = options.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) {
    throw new TypeError(`${call}: args must be an array of strings`);
  }
  const cwd = options.cwd === undefined
    ? undefined
    : checkPath(options.cwd, call, "cwd");
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
  const clearEnv = checkBoolean(options.clearEnv, "clearEnv", call) ?? false;
  const group = options.processGroup;
  let processGroup: number | undefined;
  if (group === true) processGroup = 0;
  else if (typeof group === "number") {
    if (!Number.isInteger(group) || group <= 0) {
      throw new RangeError(
        `${call}: processGroup must be true or a process group id (> 0), got ${group}`,
      );
    }
    processGroup = group;
  } else if (group !== undefined && group !== false) {
    throw new TypeError(
      `${call}: processGroup must be a boolean or a group id, got ${
        describe(group)
      }`,
    );
  }
  const newSession = checkBoolean(options.newSession, "newSession", call) ??
    false;
  if (newSession && processGroup !== undefined) {
    throw new TypeError(
      `${call}: newSession and processGroup exclude each other (a new session is a new group)`,
    );
  }
  return {
    command: cmd,
    args: args as string[],
    cwd,
    env: env as Record<string, string> | undefined,
    clearEnv,
    fds: new Map(),
    extraEnv: {},
    processGroup,
    newSession,
    listenPid: false,
  };
}

/** The address of libc's `environ` variable (a `char **`), or 0. */
function environAddress(): bigint {
  return BigInt(libc().dlsym(null, cString("environ")));
}

/** The current process environment as `environ` entries ("K=V"). */
function currentEnviron(): string[] {
  const address = environAddress();
  if (address === 0n) return [];
  const environ = readU64(address);
  const out: string[] = [];
  for (let i = 0n; environ !== 0n; i++) {
    const entry = readU64(environ + 8n * i);
    if (entry === 0n) break;
    out.push(readCString(entry, 1 << 20));
  }
  return out;
}

/**
 * A NULL-terminated `char *[]` of C strings, each pinned (see `pin`) until
 * the caller's `unpinAll()`, once the call that reads them has returned.
 */
function cStringArray(values: string[], call: string, what: string) {
  const array = new BigUint64Array(values.length + 1);
  values.forEach((v, i) => {
    array[i] = pin(cString(v, call, `${what} ${i}`));
  });
  return array;
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
 * A descriptor for the child that is blocking, as programs expect, without
 * changing this process's own. A pipe or FIFO end gets a fresh open file
 * description (reopened through /proc/self/fd), so its O_NONBLOCK is the
 * child's alone. A socket's description cannot be duplicated: it is made
 * blocking when this process is done with it (handed over) or when it is one
 * of this package's sockets (they never depend on O_NONBLOCK). Returns the fd
 * to dup2 and whether it is a new one to close.
 */
function blockingCopy(
  source: FdPlan & { kind: "dup" },
  call: string,
  restore: number[],
): { fd: number; fresh: boolean } {
  const fd = source.source;
  const kept = handleOfFd(fd);
  // A socket of this process given to a child is shared from now on: its
  // accept() must not depend on the flag the child is given (FdHandle.shared).
  if (kept?.kind === "socket") kept.markShared();
  const flags = statusFlags(fd, call);
  if ((flags & C.O_NONBLOCK) === 0) return { fd, fresh: false };
  const kind = fstat(fd, call).kind;
  if (kind === "fifo") {
    const copy = reopenFifo(fd, false, call);
    if (copy !== -1) return { fd: copy, fresh: true };
  }
  if (
    (kind === "fifo" || kind === "socket") &&
    (source.handOver || kept?.kind === "socket")
  ) {
    setNonBlocking(fd, false, call);
    if (source.handOver) restore.push(fd); // given back if the spawn fails
  }
  return { fd, fresh: false };
}

/**
 * Where `command` is found as `execvp` looks for it in the child — relative
 * names from the child's `cwd` — or the errno `execvp` would fail with
 * (EACCES when only non-executable files of that name were found, else
 * ENOENT).
 */
export function findProgram(
  command: string,
  env: Record<string, string> | undefined,
  clearEnv: boolean,
  cwd: string | undefined,
): string | number {
  const lib = libc();
  let denied = false;
  const executable = (path: string) => {
    const full = cwd !== undefined && !path.startsWith("/")
      ? `${cwd}/${path}`
      : path;
    if (statPath(full, "spawn()")?.kind !== "file") return false;
    if (lib.access(cString(full), 1 /* X_OK */) === 0) return true;
    denied = true;
    return false;
  };
  const notFound = () => denied ? E.EACCES : E.ENOENT;
  if (command.includes("/")) return executable(command) ? command : notFound();
  const path = env?.["PATH"] ??
    (clearEnv ? undefined : Deno.env.get("PATH")) ??
    "/usr/local/bin:/usr/bin:/bin";
  for (const dir of path.split(":")) {
    const candidate = `${dir || "."}/${command}`;
    if (executable(candidate)) return candidate;
  }
  return notFound();
}

/**
 * Starts `plan` with posix_spawnp. Children get default dispositions for every
 * signal, an empty signal mask, blocking descriptors, and only the fds of the
 * plan (plus 0–2 when inherited). Handles stay with the caller: see
 * {@linkcode handOver}.
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
  const restore: number[] = [];
  const fa = new Uint8Array(C.SIZEOF_SPAWN_FILE_ACTIONS);
  const attr = new Uint8Array(C.SIZEOF_SPAWNATTR);
  lib.posix_spawn_file_actions_init(fa);
  lib.posix_spawnattr_init(attr);
  let started = false;
  try {
    const devNull = cString("/dev/null");
    for (const [target, source] of plan.fds) {
      if (source.kind === "null") {
        const flags = target === 0 ? C.O_RDONLY : C.O_WRONLY;
        check0(
          lib.posix_spawn_file_actions_addopen(fa, target, devNull, flags, 0),
          call,
        );
        continue;
      }
      const { fd, fresh } = blockingCopy(source, call, restore);
      if (fresh) temps.push(fd);
      const temp = dupCloseOnExec(fd, call, floor);
      temps.push(temp);
      // dup2 clears close-on-exec on the child's copy.
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
      const cwd = cString(plan.cwd, call, "cwd");
      check0(lib.posix_spawn_file_actions_addchdir_np(fa, cwd), call);
    }
    const [sigdef, sigmask] = signalSets();
    check0(lib.posix_spawnattr_setsigdefault(attr, sigdef), call);
    check0(lib.posix_spawnattr_setsigmask(attr, sigmask), call);
    let flags = C.POSIX_SPAWN_SETSIGDEF | C.POSIX_SPAWN_SETSIGMASK |
      C.POSIX_SPAWN_CLOEXEC_DEFAULT;
    if (plan.processGroup !== undefined) {
      flags |= C.POSIX_SPAWN_SETPGROUP;
      check0(lib.posix_spawnattr_setpgroup(attr, plan.processGroup), call);
    }
    if (plan.newSession) flags |= C.POSIX_SPAWN_SETSID;
    check0(lib.posix_spawnattr_setflags(attr, flags), call);

    let file = plan.command;
    let argv = [plan.command, ...plan.args];
    if (plan.listenPid) {
      // LISTEN_PID must be the child's pid, known only in the child: a shell
      // sets it and then becomes the program (exec keeps the pid).
      const found = findProgram(
        plan.command,
        plan.env,
        plan.clearEnv,
        plan.cwd,
      );
      if (typeof found === "number") throw spawnError(found, plan, call);
      file = "/bin/sh";
      argv = [
        "sh",
        "-c",
        'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"',
        plan.command,
        ...plan.args,
      ];
    }
    const argvArray = cStringArray(argv, call, "argument");
    let envp: bigint;
    const extra = Object.entries(plan.extraEnv);
    if (plan.env === undefined && !plan.clearEnv && extra.length === 0) {
      const address = environAddress();
      envp = address === 0n ? 0n : readU64(address);
    } else {
      const merged = new Map<string, string>();
      if (!plan.clearEnv) {
        for (const entry of currentEnviron()) {
          const eq = entry.indexOf("=");
          if (eq > 0) merged.set(entry.slice(0, eq), entry.slice(eq + 1));
        }
      }
      for (const [k, v] of Object.entries(plan.env ?? {})) merged.set(k, v);
      for (const [k, v] of extra) merged.set(k, v);
      const envArray = cStringArray(
        [...merged].map(([k, v]) => `${k}=${v}`),
        call,
        "environment entry",
      );
      envp = pin(envArray);
    }
    const pidOut = new Int32Array(1);
    const rc = lib.posix_spawnp(
      pidOut,
      cString(file, call, "command"),
      fa,
      attr,
      argvArray,
      envp,
    );
    if (rc !== 0) throw spawnError(rc, plan, call);
    started = true;
    return pidOut[0]!;
  } finally {
    if (!started) { for (const fd of restore) setNonBlocking(fd, true, call); }
    for (const fd of temps) closeFd(fd);
    for (const source of plan.fds.values()) {
      if (source.kind === "dup" && source.owned) closeFd(source.source);
    }
    lib.posix_spawn_file_actions_destroy(fa);
    lib.posix_spawnattr_destroy(attr);
    unpinAll();
  }
}

/** The distinct hand-overs of plans, each once (one stderr for every stage). */
export function handOvers(plans: readonly SpawnPlan[]): HandOver[] {
  const out = new Set<HandOver>();
  for (const plan of plans) {
    for (const source of plan.fds.values()) {
      if (source.kind === "dup" && source.handOver) out.add(source.handOver);
    }
  }
  return [...out];
}

function check0(rc: number, call: string): void {
  if (rc !== 0) throw osError(rc, call, "cannot prepare the child");
}

function spawnError(code: number, plan: SpawnPlan, call: string): Error {
  const what = `cannot spawn ${JSON.stringify(plan.command)}`;
  if (
    code === E.ENOENT && plan.cwd !== undefined &&
    statPath(plan.cwd, call) === null
  ) {
    return osError(code, call, `${what}: no working directory "${plan.cwd}"`);
  }
  return osError(code, call, what);
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

/** A started child: its pid, its exit watch and its exit status. */
export class Child {
  readonly pid: number;
  /** The process group it leads, when it was started in a new one. */
  readonly pgid: number | null;
  readonly status: Promise<ChildStatus>;
  #pidfd: FdHandle | null = null;
  #owner: Owner;
  #exited = false;

  constructor(pid: number, leadsGroup: boolean) {
    this.pid = pid;
    this.pgid = leadsGroup ? pid : null;
    this.#owner = new Owner(`child process ${pid}`);
    const fd = pidfdOpen(pid);
    if (fd >= 0) this.#pidfd = new FdHandle(fd, `child process ${pid}`);
    this.status = this.#wait();
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Lets (or stops letting) the wait for this child keep the process alive. */
  setRef(ref: boolean): void {
    this.#owner.setRef(ref);
    this.#pidfd?.setRef(ref);
  }

  #reap(): ChildStatus | undefined {
    const buf = new Int32Array(1);
    const r = libc().waitpid(this.pid, buf, C.WNOHANG);
    if (r === this.pid) return decodeStatus(buf[0]!);
    if (r === -1 && errno() !== E.EINTR) {
      // ECHILD: reaped elsewhere (SIGCHLD ignored); the status is unknown.
      return { success: false, code: -1, signal: null };
    }
    return undefined;
  }

  async #wait(): Promise<ChildStatus> {
    const call = "ChildProcess.status";
    const source: Source = this.#pidfd
      ? this.#pidfd.source(C.POLLIN)
      : pollSource(() => true);
    const owner = this.#pidfd?.owner ?? this.#owner;
    try {
      return await retry(
        owner,
        call,
        "is still running",
        [source],
        FOREVER,
        () => this.#reap(),
      );
    } finally {
      this.#exited = true;
      this.#pidfd?.close();
      this.#pidfd = null;
    }
  }

  /**
   * Sends a signal: through the pidfd when there is one (a reused pid is
   * never hit), to the whole group with `group`. A group outlives its
   * leader while any member runs (a job's later stages, a daemon's
   * background work), so with `group` the signal is sent even after this
   * child has exited, as a shell's `kill -- -PGID`.
   *
   * @returns False when nothing was sent: the child (with `group`, every
   * member of its group) has already exited.
   * @throws {TypeError} If the signal is unknown, or `group` is asked of a child that leads no group.
   */
  kill(signal: Deno.Signal, call: string, group = false): boolean {
    const signo = checkSignal(signal, call);
    if (group && this.pgid === null) {
      throw new TypeError(
        `${call}: child process ${this.pid} was not started in its own group (spawn with processGroup: true or newSession: true)`,
      );
    }
    if (this.#exited && !group) return false;
    const lib = libc();
    let r: number;
    if (group) {
      r = lib.kill(-this.pgid!, signo);
    } else if (this.#pidfd && lib.sys_pidfd_send_signal) {
      r = Number(
        lib.sys_pidfd_send_signal(
          BigInt(C.SYS_pidfd_send_signal),
          this.#pidfd.fd,
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
      if (code === E.ESRCH) return false; // exited, not yet reaped
      throw osError(
        code,
        call,
        `cannot send ${signal} to ${
          group ? "process group" : "process"
        } ${this.pid}`,
      );
    }
    return true;
  }
}
