// Copyright 2026 the posix-ipc authors. MIT license.
// Permissions as the README states them: the narrow --allow-ffi=<libc path>
// works on its own; a grant that does not cover libc fails with an error
// naming the narrow form; and (said plainly) FFI bypasses Deno's other
// permissions: spawn() starts a process without --allow-run.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { onlyWhere } from "./_harness.ts";
import { ROOT, tempDir, within } from "./_helpers.ts";

function libcPath(): string | null {
  for (
    const path of [
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib/aarch64-linux-gnu/libc.so.6",
      "/lib64/libc.so.6",
      "/usr/lib64/libc.so.6",
    ]
  ) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return null;
}

async function run(dir: string, flags: string[], code: string) {
  const script = `${dir}/script.ts`;
  Deno.writeTextFileSync(script, code);
  const out = await within(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-prompt", ...flags, script],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output(),
    60_000,
    `deno run ${flags.join(" ")}`,
  );
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    // deno-lint-ignore no-control-regex
    stderr: new TextDecoder().decode(out.stderr).replace(/\x1b\[[0-9;]*m/g, ""),
  };
}

const PROGRAM = `import { pipe, spawn } from "${ROOT}pipe/mod.ts";
import { socketPair } from "${ROOT}socket/mod.ts";
import { Semaphore } from "${ROOT}sem/mod.ts";
import { SharedMemory } from "${ROOT}shm/mod.ts";
const { reader, writer } = pipe();
await writer.write(new Uint8Array([7]));
const buffer = new Uint8Array(1);
await reader.read(buffer);
const out = await spawn("echo", { args: ["spawned"], stdout: "piped" }).output();
const [a, b] = socketPair();
await a.sendFds(new Uint8Array([1]), [reader]);
const got = await b.receiveFds();
const name = "/pipc-perm-" + crypto.randomUUID().slice(0, 8);
const sem = Semaphore.create(name, { unlinkOnClose: true });
setTimeout(() => sem.post(), 10);
await sem.wait({ timeout: 5000 });
sem.close();
const shm = SharedMemory.create(name, { size: 64, unlinkOnClose: true });
let view = "viewable";
try { shm.buffer; } catch (e) { view = (e as Error).name + ": " + (e as Error).message.split(":")[0]; }
shm.close();
console.log(buffer[0], new TextDecoder().decode(out.stdout).trim(), got!.fds.length, view);
`;

onlyWhere(libcPath() !== null, "no libc.so.6 at a known path").test({
  name:
    "permissions: --allow-ffi=<libc path> alone is enough, and spawn() needs no --allow-run",
  fn: async () => {
    using dir = tempDir();
    const result = await run(dir.path, [`--allow-ffi=${libcPath()}`], PROGRAM);
    assertEquals(result, {
      code: 0,
      stdout: "7 spawned 1 NotCapable: SharedMemory.buffer\n",
      stderr: "",
    });
  },
});

Deno.test("permissions: an --allow-ffi grant that does not cover libc names the narrow form that works", async () => {
  using dir = tempDir();
  const result = await run(dir.path, ["--allow-ffi=libc.so.6"], PROGRAM);
  assert(result.code !== 0);
  assertStringIncludes(
    result.stderr,
    "NotCapable: posix-ipc cannot load the C library",
  );
  assertStringIncludes(result.stderr, "the narrow form --allow-ffi=/");
  const none = await run(dir.path, [], PROGRAM);
  assertStringIncludes(none.stderr, "Either grant --allow-ffi");
});
