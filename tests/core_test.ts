// Copyright 2026 the posix-ipc authors. MIT license.
// The semantics every kind shares, checked table-driven against every kind:
// create is exclusive; open never resizes or re-initializes; close never
// removes what the handle did not create; removals never hit a newer object
// that took the name; every wait honours signal and timeout and ends with
// BadResource when its handle is closed.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { mkfifo, openFifo } from "../fifo/mod.ts";
import { MessageQueue, unlinkMessageQueue } from "../mq/mod.ts";
import { pipe } from "../pipe/mod.ts";
import { Lock, Semaphore, unlinkSemaphore } from "../sem/mod.ts";
import {
  SharedMemory,
  ShmChannelReader,
  ShmChannelWriter,
  unlinkSharedMemory,
} from "../shm/mod.ts";
import { nextSignal } from "../signal/mod.ts";
import { connect, listen, socketPair, UnixDatagram } from "../socket/mod.ts";
import { type Gate, needs } from "./_harness.ts";
import { assertNoLeaks, randomName, tempDir, within } from "./_helpers.ts";

const posixName = () => `/${randomName("pipc-core")}`;
const exists = (path: string) => {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

/** A named kind, as the semantics table sees it. */
interface Kind {
  kind: string;
  /** Where the object shows in the file system, to check presence. */
  path(name: string): string;
  /** A fresh name (a POSIX name or a path in `dir`). */
  name(dir: string): string;
  /** Exclusive create, with unlinkOnClose when asked. */
  create(name: string, unlinkOnClose?: boolean): Disposable;
  /** Open the existing object. */
  open(name: string): Disposable;
  /** Open-or-create. */
  openOrCreate(name: string): Disposable & { created: boolean };
  /** The error a second create gives. */
  exists: new (...args: never[]) => Error;
  /** Removes the name unconditionally. */
  remove(name: string): void;
}

const mqueue = needs("/dev/mqueue");
const mqMounted = mqueue.missing.length === 0;
/** The gate of a test that needs nothing optional. */
const everywhere = needs();

const KINDS: Kind[] = [
  {
    kind: "shared memory",
    path: (n) => `/dev/shm${n}`,
    name: posixName,
    create: (n, u = false) =>
      SharedMemory.create(n, { size: 4096, unlinkOnClose: u }),
    open: (n) => SharedMemory.open(n),
    openOrCreate: (n) => SharedMemory.open(n, { create: true, size: 4096 }),
    exists: Deno.errors.AlreadyExists,
    remove: unlinkSharedMemory,
  },
  {
    kind: "ShmChannel",
    path: (n) => `/dev/shm${n}`,
    name: posixName,
    create: (n, u = false) =>
      ShmChannelWriter.create(n, { capacity: 1024, unlinkOnClose: u }),
    open: (n) => ShmChannelReader.open(n),
    openOrCreate: (n) =>
      ShmChannelReader.open(n, { create: true, capacity: 1024 }),
    exists: Deno.errors.AlreadyExists,
    remove: unlinkSharedMemory,
  },
  {
    kind: "semaphore",
    path: (n) => `/dev/shm/sem.${n.slice(1)}`,
    name: posixName,
    create: (n, u = false) =>
      Semaphore.create(n, { initial: 1, unlinkOnClose: u }),
    open: (n) => Semaphore.open(n),
    openOrCreate: (n) => Semaphore.open(n, { create: true, initial: 1 }),
    exists: Deno.errors.AlreadyExists,
    remove: unlinkSemaphore,
  },
  {
    kind: "message queue",
    path: (n) => `/dev/mqueue${n}`,
    name: posixName,
    create: (n, u = false) =>
      MessageQueue.create(n, {
        maxMessages: 2,
        messageSize: 64,
        unlinkOnClose: u,
      }),
    open: (n) => MessageQueue.open(n),
    openOrCreate: (n) =>
      MessageQueue.open(n, { create: true, maxMessages: 2, messageSize: 64 }),
    exists: Deno.errors.AlreadyExists,
    remove: unlinkMessageQueue,
  },
];

for (const k of KINDS) {
  const gate = k.kind === "message queue" ? mqueue : everywhere;
  gate.test({
    name:
      `${k.kind}: create is exclusive; open never re-creates; close removes only what the handle created and asked`,
    fn: async () => {
      await assertNoLeaks(() => {
        const name = k.name("");
        {
          using first = k.create(name);
          assert(exists(k.path(name)));
          assertThrows(() => k.create(name), k.exists);
          // An open of an existing object creates nothing and removes nothing.
          k.open(name)[Symbol.dispose]();
          using again = k.openOrCreate(name);
          assertEquals(again.created, false);
          void first;
        }
        // Neither handle asked for removal: the object stays.
        assert(
          exists(k.path(name)),
          `${k.kind} survives close without unlinkOnClose`,
        );
        k.remove(name);
        // Open-or-create on a free name creates.
        using made = k.openOrCreate(name);
        assertEquals(made.created, true);
        k.remove(name);
      });
    },
  });

  gate.test({
    name:
      `${k.kind}: unlinkOnClose never removes a newer object that took the name`,
    fn: async () => {
      await assertNoLeaks(() => {
        const name = k.name("");
        const old = k.create(name, true);
        k.remove(name); // someone removed it...
        const newer = k.create(name); // ...and made a new one with the name
        old[Symbol.dispose](); // must not remove the newer one
        assert(exists(k.path(name)), "the newer object is still there");
        newer[Symbol.dispose]();
        k.remove(name);
      });
    },
  });
}

Deno.test("shared memory: open and open-or-create never resize an existing segment", async () => {
  await assertNoLeaks(() => {
    const name = posixName();
    using owner = SharedMemory.create(name, { size: 1 << 20 });
    owner.unlink();
    const again = posixName();
    using big = SharedMemory.create(again, {
      size: 1 << 20,
      unlinkOnClose: true,
    });
    // A smaller size asked of an existing segment leaves it as it is.
    using opened = SharedMemory.open(again, { create: true, size: 4096 });
    assertEquals([opened.size, Deno.statSync(`/dev/shm${again}`).size], [
      1 << 20,
      1 << 20,
    ]);
    // A larger one is refused rather than grown.
    assertThrows(
      () => SharedMemory.open(again, { size: 2 << 20 }),
      Deno.errors.InvalidData,
    );
    void big;
  });
});

Deno.test("ShmChannel: open-or-create never resizes or re-initializes an existing channel", async () => {
  await assertNoLeaks(async () => {
    const name = posixName();
    using writer = ShmChannelWriter.create(name, {
      capacity: 1024,
      unlinkOnClose: true,
    });
    assertEquals(await writer.write(Uint8Array.of(1, 2, 3)), 3);
    const size = Deno.statSync(`/dev/shm${name}`).size;
    // A larger and a smaller capacity asked of the existing channel: both
    // get the channel as it is, with what the writer wrote still there.
    for (const capacity of [1 << 20, 16]) {
      using reader = ShmChannelReader.open(name, { create: true, capacity });
      assertEquals([reader.capacity, reader.created], [1024, false]);
      assertEquals(Deno.statSync(`/dev/shm${name}`).size, size);
      if (capacity === 16) continue;
      const buffer = new Uint8Array(8);
      const n = await reader.read(buffer, { timeout: 10_000 });
      assertEquals(buffer.subarray(0, n ?? 0), Uint8Array.of(1, 2, 3));
    }
  });
});

Deno.test("semaphore: open-or-create never re-initializes an existing semaphore", async () => {
  await assertNoLeaks(() => {
    const name = posixName();
    using a = Semaphore.create(name, { initial: 0, unlinkOnClose: true });
    using b = Semaphore.open(name, { create: true, initial: 5 });
    assertEquals([a.value, b.value], [0, 0]);
  });
});

mqueue.test({
  name: "message queue: open-or-create never changes an existing queue's sizes",
  fn: async () => {
    await assertNoLeaks(() => {
      const name = posixName();
      using a = MessageQueue.create(name, {
        maxMessages: 3,
        messageSize: 100,
        unlinkOnClose: true,
      });
      using b = MessageQueue.open(name, {
        create: true,
        maxMessages: 9,
        messageSize: 999,
      });
      assertEquals(b.attributes, { ...a.attributes });
      assertEquals(b.attributes.messageSize, 100);
    });
  },
});

Deno.test("open without create refuses every creation-only option, naming the call and them all, for every kind", async () => {
  const name = posixName();
  using dir = tempDir();
  const fifo = `${dir.path}/fifo`;
  const kinds: [string, string[], (o: Record<string, unknown>) => unknown][] = [
    ["SharedMemory.open()", [], (o) => SharedMemory.open(name, o)],
    ["ShmChannelReader.open()", [], (o) => ShmChannelReader.open(name, o)],
    ["ShmChannelWriter.open()", [], (o) => ShmChannelWriter.open(name, o)],
    ["Semaphore.open()", ["initial"], (o) => Semaphore.open(name, o)],
    ["openFifo()", [], (o) => openFifo(fifo, { read: true, ...o })],
  ];
  if (Deno.statSync("/dev/mqueue").isDirectory) {
    kinds.push([
      "MessageQueue.open()",
      ["maxMessages", "messageSize"],
      (o) => MessageQueue.open(name, o),
    ]);
  }
  const values: Record<string, unknown> = {
    mode: 0o600,
    unlinkOnClose: true,
    unlinkOnExit: true,
    initial: 1,
    maxMessages: 4,
    messageSize: 64,
  };
  for (const [call, extra, open] of kinds) {
    const only = [...extra, "mode", "unlinkOnClose", "unlinkOnExit"];
    for (const key of only) {
      const error = await assertRejects(
        async () => await open({ [key]: values[key] }),
        TypeError,
        "add create: true",
        `${call} with ${key}`,
      );
      assertEquals(error.message.startsWith(`${call}: `), true, error.message);
      for (const k of only) {
        assertEquals(error.message.includes(k), true, `${error.message}: ${k}`);
      }
    }
    // false and undefined are not "given": the open goes ahead (and finds nothing)
    await assertRejects(
      async () => await open({ unlinkOnClose: false, mode: undefined }),
      Deno.errors.NotFound,
    );
  }
});

Deno.test("socket files and FIFOs: exclusive creation, own-file removal, identity-checked", async (t) => {
  using dir = tempDir();
  await t.step(
    "listen() twice on one path: the second is AddrInUse",
    async () => {
      await assertNoLeaks(() => {
        const path = `${dir.path}/a.sock`;
        using _l = listen({ path });
        assertThrows(() => listen({ path }), Deno.errors.AddrInUse);
      }, []);
      assert(
        !exists(`${dir.path}/a.sock`),
        "the listener removed its own file",
      );
    },
  );
  await t.step(
    "a listener never removes a newer socket file at its path",
    async () => {
      await assertNoLeaks(() => {
        const path = `${dir.path}/b.sock`;
        const old = listen({ path });
        Deno.removeSync(path);
        using newer = listen({ path });
        old.close();
        assert(exists(path), "the newer listener's file is still there");
        void newer;
      }, []);
    },
  );
  await t.step("an adopted datagram socket removes nothing", () => {
    const path = `${dir.path}/d.sock`;
    using bound = UnixDatagram.bind(path);
    // fromFd of a dup of the bound socket: closing it must not remove the file.
    const fd = dupFd(bound.fd);
    UnixDatagram.fromFd(fd).close();
    assert(exists(path), "the bound socket's file is still there");
  });
  await t.step(
    "mkfifo twice: AlreadyExists; openFifo never creates without create",
    async () => {
      const path = `${dir.path}/f`;
      await mkfifo(path);
      await assertRejects(() => mkfifo(path), Deno.errors.AlreadyExists);
      await assertRejects(
        () => openFifo(`${dir.path}/none`, { read: true, write: true }),
        Deno.errors.NotFound,
      );
      const made = await openFifo(`${dir.path}/g`, {
        read: true,
        write: true,
        create: true,
        unlinkOnClose: true,
      });
      assertEquals(made.created, true);
      made.close();
      assert(!exists(`${dir.path}/g`), "created with unlinkOnClose: removed");
    },
  );
  await t.step("Lock.open never creates unless asked", () => {
    assertThrows(
      () => Lock.open(`${dir.path}/none.lock`),
      Deno.errors.NotFound,
    );
    Lock.open(`${dir.path}/yes.lock`, { create: true }).close();
    assert(exists(`${dir.path}/yes.lock`));
  });
});

function dupFd(fd: number): number {
  const lib = Deno.dlopen("libc.so.6", {
    fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  });
  try {
    return lib.symbols.fcntl(fd, 1030, /* F_DUPFD_CLOEXEC */ 0);
  } finally {
    lib.close();
  }
}

Deno.test("unlinkOnExit removes only the object this process created, not a newer one with its name", async () => {
  using dir = tempDir();
  const name = posixName();
  const script = `${dir.path}/child.ts`;
  Deno.writeTextFileSync(
    script,
    `import { SharedMemory, unlinkSharedMemory } from "${
      new URL("../shm/mod.ts", import.meta.url).href
    }";
const name = ${JSON.stringify(name)};
SharedMemory.create(name, { size: 4096, unlinkOnExit: true });
unlinkSharedMemory(name);
SharedMemory.create(name, { size: 8192 }); // someone else's, same name
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", script],
  }).spawn();
  const status = await within(child.status, 30_000, "the child to exit");
  assertEquals(status.code, 0);
  try {
    assertEquals(Deno.statSync(`/dev/shm${name}`).size, 8192);
  } finally {
    unlinkSharedMemory(name);
  }
});

/** One waiting call of each kind, with what closing its handle does. */
interface WaitCase {
  what: string;
  /** What the case needs (default: nothing optional). */
  gate?: Gate;
  /** Starts the wait with `options`; returns it and the handle closer. */
  start(options: { signal?: AbortSignal; timeout?: number }): {
    wait: Promise<unknown>;
    close: () => void;
  };
}

function waitCases(dir: string): WaitCase[] {
  const cases: WaitCase[] = [
    {
      what: "PipeReader.read()",
      start(o) {
        const { reader, writer } = pipe();
        return {
          wait: reader.read(new Uint8Array(8), o).finally(() => writer.close()),
          close: () => reader.close(),
        };
      },
    },
    {
      what: "PipeWriter.write() on a full pipe",
      start(o) {
        const { reader, writer } = pipe();
        return {
          wait: writer.write(new Uint8Array(1 << 20), o).finally(() =>
            reader.close()
          ),
          close: () => writer.close(),
        };
      },
    },
    {
      what: "SocketEnd.read()",
      start(o) {
        const [a, b] = socketPair();
        return {
          wait: a.read(new Uint8Array(8), o).finally(() => b.close()),
          close: () => a.close(),
        };
      },
    },
    {
      what: "SocketEnd.receiveFds()",
      start(o) {
        const [a, b] = socketPair();
        return {
          wait: a.receiveFds(o).finally(() => b.close()),
          close: () => a.close(),
        };
      },
    },
    {
      what: "SocketListener.accept()",
      start(o) {
        const l = listen({ path: `${dir}/${randomName("l")}.sock` });
        return { wait: l.accept(o), close: () => l.close() };
      },
    },
    {
      what: "UnixDatagram.receive()",
      start(o) {
        const d = UnixDatagram.bind(`${dir}/${randomName("d")}.sock`);
        return { wait: d.receive(o), close: () => d.close() };
      },
    },
    {
      what: "MessageQueue.receive()",
      gate: mqueue,
      start(o) {
        const q = MessageQueue.create(posixName(), {
          maxMessages: 1,
          messageSize: 8,
          unlinkOnClose: true,
        });
        return { wait: q.receive(o), close: () => q.close() };
      },
    },
    {
      what: "MessageQueue.send() on a full queue",
      gate: mqueue,
      start(o) {
        const q = MessageQueue.create(posixName(), {
          maxMessages: 1,
          messageSize: 8,
          unlinkOnClose: true,
        });
        q.send(new Uint8Array(1));
        return { wait: q.send(new Uint8Array(1), o), close: () => q.close() };
      },
    },
    {
      what: "Semaphore.wait()",
      start(o) {
        const s = Semaphore.create(posixName(), { unlinkOnClose: true });
        return { wait: s.wait(o), close: () => s.close() };
      },
    },
    {
      what: "a second Lock.acquire() in this process while the first holds it",
      start(o) {
        const path = `${dir}/${randomName("lock")}`;
        const a = Lock.open(path, { create: true });
        const held = a.tryAcquire()!;
        const b = Lock.open(path);
        return {
          wait: b.acquire(o).finally(() => {
            held.release();
            a.close();
          }),
          close: () => b.close(),
        };
      },
    },
    {
      what: "ShmChannelReader.read()",
      start(o) {
        const r = ShmChannelReader.create(posixName(), {
          capacity: 64,
          unlinkOnClose: true,
        });
        return { wait: r.read(new Uint8Array(8), o), close: () => r.close() };
      },
    },
    {
      what: "ShmChannelWriter.write() on a full ring",
      start(o) {
        const w = ShmChannelWriter.create(posixName(), {
          capacity: 16,
          unlinkOnClose: true,
        });
        return { wait: w.write(new Uint8Array(64), o), close: () => w.close() };
      },
    },
  ];
  return cases;
}

Deno.test("every wait honours signal and timeout, and ends with BadResource when its handle is closed", async (t) => {
  using dir = tempDir();
  for (const c of waitCases(dir.path)) {
    await (c.gate ?? everywhere).in(t).step(c.what, async () => {
      await assertNoLeaks(async () => {
        // timeout
        {
          const { wait, close } = c.start({ timeout: 20 });
          await assertRejects(
            () => within(wait, 10_000, c.what),
            Deno.errors.TimedOut,
          );
          close();
        }
        // abort
        {
          const controller = new AbortController();
          const { wait, close } = c.start({ signal: controller.signal });
          const reason = new Error("stop waiting");
          setTimeout(() => controller.abort(reason), 10);
          const error = await within(
            wait.then(() => null, (e) => e),
            10_000,
            c.what,
          );
          assertEquals(error, reason);
          close();
        }
        // closed while waiting
        {
          const { wait, close } = c.start({});
          setTimeout(close, 10);
          const error = await within(
            wait.then(() => null, (e) => e),
            10_000,
            c.what,
          );
          assertInstanceOf(error, Deno.errors.BadResource);
        }
      });
    });
  }
});

Deno.test("openFifo(), connect() and nextSignal() honour signal and timeout too", async () => {
  using dir = tempDir();
  const fifo = `${dir.path}/f`;
  await mkfifo(fifo);
  await assertRejects(
    () => openFifo(fifo, { read: true, timeout: 20 }),
    Deno.errors.TimedOut,
  );
  const reason = new Error("gone");
  await assertRejects(
    () => openFifo(fifo, { write: true, signal: AbortSignal.abort(reason) }),
    Error,
    "gone",
  );
  await assertRejects(
    () => nextSignal("SIGUSR2", { timeout: 20 }),
    Deno.errors.TimedOut,
  );
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), 10);
  await assertRejects(
    () => nextSignal("SIGUSR2", { signal: controller.signal }),
    Error,
    "gone",
  );
  await assertRejects(
    () => connect({ path: `${dir.path}/none.sock`, timeout: 20 }),
    Deno.errors.NotFound,
  );
});

Deno.test("1,000 pending waits across pipes, semaphores, queues and ShmChannels: a file read completes, and the process exits by itself once they are closed", async () => {
  using dir = tempDir();
  const script = `${dir.path}/mixed.ts`;
  const root = new URL("../", import.meta.url).href;
  Deno.writeTextFileSync(
    script,
    `import { pipe } from "${root}pipe/mod.ts";
import { Semaphore } from "${root}sem/mod.ts";
import { MessageQueue } from "${root}mq/mod.ts";
import { ShmChannelReader } from "${root}shm/mod.ts";
const mq = ${mqMounted};
const id = crypto.randomUUID().slice(0, 8);
const closers = [];
const waits = [];
for (let i = 0; i < 250; i++) {
  const { reader, writer } = pipe();
  waits.push(reader.read(new Uint8Array(8)).catch((e) => e));
  closers.push(() => { reader.close(); writer.close(); });
  const s = Semaphore.create(\`/mixed-\${id}-s\${i}\`, { unlinkOnClose: true });
  waits.push(s.wait().catch((e) => e));
  closers.push(() => s.close());
  const r = ShmChannelReader.create(\`/mixed-\${id}-c\${i}\`, { capacity: 64, unlinkOnClose: true });
  waits.push(r.read(new Uint8Array(8)).catch((e) => e));
  closers.push(() => r.close());
  if (mq) {
    const q = MessageQueue.create(\`/mixed-\${id}-q\${i}\`, { maxMessages: 1, messageSize: 8, unlinkOnClose: true });
    waits.push(q.receive().catch((e) => e));
    closers.push(() => q.close());
  }
}
// File I/O uses Deno's blocking pool: it must not be starved by the waits.
const text = await Deno.readTextFile("/proc/self/status");
console.log("read", text.length > 0);
for (const close of closers) close();
const results = await Promise.all(waits);
console.log("closed", results.every((e) => e instanceof Deno.errors.BadResource));
// no Deno.exit(): the process must end by itself now
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const out = await child.output();
  clearTimeout(kill);
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(
    { code: out.code, stdout },
    { code: 0, stdout: "read true\nclosed true\n" },
    new TextDecoder().decode(out.stderr),
  );
});

Deno.test("a source ready at every wait while the attempt keeps failing never starves the event loop: timers run, and the deadline still ends the call", async () => {
  using dir = tempDir();
  const script = `${dir.path}/stuck.ts`;
  const root = new URL("../", import.meta.url).href;
  // White-box: a source that always says "ready" and an attempt that never
  // succeeds — what a peer breaking the protocol (or a bug) would produce.
  Deno.writeTextFileSync(
    script,
    `import { Owner, retry } from "${root}_wait/engine.ts";
import { untilOf } from "${root}_wait/options.ts";
const owner = new Owner("stuck source");
const ready = { check: () => 1, arm: (p) => p.fire(ready, 1), disarm: () => {} };
let ticks = 0;
const ticker = setInterval(() => ticks++, 5);
let attempts = 0;
const error = await retry(owner, "stuck()", "stayed stuck", [ready],
  untilOf({ timeout: 300 }, "stuck()"), () => { attempts++; return undefined; })
  .catch((e) => e);
clearInterval(ticker);
console.log(error instanceof Deno.errors.TimedOut, ticks > 0, attempts < 1000);
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const out = await child.output();
  clearTimeout(kill);
  assertEquals(
    {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
    },
    { code: 0, stdout: "true true true\n" },
    new TextDecoder().decode(out.stderr),
  );
});
