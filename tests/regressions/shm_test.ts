// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for SharedMemory: review items 1, 2, 4 (SharedMemory
// part) and 27, and a defect found while porting the tests to the new core.
// Everything that can kill a process (SIGBUS, SIGSEGV, a stray close) runs
// in a child (fixtures/shm_child.ts) that prints one JSON line; the test
// checks how the child ended. Every wait has a watchdog that kills the
// child; names are random and removed in `finally`.
//
// Not here (item 4): a regular file or a named segment truncated by another
// process *after* it was mapped still faults on the next access (SIGBUS):
// only a memfd can be sealed against shrinking, and an access through a
// typed array cannot turn the signal into an error. That is a documented
// limitation (SharedMemory's doc), reproduced by
// /work/scratch/regress-a/shm_truncate_limits_test.ts.

import { needs } from "../_harness.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { SharedMemory } from "../../shm/mod.ts";
import { exists, LineChild, openFds, tempDir } from "../_helpers.ts";
import {
  type ChildResult,
  describeChild,
  lastJson,
  posixName,
  removeNames,
  runChild,
  runDeno,
} from "../_named_helpers.ts";

const CHILDREN = new URL("./fixtures/", import.meta.url).pathname;
const CHILD = `${CHILDREN}shm_child.ts`;
const MiB = 1 << 20;

/** The child's JSON line, after checking that it ended cleanly. */
function cleanExit(r: ChildResult, what: string): Record<string, unknown> {
  assertEquals(
    r.signal,
    null,
    `${what}: the child was killed by a signal (the defect)\n${
      describeChild(r)
    }`,
  );
  assertEquals(r.code, 0, `${what}: the child failed\n${describeChild(r)}`);
  return lastJson(r);
}

/** Lines of /proc/self/maps of the file with this inode (a name's segment). */
function mapsOfInode(ino: number): string[] {
  return Deno.readTextFileSync("/proc/self/maps").split("\n").filter((l) =>
    l.split(/\s+/)[4] === String(ino)
  );
}

// ---------------------------------------------------------------------------
// Item 1: no open or create ever shrinks a segment.
// ---------------------------------------------------------------------------

// Review item 1
Deno.test("SharedMemory.create never shrinks a segment this process maps", async () => {
  const name = posixName("shrink");
  try {
    const r = await runDeno(CHILD, ["shrink-same", name], "shrink-same child");
    const out = cleanExit(r, "shrink-same");
    // Open-or-create maps the existing segment as it is; create() is
    // exclusive.
    assertEquals(out.openOrCreate, { size: MiB, created: false });
    assertEquals(out.createAgain, "AlreadyExists");
    assertEquals(out.sizeAfter, MiB, "the segment kept its size");
    assertEquals(out.touched, MiB, "the whole 1 MiB mapping stayed usable");
  } finally {
    removeNames(name);
  }
});

// Review item 1
Deno.test("SharedMemory.create never shrinks a segment another process maps", async () => {
  const name = posixName("shrink");
  try {
    SharedMemory.create(name, { size: MiB }).close();
    await using holder = LineChild.deno("hold child", CHILD, ["hold", name]);
    assertEquals(await holder.next(), `mapped ${MiB}`);
    {
      using mine = SharedMemory.open(name, { create: true, size: 4096 });
      assertEquals([mine.size, mine.created], [MiB, false]);
    }
    assertThrows(
      () => SharedMemory.create(name, { size: 4096 }),
      Deno.errors.AlreadyExists,
    );
    const sizeAfter = Deno.statSync(`/dev/shm${name}`).size;
    await holder.send("touch");
    const line = await holder.next();
    const status = await holder.status();
    assertEquals(
      status.signal,
      null,
      `the holder died of ${status.signal} touching its mapping (segment now ${sizeAfter} bytes)\n${await holder
        .stderr()}`,
    );
    assertEquals(JSON.parse(line!), { touched: MiB });
    assertEquals(sizeAfter, MiB, "a second create/open resized the segment");
  } finally {
    removeNames(name);
  }
});

// ---------------------------------------------------------------------------
// Item 2: a full /dev/shm fails at creation, with a message naming the size
// and the free space. The child runs in a private mount namespace whose
// /dev/shm is an 8 MiB tmpfs, so the real /dev/shm is never filled.
// ---------------------------------------------------------------------------

// A small tmpfs on /dev/shm in a mount namespace of its own.
const smallShm = needs("unshare");

function inSmallShm(mode: string, size: number): Promise<ChildResult> {
  return runChild(
    "unshare",
    [
      "-m",
      "sh",
      "-c",
      'mount -t tmpfs -o size=8m tmpfs /dev/shm && exec "$0" run -A --quiet "$1" "$2" "$3"',
      Deno.execPath(),
      CHILD,
      mode,
      String(size),
    ],
    `${mode} child in an 8 MiB /dev/shm`,
  );
}

function assertClearNoSpaceError(out: Record<string, unknown>, call: string) {
  assertEquals(
    out.created,
    false,
    "creating 64 MiB on an 8 MiB tmpfs must fail at creation",
  );
  const error = out.error as { name: string; message: string };
  assertMatch(
    error.message,
    new RegExp(
      `^${
        call.replace(/[.()]/g, "\\$&")
      }: cannot reserve 64 MiB for .*: ENOSPC`,
    ),
  );
  assertMatch(
    error.message,
    /64 MiB/,
    "the error names the size asked",
  );
  assertMatch(
    error.message,
    /\(\d+(\.\d)? (bytes|KiB|MiB) free on its file system\)/,
    "the error names the free space",
  );
}

// Review item 2
smallShm.test({
  name:
    "SharedMemory.create reserves its memory and fails clearly when /dev/shm is full",
  async fn() {
    const r = await inSmallShm("full-create", 64 * MiB);
    assertClearNoSpaceError(
      cleanExit(r, "full-create"),
      "SharedMemory.create()",
    );
  },
});

// Review item 2
smallShm.test({
  name:
    "SharedMemory.fromFile reserves the grown size and fails clearly when the filesystem is full",
  async fn() {
    const r = await inSmallShm("full-file", 64 * MiB);
    assertClearNoSpaceError(
      cleanExit(r, "full-file"),
      "SharedMemory.fromFile()",
    );
  },
});

// Review item 2
smallShm.test({
  name:
    "ShmChannel.create reserves its ring and fails clearly when /dev/shm is full",
  async fn() {
    const r = await inSmallShm("full-channel", 64 * MiB);
    assertClearNoSpaceError(
      cleanExit(r, "full-channel"),
      "ShmChannelWriter.create()",
    );
  },
});

// ---------------------------------------------------------------------------
// Item 4: sizes are validated before memory is touched; a memfd the library
// made cannot be shrunk under its mapping (F_SEAL_SHRINK).
// ---------------------------------------------------------------------------

// Review item 4
Deno.test("SharedMemory.anonymous cannot be shrunk under its mapping by a process it is shared with", async () => {
  const r = await runDeno(CHILD, ["memfd-shrink"], "memfd-shrink child");
  const out = cleanExit(r, "memfd-shrink");
  assertEquals(out.ftruncate, -1, "shrinking the memfd must be refused");
  assertEquals(out.size, MiB, "the memfd kept its size");
  assertEquals(out.touched, MiB);
});

// Review item 4 (a guard: passes on the original code too)
Deno.test("SharedMemory.fromFd maps only what a truncated memfd still holds", async () => {
  const r = await runDeno(CHILD, ["fromfd-truncated"], "fromfd child");
  assertEquals(cleanExit(r, "fromfd-truncated"), { size: 5000, touched: true });
});

// Review item 4 (a guard; the original threw RangeError)
Deno.test("SharedMemory.fromFile refuses a read-only map larger than the file", () => {
  using dir = tempDir();
  const path = `${dir.path}/short.bin`;
  Deno.writeFileSync(path, new Uint8Array(4096));
  const e = assertThrows(
    () => SharedMemory.fromFile(path, { size: MiB, readOnly: true }),
    Deno.errors.InvalidData,
  );
  assertMatch(e.message, /has 4 KiB, fewer than the 1 MiB expected/);
  assertEquals(Deno.statSync(path).size, 4096, "never resized");
});

// Review item 4 (a guard: passes on the original code too)
Deno.test("SharedMemory.open refuses an empty segment", () => {
  const name = posixName("empty");
  try {
    Deno.writeFileSync(`/dev/shm${name}`, new Uint8Array(0), { mode: 0o600 });
    const e = assertThrows(
      () => SharedMemory.open(name),
      Deno.errors.InvalidData,
    );
    assertMatch(e.message, /is empty \(0 bytes\)/);
  } finally {
    removeNames(name);
  }
});

// ---------------------------------------------------------------------------
// Item 27: close() after a BYOB read transferred shm.buffer.
// ---------------------------------------------------------------------------

// Review item 27
Deno.test("SharedMemory.close releases the mapping, the fd and the name even after its buffer was transferred", async () => {
  const name = posixName("byob");
  const fdsBefore = openFds();
  try {
    const shm = SharedMemory.create(name, { size: 4096, unlinkOnClose: true });
    const fd = shm.fd;
    const ino = Deno.statSync(`/dev/shm${name}`).ino!;
    assertEquals(mapsOfInode(ino).length, 1);
    // Any byte stream read in BYOB mode transfers the view's buffer.
    const stream = new ReadableStream({
      type: "bytes",
      pull(controller) {
        const view = controller.byobRequest!.view!;
        new Uint8Array(view.buffer, view.byteOffset, view.byteLength)[0] = 42;
        controller.byobRequest!.respond(1);
      },
    });
    const reader = stream.getReader({ mode: "byob" });
    const { value } = await reader.read(new Uint8Array(shm.buffer));
    assertEquals(value?.[0], 42);
    reader.releaseLock();
    assertThrows(() => shm.buffer, Deno.errors.BadResource, "transferred");

    shm.close(); // the original: TypeError from ArrayBuffer.prototype.transfer
    assert(shm.closed, "closed after close()");
    assertEquals(openFds().get(fd), fdsBefore.get(fd), `fd ${fd} was closed`);
    assert(!exists(`/dev/shm${name}`), "unlinkOnClose removed the name");
    assertEquals(mapsOfInode(ino), [], "the mapping was released");
  } finally {
    removeNames(name);
  }
});

// Review item 27
Deno.test("SharedMemory.close after its buffer was transferred leaves a stray view that reads zeros instead of crashing", async () => {
  const name = posixName("stray");
  try {
    const r = await runDeno(CHILD, ["stray-view", name], "stray-view child");
    assertEquals(cleanExit(r, "stray-view"), {
      before: [42, 7, 4096],
      after: [0, 0, 0, 4096],
      wrote: 1,
    });
    assert(!exists(`/dev/shm${name}`), "unlinkOnClose removed the name");
  } finally {
    removeNames(name);
  }
});

// Found while porting: SharedMemory.create() on an existing name left the
// mapping it had made of its temporary object behind, and that mapping's
// finalizer later closed the descriptor number it had held — by then another
// file of the process (in tests/shm_test.ts, a child's pidfd, so the child's
// status never settled).
Deno.test("SharedMemory and ShmChannel create() on an existing name leave no mapping behind and close no other descriptor later", async () => {
  const name = posixName("exists");
  try {
    const r = await runChild(
      Deno.execPath(),
      [
        "run",
        "--allow-all",
        "--quiet",
        "--v8-flags=--expose-gc",
        `${CHILDREN}shm_create_exists_child.ts`,
        name,
      ],
      "create-on-existing child",
    );
    assertEquals(r.signal, null, describeChild(r));
    assertEquals(r.code, 0, describeChild(r));
    assertEquals(lastJson(r), {
      errors: ["AlreadyExists", "AlreadyExists", "AlreadyExists"],
      leaked: 0,
      closedBehindOurBack: [],
    });
  } finally {
    removeNames(name);
  }
});
