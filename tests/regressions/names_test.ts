// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for POSIX name lengths: review item 28 (the original
// refused names one byte short of glibc's limits). glibc accepts 255 bytes
// after the "/" for shm and queues (NAME_MAX for the /dev/shm or mqueue file
// name) and 251 for semaphores ("sem." + name); one more is refused with
// ENAMETOOLONG. The peer is Python 3 with ctypes on libc
// (fixtures/names_py_peer.py), in both directions.

import { needs } from "../_harness.ts";
import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import { MessageQueue } from "../../mq/mod.ts";
import { Semaphore } from "../../sem/mod.ts";
import { SharedMemory } from "../../shm/mod.ts";
import { within } from "../_helpers.ts";
import { describeChild, removeNames, runChild } from "../_named_helpers.ts";

const PEER = new URL("./fixtures/names_py_peer.py", import.meta.url).pathname;
const python3 = needs("python3");
const python3Mqueue = needs("python3", "/dev/mqueue");
const dec = new TextDecoder();

/** `/pipc-names-xxxxxxxx` padded with `fill` to `bytesAfterSlash` bytes after the "/". */
function longName(bytesAfterSlash: number, fill: string): string {
  const base = `/pipc-names-${crypto.randomUUID().slice(0, 8)}`;
  return base + fill.repeat(bytesAfterSlash + 1 - base.length);
}

async function peer(
  action: "create" | "check",
  kind: string,
  name: string,
): Promise<string> {
  const r = await runChild(
    "python3",
    [PEER, action, kind, name],
    `python peer ${action} ${kind}`,
    30_000,
  );
  assertEquals(r.code, 0, `the Python peer failed\n${describeChild(r)}`);
  return r.stdout.trim();
}

/** One byte more than the limit is still refused, before any system call. */
function assertTooLong(fn: () => unknown, max: number): void {
  const e = assertThrows(fn, TypeError);
  assertMatch(
    e.message,
    new RegExp(`has ${max + 1} bytes after "/", more than ${max}`),
  );
}

// Review item 28
python3.test({
  name:
    "SharedMemory opens a segment a C/Python peer created with a 255-byte name",
  async fn() {
    const name = longName(255, "x");
    assertEquals(new TextEncoder().encode(name).length, 256);
    try {
      assertEquals(await peer("create", "shm", name), "created");
      // The original: TypeError "the name is 256 bytes, longer than 255".
      using shm = SharedMemory.open(name);
      assertEquals(
        dec.decode(new Uint8Array(shm.buffer, 0, 11)),
        "from-python",
      );
      shm.unlink();
    } finally {
      removeNames(name);
    }
    assertTooLong(() => SharedMemory.open(name + "x"), 255);
  },
});

// Review item 28
python3.test({
  name:
    "SharedMemory.create accepts a 255-byte name that a C/Python peer can open",
  async fn() {
    const name = longName(255, "y");
    try {
      // The original threw TypeError before creating anything.
      using shm = SharedMemory.create(name, {
        size: 4096,
        unlinkOnClose: true,
      });
      new TextEncoder().encodeInto("from-deno", new Uint8Array(shm.buffer));
      assertEquals(await peer("check", "shm", name), "from-deno\0\0 4096");
    } finally {
      removeNames(name);
    }
    assertTooLong(
      () => SharedMemory.create(name + "y", { size: 4096 }),
      255,
    );
  },
});

// Review item 28
python3.test({
  name:
    "Semaphore opens a semaphore a C/Python peer created with a 251-byte name",
  async fn() {
    const name = longName(251, "s");
    assertEquals(new TextEncoder().encode(name).length, 252);
    try {
      assertEquals(await peer("create", "sem", name), "created");
      // The original: TypeError "the name is 252 bytes, longer than 251".
      using sem = Semaphore.open(name);
      assertEquals(sem.value, 3);
      sem.unlink();
    } finally {
      removeNames(name);
    }
    assertTooLong(() => Semaphore.open(name + "s"), 251);
  },
});

// Review item 28
python3.test({
  name:
    "Semaphore.create accepts a 251-byte name that a C/Python peer can open",
  async fn() {
    const name = longName(251, "t");
    try {
      using _sem = Semaphore.create(name, { initial: 4, unlinkOnClose: true });
      assertEquals(await peer("check", "sem", name), "value 4");
    } finally {
      removeNames(name);
    }
    assertTooLong(() => Semaphore.create(name + "t"), 251);
  },
});

// Review item 28
python3Mqueue.test({
  name:
    "MessageQueue opens a queue a C/Python peer created with a 255-byte name",
  async fn() {
    const name = longName(255, "q");
    try {
      assertEquals(await peer("create", "mq", name), "created");
      // The original: TypeError "the name is 256 bytes, longer than 255".
      using q = MessageQueue.open(name);
      const m = await within(q.receive(), 10_000, "the peer's message");
      assertEquals([dec.decode(m.data), m.priority], ["from-python", 5]);
      q.unlink();
    } finally {
      removeNames(name);
    }
    assertTooLong(() => MessageQueue.open(name + "q"), 255);
  },
});

// Review item 28
python3Mqueue.test({
  name:
    "MessageQueue.create accepts a 255-byte name that a C/Python peer can open",
  async fn() {
    const name = longName(255, "r");
    try {
      using q = MessageQueue.create(name, {
        maxMessages: 4,
        messageSize: 64,
        unlinkOnClose: true,
      });
      await q.send(new TextEncoder().encode("from-deno"), { priority: 6 });
      assertEquals(await peer("check", "mq", name), "from-deno 6");
    } finally {
      removeNames(name);
    }
    assertTooLong(() => MessageQueue.create(name + "r"), 255);
  },
});
