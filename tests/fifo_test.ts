// Copyright 2026 the posix-ipc authors. MIT license.

import {
  assert,
  assertEquals,
  assertGreater,
  assertMatch,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { mkfifo, openFifo } from "../fifo/mod.ts";
import {
  assertNoFdLeak,
  denoArgs,
  randomBytes,
  runnableFor,
  sha256,
  tempDir,
  within,
} from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function sh(script: string, stdout: "piped" | "null" = "null") {
  return new Deno.Command("sh", {
    args: ["-c", script],
    stdout,
    stderr: "null",
  }).spawn();
}

async function umask(): Promise<number> {
  const out = await new Deno.Command("sh", {
    args: ["-c", "umask"],
    stdout: "piped",
  }).output();
  return parseInt(dec.decode(out.stdout).trim(), 8);
}

Deno.test("mkfifo() creates a FIFO with the shell's default mode", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  await mkfifo(path);
  const info = Deno.statSync(path);
  assert(info.isFifo);
  assertEquals(info.mode! & 0o7777, 0o666 & ~(await umask()));
});

Deno.test("mkfifo() applies an explicit mode exactly, whatever the umask", async () => {
  using dir = tempDir();
  for (const mode of [0o600, 0o666, 0o640, 0o777]) {
    const path = `${dir.path}/f${mode.toString(8)}`;
    await mkfifo(path, { mode });
    assertEquals(Deno.statSync(path).mode! & 0o7777, mode);
  }
});

Deno.test("mkfifo() accepts file: URLs", async () => {
  using dir = tempDir();
  const url = new URL(`file://${dir.path}/url%20fifo`);
  await mkfifo(url);
  assert(Deno.statSync(`${dir.path}/url fifo`).isFifo);
});

Deno.test("mkfifo() error paths", async (t) => {
  using dir = tempDir();
  await t.step("an existing path is AlreadyExists naming it", async () => {
    Deno.writeTextFileSync(`${dir.path}/file`, "");
    const e = await assertRejects(
      () => mkfifo(`${dir.path}/file`),
      Deno.errors.AlreadyExists,
    );
    assertMatch(
      e.message,
      /^mkfifo\(\): cannot create FIFO ".*\/file": EEXIST \(file exists\)$/,
    );
  });
  await t.step("a missing parent is NotFound", async () => {
    await assertRejects(
      () => mkfifo(`${dir.path}/no/such/f`),
      Deno.errors.NotFound,
      "ENOENT",
    );
  });
  await t.step("bad modes are RangeErrors", async () => {
    // Permission bits only: setuid, setgid and sticky (0o7000) are refused too.
    for (const mode of [-1, 0o10000, 1.5, NaN, 0o1000, 0o4755, 0o7777]) {
      const e = await assertRejects(
        () => mkfifo(`${dir.path}/m`, { mode }),
        RangeError,
      );
      assertMatch(
        e.message,
        /^mkfifo\(\): mode must be permission bits from 0 to 0o777, got /,
      );
      assertThrows(() => Deno.lstatSync(`${dir.path}/m`), Deno.errors.NotFound);
    }
  });
  await t.step("bad paths are TypeErrors", async () => {
    for (const path of ["", 42, null, new URL("http://x/y"), "a\0b"]) {
      await assertRejects(() => mkfifo(path as never), TypeError, "mkfifo()");
    }
  });
});

Deno.test("openFifo() reads what a shell writes, then EOF", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/f`;
    await mkfifo(path);
    const writer = sh(`printf 'one\\n' > ${path}`);
    const fifo = await openFifo(path, { read: true });
    assertEquals(await new Response(fifo.readable).text(), "one\n");
    assertEquals((await writer.status).code, 0);
    // A new reader and a new writer meet again.
    const again = sh(`printf 'three\\n' > ${path}`);
    const second = await openFifo(path, { read: true });
    assertEquals(await new Response(second.readable).text(), "three\n");
    assertEquals((await again.status).code, 0);
  });
});

Deno.test("openFifo() for reading resolves for a writer that has not written yet", async (t) => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  const flag = `${dir.path}/flag`;
  await mkfifo(path);
  // The writer writes only after this test creates the flag, so an open that
  // waited for data would deadlock (and trip the watchdog).
  const script =
    `exec 3> ${path}; while [ ! -e ${flag} ]; do sleep 0.01; done; echo data >&3`;
  for (const writerFirst of [true, false]) {
    await t.step(
      writerFirst ? "writer already blocked in open()" : "writer opens later",
      async () => {
        await assertNoFdLeak(async () => {
          let writer: Deno.ChildProcess | undefined;
          if (writerFirst) {
            writer = sh(script);
            await new Promise((r) => setTimeout(r, 100));
          }
          const opening = openFifo(path, { read: true });
          if (!writerFirst) {
            await new Promise((r) => setTimeout(r, 100));
            writer = sh(script);
          }
          const fifo = await within(
            opening,
            10_000,
            "read open with a silent writer",
          );
          Deno.writeTextFileSync(flag, "");
          assertEquals(await new Response(fifo.readable).text(), "data\n");
          await writer!.status;
          Deno.removeSync(flag);
        });
      },
    );
  }
  await t.step("a writer that came and left gives EOF", async () => {
    const opening = openFifo(path, { read: true });
    await new Promise((r) => setTimeout(r, 50));
    await sh(`: > ${path}`).status;
    const fifo = await within(opening, 10_000, "open");
    assertEquals(await new Response(fifo.readable).text(), "");
  });
});

Deno.test("openFifo() writes to a reader blocked in open() (cat)", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/f`;
    await mkfifo(path);
    const cat = sh(`cat ${path}`, "piped");
    const fifo = await within(
      openFifo(path, { write: true }),
      10_000,
      "open for writing",
    );
    const w = fifo.writable.getWriter();
    await w.write(enc.encode("to cat\n"));
    await w.close();
    const out = await cat.output();
    assertEquals(dec.decode(out.stdout), "to cat\n");
  });
});

Deno.test("openFifo() moves 64 MiB to sha256sum with a matching checksum", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/f`;
    await mkfifo(path);
    const data = randomBytes(64 << 20);
    const reader = sh(`sha256sum < ${path}`, "piped");
    const fifo = await openFifo(path, { write: true });
    const w = fifo.writable.getWriter();
    for (let off = 0; off < data.length; off += 96_000) {
      await w.write(data.subarray(off, off + 96_000));
    }
    await w.close();
    const out = await within(reader.output(), 60_000, "sha256sum");
    assertEquals(dec.decode(out.stdout).split(" ")[0], await sha256(data));
  });
});

Deno.test("openFifo() reads 32 MiB that cat writes, with a matching checksum", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/f`;
    await mkfifo(path);
    const data = randomBytes(32 << 20);
    Deno.writeFileSync(`${dir.path}/data`, data);
    const writer = sh(`cat ${dir.path}/data > ${path}`);
    const fifo = await openFifo(path, { read: true });
    const got = new Uint8Array(
      await within(new Response(fifo.readable).arrayBuffer(), 60_000, "read"),
    );
    await writer.status;
    assertEquals(got.length, data.length);
    assertEquals(await sha256(got), await sha256(data));
  });
});

Deno.test("openFifo() between two opens in this process, reader first or writer first", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/f`;
    await mkfifo(path);
    for (const readerFirst of [true, false]) {
      const opening = readerFirst
        ? openFifo(path, { read: true })
        : openFifo(path, { write: true });
      await new Promise((r) => setTimeout(r, 20));
      const other = readerFirst
        ? openFifo(path, { write: true })
        : openFifo(path, { read: true });
      // The read side resolves at the first write, so write before awaiting it.
      const writer = await (readerFirst ? other : opening);
      const w = writer.writable.getWriter();
      await w.write(enc.encode("hello"));
      await w.close();
      const reader = await (readerFirst ? opening : other);
      assertEquals(await new Response(reader.readable).text(), "hello");
    }
  });
});

Deno.test("openFifo() for reading and writing resolves at once", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/f`;
    await mkfifo(path);
    using fifo = await within(
      openFifo(path, { read: true, write: true }),
      5000,
      "open",
    );
    const w = fifo.writable.getWriter();
    await w.write(enc.encode("loop"));
    const r = fifo.readable.getReader();
    assertEquals(dec.decode((await r.read()).value), "loop");
    r.releaseLock();
  });
});

Deno.test("openFifo() aborts and times out without leaking, and timers keep firing while it waits", async (t) => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  await mkfifo(path);
  for (const side of ["read", "write"] as const) {
    await t.step(
      `${side}: abort rejects with the signal's reason`,
      async () => {
        await assertNoFdLeak(async () => {
          const controller = new AbortController();
          const opening = openFifo(path, {
            [side]: true,
            signal: controller.signal,
          });
          let ticks = 0;
          const interval = setInterval(() => ticks++, 5);
          await runnableFor(150); // time the machine kept us waiting not counted
          clearInterval(interval);
          assertGreater(ticks, 3, "the event loop kept running");
          const reason = new Error("changed my mind");
          controller.abort(reason);
          const e = await within(
            opening.then(() => null, (e) => e),
            5000,
            "abort",
          );
          assertEquals(e, reason);
        });
      },
    );
    await t.step(`${side}: timeout rejects with TimedOut`, async () => {
      await assertNoFdLeak(async () => {
        const e = await assertRejects(
          () =>
            within(
              openFifo(path, { [side]: true, timeout: 50 }),
              5000,
              "timeout",
            ),
          Deno.errors.TimedOut,
        );
        assertMatch(e.message, side === "read" ? /no writer/ : /no reader/);
      });
    });
    await t.step(
      `${side}: an already aborted signal rejects at once`,
      async () => {
        await assertRejects(
          () => openFifo(path, { [side]: true, signal: AbortSignal.abort() }),
          DOMException,
        );
      },
    );
  }
});

Deno.test("openFifo() a process that aborted an open exits by itself", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  await mkfifo(path);
  const script = `${dir.path}/child.ts`;
  Deno.writeTextFileSync(
    script,
    `import { openFifo } from ${
      JSON.stringify(new URL("../fifo/mod.ts", import.meta.url).href)
    };
     for (const side of ["read", "write"]) {
       try { await openFifo(${
      JSON.stringify(path)
    }, { [side]: true, signal: AbortSignal.timeout(100) }); }
       catch (e) { console.log(side, e.name); }
     }`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs(script),
    stdout: "piped",
  }).spawn();
  const out = await within(child.output(), 20_000, "child exit");
  assertEquals(out.code, 0);
  assertEquals(
    dec.decode(out.stdout),
    "read TimeoutError\nwrite TimeoutError\n",
  );
});

Deno.test("openFifo() EOF when the last writer closes; BrokenPipe when no reader is left", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/f`;
    await mkfifo(path);
    const readerOpen = openFifo(path, { read: true });
    const w1 = await openFifo(path, { write: true });
    const w2 = await openFifo(path, { write: true });
    const writer1 = w1.writable.getWriter();
    await writer1.write(enc.encode("a"));
    const reader = await readerOpen;
    const r = reader.readable.getReader();
    assertEquals(dec.decode((await r.read()).value), "a");
    await writer1.close();
    const writer2 = w2.writable.getWriter();
    await writer2.write(enc.encode("b"));
    assertEquals(dec.decode((await r.read()).value), "b");
    await writer2.close();
    assert((await r.read()).done, "EOF after the last writer");

    const readerOpen2 = openFifo(path, { read: true });
    const w3 = await openFifo(path, { write: true });
    const writer3 = w3.writable.getWriter();
    await writer3.write(enc.encode("x"));
    (await readerOpen2).close();
    const e = await assertRejects(
      () => writer3.write(enc.encode("y")),
      Deno.errors.BrokenPipe,
    );
    assertMatch(e.message, /EPIPE/);
  });
});

Deno.test("openFifo() error paths", async (t) => {
  using dir = tempDir();
  await t.step("a regular file is not a FIFO", async () => {
    Deno.writeTextFileSync(`${dir.path}/file`, "");
    const e = await assertRejects(
      () => openFifo(`${dir.path}/file`, { read: true }),
      TypeError,
    );
    assertMatch(e.message, /is a file, not a FIFO/);
  });
  await t.step("a directory is not a FIFO", async () => {
    const e = await assertRejects(
      () => openFifo(dir.path, { write: true }),
      TypeError,
    );
    assertMatch(e.message, /is a directory, not a FIFO/);
  });
  await t.step("a missing path is NotFound naming it", async () => {
    const e = await assertRejects(
      () => openFifo(`${dir.path}/none`, { read: true }),
      Deno.errors.NotFound,
    );
    assertMatch(
      e.message,
      /^openFifo\(\): cannot open FIFO ".*\/none": ENOENT \(no such file or directory\)$/,
    );
  });
  await t.step("neither read nor write is a TypeError", async () => {
    await mkfifo(`${dir.path}/f`);
    await assertRejects(
      () => openFifo(`${dir.path}/f`, {}),
      TypeError,
      "at least one of read and write",
    );
    await assertRejects(
      () => openFifo(`${dir.path}/f`, { read: false, write: false }),
      TypeError,
    );
    const e = await assertRejects(
      () => openFifo(`${dir.path}/f`, { read: "yes" as never }),
      TypeError,
    );
    assertEquals(e.message, 'openFifo(): read must be a boolean, got "yes"');
    await assertRejects(
      () => openFifo(`${dir.path}/f`, null as never),
      TypeError,
    );
  });
  await t.step("a bad timeout is a RangeError", async () => {
    await assertRejects(
      () => openFifo(`${dir.path}/f`, { read: true, timeout: -1 }),
      RangeError,
    );
  });
  await t.step("the wrong direction's stream is a TypeError", async () => {
    using fifo = await openFifo(`${dir.path}/f`, { read: true, write: true });
    void fifo.readable;
    const readOnly = openFifo(`${dir.path}/f`, { read: true });
    const w = fifo.writable.getWriter();
    await w.write(enc.encode("z"));
    w.releaseLock();
    using r = await readOnly;
    assertThrows(() => r.writable, TypeError, "not open for writing");
  });
});

Deno.test("openFifo() size option enlarges the kernel buffer", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/f`;
    await mkfifo(path);
    using fifo = await openFifo(path, {
      read: true,
      write: true,
      size: 1 << 20,
    });
    const w = fifo.writable.getWriter();
    // 1 MiB fits without a reader draining it.
    await within(w.write(new Uint8Array(1 << 20)), 10_000, "1 MiB write");
    w.releaseLock();
    const e = await assertRejects(
      () => openFifo(path, { read: true, size: 0 }),
      RangeError,
    );
    assertEquals(
      e.message,
      `openFifo(): size must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got 0`,
    );
  });
});
