// Copyright 2026 the posix-ipc authors. MIT license.
// The low-level read(buffer)/write(bytes) of pipe ends, FIFOs and socket ends.

import { assertEquals, assertRejects } from "@std/assert";
import { mkfifo, openFifo } from "../fifo/mod.ts";
import { pipe } from "../pipe/mod.ts";
import { socketPair } from "../socket/mod.ts";
import {
  assertNoFdLeak,
  randomBytes,
  sha256,
  tempDir,
  within,
} from "./_helpers.ts";

Deno.test("PipeReader.read()/PipeWriter.write(): bytes, EOF as null, abort, closed handles", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const data = randomBytes(300_000);
    const writing = writer.write(data).then((n) => {
      writer.close();
      return n;
    });
    const buffer = new Uint8Array(7000);
    const got: Uint8Array[] = [];
    for (;;) {
      const n = await reader.read(buffer);
      if (n === null) break;
      got.push(buffer.slice(0, n));
    }
    assertEquals(await writing, data.length);
    const all = new Uint8Array(got.reduce((s, g) => s + g.length, 0));
    let off = 0;
    for (const g of got) all.set(g, (off += g.length) - g.length);
    assertEquals(await sha256(all), await sha256(data));
    assertEquals(await reader.read(new Uint8Array(0)), 0);
    await assertRejects(
      () => reader.read("x" as never),
      TypeError,
      "buffer must be a Uint8Array",
    );
    reader.close();
    await assertRejects(() => reader.read(buffer), Deno.errors.BadResource);
  });
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const c = new AbortController();
    const pending = reader.read(new Uint8Array(8), { signal: c.signal });
    c.abort(new Error("enough"));
    await assertRejects(() => within(pending, 5000, "abort"), Error, "enough");
    reader.close();
    await assertRejects(
      () => writer.write(new Uint8Array(1)),
      Deno.errors.BrokenPipe,
    );
    writer.close();
  });
});

Deno.test("Fifo.read() delivers the byte the writer probe took first", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/f`;
    await mkfifo(path);
    // The writer has written before the reader opens: the open's probe reads
    // one byte, which read() must hand back first. (A read-write holder lets
    // the writer's open() return at once; without it the writer would block
    // in open() until our reader came, and whether it had written by the
    // time of the probe would be a matter of timing.)
    const holder = await openFifo(path, { read: true, write: true });
    const writer = new Deno.Command("sh", {
      args: ["-c", `printf hello > ${path}`],
    }).spawn();
    await writer.status;
    const fifo = await openFifo(path, { read: true });
    holder.close();
    const buffer = new Uint8Array(16);
    let text = "";
    for (;;) {
      const n = await fifo.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assertEquals(text, "hello");
    fifo.close();
    // The wrong direction is a TypeError.
    const both = await openFifo(path, { read: true, write: true });
    const writeOnly = await openFifo(path, { write: true });
    await assertRejects(
      () => Promise.resolve().then(() => writeOnly.read(buffer)),
      TypeError,
      "not open for reading",
    );
    writeOnly.close();
    both.close();
  });
});

Deno.test("SocketEnd.read()/write() both ways", async () => {
  await assertNoFdLeak(async () => {
    const [a, b] = socketPair();
    assertEquals(await a.write(new TextEncoder().encode("ping")), 4);
    const buffer = new Uint8Array(16);
    assertEquals(await b.read(buffer), 4);
    await b.write(new TextEncoder().encode("pong"));
    b.closeWrite();
    assertEquals(
      new TextDecoder().decode(buffer.subarray(0, (await a.read(buffer))!)),
      "pong",
    );
    assertEquals(await a.read(buffer), null);
    a.close();
    b.close();
  });
});
