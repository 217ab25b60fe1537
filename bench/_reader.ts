// Copyright 2026 the posix-ipc authors. MIT license.
// Internal to the benchmark: the Deno reader of the sporadic, fan-in, burst
// and idle scenarios, started by a feeder (c/feeder.c, or _shm_feeder.ts)
// that sends to it. The Deno counterpart of c/reader.c, same protocol.
//
//   deno run -A _reader.ts --mode MODE --n N --warmup MS --window MS
//                          [--name NAME|PATH] [--lag] [--burst]
//
// MODE: conn     Deno.Conn: listens on the Unix socket PATH, prints
//                "listening", accepts N connections, reads with conn.read()
//       pipe     posix-ipc PipeReader.read() on fds 3 … 3+N-1
//       socketpair  posix-ipc SocketEnd.read() on fds 3 … 3+N-1
//       shm      posix-ipc ShmChannel reader of NAME-0 … NAME-(N-1)
//       sem      posix-ipc Semaphore.wait() on NAME-i
//       mq       posix-ipc MessageQueue.receive() on NAME-i
//       none     no handles (run without a feeder): what the runtime alone costs
// Every handle has its own loop waiting for 64-byte messages. Prints
// "ready", then after --warmup measures --window and prints one JSON line:
//   cpuUs   user+system CPU time of this process in the window, from
//           process.cpuUsage() of node:process (getrusage RUSAGE_SELF:
//           every thread, so the runtime's and the library's helper
//           threads count too; the same numbers as the untyped
//           Deno.cpuUsage())
//   wallUs, msgs      the window's length and the messages received in it
//   latUs   delivery latency of each message of the window: the time it was
//           read (CLOCK_MONOTONIC, _clock.ts) minus the send time the feeder
//           wrote into it; semaphores carry nothing: recvUs and windowUs
//   lagMs, lateMs   with --lag, over the window: the event-loop probe's
//           samples (see probeLag): how long a message posted to this
//           process every 10 ms waited to be handled (the event-loop lag),
//           and how late each of those 10 ms timers fired
// --burst: one message per handle. Prints "ready", then issues a read on
// every handle at once, prints "pending" (the feeder's cue, -g) 200 ms
// later, and once all arrived prints {issueMs, rssPerRead, heapPerRead,
// completeMs, lagMs, lateMs, latUs}: the time the issuing loop held the event loop,
// memory growth per pending read (RSS and V8 heap, after a GC when
// --v8-flags=--expose-gc is given), and the time from the earliest send to
// the last delivery; the probe covers the whole run, so the largest of its
// samples is the longest event-loop stall.

import { parseArgs } from "@std/cli/parse-args";
import process from "node:process";
import { monotonicUs } from "./_clock.ts";
import {
  adoptPipeReader,
  adoptSocketEnd,
  type ByteReader,
  openQueueReader,
  openSemaphore,
  openShmReader,
} from "./_lib.ts";

const flags = parseArgs(Deno.args, {
  string: ["mode", "n", "warmup", "window", "name"],
  boolean: ["lag", "burst"],
});
const mode = flags.mode!;
const n = Number(flags.n ?? 1);
const warmup = Number(flags.warmup ?? 0);
const windowMs = Number(flags.window ?? 0);
const name = flags.name ?? "";

/** Waits for one message; returns its send time (µs), NaN if it has none, or null at the end. */
type Receive = (buffer: Uint8Array) => Promise<number | null>;

function byteReceiver(reader: ByteReader): Receive {
  return async (buffer) => {
    for (let filled = 0; filled < 64;) {
      const got = await reader.read(buffer.subarray(filled, 64));
      if (got === null) return null;
      filled += got;
    }
    return new DataView(buffer.buffer, buffer.byteOffset).getFloat64(0, true);
  };
}

const receivers: Receive[] = [];
let listener: Deno.Listener | undefined;
switch (mode) {
  case "conn": {
    listener = Deno.listen({ transport: "unix", path: name });
    console.log("listening");
    for (let i = 0; i < n; i++) {
      const conn = await listener.accept();
      receivers.push(byteReceiver(conn));
    }
    break;
  }
  case "pipe":
    for (let i = 0; i < n; i++) {
      receivers.push(byteReceiver(adoptPipeReader(3 + i)));
    }
    break;
  case "socketpair":
    for (let i = 0; i < n; i++) {
      receivers.push(byteReceiver(adoptSocketEnd(3 + i)));
    }
    break;
  case "shm":
    for (let i = 0; i < n; i++) {
      receivers.push(byteReceiver(openShmReader(`${name}-${i}`)));
    }
    break;
  case "sem":
    for (let i = 0; i < n; i++) {
      const sem = openSemaphore(`${name}-${i}`);
      receivers.push(async () => {
        await sem.wait();
        return NaN;
      });
    }
    break;
  case "mq":
    for (let i = 0; i < n; i++) {
      const queue = openQueueReader(`${name}-${i}`);
      receivers.push(async (buffer) => {
        const data = await queue.receive();
        buffer.set(data.subarray(0, 64));
        return new DataView(buffer.buffer, buffer.byteOffset).getFloat64(
          0,
          true,
        );
      });
    }
    break;
  case "none": // no handles: the runtime's own floor, for idle waiters
    break;
  default:
    console.error(`_reader.ts: unknown mode ${mode}`);
    Deno.exit(2);
}

// --- recording --------------------------------------------------------------

let inWindow = false;
let msgs = 0;
let delivered = 0;
let firstSent = Infinity;
let lastReceived = 0;
const latUs: number[] = [];
const recvUs: number[] = [];
const lagMs: number[] = [];
const lateMs: number[] = [];

function record(sent: number): void {
  const now = monotonicUs();
  delivered++;
  lastReceived = now;
  if (Number.isNaN(sent)) recvUs.push(now);
  else {
    if (sent < firstSent) firstSent = sent;
    if (inWindow) latUs.push(now - sent);
  }
  if (inWindow) msgs++;
}

async function loop(receive: Receive, count: number): Promise<void> {
  const buffer = new Uint8Array(64);
  for (let i = 0; i < count; i++) {
    const sent = await receive(buffer);
    if (sent === null) return;
    record(sent);
  }
}

/**
 * The event-loop probe: a chain of 10 ms timers. Each tick records how late
 * it fired (`lateMs`: a stall shows in full, but so does the timers' own
 * granularity of about a millisecond) and posts a message to itself through
 * a MessageChannel, recording how long that message waited to be handled
 * (`lagMs`: what any ready callback waits at that moment). Only while
 * `inWindow`.
 */
function probeLag(): void {
  const PERIOD = 10;
  const channel = new MessageChannel();
  let posted = 0;
  channel.port1.onmessage = () => {
    if (inWindow) lagMs.push(performance.now() - posted);
  };
  let due = performance.now() + PERIOD;
  const tick = () => {
    const now = performance.now();
    if (inWindow) lateMs.push(now - due);
    posted = performance.now();
    channel.port2.postMessage(null);
    due = now + PERIOD;
    setTimeout(tick, PERIOD);
  };
  setTimeout(tick, PERIOD);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const round = (xs: number[]) => xs.map((x) => Math.round(x * 1000) / 1000);

console.log("ready");

if (flags.burst) {
  gc();
  const before = Deno.memoryUsage();
  inWindow = true;
  probeLag();
  const t0 = performance.now();
  const loops = receivers.map((receive) => loop(receive, 1));
  const issueMs = performance.now() - t0;
  await sleep(200);
  gc();
  const pending = Deno.memoryUsage();
  console.log("pending");
  await Promise.all(loops);
  await sleep(20); // one more lag sample after the last delivery
  console.log(JSON.stringify({
    issueMs,
    rssPerRead: (pending.rss - before.rss) / n,
    heapPerRead: (pending.heapUsed + pending.external - before.heapUsed -
      before.external) / n,
    completeMs: (lastReceived - firstSent) / 1000,
    lagMs: round(lagMs),
    lateMs: round(lateMs),
    latUs: round(latUs),
  }));
  Deno.exit(0);
}

for (const receive of receivers) loop(receive, Infinity);
if (flags.lag) probeLag();
await sleep(warmup);
const cpu0 = process.cpuUsage();
const t0 = monotonicUs();
inWindow = true;
await sleep(windowMs);
const cpu1 = process.cpuUsage();
const t1 = monotonicUs();
inWindow = false;
const result: Record<string, unknown> = {
  cpuUs: cpu1.user + cpu1.system - cpu0.user - cpu0.system,
  wallUs: t1 - t0,
  msgs,
};
if (mode === "sem") {
  result.recvUs = round(recvUs);
  result.windowUs = [t0, t1];
} else result.latUs = round(latUs);
if (flags.lag) {
  result.lagMs = round(lagMs);
  result.lateMs = round(lateMs);
}
console.log(JSON.stringify(result));
Deno.exit(0);
