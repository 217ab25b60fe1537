// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for Semaphore: review item 3 (a /dev/shm/sem.NAME file of
// the wrong size or type is refused, never mapped). Item 28's semaphore part
// is in names_test.ts. The planted file is made by user nobody through
// setpriv (/dev/shm is world-writable, sticky): any local user can do it.

import { needs } from "../_harness.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { Semaphore } from "../../sem/mod.ts";
import {} from "../_helpers.ts";
import {
  describeChild,
  lastJson,
  posixName,
  removeNames,
  runChild,
  runDeno,
} from "../_named_helpers.ts";

const CHILD = new URL("./fixtures/sem_open_child.ts", import.meta.url);
// Another user plants the file: setpriv, as root.
const setprivRoot = needs("setpriv", "root");

/** Plants /dev/shm/sem.NAME (`bytes` zeros) as user nobody. */
async function plantAsNobody(path: string, bytes: number): Promise<void> {
  const r = await runChild(
    "setpriv",
    [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "sh",
      "-c",
      `head -c ${bytes} /dev/zero > "$0"`,
      path,
    ],
    "setpriv planting a semaphore file",
    20_000,
  );
  assertEquals(r.code, 0, `planting ${path} failed\n${describeChild(r)}`);
  assertEquals(Deno.statSync(path).uid, 65534);
}

for (const how of ["create", "plain"] as const) {
  const call = how === "create"
    ? "Semaphore.open(name, { create: true })"
    : "Semaphore.open(name)";
  // Review item 3
  setprivRoot.test({
    name: `${call} refuses a zero-length sem file planted by another user`,
    async fn() {
      const name = posixName("sem0");
      const path = `/dev/shm/sem.${name.slice(1)}`;
      try {
        await plantAsNobody(path, 0);
        const r = await runDeno(CHILD, ["open", name, how], "semaphore child");
        assertEquals(
          r.signal,
          null,
          `the child was killed by a signal (the defect)\n${describeChild(r)}`,
        );
        assertEquals(r.code, 0, describeChild(r));
        const out = lastJson(r);
        assertEquals(out.opened, false, "a zero-length semaphore was accepted");
        const error = out.error as { name: string; message: string };
        assertEquals(error.name, "InvalidData", error.message);
        assertMatch(
          error.message,
          /has 0 bytes, not the 32 bytes of a semaphore/,
        );
        assertEquals(Deno.statSync(path).size, 0, "left as it was");
      } finally {
        removeNames(name);
      }
    },
  });
}

// Review item 3
Deno.test("Semaphore.open refuses a sem file of the wrong size", () => {
  // The original did not crash on a 1-byte file (its first page exists) but
  // the "semaphore" was garbage.
  const name = posixName("sem1");
  const path = `/dev/shm/sem.${name.slice(1)}`;
  try {
    Deno.writeFileSync(path, new Uint8Array([5]), { mode: 0o600 });
    for (
      const open of [
        () => Semaphore.open(name, { create: true }),
        () => Semaphore.open(name),
      ]
    ) {
      const e = assertThrows(() => open().close(), Deno.errors.InvalidData);
      assertMatch(e.message, /has 1 byte, not the 32 bytes of a semaphore/);
    }
    assertEquals(Deno.statSync(path).size, 1, "left as it was");
  } finally {
    removeNames(name);
  }
});

// Review item 3
Deno.test("Semaphore.open refuses a sem file that is not a regular file", async () => {
  // The original failed with a bare Error "ENODEV (no such device)" from
  // mmap rather than a clear InvalidData.
  const name = posixName("semf");
  const path = `/dev/shm/sem.${name.slice(1)}`;
  try {
    const mk = await runChild("mkfifo", [path], "mkfifo", 20_000);
    assert(mk.code === 0, describeChild(mk));
    const error = assertThrows(
      () => Semaphore.open(name, { create: true }).close(),
      Deno.errors.InvalidData,
    );
    assertMatch(error.message, /is a fifo, not a semaphore/);
  } finally {
    removeNames(name);
  }
});
