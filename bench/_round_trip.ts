// Copyright 2026 the posix-ipc authors. MIT license.
// Internal to the benchmark: round trips between two Deno processes, both
// using the same mechanism (posix-ipc through _lib.ts, or Deno.Conn), with
// an optional gap after each so that both sides go idle between messages.
//
//   deno run -A _round_trip.ts MODE COUNT GAP_US [SIZE]
//
// MODE: conn (Deno.Conn over a Unix socket), pipe, socketpair, shm, sem, mq.
// Starts the echoing peer (this file with --echo), then times COUNT round
// trips of SIZE bytes (64; a post each way for sem), each followed by
// setTimeout(GAP_US / 1000) when GAP_US > 0. Bytes go through the low-level
// read()/write() (conn.read()/conn.write() for Deno.Conn). Prints
// {"cpuUs": …, "samplesUs": […]}: the user+system CPU time of this process
// over all round trips (process.cpuUsage(): getrusage, every thread), and
// the last 90% of round trips, in µs.

import process from "node:process";
import { monotonicUs } from "./_clock.ts";
import {
  adoptPipeReader,
  adoptPipeWriter,
  adoptSocketEnd,
  type ByteReader,
  type ByteWriter,
  createQueue,
  createSemaphore,
  createShmWriter,
  makePipe,
  makeSocketPair,
  openQueueReader,
  openQueueWriter,
  openSemaphore,
  openShmReader,
  spawnWith,
} from "./_lib.ts";

const SELF = new URL(import.meta.url).pathname;
const echo = Deno.args[0] === "--echo";
const [mode, countArg, third, sizeArg, ...names] = echo
  ? Deno.args.slice(1)
  : Deno.args;
const count = Number(countArg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readExactly(reader: ByteReader, buffer: Uint8Array) {
  for (let filled = 0; filled < buffer.length;) {
    const got = await reader.read(buffer.subarray(filled));
    if (got === null) throw new Error("round trip: the stream ended early");
    filled += got;
  }
}

/** One side's exchange: `send` then `receive` (initiator) or the reverse (peer). */
interface Side {
  send(): unknown;
  receive(): Promise<unknown>;
  close(): void;
}

function byteSide(reader: ByteReader, writer: ByteWriter, size: number): Side {
  const message = new Uint8Array(size).fill(1);
  const buffer = new Uint8Array(size);
  return {
    send: () => writer.write(message),
    receive: () => readExactly(reader, buffer),
    close: () => {
      writer.close();
      if ((reader as unknown) !== writer) reader.close();
    },
  };
}

async function openRetrying<T>(open: () => T): Promise<T> {
  for (let i = 0;; i++) {
    try {
      return open();
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound) || i > 2000) throw error;
      await sleep(2);
    }
  }
}

const connOf = (conn: Deno.Conn): ByteReader & ByteWriter => ({
  read: (buffer) => conn.read(buffer),
  write: async (bytes) => {
    for (let done = 0; done < bytes.length;) {
      done += await conn.write(bytes.subarray(done));
    }
  },
  close: () => conn.close(),
});

if (echo) {
  // The peer: fds 3 (and 4) or names/paths as arguments. A semaphore, queue
  // or ring never ends, so a peer whose initiator died (reparented) exits.
  const parent = Deno.ppid;
  Deno.unrefTimer(setInterval(() => {
    if (Deno.ppid !== parent) Deno.exit(3);
  }, 1000));
  const size = Number(sizeArg);
  let side: Side;
  let afterFirst = () => {};
  switch (mode) {
    case "conn": {
      const conn = connOf(
        await Deno.connect({ transport: "unix", path: third! }),
      );
      side = byteSide(conn, conn, size);
      break;
    }
    case "pipe": {
      side = byteSide(adoptPipeReader(3), adoptPipeWriter(4), size);
      break;
    }
    case "socketpair": {
      const end = adoptSocketEnd(3);
      side = byteSide(end, end, size);
      break;
    }
    case "shm": {
      const reader = openShmReader(third!);
      const writer = createShmWriter(names[0]!, 1 << 16);
      afterFirst = () => writer.unlink(); // the initiator has it open now
      side = byteSide(reader, writer, size);
      break;
    }
    case "sem": {
      const ping = openSemaphore(third!);
      const pong = openSemaphore(names[0]!);
      side = {
        send: () => pong.post(),
        receive: () => ping.wait(),
        close: () => {
          ping.close();
          pong.close();
        },
      };
      break;
    }
    case "mq": {
      const input = openQueueReader(third!);
      const output = openQueueWriter(names[0]!);
      const message = new Uint8Array(size).fill(1);
      side = {
        send: () => output.send(message),
        receive: () => input.receive(),
        close: () => {
          input.close();
          output.close();
        },
      };
      break;
    }
    default:
      throw new TypeError(`_round_trip.ts: unknown mode ${mode}`);
  }
  for (let i = 0; i < count; i++) {
    await side.receive();
    if (i === 0) afterFirst();
    await side.send();
  }
  side.close();
  Deno.exit(0);
}

// The initiator.
const gapUs = Number(third);
const size = Number(sizeArg ?? 64);
const deno = Deno.execPath();
const peer = (...args: (string | number)[]) => [
  "run",
  "--allow-all",
  "--quiet",
  SELF,
  "--echo",
  mode!,
  String(count),
  ...args.map(String),
];
const prefix = `/pipc-rt-${crypto.randomUUID().slice(0, 8)}`;
let side: Side;
let exited: Promise<number>;
const cleanup: (() => void)[] = [];
switch (mode) {
  case "conn": {
    const dir = Deno.makeTempDirSync({ prefix: "pipc-rt-" });
    cleanup.push(() => Deno.removeSync(dir, { recursive: true }));
    const listener = Deno.listen({ transport: "unix", path: `${dir}/s` });
    const child = new Deno.Command(deno, {
      args: peer(`${dir}/s`, size),
    }).spawn();
    exited = child.status.then((s) => s.code);
    const conn = connOf(await listener.accept());
    listener.close();
    side = byteSide(conn, conn, size);
    break;
  }
  case "pipe": {
    const there = makePipe();
    const back = makePipe();
    exited = spawnWith(deno, peer(0, size), {
      3: there.reader,
      4: back.writer,
    }).exited;
    side = byteSide(back.reader, there.writer, size);
    break;
  }
  case "socketpair": {
    const [here, there] = makeSocketPair();
    exited = spawnWith(deno, peer(0, size), { 3: there }).exited;
    side = byteSide(here, here, size);
    break;
  }
  case "shm": {
    const writer = createShmWriter(`${prefix}-a`, 1 << 16);
    cleanup.push(() => writer.unlink());
    exited = new Deno.Command(deno, {
      args: peer(`${prefix}-a`, size, `${prefix}-b`),
    }).spawn().status.then((s) => s.code);
    const reader = await openRetrying(() => openShmReader(`${prefix}-b`));
    side = byteSide(reader, writer, size);
    break;
  }
  case "sem": {
    const ping = createSemaphore(`${prefix}-a`);
    const pong = createSemaphore(`${prefix}-b`);
    cleanup.push(() => {
      ping.unlink();
      pong.unlink();
    });
    exited = new Deno.Command(deno, {
      args: peer(`${prefix}-a`, size, `${prefix}-b`),
    }).spawn().status.then((s) => s.code);
    side = {
      send: () => ping.post(),
      receive: () => pong.wait(),
      close: () => {
        ping.close();
        pong.close();
      },
    };
    break;
  }
  case "mq": {
    const options = { maxMessages: 8, messageSize: Math.max(size, 64) };
    const there = createQueue(`${prefix}-a`, options);
    const back = createQueue(`${prefix}-b`, options);
    cleanup.push(() => {
      there.unlink();
      back.unlink();
    });
    exited = new Deno.Command(deno, {
      args: peer(`${prefix}-a`, size, `${prefix}-b`),
    }).spawn().status.then((s) => s.code);
    const message = new Uint8Array(size).fill(1);
    side = {
      send: () => there.send(message),
      receive: () => back.receive(),
      close: () => {
        there.close();
        back.close();
      },
    };
    break;
  }
  default:
    throw new TypeError(`_round_trip.ts: unknown mode ${mode}`);
}

try {
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const t = monotonicUs();
    await side.send();
    await side.receive();
    samples.push(monotonicUs() - t);
    if (gapUs > 0) await sleep(gapUs / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  const code = await exited;
  if (code !== 0) throw new Error(`round trip: the peer failed (exit ${code})`);
  side.close();
  const steady = samples.slice(Math.floor(count / 10));
  console.log(
    JSON.stringify({
      cpuUs: cpu.user + cpu.system,
      samplesUs: steady.map((x) => Math.round(x * 1000) / 1000),
    }),
  );
} finally {
  for (const f of cleanup) f();
}
