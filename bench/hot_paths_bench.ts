// Copyright 2026 the posix-ipc authors. MIT license.
// `deno bench` of the hot paths, in one process: FFI call costs, fd-backed
// stream reads and writes, framed() encoding and decoding, ShmChannel and
// Semaphore operations. (Two-process comparisons are in compare.ts.)

import { C } from "../_ffi/constants.ts";
import { libc } from "../_ffi/libc.ts";
import { pollNow } from "../_wait/engine.ts";
import { FdHandle } from "../_wait/fd_handle.ts";
import { FOREVER } from "../_wait/options.ts";
import { fdReadable, readFd } from "../_streams/readable.ts";
import { fdWritable } from "../_streams/writable.ts";
import { Semaphore } from "../sem/mod.ts";
import { ShmChannelReader, ShmChannelWriter } from "../shm/mod.ts";
import { framed } from "../socket/mod.ts";

const lib = libc();
const open = (path: string, flags: number) =>
  lib.open(new TextEncoder().encode(path + "\0"), flags | C.O_CLOEXEC, 0);
const chunk = new Uint8Array(64 * 1024);

// --- FFI calls ----------------------------------------------------------------
Deno.bench(
  "FFI: synchronous call (getpid)",
  { group: "ffi", baseline: true },
  () => {
    lib.getpid();
  },
);
const zero = open("/dev/zero", C.O_RDONLY);
Deno.bench("FFI: poll(fd, 0) readiness check", { group: "ffi" }, () => {
  pollNow(zero, C.POLLIN);
});
const zeroWaiter = new FdHandle(open("/dev/zero", C.O_RDONLY), "/dev/zero");
Deno.bench(
  "FFI: an engine wait on a ready fd (a thread hop)",
  { group: "ffi" },
  async () => {
    await zeroWaiter.wait(C.POLLIN, "bench", "stayed empty", FOREVER);
  },
);

// --- fd-backed streams --------------------------------------------------------
const zeroHandle = new FdHandle(
  open("/dev/zero", C.O_RDONLY | C.O_NONBLOCK),
  "/dev/zero",
);
const byob = fdReadable(zeroHandle, "bench").getReader({ mode: "byob" });
let byobBuffer = new Uint8Array(64 * 1024);
Deno.bench("read 64 KiB: readFd() into one buffer", {
  group: "read",
  baseline: true,
}, async () => {
  await readFd(zeroHandle, chunk, "bench");
});
Deno.bench("read 64 KiB: BYOB stream reader", { group: "read" }, async () => {
  const { value } = await byob.read(byobBuffer);
  byobBuffer = new Uint8Array(value!.buffer as ArrayBuffer);
});
const plain = fdReadable(
  new FdHandle(open("/dev/zero", C.O_RDONLY | C.O_NONBLOCK), "/dev/zero"),
  "bench",
).getReader();
Deno.bench("read 64 KiB: default reader (a new buffer per chunk)", {
  group: "read",
}, async () => {
  await plain.read();
});
const sink = fdWritable(
  new FdHandle(open("/dev/null", C.O_WRONLY | C.O_NONBLOCK), "/dev/null"),
  "bench",
).getWriter();
Deno.bench(
  "write 64 KiB: WritableStream",
  { group: "write", baseline: true },
  async () => {
    await sink.write(chunk);
  },
);

// --- framed() -------------------------------------------------------------------
for (const size of [64, 64 * 1024]) {
  const message = new Uint8Array(size);
  Deno.bench(`framed(): encode + decode 100 messages of ${size} B in memory`, {
    group: `framed-${size}`,
  }, async () => {
    const { readable, writable } = new TransformStream<
      Uint8Array,
      Uint8Array
    >();
    const encoder = framed({ writable }).writable.getWriter();
    const writing = (async () => {
      for (let i = 0; i < 100; i++) await encoder.write(message);
      await encoder.close();
    })();
    let count = 0;
    for await (const _ of framed({ readable }).readable) count++;
    await writing;
    if (count !== 100) throw new Error(`decoded ${count}`);
  });
}

// --- ShmChannel and Semaphore ---------------------------------------------------
const name = `/bench-${crypto.randomUUID().slice(0, 8)}`;
const writer = ShmChannelWriter.create(name, { capacity: 1 << 20 });
const reader = ShmChannelReader.open(name);
writer.unlink();
const into = new Uint8Array(64 * 1024);
Deno.bench("ShmChannel: write() + read() 64 KiB in one process", {
  group: "shm",
}, async () => {
  await writer.write(chunk);
  for (let got = 0; got < chunk.length;) {
    got += (await reader.read(into.subarray(got)))!;
  }
});
const sem = Semaphore.create(name, { unlinkOnClose: true });
Deno.bench("Semaphore: post() + tryWait()", { group: "sem" }, () => {
  sem.post();
  sem.tryWait();
});

globalThis.addEventListener("unload", () => {
  writer.close();
  reader.close();
  sem.close();
});
