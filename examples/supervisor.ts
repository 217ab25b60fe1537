// Copyright 2026 the posix-ipc authors. MIT license.
// A process supervisor (the job of systemd, runit or an Erlang supervisor):
// it starts workers, restarts one that crashes after a growing backoff,
// gives up on one that keeps crashing, forwards SIGTERM to the workers, and
// exits when all of them are gone.
//
// Policy (systemd's Restart=on-failure): a worker that exits with code 0, or
// stops on SIGHUP, SIGINT, SIGTERM or SIGPIPE (killed by it, or exiting with
// 128 + its number from a handler), is done and is not restarted. Any other
// end is a crash: restart after 100 ms, doubled for each crash in a row (at
// most 5 s; the series starts over once a worker has run for 10 s), and give
// up after 5 restarts within 30 s.
//
// Mechanisms: spawn() of workers (any program) with a "lifeline" pipe at
// fd 3 (EOF on it means the supervisor died: a Deno worker then stops, so
// none outlives it); ChildProcess.status to see each exit; kill() to
// forward; signals() in the supervisor; onShutdown() in the workers.
//
//   deno run -A examples/supervisor.ts                   # demonstration
//   deno run -A examples/supervisor.ts supervise [N]     # N workers (3) until SIGTERM
//
// `supervise` prints one JSON object per line on stdout:
//   {"event":"start","worker":"worker-1","pid":PID,"restarts":0}
//   {"event":"ready","workers":{"worker-1":PID,…}}
//   {"event":"exit","worker":"worker-1","pid":PID,"code":137,"signal":"SIGKILL","action":"restart in 100 ms"}
//   {"event":"stopping","signal":"SIGTERM"}
//   {"event":"stopped","workers":{"worker-1":"stopped",…}}
import { type ChildProcess, pipe, PipeReader, spawn } from "../pipe/mod.ts";
import { kill, onShutdown, signals } from "../signal/mod.ts";

const self = new URL(import.meta.url).pathname;

/** When to restart a crashed worker, and when to give up on it. */
interface RestartPolicy {
  /** The first restart's delay (ms), doubled for each crash in a row. */
  backoffFirst: number;
  /** The longest delay (ms). */
  backoffMax: number;
  /** A worker that ran this long (ms) before crashing starts a new series. */
  stableAfter: number;
  /** Most restarts within `window` before giving up. */
  limit: number;
  window: number;
  /** How long (ms) stopping workers get after SIGTERM before SIGKILL. */
  stopDeadline: number;
}

const DEFAULT_POLICY: RestartPolicy = {
  backoffFirst: 100,
  backoffMax: 5_000,
  stableAfter: 10_000,
  limit: 5,
  window: 30_000,
  stopDeadline: 10_000,
};

// ─── a worker ───────────────────────────────────────────────────────────────

/** A Deno worker: a heartbeat until told to stop; `crash-after MS` crashes it on purpose. */
async function worker(name: string, crashAfter?: number): Promise<void> {
  const lifeline = PipeReader.fromFd(3);
  let beats = 0;
  const heartbeat = setInterval(() => beats++, 50);
  // SIGTERM from the supervisor (or SIGINT from a terminal's Ctrl-C, which
  // reaches the whole process group): clean up, then exit with 128 + the
  // signal number — a clean stop in the supervisor's eyes.
  onShutdown((signal) => {
    clearInterval(heartbeat);
    console.log(`${name}: ${signal} after ${beats} heartbeats: stopping`);
  });
  if (crashAfter !== undefined) {
    setTimeout(() => {
      console.error(`${name}: crashing on purpose`);
      Deno.exit(1);
    }, crashAfter);
  }
  console.log(`${name}: running as process ${Deno.pid}`);
  // EOF on the lifeline: the supervisor is gone, so stop as if told to.
  await lifeline.read(new Uint8Array(1)).catch(() => null);
  Deno.kill(Deno.pid, "SIGTERM");
}

// ─── the supervisor ─────────────────────────────────────────────────────────

/** What to run in one slot; `args` may depend on how often it was restarted. */
interface WorkerSpec {
  name: string;
  command: string;
  args: (restarts: number) => string[];
}

type SupervisorEvent =
  | { event: "start"; worker: string; pid: number; restarts: number }
  | { event: "ready"; workers: Record<string, number> }
  | {
    event: "exit";
    worker: string;
    pid: number;
    code: number;
    signal: string | null;
    action: string;
  }
  | { event: "stopping"; signal: string }
  | { event: "stopped"; workers: Record<string, string> };

type SlotState = "running" | "waiting" | "done" | "given up" | "stopped";

interface Slot {
  spec: WorkerSpec;
  state: SlotState;
  child: ChildProcess | null;
  startedAt: number;
  /** How often this slot was restarted, in all. */
  restarts: number;
  /** When the recent restarts happened (for the limit). */
  recent: number[];
  /** Crashes in a row (for the backoff). */
  streak: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  exited: Promise<void>;
}

const CLEAN_SIGNALS = ["SIGHUP", "SIGINT", "SIGTERM", "SIGPIPE"];
const CLEAN_CODES = [0, 129, 130, 143, 141]; // 0 and 128 + those signals

/** Runs the workers until all are gone or a SIGTERM/SIGINT stops them. */
async function supervise(
  specs: WorkerSpec[],
  log: (event: SupervisorEvent) => void,
  onStart?: (slot: string, pid: number, restarts: number) => void,
  workerStdout: "inherit" | number = "inherit",
  policy: RestartPolicy = DEFAULT_POLICY,
): Promise<Record<string, SlotState>> {
  const stopSignals = signals(["SIGTERM", "SIGINT"]).getReader();
  const slots = specs.map((spec): Slot => ({
    spec,
    state: "waiting",
    child: null,
    startedAt: 0,
    restarts: 0,
    recent: [],
    streak: 0,
    timer: undefined,
    exited: Promise.resolve(),
  }));
  let stopping = false;
  let changed: () => void = () => {};

  const start = (slot: Slot) => {
    slot.timer = undefined;
    const { reader, writer } = pipe();
    let child: ChildProcess;
    try {
      child = spawn(slot.spec.command, {
        args: slot.spec.args(slot.restarts),
        fds: { 3: reader }, // handed over; the write end stays here
        stdout: workerStdout,
      });
    } catch (error) {
      reader.close();
      writer.close();
      console.error(`supervisor: cannot start ${slot.spec.name}:`, error);
      slot.state = "given up";
      return changed();
    }
    slot.child = child;
    slot.state = "running";
    slot.startedAt = performance.now();
    log({
      event: "start",
      worker: slot.spec.name,
      pid: child.pid,
      restarts: slot.restarts,
    });
    onStart?.(slot.spec.name, child.pid, slot.restarts);
    slot.exited = child.status.then((status) => {
      writer.close();
      slot.child = null;
      let action: string;
      const clean = status.signal === null
        ? CLEAN_CODES.includes(status.code)
        : CLEAN_SIGNALS.includes(status.signal);
      if (stopping) {
        slot.state = "stopped";
        action = "stopped";
      } else if (clean) {
        slot.state = "done";
        action = "done (a clean exit is not restarted)";
      } else {
        const now = performance.now();
        if (now - slot.startedAt > policy.stableAfter) slot.streak = 0;
        slot.recent = slot.recent.filter((t) => now - t < policy.window);
        if (slot.recent.length >= policy.limit) {
          slot.state = "given up";
          action =
            `given up (${policy.limit} restarts within ${policy.window} ms)`;
        } else {
          const delay = Math.min(
            policy.backoffFirst * 2 ** slot.streak,
            policy.backoffMax,
          );
          slot.streak++;
          slot.restarts++;
          slot.recent.push(now);
          slot.state = "waiting";
          slot.timer = setTimeout(() => start(slot), delay);
          action = `restart in ${delay} ms`;
        }
      }
      log({
        event: "exit",
        worker: slot.spec.name,
        pid: child.pid,
        code: status.code,
        signal: status.signal,
        action,
      });
      changed();
    });
  };

  for (const slot of slots) start(slot);
  log({
    event: "ready",
    workers: Object.fromEntries(
      slots.filter((s) => s.child).map((s) => [s.spec.name, s.child!.pid]),
    ),
  });

  // Wait until every slot is done or given up, or until a stop signal.
  const allGone = new Promise<null>((resolve) => {
    changed = () => {
      if (slots.every((s) => s.state !== "running" && s.state !== "waiting")) {
        resolve(null);
      }
    };
    changed();
  });
  const signal = await Promise.race([
    stopSignals.read().then((r) => r.value ?? null),
    allGone,
  ]);
  if (signal) {
    stopping = true;
    log({ event: "stopping", signal });
    for (const slot of slots) {
      if (slot.timer !== undefined) {
        clearTimeout(slot.timer); // a pending restart is cancelled
        slot.state = "stopped";
      }
      // Forward the signal (ChildProcess.kill would do too; kill() names
      // the target in its errors).
      if (slot.child) kill(slot.child.pid, "SIGTERM");
    }
    const deadline = setTimeout(() => {
      for (const slot of slots) slot.child?.kill("SIGKILL");
    }, policy.stopDeadline);
    await Promise.all(slots.map((s) => s.exited));
    clearTimeout(deadline);
  }
  await stopSignals.cancel(); // later signals have their default action again
  const states = Object.fromEntries(slots.map((s) => [s.spec.name, s.state]));
  log({ event: "stopped", workers: states });
  return states;
}

function denoWorker(name: string, crashFirstRunAfter?: number): WorkerSpec {
  return {
    name,
    command: Deno.execPath(),
    args: (restarts) => [
      "run",
      "--allow-all",
      "--quiet",
      self,
      "worker",
      name,
      ...(restarts === 0 && crashFirstRunAfter !== undefined
        ? [String(crashFirstRunAfter)]
        : []),
    ],
  };
}

// ─── the demonstration ──────────────────────────────────────────────────────

async function demo(): Promise<void> {
  const t0 = performance.now();
  const at = () =>
    `${String(Math.round(performance.now() - t0)).padStart(5)} ms`;
  const specs: WorkerSpec[] = [
    denoWorker("steady"),
    denoWorker("flaky", 300), // crashes 300 ms into its first run
    { name: "batch", command: "sh", args: () => ["-c", "sleep 0.2; exit 0"] },
    {
      name: "broken", // any program can be supervised; this one never works
      command: "sh",
      args: () => ["-c", "echo 'broken: missing configuration' >&2; exit 78"],
    },
  ];
  const pids: number[] = [];
  let flakyBack = false;
  let brokenGivenUp = false;
  let stopSent = false;
  const maybeStop = () => {
    if (flakyBack && brokenGivenUp && !stopSent) {
      stopSent = true;
      console.log(`${at()}  demo: kill -TERM ${Deno.pid} (the supervisor)`);
      Deno.kill(Deno.pid, "SIGTERM");
    }
  };
  const states = await supervise(
    specs,
    (e) => {
      if (e.event === "start") {
        pids.push(e.pid);
        console.log(
          `${at()}  start ${e.worker} as ${e.pid}${
            e.restarts ? ` (restart ${e.restarts})` : ""
          }`,
        );
      } else if (e.event === "exit") {
        const how = e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
        console.log(`${at()}  ${e.worker} (${e.pid}) ${how}: ${e.action}`);
        if (e.worker === "broken" && e.action.startsWith("given up")) {
          brokenGivenUp = true;
          maybeStop();
        }
      } else if (e.event === "stopping") {
        console.log(`${at()}  supervisor: ${e.signal}: stopping the workers`);
      } else if (e.event === "stopped") {
        console.log(
          `${at()}  supervisor: all workers gone: ${JSON.stringify(e.workers)}`,
        );
      }
    },
    (name, _pid, restarts) => {
      if (name === "flaky" && restarts === 1) {
        flakyBack = true;
        // Let the restarted worker start up before the stop.
        setTimeout(maybeStop, 300);
      }
    },
    "inherit",
    { ...DEFAULT_POLICY, backoffFirst: 50, limit: 3 },
  ); // quicker, for the show

  const alive = pids.filter((pid) => {
    try {
      Deno.statSync(`/proc/${pid}`);
      return true;
    } catch {
      return false;
    }
  });
  console.log(
    `left behind: ${
      alive.length
        ? `processes ${alive.join(", ")}`
        : `nothing (${pids.length} processes started, all gone)`
    }`,
  );
  const expected = {
    steady: "stopped",
    flaky: "stopped",
    batch: "done",
    broken: "given up",
  };
  if (alive.length > 0 || JSON.stringify(states) !== JSON.stringify(expected)) {
    Deno.exit(1);
  }
}

const [mode = "demo", ...rest] = Deno.args;
if (mode === "worker") {
  await worker(rest[0]!, rest[1] === undefined ? undefined : Number(rest[1]));
} else if (mode === "supervise") {
  const count = Number(rest[0] ?? 3);
  const specs = Array.from(
    { length: count },
    (_, i) => denoWorker(`worker-${i + 1}`),
  );
  // stdout carries the events: the workers' own output goes to stderr (fd 2).
  await supervise(specs, (e) => console.log(JSON.stringify(e)), undefined, 2);
} else if (mode === "demo") {
  await demo();
} else {
  console.error("usage: supervisor.ts [demo | supervise [workers]]");
  Deno.exit(2);
}
