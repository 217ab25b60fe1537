// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for MessageQueue: review item 5 (concurrent receive()
// calls on one handle shared one buffer: each must get its own message).
// Item 28's queue part is in names_test.ts. The contents are compared, not
// only counted: mixes of two messages are still distinct strings.

import { assertEquals } from "@std/assert";
import { MessageQueue } from "../../mq/mod.ts";
import { needs } from "../_harness.ts";
import { within } from "../_helpers.ts";
import { posixName, removeNames } from "../_named_helpers.ts";

const mqueue = needs("/dev/mqueue");

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (m: { data: Uint8Array; priority: number }) => ({
  text: dec.decode(m.data),
  priority: m.priority,
});

// Review item 5
mqueue.test("MessageQueue.receive calls in flight on one handle each get their own message", async () => {
  const name = posixName("mq");
  try {
    using q = MessageQueue.create(name, {
      maxMessages: 4,
      messageSize: 64,
      unlinkOnClose: true,
    });
    await q.send(enc.encode("AAAAAAAA"), { priority: 1 });
    await q.send(enc.encode("BB"), { priority: 1 });
    const got = await within(
      Promise.all([q.receive(), q.receive()]),
      20_000,
      "two concurrent receives",
    );
    // The original: [{ text: "BBAAAAAA" }, { text: "BB" }].
    assertEquals(got.map(text), [
      { text: "AAAAAAAA", priority: 1 },
      { text: "BB", priority: 1 },
    ]);
  } finally {
    removeNames(name);
  }
});

// Review item 5
mqueue.test("MessageQueue: 10 concurrent receives per handle return 200 distinct messages intact", async () => {
  const name = posixName("mq");
  const total = 200;
  const perHandle = 10;
  try {
    using q = MessageQueue.create(name, {
      maxMessages: 10,
      messageSize: 64,
      unlinkOnClose: true,
    });
    using receiver = MessageQueue.open(name, { read: true });
    const expected = Array.from(
      { length: total },
      (_, i) => `message-${i}-${"x".repeat(i % 37)}`,
    );
    const sender = (async () => {
      for (const [i, m] of expected.entries()) {
        await q.send(enc.encode(m), { priority: i % 7 });
      }
    })();
    const received: { text: string; priority: number }[] = [];
    const receiving = (async () => {
      while (received.length < total) {
        const batch = Math.min(perHandle, total - received.length);
        const got = await Promise.all(
          Array.from({ length: batch }, () => receiver.receive()),
        );
        received.push(...got.map(text));
      }
    })();
    await within(
      Promise.all([sender, receiving]),
      60_000,
      "sending and receiving 200 messages",
    );
    const want = new Set(expected);
    const texts = received.map((m) => m.text);
    const corrupted = texts.filter((t) => !want.has(t));
    const lost = expected.filter((t) => !texts.includes(t));
    const wrongPriority = received.filter((m) =>
      want.has(m.text) && m.priority !== Number(m.text.split("-")[1]) % 7
    );
    assertEquals(
      {
        received: received.length,
        distinct: new Set(texts).size,
        corrupted: corrupted.length,
        lost: lost.length,
        wrongPriority: wrongPriority.length,
      },
      {
        received: total,
        distinct: total,
        corrupted: 0,
        lost: 0,
        wrongPriority: 0,
      },
      `e.g. corrupted ${JSON.stringify(corrupted.slice(0, 3))}, lost ${
        JSON.stringify(lost.slice(0, 3))
      }`,
    );
  } finally {
    removeNames(name);
  }
});
