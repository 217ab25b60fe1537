// Copyright 2026 the posix-ipc authors. MIT license.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { pipe, pipeline, PipeReader, PipeWriter, spawn } from "../pipe/mod.ts";
import { needs } from "./_harness.ts";
import {
  assertNoFdLeak,
  compileC,
  denoArgs,
  isPending,
  randomBytes,
  sha256,
  tempDir,
  within,
} from "./_helpers.ts";

const gcc = needs("gcc");

const enc = new TextEncoder();
const dec = new TextDecoder();
const fixture = (name: string) =>
  new URL(`./fixtures/${name}`, import.meta.url);

async function readAll(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// Warm up lazily opened runtime resources (libc, the blocking pool, pidfd
// support) so that leak checks see only what a test itself opens.
await spawn("true").status;

Deno.test("pipe() delivers bytes in order and EOF after close", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const w = writer.writable.getWriter();
    const reading = readAll(reader.readable);
    for (let i = 0; i < 100; i++) await w.write(enc.encode(`${i},`));
    await w.close();
    const expected = Array.from({ length: 100 }, (_, i) => `${i},`).join("");
    assertEquals(dec.decode(await reading), expected);
  });
});

Deno.test("pipe() supports BYOB reads into the caller's buffer", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const w = writer.writable.getWriter();
    await w.write(new Uint8Array([1, 2, 3, 4, 5]));
    await w.close();
    const byob = reader.readable.getReader({ mode: "byob" });
    const first = await byob.read(new Uint8Array(3));
    assertEquals(first.value, new Uint8Array([1, 2, 3]));
    const second = await byob.read(new Uint8Array(16));
    assertEquals(second.value, new Uint8Array([4, 5]));
    const end = await byob.read(new Uint8Array(16));
    assert(end.done);
  });
});

Deno.test("pipe() applies backpressure: a write waits for the reader", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const w = writer.writable.getWriter();
    const big = randomBytes(1 << 20); // 16× the default 64 KiB pipe
    const writing = w.write(big);
    assert(await isPending(writing), "a 1 MiB write cannot fit a 64 KiB pipe");
    const reading = readAll(reader.readable);
    await writing;
    await w.close();
    assertEquals(await sha256(await reading), await sha256(big));
  });
});

Deno.test("pipe() size option enlarges the kernel buffer", async (t) => {
  await t.step("a 1 MiB pipe holds 1 MiB without a reader", async () => {
    await assertNoFdLeak(async () => {
      const { reader, writer } = pipe({ size: 1 << 20 });
      const w = writer.writable.getWriter();
      await within(w.write(new Uint8Array(1 << 20)), 10_000, "write");
      await w.close();
      assertEquals((await readAll(reader.readable)).length, 1 << 20);
    });
  });
  await t.step("bad sizes are RangeErrors naming the value", () => {
    for (const size of [0, -1, 1.5, NaN, 2 ** 60]) {
      const e = assertThrows(() => pipe({ size }), RangeError);
      assertEquals(
        e.message,
        `pipe(): size must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got ${size}`,
      );
    }
  });
});

Deno.test("pipe() writer gets BrokenPipe once no reader is left", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    reader.close();
    const w = writer.writable.getWriter();
    const e = await assertRejects(
      () => w.write(new Uint8Array(10)),
      Deno.errors.BrokenPipe,
    );
    assertMatch(e.message, /EPIPE/);
    assertMatch(e.message, /pipe write end/);
  });
});

Deno.test("pipe() handles: close is idempotent, reads after close fail with BadResource", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    assert(reader.fd >= 0 && writer.fd >= 0);
    reader.close();
    reader.close();
    writer[Symbol.dispose]();
    writer[Symbol.dispose]();
    assertEquals(reader.fd, -1);
    await assertRejects(
      () => reader.readable.getReader().read(),
      Deno.errors.BadResource,
    );
  });
});

Deno.test("pipe() close() interrupts a pending read without leaving a thread parked", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const read = reader.readable.getReader().read();
    assert(await isPending(read));
    reader.close();
    await assertRejects(
      () => within(read, 5000, "read"),
      Deno.errors.BadResource,
    );
    writer.close();
  });
});

Deno.test("pipe() cancelling the readable closes the fd", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const r = reader.readable.getReader();
    const pending = r.read();
    await r.cancel();
    assert((await pending).done);
    writer.close();
  });
});

Deno.test("pipe() writable rejects non-Uint8Array and detached chunks", async () => {
  await assertNoFdLeak(async () => {
    for (const bad of ["text", null, new ArrayBuffer(4)]) {
      const { reader, writer } = pipe();
      const w = writer.writable.getWriter();
      await assertRejects(() => w.write(bad as never), TypeError);
      reader.close();
    }
    const { reader, writer } = pipe();
    const chunk = new Uint8Array(8);
    structuredClone(chunk.buffer, { transfer: [chunk.buffer] });
    const e = await assertRejects(
      () => writer.writable.getWriter().write(chunk),
      TypeError,
    );
    assertMatch(e.message, /detached/);
    reader.close();
  });
});

Deno.test("pipe() carries 32 MiB through cat with a matching checksum", async () => {
  await assertNoFdLeak(async () => {
    const data = randomBytes(32 << 20);
    const child = spawn("cat", { stdin: "piped", stdout: "piped" });
    const w = child.stdin.getWriter();
    const writing = (async () => {
      for (let off = 0; off < data.length; off += 100_000) {
        await w.write(data.subarray(off, off + 100_000));
      }
      await w.close();
    })();
    const out = await within(readAll(child.stdout), 60_000, "cat transfer");
    await writing;
    assertEquals((await child.status).code, 0);
    assertEquals(out.length, data.length);
    assertEquals(await sha256(out), await sha256(data));
  });
});

Deno.test("PipeWriter.fromFd(3) in a Deno child: 16 MiB with a checksum", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe({ size: 1 << 20 });
    const child = spawn(Deno.execPath(), {
      args: denoArgs(fixture("pipe_writer_fd3.ts"), String(16 << 20)),
      fds: { 3: writer },
      stdout: "piped",
    });
    assertEquals(writer.fd, -1, "the write end was handed over");
    const [bytes, out] = await within(
      Promise.all([readAll(reader.readable), child.output()]),
      60_000,
      "child transfer",
    );
    assertEquals(out.code, 0);
    assertEquals(bytes.length, 16 << 20);
    assertEquals(await sha256(bytes), dec.decode(out.stdout).trim());
  });
});

Deno.test("PipeReader.fromFd(3) in a Deno child reads what the parent writes", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const child = spawn(Deno.execPath(), {
      args: denoArgs(fixture("pipe_reader_stdin.ts")),
      fds: { 3: reader },
      stdout: "piped",
    });
    const data = randomBytes(3 << 20);
    const w = writer.writable.getWriter();
    await w.write(data);
    await w.close();
    const out = await within(child.output(), 60_000, "child");
    assertEquals(
      dec.decode(out.stdout).trim(),
      `${data.length} ${await sha256(data)}`,
    );
  });
});

Deno.test("PipeReader.fromFd() / PipeWriter.fromFd() reject what is not the right pipe end", async () => {
  await assertNoFdLeak(() => {
    assertThrows(
      () => PipeReader.fromFd(-1),
      TypeError,
      "non-negative integer",
    );
    assertThrows(() => PipeReader.fromFd(1.5), TypeError);
    assertThrows(() => PipeReader.fromFd(987654), Deno.errors.BadResource);
    const { reader, writer } = pipe();
    const e = assertThrows(() => PipeWriter.fromFd(reader.fd), TypeError);
    assertMatch(e.message, /read end/);
    assertThrows(() => PipeReader.fromFd(writer.fd), TypeError, "write end");
    reader.close();
    writer.close();
  });
  // A regular file is not a pipe.
  const file = Deno.openSync(Deno.execPath());
  try {
    const fds = [...Deno.readDirSync("/proc/self/fd")].map((e) =>
      Number(e.name)
    );
    const fileFd = fds.find((fd) => {
      try {
        return Deno.readLinkSync(`/proc/self/fd/${fd}`) ===
          Deno.realPathSync(Deno.execPath());
      } catch {
        return false;
      }
    });
    if (fileFd !== undefined) {
      const e = assertThrows(() => PipeReader.fromFd(fileFd), TypeError);
      assertMatch(e.message, /is a file, not a pipe/);
    }
  } finally {
    file.close();
  }
});

Deno.test("spawn() runs a program and reports its exit", async (t) => {
  await t.step("output and exit code", async () => {
    const out = await spawn("sh", {
      args: ["-c", "echo out; echo err >&2; exit 3"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 3);
    assertEquals(out.success, false);
    assertEquals(out.signal, null);
    assertEquals(dec.decode(out.stdout), "out\n");
    assertEquals(dec.decode(out.stderr), "err\n");
  });
  await t.step(
    "env adds to the inherited environment; clearEnv starts empty",
    async () => {
      const added = await spawn("sh", {
        args: ["-c", 'echo "$PIPC_X:$HOME"'],
        env: { PIPC_X: "42" },
        stdout: "piped",
      }).output();
      assertEquals(
        dec.decode(added.stdout),
        `42:${Deno.env.get("HOME") ?? ""}\n`,
      );
      const cleared = await spawn("/usr/bin/env", {
        clearEnv: true,
        env: { ONLY: "1" },
        stdout: "piped",
      }).output();
      assertEquals(dec.decode(cleared.stdout), "ONLY=1\n");
    },
  );
  await t.step("cwd", async () => {
    using dir = tempDir();
    const out = await spawn("pwd", { cwd: dir.path, stdout: "piped" }).output();
    assertEquals(dec.decode(out.stdout).trim(), Deno.realPathSync(dir.path));
  });
  await t.step('"null" stdio reads EOF and discards output', async () => {
    const out = await spawn("sh", {
      args: ["-c", "cat; echo gone"],
      stdin: "null",
      stdout: "null",
    }).status;
    assertEquals(out.code, 0);
  });
  await t.step("stdin piped: wc -c counts what we write", async () => {
    const child = spawn("wc", {
      args: ["-c"],
      stdin: "piped",
      stdout: "piped",
    });
    const w = child.stdin.getWriter();
    await w.write(new Uint8Array(12345));
    await w.close();
    assertEquals(dec.decode((await child.output()).stdout).trim(), "12345");
  });
  await t.step("stdio getters throw TypeError when not piped", () => {
    const child = spawn("true");
    assertThrows(() => child.stdin, TypeError, "stdin is not piped");
    assertThrows(() => child.stdout, TypeError, "stdout is not piped");
    assertThrows(() => child.stderr, TypeError, "stderr is not piped");
    return child.status.then(() => {});
  });
});

Deno.test("spawn() children start with default signal dispositions and an empty mask", async () => {
  const out = await spawn("sh", {
    args: ["-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status"],
    stdout: "piped",
  }).output();
  const text = dec.decode(out.stdout);
  const field = (name: string) =>
    BigInt("0x" + text.match(new RegExp(`${name}:\\s+([0-9a-f]+)`))![1]);
  assertEquals(field("SigBlk"), 0n);
  // Deno ignores SIGPIPE; the child must not inherit that. (glibc keeps its
  // two internal real-time signals, 32 and 33, ignored in spawned children.)
  assertEquals(field("SigIgn") & 0x7fffffffn, 0n);
});

Deno.test("spawn() child writing to a closed pipe dies of SIGPIPE", async () => {
  await assertNoFdLeak(async () => {
    const child = spawn("yes", { stdout: "piped" });
    const r = child.stdout.getReader();
    await r.read();
    await r.cancel();
    const status = await within(child.status, 10_000, "yes");
    assertEquals(status.signal, "SIGPIPE");
    assertEquals(status.code, 128 + 13);
  });
});

const LIST_FDS_C = `
#include <fcntl.h>
#include <stdio.h>
int main(void) {
  for (int fd = 0; fd < 4096; fd++) if (fcntl(fd, F_GETFD) != -1) printf("%d ", fd);
  return 0;
}
`;

gcc.test("spawn() gives the child only fds 0-2 and the mapped ones", async () => {
  const listFds = await compileC("list_fds", LIST_FDS_C);
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const extra = pipe();
    const out = await spawn(listFds, {
      stdout: "piped",
      fds: { 5: writer, 7: extra.reader },
    }).output();
    assertEquals(dec.decode(out.stdout).trim(), "0 1 2 5 7");
    reader.close();
    extra.writer.close();
  });
});

Deno.test("spawn() fds: handed-over pipe ends give EOF when the child exits", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const child = spawn("sh", {
      args: ["-c", "echo one >&3; echo two >&3"],
      fds: { 3: writer },
    });
    assertEquals(writer.fd, -1);
    assertEquals(
      dec.decode(await within(readAll(reader.readable), 10_000, "EOF")),
      "one\ntwo\n",
    );
    await child.status;
  });
});

Deno.test("spawn() fds: swapped targets do not clobber each other", async () => {
  await assertNoFdLeak(async () => {
    const a = pipe();
    const b = pipe();
    // a.writer → fd 4 and b.writer → fd 3, whatever numbers they have here.
    const child = spawn("sh", {
      args: ["-c", "echo A >&4; echo B >&3"],
      fds: { 4: a.writer, 3: b.writer },
    });
    assertEquals(dec.decode(await readAll(a.reader.readable)), "A\n");
    assertEquals(dec.decode(await readAll(b.reader.readable)), "B\n");
    await child.status;
  });
});

Deno.test("spawn() fds: a raw fd number stays open in the parent", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const raw = writer.fd;
    await spawn("sh", { args: ["-c", "echo raw >&3"], fds: { 3: raw } }).status;
    assertEquals(writer.fd, raw, "not handed over");
    writer.close();
    assertEquals(dec.decode(await readAll(reader.readable)), "raw\n");
  });
});

Deno.test("spawn() stdout to a pipe end connects two children", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const producer = spawn("printf", { args: ["x\\ny\\n"], stdout: writer });
    const consumer = spawn("wc", {
      args: ["-l"],
      stdin: reader,
      stdout: "piped",
    });
    const out = await consumer.output();
    assertEquals(dec.decode(out.stdout).trim(), "2");
    assertEquals((await producer.status).code, 0);
  });
});

Deno.test("spawn() kill() and abort", async (t) => {
  await t.step("kill() with a signal", async () => {
    const child = spawn("sleep", { args: ["30"] });
    assertEquals(child.kill("SIGKILL"), true, "the signal was sent");
    const status = await within(child.status, 10_000, "sleep");
    assertEquals(status, { success: false, code: 137, signal: "SIGKILL" });
    // An exited child is not an error: nothing is sent, the result says so.
    assertEquals(child.kill(), false);
    assertEquals(child.kill("SIGKILL"), false);
    // A bad signal name is still a TypeError, exited child or not.
    assertThrows(
      () => child.kill("SIGNOPE" as Deno.Signal),
      TypeError,
      'unknown signal "SIGNOPE"',
    );
  });
  await t.step(
    "kill() with an unknown signal lists the valid ones",
    async () => {
      const child = spawn("sleep", { args: ["30"] });
      const e = assertThrows(
        () => child.kill("SIGNOPE" as Deno.Signal),
        TypeError,
      );
      assertMatch(e.message, /unknown signal "SIGNOPE".*SIGTERM/);
      child.kill();
      await child.status;
    },
  );
  await t.step("aborting the signal terminates the child", async () => {
    const controller = new AbortController();
    const child = spawn("sleep", { args: ["30"], signal: controller.signal });
    controller.abort();
    assertEquals(
      (await within(child.status, 10_000, "sleep")).signal,
      "SIGTERM",
    );
  });
  await t.step("an aborted signal refuses to start", () => {
    assertThrows(
      () => spawn("true", { signal: AbortSignal.abort() }),
      DOMException,
    );
  });
  await t.step("await using kills and reaps", async () => {
    let pid = 0;
    {
      await using child = spawn("sleep", { args: ["30"] });
      pid = child.pid;
    }
    assertThrows(() => Deno.kill(pid, "SIGCONT"));
  });
});

Deno.test("spawn() error paths", async (t) => {
  await t.step("a missing program is NotFound naming it", () => {
    const e = assertThrows(
      () => spawn("pipc-no-such-program"),
      Deno.errors.NotFound,
    );
    assertEquals(
      e.message,
      'spawn(): cannot spawn "pipc-no-such-program": ENOENT (no such file or directory)',
    );
  });
  await t.step("a missing cwd is NotFound naming it", () => {
    const e = assertThrows(
      () => spawn("true", { cwd: "/pipc/no/such/dir" }),
      Deno.errors.NotFound,
    );
    assertMatch(e.message, /working directory "\/pipc\/no\/such\/dir"/);
  });
  await t.step("a non-executable file is PermissionDenied", () => {
    using dir = tempDir();
    Deno.writeTextFileSync(`${dir.path}/script`, "#!/bin/sh\necho hi\n");
    Deno.chmodSync(`${dir.path}/script`, 0o644);
    const e = assertThrows(
      () => spawn(`${dir.path}/script`),
      Deno.errors.PermissionDenied,
    );
    assertMatch(e.message, /EACCES/);
  });
  await t.step("bad options are TypeErrors naming the option", () => {
    const cases: [unknown, RegExp][] = [
      [{ stdout: "pipe" }, /stdout must be "piped", "inherit", "null"/],
      [{ stdin: 1.5 }, /stdin must be a non-negative integer fd/],
      [{ args: "x" }, /args must be an array of strings/],
      [{ args: [1] }, /args must be an array of strings/],
      [{ env: { A: 1 } }, /env entry "A"/],
      [{ env: "A=1" }, /env must be a record/],
      [{ clearEnv: "yes" }, /clearEnv must be a boolean/],
      [
        { fds: { 3: "x" } },
        /^spawn\(\): fds\[3\] must be an fd number, a handle with an fd, or \{ path \}, got "x"$/,
      ],
      // An extra fd cannot be "piped": the message must not say it can.
      [
        { fds: { 3: "piped" } },
        /^spawn\(\): fds\[3\] must be an fd number, a handle with an fd, or \{ path \}, got "piped"$/,
      ],
      [
        { stdout: true },
        /^spawn\(\): stdout must be "piped", "inherit", "null", an fd number, a handle with an fd, or \{ path \}, got true$/,
      ],
      [{ cwd: 5 }, /cwd/],
    ];
    for (const [options, message] of cases) {
      const e = assertThrows(() => spawn("true", options as never), TypeError);
      assertMatch(e.message, message);
    }
    assertThrows(
      () => spawn(42 as never),
      TypeError,
      "command must be a string",
    );
    assertThrows(() => spawn("true", { args: ["a\0b"] }), TypeError, "NUL");
  });
  await t.step("fds keys below 3 are RangeErrors", () => {
    assertThrows(
      () => spawn("true", { fds: { 2: 1 } }),
      RangeError,
      "from 3 to 65535",
    );
  });
  await t.step("a closed handle is BadResource", () => {
    const { reader, writer } = pipe();
    writer.close();
    assertThrows(
      () => spawn("true", { stdout: writer }),
      Deno.errors.BadResource,
      "closed",
    );
    reader.close();
  });
  await t.step("a failed spawn keeps the handles it was given", () => {
    const { reader, writer } = pipe();
    assertThrows(
      () => spawn("pipc-no-such-program", { stdout: writer }),
      Deno.errors.NotFound,
    );
    assert(writer.fd >= 0, "still ours");
    reader.close();
    writer.close();
  });
});

Deno.test("pipeline() connects stages with kernel pipes", async (t) => {
  await t.step("three stages, stdin and stdout piped", async () => {
    await assertNoFdLeak(async () => {
      const p = pipeline([["cat"], ["tr", "a-z", "A-Z"], ["wc", "-c"]], {
        stdin: "piped",
        stdout: "piped",
      });
      assertEquals(p.pids.length, 3);
      const w = p.stdin.getWriter();
      await w.write(enc.encode("hello pipeline"));
      await w.close();
      assertEquals(dec.decode(await readAll(p.stdout)).trim(), "14");
      assertEquals((await p.status).map((s) => s.code), [0, 0, 0]);
    });
  });
  await t.step("the shell's ls | wc -l", async () => {
    using dir = tempDir();
    for (const n of ["a", "b", "c", "d"]) {
      Deno.writeTextFileSync(`${dir.path}/${n}`, "");
    }
    const p = pipeline([["ls", dir.path], ["wc", "-l"]], { stdout: "piped" });
    assertEquals(dec.decode(await readAll(p.stdout)).trim(), "4");
    await p.status;
  });
  await t.step("yes | head -n 1: yes dies of SIGPIPE", async () => {
    const p = pipeline([["yes"], ["head", "-n", "1"]], { stdout: "piped" });
    assertEquals(dec.decode(await readAll(p.stdout)), "y\n");
    const [yes, head] = await within(p.status, 10_000, "yes | head");
    assertEquals(yes!.signal, "SIGPIPE");
    assertEquals(head!.success, true);
  });
  await t.step("stderr piped is shared by every stage", async () => {
    const p = pipeline([["sh", "-c", "echo one >&2; echo x"], [
      "sh",
      "-c",
      "cat >/dev/null; echo two >&2",
    ]], {
      stderr: "piped",
      stdout: "null",
    });
    const text = dec.decode(await readAll(p.stderr));
    assertEquals(text.split("\n").filter(Boolean).sort(), ["one", "two"]);
    await p.status;
  });
  await t.step(
    "a missing stage throws NotFound naming the stage and leaks nothing",
    async () => {
      await assertNoFdLeak(() => {
        const e = assertThrows(
          () =>
            pipeline([["cat"], ["pipc-no-such-program"]], {
              stdin: "piped",
              stdout: "piped",
            }),
          Deno.errors.NotFound,
        );
        assertMatch(e.message, /stage 1 \("pipc-no-such-program"\)/);
      });
    },
  );
  await t.step("kill() and abort", async () => {
    const p = pipeline([["sleep", "30"], ["sleep", "30"]]);
    p.kill("SIGKILL");
    assertEquals((await p.status).map((s) => s.signal), ["SIGKILL", "SIGKILL"]);
    const c = new AbortController();
    const q = pipeline([["sleep", "30"], ["cat"]], {
      signal: c.signal,
      stdin: "null",
    });
    c.abort();
    assertEquals((await q.status)[0]!.signal, "SIGTERM");
  });
  await t.step("bad commands are TypeErrors", () => {
    const notAList =
      /^pipeline\(\): commands must be a non-empty array of \[program, \.\.\.args\] arrays or stage objects, got /;
    const badStage =
      /^pipeline\(\): stage 0 must be a non-empty array of strings or a stage object$/;
    const cases: [unknown, RegExp][] = [
      [[], notAList],
      ["ls", notAList],
      [[[]], badStage],
      [[["ls", 1]], badStage],
      [
        ["ls"],
        /^pipeline\(\): stage 0 must be an array or a stage object, got "ls"$/,
      ],
      [
        [{ args: ["x"] }],
        /^pipeline\(\): stage 0: command must be a string or a file: URL, got undefined$/,
      ],
    ];
    for (const [bad, message] of cases) {
      const e = assertThrows(() => pipeline(bad as never), TypeError);
      assertMatch(e.message, message);
    }
  });
});

Deno.test("spawn() leaks no fds across many children", async () => {
  await assertNoFdLeak(async () => {
    for (let i = 0; i < 50; i++) {
      const out = await spawn("echo", {
        args: [String(i)],
        stdout: "piped",
        stderr: "piped",
        stdin: "piped",
      })
        .output();
      assertEquals(dec.decode(out.stdout), `${i}\n`);
    }
  });
  assertInstanceOf(spawn, Function);
});
