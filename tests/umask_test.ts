// Copyright 2026 the posix-ipc authors. MIT license.
// The umask belongs to the whole process. Creating a socket file or a FIFO
// with an exact mode must not change it, even for an instant: files other
// threads (a Worker, Deno's own file-system thread pool) create meanwhile
// would get the wrong mode. And the mode asked for is still exact, whatever
// the umask, and never more open than asked at any moment.

import { assertEquals } from "@std/assert";
import { mkfifo, openFifo } from "../fifo/mod.ts";
import { listen, UnixDatagram } from "../socket/mod.ts";
import { tempDir, within } from "./_helpers.ts";

const WORKER = `
self.onmessage = (e) => {
  const { dir, rounds } = e.data;
  const expected = 0o777 & ~Deno.umask();
  const modes = {};
  let wrong = 0;
  for (let i = 0; i < rounds; i++) {
    const path = dir + "/d" + i;
    Deno.mkdirSync(path);
    const mode = Deno.statSync(path).mode & 0o777;
    if (mode !== expected) {
      wrong++;
      modes[mode.toString(8)] = (modes[mode.toString(8)] ?? 0) + 1;
    }
    Deno.removeSync(path);
  }
  self.postMessage({ wrong, modes, expected: expected.toString(8) });
};
`;

Deno.test("listen(), UnixDatagram.bind() and mkfifo() with a mode never change the mode of what other threads create meanwhile", async () => {
  using dir = tempDir();
  Deno.mkdirSync(`${dir.path}/w`);
  const source = URL.createObjectURL(
    new Blob([WORKER], { type: "application/javascript" }),
  );
  const worker = new Worker(source, { type: "module" });
  try {
    const result = new Promise<
      { wrong: number; modes: Record<string, number>; expected: string }
    >((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(e.error ?? new Error(e.message));
    });
    worker.postMessage({ dir: `${dir.path}/w`, rounds: 5000 });
    let done = false;
    result.finally(() => done = true);
    let calls = 0;
    while (!done) {
      for (let i = 0; i < 50; i++) {
        listen({ path: `${dir.path}/s.sock`, mode: 0o600 }).close();
        UnixDatagram.bind(`${dir.path}/d.sock`, {
          mode: 0o600,
          unlinkOnClose: true,
        }).close();
        await mkfifo(`${dir.path}/f`, { mode: 0o600 });
        Deno.removeSync(`${dir.path}/f`);
        calls += 3;
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    const { wrong, modes, expected } = await within(
      result,
      120_000,
      "the worker creating directories",
    );
    assertEquals(
      { wrong, modes },
      { wrong: 0, modes: {} },
      `directories the worker created with a mode other than ${expected}, during ${calls} creations with a mode`,
    );
  } finally {
    worker.terminate();
    URL.revokeObjectURL(source);
  }
});

Deno.test("a mode is exact whatever the umask: bits the umask removes are added, none beyond", async () => {
  using dir = tempDir();
  const old = Deno.umask(0o077);
  try {
    using listener = listen({ path: `${dir.path}/s.sock`, mode: 0o666 });
    assertEquals(Deno.statSync(`${dir.path}/s.sock`).mode! & 0o7777, 0o666);
    using bound = UnixDatagram.bind(`${dir.path}/d.sock`, {
      mode: 0o660,
      unlinkOnClose: true,
    });
    assertEquals(Deno.statSync(`${dir.path}/d.sock`).mode! & 0o7777, 0o660);
    await mkfifo(`${dir.path}/f`, { mode: 0o644 });
    assertEquals(Deno.statSync(`${dir.path}/f`).mode! & 0o7777, 0o644);
    using fifo = await openFifo(`${dir.path}/g`, {
      read: true,
      write: true,
      create: true,
      mode: 0o640,
      unlinkOnClose: true,
    });
    assertEquals(Deno.statSync(`${dir.path}/g`).mode! & 0o7777, 0o640);
    // Without a mode, the umask applies, as for any file.
    await mkfifo(`${dir.path}/plain`);
    assertEquals(Deno.statSync(`${dir.path}/plain`).mode! & 0o7777, 0o600);
    void listener, bound, fifo;
  } finally {
    Deno.umask(old);
  }
  assertEquals(Deno.umask(old), old, "the umask is as it was");
});
