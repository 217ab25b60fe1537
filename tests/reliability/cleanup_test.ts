// Copyright 2026 the posix-ipc authors. MIT license.
// Cleanup on exit: objects created with unlinkOnExit are gone after a
// normal exit and after SIGTERM/SIGINT; after SIGKILL they remain, and
// `ipc rm --stale` finds and removes every one of them.

import { assertEquals, assertMatch } from "@std/assert";
import { needs } from "../_harness.ts";
import {
  denoArgs,
  listDir,
  privateIpc,
  randomName,
  readUntil,
  tempDir,
  within,
} from "../_helpers.ts";

const mqueue = needs("/dev/mqueue");
const unshare = needs("unshare");

const fixture = new URL("../fixtures/owner_child.ts", import.meta.url);
const cli = new URL("../../cli/main.ts", import.meta.url).pathname;

/** What of a prefix's objects still exists (root: see privateIpc()). */
function remaining(prefix: string, dir: string, root = ""): string[] {
  return [
    ...listDir(`${root}/dev/shm`).filter((n) => n.includes(prefix)),
    ...listDir(`${root}/dev/mqueue`).filter((n) => n.includes(prefix)),
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
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
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

unshare.test("unlinkOnExit: after SIGKILL, ipc rm --stale finds and removes what is left", async () => {
  // The sweep (no names) reaches every unheld object it can see: run it, and
  // the owner, in namespaces of their own, not on the machine's /dev/shm.
  await using ns = await privateIpc();
  using dir = tempDir();
  const prefix = randomName("pipc-own");
  const child = new Deno.Command("nsenter", {
    args: ns.enter(
      Deno.execPath(),
      ...denoArgs(fixture, "wait", prefix, dir.path),
    ),
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await readUntil(reader, "\n");
  child.kill("SIGKILL");
  await reader.cancel();
  await child.status;
  const left = remaining(prefix, dir.path, ns.root);
  assertEquals(left.length >= 5, true, "SIGKILL leaves the objects");
  const out = await new Deno.Command("nsenter", {
    args: ns.enter(
      Deno.execPath(),
      "run",
      "--allow-all",
      "--quiet",
      cli,
      "rm",
      "--stale",
      "--yes",
      "--dir",
      dir.path,
    ),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertMatch(
    new TextDecoder().decode(out.stdout),
    new RegExp(`removed shm /${prefix}-shm`),
  );
  assertEquals(remaining(prefix, dir.path, ns.root), []);
});
