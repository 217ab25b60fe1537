// Copyright 2026 the posix-ipc authors. MIT license.

import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { MessageQueue, unlinkMessageQueue } from "../mq/mod.ts";
import { needs, waitingFor, waitUntil } from "./_harness.ts";
import {
  assertNoLeaks,
  compileC,
  listDir,
  randomName,
  within,
} from "./_helpers.ts";

const mqueue = needs("/dev/mqueue");
const gccAndMqueue = needs("gcc", "/dev/mqueue");

const enc = new TextEncoder();
const dec = new TextDecoder();
const mqName = () => `/${randomName("pipc-mq")}`;

const assertNoMqLeak = (fn: () => Promise<void> | void) =>
  assertNoLeaks(fn, ["/dev/mqueue"]);

const C_MQ = `
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
// mqpeer send NAME   sends "p1" (prio 1), "p7" (prio 7), "p3" (prio 3)
// mqpeer recv NAME   receives one message (5 s limit), prints "DATA PRIO"
int main(int argc, char **argv) {
  mqd_t q = mq_open(argv[2], !strcmp(argv[1], "send") ? O_WRONLY : O_RDONLY);
  if (q == (mqd_t)-1) { perror("mq_open"); return 2; }
  if (!strcmp(argv[1], "send")) {
    mq_send(q, "p1", 2, 1); mq_send(q, "p7", 2, 7); mq_send(q, "p3", 2, 3);
    return 0;
  }
  struct mq_attr a; mq_getattr(q, &a);
  char *buf = malloc(a.mq_msgsize + 1); unsigned prio;
  struct timespec t; clock_gettime(CLOCK_REALTIME, &t); t.tv_sec += 5;
  ssize_t n = mq_timedreceive(q, buf, a.mq_msgsize, &prio, &t);
  if (n < 0) { perror("mq_timedreceive"); return 1; }
  buf[n] = 0; printf("%s %u\\n", buf, prio);
  return 0;
}
`;

gccAndMqueue.test("MessageQueue with a C peer: priorities in both directions", async () => {
  const peer = await compileC("mq_peer", C_MQ, ["-lrt"]);
  await assertNoMqLeak(async () => {
    const name = mqName();
    using q = MessageQueue.open(name, {
      create: true,
      maxMessages: 8,
      messageSize: 256,
      unlinkOnClose: true,
    });
    assertEquals(
      (await waitingFor(
        "the C peer",
        new Deno.Command(peer, { args: ["send", name] }).output(),
      )).code,
      0,
    );
    assertEquals(q.attributes, {
      maxMessages: 8,
      messageSize: 256,
      currentMessages: 3,
    });
    const got = [];
    for (let i = 0; i < 3; i++) {
      const m = await q.receive({ timeout: 5000 });
      got.push(`${dec.decode(m.data)}@${m.priority}`);
    }
    assertEquals(got, ["p7@7", "p3@3", "p1@1"]);

    const receiver = new Deno.Command(peer, {
      args: ["recv", name],
      stdout: "piped",
    }).spawn();
    await q.send(enc.encode("from deno"), { priority: 12 });
    assertEquals(
      dec.decode((await waitingFor("the C peer", receiver.output())).stdout),
      "from deno 12\n",
    );
  });
});

mqueue.test("MessageQueue: timeouts and aborts consume nothing", async () => {
  await assertNoMqLeak(async () => {
    using q = MessageQueue.open(mqName(), {
      create: true,
      maxMessages: 2,
      messageSize: 16,
      unlinkOnClose: true,
    });
    const e = await assertRejects(
      () => q.receive({ timeout: 20 }),
      Deno.errors.TimedOut,
    );
    assertMatch(e.message, /stayed empty for 20 ms/);
    const c = new AbortController();
    const pending = q.receive({ signal: c.signal });
    await new Promise((r) => setTimeout(r, 20));
    c.abort(new Error("stop"));
    await assertRejects(() => within(pending, 5000, "abort"), Error, "stop");
    await q.send(enc.encode("kept"));
    assertEquals(
      q.attributes.currentMessages,
      1,
      "the aborted receive took nothing",
    );
    assertEquals(dec.decode((await q.receive()).data), "kept");
    // A full queue: send waits, times out, aborts.
    await q.send(enc.encode("1"));
    await q.send(enc.encode("2"));
    await assertRejects(
      () => q.send(enc.encode("3"), { timeout: 20 }),
      Deno.errors.TimedOut,
      "stayed full",
    );
    const sending = q.send(enc.encode("3"));
    assertEquals(dec.decode((await q.receive()).data), "1");
    await within(sending, 5000, "send after room");
    assertEquals(q.attributes.currentMessages, 2);
  });
});

mqueue.test("MessageQueue: sizes, limits and validation", async (t) => {
  await assertNoMqLeak(async () => {
    await t.step(
      "a message larger than messageSize names both sizes",
      async () => {
        using q = MessageQueue.open(mqName(), {
          create: true,
          maxMessages: 2,
          messageSize: 16,
          unlinkOnClose: true,
        });
        const e = await assertRejects(
          () => q.send(new Uint8Array(17)),
          RangeError,
        );
        assertMatch(
          e.message,
          /a message of 17 bytes is larger than the messageSize of .* \(16 bytes\)/,
        );
        await q.send(new Uint8Array(0));
        assertEquals(
          (await q.receive()).data.length,
          0,
          "empty messages are fine",
        );
        await assertRejects(
          () => q.send(new Uint8Array(1), { priority: 32768 }),
          RangeError,
          "priority",
        );
      },
    );
    await t.step("sizes beyond the system limits name the limit file", () => {
      const e1 = assertThrows(
        () =>
          MessageQueue.open(mqName(), {
            create: true,
            maxMessages: 100_000,
            messageSize: 16,
          }),
        RangeError,
      );
      assertMatch(
        e1.message,
        /maxMessages \(100000\) is above \/proc\/sys\/fs\/mqueue\/msg_max/,
      );
      const e2 = assertThrows(
        () =>
          MessageQueue.open(mqName(), {
            create: true,
            maxMessages: 2,
            messageSize: 64 << 20,
          }),
        RangeError,
      );
      assertMatch(
        e2.message,
        /messageSize \(67108864\) is above \/proc\/sys\/fs\/mqueue\/msgsize_max/,
      );
    });
    await t.step("names, existence, directions", async () => {
      for (const bad of ["q", "/", "/a/b", ""]) {
        assertThrows(() => MessageQueue.open(bad), TypeError);
      }
      const name = mqName();
      assertThrows(
        () => MessageQueue.open(name),
        Deno.errors.NotFound,
        "ENOENT",
      );
      using a = MessageQueue.create(name, { mode: 0o640 });
      assert(a.created);
      if (listDir("/dev/mqueue").length) {
        assertEquals(Deno.statSync(`/dev/mqueue${name}`).mode! & 0o777, 0o640);
      }
      // create() is always exclusive (the `exclusive` option is gone).
      const e = assertThrows(
        () => MessageQueue.create(name),
        Deno.errors.AlreadyExists,
      );
      assertMatch(
        e.message,
        new RegExp(
          `^MessageQueue\\.create\\(\\): cannot create message queue "${name}": EEXIST`,
        ),
      );
      // Open-or-create of an existing queue opens it as it is.
      using b = MessageQueue.open(name, { create: true, maxMessages: 1 });
      assertEquals(b.created, false);
      assertEquals(b.attributes.maxMessages, a.attributes.maxMessages);
      assertThrows(
        () => MessageQueue.open(name, { read: false, write: false }),
        TypeError,
        "at least one",
      );
      assertThrows(
        () => MessageQueue.open(name, { maxMessages: 4 }),
        TypeError,
        "add create: true",
      );
      assertThrows(
        () => MessageQueue.open(name, { create: true, maxMessages: 0 }),
        RangeError,
      );
      using w = MessageQueue.open(name, { write: true });
      assertThrows(() => w.readable, TypeError, "not open for reading");
      await assertRejects(() => w.receive(), TypeError);
      a.unlink();
      assertThrows(() => unlinkMessageQueue(name), Deno.errors.NotFound);
    });
  });
});

mqueue.test("MessageQueue: streams and close", async () => {
  await assertNoMqLeak(async () => {
    const name = mqName();
    const q = MessageQueue.open(name, {
      create: true,
      maxMessages: 4,
      messageSize: 64,
      unlinkOnClose: true,
    });
    const writer = q.writable.getWriter();
    const reader = q.readable.getReader();
    const received: string[] = [];
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        // The stream carries { data, priority } now.
        received.push(`${dec.decode(value.data)}@${value.priority}`);
      }
    })();
    for (const word of ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"]) {
      await writer.write(enc.encode(word)); // bytes: priority 0
    }
    await waitUntil(
      () => received.length >= 6,
      "six messages from the stream",
    );
    await writer.write({ data: enc.encode("urgent"), priority: 9 });
    await waitUntil(
      () => received.length >= 7,
      "the urgent message from the stream",
    );
    q.close(); // ends the pending read
    q.close();
    await within(reading, 5000, "stream end");
    assertEquals(received, [
      "a@0",
      "bb@0",
      "ccc@0",
      "dddd@0",
      "eeeee@0",
      "ffffff@0",
      "urgent@9",
    ]);
    assert(q.fd === -1);
    await assertRejects(() => q.receive(), Deno.errors.BadResource);
  });
});
