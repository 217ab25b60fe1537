// Copyright 2026 the posix-ipc authors. MIT license.

import {
  assert,
  assertEquals,
  assertGreater,
  assertMatch,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { pipe, spawn } from "../pipe/mod.ts";
import {
  SharedMemory,
  ShmChannelReader,
  ShmChannelWriter,
  unlinkSharedMemory,
} from "../shm/mod.ts";
import { needs, waitingFor } from "./_harness.ts";
import {
  assertNoLeaks,
  compileC,
  denoArgs,
  listDir,
  randomName,
  readUntil,
  sha256,
  tempDir,
  within,
} from "./_helpers.ts";

const gcc = needs("gcc");

const dec = new TextDecoder();
const fixture = new URL("./fixtures/shm_child.ts", import.meta.url);
const shmName = () => `/${randomName("pipc-shm")}`;

const assertNoShmLeak = (fn: () => Promise<void> | void) =>
  assertNoLeaks(fn, ["/dev/shm"]);

const C_PEER = `
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
// usage: peer read NAME       prints the NUL-terminated string at offset 0
//        peer create NAME SIZE TEXT   creates, sizes, writes TEXT at offset 0
//        peer bump NAME       adds 1 to the int32 at offset 0
int main(int argc, char **argv) {
  if (!strcmp(argv[1], "create")) {
    int fd = shm_open(argv[2], O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) { perror("shm_open"); return 1; }
    size_t size = atoi(argv[3]);
    ftruncate(fd, size);
    char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    strcpy(p, argv[4]);
    munmap(p, size); close(fd);
    return 0;
  }
  int fd = shm_open(argv[2], O_RDWR, 0);
  if (fd < 0) { perror("shm_open"); return 1; }
  struct stat st; fstat(fd, &st);
  char *p = mmap(0, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (!strcmp(argv[1], "read")) printf("%s %ld\\n", p, (long)st.st_size);
  else __atomic_add_fetch((int *)p, 1, __ATOMIC_SEQ_CST);
  munmap(p, st.st_size); close(fd);
  return 0;
}
`;

// A C writer that speaks the ShmChannel ring protocol documented in
// shm/shm_channel.ts: claim writerPid, copy, store head, bump headSeq, wake.
const C_RING_WRITER = `
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#define W(off) ((volatile uint32_t *)(base + (off)))
static void wake(uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE, 0x7fffffff, 0, 0, 0); }
int main(int argc, char **argv) {
  int fd = shm_open(argv[1], O_RDWR, 0);
  long total = atol(argv[2]);
  struct stat st; fstat(fd, &st);
  char *base = mmap(0, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (*W(0) != 0x43504950 || *W(4) != 1) { fprintf(stderr, "bad header\\n"); return 1; }
  uint32_t cap = *W(8), data = *W(12), wrap = 2 * cap;
  __atomic_store_n(W(20), (uint32_t)getpid(), __ATOMIC_SEQ_CST);
  uint32_t head = __atomic_load_n(W(64), __ATOMIC_SEQ_CST);
  long sent = 0; unsigned char byte = 0;
  while (sent < total) {
    uint32_t tail = __atomic_load_n(W(128), __ATOMIC_SEQ_CST);
    uint32_t used = head >= tail ? head - tail : head + wrap - tail;
    if (used == cap) { usleep(100); continue; }
    uint32_t at = head < cap ? head : head - cap;
    base[data + at] = byte++;
    head = head + 1 == wrap ? 0 : head + 1;
    sent++;
    __atomic_store_n(W(64), head, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(W(68), 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(W(72), __ATOMIC_SEQ_CST)) wake((uint32_t *)W(68));
  }
  __atomic_or_fetch(W(16), 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(W(68), 1, __ATOMIC_SEQ_CST);
  wake((uint32_t *)W(68));
  return 0;
}
`;

gcc.test("SharedMemory: a C program reads what Deno writes, and the reverse", async () => {
  const peer = await compileC("shm_peer", C_PEER, ["-lrt"]);
  await assertNoShmLeak(async () => {
    const name = shmName();
    using shm = SharedMemory.create(name, { size: 4096, unlinkOnClose: true });
    new TextEncoder().encodeInto(
      "hello from deno\0",
      new Uint8Array(shm.buffer),
    );
    const out = await waitingFor(
      "the C peer",
      new Deno.Command(peer, {
        args: ["read", name],
        stdout: "piped",
      }).output(),
    );
    assertEquals(dec.decode(out.stdout), "hello from deno 4096\n");

    const counter = new Int32Array(shm.buffer);
    Atomics.store(counter, 0, 0);
    for (let i = 0; i < 3; i++) {
      await waitingFor(
        "the C peer",
        new Deno.Command(peer, { args: ["bump", name] }).output(),
      );
    }
    assertEquals(Atomics.load(counter, 0), 3);

    const name2 = shmName();
    const made = await waitingFor(
      "the C peer",
      new Deno.Command(peer, {
        args: ["create", name2, "8192", "made in C"],
      }).output(),
    );
    assertEquals(made.code, 0);
    using theirs = SharedMemory.open(name2);
    assertEquals(theirs.size, 8192);
    assertEquals(dec.decode(new Uint8Array(theirs.buffer, 0, 9)), "made in C");
    theirs.unlink();
  });
});

Deno.test("SharedMemory: names and sizes are validated before any system call", () => {
  const bad: [unknown, RegExp][] = [
    ["noslash", /leading "\/"/],
    ["/", /leading "\/"/],
    ["/a/b", /only the leading "\/"/],
    ["", /leading "\/"/],
    [`/${"x".repeat(300)}`, /has 300 bytes after "\/", more than 255/],
    [42, /must be a string/],
    ["/a\0b", /NUL/],
  ];
  for (const [name, message] of bad) {
    const e = assertThrows(
      () => SharedMemory.create(name as string, { size: 1 }),
      TypeError,
    );
    assertMatch(e.message, message);
    assertThrows(() => SharedMemory.open(name as string), TypeError);
    assertThrows(() => unlinkSharedMemory(name as string), TypeError);
  }
  for (const size of [0, -1, 1.5, NaN, Infinity, 2 ** 60]) {
    const e = assertThrows(
      () => SharedMemory.create(shmName(), { size }),
      RangeError,
    );
    assertMatch(
      e.message,
      /^SharedMemory\.create\(\): size must be an integer from 1 to \d+, got /,
    );
  }
  // A string is the wrong type, not a wrong number: TypeError (_check/mod.ts).
  const e = assertThrows(
    () => SharedMemory.create(shmName(), { size: "10" as never }),
    TypeError,
  );
  assertMatch(e.message, /size must be an integer, got "10"/);
  assertThrows(
    () => SharedMemory.create(shmName(), { size: 1, mode: 0o1000 }),
    RangeError,
    "mode",
  );
  assertThrows(() => SharedMemory.create(shmName(), null as never), TypeError);
  assertEquals(
    listDir("/dev/shm").filter((n) => n.startsWith(`pipc-shm-${Deno.pid}-`)),
    [],
  );
});

Deno.test("SharedMemory: exclusive create, missing, mode, and an existing segment is never resized", async () => {
  await assertNoShmLeak(() => {
    const name = shmName();
    assertThrows(() => SharedMemory.open(name), Deno.errors.NotFound, "ENOENT");
    assertThrows(() => unlinkSharedMemory(name), Deno.errors.NotFound);
    using a = SharedMemory.create(name, { size: 100, mode: 0o640 });
    assert(a.created);
    assertEquals(Deno.statSync(`/dev/shm${name}`).mode! & 0o777, 0o640);
    // create() is always exclusive (there is no `exclusive` option any more).
    const e = assertThrows(
      () => SharedMemory.create(name, { size: 200 }),
      Deno.errors.AlreadyExists,
    );
    assertMatch(
      e.message,
      new RegExp(
        `^SharedMemory\\.create\\(\\): cannot create shared memory "${name}": EEXIST`,
      ),
    );
    // Open-or-create of an existing segment maps it as it is: the old
    // create() resized it here to 200 bytes, which made every mapping of a
    // shrunk segment fault (SIGBUS). Now neither a larger nor a smaller
    // size changes it.
    const bigger = assertThrows(
      () => SharedMemory.open(name, { create: true, size: 200 }),
      Deno.errors.InvalidData,
    );
    assertMatch(
      bigger.message,
      new RegExp(
        `^SharedMemory\\.open\\(\\): shared memory "${name}" has 100 bytes, fewer than the 200 bytes expected`,
      ),
    );
    assertEquals(Deno.statSync(`/dev/shm${name}`).size, 100);
    using b = SharedMemory.open(name, { create: true, size: 50 });
    assertEquals([b.created, b.size], [false, 100]);
    assertEquals(Deno.statSync(`/dev/shm${name}`).size, 100);
    new Uint8Array(a.buffer)[99] = 7;
    assertEquals(new Uint8Array(b.buffer)[99], 7, "the same segment");
    unlinkSharedMemory(name);
  });
});

Deno.test("SharedMemory: close() detaches the buffer and is idempotent", async () => {
  await assertNoShmLeak(() => {
    const shm = SharedMemory.create(shmName(), {
      size: 1 << 16,
      unlinkOnClose: true,
    });
    const view = new Uint8Array(shm.buffer);
    view[0] = 1;
    shm.close();
    shm.close();
    assertEquals(view.length, 0, "views of a closed segment are empty");
    assertEquals(
      view[0],
      undefined,
      "and reading them does not touch unmapped memory",
    );
    assertThrows(() => shm.buffer, Deno.errors.BadResource);
    assertEquals(shm.fd, -1);
    assert(shm.closed);
  });
});

Deno.test("SharedMemory: read-only mappings see updates, and stray writes stay private", async () => {
  await assertNoShmLeak(() => {
    const name = shmName();
    using owner = SharedMemory.create(name, {
      size: 4096,
      unlinkOnClose: true,
    });
    using reader = SharedMemory.open(name, { readOnly: true });
    const mine = new Uint8Array(owner.buffer);
    const theirs = new Uint8Array(reader.buffer);
    mine[10] = 42;
    assertEquals(theirs[10], 42);
    theirs[20] = 99; // does not crash, does not reach the segment
    assertEquals(mine[20], 0);
  });
});

Deno.test("SharedMemory.fromFile() maps a regular file", async () => {
  await assertNoShmLeak(() => {
    using dir = tempDir();
    const path = `${dir.path}/map.bin`;
    using created = SharedMemory.fromFile(path, { create: true, size: 8192 });
    new Uint8Array(created.buffer).set([1, 2, 3]);
    using again = SharedMemory.fromFile(path);
    assertEquals(again.size, 8192);
    assertEquals([...new Uint8Array(again.buffer, 0, 3)], [1, 2, 3]);
    assertEquals(
      Deno.readFileSync(path).slice(0, 3),
      new Uint8Array([1, 2, 3]),
    );
    assertThrows(
      () => SharedMemory.fromFile(`${dir.path}/none`),
      Deno.errors.NotFound,
    );
    assertThrows(() => SharedMemory.fromFile(dir.path), Error);
    Deno.writeFileSync(`${dir.path}/empty`, new Uint8Array());
    assertThrows(
      () => SharedMemory.fromFile(`${dir.path}/empty`),
      Deno.errors.InvalidData,
    );
    assertThrows(
      () => SharedMemory.fromFile(path, { create: true }),
      TypeError,
      "create needs a size",
    );
    assertThrows(
      () => created.unlink(),
      TypeError,
      "has no POSIX name to remove",
    );
  });
});

Deno.test("SharedMemory.anonymous(): a memfd adopted by a Deno child at fd 3", async () => {
  await assertNoShmLeak(async () => {
    using shm = SharedMemory.anonymous(1 << 16);
    const out = await spawn(Deno.execPath(), {
      args: denoArgs(fixture, "fd3"),
      fds: { 3: shm },
      stdout: "piped",
    }).output();
    assertEquals(dec.decode(out.stdout).trim(), String(1 << 16));
    assertEquals(
      dec.decode(new Uint8Array(shm.buffer, 0, 14)),
      "child was here",
    );
    assert(shm.fd >= 0, "the parent keeps its memfd");
  });
});

Deno.test("SharedMemory.fromFd() rejects what is not shared memory", async () => {
  await assertNoShmLeak(() => {
    const { reader, writer } = pipe();
    const e = assertThrows(() => SharedMemory.fromFd(reader.fd), TypeError);
    assertMatch(e.message, /is a fifo, not shared memory or a regular file/);
    reader.close();
    writer.close();
    assertThrows(
      () => SharedMemory.fromFd(-1),
      TypeError,
      "non-negative integer",
    );
    assertThrows(() => SharedMemory.fromFd(987654), Deno.errors.BadResource);
  });
});

Deno.test("ShmChannel: 64 MB from a Deno writer with random write sizes, checksum intact", async () => {
  await assertNoShmLeak(async () => {
    const name = shmName();
    using channel = ShmChannelReader.create(name, { capacity: 1 << 20 });
    const total = 64_000_000;
    const child = spawn(Deno.execPath(), {
      args: denoArgs(fixture, "channel-write", name, String(total)),
      stdout: "piped",
    });
    const received = new Uint8Array(
      await within(
        new Response(channel.readable).arrayBuffer(),
        60_000,
        "transfer",
      ),
    );
    const out = await child.output();
    channel.unlink();
    assertEquals(out.code, 0);
    assertEquals(received.length, total);
    assertEquals(await sha256(received), dec.decode(out.stdout).trim());
  });
});

gcc.test("ShmChannel: a C writer speaking the documented ring protocol", async () => {
  const writer = await compileC("ring_writer", C_RING_WRITER, ["-lrt"]);
  await assertNoShmLeak(async () => {
    const name = shmName();
    using channel = ShmChannelReader.create(name, { capacity: 1000 }); // not a power of two
    const child = new Deno.Command(writer, {
      args: [name, "100000"],
      stderr: "piped",
    }).spawn();
    const got = new Uint8Array(
      await within(
        new Response(channel.readable).arrayBuffer(),
        30_000,
        "C ring",
      ),
    );
    assertEquals((await child.output()).code, 0);
    channel.unlink();
    assertEquals(got.length, 100_000);
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== (i & 0xff)) throw new Error(`byte ${i} is ${got[i]}`);
    }
  });
});

Deno.test("ShmChannel: a writer killed with SIGKILL ends the reader's wait within 5 s", async () => {
  await assertNoShmLeak(async () => {
    const name = shmName();
    using channel = ShmChannelReader.create(name, { capacity: 1 << 16 });
    const child = spawn(Deno.execPath(), {
      args: denoArgs(fixture, "channel-forever", name),
      stdout: "piped",
    });
    const reader = channel.readable.getReader({ mode: "byob" });
    let buffer = new Uint8Array(1 << 16);
    let total = 0;
    const draining = (async () => {
      for (;;) {
        const { value, done } = await reader.read(buffer);
        if (done) return "eof";
        total += value.length;
        buffer = new Uint8Array(value.buffer);
        // kill() returns false (never throws) once the child has exited.
        if (total > (1 << 20)) child.kill("SIGKILL");
      }
    })();
    const started = performance.now();
    const e = await within(
      draining.then(() => null, (e) => e),
      20_000,
      "dead writer detection",
    );
    assert(e instanceof Deno.errors.UnexpectedEof, `got ${e}`);
    assertMatch(
      e.message,
      new RegExp(
        `^ShmChannelReader\\.readable: the writer of ShmChannel "${name}" \\(pid ${child.pid}\\) died without closing it$`,
      ),
    );
    assert(performance.now() - started < 20_000);
    assertGreater(total, 1 << 20);
    await child.output();
    channel.unlink();
  });
});

Deno.test("ShmChannel: a reader killed with SIGKILL fails the writer with BrokenPipe", async () => {
  await assertNoShmLeak(async () => {
    const name = shmName();
    using channel = ShmChannelWriter.create(name, { capacity: 4096 });
    const child = spawn(Deno.execPath(), {
      args: denoArgs(fixture, "channel-read", name),
      stdout: "piped",
    });
    await channel.write(new Uint8Array(1));
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(lines, "reading");
    const writing = channel.write(new Uint8Array(1 << 20)); // far more than fits
    child.kill("SIGKILL");
    const e = await within(
      writing.then(() => null, (e: Error) => e),
      20_000,
      "dead reader detection",
    );
    assert(e instanceof Deno.errors.BrokenPipe, `got ${e}`);
    assertMatch(
      e!.message,
      new RegExp(
        `^ShmChannelWriter\\.write\\(\\): the reader of ShmChannel "${name}" \\(pid ${child.pid}\\) died$`,
      ),
    );
    await lines.cancel();
    await child.status;
    channel.unlink();
  });
});

Deno.test("ShmChannel: EOF, BrokenPipe after the reader closes, abort, bad input", async (t) => {
  await assertNoShmLeak(async () => {
    const name = shmName();
    const a = ShmChannelWriter.create(name, { capacity: 64 });
    const b = ShmChannelReader.open(name);
    unlinkSharedMemory(name);
    await t.step("low-level read/write wraps around the ring", async () => {
      const out = new Uint8Array(200);
      const writing = a.write(new Uint8Array(200).map((_, i) => i));
      let got = 0;
      while (got < 200) got += (await b.read(out.subarray(got)))!;
      assertEquals(await writing, 200);
      assertEquals(out, new Uint8Array(200).map((_, i) => i));
    });
    await t.step("abort a pending read", async () => {
      const c = new AbortController();
      const pending = b.read(new Uint8Array(8), { signal: c.signal });
      c.abort(new Error("enough"));
      await assertRejects(
        () => within(pending, 5000, "abort"),
        Error,
        "enough",
      );
    });
    await t.step("closing the writer is EOF after the bytes", async () => {
      await a.write(new Uint8Array([1, 2]));
      a.close(); // was closeWrite(): the writer end is its own handle now
      assertEquals(await b.read(new Uint8Array(8)), 2);
      assertEquals(await b.read(new Uint8Array(8)), null);
    });
    await t.step("bad input", async () => {
      await assertRejects(() => a.write("x" as never), TypeError);
      await assertRejects(() => b.read(null as never), TypeError);
      for (const End of [ShmChannelWriter, ShmChannelReader]) {
        assertThrows(
          () => End.create(shmName(), { capacity: 0 }),
          RangeError,
          "capacity",
        );
        assertThrows(
          () => End.create(shmName(), { capacity: 2 ** 31 }),
          RangeError,
          "capacity must be an integer from 1 to 1073741824",
        );
        assertThrows(() => End.open("bad"), TypeError);
        assertThrows(() => End.open(shmName()), Deno.errors.NotFound);
      }
      const plain = shmName();
      using seg = SharedMemory.create(plain, {
        size: 4096,
        unlinkOnClose: true,
      });
      void seg;
      for (const End of [ShmChannelWriter, ShmChannelReader]) {
        assertThrows(
          () => End.open(plain),
          Deno.errors.InvalidData,
          "not a ShmChannel",
        );
      }
    });
    await t.step(
      "a closed reader makes writes fail with BrokenPipe",
      async () => {
        const name2 = shmName();
        const w = ShmChannelWriter.create(name2, { capacity: 64 });
        const r = ShmChannelReader.open(name2);
        unlinkSharedMemory(name2);
        await w.write(new Uint8Array(10));
        assertEquals(await r.read(new Uint8Array(64)), 10);
        r.close();
        const e = await assertRejects(
          () => w.write(new Uint8Array(1)),
          Deno.errors.BrokenPipe,
        );
        assertMatch(
          e.message,
          new RegExp(
            `^ShmChannelWriter\\.write\\(\\): the reader closed ShmChannel "${name2}"$`,
          ),
        );
        w.close();
      },
    );
    a.close();
    b.close();
    a.close();
    await assertRejects(
      () => b.read(new Uint8Array(1)),
      Deno.errors.BadResource,
    );
  });
});
