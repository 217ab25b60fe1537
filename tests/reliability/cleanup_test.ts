// Copyright 2026 the posix-ipc authors. MIT license.
// Cleanup on exit: objects created with unlinkOnExit are gone after a
// normal exit and after SIGTERM/SIGINT; after SIGKILL they remain, and
// `ipc rm --stale` finds and removes every one of them.

import { assertEquals, assertMatch } from "@std/assert";
import { needs, waitingFor } from "../_harness.ts";
import {
  denoArgs,
  listDir,
  randomName,
  readUntil,
  tempDir,
  within,
} from "../_helpers.ts";

// The owner makes a message queue too, and remaining() lists /dev/mqueue.
const mqueue = needs("/dev/mqueue");

const fixture = new URL("../fixtures/owner_child.ts", import.meta.url);
const cli = new URL("../../cli/main.ts", import.meta.url).pathname;

/** What of a prefix's objects still exists. */
function remaining(prefix: string, dir: string): string[] {
  return [
    ...listDir("/dev/shm").filter((n) => n.includes(prefix)),
    ...listDir("/dev/mqueue").filter((n) => n.includes(prefix)),
    ...listDir(dir).filter((n) => n.includes(prefix)),
  ].sort();
}

async function run(mode: string, signal?: Deno.Signal) {
  using dir = tempDir();
  const prefix = randomName("pipc-own");
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs(fixture, mode, prefix, dir.path),
    stdout: "piped",
    stdin: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await readUntil(reader, "\n");
  const created = remaining(prefix, dir.path);
  if (signal) child.kill(signal);
  else await child.stdin.close();
  await reader.cancel();
  const status = await within(child.status, 15_000, "owner exit");
  return { status, created, left: remaining(prefix, dir.path) };
}

mqueue.test("unlinkOnExit: a normal exit removes every object", async () => {
  const { status, created, left } = await run("exit");
  assertEquals(status.code, 0);
  assertEquals(created.length >= 5, true, `created: ${created}`);
  assertEquals(left, []);
});

mqueue.test("unlinkOnExit: SIGTERM and SIGINT remove every object, exit 128 + n", async () => {
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    const { status, created, left } = await run("wait", signal);
    assertEquals(status.code, code, signal);
    assertEquals(created.length >= 5, true);
    assertEquals(left, [], `after ${signal}`);
  }
});

mqueue.test("unlinkOnExit: after SIGKILL, ipc rm --stale finds and removes what is left", async () => {
  using dir = tempDir();
  const prefix = randomName("pipc-own");
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs(fixture, "wait", prefix, dir.path),
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const text = await readUntil(reader, "\n");
  child.kill("SIGKILL");
  await reader.cancel();
  await within(child.status, 15_000, "owner exit");
  const names: Record<string, string> = JSON.parse(text);
  try {
    const left = remaining(prefix, dir.path);
    assertEquals(left.length >= 5, true, "SIGKILL leaves the objects");
    const ipc = (...args: string[]) =>
      waitingFor(
        `ipc rm ${args.join(" ")}`,
        new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", "--quiet", cli, "rm", ...args],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output(),
      );
    // Finds: a scan of every kind lists each object as stale. POSIX objects
    // are scanned only when their kinds are named (rm --stale --kind), and
    // the scan covers all of /dev/shm and /dev/mqueue, so it runs without
    // --yes (stdin not a terminal: it lists and removes nothing) rather than
    // removing other processes' stale objects on this machine.
    const scan = await ipc(
      "--stale",
      "--kind",
      "shm,sem,mq,fifo,unix",
      "--dir",
      dir.path,
    );
    const listed = new TextDecoder().decode(scan.stdout);
    assertEquals(scan.code, 1, new TextDecoder().decode(scan.stderr));
    for (const [kind, name] of Object.entries(names)) {
      assertMatch(
        listed,
        new RegExp(` ${name} .* (unused|stale|0 messages)`),
        kind,
      );
    }
    assertEquals(remaining(prefix, dir.path), left, "a scan without --yes");
    // Removes what is left: each name, checked unused first (--stale).
    const out = await ipc("--stale", "--yes", ...Object.values(names));
    const said = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    for (
      const [kind, name] of [
        ["shm", names.shm],
        ["shm", names.channel],
        ["sem", names.sem],
        ["mq", names.mq],
        ["unix", names.socket],
        ["unix", names.dgram],
      ]
    ) {
      assertMatch(said, new RegExp(`^removed ${kind} ${name}$`, "m"));
    }
    assertEquals(remaining(prefix, dir.path), []);
  } finally {
    for (const name of [names.shm, names.channel]) {
      try {
        Deno.removeSync(`/dev/shm${name}`);
      } catch { /* removed */ }
    }
    try {
      Deno.removeSync(`/dev/shm/sem.${names.sem!.slice(1)}`);
    } catch { /* removed */ }
    try {
      Deno.removeSync(`/dev/mqueue${names.mq}`);
    } catch { /* removed */ }
  }
});
