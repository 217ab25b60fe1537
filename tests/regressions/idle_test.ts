// Copyright 2026 the posix-ipc authors. MIT license.
// Idle waits cost nothing: not a timing claim but a count of system calls.
// A child with 100 pending Semaphore.wait() calls and 100 pending
// ShmChannelReader.read() calls (their writers live in this process, so each
// read also watches this process's pidfd) runs under `strace -f` from its
// start; once its waits are parked, a one-second window must show no system
// call at all from any of its threads — no futex, futex_waitv, epoll_wait,
// poll or nanosleep returning and starting again, no timer. The calls the
// threads are parked in started before the window and are not in it (tracing
// from the start, rather than attaching with -p, keeps strace from
// interrupting them). Afterwards every wait must still end with its post or
// its bytes.

import { assert, assertEquals } from "@std/assert";
import { Semaphore } from "../../sem/mod.ts";
import { ShmChannelWriter } from "../../shm/mod.ts";
import { readUntil, tempDir, within } from "../_helpers.ts";
import { kernelHas, needs } from "../_harness.ts";
import { posixName } from "../_named_helpers.ts";

const CHILD = new URL("./fixtures/idle_child.ts", import.meta.url).pathname;
const N = 100;
/** What a thread calls to sleep or to wait for events. */
const WAITING = new Set([
  "futex",
  "futex_waitv",
  "epoll_wait",
  "epoll_pwait",
  "epoll_pwait2",
  "poll",
  "ppoll",
  "select",
  "pselect6",
  "nanosleep",
  "clock_nanosleep",
  "restart_syscall",
]);

/** Resolves once `file` has not grown for `ms`. */
async function quiet(file: string, ms: number): Promise<void> {
  let size = Deno.statSync(file).size;
  let since = performance.now();
  while (performance.now() - since < ms) {
    await new Promise((r) => setTimeout(r, 20));
    const now = Deno.statSync(file).size;
    if (now !== size) {
      size = now;
      since = performance.now();
    }
  }
}

/** futex_waitv, which the engine sleeps in, came with Linux 5.16. */
function hasFutexWaitv(): boolean {
  const [major = 0, minor = 0] = Deno.osRelease().split(".").map(Number);
  return major > 5 || (major === 5 && minor >= 16);
}

/** One line of `strace -f -ttt`: thread, time, and the call it shows. */
interface Event {
  tid: number;
  time: number;
  call: string;
  line: string;
}

function parse(text: string): Event[] {
  const events: Event[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(
      /^(\d+)\s+(\d+\.\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\(|(\+\+\+ exited))/,
    );
    if (!m) continue;
    events.push({
      tid: Number(m[1]),
      time: Number(m[2]),
      call: m[3] ?? m[4] ?? "exit",
      line: line.slice(0, 200),
    });
  }
  return events;
}

// Without strace there is nothing to count; without futex_waitv the
// engine polls on purpose (a documented fallback).
const traced = needs("strace").and(
  kernelHas("futex_waitv", hasFutexWaitv(), "Linux 5.16 or later"),
);

traced.test({
  name:
    `Idle waits make no system calls: ${N} pending Semaphore.wait() and ${N} pending ShmChannelReader.read() calls (and ${
      N / 2
    } on channels no writer has attached to yet), traced for 1 s`,
  async fn() {
    using dir = tempDir();
    const trace = `${dir.path}/strace.txt`;
    const semPrefix = posixName("idle-sem");
    const channelPrefix = posixName("idle-chan");
    const sems = Array.from(
      { length: N },
      (_, i) => Semaphore.create(`${semPrefix}-${i}`, { unlinkOnClose: true }),
    );
    const writers = Array.from(
      { length: N },
      (_, i) =>
        ShmChannelWriter.create(`${channelPrefix}-${i}`, {
          capacity: 64,
          unlinkOnClose: true,
        }),
    );
    const strace = new Deno.Command("strace", {
      args: [
        "-f",
        "-ttt",
        "-qq",
        "-o",
        trace,
        Deno.execPath(),
        "run",
        "--allow-all",
        "--quiet",
        CHILD,
        semPrefix,
        channelPrefix,
        String(N),
      ],
      // Deno's own update check would make network calls in the window.
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
      stdout: "piped",
    }).spawn();
    const lines = strace.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let said = "";
    let childPid = 0;
    try {
      said = await readUntil(lines, "parked");
      childPid = Number(said.match(/parked (\d+)/)![1]);
      // The child's start-up may still be finishing (a code cache written
      // late, slower under load): the window opens once the trace has grown
      // by nothing for 300 ms. A wait that polls never lets that happen.
      await within(quiet(trace, 300), 10_000, "the traced child going quiet");
      const t0 = Date.now() / 1000;
      await new Promise((r) => setTimeout(r, 1000));
      const t1 = Date.now() / 1000;

      // Now wake everything: each wait ends with its post or its bytes.
      for (const s of sems) s.post();
      for (const [i, w] of writers.entries()) {
        await w.write(new TextEncoder().encode(`hi ${i}`));
      }
      for (;;) {
        const { value, done } = await within(
          lines.read(),
          30_000,
          "the child's waits ending",
        );
        if (done) break;
        said += value;
      }
      const status = await within(strace.status, 30_000, "the child's exit");
      assertEquals(status.code, 0, said);
      const result = JSON.parse(said.trim().split("\n").at(-1)!);
      assertEquals(result, {
        waits: N,
        texts: Array.from({ length: N }, (_, i) => `hi ${i}`),
      });

      const events = parse(Deno.readTextFileSync(trace));
      assert(events.length > 1000, "strace traced the child");
      const inWindow = events.filter((e) => e.time >= t0 && e.time <= t1);
      // A thread of Deno's blocking pool that ends after 10 s unused is the
      // runtime's housekeeping, not a wait: left out, but shown on failure.
      const exiting = new Set(
        inWindow.filter((e) => e.call === "exit").map((e) => e.tid),
      );
      const counted = inWindow.filter((e) => !exiting.has(e.tid));
      const waiting = counted.filter((e) => WAITING.has(e.call));
      const before = (tid: number) =>
        events.filter((e) => e.tid === tid && e.time > t0 - 2 && e.time < t0)
          .map((e) => e.line).slice(-10).join("\n");
      assertEquals(
        waiting.map((e) => e.line),
        [],
        `waiting calls made by the idle child; before the window (t0 ${t0}):\n${
          [...new Set(waiting.map((e) => e.tid))].map(before).join("\n--\n")
        }`,
      );
      assertEquals(
        counted.map((e) => e.line),
        [],
        `system calls made by the idle child (threads that exited: ${[
          ...exiting,
        ]})`,
      );
    } finally {
      if (childPid) {
        try {
          Deno.kill(childPid, "SIGKILL");
        } catch {
          // exited
        }
      }
      try {
        strace.kill("SIGKILL");
      } catch {
        // exited
      }
      await lines.cancel().catch(() => {});
      await strace.status;
      for (const s of sems) s.close();
      for (const w of writers) w.close();
    }
  },
});
