// Copyright 2026 the posix-ipc authors. MIT license.
// Load: many create/open/close/unlink cycles of every kind (1,000 quick,
// 10,000 with PIPC_FULL=1), and 1,000 concurrent waits on semaphores and on
// queues. The fd count and /dev/shm and /dev/mqueue return to where they
// started; the waits park in the wait engine (futex_waitv for semaphores,
// one epoll set for queues), a thread or two in all, so file I/O on Deno's
// blocking pool keeps working meanwhile; every message arrives intact.

import { assert, assertEquals } from "@std/assert";
import { mkfifo, openFifo } from "../../fifo/mod.ts";
import { MessageQueue, unlinkMessageQueue } from "../../mq/mod.ts";
import { pipe } from "../../pipe/mod.ts";
import { Lock, Semaphore, unlinkSemaphore } from "../../sem/mod.ts";
import {
  SharedMemory,
  ShmChannelReader,
  ShmChannelWriter,
  unlinkSharedMemory,
} from "../../shm/mod.ts";
import { socketPair, UnixDatagram } from "../../socket/mod.ts";
import { needs } from "../_harness.ts";
import {
  assertNoLeaks,
  listDir,
  randomName,
  tempDir,
  within,
} from "../_helpers.ts";
import {
  expectThreadsInSyscall,
  settledThreadsInSyscall,
  SYS,
} from "../_named_helpers.ts";
import { CYCLES, WAITS } from "./_size.ts";

const mqueue = needs("/dev/mqueue");

Deno.test(`load: ${CYCLES} create/open/close/unlink cycles of each kind`, async (t) => {
  const mq = mqueue.in(t);
  const prefix = `/${randomName("pipc-load")}`;
  await t.step("SharedMemory", () =>
    assertNoLeaks(() => {
      for (let i = 0; i < CYCLES; i++) {
        const a = SharedMemory.create(prefix, { size: 4096 }); // exclusive
        const b = SharedMemory.open(prefix);
        new Uint8Array(a.buffer)[0] = i & 0xff;
        assertEquals(new Uint8Array(b.buffer)[0], i & 0xff);
        b.close();
        a.close();
        unlinkSharedMemory(prefix);
      }
    }));
  await t.step("ShmChannel", () =>
    assertNoLeaks(async () => {
      for (let i = 0; i < CYCLES / 4; i++) {
        using w = ShmChannelWriter.create(prefix, { capacity: 256 });
        using r = ShmChannelReader.open(prefix);
        w.unlink();
        await w.write(new Uint8Array([i & 0xff]));
        assertEquals(await r.read(new Uint8Array(1)), 1);
      }
    }));
  await t.step("Semaphore", () =>
    assertNoLeaks(() => {
      for (let i = 0; i < CYCLES; i++) {
        const a = Semaphore.create(prefix, { initial: 1 }); // exclusive
        const b = Semaphore.open(prefix);
        assert(b.tryWait());
        a.post();
        b.close();
        a.close();
        unlinkSemaphore(prefix);
      }
    }));
  await mq.step("MessageQueue", () =>
    assertNoLeaks(async () => {
      for (let i = 0; i < CYCLES; i++) {
        const q = MessageQueue.create(prefix, {
          maxMessages: 2,
          messageSize: 8,
        });
        await q.send(new Uint8Array([1]));
        assertEquals((await q.receive()).data.length, 1);
        q.close();
        unlinkMessageQueue(prefix);
      }
    }));
  await t.step("pipe, socket pair, datagram, FIFO, lock", async () => {
    using dir = tempDir();
    await assertNoLeaks(async () => {
      for (let i = 0; i < CYCLES; i++) {
        const p = pipe();
        p.reader.close();
        p.writer.close();
        const [a, b] = socketPair();
        a.close();
        b.close();
        const d = UnixDatagram.bind(`${dir.path}/d`);
        d.close();
        using lock = Lock.open(`${dir.path}/l`, { create: true });
        lock.tryAcquire()?.release();
      }
      for (let i = 0; i < CYCLES / 10; i++) {
        await mkfifo(`${dir.path}/f`);
        const f = await openFifo(`${dir.path}/f`, { read: true, write: true });
        f.close();
        Deno.removeSync(`${dir.path}/f`);
      }
    });
    assertEquals(listDir(dir.path), ["l"]);
  });
});

mqueue.test(`load: ${WAITS} concurrent semaphore waits, then ${WAITS} queue receives; file I/O keeps working`, async () => {
  const prefix = `/${randomName("pipc-wait")}`;
  await assertNoLeaks(async () => {
    const base = await settledThreadsInSyscall(SYS.futex_waitv);
    const threadsBefore = threadCount();
    // 100 semaphores with 10 waiters each.
    const sems = Array.from(
      { length: 100 },
      (_, i) =>
        Semaphore.open(`${prefix}-s${i}`, {
          create: true,
          unlinkOnClose: true,
        }),
    );
    const semWaits = Array.from(
      { length: WAITS },
      (_, i) => sems[i % sems.length]!.wait(),
    );
    // 100 queues with 10 receivers each.
    const queues = Array.from(
      { length: 100 },
      (_, i) =>
        MessageQueue.open(`${prefix}-q${i}`, {
          create: true,
          maxMessages: 10,
          messageSize: 8,
          unlinkOnClose: true,
        }),
    );
    const receives = Array.from(
      { length: WAITS },
      (_, i) => queues[i % queues.length]!.receive(),
    );
    // The semaphore waits sleep on the semaphores' futex words: one
    // futex_waitv thread holds up to 127 of them (a handle's waiters queue
    // behind its first, so 100 words here). The receives wait in the
    // engine's one epoll set, on one more thread. Nothing parks a pool
    // thread per wait (the old code parked up to 8 per kind in
    // sem_timedwait/mq_timedreceive, and made the rest poll).
    await expectThreadsInSyscall(
      SYS.futex_waitv,
      base + 1,
      `${WAITS} waits on 100 semaphores`,
    );
    const grew = threadCount() - threadsBefore;
    assert(
      grew <= 2,
      `${WAITS * 2} pending waits added ${grew} threads to this process`,
    );
    // The blocking pool is not exhausted: a file read completes now.
    const file = await within(
      Deno.readFile(Deno.execPath()),
      20_000,
      "a file read while 2,000 waits are pending",
    );
    assert(file.length > 0);
    for (const s of sems) {
      for (let i = 0; i < WAITS / sems.length; i++) s.post();
    }
    // Each queue gets 10 distinct messages (its index, a sequence number,
    // and a tail that varies in length) with varying priorities.
    const message = (q: number, k: number) =>
      Uint8Array.from(
        { length: 2 + (k % 7) },
        (_, j) => j === 0 ? q : j === 1 ? k : 0xa0 + j,
      );
    const per = WAITS / queues.length;
    for (const [q, queue] of queues.entries()) {
      for (let k = 0; k < per; k++) {
        await queue.send(message(q, k), { priority: k % 3 });
      }
    }
    await within(Promise.all(semWaits), 30_000, "semaphore waits");
    const got = await within(Promise.all(receives), 30_000, "queue receives");
    assertEquals(got.length, WAITS);
    // Every receive got its own message, intact, with its priority.
    const byQueue = queues.map(() => [] as string[]);
    got.forEach((m, i) => {
      byQueue[i % queues.length]!.push(`${[...m.data]}@${m.priority}`);
    });
    byQueue.forEach((messages, q) => {
      assertEquals(
        messages.sort(),
        Array.from({ length: per }, (_, k) => `${[...message(q, k)]}@${k % 3}`)
          .sort(),
        `messages received from queue ${q}`,
      );
    });
    for (const s of sems) s.close();
    for (const q of queues) q.close();
  });
});

/** Threads of this process. */
function threadCount(): number {
  return [...Deno.readDirSync("/proc/self/task")].length;
}
