// Copyright 2026 the posix-ipc authors. MIT license.
// The test harness: a watchdog for every test, and optional peers.
//
// The watchdog. Importing this module (every test file does, through
// _helpers.ts) gives each test of the file a deadline, 60 s unless the body
// calls `deadline(ms)`. When it passes:
//   1. every wait the test labelled (`within()`, `pollFor()`, `waitUntil()`,
//      `waitForever()`) is rejected with the watchdog's error;
//   2. every process this test process started (its descendants, from
//      /proc) is killed with SIGKILL, so waits on a peer end too;
//   3. the test fails with "Watchdog: test did not finish within N ms; it
//      was waiting for <labels>; killed <pid (command)…>".
// A body still stuck 2 s later (a wait that is neither labelled nor on a
// process) is abandoned: an uncaught error with the same message fails the
// file and the runner moves on to the next one. A body blocked inside a
// synchronous call cannot be interrupted from JavaScript at all; the whole
// run has its own bound for that (tests/_run_bounded.ts, `deno task test`).
// Tests run one at a time (deno test's default), so the descendants of this
// process at expiry are the ones the running test started.
//
// Optional peers. `socat`, `gcc`, `python3`, a mounted `/dev/mqueue`,
// `setpriv`, `setsid`, `unshare`, `strace`, `systemd-socket-activate` and
// root rights are not on every machine. A file declares what a
// test needs, `const socat = needs("socat")`, and registers the test with
// `socat.test(...)` instead of `Deno.test(...)`: the very same `Deno.test`
// when the peer is there, otherwise the test is registered as ignored with
// the reason and the install hint in its name:
//
//   peer death: … (socat peer) [ignored: needs socat (apt-get install socat)] ... ignored
//
// Steps: `const py = python3.in(t)`, then `py.step(...)` for `t.step(...)`.
// `Deno.test({ name, fn, … })` works the same: `socat.test({ … })`. Gates
// combine: `needs("strace").and(kernelHas("futex_waitv", …))`; a kernel
// facility is not a peer, and its reason reads "the kernel lacks …".
// CI (.ci/run) installs every peer and fails if a test was ignored this way.

/** A program or facility some tests need and a bare machine may lack. */
export type Peer =
  | "socat"
  | "gcc"
  | "python3"
  | "/dev/mqueue"
  | "setpriv"
  | "setsid"
  | "unshare"
  | "strace"
  | "systemd-socket-activate"
  | "root";

/** The deadline of a test unless it calls {@linkcode deadline}, in milliseconds. */
export const DEFAULT_TIMEOUT = 60_000;
/** How long after the deadline a stuck body is abandoned, in milliseconds. */
const ABANDON_AFTER = 2_000;

// ---------------------------------------------------------------- peers

/** Whether `command` is an executable file in a directory of PATH. */
export function onPath(command: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${command}`);
      if (info.isFile && (info.mode! & 0o111) !== 0) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether a filesystem of `type` is mounted at `path` (from mountinfo). */
function mounted(path: string, type: string): boolean {
  try {
    return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").some(
      (line) => {
        // id parent major:minor root MOUNTPOINT options … - FSTYPE source …
        const [left, right] = line.split(" - ");
        return left?.split(" ")[4] === path && right?.split(" ")[0] === type;
      },
    );
  } catch {
    return false;
  }
}

const PEERS: Record<Peer, { hint: string; present: () => boolean }> = {
  socat: { hint: "apt-get install socat", present: () => onPath("socat") },
  gcc: {
    hint: "apt-get install gcc libc6-dev",
    present: () => onPath("gcc") && exists("/usr/include/stdio.h"),
  },
  python3: {
    hint: "apt-get install python3",
    present: () => onPath("python3"),
  },
  "/dev/mqueue": {
    hint: "mount -t mqueue none /dev/mqueue",
    present: () => mounted("/dev/mqueue", "mqueue"),
  },
  setpriv: {
    hint: "apt-get install util-linux",
    present: () => onPath("setpriv"),
  },
  setsid: {
    hint: "apt-get install util-linux",
    present: () => onPath("setsid"),
  },
  // Mount and IPC namespaces of a test's own: unshare and nsenter, as root.
  unshare: {
    hint: "apt-get install util-linux; run as root",
    present: () => onPath("unshare") && onPath("nsenter") && Deno.uid() === 0,
  },
  strace: { hint: "apt-get install strace", present: () => onPath("strace") },
  "systemd-socket-activate": {
    hint: "apt-get install systemd",
    present: () => onPath("systemd-socket-activate"),
  },
  // Tests that change uids or capabilities, mount, or read other users'
  // /proc entries.
  root: { hint: "run the tests as root", present: () => Deno.uid() === 0 },
};

const presence = new Map<Peer, boolean>();

/** The peers of `wanted` that this machine lacks (each checked once). */
export function missingPeers(wanted: readonly Peer[]): Peer[] {
  return wanted.filter((peer) => {
    if (!presence.has(peer)) presence.set(peer, PEERS[peer].present());
    return !presence.get(peer);
  });
}

/** `needs socat (apt-get install socat), gcc (…)`: why a test is ignored. */
export function needsText(missing: readonly Peer[]): string {
  return `needs ${
    missing.map((peer) => `${peer} (${PEERS[peer].hint})`).join(", ")
  }`;
}

type TestFn = (t: Deno.TestContext) => void | Promise<void>;
type TestOptions = Omit<Deno.TestDefinition, "name" | "fn">;

/** `Deno.test(name, fn)`, `Deno.test(name, options, fn)` and `Deno.test(definition)`. */
export interface GatedTest {
  (name: string, fn: TestFn): void;
  (name: string, options: TestOptions, fn: TestFn): void;
  (definition: Deno.TestDefinition): void;
}

/** `t.step(name, fn)`. */
export interface GatedStep {
  (name: string, fn: TestFn): Promise<boolean>;
}

/** What {@linkcode needs} returns: test and step registration for some peers. */
export interface Gate {
  /** The peers this machine lacks (empty when all are there). */
  readonly missing: readonly Peer[];
  /** Why the gated tests are ignored here (empty when they run). */
  readonly reasons: readonly string[];
  /** `Deno.test` itself when every peer is there; else registers the test ignored, saying why. */
  readonly test: GatedTest;
  /** `{ step }` for a test's steps: `t.step` itself, or one registering ignored steps. */
  in(t: Deno.TestContext): { step: GatedStep };
  /** A gate for what both this one and `other` need. */
  and(other: Gate): Gate;
}

function gate(missing: readonly Peer[], reasons: readonly string[]): Gate {
  const why = ` [ignored: ${reasons.join("; ")}]`;
  const ignored: GatedTest = (
    nameOrDefinition: string | Deno.TestDefinition,
    optionsOrFn?: TestOptions | TestFn,
    maybeFn?: TestFn,
  ) => {
    if (typeof nameOrDefinition !== "string") {
      const definition = nameOrDefinition;
      Deno.test({ ...definition, name: definition.name + why, ignore: true });
      return;
    }
    const options = typeof optionsOrFn === "function" ? {} : optionsOrFn;
    const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn!;
    Deno.test({ ...options, name: nameOrDefinition + why, ignore: true, fn });
  };
  return {
    missing,
    reasons,
    test: reasons.length ? ignored : Deno.test,
    in: (t) => ({
      step: reasons.length
        ? (name, fn) => t.step({ name: name + why, ignore: true, fn })
        : t.step.bind(t),
    }),
    and: (other) =>
      gate([...missing, ...other.missing], [...reasons, ...other.reasons]),
  };
}

/**
 * Test and step registration for tests that need `peers`:
 * `const socat = needs("socat"); socat.test("name", fn)`.
 */
export function needs(...peers: Peer[]): Gate {
  const missing = missingPeers(peers);
  return gate(missing, missing.length ? [needsText(missing)] : []);
}

/**
 * Registration for tests of a kernel facility that some kernels lack (not
 * a peer CI can install): ignored where `present` is false, the test's name
 * saying `[ignored: the kernel lacks FEATURE (HINT)]`.
 */
export function kernelHas(
  feature: string,
  present: boolean,
  hint: string,
): Gate {
  return onlyWhere(present, `the kernel lacks ${feature} (${hint})`);
}

/**
 * Registration for tests that cannot run on this machine for a reason that
 * is neither a peer nor a kernel facility (an architecture, say): ignored
 * where `holds` is false, the test's name saying `[ignored: WHY]`.
 */
export function onlyWhere(holds: boolean, why: string): Gate {
  return gate([], holds ? [] : [why]);
}

// ------------------------------------------------------------- watchdog

interface Wait {
  what: string;
  reject: (error: Error) => void;
}

/** The waits the running test labelled, while they are pending. */
const waits = new Set<Wait>();
let started = 0;
let timeout = DEFAULT_TIMEOUT;
let timer: ReturnType<typeof setTimeout> | undefined;
let abandon: ReturnType<typeof setTimeout> | undefined;
let expired: Error | undefined;

function arm(): void {
  clearTimeout(timer);
  timer = setTimeout(
    expire,
    Math.max(0, started + timeout - performance.now()),
  );
}

function expire(): void {
  const labels = [...waits].map((w) => w.what);
  const killed = killDescendants();
  expired = new Error(
    `Watchdog: test did not finish within ${timeout} ms; it was waiting for ${
      labels.length ? labels.join(", ") : "something not labelled"
    }; ${
      killed.length
        ? `killed ${killed.map((c) => `${c.pid} (${c.command})`).join(", ")}`
        : "no child process was running"
    }`,
  );
  for (const wait of [...waits]) wait.reject(expired);
  // The body should end now. If it does not, give up on it.
  const error = expired;
  abandon = setTimeout(() => {
    throw new Error(
      `${error.message}; the test was still stuck ${ABANDON_AFTER} ms later, so the rest of this file is abandoned`,
    );
  }, ABANDON_AFTER);
}

if (typeof Deno.test.beforeEach === "function") {
  Deno.test.beforeEach(() => {
    waits.clear();
    expired = undefined;
    started = performance.now();
    timeout = DEFAULT_TIMEOUT;
    arm();
  });
  Deno.test.afterEach(() => {
    clearTimeout(timer);
    clearTimeout(abandon);
    timer = abandon = undefined;
    if (expired) throw expired;
  });
}

/**
 * Sets the running test's deadline to `ms` after its start (for the few
 * tests that legitimately take longer than {@linkcode DEFAULT_TIMEOUT}).
 */
export function deadline(ms: number): void {
  timeout = ms;
  if (timer !== undefined && !expired) arm();
}

/**
 * Marks `promise` as something the test waits for, named `what`: the
 * watchdog names it, and rejects it when the deadline passes.
 */
export function waitingFor<T>(what: string, promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const wait: Wait = { what, reject };
    waits.add(wait);
    promise.then(resolve, reject).finally(() => waits.delete(wait));
  });
}

/**
 * Calls `attempt` every `interval` ms until it returns something other than
 * `undefined`, and returns that. No deadline of its own: the test's
 * watchdog bounds it (and stops it), naming `what` if it fires.
 */
export function pollFor<T>(
  what: string,
  attempt: () => T | undefined | Promise<T | undefined>,
  interval = 10,
): Promise<T> {
  let stop = false;
  return waitingFor(
    what,
    (async () => {
      for (;;) {
        const value = await attempt();
        if (value !== undefined || stop) return value as T;
        await new Promise((r) => setTimeout(r, interval));
      }
    })(),
  ).finally(() => stop = true);
}

/** Polls `predicate` until it is true (see {@linkcode pollFor}). */
export async function waitUntil(
  predicate: () => boolean,
  what: string,
  interval = 10,
): Promise<void> {
  await pollFor(what, () => predicate() || undefined, interval);
}

/** Test-only: a wait that never ends by itself, to prove the watchdog ends it. */
export function waitForever(what: string): Promise<never> {
  return waitingFor(what, new Promise<never>(() => {}));
}

// ------------------------------------------------------------ processes

/** A process started (directly or not) by this one. */
export interface ChildInfo {
  pid: number;
  command: string;
}

/** Every live descendant of `root` (default: this process), parents first. */
export function descendants(root: number = Deno.pid): ChildInfo[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      // pid (comm) state ppid …: comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // gone meanwhile
    }
  }
  const out: ChildInfo[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    let command = "?";
    try {
      command = Deno.readTextFileSync(`/proc/${pid}/cmdline`)
        .split("\0").filter(Boolean).join(" ").slice(0, 120) || "?";
    } catch {
      // gone meanwhile
    }
    out.push({ pid, command });
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** SIGKILLs every descendant of this process; returns who they were. */
export function killDescendants(): ChildInfo[] {
  const all = descendants();
  for (const { pid } of all) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return all;
}
