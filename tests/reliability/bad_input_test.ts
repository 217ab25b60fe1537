// Copyright 2026 the posix-ipc authors. MIT license.
// Bad input, table-driven: every public function with wrong types,
// empty/oversized/relative names, negative/NaN/huge sizes, closed handles,
// double closes, reads after close, detached buffers. Each case must fail
// with the expected error class, a message naming the call or the value, and
// leave no fd and no IPC object behind.

import { assertInstanceOf, assertMatch } from "@std/assert";
import { mkfifo, openFifo } from "../../fifo/mod.ts";
import { MessageQueue, unlinkMessageQueue } from "../../mq/mod.ts";
import {
  pipe,
  pipeline,
  PipeReader,
  PipeWriter,
  spawn,
} from "../../pipe/mod.ts";
import { Lock, Semaphore, unlinkSemaphore } from "../../sem/mod.ts";
import {
  SharedMemory,
  ShmChannelReader,
  ShmChannelWriter,
  unlinkSharedMemory,
} from "../../shm/mod.ts";
import { kill, nextSignal, onShutdown, signals } from "../../signal/mod.ts";
import {
  connect,
  framed,
  listen,
  socketPair,
  UnixDatagram,
} from "../../socket/mod.ts";
import { needs } from "../_harness.ts";
import { assertNoLeaks, randomName, tempDir } from "../_helpers.ts";

// assertNoLeaks checks /dev/mqueue: without the mount it would check nothing.
const mqueue = needs("/dev/mqueue");

type ErrorClass = abstract new (...args: never[]) => Error;
type Case = [
  name: string,
  run: () => unknown,
  expected: ErrorClass,
  message?: RegExp,
];

const LONG = `/${"x".repeat(300)}`;
const detached = () => {
  const bytes = new Uint8Array(8);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  return bytes;
};
const BadResource = Deno.errors.BadResource;

async function check(cases: Case[]): Promise<void> {
  for (const [name, run, expected, message] of cases) {
    let error: unknown;
    try {
      await run();
    } catch (e) {
      error = e;
    }
    if (!(error instanceof Error)) {
      throw new Error(
        `${name}: did not fail (returned or threw ${String(error)})`,
      );
    }
    assertInstanceOf(
      error,
      expected,
      `${name}: got ${error.constructor.name}: ${error.message}`,
    );
    if (message) assertMatch(error.message, message, name);
  }
}

Deno.test("bad input: pipe module", async () => {
  await assertNoLeaks(async () => {
    await check([
      [
        "pipe() size -1",
        () => pipe({ size: -1 }),
        RangeError,
        /pipe\(\): size/,
      ],
      ["pipe() size NaN", () => pipe({ size: NaN }), RangeError, /NaN/],
      ["pipe() size 2^60", () => pipe({ size: 2 ** 60 }), RangeError],
      // A string is the wrong type (TypeError), not a wrong number.
      [
        "pipe() size '1'",
        () => pipe({ size: "1" as never }),
        TypeError,
        /pipe\(\): size must be an integer, got "1"/,
      ],
      [
        "spawn() no command",
        () => spawn(undefined as never),
        TypeError,
        /spawn\(\): command/,
      ],
      ["spawn() empty command", () => spawn(""), TypeError],
      [
        "spawn() args not strings",
        () => spawn("true", { args: [1] as never }),
        TypeError,
        /args/,
      ],
      [
        "spawn() stdout 'pipe'",
        () => spawn("true", { stdout: "pipe" as never }),
        TypeError,
        /stdout/,
      ],
      [
        "spawn() fds key 1",
        () => spawn("true", { fds: { 1: 0 } }),
        RangeError,
        /fds keys/,
      ],
      [
        "spawn() fds value NaN",
        () => spawn("true", { fds: { 3: NaN } }),
        TypeError,
        /fds\[3\]/,
      ],
      [
        "spawn() closed fd",
        () => spawn("true", { fds: { 3: 987654 } }),
        BadResource,
        /987654/,
      ],
      ["spawn() options null", () => spawn("true", null as never), TypeError],
      ["pipeline() []", () => pipeline([]), TypeError, /pipeline\(\)/],
      ["pipeline() [[]]", () => pipeline([[]]), TypeError],
      [
        "PipeReader.fromFd('3')",
        () => PipeReader.fromFd("3" as never),
        TypeError,
        /fromFd/,
      ],
      ["PipeWriter.fromFd(-1)", () => PipeWriter.fromFd(-1), TypeError],
      [
        "PipeReader.fromFd(closed)",
        () => PipeReader.fromFd(987654),
        BadResource,
      ],
    ]);
    // Closed handles: double close is a no-op, reads and spawns fail clearly.
    const { reader, writer } = pipe();
    reader.close();
    reader.close();
    writer[Symbol.dispose]();
    writer[Symbol.dispose]();
    await check([
      [
        "read after close",
        () => reader.readable.getReader().read(),
        BadResource,
        /closed/,
      ],
      [
        "spawn() with a closed end",
        () => spawn("true", { stdin: reader }),
        BadResource,
        /closed/,
      ],
    ]);
    const p = pipe();
    const q = pipe();
    await check([
      [
        "write a detached buffer",
        () => p.writer.writable.getWriter().write(detached()),
        TypeError,
        /detached/,
      ],
      [
        "write a string",
        () => q.writer.writable.getWriter().write("x" as never),
        TypeError,
      ],
    ]);
    // A failed write errors the stream, which then owns and closes its end.
    p.reader.close();
    q.reader.close();
  });
});

Deno.test("bad input: fifo module", async () => {
  using dir = tempDir();
  await assertNoLeaks(async () => {
    await mkfifo(`${dir.path}/f`);
    Deno.writeTextFileSync(`${dir.path}/file`, "");
    await check([
      ["mkfifo('')", () => mkfifo(""), TypeError, /mkfifo\(\)/],
      ["mkfifo(42)", () => mkfifo(42 as never), TypeError],
      [
        "mkfifo(http URL)",
        () => mkfifo(new URL("http://x/y")),
        TypeError,
        /file: URL/,
      ],
      ["mkfifo NUL", () => mkfifo("a\0b"), TypeError, /NUL/],
      [
        "mkfifo mode -1",
        () => mkfifo(`${dir.path}/g`, { mode: -1 }),
        RangeError,
        /mode/,
      ],
      [
        "mkfifo existing",
        () => mkfifo(`${dir.path}/f`),
        Deno.errors.AlreadyExists,
        /EEXIST/,
      ],
      [
        "mkfifo missing dir",
        () => mkfifo(`${dir.path}/no/f`),
        Deno.errors.NotFound,
      ],
      [
        "openFifo no direction",
        () => openFifo(`${dir.path}/f`, {}),
        TypeError,
        /read and write/,
      ],
      [
        "openFifo not a fifo",
        () => openFifo(`${dir.path}/file`, { read: true }),
        TypeError,
        /not a FIFO/,
      ],
      [
        "openFifo missing",
        () => openFifo(`${dir.path}/none`, { read: true }),
        Deno.errors.NotFound,
      ],
      [
        "openFifo timeout NaN",
        () => openFifo(`${dir.path}/f`, { read: true, timeout: NaN }),
        RangeError,
      ],
      [
        "openFifo size 0",
        () => openFifo(`${dir.path}/f`, { read: true, size: 0 }),
        RangeError,
      ],
    ]);
    const fifo = await openFifo(`${dir.path}/f`, { read: true, write: true });
    fifo.close();
    fifo.close();
    await check([[
      "read after close",
      () => fifo.readable.getReader().read(),
      BadResource,
    ]]);
  });
});

Deno.test("bad input: socket module", async () => {
  using dir = tempDir();
  await assertNoLeaks(async () => {
    await check([
      ["listen({})", () => listen({} as never), TypeError, /listen\(\)/],
      ["listen(null)", () => listen(null as never), TypeError],
      [
        "listen long path",
        () => listen({ path: `${dir.path}${LONG}` }),
        RangeError,
        /sockaddr_un/,
      ],
      ["listen relative empty path", () => listen({ path: "" }), TypeError],
      ["listen port -1", () => listen({ port: -1 }), RangeError, /port/],
      ["listen port NaN", () => listen({ port: NaN }), RangeError],
      [
        "listen mode huge",
        () => listen({ path: `${dir.path}/s`, mode: 2 ** 40 }),
        RangeError,
        /mode/,
      ],
      ["connect({})", () => connect({} as never), TypeError],
      [
        "connect timeout -1",
        () => connect({ path: `${dir.path}/s`, timeout: -1 }),
        RangeError,
        /timeout/,
      ],
      [
        "connect missing",
        () => connect({ path: `${dir.path}/none` }),
        Deno.errors.NotFound,
        /none/,
      ],
      ["framed(null)", () => framed(null as never), TypeError, /framed\(\)/],
      [
        "framed maxMessageSize NaN",
        () => framed({}, { maxMessageSize: NaN }),
        RangeError,
      ],
      [
        "framed maxMessageSize 2^33",
        () => framed({}, { maxMessageSize: 2 ** 33 }),
        RangeError,
      ],
      ["UnixDatagram.bind('')", () => UnixDatagram.bind(""), TypeError],
      [
        "UnixDatagram.bind long",
        () => UnixDatagram.bind(`${dir.path}${LONG}`),
        RangeError,
      ],
      [
        "UnixDatagram.bind max -1",
        () => UnixDatagram.bind(`${dir.path}/d`, { maxMessageSize: -1 }),
        RangeError,
      ],
    ]);
    const [a, b] = socketPair();
    using dgram = UnixDatagram.unbound();
    await check([
      [
        "sendFds empty data",
        () => a.sendFds(new Uint8Array(0), [0]),
        RangeError,
        /at least one byte/,
      ],
      [
        "sendFds bad fd",
        () => a.sendFds(new Uint8Array(1), [-2]),
        TypeError,
        /fds\[0\]/,
      ],
      // -1 is what a closed handle's fd reads as.
      [
        "sendFds closed fd",
        () => a.sendFds(new Uint8Array(1), [-1]),
        BadResource,
        /fds\[0\] is a closed handle/,
      ],
      [
        "sendFds detached",
        () => a.sendFds(detached(), [0]),
        TypeError,
        /detached/,
      ],
      ["receiveFds maxFds 0", () => b.receiveFds({ maxFds: 0 }), RangeError],
      [
        "datagram send to ''",
        () => dgram.send(new Uint8Array(1), ""),
        TypeError,
      ],
      [
        "datagram send detached",
        () => dgram.send(detached(), `${dir.path}/x`),
        TypeError,
        /detached/,
      ],
      [
        "datagram receive timeout -1",
        () => dgram.receive({ timeout: -1 }),
        RangeError,
      ],
      [
        "datagram send nobody",
        () => dgram.send(new Uint8Array(1), `${dir.path}/nobody`),
        Deno.errors.NotFound,
      ],
    ]);
    a.close();
    a.close();
    b.close();
    dgram.close();
    dgram.close();
    await check([
      [
        "socket end after close",
        () => a.readable.getReader().read(),
        BadResource,
      ],
      ["peerCredentials after close", () => a.peerCredentials(), BadResource],
      ["closeWrite after close", () => a.closeWrite(), BadResource],
      ["datagram receive after close", () => dgram.receive(), BadResource],
      [
        "datagram send after close",
        () => dgram.send(new Uint8Array(1), `${dir.path}/x`),
        BadResource,
      ],
    ]);
  });
});

Deno.test("bad input: shm module", async () => {
  await assertNoLeaks(async () => {
    const name = `/${randomName("pipc-bad")}`;
    await check([
      [
        "create relative name",
        () => SharedMemory.create("relative", { size: 1 }),
        TypeError,
        /leading "\/"/,
      ],
      [
        "create empty name",
        () => SharedMemory.create("", { size: 1 }),
        TypeError,
      ],
      ["create '/'", () => SharedMemory.create("/", { size: 1 }), TypeError],
      [
        "create oversized name",
        () => SharedMemory.create(LONG, { size: 1 }),
        TypeError,
        /has 300 bytes after "\/", more than 255/,
      ],
      [
        "create nested name",
        () => SharedMemory.create("/a/b", { size: 1 }),
        TypeError,
      ],
      [
        "create size 0",
        () => SharedMemory.create(name, { size: 0 }),
        RangeError,
        /size/,
      ],
      [
        "create size -1",
        () => SharedMemory.create(name, { size: -1 }),
        RangeError,
      ],
      [
        "create size NaN",
        () => SharedMemory.create(name, { size: NaN }),
        RangeError,
      ],
      [
        "create size 2^60",
        () => SharedMemory.create(name, { size: 2 ** 60 }),
        RangeError,
      ],
      [
        "create no options",
        () => SharedMemory.create(name, undefined as never),
        TypeError,
      ],
      [
        "open missing",
        () => SharedMemory.open(name),
        Deno.errors.NotFound,
        /ENOENT/,
      ],
      [
        "unlinkSharedMemory missing",
        () => unlinkSharedMemory(name),
        Deno.errors.NotFound,
        /ENOENT/,
      ],
      [
        "unlinkSharedMemory relative",
        () => unlinkSharedMemory("x"),
        TypeError,
        /unlinkSharedMemory\(\)/,
      ],
      ["anonymous(0)", () => SharedMemory.anonymous(0), RangeError],
      ["fromFile('')", () => SharedMemory.fromFile(""), TypeError],
      ["fromFd('x')", () => SharedMemory.fromFd("x" as never), TypeError],
      ...[ShmChannelWriter, ShmChannelReader].flatMap((End): Case[] => [
        [
          `${End.name} capacity 0`,
          () => End.create(name, { capacity: 0 }),
          RangeError,
          /capacity/,
        ],
        [
          `${End.name} capacity 2^31`,
          () => End.create(name, { capacity: 2 ** 31 }),
          RangeError,
        ],
        [
          `${End.name} no options`,
          () => End.create(name, undefined as never),
          TypeError,
          /capacity/,
        ],
        [`${End.name}.open relative`, () => End.open("x"), TypeError],
        [
          `${End.name}.open missing`,
          () => End.open(name),
          Deno.errors.NotFound,
        ],
        [
          `${End.name}.open capacity without create`,
          () => End.open(name, { mode: 0o600 }),
          TypeError,
          /add create: true/,
        ],
      ]),
    ]);
    const shm = SharedMemory.create(name, { size: 64 });
    shm.unlink();
    shm.close();
    shm.close();
    const channel = ShmChannelWriter.create(name, { capacity: 64 });
    const reading = ShmChannelReader.open(name);
    await check([
      [
        "a second writer handle in this process",
        () => ShmChannelWriter.open(name),
        Deno.errors.Busy,
        /already has the writer end/,
      ],
      [
        "a second reader handle in this process",
        () => ShmChannelReader.open(name),
        Deno.errors.Busy,
        /already has the reader end/,
      ],
    ]);
    channel.unlink();
    await check([
      ["write a string", () => channel.write("x" as never), TypeError],
      [
        "write detached",
        () => channel.write(detached()),
        TypeError,
        /detached/,
      ],
      ["read into null", () => reading.read(null as never), TypeError],
      [
        "read into a detached buffer",
        () => reading.read(detached()),
        TypeError,
        /detached/,
      ],
    ]);
    channel.close();
    channel.close();
    reading.close();
    reading.close();
    await check([
      ["buffer after close", () => shm.buffer, BadResource, /closed/],
      ["unlink twice", () => shm.unlink(), Deno.errors.NotFound],
      [
        "channel read after close",
        () => reading.read(new Uint8Array(1)),
        BadResource,
      ],
      [
        "channel write after close",
        () => channel.write(new Uint8Array(1)),
        BadResource,
      ],
    ]);
  });
});

Deno.test("bad input: sem module", async () => {
  using dir = tempDir();
  await assertNoLeaks(async () => {
    const name = `/${randomName("pipc-bad")}`;
    await check([
      [
        "open relative",
        () => Semaphore.open("x", { create: true }),
        TypeError,
        /leading "\/"/,
      ],
      [
        "open oversized",
        () => Semaphore.open(LONG, { create: true }),
        TypeError,
      ],
      [
        "open initial -1",
        () => Semaphore.open(name, { create: true, initial: -1 }),
        RangeError,
        /initial/,
      ],
      [
        "open initial NaN",
        () => Semaphore.open(name, { create: true, initial: NaN }),
        RangeError,
      ],
      [
        "open initial 2^40",
        () => Semaphore.open(name, { create: true, initial: 2 ** 40 }),
        RangeError,
      ],
      ["open missing", () => Semaphore.open(name), Deno.errors.NotFound],
      [
        "unlinkSemaphore missing",
        () => unlinkSemaphore(name),
        Deno.errors.NotFound,
      ],
      [
        "open initial without create",
        () => Semaphore.open(name, { initial: 1 }),
        TypeError,
        /add create: true/,
      ],
      [
        "open mode -1",
        () => Semaphore.open(name, { create: true, mode: -1 }),
        RangeError,
      ],
      ["Lock.open('')", () => Lock.open(""), TypeError],
      [
        "Lock.open missing (no create by default)",
        () => Lock.open(`${dir.path}/none`),
        Deno.errors.NotFound,
      ],
      ["Lock.open(dir)", () => Lock.open(dir.path), Error],
    ]);
    const sem = Semaphore.open(name, { create: true });
    sem.unlink();
    await check([[
      "wait timeout NaN",
      () => sem.wait({ timeout: NaN }),
      RangeError,
      /timeout/,
    ]]);
    sem.close();
    sem.close();
    const lock = Lock.open(`${dir.path}/l`, { create: true });
    await check([[
      "acquire timeout -1",
      () => lock.acquire({ timeout: -1 }),
      RangeError,
    ]]);
    lock.close();
    lock.close();
    await check([
      ["post after close", () => sem.post(), BadResource],
      ["wait after close", () => sem.wait(), BadResource],
      ["value after close", () => sem.value, BadResource],
      ["tryAcquire after close", () => lock.tryAcquire(), BadResource],
      ["acquire after close", () => lock.acquire(), BadResource],
    ]);
  });
});

Deno.test("bad input: signal module", async () => {
  await assertNoLeaks(async () => {
    await check([
      [
        "signals(SIGKILL)",
        () => signals("SIGKILL"),
        TypeError,
        /cannot be caught/,
      ],
      [
        "signals('nope')",
        () => signals("nope" as never),
        TypeError,
        /valid signals/,
      ],
      ["signals([])", () => signals([]), TypeError],
      [
        "signals bufferSize 0",
        () => signals("SIGUSR1", { bufferSize: 0 }),
        RangeError,
      ],
      [
        "nextSignal timeout -1",
        () => nextSignal("SIGUSR1", { timeout: -1 }),
        RangeError,
      ],
      ["nextSignal(SIGSTOP)", () => nextSignal("SIGSTOP"), TypeError],
      ["kill('1')", () => kill("1" as never), TypeError, /pid/],
      // A number that is not a pid is out of range, not of the wrong type.
      [
        "kill(1.5)",
        () => kill(1.5),
        RangeError,
        /kill\(\): pid must be an integer from 1 to \d+, got 1\.5/,
      ],
      [
        "kill(pid, 'TERM')",
        () => kill(Deno.pid, "TERM" as never),
        TypeError,
        /valid signals/,
      ],
      ["onShutdown(null)", () => onShutdown(null as never), TypeError],
      [
        "onShutdown timeout -1",
        () => onShutdown(() => {}, { timeout: -1 }),
        RangeError,
      ],
    ]);
  });
});

mqueue.test("bad input: mq module", async () => {
  await assertNoLeaks(async () => {
    const name = `/${randomName("pipc-bad")}`;
    await check([
      [
        "open relative",
        () => MessageQueue.open("q", { create: true }),
        TypeError,
        /leading "\/"/,
      ],
      [
        "open oversized",
        () => MessageQueue.open(LONG, { create: true }),
        TypeError,
      ],
      [
        "open maxMessages 0",
        () => MessageQueue.open(name, { create: true, maxMessages: 0 }),
        RangeError,
      ],
      [
        "open messageSize NaN",
        () => MessageQueue.open(name, { create: true, messageSize: NaN }),
        RangeError,
      ],
      [
        "open messageSize 2^40",
        () => MessageQueue.open(name, { create: true, messageSize: 2 ** 40 }),
        RangeError,
      ],
      ["open missing", () => MessageQueue.open(name), Deno.errors.NotFound],
      [
        "unlinkMessageQueue missing",
        () => unlinkMessageQueue(name),
        Deno.errors.NotFound,
      ],
      [
        "open no direction",
        () => MessageQueue.open(name, { read: false, write: false }),
        TypeError,
      ],
    ]);
    const q = MessageQueue.open(name, {
      create: true,
      maxMessages: 2,
      messageSize: 8,
      unlinkOnClose: true,
    });
    await check([
      [
        "send oversize",
        () => q.send(new Uint8Array(9)),
        RangeError,
        /9 bytes .* \(8 bytes\)/,
      ],
      ["send detached", () => q.send(detached()), TypeError, /detached/],
      [
        "send priority -1",
        () => q.send(new Uint8Array(1), { priority: -1 }),
        RangeError,
      ],
      ["receive timeout NaN", () => q.receive({ timeout: NaN }), RangeError],
    ]);
    q.close();
    q.close();
    await check([
      ["receive after close", () => q.receive(), BadResource],
      ["send after close", () => q.send(new Uint8Array(1)), BadResource],
      ["attributes after close", () => q.attributes, BadResource],
    ]);
  });
});
