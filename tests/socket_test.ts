// Copyright 2026 the posix-ipc authors. MIT license.

import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { pipe, PipeWriter } from "../pipe/mod.ts";
import { spawn } from "../pipe/mod.ts";
import {
  connect,
  framed,
  listen,
  type SocketEnd,
  socketPair,
  UnixDatagram,
} from "../socket/mod.ts";
import { needs, waitingFor } from "./_harness.ts";
import {
  assertNoFdLeak,
  denoArgs,
  isPending,
  listDir,
  PYTHON,
  randomBytes,
  readUntil,
  ROOT,
  scriptFile,
  sha256,
  tempDir,
  waitForPath,
  within,
} from "./_helpers.ts";

const python3 = needs("python3");
const socat = needs("socat");
// A Python client running as uid 65534: setpriv, as root.
const otherUser = needs("python3", "setpriv", "root");

const enc = new TextEncoder();
const dec = new TextDecoder();
const fixture = (name: string) =>
  new URL(`./fixtures/${name}`, import.meta.url);

/** A Python peer run with `python3 -c`, stdout piped. */
function python(code: string, ...args: string[]) {
  return new Deno.Command("python3", {
    args: ["-c", code, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Random messages of sizes 0..max, with several empty ones. */
function randomMessages(count: number, max: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    if (i % 37 === 0) return new Uint8Array(0);
    const size = Math.floor(Math.random() ** 3 * max);
    return randomBytes(size);
  });
}

const PY_FRAMED_ECHO_SERVER = `
import os, socket, struct, sys
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path); srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
def recv_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk: return None
        buf += chunk
    return buf
count = 0
while True:
    header = recv_exact(4)
    if header is None: break
    (n,) = struct.unpack(">I", header)
    body = recv_exact(n) if n else b""
    conn.sendall(struct.pack(">I", n) + body[::-1])
    count += 1
conn.shutdown(socket.SHUT_WR)
conn.close(); srv.close(); os.unlink(path)
print("served", count, flush=True)
`;

python3.test("framed() over a Unix socket speaks the wire format with a Python peer", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/py.sock`;
    const server = python(PY_FRAMED_ECHO_SERVER, path);
    // Connect once it listens (it says "ready" after listen()): a socket
    // file that is bound but not yet listening refuses connections.
    const stdout = server.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let said = await readUntil(stdout, "\n");
    assertEquals(said, "ready\n");
    const conn = await connect({ path });
    const { readable, writable } = framed(conn);
    const messages = randomMessages(320, 100_000);
    const w = writable.getWriter();
    const sending = (async () => {
      for (const m of messages) await w.write(m);
      await w.close(); // half-close: Python sees EOF, replies still flow
    })();
    const replies = await within(Array.fromAsync(readable), 60_000, "replies");
    await sending;
    assertEquals(replies.length, messages.length);
    for (const [i, m] of messages.entries()) {
      assertEquals(
        replies[i],
        m.slice().reverse(),
        `message ${i} (${m.length} bytes)`,
      );
    }
    for (;;) {
      const { value, done } = await within(stdout.read(), 30_000, "stdout");
      if (done) break;
      said += value;
    }
    const stderr = await within(
      new Response(server.stderr).text(),
      30_000,
      "stderr",
    );
    assertEquals((await within(server.status, 30_000, "exit")).code, 0, stderr);
    assertEquals(said, `ready\nserved ${messages.length}\n`);
  });
});

python3.test("framed() serves a Python client from listen(): read all requests, then reply", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/srv.sock`;
    using listener = listen({ path });
    const client = python(
      `
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
for m in [b"alpha", b"", b"gamma" * 1000]:
    s.sendall(struct.pack(">I", len(m)) + m)
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
(n,) = struct.unpack(">I", data[:4])
print(n, data[4:4 + n].decode())
`,
      path,
    );
    const conn = await listener.accept();
    const { readable, writable } = framed(conn);
    // Read every request to the end first (the client half-closed) ...
    const requests = await Array.fromAsync(readable);
    // ... and still reply: the connection is only half-closed.
    const w = writable.getWriter();
    await w.write(enc.encode(requests.map((r) => r.length).join(",")));
    await w.close();
    const out = await within(client.output(), 30_000, "python client");
    assertEquals(dec.decode(out.stdout), "8 5,0,5000\n");
  });
});

Deno.test("framed() carries 300+ random messages over a socket pair, including empty ones", async () => {
  await assertNoFdLeak(async () => {
    const [a, b] = socketPair();
    const messages = randomMessages(400, 200_000);
    const fa = framed(a);
    const fb = framed(b);
    const w = fa.writable.getWriter();
    const sending = (async () => {
      for (const m of messages) await w.write(m);
      await w.close();
    })();
    const got = await within(Array.fromAsync(fb.readable), 60_000, "receive");
    await sending;
    assertEquals(got.length, messages.length);
    assertEquals(await sha256(concat(got)), await sha256(concat(messages)));
    assertEquals(got.map((m) => m.length), messages.map((m) => m.length));
    fa.readable.cancel();
    fb.writable.close();
  });
});

Deno.test("framed() over a pipe and over a default (non-BYOB) stream", async () => {
  await assertNoFdLeak(async () => {
    const { reader, writer } = pipe();
    const out = framed(writer);
    const receiving = Array.fromAsync(framed(reader).readable);
    const w = out.writable.getWriter();
    await w.write(enc.encode("over a pipe"));
    await w.write(new Uint8Array(100_000).fill(9)); // more than the pipe holds
    await w.close();
    const got = await within(receiving, 10_000, "pipe messages");
    assertEquals(dec.decode(got[0]), "over a pipe");
    assertEquals(got[1]!.length, 100_000);
  });
  // A plain ReadableStream delivering the frames in odd pieces.
  const frames = new Uint8Array([
    0,
    0,
    0,
    3,
    1,
    2,
    3,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    7,
  ]);
  const pieces = [
    frames.slice(0, 2),
    frames.slice(2, 5),
    frames.slice(5, 14),
    frames.slice(14),
  ];
  const stream = ReadableStream.from(pieces);
  const got = await Array.fromAsync(framed({ readable: stream }).readable);
  assertEquals(got, [
    new Uint8Array([1, 2, 3]),
    new Uint8Array(0),
    new Uint8Array([7]),
  ]);
});

Deno.test("framed() errors on an oversized length without allocating it", async (t) => {
  await t.step(
    "a 3 GB announcement with the default 16 MiB limit",
    async () => {
      const stream = ReadableStream.from([
        new Uint8Array([0xb2, 0xd0, 0x5e, 0x00]),
      ]);
      const e = await assertRejects(
        () => Array.fromAsync(framed({ readable: stream }).readable),
        RangeError,
      );
      assertMatch(
        e.message,
        /3000000000 bytes, over maxMessageSize \(16777216 bytes\)/,
      );
    },
  );
  await t.step(
    "a custom limit over a socket pair closes the channel",
    async () => {
      await assertNoFdLeak(async () => {
        const [a, b] = socketPair();
        const w = framed(a).writable.getWriter();
        await w.write(new Uint8Array(2000));
        const e = await assertRejects(
          () => Array.fromAsync(framed(b, { maxMessageSize: 1000 }).readable),
          RangeError,
        );
        assertMatch(
          e.message,
          /2000 bytes, over maxMessageSize \(1000 bytes\)/,
        );
        await w.close();
        a.close();
      });
    },
  );
  await t.step("the sender refuses messages over the limit", async () => {
    const [a, b] = socketPair();
    const w = framed(a, { maxMessageSize: 10 }).writable.getWriter();
    await assertRejects(
      () => w.write(new Uint8Array(11)),
      RangeError,
      "over maxMessageSize (10 bytes)",
    );
    a.close();
    b.close();
  });
  await t.step(
    "a stream ending inside a message is UnexpectedEof",
    async () => {
      const stream = ReadableStream.from([new Uint8Array([0, 0, 0, 9, 1, 2])]);
      await assertRejects(
        () => Array.fromAsync(framed({ readable: stream }).readable),
        Deno.errors.UnexpectedEof,
        "2 of 9 bytes",
      );
    },
  );
  await t.step("bad arguments", () => {
    assertThrows(() => framed(null as never), TypeError, "framed()");
    assertThrows(
      () => framed({}, { maxMessageSize: -1 }),
      RangeError,
      "maxMessageSize",
    );
    assertThrows(() => framed({}).readable, TypeError, "no readable side");
    assertThrows(() => framed({}).writable, TypeError, "no writable side");
  });
});

Deno.test("listen() replaces a stale socket file and refuses a live one", async (t) => {
  const py = python3.in(t);
  using dir = tempDir();
  const path = `${dir.path}/s.sock`;
  await py.step("stale: a socket file whose process is gone", async () => {
    // Python binds and exits without unlinking: the file stays, nobody listens.
    const out = await waitingFor(
      "the Python peer",
      python(
        "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)",
        path,
      ).output(),
    );
    assertEquals(out.code, 0);
    assert(Deno.statSync(path).isSocket);
    using listener = listen({ path });
    const client = await connect({ path });
    const server = await listener.accept();
    client.close();
    server.close();
  });
  await py.step("live: another process is listening", async () => {
    const server = python(
      "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); print('up', flush=True); time.sleep(60)",
      path,
    );
    // Wait until it listens (not just bound): read its "up" line.
    const lines = server.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    await readUntil(lines, "up");
    const e = assertThrows(() => listen({ path }), Deno.errors.AddrInUse);
    assertEquals(
      e.message,
      `listen(): a live stream socket is bound at ${JSON.stringify(path)}`,
    );
    assert(Deno.statSync(path).isSocket, "the live socket was not removed");
    server.kill("SIGKILL");
    await lines.cancel();
    await server.status;
  });
  await t.step("live: a listener of this process", () => {
    // The steps above leave a socket file there (when their peer was there).
    if (listDir(dir.path).includes("s.sock")) Deno.removeSync(path);
    using first = listen({ path });
    assertThrows(() => listen({ path }), Deno.errors.AddrInUse);
    void first;
  });
  await t.step("close() removes the socket file", () => {
    const listener = listen({ path });
    listener.close();
    listener.close();
    assertThrows(() => Deno.statSync(path), Deno.errors.NotFound);
  });
  await t.step("a regular file is never removed", () => {
    Deno.writeTextFileSync(path, "precious");
    const e = assertThrows(() => listen({ path }), Deno.errors.AlreadyExists);
    assertMatch(e.message, /is a file, not a socket/);
    assertEquals(Deno.readTextFileSync(path), "precious");
    Deno.removeSync(path);
  });
  await t.step("mode is applied to the socket file", () => {
    using listener = listen({ path, mode: 0o600 });
    assertEquals(Deno.statSync(path).mode! & 0o777, 0o600);
    void listener;
  });
  await t.step("bad options", () => {
    assertThrows(
      () => listen({ path: "x".repeat(200) }),
      RangeError,
      "fit in sockaddr_un",
    );
    assertThrows(() => listen({ path, mode: 0o10000 }), RangeError, "mode");
    assertThrows(() => listen({ port: 70000 }), RangeError, "port");
    assertThrows(
      () => listen({} as never),
      TypeError,
      "path (Unix) or a port (TCP)",
    );
    assertThrows(() => listen(null as never), TypeError);
  });
});

Deno.test("listen()/connect() over Unix and TCP, with socat as a peer", async (t) => {
  const [sc, py] = [socat.in(t), python3.in(t)];
  using dir = tempDir();
  await sc.step("socat client → our Unix listener", async () => {
    const path = `${dir.path}/socat.sock`;
    using listener = listen({ path });
    const client = new Deno.Command("sh", {
      args: ["-c", `printf 'from socat' | socat - UNIX-CONNECT:${path}`],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const conn = await within(listener.accept(), 30_000, "socat's connect");
    const text = dec.decode(
      new Uint8Array(
        await within(
          new Response(conn.readable).arrayBuffer(),
          30_000,
          "socat's bytes",
        ),
      ),
    );
    assertEquals(text, "from socat");
    await waitingFor("the peer's exit", client.output());
  });
  await t.step("TCP echo on a free port", async () => {
    using listener = listen({ port: 0, hostname: "127.0.0.1" });
    const { port } = listener.addr as Deno.NetAddr;
    const serving = (async () => {
      for await (const conn of listener) {
        await conn.readable.pipeTo(conn.writable);
        return;
      }
    })();
    const conn = await connect({ port, timeout: 5000 });
    const { readable, writable } = framed(conn);
    const w = writable.getWriter();
    await w.write(enc.encode("tcp"));
    await w.close();
    assertEquals((await Array.fromAsync(readable)).map((m) => dec.decode(m)), [
      "tcp",
    ]);
    await serving;
  });
  await py.step("connect() errors name the target", async () => {
    const e = await assertRejects(
      () => connect({ path: `${dir.path}/none.sock` }),
      Deno.errors.NotFound,
    );
    assertMatch(e.message, /none\.sock/);
    await waitingFor(
      "the Python peer",
      python(
        "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])",
        `${dir.path}/stale.sock`,
      ).output(),
    );
    await assertRejects(
      () => connect({ path: `${dir.path}/stale.sock` }),
      Deno.errors.ConnectionRefused,
    );
    await assertRejects(
      () => connect({ path: `${dir.path}/x`, signal: AbortSignal.abort() }),
      DOMException,
    );
    await assertRejects(() => connect({ port: 0 }), RangeError, "port");
    await assertRejects(
      () => connect({ path: "a", timeout: -1 }),
      RangeError,
      "timeout",
    );
    await assertRejects(() => connect({} as never), TypeError);
  });
});

Deno.test("socketPair() half-closes, passes fds and knows its peer", async (t) => {
  await t.step(
    "closeWrite(): EOF on the other side, this side still reads",
    async () => {
      await assertNoFdLeak(async () => {
        const [a, b] = socketPair();
        const w = a.writable.getWriter();
        await w.write(enc.encode("request"));
        w.releaseLock();
        a.closeWrite();
        assertEquals(
          dec.decode(
            new Uint8Array(await new Response(b.readable).arrayBuffer()),
          ),
          "request",
        );
        const bw = b.writable.getWriter();
        await bw.write(enc.encode("reply"));
        await bw.close();
        assertEquals(await new Response(a.readable).text(), "reply");
        assert(
          a.fd === -1 && b.fd === -1,
          "both ends released once both directions ended",
        );
      });
    },
  );
  await t.step("peerCredentials() is this process for a pair", () => {
    const [a, b] = socketPair();
    const cred = a.peerCredentials();
    assertEquals(cred.pid, Deno.pid);
    assertEquals(cred.uid, Deno.uid());
    assertEquals(cred.gid, Deno.gid());
    a.close();
    b.close();
    assertThrows(() => a.peerCredentials(), Deno.errors.BadResource);
  });
  await t.step("sendFds()/receiveFds() carry a pipe end", async () => {
    await assertNoFdLeak(async () => {
      const [a, b] = socketPair();
      const { reader, writer } = pipe();
      await a.sendFds(enc.encode("take this"), [writer, writer.fd]);
      writer.close();
      const got = await b.receiveFds();
      assertEquals(dec.decode(got!.data), "take this");
      assertEquals(got!.fds.length, 2);
      // Both received fds are write ends of the same pipe.
      for (const fd of got!.fds) {
        const info = Deno.readLinkSync(`/proc/self/fd/${fd}`);
        assertMatch(info, /^pipe:/);
      }
      const { PipeWriter } = await import("../pipe/mod.ts");
      const w1 = PipeWriter.fromFd(got!.fds[0]!);
      const w2 = PipeWriter.fromFd(got!.fds[1]!);
      const ww = w1.writable.getWriter();
      await ww.write(enc.encode("x"));
      await ww.close();
      w2.close();
      assertEquals(await new Response(reader.readable).text(), "x");
      a.close();
      assertEquals(await b.receiveFds(), null, "EOF");
      b.close();
    });
  });
  await t.step("sendFds() validation", async () => {
    const [a, b] = socketPair();
    await assertRejects(
      () => a.sendFds(new Uint8Array(0), [1]),
      RangeError,
      "at least one byte",
    );
    await assertRejects(
      () => a.sendFds(new Uint8Array(1), ["x" as never]),
      TypeError,
      "fds[0]",
    );
    await assertRejects(
      () => a.sendFds(new Uint8Array(1), new Array(300).fill(0)),
      RangeError,
      "at most 253",
    );
    await assertRejects(
      () => a.sendFds(new Uint8Array(1), [987654]),
      Deno.errors.BadResource,
    );
    await assertRejects(
      () => b.receiveFds({ maxBytes: 0 }),
      RangeError,
      "maxBytes",
    );
    a.close();
    b.close();
  });
  await t.step("receiveFds() can be aborted", async () => {
    const [a, b] = socketPair();
    const c = new AbortController();
    const pending = b.receiveFds({ signal: c.signal });
    c.abort(new Error("stop"));
    await assertRejects(() => within(pending, 5000, "abort"), Error, "stop");
    a.close();
    b.close();
  });
});

Deno.test("socketPair() end at fd 3 of a Deno child: framed echo", async () => {
  await assertNoFdLeak(async () => {
    const [here, there] = socketPair();
    const child = spawn(Deno.execPath(), {
      args: denoArgs(fixture("socket_child_fd3.ts"), "echo"),
      fds: { 3: there },
      stdout: "piped",
    });
    assertEquals(there.fd, -1, "handed over");
    const { readable, writable } = framed(here);
    const messages = randomMessages(50, 50_000);
    const w = writable.getWriter();
    // Send and receive at once: the child answers while we still send.
    const sending = (async () => {
      for (const m of messages) await w.write(m);
      await w.close();
    })();
    const replies = await within(
      Array.fromAsync(readable),
      60_000,
      "child echo",
    );
    await sending;
    const expected = messages.map((m) => m.slice().reverse());
    assertEquals(replies.map((r) => r.length), expected.map((m) => m.length));
    assertEquals(await sha256(concat(replies)), await sha256(concat(expected)));
    const out = await child.output();
    assertEquals(dec.decode(out.stdout).trim(), `echoed ${messages.length}`);
  });
});

Deno.test("socketPair() passes a pipe write end to a child, which writes into it", async () => {
  await assertNoFdLeak(async () => {
    const [here, there] = socketPair();
    const child = spawn(Deno.execPath(), {
      args: denoArgs(fixture("socket_child_fd3.ts"), "pipe"),
      fds: { 3: there },
    });
    const { reader, writer } = pipe();
    await here.sendFds(enc.encode("note"), [writer]);
    writer.close(); // the child holds the only write end now
    const text = await within(
      new Response(reader.readable).text(),
      30_000,
      "child write",
    );
    assertEquals(text, `hello from child ${child.pid} (note)`);
    assertEquals((await child.status).code, 0);
    here.close();
  });
});

python3.test("UnixDatagram keeps boundaries and replies to the sender's path (Python peer)", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const pyPath = `${dir.path}/py.dgram`;
    const peer = python(
      `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
for _ in range(3):
    data, addr = s.recvfrom(1 << 20)
    s.sendto(str(len(data)).encode(), addr)
s.close(); os.unlink(sys.argv[1])
`,
      pyPath,
    );
    await waitForPath(pyPath);
    using me = UnixDatagram.bind(`${dir.path}/me.dgram`);
    const sizes = [0, 5, 100_000];
    for (const size of sizes) await me.send(randomBytes(size), pyPath);
    const replies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const got = await within(me.receive(), 10_000, "reply");
      assertEquals(got.path, pyPath);
      replies.push(dec.decode(got.data));
    }
    assertEquals(replies, sizes.map(String));
    await waitingFor("the peer's exit", peer.output());
  });
});

python3.test("UnixDatagram receives what Python sends, whole", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    using me = UnixDatagram.bind(`${dir.path}/me.dgram`);
    const out = await waitingFor(
      "the Python peer",
      python(
        `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
for m in [b"one", b"", b"x" * 150000]:
    s.sendto(m, sys.argv[1])
`,
        me.path!,
        `${dir.path}/py.dgram`,
      ).output(),
    );
    assertEquals(out.code, 0, dec.decode(out.stderr));
    const reader = me.readable.getReader();
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await reader.read()).value!);
    reader.releaseLock();
    assertEquals(got.map((g) => g.data.length), [3, 0, 150000]);
    assertEquals(dec.decode(got[0]!.data), "one");
    assertEquals(got[0]!.path, `${dir.path}/py.dgram`);
  });
});

Deno.test("UnixDatagram size limits, timeouts, aborts and cleanup", async (t) => {
  const py = python3.in(t);
  using dir = tempDir();
  await t.step(
    "over maxMessageSize is reported with both sizes, and consumed",
    async () => {
      using rx = UnixDatagram.bind(`${dir.path}/rx`, { maxMessageSize: 100 });
      using tx = UnixDatagram.unbound();
      await tx.send(new Uint8Array(101), rx.path!);
      await tx.send(new Uint8Array(7), rx.path!);
      const e = await assertRejects(() => rx.receive(), RangeError);
      assertMatch(e.message, /101 bytes .* over maxMessageSize \(100 bytes\)/);
      const next = await rx.receive();
      assertEquals(next.data.length, 7);
      assertEquals(next.path, null, "unbound sender");
    },
  );
  await t.step(
    "a datagram too large for the socket is a RangeError naming its size",
    async () => {
      using rx = UnixDatagram.bind(`${dir.path}/rx2`);
      using tx = UnixDatagram.unbound();
      const e = await assertRejects(
        () => tx.send(new Uint8Array(64 << 20), rx.path!),
        RangeError,
      );
      assertMatch(e.message, /67108864 bytes is too large/);
    },
  );
  await t.step("timeouts and aborts consume nothing", async () => {
    await assertNoFdLeak(async () => {
      using rx = UnixDatagram.bind(`${dir.path}/rx3`);
      using tx = UnixDatagram.unbound();
      await assertRejects(
        () => rx.receive({ timeout: 30 }),
        Deno.errors.TimedOut,
      );
      const c = new AbortController();
      const pending = rx.receive({ signal: c.signal });
      c.abort(new Error("gave up"));
      await assertRejects(() => pending, Error, "gave up");
      await tx.send(enc.encode("after"), rx.path!);
      assertEquals(
        dec.decode((await rx.receive({ timeout: 5000 })).data),
        "after",
      );
    });
  });
  await py.step("send errors: nobody there, stale file", async () => {
    using tx = UnixDatagram.unbound();
    await assertRejects(
      () => tx.send(new Uint8Array(1), `${dir.path}/nobody`),
      Deno.errors.NotFound,
    );
    await waitingFor(
      "the Python peer",
      python(
        "import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])",
        `${dir.path}/stale`,
      ).output(),
    );
    await assertRejects(
      () => tx.send(new Uint8Array(1), `${dir.path}/stale`),
      Deno.errors.ConnectionRefused,
    );
    // bind() replaces the stale file.
    using again = UnixDatagram.bind(`${dir.path}/stale`);
    void again;
  });
  await t.step("a live path is refused; close() removes the file", () => {
    const a = UnixDatagram.bind(`${dir.path}/live`);
    assertThrows(
      () => UnixDatagram.bind(`${dir.path}/live`),
      Deno.errors.AddrInUse,
    );
    a.close();
    a.close();
    assertEquals(listDir(dir.path).includes("live"), false);
  });
  await t.step("fds travel with datagrams", async () => {
    await assertNoFdLeak(async () => {
      using rx = UnixDatagram.bind(`${dir.path}/fdrx`);
      using tx = UnixDatagram.unbound();
      const { reader, writer } = pipe();
      await tx.send(enc.encode("fd"), rx.path!, { fds: [reader] });
      reader.close();
      const got = await rx.receive();
      assertEquals(got.fds.length, 1);
      const { PipeReader } = await import("../pipe/mod.ts");
      const r = PipeReader.fromFd(got.fds[0]!);
      const w = writer.writable.getWriter();
      await w.write(enc.encode("through a datagram"));
      await w.close();
      assertEquals(await new Response(r.readable).text(), "through a datagram");
    });
  });
  await t.step("mode and bad input", () => {
    using s = UnixDatagram.bind(`${dir.path}/mode`, { mode: 0o620 });
    assertEquals(Deno.statSync(s.path!).mode! & 0o777, 0o620);
    assertThrows(() => UnixDatagram.bind(""), TypeError);
    assertThrows(
      () => UnixDatagram.bind(`${dir.path}/${"x".repeat(120)}`),
      RangeError,
    );
    assertThrows(
      () => UnixDatagram.bind(`${dir.path}/m2`, { maxMessageSize: -1 }),
      RangeError,
    );
  });
  await t.step("the dir is clean", () => {
    assertEquals(listDir(dir.path).filter((n) => n !== "stale"), []);
  });
});

/** Reads from `conn` up to and excluding the first newline. */
async function readLine(conn: SocketEnd): Promise<string> {
  const buffer = new Uint8Array(256);
  let text = "";
  while (!text.includes("\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`EOF after ${JSON.stringify(text)}`);
    text += dec.decode(buffer.subarray(0, n));
  }
  return text.slice(0, text.indexOf("\n"));
}

Deno.test("SocketListener's fd handed to worker processes: each adopts it with fromFd(3) and serves", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/workers.sock`;
    using listener = listen({ path });
    const workers = [0, 1, 2].map(() =>
      spawn(Deno.execPath(), {
        args: denoArgs(fixture("socket_child_fd3.ts"), "serve"),
        fds: { 3: listener },
        stdout: "piped",
      })
    );
    const outputs = workers.map((w) =>
      w.stdout.pipeThrough(new TextDecoderStream()).getReader()
    );
    const byPid = (a: number, b: number) => a - b;
    try {
      assert(listener.fd >= 0, "the parent keeps its copy of the listener");
      for (const [i, output] of outputs.entries()) {
        const line = await within(
          output.read(),
          30_000,
          `worker ${workers[i]!.pid} ready`,
        );
        assertEquals(line.value, "ready\n");
      }
      // Three connections held open at once. A worker serves one connection
      // at a time, so the three are served by three different workers.
      const conns: SocketEnd[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          conns.push(await connect({ path, timeout: 10_000 }));
        }
        const pids = await within(
          Promise.all(conns.map(readLine)),
          30_000,
          "each worker's pid",
        );
        assertEquals(
          pids.map(Number).sort(byPid),
          workers.map((w) => w.pid).sort(byPid),
          "each connection served by a different worker",
        );
      } finally {
        for (const conn of conns) conn.close();
      }
    } finally {
      for (const worker of workers) worker.kill("SIGTERM");
      for (const worker of workers) {
        const status = await within(worker.status, 10_000, "worker exit");
        assertEquals(status.signal, "SIGTERM");
      }
      for (const output of outputs) await output.cancel();
    }
    // The parent's copy still accepts once every worker is gone.
    const [client, server] = await within(
      Promise.all([
        connect({ path, timeout: 10_000 }),
        listener.accept({ timeout: 10_000 }),
      ]),
      20_000,
      "a connection to the parent's listener",
    );
    await client.write(enc.encode("still here"));
    client.close();
    assertEquals(
      await within(new Response(server.readable).text(), 10_000, "EOF"),
      "still here",
    );
    server.close();
  });
});

otherUser.test("peerCredentials() of a connection accepted from listen() reports a client of another uid", async () => {
  using dir = tempDir();
  Deno.chmodSync(dir.path, 0o755); // uid 65534 must reach the socket file
  const path = `${dir.path}/cred.sock`;
  using listener = listen({ path, mode: 0o666 });
  // python3, not deno: the deno cache under /root is not readable by uid 65534.
  const client = new Deno.Command("setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      PYTHON,
      "-c",
      `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(("%d %d %d" % (os.getpid(), os.geteuid(), os.getegid())).encode())
s.shutdown(socket.SHUT_WR)
s.recv(1)
`,
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    using conn = await listener.accept({ timeout: 30_000 });
    const cred = conn.peerCredentials();
    const said = await within(
      new Response(conn.readable).text(),
      30_000,
      "the client's ids",
    );
    const [pid, uid, gid] = said.split(" ").map(Number);
    assertEquals({ pid, uid, gid }, {
      pid: client.pid,
      uid: 65534,
      gid: 65534,
    });
    assertEquals(cred, { pid: client.pid, uid: 65534, gid: 65534 });
    conn.close(); // the client's recv() returns
    const out = await within(client.output(), 30_000, "the client's exit");
    assertEquals(out.code, 0, dec.decode(out.stderr));
  } catch (error) {
    try {
      client.kill("SIGKILL");
    } catch { /* exited */ }
    await client.status;
    throw error;
  }
});

Deno.test("sendFds()/receiveFds() over a connection from listen() and connect(), both ways", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/fds.sock`;
    using listener = listen({ path });
    const [client, server] = await within(
      Promise.all([
        connect({ path, timeout: 10_000 }),
        listener.accept({ timeout: 10_000 }),
      ]),
      20_000,
      "a connection",
    );
    using _client = client;
    using _server = server;
    for (
      const [from, to, what] of [[server, client, "accepted → connected"], [
        client,
        server,
        "connected → accepted",
      ]] as const
    ) {
      const { reader, writer } = pipe();
      const inode = Deno.readLinkSync(`/proc/self/fd/${writer.fd}`);
      const data = enc.encode(what);
      assertEquals(await from.sendFds(data, [writer]), data.length);
      writer.close();
      const got = await to.receiveFds({ timeout: 10_000 });
      assertEquals(dec.decode(got!.data), what);
      assertEquals(got!.fds.length, 1, what);
      assertEquals(
        Deno.readLinkSync(`/proc/self/fd/${got!.fds[0]}`),
        inode,
        `${what}: the same pipe`,
      );
      const w = PipeWriter.fromFd(got!.fds[0]!).writable.getWriter();
      await w.write(enc.encode(`through ${what}`));
      await w.close();
      assertEquals(
        await within(new Response(reader.readable).text(), 10_000, "the pipe"),
        `through ${what}`,
      );
    }
  });
});

Deno.test('connect({ hostname: "localhost", port }) resolves the name and connects', async () => {
  await assertNoFdLeak(async () => {
    using listener = listen({ port: 0, hostname: "127.0.0.1" });
    const { port } = listener.addr as Deno.NetAddr;
    const [client, server] = await within(
      Promise.all([
        connect({ hostname: "localhost", port, timeout: 10_000 }),
        listener.accept({ timeout: 10_000 }),
      ]),
      20_000,
      "a connection to localhost",
    );
    using _client = client;
    using _server = server;
    assertEquals(client.remoteAddr, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port,
    });
    assertEquals(server.localAddr, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port,
    });
    assertEquals(
      (server.remoteAddr as Deno.NetAddr).port,
      (client.localAddr as Deno.NetAddr).port,
    );
    client.setNoDelay();
    await client.write(enc.encode("hello"));
    client.closeWrite();
    assertEquals(
      await within(new Response(server.readable).text(), 10_000, "EOF"),
      "hello",
    );
  });
});

Deno.test("connect() timeout and abort while the listener's backlog is full", async (t) => {
  using dir = tempDir();
  const path = `${dir.path}/full.sock`;
  for (
    const [kind, make] of [
      ["Unix", () => listen({ path, backlog: 0 })],
      ["TCP", () => listen({ port: 0, hostname: "127.0.0.1", backlog: 0 })],
    ] as const
  ) {
    await t.step(kind, async () => {
      await assertNoFdLeak(async () => {
        using listener = make();
        const target = kind === "Unix"
          ? { path }
          : { port: (listener.addr as Deno.NetAddr).port };
        const where = kind === "Unix"
          ? JSON.stringify(path)
          : `127.0.0.1:${(target as { port: number }).port}`;
        // Backlog 0 admits one pending connection; the next one waits.
        using _first = await connect({ ...target, timeout: 10_000 });
        const e = await assertRejects(
          () => within(connect({ ...target, timeout: 50 }), 10_000, "timeout"),
          Deno.errors.TimedOut,
        );
        assertEquals(
          e.message,
          `connect(): connection to ${where} was not accepted for 50 ms`,
        );
        const c = new AbortController();
        const pending = connect({ ...target, signal: c.signal });
        assert(await isPending(pending), "connect() waits for room");
        c.abort(new Error("gave up"));
        await assertRejects(
          () => within(pending, 10_000, "abort"),
          Error,
          "gave up",
        );
        // Accepting the pending one makes room again.
        using _accepted = await listener.accept({ timeout: 10_000 });
        using _second = await connect({ ...target, timeout: 10_000 });
      });
    });
  }
});

Deno.test("SocketListener.accept() timeout and abort consume nothing", async () => {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/accept.sock`;
    using listener = listen({ path });
    const e = await assertRejects(
      () => within(listener.accept({ timeout: 30 }), 10_000, "timeout"),
      Deno.errors.TimedOut,
    );
    assertEquals(
      e.message,
      `SocketListener.accept(): listener ${
        JSON.stringify(path)
      } had no connection for 30 ms`,
    );
    const c = new AbortController();
    const pending = listener.accept({ signal: c.signal });
    assert(await isPending(pending), "accept() waits");
    c.abort(new Error("enough"));
    await assertRejects(
      () => within(pending, 10_000, "abort"),
      Error,
      "enough",
    );
    await assertRejects(
      () => listener.accept({ signal: AbortSignal.abort(new Error("before")) }),
      Error,
      "before",
    );
    // The next connection is still there for the next accept().
    using client = await connect({ path, timeout: 10_000 });
    using server = await listener.accept({ timeout: 10_000 });
    await client.write(enc.encode("x"));
    assertEquals(await server.read(new Uint8Array(1), { timeout: 10_000 }), 1);
    // A pending accept() fails with BadResource when the listener closes.
    const closing = listener.accept();
    listener.close();
    await assertRejects(
      () => within(closing, 10_000, "close"),
      Deno.errors.BadResource,
    );
  });
});

Deno.test("SocketListener.unref() lets a Deno child exit while it waits in accept()", async (t) => {
  using dir = tempDir();
  const child = (unref: boolean) => {
    const script = scriptFile(
      dir.path,
      `unref_${unref}.ts`,
      `import { listen } from "${ROOT}socket/mod.ts";
const listener = listen({ path: ${
        JSON.stringify(`${dir.path}/unref_${unref}.sock`)
      } });
${unref ? "listener.unref();" : ""}
listener.accept().then(() => console.log("accepted"), (e) => console.log("failed", e));
console.log("waiting");
`,
    );
    return new Deno.Command(Deno.execPath(), {
      args: denoArgs(script),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  };
  await t.step("unref(): the child exits on its own", async () => {
    const out = await within(child(true).output(), 30_000, "the child's exit");
    assertEquals(
      {
        code: out.code,
        stdout: dec.decode(out.stdout),
        stderr: dec.decode(out.stderr),
      },
      { code: 0, stdout: "waiting\n", stderr: "" },
    );
  });
  await t.step("control: without unref() the child keeps waiting", async () => {
    const process = child(false);
    const lines = process.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    assertEquals(
      (await within(lines.read(), 30_000, "waiting")).value,
      "waiting\n",
    );
    assert(
      await isPending(process.status),
      "the child is still waiting in accept()",
    );
    process.kill("SIGKILL");
    await lines.cancel();
    await process.stderr.cancel();
    assertEquals(
      (await within(process.status, 10_000, "kill")).signal,
      "SIGKILL",
    );
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

Deno.test("SocketListener.path and UnixDatagram.path are still given once closed", () => {
  using dir = tempDir();
  const listener = listen({ path: `${dir.path}/l.sock` });
  const datagram = UnixDatagram.bind(`${dir.path}/d.sock`, {
    unlinkOnClose: true,
  });
  listener.close();
  datagram.close();
  assertEquals(listener.path, `${dir.path}/l.sock`);
  assertEquals(datagram.path, `${dir.path}/d.sock`);
});
