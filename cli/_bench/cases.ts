// Copyright 2026 the posix-ipc authors. MIT license.
// The parent side of every `ipc bench` measurement: two processes, this one
// and a worker (./worker.ts) started with spawn().

import type { SocketListener } from "../../socket/mod.ts";
import { mkfifo, openFifo } from "../../fifo/mod.ts";
import { MessageQueue } from "../../mq/mod.ts";
import { pipe, spawn } from "../../pipe/mod.ts";
import { Semaphore } from "../../sem/mod.ts";
import { ShmChannelReader, ShmChannelWriter } from "../../shm/mod.ts";
import { signals } from "../../signal/mod.ts";
import { framed, listen, socketPair, UnixDatagram } from "../../socket/mod.ts";
import { drain, readExactly } from "./_io.ts";

/** The mechanisms of `ipc bench`, as named in its JSON output. */
export const MECHANISMS = [
  "pipe",
  "fifo",
  "unix",
  "tcp",
  "framed",
  "unix-dgram",
  "shm",
  "sem",
  "mq",
  "signal",
] as const;
/** One of {@linkcode MECHANISMS}. */
export type Mechanism = typeof MECHANISMS[number];

/** The comparison table of the reference notes, one row per mechanism. */
export const TABLE: Record<Mechanism, {
  label: string;
  direction: string;
  filesystem: string;
  sync: string;
  scope: string;
  throughput: boolean;
}> = {
  pipe: {
    label: "Pipe",
    direction: "One-way",
    filesystem: "No",
    sync: "No",
    scope: "Parent/child",
    throughput: true,
  },
  fifo: {
    label: "FIFO",
    direction: "One-way",
    filesystem: "Yes",
    sync: "No",
    scope: "Any processes",
    throughput: true,
  },
  unix: {
    label: "Socket (Unix)",
    direction: "Two-way",
    filesystem: "Yes",
    sync: "No",
    scope: "Any processes",
    throughput: true,
  },
  tcp: {
    label: "Socket (TCP)",
    direction: "Two-way",
    filesystem: "No",
    sync: "No",
    scope: "Network or local",
    throughput: true,
  },
  framed: {
    label: "framed() messages",
    direction: "Two-way",
    filesystem: "No",
    sync: "No",
    scope: "Any byte stream",
    throughput: true,
  },
  "unix-dgram": {
    label: "Unix datagram",
    direction: "Two-way",
    filesystem: "Yes",
    sync: "No",
    scope: "Any processes",
    throughput: true,
  },
  shm: {
    label: "Shared memory",
    direction: "Two-way",
    filesystem: "No",
    sync: "Yes (ShmChannel)",
    scope: "Any processes",
    throughput: true,
  },
  sem: {
    label: "Semaphore",
    direction: "No data",
    filesystem: "No",
    sync: "—",
    scope: "Any processes",
    throughput: false,
  },
  mq: {
    label: "Message queue",
    direction: "One-way",
    filesystem: "Yes (/dev/mqueue)",
    sync: "No",
    scope: "Any processes",
    throughput: false,
  },
  signal: {
    label: "Signal",
    direction: "No data",
    filesystem: "No",
    sync: "No",
    scope: "Any processes",
    throughput: false,
  },
};

const WORKER = new URL("./worker.ts", import.meta.url).href;

function worker(
  mechanism: Mechanism,
  role: string,
  args: (string | number)[],
  fds?: Record<number, { fd: number }>,
) {
  return spawn(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      WORKER,
      mechanism,
      role,
      ...args.map(String),
    ],
    ...(fds ? { fds } : {}),
    // Only the signal worker says when it is ready; the others stay silent.
    stdout: mechanism === "signal" ? "piped" : "null",
  });
}

async function finished(
  child: ReturnType<typeof worker>,
  what: string,
): Promise<void> {
  const status = await child.status;
  if (!status.success) {
    throw new Error(`${what}: the worker failed (exit ${status.code})`);
  }
}

function tempDir(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "ipc-bench-" });
  return {
    path,
    [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }),
  };
}

/** A listener for the worker to connect to: a socket file in a temporary directory, or a loopback TCP port. */
function streamServer(mechanism: "unix" | "tcp"): {
  listener: SocketListener;
  where: string | number;
} & Disposable {
  const dir = mechanism === "unix" ? tempDir() : undefined;
  const listener = dir
    ? listen({ path: `${dir.path}/s.sock` })
    : listen({ port: 0, hostname: "127.0.0.1" });
  return {
    listener,
    where: dir ? `${dir.path}/s.sock` : (listener.addr as Deno.NetAddr).port,
    [Symbol.dispose]() {
      listener.close();
      dir?.[Symbol.dispose]();
    },
  };
}

const shmName = () => `/ipc-bench-${crypto.randomUUID().slice(0, 8)}`;

/** One-way throughput in GB/s: the worker writes `total` bytes in `chunk`-byte writes, this process reads. */
export async function throughput(
  mechanism: Mechanism,
  chunk: number,
  total: number,
): Promise<number> {
  const what = `${mechanism} throughput`;
  const rate = (r: { bytes: number; seconds: number }) => {
    if (r.bytes < total) {
      throw new Error(`${what}: got ${r.bytes} of ${total} bytes`);
    }
    return r.bytes / r.seconds / 1e9;
  };
  switch (mechanism) {
    case "pipe": {
      const { reader, writer } = pipe({ size: 1 << 20 });
      const child = worker(mechanism, "write", [chunk, total], { 3: writer });
      const result = await drain(reader.readable, chunk);
      await finished(child, what);
      return rate(result);
    }
    case "fifo": {
      using dir = tempDir();
      const path = `${dir.path}/fifo`;
      await mkfifo(path);
      const child = worker(mechanism, "write", [chunk, total, path]);
      const fifo = await openFifo(path, { read: true, size: 1 << 20 });
      const result = await drain(fifo.readable, chunk);
      await finished(child, what);
      return rate(result);
    }
    case "unix":
    case "tcp": {
      using server = streamServer(mechanism);
      const { listener, where } = server;
      const child = worker(mechanism, "write", [chunk, total, where]);
      const conn = await listener.accept();
      const result = await drain(conn.readable, chunk);
      await finished(child, what);
      return rate(result);
    }
    case "framed": {
      const [here, there] = socketPair();
      const child = worker(mechanism, "write", [chunk, total], { 3: there });
      let bytes = 0;
      let start = 0;
      for await (const message of framed(here).readable) {
        if (!start) start = performance.now();
        bytes += message.length;
      }
      await finished(child, what);
      return rate({ bytes, seconds: (performance.now() - start) / 1000 });
    }
    case "unix-dgram": {
      using dir = tempDir();
      using socket = UnixDatagram.bind(`${dir.path}/rx`);
      const child = worker(mechanism, "write", [chunk, total, socket.path!]);
      let bytes = 0;
      let start = 0;
      for (;;) {
        const { data } = await socket.receive();
        if (data.length === 0) break;
        if (!start) start = performance.now();
        bytes += data.length;
      }
      const seconds = (performance.now() - start) / 1000;
      await finished(child, what);
      return rate({ bytes, seconds });
    }
    case "shm": {
      const name = shmName();
      using channel = ShmChannelReader.create(name, {
        capacity: 4 << 20,
        unlinkOnClose: true,
        unlinkOnExit: true,
      });
      const child = worker(mechanism, "write", [chunk, total, name]);
      const result = await drain(channel.readable, chunk);
      await finished(child, what);
      return rate(result);
    }
    default:
      throw new TypeError(`${mechanism} has no throughput benchmark`);
  }
}

/** `count` round trips of `size` bytes (or one post/signal); returns each round trip in µs. */
export async function roundTrips(
  mechanism: Mechanism,
  size: number,
  count: number,
): Promise<number[]> {
  const what = `${mechanism} round trip`;
  const samples: number[] = [];
  const message = new Uint8Array(size).fill(1);
  // A ping-pong over a writer and a reader: one sample per exchange.
  const pingPong = async (
    writable: WritableStream<Uint8Array>,
    readable: ReadableStream<Uint8Array>,
  ) => {
    const writer = writable.getWriter();
    const reader = readable.getReader({ mode: "byob" });
    let buffer = new Uint8Array(size);
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await writer.write(message);
      buffer = await readExactly(reader, buffer);
      samples.push((performance.now() - t) * 1000);
    }
    await writer.close();
    reader.releaseLock();
  };
  switch (mechanism) {
    case "pipe": {
      const there = pipe();
      const back = pipe();
      const child = worker(mechanism, "echo", [size, count], {
        3: there.reader,
        4: back.writer,
      });
      await pingPong(there.writer.writable, back.reader.readable);
      await finished(child, what);
      back.reader.close();
      break;
    }
    case "fifo": {
      using dir = tempDir();
      await mkfifo(`${dir.path}/in`);
      await mkfifo(`${dir.path}/out`);
      const child = worker(mechanism, "echo", [
        size,
        count,
        `${dir.path}/in`,
        `${dir.path}/out`,
      ]);
      const [input, output] = await Promise.all([
        openFifo(`${dir.path}/in`, { write: true }),
        openFifo(`${dir.path}/out`, { read: true }),
      ]);
      await pingPong(input.writable, output.readable);
      await finished(child, what);
      output.close();
      break;
    }
    case "unix":
    case "tcp": {
      using server = streamServer(mechanism);
      const { listener, where } = server;
      const child = worker(mechanism, "echo", [size, count, where]);
      const conn = await listener.accept();
      if (mechanism === "tcp") conn.setNoDelay(true);
      await pingPong(conn.writable, conn.readable);
      await finished(child, what);
      try {
        conn.close();
      } catch {
        // closed by the stream already
      }
      break;
    }
    case "framed": {
      const [here, there] = socketPair();
      const child = worker(mechanism, "echo", [size, count], { 3: there });
      const { readable, writable } = framed(here);
      const writer = writable.getWriter();
      const reader = readable.getReader();
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        await writer.write(message);
        await reader.read();
        samples.push((performance.now() - t) * 1000);
      }
      await writer.close();
      await reader.read();
      await finished(child, what);
      break;
    }
    case "unix-dgram": {
      using dir = tempDir();
      using socket = UnixDatagram.bind(`${dir.path}/parent`);
      const peer = `${dir.path}/worker`;
      const child = worker(mechanism, "echo", [
        size,
        count,
        socket.path!,
        peer,
      ]);
      while (true) {
        try {
          Deno.statSync(peer);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 2));
        }
      }
      for (let i = 0; i < count + 1; i++) {
        const t = performance.now();
        await socket.send(message, peer);
        await socket.receive();
        if (i > 0) samples.push((performance.now() - t) * 1000);
      }
      await finished(child, what);
      break;
    }
    case "shm": {
      const a = shmName();
      const b = shmName();
      using there = ShmChannelWriter.create(a, {
        capacity: 1 << 16,
        unlinkOnClose: true,
        unlinkOnExit: true,
      });
      using back = ShmChannelReader.create(b, {
        capacity: 1 << 16,
        unlinkOnClose: true,
        unlinkOnExit: true,
      });
      const child = worker(mechanism, "echo", [size, count, a, b]);
      await pingPong(there.writable, back.readable);
      await finished(child, what);
      break;
    }
    case "sem": {
      const a = shmName();
      const b = shmName();
      using ping = Semaphore.create(a, {
        unlinkOnClose: true,
        unlinkOnExit: true,
      });
      using pong = Semaphore.create(b, {
        unlinkOnClose: true,
        unlinkOnExit: true,
      });
      const child = worker(mechanism, "echo", [size, count, a, b]);
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        ping.post();
        await pong.wait();
        samples.push((performance.now() - t) * 1000);
      }
      await finished(child, what);
      break;
    }
    case "mq": {
      const a = shmName();
      const b = shmName();
      const options = {
        maxMessages: 8,
        messageSize: Math.max(size, 64),
        unlinkOnClose: true,
        unlinkOnExit: true,
      };
      using there = MessageQueue.create(a, options);
      using back = MessageQueue.create(b, options);
      const child = worker(mechanism, "echo", [size, count, a, b]);
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        await there.send(message);
        await back.receive();
        samples.push((performance.now() - t) * 1000);
      }
      await finished(child, what);
      there.unlink();
      back.unlink();
      break;
    }
    case "signal": {
      const replies = signals("SIGUSR2").getReader();
      const child = worker(mechanism, "echo", [size, count, Deno.pid]);
      const lines = child.stdout.getReader();
      await lines.read(); // "ready": its listener is installed
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        Deno.kill(child.pid, "SIGUSR1");
        await replies.read();
        samples.push((performance.now() - t) * 1000);
      }
      await replies.cancel();
      await lines.cancel();
      await finished(child, what);
      break;
    }
  }
  return samples;
}

/** ShmChannel throughput through its low-level read()/write() (GB/s). */
export async function shmRawThroughput(
  chunk: number,
  total: number,
): Promise<number> {
  const name = shmName();
  using channel = ShmChannelReader.create(name, {
    capacity: 4 << 20,
    unlinkOnClose: true,
    unlinkOnExit: true,
  });
  const child = worker("shm", "write-raw", [chunk, total, name]);
  const buffer = new Uint8Array(chunk);
  let bytes = 0;
  let start = 0;
  for (;;) {
    const n = await channel.read(buffer);
    if (n === null) break;
    if (!start) start = performance.now();
    bytes += n;
  }
  const seconds = (performance.now() - start) / 1000;
  await finished(child, "shm raw throughput");
  return bytes / seconds / 1e9;
}

/** ShmChannel round trips through read()/write() (µs each). */
export async function shmRawRoundTrips(
  size: number,
  count: number,
): Promise<number[]> {
  const a = shmName();
  const b = shmName();
  using there = ShmChannelWriter.create(a, {
    capacity: 1 << 16,
    unlinkOnClose: true,
    unlinkOnExit: true,
  });
  using back = ShmChannelReader.create(b, {
    capacity: 1 << 16,
    unlinkOnClose: true,
    unlinkOnExit: true,
  });
  const child = worker("shm", "echo-raw", [size, count, a, b]);
  const message = new Uint8Array(size).fill(1);
  const buffer = new Uint8Array(size);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await there.write(message);
    for (let got = 0; got < size;) {
      got += (await back.read(buffer.subarray(got)))!;
    }
    samples.push((performance.now() - t) * 1000);
  }
  there.close();
  await finished(child, "shm raw round trip");
  return samples;
}

/** Raw socket-pair throughput, the baseline of framed() (GB/s). */
export async function socketPairThroughput(
  chunk: number,
  total: number,
): Promise<number> {
  const [here, there] = socketPair();
  const child = worker("framed", "write-raw", [chunk, total], { 3: there });
  const { bytes, seconds } = await drain(here.readable, chunk);
  await finished(child, "socket pair throughput");
  return bytes / seconds / 1e9;
}

/** Raw socket-pair throughput read with `for await` (a new buffer per chunk), GB/s. */
export async function socketPairIterThroughput(
  chunk: number,
  total: number,
): Promise<number> {
  const [here, there] = socketPair();
  const child = worker("framed", "write-raw", [chunk, total], { 3: there });
  let bytes = 0;
  let start = 0;
  for await (const part of here.readable) {
    if (!start) start = performance.now();
    bytes += part.length;
  }
  const seconds = (performance.now() - start) / 1000;
  await finished(child, "socket pair throughput");
  return bytes / seconds / 1e9;
}

/** pipe() throughput through the low-level read()/write() (GB/s). */
export async function pipeRawThroughput(
  chunk: number,
  total: number,
): Promise<number> {
  const { reader, writer } = pipe({ size: 1 << 20 });
  const child = worker("pipe", "write-raw", [chunk, total], { 3: writer });
  const buffer = new Uint8Array(chunk);
  let bytes = 0;
  let start = 0;
  for (;;) {
    const n = await reader.read(buffer);
    if (n === null) break;
    if (!start) start = performance.now();
    bytes += n;
  }
  const seconds = (performance.now() - start) / 1000;
  reader.close();
  await finished(child, "pipe raw throughput");
  return bytes / seconds / 1e9;
}
