// Copyright 2026 the posix-ipc authors. MIT license.
// A priority job queue on a POSIX message queue, with a graceful Ctrl-C:
// producer processes queue jobs with priorities, consumer processes take
// the most urgent first. On SIGINT (Ctrl-C) or SIGTERM every consumer
// finishes the job in hand and takes no other; a producer waiting for room
// sends nothing more. No job is lost: the jobs nobody took stay in the queue
// (it outlives the processes) for the next run, which picks them up. (A
// consumer killed outright — SIGKILL, a crash — does lose the job in hand:
// a queue hands each message out once, with no acknowledgment. Where that
// matters, record the jobs in progress and queue them again.)
//
// The end-of-work convention: jobs have priorities 1 to 9. When its
// producers are done, the coordinator sends one stop message per consumer
// at priority 0, the lowest, so the queue delivers every job before any
// stop. A stop message names its run: a consumer that finds the stop of an
// earlier, interrupted run throws it away and carries on. A run that
// finishes uninterrupted with the queue empty removes the queue.
//
// Mechanisms: MessageQueue (priorities, a bounded queue whose producers
// wait for room, receive/send with an AbortSignal that consumes or sends
// nothing when aborted); spawn(); Deno.addSignalListener in the producers
// and consumers; onShutdown() in the coordinator.
//
//   deno run -A examples/job_queue.ts        # demonstration (two runs)
//   deno run -A examples/job_queue.ts run [--jobs=N] [--producers=N]
//       [--consumers=N] [--queue=/name] [--run=ID]
//                                            # one run; Ctrl-C to interrupt
//
// A run prints what happens, then one line `summary {…}` (JSON: produced and
// consumed job ids, jobs left in the queue).
import { MessageQueue, unlinkMessageQueue } from "../mq/mod.ts";
import { type ChildProcess, spawn } from "../pipe/mod.ts";
import { onShutdown } from "../signal/mod.ts";

const self = new URL(import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// 10 messages: the most an unprivileged process may ask for
// (/proc/sys/fs/mqueue/msg_max), so producers soon wait for room.
const QUEUE_SIZE = { maxMessages: 10, messageSize: 256 };

/** The kinds of jobs, their priority and how long one takes (ms). */
const KINDS = [
  { kind: "page the on-call", priority: 9, cost: 20 },
  { kind: "charge a card", priority: 5, cost: 40 },
  { kind: "resize an image", priority: 2, cost: 60 },
  { kind: "send a newsletter", priority: 1, cost: 80 },
] as const;

/** A message on the queue: a job, or the end-of-work mark of a run. */
type Message =
  | { job: string; kind: string; cost: number }
  | { stop: string };

/** What producers and consumers report to the coordinator, a JSON line each. */
type Report =
  | { sent: string; priority: number; kind: string; by: number }
  | { done: string; priority: number; kind: string; by: number }
  | { discarded: string; by: number };

/**
 * An AbortSignal that aborts on the first SIGINT or SIGTERM. Plain
 * `Deno.addSignalListener` here, not `signals()`: the listeners must stay
 * until the process ends (Ctrl-C reaches the whole group and the
 * coordinator passes it on too, so a second SIGINT comes; without a listener
 * its default action would kill the process), and they must not keep the
 * process alive once its work is done. (One gap remains: Deno resets the
 * handlers while the process exits, so a late second SIGINT can still end
 * it then — after its work; the coordinator allows for that.)
 */
function interruption(): AbortSignal {
  const controller = new AbortController();
  const abort = () => controller.abort(new Error("interrupted"));
  Deno.addSignalListener("SIGINT", abort);
  Deno.addSignalListener("SIGTERM", abort);
  return controller.signal;
}

function report(line: Report): void {
  console.log(JSON.stringify(line));
}

// ─── a producer ─────────────────────────────────────────────────────────────

async function producer(
  name: string,
  first: number,
  count: number,
  run: string,
) {
  const interrupted = interruption();
  using queue = MessageQueue.open(name, { write: true });
  for (let n = first; n < first + count && !interrupted.aborted; n++) {
    const { kind, priority, cost } = KINDS[(n * 7) % KINDS.length]!;
    const job: Message = { job: `${run}-${n}`, kind, cost };
    try {
      // Waits while the queue is full; aborted, it sends nothing.
      await queue.send(encoder.encode(JSON.stringify(job)), {
        priority,
        signal: interrupted,
      });
    } catch (error) {
      if (interrupted.aborted) break;
      throw error;
    }
    report({ sent: job.job, priority, kind, by: Deno.pid });
    await new Promise((resolve) => setTimeout(resolve, 10)); // jobs trickle in
  }
}

// ─── a consumer ─────────────────────────────────────────────────────────────

async function consumer(name: string, run: string) {
  const interrupted = interruption();
  using queue = MessageQueue.open(name, { read: true });
  for (;;) {
    let message;
    try {
      // Aborted, a receive takes nothing off the queue.
      message = await queue.receive({ signal: interrupted });
    } catch (error) {
      if (interrupted.aborted) break;
      throw error;
    }
    const body = JSON.parse(decoder.decode(message.data)) as Message;
    if ("stop" in body) {
      if (body.stop === run) break; // the end of this run's work
      report({ discarded: body.stop, by: Deno.pid }); // an interrupted run's
      continue;
    }
    // The job in hand is finished even if an interruption arrives meanwhile.
    await new Promise((resolve) => setTimeout(resolve, body.cost));
    report({
      done: body.job,
      priority: message.priority,
      kind: body.kind,
      by: Deno.pid,
    });
    if (interrupted.aborted) break;
  }
}

// ─── the coordinator (one run) ──────────────────────────────────────────────

interface Summary {
  run: string;
  interrupted: boolean;
  /** Jobs found in the queue when this run started. */
  found: number;
  produced: string[];
  consumed: string[];
  /** Jobs left in the queue for the next run: found + produced − consumed. */
  left: number;
  /** Messages the queue held at the end (jobs, and stop messages not taken). */
  queued: number;
}

async function coordinate(options: Record<string, string>): Promise<void> {
  const name = options.queue ?? "/job-queue-example";
  const run = options.run ?? `run${Deno.pid}`;
  const jobs = Number(options.jobs ?? 20);
  const producers = jobs === 0 ? 0 : Number(options.producers ?? 2);
  const consumers = Number(options.consumers ?? 3);
  // Open or create: a queue an interrupted run left keeps its jobs.
  const queue = MessageQueue.open(name, { create: true, ...QUEUE_SIZE });
  const found = queue.attributes.currentMessages;
  console.log(
    `${run}: queue ${name} (${
      queue.created ? "created" : `found, ${found} messages waiting`
    }); ` +
      `${producers} producers for ${jobs} jobs, ${consumers} consumers`,
  );
  const produced: string[] = [];
  const consumed: string[] = [];
  let stopping = false;
  const stopSending = new AbortController();

  const child = (
    args: string[],
  ): { process: ChildProcess; done: Promise<void> } => {
    const process = spawn(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", self, ...args],
      stdout: "piped",
    });
    const done = (async () => {
      let rest = "";
      for await (
        const text of process.stdout.pipeThrough(new TextDecoderStream())
      ) {
        const lines = (rest + text).split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          const r = JSON.parse(line) as Report;
          if ("sent" in r) {
            produced.push(r.sent);
            console.log(
              `  producer ${r.by} queued ${r.sent} (priority ${r.priority}: ${r.kind})`,
            );
          } else if ("done" in r) {
            consumed.push(r.done);
            console.log(
              `  consumer ${r.by} did ${r.done} (priority ${r.priority}: ${r.kind})`,
            );
          } else {
            console.log(
              `  consumer ${r.by} threw away the stop message of ${r.discarded}`,
            );
          }
        }
      }
      const status = await process.status;
      // A child interrupted by a second SIGINT may still die of it: Deno
      // resets the signal handlers while the process exits, after its work.
      const interrupted = status.signal === "SIGINT" ||
        status.signal === "SIGTERM";
      if (!status.success && !interrupted && !stopping) {
        throw new Error(
          `${args[0]} ${process.pid} failed: ${JSON.stringify(status)}`,
        );
      }
    })();
    return { process, done };
  };

  const finish = (interrupted: boolean) => {
    const summary: Summary = {
      run,
      interrupted,
      found,
      produced,
      consumed,
      left: found + produced.length - consumed.length,
      queued: queue.attributes.currentMessages,
    };
    console.log(
      `${run}: ${
        interrupted ? "interrupted" : "all work done"
      }: found ${found} + produced ${produced.length} = ` +
        `consumed ${consumed.length} + left in the queue ${summary.left} (the queue holds ${summary.queued} messages)`,
    );
    queue.close();
    if (summary.queued === 0 && !interrupted) {
      unlinkMessageQueue(name);
      console.log(`${run}: queue empty: ${name} removed`);
    } else {
      console.log(`${run}: ${name} kept for the next run`);
    }
    console.log(`summary ${JSON.stringify(summary)}`);
  };

  const per = Math.ceil(jobs / Math.max(producers, 1));
  const makers = Array.from(
    { length: producers },
    (_, i) =>
      child([
        "producer",
        name,
        String(i * per),
        String(Math.min(per, jobs - i * per)),
        run,
      ]),
  );
  const takers = Array.from(
    { length: consumers },
    () => child(["consumer", name, run]),
  );
  const everyone = [...makers, ...takers];

  // Ctrl-C reaches the whole process group, `kill -INT` only this process:
  // pass it on (a second one changes nothing for the children), wait for
  // every child to finish its job in hand, account, keep the queue.
  onShutdown(async (signal) => {
    stopping = true;
    stopSending.abort();
    console.log(
      `${run}: ${signal}: consumers finish the job in hand, producers stop`,
    );
    for (const { process } of everyone) process.kill("SIGINT");
    await Promise.allSettled(everyone.map((c) => c.done));
    finish(true);
  });

  await Promise.all(makers.map((c) => c.done));
  try {
    // The end-of-work marks, after every job of this run.
    const stop = encoder.encode(
      JSON.stringify({ stop: run } satisfies Message),
    );
    for (let i = 0; i < consumers && !stopping; i++) {
      await queue.send(stop, { priority: 0, signal: stopSending.signal });
    }
  } catch (error) {
    if (!stopping) throw error;
  }
  await Promise.all(takers.map((c) => c.done));
  if (!stopping) finish(false);
}

// ─── the demonstration: a run interrupted midway, then the next run ─────────

async function demo(): Promise<void> {
  const name = `/job-queue-demo-${Deno.pid}`;
  const summaries: Summary[] = [];
  const start = async (args: string[], interruptAfter?: number) => {
    // Its own process group, as a shell runs a command: the demo's Ctrl-C
    // is a SIGINT to the whole group.
    const run = spawn(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        self,
        "run",
        `--queue=${name}`,
        ...args,
      ],
      stdout: "piped",
      processGroup: true,
    });
    let done = 0;
    let rest = "";
    for await (const text of run.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith("summary ")) {
          summaries.push(JSON.parse(line.slice(8)) as Summary);
          continue;
        }
        console.log(`  │ ${line}`);
        if (line.includes(" did ") && ++done === interruptAfter) {
          console.log(
            `  │ ── demo: Ctrl-C (SIGINT to process group ${run.pgid}) ──`,
          );
          run.kill("SIGINT", { group: true });
        }
      }
    }
    return await run.status;
  };

  console.log(
    "run 1: 2 producers queue 24 jobs, 3 consumers; Ctrl-C after 6 jobs are done",
  );
  const first = await start(
    ["--run=run1", "--jobs=24", "--producers=2", "--consumers=3"],
    6,
  );
  console.log(`run 1 exited with ${first.code} (128 + SIGINT)`);
  console.log("run 2: no new jobs; 2 consumers take what run 1 left");
  const second = await start(["--run=run2", "--jobs=0", "--consumers=2"]);
  console.log(`run 2 exited with ${second.code}`);

  const [one, two] = summaries;
  if (!one || !two) throw new Error("a run printed no summary");
  const all = [...one.consumed, ...two.consumed];
  const once = new Set(all).size === all.length;
  const same = JSON.stringify([...all].sort()) ===
    JSON.stringify([...one.produced].sort());
  let queueGone = true;
  try {
    Deno.statSync(`/dev/mqueue${name}`);
    queueGone = false;
  } catch {
    // removed
  }
  console.log(
    `run 1: produced ${one.produced.length} = consumed ${one.consumed.length} + left in the queue ${one.left}; ` +
      `run 2 consumed ${two.consumed.length}`,
  );
  console.log(
    `no job lost: ${
      same && once ? "every job produced was consumed exactly once" : "MISMATCH"
    }; ` +
      `queue ${name} ${queueGone ? "removed" : "STILL THERE"}`,
  );
  if (
    first.code !== 130 || second.code !== 0 || !same || !once || !queueGone ||
    one.left !== two.consumed.length || one.queued !== one.left
  ) {
    if (!queueGone) unlinkMessageQueue(name);
    Deno.exit(1);
  }
}

const [mode = "demo", ...rest] = Deno.args;
const options = Object.fromEntries(
  rest.filter((a) => a.startsWith("--")).map((a) => {
    const [key, value = "true"] = a.slice(2).split("=");
    return [key!, value];
  }),
);
if (mode === "producer") {
  await producer(rest[0]!, Number(rest[1]), Number(rest[2]), rest[3]!);
} else if (mode === "consumer") {
  await consumer(rest[0]!, rest[1]!);
} else if (mode === "run") {
  await coordinate(options);
} else if (mode === "demo") {
  await demo();
} else {
  console.error(
    "usage: job_queue.ts [demo | run [--jobs=N] [--producers=N] [--consumers=N] [--queue=/name] [--run=ID]]",
  );
  Deno.exit(2);
}
