// Copyright 2026 the posix-ipc authors. MIT license.
// A Deno parent gives a Deno child descriptors at fd 3: a socket pair end
// for framed messages, then a pipe carrying 100 MB with a checksum.
import { inheritedFds, pipe, PipeWriter, spawn } from "../pipe/mod.ts";
import { framed, SocketEnd, socketPair } from "../socket/mod.ts";

const [role] = Deno.args;
const hex = (b: ArrayBuffer) =>
  [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const SIZE = 100 * 1000 * 1000;

if (role === "framed-child") {
  const fd3 = inheritedFds().find((f) => f.fd === 3);
  console.log(
    `  child ${Deno.pid}: inherited fd ${fd3!.fd} is a ${fd3!.socket?.domain} ${
      fd3!.socket?.type
    } socket`,
  );
  const { readable, writable } = framed(SocketEnd.fromFd(3));
  const replies = writable.getWriter();
  for await (const request of readable) {
    const text = new TextDecoder().decode(request);
    await replies.write(
      new TextEncoder().encode(`${text.length} characters in "${text}"`),
    );
  }
  await replies.close();
} else if (role === "pipe-child") {
  // Deterministic bytes, hashed as they are written.
  const writer = PipeWriter.fromFd(3).writable.getWriter();
  const all = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) all[i] = (i * 31 + (i >> 12)) & 0xff;
  for (let off = 0; off < SIZE; off += 1 << 20) {
    await writer.write(all.subarray(off, off + (1 << 20)));
  }
  await writer.close();
  console.log(hex(await crypto.subtle.digest("SHA-256", all)));
} else {
  const self = new URL(import.meta.url).pathname;
  const child = (
    mode: string,
    end: { fd: number },
    stdout: "inherit" | "piped" = "inherit",
  ) =>
    spawn(Deno.execPath(), {
      args: ["run", "-A", "--quiet", self, mode],
      fds: { 3: end },
      stdout,
    });

  // 1. Framed messages over a socket pair at fd 3.
  const [here, there] = socketPair();
  const framedChild = child("framed-child", there); // `there` is handed over
  const { readable, writable } = framed(here);
  const requests = writable.getWriter();
  for (const text of ["hello", "inherited descriptors", ""]) {
    await requests.write(new TextEncoder().encode(text));
  }
  await requests.close();
  for await (const reply of readable) {
    console.log(`parent ← ${new TextDecoder().decode(reply)}`);
  }
  await framedChild.status;

  // 2. 100 MB through a pipe at fd 3, checked end to end.
  const { reader, writer } = pipe({ size: 1 << 20 });
  const pipeChild = child("pipe-child", writer, "piped");
  const started = performance.now();
  const received = new Uint8Array(
    await new Response(reader.readable).arrayBuffer(),
  );
  const seconds = (performance.now() - started) / 1000;
  const theirs = new TextDecoder().decode((await pipeChild.output()).stdout)
    .trim();
  const ours = hex(await crypto.subtle.digest("SHA-256", received));
  console.log(
    `parent: ${received.length / 1e6} MB through the pipe at fd 3 in ${
      seconds.toFixed(2)
    } s; SHA-256 ${ours === theirs ? "matches" : "DIFFERS"} (${
      ours.slice(0, 16)
    }…)`,
  );
  if (ours !== theirs || received.length !== SIZE) Deno.exit(1);
}
