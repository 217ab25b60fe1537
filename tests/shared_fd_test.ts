// Copyright 2026 the posix-ipc authors. MIT license.
// O_NONBLOCK belongs to the open file description, which every process
// holding the fd shares. These tests check that no other process can make a
// call of this package wait on the JavaScript thread by clearing it, and
// that adopting an fd does not change the mode the passing process sees.
//
// A call that waited on the JavaScript thread would stop the process whole
// (its own timers and watchdog included), so each case runs in a child Deno
// process, bounded by a watchdog here.

import { assertEquals, assertMatch } from "@std/assert";
import { spawn } from "../pipe/mod.ts";
import { connect, listen } from "../socket/mod.ts";
import { needs } from "./_harness.ts";
import {
  compileC,
  denoArgs,
  randomName,
  ROOT,
  scriptFile,
  tempDir,
  within,
} from "./_helpers.ts";

const gcc = needs("gcc");
const gccMqueue = needs("gcc", "/dev/mqueue");

const dec = new TextDecoder();

/** Clears O_NONBLOCK on fd 3 as fast as it can, until killed. */
const CLEARER = `
#include <fcntl.h>
int main(void) {
  for (;;) {
    int flags = fcntl(3, F_GETFL);
    if (flags == -1) return 1;
    fcntl(3, F_SETFL, flags & ~O_NONBLOCK);
  }
}
`;

/** Accepts on fd 3 in blocking mode, clearing O_NONBLOCK first, until killed. */
const THIEF = `
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
  for (;;) {
    int flags = fcntl(3, F_GETFL);
    if (flags == -1) return 1;
    fcntl(3, F_SETFL, flags & ~O_NONBLOCK);
    int conn = accept(3, 0, 0);
    if (conn >= 0) close(conn);
  }
}
`;

const ROUNDS = 300;

/** Makes the message queue at fd 3 blocking (mq_setattr), then exits. */
const MQ_BLOCKING = `
#include <mqueue.h>
#include <stdio.h>
int main(void) {
  struct mq_attr attr = {0};
  if (mq_setattr(3, &attr, 0) != 0) { perror("mq_setattr"); return 1; }
  if (mq_getattr(3, &attr) != 0 || (attr.mq_flags & O_NONBLOCK)) return 2;
  return 0;
}
`;

/** Runs `code` as a child Deno script with `fds`; its output, under a watchdog. */
async function runChild(
  dir: string,
  code: string,
  fds: Record<number, { fd: number } | number>,
  what: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = scriptFile(dir, "child.ts", code);
  const child = spawn(Deno.execPath(), {
    args: denoArgs(script),
    fds,
    stdout: "piped",
    stderr: "piped",
  });
  try {
    const out = await within(child.output(), 60_000, what);
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } finally {
    child.kill("SIGKILL");
  }
}

gcc.test("accept() on a shared listener never waits on the JavaScript thread when another process clears O_NONBLOCK and takes the connection", async () => {
  const clearer = await compileC("clear_nonblock", CLEARER);
  const thief = await compileC("accept_thief", THIEF);
  using dir = tempDir();
  const path = `${dir.path}/s.sock`;
  using listener = listen({ path });
  // Two other processes share the listener, as C workers would: one clears
  // the flag in a loop, one clears it and accepts (blocking) in a loop.
  const others = [
    spawn(clearer, { fds: { 3: listener } }),
    spawn(thief, { fds: { 3: listener } }),
  ];
  const script = scriptFile(
    dir.path,
    "acceptor.ts",
    `
    import { SocketListener } from "${ROOT}socket/mod.ts";
    const listener = SocketListener.fromFd(3);
    for (let i = 0; i < ROUNDS; i++) {
      try {
        (await listener.accept({ timeout: 5 })).close();
      } catch (e) {
        if (!(e instanceof Deno.errors.TimedOut)) throw e;
      }
      console.log("tick");
    }
    `.replace("ROUNDS", String(ROUNDS)),
  );
  const child = spawn(Deno.execPath(), {
    args: denoArgs(script),
    fds: { 3: listener },
    stdout: "piped",
    stderr: "piped",
  });
  try {
    // One connection per tick of the child, and the next only after its
    // next tick: if an accept4 of the child waits once the thief took the
    // connection, no tick comes and no connection will release it.
    let ticks = 0;
    const lines = child.stdout.pipeThrough(new TextDecoderStream())
      .values();
    let pending = "";
    await within(
      (async () => {
        while (ticks < ROUNDS) {
          const { value, done } = await lines.next();
          if (done) break;
          pending += value;
          let newline;
          while ((newline = pending.indexOf("\n")) >= 0) {
            pending = pending.slice(newline + 1);
            ticks++;
            if (ticks < ROUNDS) (await connect({ path })).close();
          }
        }
      })(),
      60_000,
      "the next tick of a Deno process accepting on a listener another process keeps making blocking",
    );
    const status = await within(child.status, 30_000, "the acceptor's exit");
    assertEquals(ticks, ROUNDS);
    assertEquals(status.code, 0, await child.stderr.text());
  } finally {
    child.kill("SIGKILL");
    for (const other of others) {
      other.kill("SIGKILL");
      await other.status;
    }
  }
});

Deno.test("PipeReader.fromFd() leaves the passing process's description blocking, and its own reads never wait", async () => {
  using dir = tempDir();
  // sh holds fd 3 (a blocking pipe read end, as a shell gives one) and runs
  // the Deno child with it; after the child adopted it, sh prints the flags
  // of its own fd 3 from /proc: they must still be blocking.
  const child = scriptFile(
    dir.path,
    "reader.ts",
    `
    import { PipeReader } from "${ROOT}pipe/mod.ts";
    const reader = PipeReader.fromFd(3);
    // Nothing to read yet: must time out, not wait in read(2).
    try {
      await reader.read(new Uint8Array(8), { timeout: 20 });
      console.log("read something?");
    } catch (e) {
      console.log(e instanceof Deno.errors.TimedOut ? "timed out" : String(e));
    }
    reader.close();
    `,
  );
  const script = `exec 3<"$PIPE"; "$DENO" run -A --quiet "$CHILD";` +
    ` grep '^flags' /proc/$$/fdinfo/3`;
  const fifo = `${dir.path}/p`;
  // A FIFO opened read-write by the keeper stands for the pipe's writer.
  const keeper = spawn("sh", {
    args: ["-c", `mkfifo "$0" && exec 4<>"$0" && sleep 60`, fifo],
  });
  try {
    await within(
      (async () => {
        while (true) {
          try {
            if (Deno.statSync(fifo).isFifo) return;
          } catch { /* not yet */ }
          await new Promise((r) => setTimeout(r, 5));
        }
      })(),
      30_000,
      "the keeper's FIFO",
    );
    const out = await within(
      spawn("sh", {
        args: ["-c", script],
        env: { PIPE: fifo, DENO: Deno.execPath(), CHILD: child },
        stdout: "piped",
        stderr: "piped",
      }).output(),
      60_000,
      "sh running a Deno child that adopts its fd 3",
    );
    const [line1, line2] = dec.decode(out.stdout).trim().split("\n");
    assertEquals(dec.decode(out.stderr), "");
    assertEquals(line1, "timed out");
    const flags = parseInt(line2!.split(/\s+/)[1]!, 8);
    assertEquals(
      flags & 0o4000,
      0,
      `sh's fd 3 became non-blocking: ${line2}`,
    );
  } finally {
    keeper.kill("SIGKILL");
    await keeper.status;
  }
});

gccMqueue.test("MessageQueue receive and send never wait on the JavaScript thread after a child made the queue's description blocking", async () => {
  const blocker = await compileC("mq_blocking", MQ_BLOCKING, ["-lrt"]);
  using dir = tempDir();
  const name = `/${randomName()}`;
  const result = await runChild(
    dir.path,
    `
    import { MessageQueue } from "${ROOT}mq/mod.ts";
    import { spawn } from "${ROOT}pipe/mod.ts";
    using queue = MessageQueue.create(${JSON.stringify(name)}, {
      maxMessages: 1, messageSize: 16, unlinkOnClose: true,
    });
    const set = await spawn(${
      JSON.stringify(blocker)
    }, { fds: { 3: queue.fd } }).status;
    console.log("blocker", set.code);
    try { await queue.receive({ timeout: 20 }); console.log("received?"); }
    catch (e) { console.log(e instanceof Deno.errors.TimedOut ? "receive timed out" : String(e)); }
    await queue.send(new Uint8Array(1));
    try { await queue.send(new Uint8Array(1), { timeout: 20 }); console.log("sent?"); }
    catch (e) { console.log(e instanceof Deno.errors.TimedOut ? "send timed out" : String(e)); }
    `,
    {},
    "a Deno process using a message queue a child made blocking",
  );
  assertEquals(result.stderr, "");
  assertEquals(
    result.stdout.trim().split("\n"),
    ["blocker 0", "receive timed out", "send timed out"],
  );
  assertMatch(String(result.code), /^0$/);
});
