// Copyright 2026 the posix-ipc authors. MIT license.
// Addresses handed to the kernel inside structs (iovec, msghdr, argv) must
// stay valid until the call: the buffer must neither move nor be collected.
// Run in a child with --expose-gc, where garbage collections can be forced
// at the worst moment.

import { assertEquals } from "@std/assert";
import { ROOT, run, scriptFile, tempDir } from "./_helpers.ts";

const CHILD = `
import { addressOf, pin, readBytes, unpinAll } from "${ROOT}_ffi/memory.ts";
import { UnixDatagram } from "${ROOT}socket/mod.ts";
import { libc } from "${ROOT}_ffi/libc.ts";
const gc = (globalThis as unknown as { gc(o?: unknown): void }).gc;
const out: Record<string, unknown> = {};

// 1. A small typed array (V8 keeps those on its heap, where collections
//    move them) keeps its address once taken.
let moved = 0;
for (let round = 0; round < 200; round++) {
  const arrays = Array.from({ length: 64 }, (_, i) => new Uint8Array(i + 1));
  const addresses = arrays.map((a) => addressOf(a));
  for (let i = 0; i < 1000; i++) new Uint8Array(32);
  gc({ type: "minor" });
  arrays.forEach((a, i) => {
    a[0] = 0x5a;
    if (readBytes(addresses[i]!, 1)[0] !== 0x5a) moved++;
  });
}
out.moved = moved;

// 2. A pinned buffer nothing else refers to survives full collections
//    until unpinAll().
function pinnedOnly(): bigint {
  return pin(new Uint8Array(4096).fill(7));
}
const address = pinnedOnly();
gc();
gc();
const junk = Array.from({ length: 200 }, () => new Uint8Array(4096).fill(9));
out.pinnedIntact = readBytes(address, 4096).every((b) => b === 7);
unpinAll();
void junk;

// 3. Datagram round trips with a full collection forced right before every
//    sendmsg and recvmsg: the iovec, the address and the data must be alive.
const lib = libc() as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const name of ["sendmsg", "recvmsg"]) {
  const original = lib[name]!;
  lib[name] = (...args: unknown[]) => {
    gc();
    return original(...args);
  };
}
const dir = Deno.makeTempDirSync();
const a = UnixDatagram.bind(dir + "/a", { unlinkOnClose: true });
const b = UnixDatagram.bind(dir + "/b", { unlinkOnClose: true });
let intact = 0;
for (let i = 0; i < 300; i++) {
  const message = new Uint8Array(1 + (i % 64)).fill(i & 0xff);
  await a.send(message, dir + "/b");
  const got = await b.receive();
  if (got.data.length === message.length && got.data.every((x) => x === (i & 0xff)) && got.path === dir + "/a") intact++;
}
a.close();
b.close();
Deno.removeSync(dir, { recursive: true });
out.datagramsIntact = intact;
console.log(JSON.stringify(out));
`;

Deno.test("addresses in system-call structs stay valid: small buffers do not move, pinned buffers are not collected, datagrams survive a collection before every call", async () => {
  using dir = tempDir();
  const script = scriptFile(dir.path, "memory_child.ts", CHILD);
  const r = await run(Deno.execPath(), [
    "run",
    "--allow-all",
    "--quiet",
    "--v8-flags=--expose-gc",
    script,
  ], { what: "the memory child" });
  assertEquals(r.stderr, "");
  assertEquals(JSON.parse(r.stdout), {
    moved: 0,
    pinnedIntact: true,
    datagramsIntact: 300,
  });
  assertEquals(r.code, 0);
});
