// Copyright 2026 the posix-ipc authors. MIT license.
// Two processes chat through two FIFOs: this Deno program and a plain shell
// loop that knows nothing about Deno.
import { mkfifo, openFifo } from "../fifo/mod.ts";

const dir = Deno.makeTempDirSync({ prefix: "fifo-example-" });
const toShell = `${dir}/to-shell`;
const fromShell = `${dir}/from-shell`;
await mkfifo(toShell, { mode: 0o600 });
await mkfifo(fromShell, { mode: 0o600 });
console.log(`mkfifo ${toShell} and ${fromShell} (mode 600)`);

// Open both ends first: nobody is on the other side yet, and the opens wait
// without blocking the event loop — this timer keeps ticking meanwhile.
let ticks = 0;
const ticker = setInterval(() => ticks++, 1);
const opening = Promise.all([
  openFifo(toShell, { write: true, timeout: 10_000 }),
  openFifo(fromShell, { read: true, timeout: 10_000 }),
]);

// The peer, 50 ms later: a shell that answers every line it reads.
await new Promise((resolve) => setTimeout(resolve, 50));
const shell = new Deno.Command("sh", {
  args: [
    "-c",
    `while read -r line; do echo "sh heard: $line"; done < ${toShell} > ${fromShell}`,
  ],
}).spawn();
const [input, output] = await opening;
clearInterval(ticker);
console.log(
  `both opens resolved when the shell opened its ends; the event loop ticked ${ticks}× meanwhile`,
);

const writer = input.writable.getWriter();
const lines = (await output).readable.pipeThrough(new TextDecoderStream())
  .getReader();
for (const word of ["hello", "named", "pipes"]) {
  await writer.write(new TextEncoder().encode(`${word}\n`));
  const { value } = await lines.read();
  console.log(`deno → "${word}"   ${value?.trim()}`);
}
await writer.close(); // the shell's read sees EOF, its loop ends
for (;;) if ((await lines.read()).done) break;
console.log(`shell exited with ${(await shell.status).code}; FIFOs removed`);
Deno.removeSync(dir, { recursive: true });
