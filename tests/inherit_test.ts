// Copyright 2026 the posix-ipc authors. MIT license.

import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import { mkfifo, openFifo } from "../fifo/mod.ts";
import { pipe, PipeReader, PipeWriter, spawn } from "../pipe/mod.ts";
import { SharedMemory } from "../shm/mod.ts";
import {
  connect,
  framed,
  listenFds,
  SocketEnd,
  socketPair,
  UnixDatagram,
} from "../socket/mod.ts";
import { needs, waitingFor } from "./_harness.ts";
import {
  assertNoFdLeak,
  denoArgs,
  readUntil,
  tempDir,
  within,
} from "./_helpers.ts";

const python3 = needs("python3");

const enc = new TextEncoder();
const dec = new TextDecoder();
const fixture = new URL("./fixtures/inherit_child.ts", import.meta.url);

Deno.test("inheritedFds() in a Deno child lists each kind the parent mapped", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const { reader, writer } = pipe();
    const [here, there] = socketPair();
    using memfd = SharedMemory.anonymous(4096);
    using file = SharedMemory.fromFile(`${dir.path}/file`, {
      create: true,
      size: 10,
    });
    await mkfifo(`${dir.path}/fifo`);
    const fifo = await openFifo(`${dir.path}/fifo`, {
      read: true,
      write: true,
    });
    using dgram = UnixDatagram.unbound();
    const out = await spawn(Deno.execPath(), {
      args: denoArgs(fixture, "list"),
      fds: { 3: reader, 4: there, 5: memfd, 6: fifo, 7: file, 8: dgram },
      stdout: "piped",
    }).output();
    const list = JSON.parse(dec.decode(out.stdout));
    const summary = list.map((
      f: {
        fd: number;
        kind: string;
        socket?: { type: string; domain: string };
      },
    ) =>
      `${f.fd}:${f.kind}${
        f.socket ? `/${f.socket.type}/${f.socket.domain}` : ""
      }`
    );
    assertEquals(summary, [
      "3:pipe",
      "4:socket/stream/unix",
      "5:memfd",
      "6:fifo",
      "7:file",
      "8:socket/datagram/unix",
    ]);
    assertEquals(list[0].readable, true);
    assertEquals(list[0].writable, false);
    writer.close();
    here.close();
  });
});

Deno.test("fromFd(): a Deno child adopts a pipe, a socket, a memfd, a FIFO and a datagram socket", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const { reader, writer } = pipe();
    const [here, there] = socketPair();
    using memfd = SharedMemory.anonymous(4096);
    await mkfifo(`${dir.path}/fifo`);
    const fifoRead = openFifo(`${dir.path}/fifo`, { read: true });
    const fifoWrite = await openFifo(`${dir.path}/fifo`, { write: true });
    const fifo = await fifoRead;
    using dgram = UnixDatagram.bind(`${dir.path}/dgram`);
    using sender = UnixDatagram.unbound();
    await sender.send(enc.encode("d"), dgram.path!);
    const child = spawn(Deno.execPath(), {
      args: denoArgs(fixture, "adopt"),
      fds: { 3: reader, 4: there, 5: memfd, 6: fifo, 7: dgram },
    });
    const w = writer.writable.getWriter();
    await w.write(enc.encode("p"));
    await w.close();
    const fw = fifoWrite.writable.getWriter();
    await fw.write(enc.encode("f"));
    await fw.close();
    const reply = await within(
      new Response(here.readable).text(),
      30_000,
      "child reply",
    );
    assertEquals(reply, "pipe=p fifo=f dgram=d left=0");
    here.close();
    assertEquals((await child.status).code, 0);
    assertEquals(dec.decode(new Uint8Array(memfd.buffer, 0, 6)), "shm ok");
  });
});

Deno.test("fromFd(): the wrong kind is a TypeError naming what the fd is", async () => {
  await assertNoFdLeak(() => {
    const { reader, writer } = pipe();
    const [a, b] = socketPair();
    using dgram = UnixDatagram.unbound();
    const cases: [() => unknown, RegExp][] = [
      [() => SocketEnd.fromFd(reader.fd), /fd \d+ is a fifo, not a socket/],
      [
        () => UnixDatagram.fromFd(a.fd),
        /is a stream socket, not a datagram socket/,
      ],
      [
        () => SocketEnd.fromFd(dgram.fd),
        /is a datagram socket, not a stream socket/,
      ],
      [() => PipeWriter.fromFd(a.fd), /is a socket, not a pipe/],
      [() => PipeReader.fromFd(writer.fd), /is the write end/],
      [() => SharedMemory.fromFd(b.fd), /is a socket, not shared memory/],
      [() => SocketEnd.fromFd(-3), /non-negative integer/],
    ];
    for (const [adopt, message] of cases) {
      const e = assertThrows(adopt, TypeError);
      assertMatch(e.message, message);
    }
    assertThrows(() => SocketEnd.fromFd(987654), Deno.errors.BadResource);
    for (const h of [reader, writer, a, b]) h.close();
  });
});

/** A tiny service manager: a listening socket at fd 3, then exec Deno (same pid). */
const PY_ACTIVATE = `
import os, socket, sys
path, listen_pid, deno, *args = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(8)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)  # dup2(3, 3) is a no-op when the socket already is fd 3
env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="api",
           LISTEN_PID=str(os.getpid()) if listen_pid == "self" else listen_pid)
os.execve(deno, [deno, *args], env)
`;

python3.test("listenFds(): socket activation is honoured for this pid, ignored for another", async (t) => {
  using dir = tempDir();
  await t.step(
    "LISTEN_PID is ours: serve framed requests on fd 3",
    async () => {
      const path = `${dir.path}/api.sock`;
      const service = new Deno.Command("python3", {
        args: [
          "-c",
          PY_ACTIVATE,
          path,
          "self",
          Deno.execPath(),
          ...denoArgs(fixture, "activated"),
        ],
        stdout: "piped",
      }).spawn();
      const lines = service.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      const said = await readUntil(lines, "\n");
      assertEquals(
        said.trim(),
        "1 api unset",
        "one listener named api; environment unset",
      );
      const { readable, writable } = framed(
        await connect({ path, timeout: 5000 }),
      );
      const w = writable.getWriter();
      await w.write(enc.encode("activated"));
      await w.close();
      assertEquals(
        (await Array.fromAsync(readable)).map((m) => dec.decode(m)),
        ["detavitca"],
      );
      await lines.cancel();
      assertEquals(
        (await within(service.status, 15_000, "service exit")).code,
        0,
      );
    },
  );
  await t.step(
    "LISTEN_PID is another process: nothing is adopted",
    async () => {
      const out = await waitingFor(
        "the Python activator",
        new Deno.Command("python3", {
          args: [
            "-c",
            PY_ACTIVATE,
            `${dir.path}/other.sock`,
            "1",
            Deno.execPath(),
            ...denoArgs(fixture, "count"),
          ],
          stdout: "piped",
        }).output(),
      );
      assertEquals(dec.decode(out.stdout).trim(), "0");
    },
  );
  await t.step("no variables: an empty list", () => {
    assertEquals(listenFds(), []);
  });
});
