// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for the ShmChannel ends: review items 4 (channel part),
// 6, 7, 8 and 26, and a defect found while porting the tests to the new core.
// The ring header (shm/shm_channel.ts): 32-bit words at byte offsets
// 0 magic, 4 version, 8 capacity, 12 dataOffset, 16 flags, 20 writerPid,
// 24 readerPid, 64 head, 68 headSeq, 72 readerWaiting, 128 tail,
// 132 tailSeq, 136 writerWaiting; data at 256.

import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import {
  SharedMemory,
  ShmChannelReader,
  ShmChannelWriter,
} from "../../shm/mod.ts";
import { LineChild, tempDir, within } from "../_helpers.ts";
import {
  describeChild,
  expectRejection,
  lastJson,
  posixName,
  removeNames,
  runDeno,
} from "../_named_helpers.ts";

const CHILD = new URL("./fixtures/shm_channel_child.ts", import.meta.url);

const WORD = {
  magic: 0,
  version: 1,
  capacity: 2,
  dataOffset: 3,
  head: 16,
  headSeq: 17,
  tail: 32,
  tailSeq: 33,
} as const;

/**
 * A writer and a reader end of a fresh channel in this process, and raw
 * access to its header through SharedMemory.open of the same segment.
 */
function channelPair(capacity: number) {
  const name = posixName("chan");
  const writer = ShmChannelWriter.create(name, { capacity });
  const reader = ShmChannelReader.open(name);
  const raw = SharedMemory.open(name);
  const words = new Int32Array(raw.buffer, 0, 64);
  return {
    name,
    writer,
    reader,
    words,
    [Symbol.dispose]() {
      raw.close();
      writer.close();
      reader.close();
      removeNames(name);
    },
  };
}

/** A promise that never resolves, but rejects when `p` rejects. */
function failureOf(p: Promise<unknown>): Promise<never> {
  return p.then(() => new Promise<never>(() => {}));
}

// ---------------------------------------------------------------------------
// Item 6: the sequence counters wrap around.
// ---------------------------------------------------------------------------

for (
  const [label, start] of [
    ["2^31", 0x7ffffffe | 0],
    ["2^32", 0xfffffffe | 0],
  ] as const
) {
  // Review item 6
  Deno.test(`ShmChannel keeps working when its sequence counters pass ${label}`, async () => {
    using ch = channelPair(16);
    Atomics.store(ch.words, WORD.headSeq, start);
    Atomics.store(ch.words, WORD.tailSeq, start);

    // The reader sleeps (ring empty) on headSeq, round after round, while
    // headSeq crosses the wrap point.
    for (let i = 0; i < 6; i++) {
      const buffer = new Uint8Array(8);
      const reading = within(
        ch.reader.read(buffer),
        10_000,
        `read #${i} (reader waiting on headSeq)`,
      );
      await within(
        ch.writer.write(Uint8Array.of(i, 100 + i)),
        10_000,
        `write #${i}`,
      );
      const n = await reading; // the original: TypeError: Invalid FFI u32 type
      assertEquals(buffer.subarray(0, n ?? 0), Uint8Array.of(i, 100 + i));
    }

    // The writer sleeps (ring full) on tailSeq while the reader drains it.
    const data = Uint8Array.from({ length: 200 }, (_, i) => i);
    const writing = ch.writer.write(data);
    const writeFailed = failureOf(writing);
    const got: number[] = [];
    while (got.length < data.length) {
      const buffer = new Uint8Array(4);
      const n = await within(
        Promise.race([ch.reader.read(buffer), writeFailed]),
        10_000,
        `read at byte ${got.length} (writer waiting on tailSeq)`,
      );
      got.push(...buffer.subarray(0, n ?? 0));
    }
    assertEquals(await within(writing, 10_000, "the 200-byte write"), 200);
    assertEquals(got, [...data]);
    const seq = (word: number) => Atomics.load(ch.words, word) >>> 0;
    assert(
      seq(WORD.headSeq) < 0x1000 || seq(WORD.headSeq) > (start >>> 0),
      "headSeq moved on",
    );
  });
}

// ---------------------------------------------------------------------------
// Item 7: a corrupt or hostile header gives InvalidData, never more bytes
// than the capacity, a negative count, or a RangeError.
// ---------------------------------------------------------------------------

const CORRUPT_READS: [string, keyof typeof WORD, number][] = [
  ["head claims more bytes than the capacity", "head", 21],
  ["head is past 2 x capacity", "head", 1000],
  ["head is negative", "head", -5],
  ["tail is past 2 x capacity", "tail", 1000],
];
for (const [what, word, value] of CORRUPT_READS) {
  // Review item 7
  Deno.test(`ShmChannel.read rejects a ring whose ${what}`, async () => {
    using ch = channelPair(16);
    await ch.writer.write(Uint8Array.of(1, 2, 3));
    Atomics.store(ch.words, WORD[word], value);
    const e = await expectRejection(
      ch.reader.read(new Uint8Array(4096)),
      Deno.errors.InvalidData,
      `read() from a ring of capacity 16 whose ${word} is ${value}`,
    );
    assertMatch(e.message, /has a corrupt ring/);
  });
}

const CORRUPT_WRITES: [string, keyof typeof WORD, number][] = [
  ["head is past 2 x capacity", "head", 1000],
  ["tail is negative", "tail", -5],
];
for (const [what, word, value] of CORRUPT_WRITES) {
  // Review item 7
  Deno.test(`ShmChannel.write rejects a ring whose ${what}`, async () => {
    using ch = channelPair(16);
    Atomics.store(ch.words, WORD[word], value);
    const e = await expectRejection(
      ch.writer.write(new Uint8Array(100)),
      Deno.errors.InvalidData,
      `write() into a ring of capacity 16 whose ${word} is ${value}`,
    );
    assertMatch(e.message, /has a corrupt ring/);
  });
}

// ---------------------------------------------------------------------------
// Item 8: a peer that dies before its first write (or read) is noticed.
// ---------------------------------------------------------------------------

// Review item 8
Deno.test("ShmChannel reader gets UnexpectedEof when the writer process dies before writing", async () => {
  const name = posixName("chan");
  try {
    using reader = ShmChannelReader.create(name, { capacity: 1024 });
    await using child = LineChild.deno("writer child", CHILD, [
      "open",
      "writer",
      name,
    ]);
    assertEquals(await child.next(), "opened");
    // 10 s is a watchdog (the original waits forever), not a timing claim.
    const reading = expectRejection(
      reader.read(new Uint8Array(16)),
      Deno.errors.UnexpectedEof,
      "the read whose writer died before writing",
    );
    child.kill("SIGKILL");
    await child.status();
    const e = await reading;
    assertMatch(
      e.message,
      new RegExp(`\\(pid ${child.pid}\\) died without closing it`),
    );
  } finally {
    removeNames(name);
  }
});

// Review item 8
Deno.test("ShmChannel writer gets BrokenPipe when the reader process dies before reading", async () => {
  const name = posixName("chan");
  try {
    using writer = ShmChannelWriter.create(name, { capacity: 16 });
    await using child = LineChild.deno("reader child", CHILD, [
      "open",
      "reader",
      name,
    ]);
    assertEquals(await child.next(), "opened");
    const writing = expectRejection(
      writer.write(new Uint8Array(64)), // fills the ring, waits
      Deno.errors.BrokenPipe,
      "the write whose reader died before reading",
    );
    child.kill("SIGKILL");
    await child.status();
    const e = await writing;
    assertMatch(e.message, new RegExp(`\\(pid ${child.pid}\\) died`));
  } finally {
    removeNames(name);
  }
});

// ---------------------------------------------------------------------------
// Item 26: close() with a read or write pending.
// ---------------------------------------------------------------------------

// Review item 26
Deno.test("ShmChannel.close rejects a pending read with BadResource", async () => {
  using ch = channelPair(16);
  const reading = ch.reader.read(new Uint8Array(8)); // ring empty: waits
  ch.reader.close();
  // The original: "TypeError: Cannot perform Atomics.load on a detached
  // or out-of-bounds ArrayBuffer".
  const e = await expectRejection(
    reading,
    Deno.errors.BadResource,
    "the read pending at close()",
  );
  assertMatch(e.message, /^ShmChannelReader\.read\(\): .* is closed$/);
});

// Review item 26
Deno.test("ShmChannel.close rejects a pending write with BadResource", async () => {
  using ch = channelPair(16);
  const writing = ch.writer.write(new Uint8Array(64)); // ring full: waits
  ch.writer.close();
  const e = await expectRejection(
    writing,
    Deno.errors.BadResource,
    "the write pending at close()",
  );
  assertMatch(e.message, /^ShmChannelWriter\.write\(\): .* is closed$/);
});

// ---------------------------------------------------------------------------
// Item 4 (channel part): opening validates the segment before touching the
// ring. These passed on the original code too (guards).
// ---------------------------------------------------------------------------

function withSegment(bytes: Uint8Array, fn: (name: string) => void): void {
  const name = posixName("notchan");
  try {
    Deno.writeFileSync(`/dev/shm${name}`, bytes, { mode: 0o600 });
    fn(name);
  } finally {
    removeNames(name);
  }
}

function header(capacity: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const w = new Int32Array(bytes.buffer, 0, Math.min(64, size >> 2));
  w[WORD.magic] = 0x43504950;
  w[WORD.version] = 1;
  w[WORD.capacity] = capacity;
  w[WORD.dataOffset] = 256;
  return bytes;
}

function refusedByBothEnds(name: string, message: RegExp): void {
  for (const End of [ShmChannelWriter, ShmChannelReader]) {
    const e = assertThrows(() => End.open(name), Deno.errors.InvalidData);
    assertMatch(e.message, message);
  }
}

// Review item 4 (a guard)
Deno.test("ShmChannel.open refuses a segment that is not a channel", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(4096));
  bytes[0] = 0; // never the magic by chance
  withSegment(bytes, (name) => refusedByBothEnds(name, /not a ShmChannel/));
});

// Review item 4 (a guard)
Deno.test("ShmChannel.open refuses a header whose capacity exceeds the segment", () => {
  withSegment(
    header(1 << 20, 256 + 4096),
    (name) =>
      refusedByBothEnds(
        name,
        /corrupt ring header \(capacity 1048576 in 4352 bytes\)/,
      ),
  );
});

// Review item 4 (a guard)
Deno.test("ShmChannel.open refuses a segment shorter than the ring header", () => {
  withSegment(
    header(16, 64),
    (name) =>
      refusedByBothEnds(
        name,
        /has 64 bytes, fewer than the 257 bytes expected/,
      ),
  );
});

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
        [out.error, out.peerState, out.reattach],
        [error, "Z", "ok"],
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
