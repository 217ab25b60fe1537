// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for the ShmChannel ends: review items 4 (channel part),
// 6, 7, 8 and 26, and a defect found while porting the tests to the new core.
// The ring header (shm/shm_channel.ts): 32-bit words at byte offsets
// 0 magic, 4 version, 8 capacity, 12 dataOffset, 16 flags, 20 writerPid,
// 24 readerPid, 64 head, 68 headSeq, 72 readerWaiting, 128 tail,
// 132 tailSeq, 136 writerWaiting; data at 256.

import { assertEquals } from "@std/assert";
import {
  describeChild,
  lastJson,
  posixName,
  removeNames,
  runDeno,
} from "../_named_helpers.ts";
import { tempDir } from "../_helpers.ts";

const CHILD = new URL("./fixtures/shm_channel_child.ts", import.meta.url);

/** Kills the process whose pid a child wrote to `file`, if it did. */
function killFromPidFile(file: string): void {
  try {
    Deno.kill(Number(Deno.readTextFileSync(file)), "SIGKILL");
  } catch {
    // never started, or gone
  }
}

// Found while porting (tests/shm_test.ts hung now and then): a wait watches
// the peer's exit through a pidfd, but the end then asked kill(pid, 0)
// whether the peer was alive, which is true of a process that ended and is
// not reaped yet. The wait fired, the attempt found the peer "alive", and the
// next wait fired at once: a loop of resolved promises that starved the event
// loop — so the process that would reap the zombie (here, its parent is a
// `sleep` that never does; in the suite, this very test process) never ran.
for (const role of ["reader", "writer"] as const) {
  const peer = role === "reader" ? "writer" : "reader";
  const error = role === "reader" ? "UnexpectedEof" : "BrokenPipe";
  Deno.test(`ShmChannel ${role} gets ${error} when its ${peer} was killed but is not reaped yet (a zombie)`, async () => {
    const name = posixName(`zombie-${role}`);
    using dir = tempDir();
    const pidFile = `${dir.path}/holder.pid`;
    try {
      // The wait may starve the child's own timers: the watchdog is this
      // process's, and it kills the child.
      const r = await runDeno(
        CHILD,
        ["zombie", role, name, pidFile],
        `the ${role} whose ${peer} is a zombie`,
        20_000,
      );
      assertEquals(r.code, 0, describeChild(r));
      const out = lastJson(r);
      assertEquals(
        [out.error, out.peerState],
        [error, "Z"],
        `the wait must end while the ${peer} is still a zombie\n${
          describeChild(r)
        }`,
      );
    } finally {
      killFromPidFile(pidFile);
      removeNames(name);
    }
  });
}
