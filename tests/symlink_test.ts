// Copyright 2026 the posix-ipc authors. MIT license.
// A symbolic link another local user planted under a name we open (in
// /dev/shm, mode 1777, or at a path given to fromFile or Lock.open) is never
// followed: every kind refuses it with InvalidData naming the link, and the
// file it points to is left exactly as it was (no create, resize or write
// through the link). One error builder (openError in _ffi/errors.ts) makes
// the message; this test holds every caller to it.

import {
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertThrows,
} from "@std/assert";
import { C } from "../_ffi/constants.ts";
import { libc } from "../_ffi/libc.ts";
import { cString } from "../_check/mod.ts";
import { mkfifo, openFifo } from "../fifo/mod.ts";
import { Lock, Semaphore } from "../sem/mod.ts";
import {
  SharedMemory,
  ShmChannelReader,
  ShmChannelWriter,
} from "../shm/mod.ts";
import { assertNoLeaks, randomName, tempDir, within } from "./_helpers.ts";

const CONTENT = new TextEncoder().encode("the victim's file\n");

/** Plants `link` → a fresh victim file in `dir`; returns a check that it is untouched. */
function plant(dir: string, link: string): () => void {
  const victim = `${dir}/victim-${crypto.randomUUID().slice(0, 8)}`;
  Deno.writeFileSync(victim, CONTENT, { mode: 0o644 });
  Deno.symlinkSync(victim, link);
  return () => {
    assertEquals(Deno.readFileSync(victim), CONTENT, `${victim} changed`);
    assertEquals(Deno.lstatSync(link).isSymlink, true, `${link} replaced`);
  };
}

function refused(fn: () => unknown, what: string): void {
  const error = assertThrows(fn, Error, undefined, what);
  assertInstanceOf(error, Deno.errors.InvalidData, `${what}: ${error}`);
  assertMatch(error.message, /is a symbolic link; it is not followed/, what);
}

Deno.test("a symlink planted at /dev/shm/NAME is refused by every kind that opens it, and its target is untouched", async () => {
  using dir = tempDir();
  const name = `/${randomName("pipc-sym")}`;
  const link = `/dev/shm${name}`;
  const semLink = `/dev/shm/sem.${name.slice(1)}`;
  const untouched = plant(dir.path, link);
  const semUntouched = plant(dir.path, semLink);
  try {
    await assertNoLeaks(() => {
      refused(() => SharedMemory.open(name), "SharedMemory.open");
      refused(
        () => SharedMemory.open(name, { create: true, size: 4096 }),
        "SharedMemory.open({ create })",
      );
      assertThrows(
        () => SharedMemory.create(name, { size: 4096 }),
        Deno.errors.AlreadyExists,
      );
      refused(() => ShmChannelReader.open(name), "ShmChannelReader.open");
      refused(() => ShmChannelWriter.open(name), "ShmChannelWriter.open");
      refused(
        () => ShmChannelWriter.open(name, { create: true, capacity: 4096 }),
        "ShmChannelWriter.open({ create })",
      );
      refused(() => Semaphore.open(name), "Semaphore.open");
      refused(
        () => Semaphore.open(name, { create: true }),
        "Semaphore.open({ create })",
      );
    });
    untouched();
    semUntouched();
  } finally {
    Deno.removeSync(link);
    Deno.removeSync(semLink);
  }
});

Deno.test("SharedMemory.fromFile and Lock.open refuse a symlink at the path, and its target is untouched", async () => {
  using dir = tempDir();
  const link = `${dir.path}/state.bin`;
  const untouched = plant(dir.path, link);
  await assertNoLeaks(() => {
    refused(() => SharedMemory.fromFile(link), "SharedMemory.fromFile");
    refused(
      () => SharedMemory.fromFile(link, { create: true, size: 1 << 20 }),
      "SharedMemory.fromFile({ create })",
    );
    refused(() => Lock.open(link), "Lock.open");
    refused(() => Lock.open(link, { create: true }), "Lock.open({ create })");
  }, []);
  untouched();
});

/** An inotify watch for opens of `path`: `opened()` says whether any came. */
function watchOpens(path: string): { opened(): boolean } & Disposable {
  const lib = libc();
  const fd = lib.inotify_init1!(C.IN_NONBLOCK | C.IN_CLOEXEC);
  if (fd === -1 || lib.inotify_add_watch!(fd, cString(path), C.IN_OPEN) < 0) {
    throw new Error(`cannot watch ${path}`);
  }
  const events = new Uint8Array(4096);
  return {
    opened: () => Number(lib.read(fd, events, BigInt(events.length))) > 0,
    [Symbol.dispose]: () => void lib.close(fd),
  };
}

Deno.test("openFifo() never opens what the path points to after a swap while it waits for a peer", async () => {
  using dir = tempDir();
  const fifo = `${dir.path}/jobs.fifo`;
  const victim = `${dir.path}/victim`;
  Deno.writeFileSync(victim, CONTENT);
  await mkfifo(fifo, { mode: 0o600 });
  using watch = watchOpens(victim);
  for (const options of [{ write: true }, { read: true }] as const) {
    // The writer waits for a reader (the reader for a writer), retrying its
    // open or probing; meanwhile another user swaps the path for a symlink
    // to a file root can write (a device whose open has side effects, such
    // as /dev/watchdog, in the real attack).
    const opening = openFifo(fifo, { ...options, timeout: 1_500 });
    await new Promise((r) => setTimeout(r, 100));
    Deno.renameSync(fifo, `${fifo}.old`);
    Deno.symlinkSync(victim, fifo);
    const error = await within(
      opening.then(() => undefined, (e) => e),
      10_000,
      "openFifo() after the swap",
    );
    assertInstanceOf(
      error,
      Deno.errors.TimedOut,
      `${JSON.stringify(options)}: ${error}`,
    );
    assertEquals(
      watch.opened(),
      false,
      `${JSON.stringify(options)}: the victim was opened`,
    );
    Deno.removeSync(fifo);
    Deno.renameSync(`${fifo}.old`, fifo);
  }
  assertEquals(Deno.readFileSync(victim), CONTENT); // (an open of its own)
});
