// Copyright 2026 the posix-ipc authors. MIT license.
// Peer death: the process on the other side is killed with SIGKILL in the
// middle of a transfer. Readers see EOF (or a clear error), writers get
// BrokenPipe (or ConnectionReset), promptly. The Unix-socket case runs with
// a Deno peer everywhere, and with socat where it is installed. ShmChannel's
// dead-peer detection and Lock's release are in shm_test.ts and sem_test.ts.

import { assert, assertEquals } from "@std/assert";
import { mkfifo, openFifo } from "../../fifo/mod.ts";
import { MessageQueue } from "../../mq/mod.ts";
import { pipe, spawn } from "../../pipe/mod.ts";
import {
  connect,
  listen,
  type SocketEnd,
  socketPair,
} from "../../socket/mod.ts";
import { needs, pollFor } from "../_harness.ts";
import {
  assertNoFdLeak,
  denoArgs,
  listDir,
  notListening,
  randomName,
  readUntil,
  tempDir,
  within,
} from "../_helpers.ts";

const socat = needs("socat");

const PROMPT = 10_000;

/** Reads until EOF (true) or an error (the error); counts bytes. */
async function readToEnd(
  stream: ReadableStream<Uint8Array>,
): Promise<{ bytes: number; error: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of stream) bytes += chunk.length;
    return { bytes, error: null };
  } catch (error) {
    return { bytes, error };
  }
}

/** Writes until it fails; returns the error. */
async function writeUntilError(
  writable: WritableStream<Uint8Array>,
): Promise<unknown> {
  const writer = writable.getWriter();
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) await writer.write(chunk);
  } catch (error) {
    return error;
  }
}

function isBroken(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset;
}

/** Kills `pid` once `started` resolves. */
async function killWhen(started: Promise<unknown>, pid: number): Promise<void> {
  await started;
  Deno.kill(pid, "SIGKILL");
}

Deno.test("peer death: pipe", async (t) => {
  await t.step("writer killed mid-stream: the reader sees EOF", async () => {
    await assertNoFdLeak(async () => {
      const child = spawn("yes", { stdout: "piped" });
      const reader = child.stdout.getReader();
      await reader.read(); // it is writing
      reader.releaseLock();
      Deno.kill(child.pid, "SIGKILL");
      const { error } = await within(
        readToEnd(child.stdout),
        PROMPT,
        "EOF after SIGKILL",
      );
      assertEquals(error, null);
      assertEquals((await child.status).signal, "SIGKILL");
    });
  });
  await t.step(
    "reader killed mid-stream: the writer gets BrokenPipe",
    async () => {
      await assertNoFdLeak(async () => {
        const { reader, writer } = pipe();
        const child = spawn("sh", {
          args: ["-c", "exec cat >/dev/null"],
          stdin: reader,
        });
        const failing = writeUntilError(writer.writable);
        await new Promise((r) => setTimeout(r, 100));
        Deno.kill(child.pid, "SIGKILL");
        assert(
          isBroken(await within(failing, PROMPT, "BrokenPipe after SIGKILL")),
        );
        await child.status;
      });
    },
  );
});

Deno.test("peer death: FIFO", async (t) => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  await mkfifo(path);
  await t.step("writer killed: the reader sees EOF", async () => {
    await assertNoFdLeak(async () => {
      const child = new Deno.Command("sh", {
        args: ["-c", `exec yes > ${path}`],
      }).spawn();
      const fifo = await openFifo(path, { read: true });
      const reader = fifo.readable.getReader();
      await reader.read();
      reader.releaseLock();
      child.kill("SIGKILL");
      const { error } = await within(readToEnd(fifo.readable), PROMPT, "EOF");
      assertEquals(error, null);
      await child.status;
    });
  });
  await t.step("reader killed: the writer gets BrokenPipe", async () => {
    await assertNoFdLeak(async () => {
      const child = new Deno.Command("sh", {
        args: ["-c", `exec sleep 30 < ${path}`],
      }).spawn();
      const fifo = await openFifo(path, { write: true });
      const failing = writeUntilError(fifo.writable);
      await killWhen(new Promise((r) => setTimeout(r, 100)), child.pid);
      assert(isBroken(await within(failing, PROMPT, "BrokenPipe")));
      await child.status;
    });
  });
});

Deno.test("peer death: socket pair at a child's fd 3", async (t) => {
  await t.step("writer killed: EOF", async () => {
    await assertNoFdLeak(async () => {
      const [here, there] = socketPair();
      const child = spawn("sh", {
        args: ["-c", "exec yes >&3"],
        fds: { 3: there },
      });
      const reader = here.readable.getReader();
      await reader.read();
      reader.releaseLock();
      Deno.kill(child.pid, "SIGKILL");
      const { error } = await within(readToEnd(here.readable), PROMPT, "EOF");
      assertEquals(error, null);
      here.close();
      await child.status;
    });
  });
  await t.step("reader killed: BrokenPipe or ConnectionReset", async () => {
    await assertNoFdLeak(async () => {
      const [here, there] = socketPair();
      const child = spawn("sh", {
        args: ["-c", "exec sleep 30 <&3"],
        fds: { 3: there },
      });
      const failing = writeUntilError(here.writable);
      await killWhen(new Promise((r) => setTimeout(r, 100)), child.pid);
      assert(isBroken(await within(failing, PROMPT, "BrokenPipe")));
      here.close();
      await child.status;
    });
  });
});

/**
 * A Unix stream socket whose peer process is SIGKILLed mid-stream: a killed
 * writer gives our reader EOF (or ConnectionReset), a killed reader gives our
 * writer BrokenPipe. `writer(path)` starts a peer that connects to `path` and
 * writes forever; `reader(path)` starts one that listens at `path` and reads
 * forever, and resolves with it and our connection once it listens.
 */
async function unixStreamPeerDeath(
  who: string,
  writer: (path: string) => Deno.ChildProcess,
  reader: (path: string) => Promise<{
    child: Deno.ChildProcess;
    client: SocketEnd;
    release?: () => Promise<void>;
  }>,
): Promise<void> {
  await assertNoFdLeak(async () => {
    using dir = tempDir();
    const path = `${dir.path}/s.sock`;
    using listener = listen({ path });
    const child = writer(path);
    // A SocketEnd keeps its fd until both directions are done (reading to
    // EOF leaves the write side usable, unlike Deno.Conn): close it.
    using conn = await within(listener.accept(), PROMPT, `${who}'s connect`);
    const bytes = conn.readable.getReader();
    await within(bytes.read(), PROMPT, `${who}'s first bytes`);
    bytes.releaseLock();
    child.kill("SIGKILL");
    const { error } = await within(readToEnd(conn.readable), PROMPT, "EOF");
    assert(error === null || error instanceof Deno.errors.ConnectionReset);
    await within(child.status, PROMPT, `${who}'s exit`);
    // And the other direction: a reader that dies.
    const sink = await reader(`${dir.path}/t.sock`);
    const failing = writeUntilError(sink.client.writable);
    await killWhen(new Promise((r) => setTimeout(r, 100)), sink.child.pid);
    assert(isBroken(await within(failing, PROMPT, "BrokenPipe")));
    sink.client.close();
    await sink.release?.();
    await within(sink.child.status, PROMPT, `${who}'s exit`);
  });
}

socat.test("peer death: Unix stream socket (socat peer)", async () => {
  await unixStreamPeerDeath(
    "socat",
    (path) =>
      new Deno.Command("sh", {
        args: ["-c", `exec socat -u /dev/zero UNIX-CONNECT:${path}`],
      }).spawn(),
    async (path) => {
      const child = new Deno.Command("sh", {
        args: ["-c", `exec socat -u UNIX-LISTEN:${path} /dev/null`],
      }).spawn();
      const client = await pollFor(
        "socat to listen",
        () => connect({ path }).catch(notListening),
      );
      return { child, client };
    },
  );
});

Deno.test("peer death: Unix stream socket (Deno peer)", async () => {
  const peer = new URL("../fixtures/unix_peer.ts", import.meta.url);
  await unixStreamPeerDeath(
    "the Deno peer",
    (path) =>
      new Deno.Command(Deno.execPath(), {
        args: denoArgs(peer, "send", path),
      }).spawn(),
    async (path) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: denoArgs(peer, "sink", path),
        stdout: "piped",
      }).spawn();
      const lines = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      await readUntil(lines, "listening");
      const client = await connect({ path });
      return { child, client, release: () => lines.cancel() };
    },
  );
});

Deno.test("peer death: a message queue keeps what a killed consumer did not take", async () => {
  const name = `/${randomName("pipc-death")}`;
  using queue = MessageQueue.open(name, {
    create: true,
    maxMessages: 8,
    messageSize: 64,
    unlinkOnClose: true,
  });
  for (let i = 0; i < 5; i++) {
    await queue.send(new TextEncoder().encode(`job ${i}`));
  }
  const consumer = new Deno.Command("sleep", { args: ["30"] }).spawn(); // attached in spirit, then killed
  consumer.kill("SIGKILL");
  await consumer.status;
  assertEquals(queue.attributes.currentMessages, 5);
  assertEquals(new TextDecoder().decode((await queue.receive()).data), "job 0");
  assert(listDir("/dev/shm").every((n) => !n.includes("pipc-death")));
});
