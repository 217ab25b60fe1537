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
import { Lock, Semaphore } from "../sem/mod.ts";
import {
  SharedMemory,
  ShmChannelReader,
  ShmChannelWriter,
} from "../shm/mod.ts";
import { assertNoLeaks, randomName, tempDir } from "./_helpers.ts";

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
