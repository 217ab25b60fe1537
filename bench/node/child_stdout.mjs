// Copyright 2026 the posix-ipc authors. MIT license.
// Node.js baseline: a child's stdout through child_process pipes.
// usage: node child_stdout.mjs WRITER CHUNK TOTAL  (WRITER: the C writer)
import { spawn } from "node:child_process";

const [writer, chunk, total] = process.argv.slice(2);
const child = spawn(writer, [chunk, total], {
  stdio: ["ignore", "pipe", "inherit"],
});
let bytes = 0;
let start = 0;
child.stdout.on("data", (data) => {
  if (!start) start = performance.now();
  bytes += data.length;
});
child.on("close", () => {
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ gbps: bytes / seconds / 1e9 }));
});
