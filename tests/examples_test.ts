// Copyright 2026 the posix-ipc authors. MIT license.
// The recipes of examples/ run as child processes (`deno run -A
// examples/x.ts`), each in a process group of its own under a watchdog that
// kills the group and names what it waited for. Each test checks the exit
// status, the key lines of the output, and that nothing is left behind: no
// process of the group, no socket file, no /dev/shm or /dev/mqueue entry.

import {
  assert,
  assertEquals,
  assertFalse,
  assertGreater,
  assertMatch,
} from "@std/assert";
import { type ChildProcess, type ChildStatus, spawn } from "../pipe/mod.ts";
import { connect, framed, type SocketEnd } from "../socket/mod.ts";
import { needs, waitingFor } from "./_harness.ts";
import { exists } from "./_helpers.ts";

// The job queue is a POSIX message queue; the test lists /dev/mqueue.
const mqueue = needs("/dev/mqueue");

const EXAMPLES = new URL("../examples/", import.meta.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A recipe running as a child process that leads its own process group. */
class Recipe {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  #stderr = "";
  /** Waiters for the next line (or the end of the output). */
  #waiting: (() => void)[] = [];
  #ended = false;
  #reading: Promise<void>;

  constructor(name: string, args: string[] = []) {
    this.name = name;
    const child = this.child = spawn(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        new URL(name, EXAMPLES).pathname,
        ...args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      processGroup: true, // the watchdog and the leak check see the whole family
    });
    this.#reading = Promise.all([
      (async () => {
        let rest = "";
        for await (
          const text of child.stdout.pipeThrough(new TextDecoderStream())
        ) {
          const parts = (rest + text).split("\n");
          rest = parts.pop()!;
          this.lines.push(...parts);
          this.#notify();
        }
        if (rest) this.lines.push(rest);
        this.#ended = true;
        this.#notify();
      })(),
      (async () => {
        for await (
          const text of child.stderr.pipeThrough(new TextDecoderStream())
        ) {
          this.#stderr += text;
        }
      })(),
    ]).then(() => {});
  }

  #notify(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }

  get pgid(): number {
    return this.child.pgid!;
  }

  /** Everything written so far, for failure messages. */
  get output(): string {
    return `stdout:\n${this.lines.join("\n")}\nstderr:\n${this.#stderr}`;
  }

  /**
   * Waits for a stdout line matching `pattern` (searching from line `from`);
   * on expiry kills the group and fails naming `what`.
   */
  async line(
    pattern: RegExp,
    what: string,
    ms = 30_000,
    from = 0,
  ): Promise<string> {
    return await this.#watch(what, ms, async () => {
      for (let i = from;;) {
        for (; i < this.lines.length; i++) {
          if (pattern.test(this.lines[i]!)) return this.lines[i]!;
        }
        if (this.#ended) {
          throw new Error(
            `${this.name} ended its output without ${what}\n${this.output}`,
          );
        }
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
      }
    });
  }

  /** Waits for the JSON event `event` on stdout (the `serve` modes). */
  async event<T = Record<string, unknown>>(
    event: string,
    what: string,
    ms = 30_000,
    from = 0,
  ): Promise<T> {
    const line = await this.line(
      new RegExp(`^\\{"event":"${event}"`),
      what,
      ms,
      from,
    );
    return JSON.parse(line) as T;
  }

  /** Waits for the exit (and the end of the output); kills the group on expiry. */
  async exit(what: string, ms = 60_000): Promise<ChildStatus> {
    return await this.#watch(what, ms, async () => {
      const status = await this.child.status;
      await this.#reading;
      return status;
    });
  }

  async #watch<T>(what: string, ms: number, run: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL", { group: true });
        reject(
          new Error(
            `Watchdog: ${this.name} did not show ${what} within ${ms} ms; its process group was killed\n${this.output}`,
          ),
        );
      }, ms);
    });
    try {
      return await waitingFor(
        `${this.name} to show ${what}`,
        Promise.race([run(), expired]),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs the recipe to its end: exit code 0 and the full output. */
  async run(what = "its end", ms = 60_000): Promise<string> {
    const status = await this.exit(what, ms);
    assertEquals(status.code, 0, `${this.name} failed\n${this.output}`);
    assertNoProcessLeft(this);
    return this.lines.join("\n");
  }
}

/** The processes (pids) of process group `pgid`, zombies included. */
function processGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // "pid (comm) state ppid pgrp …": comm may hold spaces and parens.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) out.push(Number(entry.name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

function assertNoProcessLeft(recipe: Recipe): void {
  assertEquals(
    processGroup(recipe.pgid),
    [],
    `processes of ${recipe.name} (group ${recipe.pgid}) left running`,
  );
}

/** Entries of an IPC directory whose names include `mark`. */
function entries(dir: string, mark: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name)
      .filter((n) => n.includes(mark)).sort();
  } catch {
    return [];
  }
}

// ─── prefork_server.ts ──────────────────────────────────────────────────────

Deno.test("prefork_server.ts demonstration: clients served by workers, SIGTERM stops all, nothing left", async () => {
  const recipe = new Recipe("prefork_server.ts");
  const out = await recipe.run("the demonstration's end");
  const socket = out.match(/listening on (\S+), workers/)?.[1] ?? "";
  assert(socket, `no "listening on" line\n${out}`);
  assertMatch(out, /worker \d+ served client/);
  assertMatch(out, /master: SIGTERM: stopping the workers/);
  for (let c = 0; c < 6; c++) {
    assertMatch(
      out,
      new RegExp(`client ${c} served by worker \\d+: ${c}\\.1 → ${c + 110}`),
    );
  }
  assertMatch(out, /left behind: nothing/);
  assertFalse(exists(socket), `socket file ${socket} left behind`);
});

interface Reply {
  id: number;
  worker: number;
  result?: unknown;
  error?: string;
}

/** One client connection: framed JSON requests, one at a time. */
class Session {
  conn: SocketEnd;
  worker: number | null = null;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;

  private constructor(conn: SocketEnd) {
    this.conn = conn;
    const { readable, writable } = framed(conn);
    this.#writer = writable.getWriter();
    this.#reader = readable.getReader();
  }

  static async open(path: string): Promise<Session> {
    return new Session(await connect({ path, timeout: 10_000 }));
  }

  /** Sends a request and waits for its reply; errors (and closes) if none comes within 10 s. */
  async call(
    request: { id: number; op: string; value: unknown },
  ): Promise<Reply> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.conn.close();
        reject(new Error(`no reply to request ${request.id} within 10 s`));
      }, 10_000);
    });
    try {
      return await Promise.race([
        expired,
        (async () => {
          await this.#writer.write(encoder.encode(JSON.stringify(request)));
          const { value, done } = await this.#reader.read();
          if (done) throw new Error("the server closed the connection (EOF)");
          return JSON.parse(decoder.decode(value)) as Reply;
        })(),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#reader.cancel().catch(() => {});
    this.#writer.abort().catch(() => {});
    this.conn.close();
  }
}

Deno.test("prefork_server.ts serves 10,000 framed requests from 20 clients over 4 workers, one SIGKILLed midway: each answered once", async () => {
  const TOTAL = 10_000;
  const CLIENTS = 20;
  const KILL_AT = 3_000;
  const recipe = new Recipe("prefork_server.ts", ["serve", "4"]);
  const ready = await recipe.event<
    { socket: string; master: number; workers: number[] }
  >("ready", "the ready event of `serve 4`");
  assertEquals(ready.workers.length, 4);

  const answers = new Map<number, number>(); // id → times answered
  const failed = new Map<number, string>(); // id → the error it was given up with
  const errors: string[] = []; // every client-side error, each followed by a retry
  const connectionsPerWorker = new Map<number, number>();
  let answered = 0;
  let victim: number | null = null;

  const client = async (c: number) => {
    let session: Session | null = null;
    for (let id = c; id < TOTAL; id += CLIENTS) {
      for (let attempt = 1;; attempt++) {
        try {
          session ??= await Session.open(ready.socket);
          const reply = await session.call({ id, op: "sum", value: [id, 1] });
          assertEquals(
            [reply.id, reply.result],
            [id, id + 1],
            "a reply to another request",
          );
          if (session.worker === null) {
            session.worker = reply.worker;
            connectionsPerWorker.set(
              reply.worker,
              (connectionsPerWorker.get(reply.worker) ?? 0) + 1,
            );
          }
          answers.set(id, (answers.get(id) ?? 0) + 1);
          if (++answered === KILL_AT) {
            // The worker with the most connections so far: its clients must
            // see errors and carry on with the other workers.
            victim = [...connectionsPerWorker].sort((a, b) =>
              b[1] - a[1]
            )[0]![0];
            Deno.kill(victim, "SIGKILL");
          }
          break;
        } catch (error) {
          if (error instanceof Error && error.name === "AssertionError") {
            throw error;
          }
          const message = `request ${id}, attempt ${attempt}: ${
            (error as Error).message
          }`;
          errors.push(message);
          session?.close();
          session = null; // retry on a new connection
          if (attempt === 5) {
            failed.set(id, message);
            break;
          }
        }
      }
    }
    session?.close();
  };
  const load = Promise.all(
    Array.from({ length: CLIENTS }, (_, c) => client(c)),
  );
  await Promise.race([
    load,
    new Promise((_, reject) =>
      setTimeout(() => {
        recipe.child.kill("SIGKILL", { group: true });
        reject(
          new Error(
            `Watchdog: 10,000 requests not answered within 60 s (${answered} answered)\n${recipe.output}`,
          ),
        );
      }, 60_000)
    ),
  ]);

  // Every request id answered exactly once, or reported failed with an error.
  assertEquals(answers.size + failed.size, TOTAL);
  for (const [id, times] of answers) {
    assertEquals(times, 1, `request ${id} answered ${times} times`);
    assertFalse(failed.has(id));
  }
  assert(victim !== null);
  const exit = await recipe.event<{ pid: number; signal: string }>(
    "worker-exit",
    `the master's report of worker ${victim}'s death`,
  );
  assertEquals([exit.pid, exit.signal], [victim, "SIGKILL"]);
  // It is replaced, while the others keep accepting on the shared listener.
  const started = await recipe.event<{ pid: number; replacing: number }>(
    "worker-started",
    `the replacement of worker ${victim}`,
  );
  assertEquals(started.replacing, victim);
  assertGreater(
    connectionsPerWorker.size,
    1,
    "connections served by one worker only",
  );

  recipe.child.kill("SIGTERM");
  const stopped = await recipe.event<
    {
      workers: {
        pid: number;
        code: number;
        connections: number;
        requests: number;
      }[];
    }
  >("stopped", "the stopped event after SIGTERM");
  const status = await recipe.exit("the master's exit after SIGTERM");
  assertEquals(status.code, 0, recipe.output);
  // The three survivors and the replacement drained and exited cleanly.
  assertEquals(
    stopped.workers.map((w) => [w.code, ready.workers.includes(w.pid)]).sort(),
    [[0, false], [0, true], [0, true], [0, true]],
    "workers' exit codes",
  );
  assert(stopped.workers.some((w) => w.pid === started.pid));
  assertFalse(stopped.workers.some((w) => w.pid === victim));
  assertFalse(exists(ready.socket), `socket file ${ready.socket} left behind`);
  assertNoProcessLeft(recipe);
  console.log(
    `  ${answers.size} answered, ${failed.size} failed, ${errors.length} client errors retried (first: ${
      errors[0]
    }); ` +
      `connections per worker (client side): ${
        JSON.stringify(Object.fromEntries(connectionsPerWorker))
      }; ` +
      `server side: ${
        stopped.workers.map((w) =>
          `${w.pid}: ${w.connections} conns/${w.requests} reqs`
        ).join(", ")
      }`,
  );
});

// ─── supervisor.ts ──────────────────────────────────────────────────────────

Deno.test("supervisor.ts demonstration: a crash is restarted, a crash loop given up, SIGTERM stops the rest", async () => {
  const recipe = new Recipe("supervisor.ts");
  const out = await recipe.run("the demonstration's end");
  assertMatch(out, /flaky \(\d+\) exit code 1: restart in 50 ms/);
  assertMatch(out, /start flaky as \d+ \(restart 1\)/);
  assertMatch(out, /batch \(\d+\) exit code 0: done/);
  assertMatch(out, /broken \(\d+\) exit code 78: given up \(3 restarts/);
  assertMatch(out, /supervisor: SIGTERM: stopping the workers/);
  assertMatch(
    out,
    /all workers gone: \{"steady":"stopped","flaky":"stopped","batch":"done","broken":"given up"\}/,
  );
  assertMatch(out, /left behind: nothing/);
});

Deno.test("supervisor.ts supervise: a worker SIGKILLed from outside is restarted under a new pid; SIGTERM ends everything", async () => {
  const recipe = new Recipe("supervisor.ts", ["supervise", "3"]);
  const ready = await recipe.event<{ workers: Record<string, number> }>(
    "ready",
    "the ready event of `supervise 3`",
  );
  const old = ready.workers["worker-2"]!;
  assert(old > 0, JSON.stringify(ready));
  const from = recipe.lines.length;
  Deno.kill(old, "SIGKILL");
  const exit = await recipe.event<
    { worker: string; pid: number; signal: string; action: string }
  >(
    "exit",
    `the supervisor's report of worker-2 (${old}) killed`,
    30_000,
    from,
  );
  assertEquals([exit.worker, exit.pid, exit.signal], [
    "worker-2",
    old,
    "SIGKILL",
  ]);
  assertMatch(exit.action, /^restart in \d+ ms$/);
  const restarted = JSON.parse(
    await recipe.line(
      /^\{"event":"start","worker":"worker-2",.*"restarts":1\}$/,
      "worker-2 started again",
      30_000,
      from,
    ),
  ) as { pid: number };
  assert(restarted.pid !== old, "the restarted worker has the old pid");
  assert(
    exists(`/proc/${restarted.pid}`),
    `new worker ${restarted.pid} is not running`,
  );
  assertFalse(exists(`/proc/${old}`), `killed worker ${old} was not reaped`);

  recipe.child.kill("SIGTERM");
  const stopped = await recipe.event<{ workers: Record<string, string> }>(
    "stopped",
    "the stopped event after SIGTERM",
  );
  assertEquals(stopped.workers, {
    "worker-1": "stopped",
    "worker-2": "stopped",
    "worker-3": "stopped",
  });
  const status = await recipe.exit("the supervisor's exit after SIGTERM");
  assertEquals(status.code, 0, recipe.output);
  assertNoProcessLeft(recipe);
});

// ─── job_queue.ts ───────────────────────────────────────────────────────────

mqueue.test("job_queue.ts demonstration: Ctrl-C midway loses no job, the next run takes the rest, the queue is removed", async () => {
  const recipe = new Recipe("job_queue.ts");
  const out = await recipe.run("the demonstration's end");
  assertMatch(out, /run 1 exited with 130/);
  assertMatch(out, /run1: SIGINT: consumers finish the job in hand/);
  assertMatch(out, /run 2 exited with 0/);
  const [, produced, consumed, left, second] = out.match(
    /run 1: produced (\d+) = consumed (\d+) \+ left in the queue (\d+); run 2 consumed (\d+)/,
  )?.map(Number) ?? [];
  assert(produced !== undefined, out);
  assertEquals(produced, consumed! + left!);
  assertEquals(left, second);
  assertMatch(out, /priority 9: page the on-call/);
  assertMatch(out, /no job lost: every job produced was consumed exactly once/);
  assertEquals(
    entries("/dev/mqueue", `job-queue-demo-${recipe.child.pid}`),
    [],
    "message queue left behind",
  );
});

// ─── pipeline_runner.ts ─────────────────────────────────────────────────────

Deno.test("pipeline_runner.ts streams the last stage's lines; every stage's stderr is in the log", async () => {
  const recipe = new Recipe("pipeline_runner.ts");
  const out = await recipe.run("the pipeline's end");
  const served = out.match(/^\s+\d+ ms {2}served \/\S+$/gm) ?? [];
  assertEquals(
    served.map((l) => l.trim().replace(/^\d+ ms\s+/, "")),
    ["1", "2", "4", "5", "7", "8"].map((i) =>
      `served /${Number(i) % 3 === 1 ? "orders" : "users"}/${i}`
    ),
  );
  assertMatch(out, /6 lines; stages exited with 0, 0, 0/);
  const log =
    out.match(/^(\S+stages\.log) \(written by the stages themselves\):$/m)
      ?.[1] ?? "";
  assert(log, out);
  const logged = out.slice(out.indexOf(log));
  for (
    const line of [
      "--- stages.log ---",
      "generator: started as",
      "served /orders/1",
      "served /orders/7",
      "generator: wrote 8 requests",
    ]
  ) {
    assert(logged.includes(line), `"${line}" not in the log\n${out}`);
  }
  assertFalse(exists(log), `log ${log} left behind`);
});

// ─── shm_frames.ts ──────────────────────────────────────────────────────────

Deno.test("shm_frames.ts verifies 2,000 frames over shared memory and catches a flipped bit", async () => {
  const recipe = new Recipe("shm_frames.ts");
  const out = await recipe.run("both transfers");
  assertMatch(out, /2000 frames verified, 0 rejected/);
  assertMatch(out, /throughput: \d+ MB\/s/);
  assertMatch(out, /9 frames verified, 1 rejected/);
  assertMatch(out, /rejected: frame 7 \(\d+ bytes\): SHA-256 mismatch/);
  assertMatch(out, /left in \/dev\/shm: nothing/);
  const pid = recipe.child.pid;
  assertEquals(
    [
      ...entries("/dev/shm", `shm-frames-${pid}-`),
      ...entries("/dev/shm", `.pipc-${pid}-`),
    ],
    [],
    "shared memory left behind",
  );
});
