// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for Lock: review item 25 (Lock.open followed a symbolic
// link planted by another user, creating or opening the file it points to).
// Setup: a run directory owned by user nobody (not sticky, so the result
// does not depend on fs.protected_symlinks) in which nobody plants
// `app.lock -> target` with setpriv; this process (root) opens the lock.

import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { Lock } from "../../sem/mod.ts";
import { exists, removeQuietly, tempDir } from "../_helpers.ts";
import { needs } from "../_harness.ts";
import { describeChild, runChild } from "../_named_helpers.ts";

// Another user plants the symlink: setpriv, as root.
const setprivRoot = needs("setpriv", "root");

async function plantedSymlink(dir: string, target: string) {
  const runDir = `${dir}/run`;
  Deno.mkdirSync(runDir, { mode: 0o755 });
  Deno.chownSync(runDir, 65534, 65534);
  Deno.chmodSync(dir, 0o755);
  const link = `${runDir}/app.lock`;
  const r = await runChild(
    "setpriv",
    [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "ln",
      "-s",
      target,
      link,
    ],
    "setpriv ln -s as user nobody",
    20_000,
  );
  assertEquals(r.code, 0, `planting the symlink failed\n${describeChild(r)}`);
  assertEquals(Deno.lstatSync(link).isSymlink, true);
  assertEquals(Deno.lstatSync(link).uid, 65534);
  return { link };
}

// Review item 25
setprivRoot.test({
  name:
    "Lock.open does not follow a symlink planted by another user (no file created at its target)",
  async fn() {
    using dir = tempDir();
    Deno.mkdirSync(`${dir.path}/victim-dir`, { mode: 0o700 });
    const target = `${dir.path}/victim-dir/created-by-root`;
    const { link } = await plantedSymlink(dir.path, target);
    try {
      // Open-or-create is where the original followed the link and created
      // the file the attacker chose (it created by default then).
      const e = assertThrows(
        () => Lock.open(link, { create: true }).close(),
        Deno.errors.InvalidData,
      );
      assertMatch(e.message, /is a symbolic link; it is not followed/);
    } finally {
      const created = exists(target);
      removeQuietly(target);
      assert(
        !created,
        `Lock.open created ${target} through the planted symlink`,
      );
    }
  },
});

// Review item 25
setprivRoot.test({
  name: "Lock.open refuses a symlink to an existing file",
  async fn() {
    using dir = tempDir();
    const target = `${dir.path}/important.conf`;
    Deno.writeTextFileSync(target, "root-owned data\n", { mode: 0o600 });
    const { link } = await plantedSymlink(dir.path, target);
    // The original opened (O_RDWR) and would flock the root-owned file.
    let lock: Lock | undefined;
    try {
      for (const options of [{}, { create: false }, { create: true }]) {
        const e = assertThrows(() => {
          lock = Lock.open(link, options);
        }, Deno.errors.InvalidData);
        assertMatch(e.message, /is a symbolic link; it is not followed/);
      }
    } finally {
      lock?.close();
    }
    assertEquals(Deno.readTextFileSync(target), "root-owned data\n");
  },
});

// Review item 25 (a guard: the original refused it too, with TypeError)
Deno.test("Lock.open still refuses a FIFO", async () => {
  using dir = tempDir();
  const path = `${dir.path}/fifo.lock`;
  const mk = await runChild("mkfifo", [path], "mkfifo", 20_000);
  assertEquals(mk.code, 0, describeChild(mk));
  const e = assertThrows(
    () => Lock.open(path).close(),
    Deno.errors.InvalidData,
  );
  assertMatch(e.message, /is a fifo, not a regular file/);
});
