// Copyright 2026 the posix-ipc authors. MIT license.
// A pre-fork server, the model of nginx and PostgreSQL: a master process
// listens on a Unix socket and starts worker processes that all accept on
// that one listening socket (the kernel gives each connection to one of
// them). Clients send framed JSON requests; each reply names the worker
// that served it. SIGTERM (or Ctrl-C) to the master stops the workers
// gracefully, waits for them and removes the socket file. A worker that
// dies is replaced at once, up to `count` replacements a minute (a crash
// loop then leaves the survivors serving; with none left the master stops);
// supervisor.ts shows restarts with backoff.
//
// Mechanisms: listen() on a Unix socket (mode 0600); spawn() of Deno workers
// with the listener at fd 3 and a "lifeline" pipe at fd 4 (EOF on it means
// the master died, so no worker outlives it); SocketListener.fromFd(3) in
// each worker; framed() messages; signals() for SIGTERM/SIGINT; connect().
//
//   deno run -A examples/prefork_server.ts               # demonstration
//   deno run -A examples/prefork_server.ts serve [N]     # N workers (4) until SIGTERM
//
// `serve` prints one JSON object per line on stdout, for a test or a
// service manager to read:
//   {"event":"ready","socket":"/tmp/prefork-…/server.sock","master":PID,"workers":[PID…]}
//   {"event":"worker-exit","pid":PID,"code":137,"signal":"SIGKILL"}   (a worker died)
//   {"event":"worker-started","pid":PID,"replacing":PID}             (its replacement)
//   {"event":"stopping","signal":"SIGTERM"}       (or "no workers left": exit code 1)
//   {"event":"stopped","workers":[{"pid":PID,"code":0,"connections":N,"requests":N}…]}
// Protocol, one framed JSON message each way:
//   request {"id": any, "op": "echo" | "sum" | "upper", "value": …}
//   reply   {"id": same, "worker": PID, "result": …} or {"id", "worker", "error": "…"}
import {
  type ChildProcess,
  pipe,
  PipeReader,
  type PipeWriter,
  spawn,
} from "../pipe/mod.ts";
import {
  connect,
  framed,
  listen,
  type SocketEnd,
  SocketListener,
} from "../socket/mod.ts";
import { signals } from "../signal/mod.ts";

const self = new URL(import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A request and its reply, as JSON. */
interface Request {
  id: unknown;
  op: string;
  value?: unknown;
}
interface Reply {
  id: unknown;
  worker: number;
  result?: unknown;
  error?: string;
}

/** What a worker reports on its stdout when it has drained and stops. */
interface WorkerStats {
  pid: number;
  connections: number;
  requests: number;
}

/** What the master reports (as JSON lines in `serve` mode). */
type MasterEvent =
  | { event: "ready"; socket: string; master: number; workers: number[] }
  | { event: "worker-exit"; pid: number; code: number; signal: string | null }
  | { event: "worker-started"; pid: number; replacing: number }
  | { event: "stopping"; signal: string }
  | {
    event: "stopped";
    workers: (WorkerStats & { code: number; signal: string | null })[];
  };

// ─── the worker ─────────────────────────────────────────────────────────────

async function worker(): Promise<void> {
  // fd 3: the master's listening socket; fd 4: the read end of a pipe whose
  // write end only the master holds.
  const listener = SocketListener.fromFd(3);
  const lifeline = PipeReader.fromFd(4);
  const stats: WorkerStats = { pid: Deno.pid, connections: 0, requests: 0 };
  /** Open connections, and whether each is answering a request right now. */
  const open = new Map<SocketEnd, { busy: boolean }>();
  let stopping = false;
  let drained: () => void = () => {};
  const allClosed = new Promise<void>((resolve) => drained = resolve);

  async function serve(conn: SocketEnd): Promise<void> {
    const state = { busy: false };
    open.set(conn, state);
    stats.connections++;
    try {
      const { readable, writable } = framed(conn);
      const replies = writable.getWriter();
      for await (const message of readable) {
        state.busy = true;
        await replies.write(encoder.encode(JSON.stringify(answer(message))));
        stats.requests++;
        state.busy = false;
        if (stopping) break; // finish the request in hand, take no more
      }
    } catch {
      // The client went away (reset) or we closed an idle connection while
      // draining: either way this connection is over.
    } finally {
      conn.close();
      open.delete(conn);
      if (stopping && open.size === 0) drained();
    }
  }

  // SIGTERM (from the master) or EOF on the lifeline (the master is gone):
  // stop accepting, close idle connections, let busy ones finish their
  // request, report, exit. SIGINT is ignored: a terminal's Ctrl-C reaches
  // the whole process group, and the master answers it with a SIGTERM to
  // each worker, so every worker drains exactly once.
  const quit = new AbortController();
  const asked = (async () => {
    const stop = signals(["SIGTERM", "SIGINT"], { signal: quit.signal });
    for await (const signal of stop) if (signal === "SIGTERM") return;
  })();
  const orphaned = lifeline.read(new Uint8Array(1)).catch(() => null);

  const accepting = (async () => {
    for await (const conn of listener) {
      void serve(conn);
      // Take one connection per turn: the kernel wakes every worker for a
      // new connection, and a worker that emptied the whole queue at once
      // would serve a burst of clients alone (nginx has its accept_mutex).
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  })();
  console.log("ready"); // the master waits for this line
  await Promise.race([asked, orphaned]);

  stopping = true;
  listener.close(); // this worker's copy; the master and siblings keep theirs
  await accepting;
  for (const [conn, state] of open) if (!state.busy) conn.close();
  if (open.size > 0) await allClosed;
  lifeline.close();
  quit.abort(); // removes the signal listeners, so the process can end
  console.log(JSON.stringify(stats)); // the master collects this line
}

/** Computes a reply; never throws (a bad request gets an `error` reply). */
function answer(message: Uint8Array): Reply {
  let id: unknown = null;
  try {
    const request = JSON.parse(decoder.decode(message)) as Request;
    id = request.id;
    const { op, value } = request;
    if (op === "echo") return { id, worker: Deno.pid, result: value };
    if (op === "upper" && typeof value === "string") {
      return { id, worker: Deno.pid, result: value.toUpperCase() };
    }
    if (
      op === "sum" && Array.isArray(value) &&
      value.every((n) => typeof n === "number")
    ) {
      return { id, worker: Deno.pid, result: value.reduce((a, b) => a + b, 0) };
    }
    throw new TypeError(`cannot do ${JSON.stringify(op)} on this value`);
  } catch (error) {
    return { id, worker: Deno.pid, error: (error as Error).message };
  }
}

// ─── the master ─────────────────────────────────────────────────────────────

interface Worker {
  child: ChildProcess;
  /** The write end of the worker's lifeline: closing it (or dying) tells the worker to stop. */
  lifeline: PipeWriter;
  /** Resolves with the worker's last report (null if it died without one) once it has exited. */
  done: Promise<WorkerStats & { code: number; signal: string | null }>;
}

/**
 * Listens, starts `count` workers, and on SIGTERM or SIGINT (or when no
 * worker is left) stops them all, removes the socket and returns.
 * `onReady` runs once every worker accepts (the demonstration's clients).
 */
async function master(
  count: number,
  log: (event: MasterEvent) => void,
  onReady?: (socket: string, workers: number[]) => void,
): Promise<{ socket: string; dir: string; pids: number[]; ok: boolean }> {
  // Listen for the stop signals first, so one arriving during startup waits
  // for us instead of killing the master with the workers still running.
  const stop = signals(["SIGTERM", "SIGINT"]).getReader();
  const dir = Deno.makeTempDirSync({ prefix: "prefork-" });
  const socket = `${dir}/server.sock`;
  // The socket file is created with mode 0600 (only this user may connect)
  // and removed by close(), or at exit if the master fails before that.
  const listener = listen({ path: socket, mode: 0o600, unlinkOnExit: true });
  const workers = new Map<number, Worker>();
  const everyPid: number[] = [];
  let stopping = false;
  let noneLeft: () => void = () => {};
  const allDied = new Promise<string>((resolve) =>
    noneLeft = () => resolve("no workers left")
  );

  // Replacements in the last minute, to stop replacing in a crash loop.
  const replacedAt: number[] = [];

  async function startWorker(): Promise<number> {
    const { reader, writer } = pipe();
    const child = spawn(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", self, "worker"],
      // The listener stays open here (its file is removed when it closes);
      // the pipe's read end is handed over (closed here once the child has it).
      fds: { 3: listener, 4: reader },
      stdout: "piped",
    });
    everyPid.push(child.pid);
    const lines = child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines()).getReader();
    const first = await lines.read();
    const report = (async () => {
      let stats: WorkerStats | null = null;
      for (let r = await lines.read(); !r.done; r = await lines.read()) {
        stats = JSON.parse(r.value) as WorkerStats;
      }
      return stats;
    })();
    const done = Promise.all([child.status, report]).then(
      ([status, stats]) => ({
        pid: child.pid,
        connections: stats?.connections ?? 0,
        requests: stats?.requests ?? 0,
        code: status.code,
        signal: status.signal,
      }),
    );
    workers.set(child.pid, { child, lifeline: writer, done });
    child.status.then((status) => {
      writer.close();
      if (stopping) return;
      workers.delete(child.pid);
      log({
        event: "worker-exit",
        pid: child.pid,
        code: status.code,
        signal: status.signal,
      });
      const now = performance.now();
      while (replacedAt.length && now - replacedAt[0]! > 60_000) {
        replacedAt.shift();
      }
      if (replacedAt.length < count) {
        // The listener is shared with the workers, which accept on it while
        // this spawn() hands it to one more: safe, as a worker's accept never
        // waits on its event loop whatever the socket's O_NONBLOCK says.
        replacedAt.push(now);
        startWorker().then(
          (pid) => log({ event: "worker-started", pid, replacing: child.pid }),
          () => {
            if (workers.size === 0) noneLeft();
          },
        );
      } else if (workers.size === 0) {
        noneLeft();
      }
    });
    if (first.value !== "ready") {
      throw new Error(`worker ${child.pid} ended before it was ready`);
    }
    return child.pid;
  }

  for (let i = 0; i < count; i++) await startWorker();
  log({
    event: "ready",
    socket,
    master: Deno.pid,
    workers: [...workers.keys()],
  });
  onReady?.(socket, [...workers.keys()]);

  const signal = await Promise.race([
    stop.read().then((r) => r.value ?? "SIGTERM"),
    allDied,
  ]);
  stopping = true;
  log({ event: "stopping", signal });
  for (const { child } of workers.values()) child.kill("SIGTERM");
  // A worker stuck in a request gets 10 s to finish, then SIGKILL.
  const deadline = setTimeout(() => {
    for (const { child } of workers.values()) child.kill("SIGKILL");
  }, 10_000);
  const reports = await Promise.all([...workers.values()].map((w) => w.done));
  clearTimeout(deadline);
  listener.close(); // removes the socket file (still this listener's own)
  Deno.removeSync(dir);
  await stop.cancel(); // later signals have their default action again
  log({ event: "stopped", workers: reports });
  return { socket, dir, pids: everyPid, ok: workers.size > 0 };
}

// ─── a client, and the demonstration ────────────────────────────────────────

/** Sends requests over one connection, one at a time; returns the replies. */
async function client(socket: string, requests: Request[]): Promise<Reply[]> {
  const conn = await connect({ path: socket, timeout: 10_000 });
  const { readable, writable } = framed(conn);
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const replies: Reply[] = [];
  try {
    for (const request of requests) {
      await writer.write(encoder.encode(JSON.stringify(request)));
      const { value, done } = await reader.read();
      if (done) throw new Error(`the server closed the connection`);
      replies.push(JSON.parse(decoder.decode(value)) as Reply);
    }
    await writer.close(); // half-close: the worker's loop ends…
    await reader.read(); // …and it closes its side
  } finally {
    conn.close();
  }
  return replies;
}

async function demo(): Promise<void> {
  const WORKERS = 3;
  const served = new Map<number, string[]>();
  let clientsDone: Promise<void> = Promise.resolve();

  const { socket, dir, pids } = await master(
    WORKERS,
    (e) => {
      if (e.event === "ready") {
        console.log(
          `master ${e.master}: listening on ${e.socket}, workers ${
            e.workers.join(", ")
          }`,
        );
      } else if (e.event === "stopping") {
        console.log(`master: ${e.signal}: stopping the workers`);
      } else if (e.event === "stopped") {
        for (const w of e.workers) {
          console.log(
            `  worker ${w.pid} exited with ${w.code}: ${w.connections} connections, ${w.requests} requests`,
          );
        }
      } else console.log(`master: ${JSON.stringify(e)}`);
    },
    (socket) => {
      // Six clients at once, each with its own connection and four requests.
      clientsDone = Promise.all(
        Array.from({ length: 6 }, async (_, c) => {
          const replies = await client(socket, [
            { id: `${c}.1`, op: "sum", value: [c, 10, 100] },
            { id: `${c}.2`, op: "upper", value: `client ${c}` },
            { id: `${c}.3`, op: "echo", value: { client: c } },
            { id: `${c}.4`, op: "sqrt", value: 2 }, // unknown: an error reply
          ]);
          const worker = replies[0]!.worker;
          const summary = replies.map((r) =>
            `${r.id} → ${JSON.stringify(r.error ?? r.result)}`
          ).join(", ");
          console.log(`client ${c} served by worker ${worker}: ${summary}`);
          served.set(worker, [...(served.get(worker) ?? []), `client ${c}`]);
        }),
      ).then(() => {
        for (const [pid, clients] of served) {
          console.log(`worker ${pid} served ${clients.join(", ")}`);
        }
        // Stop the server as a service manager would.
        console.log(`demo: kill -TERM ${Deno.pid} (this process, the master)`);
        Deno.kill(Deno.pid, "SIGTERM");
      });
    },
  );
  await clientsDone;

  // Nothing left behind: no socket file, no directory, no worker process.
  const exists = (path: string) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  };
  const alive = pids.filter((pid) => exists(`/proc/${pid}`));
  const left = [socket, dir].filter(exists);
  console.log(
    `left behind: ${
      left.length + alive.length === 0
        ? "nothing (socket file, directory and workers gone)"
        : `${left.join(", ")} processes ${alive.join(", ")}`
    }`,
  );
  if (left.length > 0 || alive.length > 0) Deno.exit(1);
}

/** Splits decoded text into lines (without the "\n"). */
function splitLines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) controller.enqueue(line);
    },
    flush(controller) {
      if (rest) controller.enqueue(rest);
    },
  });
}

const [mode = "demo", arg] = Deno.args;
if (mode === "worker") {
  await worker();
} else if (mode === "serve") {
  const { ok } = await master(
    Number(arg ?? 4),
    (e) => console.log(JSON.stringify(e)),
  );
  if (!ok) Deno.exit(1);
} else if (mode === "demo") {
  await demo();
} else {
  console.error("usage: prefork_server.ts [demo | serve [workers]]");
  Deno.exit(2);
}
