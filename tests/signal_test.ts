// Copyright 2026 the posix-ipc authors. MIT license.

import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "@std/assert";
import {
  kill,
  killProcessGroup,
  nextSignal,
  onShutdown,
  signals,
} from "../signal/mod.ts";
import { spawn } from "../pipe/mod.ts";
import { needs, waitingFor, waitUntil } from "./_harness.ts";
import { denoArgs, isPending, readUntil, tempDir, within } from "./_helpers.ts";

const setsid = needs("setsid");
// A target running as nobody, a sender without CAP_KILL: setpriv, as root.
const setprivRoot = needs("setpriv", "root");

const fixture = new URL("./fixtures/signal_child.ts", import.meta.url);

/** /proc/PID/status, or "" once the process is gone. */
function statusOf(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return "";
  }
}

/** A Deno child whose stdout is read line by line. */
function child(...args: string[]) {
  const process = new Deno.Command(Deno.execPath(), {
    args: denoArgs(fixture, ...args),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const next = async (): Promise<string | null> => {
    for (;;) {
      const i = buffered.indexOf("\n");
      if (i !== -1) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        return line;
      }
      const { value, done } = await lines.read();
      if (done) return null;
      buffered += value;
    }
  };
  return {
    process,
    next: () => within(next(), 15_000, "a line from the child"),
  };
}

// SIGUSR2 and SIGHUP rather than SIGUSR1: Deno 2.9 starts its inspector on
// SIGUSR1.
Deno.test("signals(): a child acknowledges each SIGUSR2, stops at SIGTERM and exits by itself", async () => {
  const c = child("stream");
  assertEquals(await c.next(), "ready");
  for (let i = 1; i <= 5; i++) {
    kill(c.process.pid, "SIGUSR2");
    assertEquals(await c.next(), `ack ${i}`);
  }
  kill(c.process.pid, "SIGTERM");
  assertEquals(await c.next(), "term");
  assertEquals(await c.next(), null);
  const status = await within(c.process.status, 15_000, "child exit");
  assertEquals(status.code, 0, "exited by itself: no listener left");
});

Deno.test("signals(): cancelling removes the listeners and lets the process exit", async () => {
  const c = child("cancel");
  assertEquals(await c.next(), "cancelled");
  assertEquals((await within(c.process.status, 15_000, "exit")).code, 0);
  const d = child("unregister");
  assertEquals(await d.next(), "unregistered");
  assertEquals((await within(d.process.status, 15_000, "exit")).code, 0);
});

Deno.test("onShutdown(): cleanup runs on SIGTERM, then the exit status is 143", async () => {
  using dir = tempDir();
  const file = `${dir.path}/pidfile`;
  Deno.writeTextFileSync(file, "x");
  const c = child("shutdown", file);
  assertEquals(await c.next(), "ready");
  kill(c.process.pid, "SIGTERM");
  assertEquals(await c.next(), "cleaned up after SIGTERM");
  const status = await within(c.process.status, 15_000, "exit");
  assertEquals(status.code, 143);
  assertThrows(() => Deno.statSync(file), Deno.errors.NotFound);
});

Deno.test("onShutdown(): SIGINT gives 130; a second signal during cleanup exits at once", async () => {
  const c = child("hang");
  assertEquals(await c.next(), "ready");
  kill(c.process.pid, "SIGTERM"); // cleanup starts and never ends…
  assertEquals(await c.next(), "cleaning up");
  kill(c.process.pid, "SIGINT"); // …so the second signal ends the process
  assertEquals((await within(c.process.status, 15_000, "exit")).code, 130);
});

Deno.test("onShutdown(): the timeout bounds a stuck cleanup", async () => {
  const c = child("timeout");
  assertEquals(await c.next(), "ready");
  kill(c.process.pid, "SIGTERM");
  assertEquals((await within(c.process.status, 15_000, "exit")).code, 143);
});

Deno.test("kill(): missing process, process groups, bad input", async (t) => {
  const sid = setsid.in(t);
  await t.step("a missing pid is NotFound naming it", async () => {
    const p = spawn("true");
    await p.status;
    const e = assertThrows(() => kill(p.pid, "SIGTERM"), Deno.errors.NotFound);
    assertEquals(
      e.message,
      `kill(): cannot send SIGTERM to process ${p.pid}: ESRCH (no such process)`,
    );
  });
  await t.step(
    "a pid of 0 or below is a RangeError: kill() never signals a group",
    () => {
      // Never -1 here: if the check regressed, that would be the kernel's
      // broadcast to every process (the regression test tries it only
      // inside a PID namespace). 0 is our own group, -2147480000 no group.
      for (const pid of [0, -2147480000]) {
        const e = assertThrows(() => kill(pid, "SIGCONT"), RangeError);
        assertMatch(
          e.message,
          new RegExp(
            `^kill\\(\\): pid must be a process id above 0, got ${pid}.*; use killProcessGroup\\(\\) for a group$`,
          ),
        );
      }
    },
  );
  await sid.step(
    "killProcessGroup() signals the whole process group",
    async () => {
      // setsid makes the shell the leader of a new group; the background sleep
      // is in it too, and is not the shell's foreground job.
      const group = spawn("setsid", {
        args: ["sh", "-c", "sleep 30 & echo $!; wait"],
        stdout: "piped",
      });
      const reader = group.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      const text = await readUntil(reader, "\n");
      const background = Number(text.trim());
      // kill(-pgid) is refused and signals nobody; the group is still there.
      assertThrows(() => kill(-group.pid, "SIGTERM"), RangeError);
      assert(await isPending(group.status), "kill(-pgid) reached the group");
      killProcessGroup(group.pid, "SIGTERM");
      assertEquals(
        (await within(group.status, 15_000, "group exit")).signal,
        "SIGTERM",
      );
      await reader.cancel();
      // The background sleep got the signal too: gone, or a zombie not yet
      // reaped. Unsignalled it would live 30 s, so polling up to ~20 s (not 2 s:
      // a busy machine may take longer to let it die) still tells them apart.
      let state = "gone";
      for (let i = 0; i < 1000; i++) {
        try {
          state = Deno.readTextFileSync(`/proc/${background}/stat`).split(
            ") ",
          )[1]![0]!;
        } catch {
          state = "gone";
        }
        if (state === "gone" || state === "Z") break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert(
        state === "gone" || state === "Z",
        `background sleep is in state ${state}`,
      );
    },
  );
  await t.step("a missing group is NotFound naming it", () => {
    const e = assertThrows(
      () => killProcessGroup(2147480000, "SIGTERM"),
      Deno.errors.NotFound,
    );
    assertEquals(
      e.message,
      "killProcessGroup(): cannot send SIGTERM to process group 2147480000: ESRCH (no such process)",
    );
  });
  await t.step("unknown signals are TypeErrors listing the valid ones", () => {
    const e = assertThrows(
      () => kill(Deno.pid, "SIGNOPE" as Deno.Signal),
      TypeError,
    );
    assertMatch(
      e.message,
      /unknown signal "SIGNOPE"; valid signals: SIGHUP, SIGINT/,
    );
    assertThrows(
      () => kill(1.5),
      RangeError,
      "kill(): pid must be an integer from 1 to 2147483647, got 1.5",
    );
    assertThrows(
      () => kill("1" as never),
      TypeError,
      'kill(): pid must be an integer, got "1"',
    );
    assertThrows(
      () => killProcessGroup(Deno.pid, "SIGNOPE" as Deno.Signal),
      TypeError,
      'killProcessGroup(): unknown signal "SIGNOPE"; valid signals: SIGHUP',
    );
    for (const pgid of [-1, 1.5, 2 ** 31]) {
      assertThrows(
        () => killProcessGroup(pgid),
        RangeError,
        `killProcessGroup(): pgid must be an integer from 0 to 2147483647, got ${pgid}`,
      );
    }
  });
});

setprivRoot.test("kill(): an unprivileged process gets PermissionDenied", async () => {
  // The target is a sleep running as nobody, alive until we kill it. The
  // sender is a Deno child that keeps uid 0 (so it reads this checkout and
  // runs this deno wherever they are) but lacks CAP_KILL (setpriv drops it
  // from its bounding and inheritable sets): SIGTERM to another uid is EPERM.
  const target = new Deno.Command("setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "sleep",
      "2147483647",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // Until setpriv has switched to nobody, uid 0 may still signal it.
    await waitUntil(
      () => /^Uid:\s+65534\s/m.test(statusOf(target.pid)),
      "the target to run as nobody",
    );
    const out = await waitingFor(
      "the sender without CAP_KILL",
      new Deno.Command("setpriv", {
        args: [
          "--bounding-set=-kill",
          "--inh-caps=-kill",
          Deno.execPath(),
          ...denoArgs(fixture, "kill", String(target.pid)),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output(),
    );
    const text = new TextDecoder().decode(out.stdout);
    assertEquals(
      text.trim(),
      `PermissionDenied: kill(): cannot send SIGTERM to process ${target.pid}: EPERM (operation not permitted)`,
      new TextDecoder().decode(out.stderr),
    );
  } finally {
    target.kill("SIGKILL");
    // Killed by our SIGKILL, not by the child's SIGTERM.
    assertEquals((await target.status).signal, "SIGKILL");
  }
});

Deno.test("signals()/nextSignal(): uncatchable and unknown signals, timeouts, aborts", async (t) => {
  await t.step("SIGKILL and SIGSTOP say why", () => {
    const e = assertThrows(() => signals("SIGKILL"), TypeError);
    assertMatch(
      e.message,
      /cannot listen for SIGKILL: SIGKILL cannot be caught, blocked or ignored/,
    );
    assertThrows(
      () => signals(["SIGUSR2", "SIGSTOP"]),
      TypeError,
      "SIGSTOP cannot be caught",
    );
    assertThrows(() => signals("SIGSEGV"), TypeError, "memory fault");
    assertThrows(
      () => signals("SIGWHAT" as Deno.Signal),
      TypeError,
      "valid signals:",
    );
    assertThrows(() => signals([]), TypeError, "at least one");
    assertThrows(
      () => onShutdown(() => {}, { signals: ["SIGKILL"] }),
      TypeError,
      "SIGKILL",
    );
    assertThrows(
      () => onShutdown("x" as never),
      TypeError,
      "callback must be a function",
    );
  });
  await t.step("nextSignal() resolves, times out, aborts", async () => {
    setTimeout(() => Deno.kill(Deno.pid, "SIGUSR2"), 10);
    assertEquals(
      await nextSignal(["SIGHUP", "SIGUSR2"], { timeout: 5000 }),
      "SIGUSR2",
    );
    const e = await assertRejects(
      () => nextSignal("SIGUSR2", { timeout: 20 }),
      Deno.errors.TimedOut,
    );
    assertEquals(
      e.message,
      `nextSignal(): process ${Deno.pid} (waiting for SIGUSR2) received none for 20 ms`,
    );
    const c = new AbortController();
    const pending = nextSignal("SIGUSR2", { signal: c.signal });
    c.abort(new Error("never mind"));
    await assertRejects(() => pending, Error, "never mind");
  });
  await t.step("an aborted stream ends", async () => {
    const c = new AbortController();
    const stream = signals("SIGUSR2", { signal: c.signal });
    setTimeout(() => c.abort(), 10);
    assertEquals(await Array.fromAsync(stream), []);
  });
  await t.step("deliveries are kept in order while nobody reads", async () => {
    const stream = signals(["SIGHUP", "SIGUSR2"]);
    const reader = stream.getReader();
    const first = reader.read(); // start listening and wait
    Deno.kill(Deno.pid, "SIGHUP");
    assertEquals((await first).value, "SIGHUP");
    Deno.kill(Deno.pid, "SIGUSR2");
    await new Promise((r) => setTimeout(r, 50));
    assertEquals((await reader.read()).value, "SIGUSR2");
    await reader.cancel();
    assert(true);
  });
});
