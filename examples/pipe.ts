// Copyright 2026 the posix-ipc authors. MIT license.
// pipe(), spawn() and pipeline(): kernel pipes between this process and
// children, and between children, without a shell.
import { pipe, pipeline, spawn } from "../pipe/mod.ts";

const text = new TextDecoder();

// 1. A child's output, collected (like Deno.Command, via posix_spawnp).
const uname = await spawn("uname", { args: ["-sr"], stdout: "piped" }).output();
console.log(
  `spawn("uname") → ${text.decode(uname.stdout).trim()} (exit ${uname.code})`,
);

// 2. The shell's `printf … | sort | uniq -c`: three stages, two kernel pipes,
//    no byte of the data passes through JavaScript.
const p = pipeline(
  [["printf", "b\\na\\nb\\nc\\nb\\n"], ["sort"], ["uniq", "-c"]],
  { stdout: "piped" },
);
const counts = (await new Response(p.stdout).text()).trim().replace(
  /\s+/g,
  " ",
);
console.log(`pipeline(printf | sort | uniq -c) → ${counts}`);
console.log(
  `  stages exited: ${(await p.status).map((s) => s.code).join(", ")}`,
);

// 3. `yes | head -n 3`: head exits, yes dies of SIGPIPE, as in a shell.
const yes = pipeline([["yes"], ["head", "-n", "3"]], { stdout: "piped" });
await new Response(yes.stdout).arrayBuffer();
console.log(
  `pipeline(yes | head -n 3) → yes ended by ${(await yes.status)[0]!.signal}`,
);

// 4. A private pipe to a child at fd 3; the parent's copy of the write end is
//    handed over, so EOF arrives when the child exits.
const { reader, writer } = pipe();
const child = spawn("sh", {
  args: ["-c", 'for i in 1 2 3; do echo "line $i from child $$" >&3; done'],
  fds: { 3: writer },
});
for await (const chunk of reader.readable) {
  process(text.decode(chunk));
}
await child.status;

function process(lines: string) {
  for (const line of lines.trim().split("\n")) console.log(`fd 3 → ${line}`);
}

// 5. Throughput: 64 MiB from this process through `cat` and back.
const cat = spawn("cat", { stdin: "piped", stdout: "piped" });
const size = 64 << 20;
const started = performance.now();
const w = cat.stdin.getWriter();
const writing = (async () => {
  const chunk = new Uint8Array(1 << 16);
  for (let sent = 0; sent < size; sent += chunk.length) await w.write(chunk);
  await w.close();
})();
let received = 0;
for await (const chunk of cat.stdout) received += chunk.length;
await writing;
const seconds = (performance.now() - started) / 1000;
console.log(
  `64 MiB through cat and back: ${(received / seconds / 1e9).toFixed(2)} GB/s`,
);
