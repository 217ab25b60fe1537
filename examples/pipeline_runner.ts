// Copyright 2026 the posix-ipc authors. MIT license.
// Runs a shell-style pipeline of three programs, streams the last stage's
// output line by line as it is produced, and sends every stage's stderr to
// a log file: the file is opened once (O_APPEND) and becomes fd 2 of each
// stage, so no stderr byte passes through JavaScript, and the stages'
// lines interleave in the log without overwriting each other.
//
// Mechanisms: pipeline() (kernel pipes between the stages, posix_spawnp),
// `stderr: { path, append: true }`, the last stage's stdout as a Web Stream
// through TextDecoderStream and a line splitter (a TransformStream).
//
//   deno run -A examples/pipeline_runner.ts
import { pipeline } from "../pipe/mod.ts";

/** Splits decoded text into lines (without the "\n"), as they complete. */
function splitLines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) controller.enqueue(line);
    },
    flush(controller) {
      if (rest) controller.enqueue(rest); // a last line without "\n"
    },
  });
}

const dir = Deno.makeTempDirSync({ prefix: "pipeline-runner-" });
const log = `${dir}/stages.log`;
Deno.writeTextFileSync(log, "--- stages.log ---\n"); // appended to, not replaced

// The shell's
//   generate | grep -v /health | sed … 2>>stages.log
// with each stage also writing to its stderr. The generator paces its
// output, so the lines show up here one by one, not all at the end.
const started = performance.now();
const p = pipeline([
  [
    "sh",
    "-c",
    `echo "generator: started as $$" >&2
     for i in 1 2 3 4 5 6 7 8; do
       case $((i % 3)) in 0) path=/health;; 1) path=/orders/$i;; 2) path=/users/$i;; esac
       echo "GET $path"
       sleep 0.05
     done
     echo "generator: wrote 8 requests" >&2`,
  ],
  // Line-buffered, so each line moves on at once.
  ["grep", "--line-buffered", "-v", "/health"],
  // Unbuffered; every /orders line is also written to stderr (the log).
  ["sed", "-u", "-e", "s/^GET /served /", "-e", "/orders/w /dev/stderr"],
], {
  stdout: "piped",
  stderr: { path: log, append: true },
});

console.log(`pipeline of ${p.pids.length} stages (pids ${p.pids.join(", ")}):`);
const lines = p.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
  splitLines(),
);
let count = 0;
for await (const line of lines) {
  count++;
  const ms = String(Math.round(performance.now() - started)).padStart(4);
  console.log(`  ${ms} ms  ${line}`);
}
const status = await p.status;
console.log(
  `${count} lines; stages exited with ${status.map((s) => s.code).join(", ")}`,
);

const text = Deno.readTextFileSync(log);
console.log(`${log} (written by the stages themselves):`);
for (const line of text.trimEnd().split("\n")) console.log(`  ${line}`);
Deno.removeSync(dir, { recursive: true });

// Every stage succeeded, both stages that write to stderr reached the log,
// and the output is the 6 non-/health requests.
const ok = status.every((s) => s.success) && count === 6 &&
  text.includes("generator: wrote 8 requests") &&
  text.includes("served /orders");
if (!ok) Deno.exit(1);
