// Copyright 2026 the posix-ipc authors. MIT license.
// Shared memory: a segment seen by two processes without copies, and a
// producer/consumer stream over ShmChannel (a ring buffer in shared memory).
import {
  SharedMemory,
  ShmChannelReader,
  ShmChannelWriter,
} from "../shm/mod.ts";
import { spawn } from "../pipe/mod.ts";

const [role, name] = Deno.args;

if (role === "producer") {
  // The child: write 256 MiB into the channel through its WritableStream.
  using channel = ShmChannelWriter.open(name!);
  const writer = channel.writable.getWriter();
  const chunk = new Uint8Array(64 * 1024).fill(42);
  for (let i = 0; i < 4096; i++) await writer.write(chunk);
  await writer.close();
} else if (role === "peek") {
  // The child: read what the parent put in the segment, and answer in it.
  using shm = SharedMemory.open(name!);
  const bytes = new Uint8Array(shm.buffer);
  const text = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
  new TextEncoder().encodeInto(
    `child ${Deno.pid} read "${text}"\0`,
    bytes.subarray(1024),
  );
} else {
  const self = new URL(import.meta.url).pathname;
  const child = (...args: string[]) =>
    spawn(Deno.execPath(), { args: ["run", "-A", "--quiet", self, ...args] });

  // 1. A named segment: both processes map the same pages.
  const segment = `/example-shm-${Deno.pid}`;
  {
    using shm = SharedMemory.create(segment, {
      size: 4096,
      unlinkOnClose: true,
    });
    new TextEncoder().encodeInto(
      "hello, shared memory\0",
      new Uint8Array(shm.buffer),
    );
    await child("peek", segment).status;
    const answer = new Uint8Array(shm.buffer, 1024);
    console.log(
      `SharedMemory ${segment}: ${
        new TextDecoder().decode(answer.subarray(0, answer.indexOf(0)))
      }`,
    );
  }

  // 2. A stream: a producer process writes, this process consumes.
  const name = `/example-channel-${Deno.pid}`;
  using channel = ShmChannelReader.create(name, {
    capacity: 4 << 20,
    unlinkOnClose: true,
  });
  const producer = child("producer", name);
  const reader = channel.readable.getReader({ mode: "byob" });
  let buffer = new Uint8Array(1 << 20);
  let received = 0;
  let started = 0;
  for (;;) {
    const { value, done } = await reader.read(buffer);
    if (done) break;
    if (!started) started = performance.now();
    received += value.length;
    buffer = new Uint8Array(value.buffer);
  }
  const seconds = (performance.now() - started) / 1000;
  await producer.status;
  console.log(
    `ShmChannel ${name}: ${
      received >> 20
    } MiB from process ${producer.pid} at ${
      (received / seconds / 1e9).toFixed(1)
    } GB/s (ring of ${channel.capacity >> 20} MiB)`,
  );
}
