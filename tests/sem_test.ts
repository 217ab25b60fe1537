// Copyright 2026 the posix-ipc authors. MIT license.

import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { Lock, SEM_VALUE_MAX, Semaphore, unlinkSemaphore } from "../sem/mod.ts";
import { SharedMemory } from "../shm/mod.ts";
import { needs, waitingFor, waitUntil } from "./_harness.ts";
import {
  assertNoFdLeak,
  assertNoLeaks,
  compileC,
  denoArgs,
  randomName,
  readUntil,
  tempDir,
  within,
} from "./_helpers.ts";
import {
  expectThreadsInSyscall,
  settledThreadsInSyscall,
  SYS,
  threadsInSyscall,
} from "./_named_helpers.ts";

const gcc = needs("gcc");

const dec = new TextDecoder();
const fixture = new URL("./fixtures/sem_child.ts", import.meta.url);
const semName = () => `/${randomName("pipc-sem")}`;

const assertNoSemLeak = (fn: () => Promise<void> | void) =>
  assertNoLeaks(fn, ["/dev/shm"]);

const C_SEM = `
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
// sempeer post NAME N | sempeer wait NAME (5 s limit) | sempeer trywait NAME
int main(int argc, char **argv) {
  sem_t *s = sem_open(argv[2], 0);
  if (s == SEM_FAILED) { perror("sem_open"); return 2; }
  if (!strcmp(argv[1], "post")) { for (int i = 0; i < atoi(argv[3]); i++) sem_post(s); return 0; }
  if (!strcmp(argv[1], "trywait")) { int r = sem_trywait(s); printf("%s\\n", r == 0 ? "took" : "empty"); return 0; }
  struct timespec t; clock_gettime(CLOCK_REALTIME, &t); t.tv_sec += 5;
  int r = sem_timedwait(s, &t);
  printf("%s\\n", r == 0 ? "woke" : "timeout");
  return r == 0 ? 0 : 1;
}
`;

gcc.test("Semaphore with a C peer: C posts and we wait; we post and C waits", async () => {
  const peer = await compileC("sem_peer", C_SEM, ["-pthread"]);
  await assertNoSemLeak(async () => {
    const name = semName();
    using sem = Semaphore.create(name, { unlinkOnClose: true });
    const waiting = sem.wait({ timeout: 10_000 });
    await waitingFor(
      "the C peer",
      new Deno.Command(peer, { args: ["post", name, "1"] }).output(),
    );
    await waiting;
    assertEquals(sem.value, 0);

    const c = new Deno.Command(peer, { args: ["wait", name], stdout: "piped" })
      .spawn();
    await new Promise((r) => setTimeout(r, 50));
    sem.post();
    const out = await waitingFor("the C peer", c.output());
    assertEquals(dec.decode(out.stdout), "woke\n");
    assertEquals(sem.value, 0);
  });
});

// A C peer that opens the semaphore with sem_open, as C programs do.
const C_SEM_BLOCKING = `
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
// semwait post NAME   sem_post once
// semwait wait NAME   print "waiting", then sem_wait (no timeout), print "woke"
int main(int argc, char **argv) {
  sem_t *s = sem_open(argv[2], 0);
  if (s == SEM_FAILED) { perror("sem_open"); return 2; }
  if (!strcmp(argv[1], "post")) return sem_post(s) == 0 ? 0 : 1;
  printf("waiting\\n"); fflush(stdout);
  if (sem_wait(s) != 0) { perror("sem_wait"); return 1; }
  printf("woke\\n");
  return 0;
}
`;

gcc.test("Semaphore.create with a C peer: sem_post wakes a Deno waiter asleep in the kernel, and post() wakes a C sem_wait", async () => {
  const peer = await compileC("sem_block_peer", C_SEM_BLOCKING, ["-pthread"]);
  await assertNoSemLeak(async () => {
    const name = semName();
    using sem = Semaphore.create(name, { unlinkOnClose: true });

    // C posts; the Deno waiter sleeps in futex_waitv on the semaphore's word
    // (not a timer poll) until then.
    const base = await settledThreadsInSyscall(SYS.futex_waitv);
    const waiting = within(sem.wait(), 10_000, "the wait woken by C");
    await expectThreadsInSyscall(
      SYS.futex_waitv,
      base + 1,
      "the Deno wait asleep",
    );
    const posted = await waitingFor(
      "the C peer",
      new Deno.Command(peer, {
        args: ["post", name],
      }).output(),
    );
    assertEquals(posted.code, 0);
    await waiting;
    assertEquals(sem.value, 0);
    await expectThreadsInSyscall(SYS.futex_waitv, base, "after the wait");

    // C waits in sem_wait (a futex wait in glibc); our post wakes it.
    const c = new Deno.Command(peer, {
      args: ["wait", name],
      stdout: "piped",
    }).spawn();
    const lines = c.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      let said = await readUntil(lines, "waiting");
      await waitUntil(
        () => threadsInSyscall(SYS.futex, c.pid) === 1,
        "the C waiter asleep in sem_wait",
        5,
      );
      sem.post();
      for (;;) {
        const { value, done } = await within(
          lines.read(),
          10_000,
          "the C waiter woken by post()",
        );
        if (done) break;
        said += value;
      }
      assertEquals(said, "waiting\nwoke\n");
      assertEquals((await within(c.status, 10_000, "C exit")).code, 0);
      assertEquals(sem.value, 0, "the C waiter took the post");
    } finally {
      try {
        c.kill("SIGKILL");
      } catch {
        // exited
      }
      await lines.cancel().catch(() => {});
      await c.status;
    }
  });
});

gcc.test("Semaphore: a timed-out or aborted wait never consumes a later post", async (t) => {
  const peer = await compileC("sem_peer", C_SEM, ["-pthread"]);
  await assertNoSemLeak(async () => {
    const name = semName();
    using sem = Semaphore.open(name, { create: true, unlinkOnClose: true });
    await t.step("timeout, then a post from C", async () => {
      const e = await assertRejects(
        () => sem.wait({ timeout: 20 }),
        Deno.errors.TimedOut,
      );
      assertMatch(e.message, /stayed at 0 for 20 ms/);
      // The wait only slept on the semaphore's futex word and never took a
      // count (only sem_trywait takes one): the post must survive it.
      await waitingFor(
        "the C peer",
        new Deno.Command(peer, { args: ["post", name, "1"] }).output(),
      );
      await new Promise((r) => setTimeout(r, 150));
      assertEquals(sem.value, 1, "the post is still there");
      const c = await waitingFor(
        "the C peer",
        new Deno.Command(peer, {
          args: ["trywait", name],
          stdout: "piped",
        }).output(),
      );
      assertEquals(
        dec.decode(c.stdout),
        "took\n",
        "and another process can take it",
      );
    });
    await t.step("abort, then a post", async () => {
      const controller = new AbortController();
      const waiting = sem.wait({ signal: controller.signal });
      await new Promise((r) => setTimeout(r, 10));
      controller.abort(new Error("no longer needed"));
      await assertRejects(() => waiting, Error, "no longer needed");
      sem.post();
      await new Promise((r) => setTimeout(r, 150));
      assertEquals(sem.value, 1);
      assert(sem.tryWait());
    });
    await t.step("an already aborted signal", async () => {
      await assertRejects(
        () => sem.wait({ signal: AbortSignal.abort() }),
        DOMException,
      );
    });
  });
});

Deno.test("Semaphore: 4 processes × 200 increments under acquire() give an exact total", async () => {
  await assertNoSemLeak(async () => {
    const shmName = `/${randomName("pipc-cnt")}`;
    const name = semName();
    using shm = SharedMemory.create(shmName, {
      size: 4096,
      unlinkOnClose: true,
    });
    using sem = Semaphore.open(name, {
      create: true,
      initial: 1,
      unlinkOnClose: true,
    });
    const children = Array.from(
      { length: 4 },
      () =>
        new Deno.Command(Deno.execPath(), {
          args: denoArgs(fixture, "count", shmName, name, "200"),
        }).spawn(),
    );
    const statuses = await within(
      Promise.all(children.map((c) => c.status)),
      120_000,
      "counters",
    );
    assert(statuses.every((s) => s.success));
    assertEquals(new Int32Array(shm.buffer)[0], 800);
    assertEquals(sem.value, 1);
  });
});

Deno.test("Semaphore: many waiters share a bounded number of pool threads, in order", async () => {
  await assertNoSemLeak(async () => {
    const base = await settledThreadsInSyscall(SYS.futex_waitv);
    const sems = Array.from(
      { length: 20 },
      () => Semaphore.open(semName(), { create: true, unlinkOnClose: true }),
    );
    const order: number[] = [];
    const one = sems[0]!;
    const queued = Array.from(
      { length: 50 },
      (_, i) => one.wait().then(() => order.push(i)),
    );
    const others = sems.slice(1).map((s) => s.wait());
    // The engine sleeps on the semaphores' futex words, up to 127 of them on
    // one thread (futex_waitv): these 20 handles' waits (the head of each
    // handle's queue) park exactly one thread, and the blocking pool stays
    // free. (This replaces a check of MAX_PARKED_THREADS, the old per-kind
    // budget of threads parked in sem_timedwait.)
    await expectThreadsInSyscall(
      SYS.futex_waitv,
      base + 1,
      "70 waits on 20 semaphores",
    );
    // A file read on the same blocking pool still completes meanwhile.
    await within(
      Deno.readFile(Deno.execPath()),
      10_000,
      "file read while waits are parked",
    );
    for (let i = 0; i < 50; i++) one.post();
    for (const s of sems.slice(1)) s.post();
    await within(Promise.all([...queued, ...others]), 10_000, "all waits");
    assertEquals(
      order,
      Array.from({ length: 50 }, (_, i) => i),
      "one handle's waiters are served in order",
    );
    await expectThreadsInSyscall(SYS.futex_waitv, base, "after the waits");
    for (const s of sems) s.close();
  });
});

Deno.test("Semaphore: validation, missing and existing names, close", async (t) => {
  await assertNoSemLeak(async () => {
    await t.step("names", () => {
      // 251 bytes after "/" is glibc's limit for semaphores ("sem." + name
      // in /dev/shm): one more is refused.
      for (const bad of ["x", "/", "/a/b", "", `/${"n".repeat(252)}`]) {
        assertThrows(() => Semaphore.open(bad, { create: true }), TypeError);
        assertThrows(() => Semaphore.create(bad), TypeError);
      }
      assertThrows(() => unlinkSemaphore("nope"), TypeError);
    });
    await t.step("initial", () => {
      for (const initial of [-1, 1.5, SEM_VALUE_MAX + 1, NaN]) {
        const e = assertThrows(
          () => Semaphore.open(semName(), { create: true, initial }),
          RangeError,
        );
        assertMatch(e.message, /initial must be an integer from 0 to/);
      }
    });
    await t.step(
      "missing without create is NotFound; create on existing is AlreadyExists",
      () => {
        const name = semName();
        assertThrows(
          () => Semaphore.open(name),
          Deno.errors.NotFound,
          "ENOENT",
        );
        using a = Semaphore.create(name, { mode: 0o640 });
        assert(a.created);
        assertEquals(
          Deno.statSync(`/dev/shm/sem.${name.slice(1)}`).mode! & 0o777,
          0o640,
        );
        // create() is always exclusive (the `exclusive` option is gone).
        const e = assertThrows(
          () => Semaphore.create(name),
          Deno.errors.AlreadyExists,
        );
        assertMatch(
          e.message,
          new RegExp(
            `^Semaphore\\.create\\(\\): cannot create semaphore "${name}": EEXIST`,
          ),
        );
        // What applies only to a new semaphore needs create (was: "exclusive
        // needs create").
        assertThrows(
          () => Semaphore.open(name, { initial: 1 }),
          TypeError,
          "add create: true",
        );
        using b = Semaphore.open(name);
        b.post();
        assertEquals(a.value, 1);
        // Open-or-create of an existing one opens it as it is.
        using c = Semaphore.open(name, { create: true, initial: 5 });
        assertEquals([c.created, c.value], [false, 1]);
        a.unlink();
        assertThrows(() => unlinkSemaphore(name), Deno.errors.NotFound);
      },
    );
    await t.step("close rejects pending waits and is idempotent", async () => {
      const s = Semaphore.open(semName(), {
        create: true,
        unlinkOnClose: true,
      });
      const pending = s.wait();
      s.close();
      s.close();
      await assertRejects(() => pending, Deno.errors.BadResource);
      assertThrows(() => s.post(), Deno.errors.BadResource);
      assertThrows(() => s.tryWait(), Deno.errors.BadResource);
      await assertRejects(() => s.wait(), Deno.errors.BadResource);
      await assertRejects(() => s.wait({ timeout: -5 }), Error);
    });
    await t.step("acquire() guards post once", async () => {
      using s = Semaphore.open(semName(), {
        create: true,
        initial: 1,
        unlinkOnClose: true,
      });
      const guard = await s.acquire();
      assertEquals(s.value, 0);
      guard.release();
      guard[Symbol.dispose]();
      assertEquals(s.value, 1);
    });
  });
});

Deno.test("Lock: exclusive between handles and processes; the kernel releases a killed holder's lock", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/app.lock`;
    const child = new Deno.Command(Deno.execPath(), {
      args: denoArgs(fixture, "lock", path),
      stdout: "piped",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(lines, "locked");
    using lock = Lock.open(path);
    assertEquals(lock.tryAcquire(), null, "the child holds it");
    await assertRejects(
      () => lock.acquire({ timeout: 50 }),
      Deno.errors.TimedOut,
    );
    const waiting = lock.acquire({ timeout: 10_000 });
    child.kill("SIGKILL");
    const guard = await within(waiting, 15_000, "lock after the holder died");
    assert(lock.held);
    guard.release();
    assert(!lock.held);
    await lines.cancel();
    await child.status;

    using other = Lock.open(path);
    {
      using _a = await lock.acquire();
      assertEquals(other.tryAcquire(), null);
      const s1 = other.tryAcquire({ shared: true });
      assertEquals(s1, null, "no shared lock while exclusive is held");
    }
    using _b = other.tryAcquire()!;
    assert(other.held);
    const c = new AbortController();
    const pending = lock.acquire({ signal: c.signal });
    c.abort(new Error("stop"));
    await assertRejects(() => pending, Error, "stop");
    // Lock.open does not create by default any more.
    for (const options of [undefined, { create: false }]) {
      assertThrows(
        () => Lock.open(`${dir.path}/none`, options),
        Deno.errors.NotFound,
      );
    }
    assertThrows(() => Lock.open(dir.path), Error);
  });
});
