// Copyright 2026 the posix-ipc authors. MIT license.
// Node.js baseline: net over a Unix socket between two processes.
// usage: node net_unix.mjs throughput PATH CHUNK TOTAL
//        node net_unix.mjs roundtrip PATH SIZE COUNT
//          → {"cpuUs": this process over the round trips, "samplesUs": […]}
//        node net_unix.mjs peer-write PATH CHUNK TOTAL | peer-echo PATH SIZE COUNT
import { spawn } from "node:child_process";
import net from "node:net";
import { unlinkSync } from "node:fs";

const [mode, path, a, b] = process.argv.slice(2);
const size = Number(a);
const count = Number(b);

if (mode === "peer-write") {
  const socket = net.connect(path, async () => {
    const buffer = Buffer.alloc(size, 7);
    for (let sent = 0; sent < count; sent += size) {
      if (!socket.write(buffer)) {
        await new Promise((r) => socket.once("drain", r));
      }
    }
    socket.end();
  });
} else if (mode === "peer-echo") {
  const socket = net.connect(path);
  let pending = Buffer.alloc(0);
  socket.on("data", (data) => {
    pending = Buffer.concat([pending, data]);
    while (pending.length >= size) {
      socket.write(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
  });
} else {
  try {
    unlinkSync(path);
  } catch { /* none */ }
  const server = net.createServer((socket) => {
    if (mode === "throughput") {
      let bytes = 0;
      let start = 0;
      socket.on("data", (data) => {
        if (!start) start = performance.now();
        bytes += data.length;
      });
      socket.on("end", () => {
        console.log(
          JSON.stringify({
            gbps: bytes / ((performance.now() - start) / 1000) / 1e9,
          }),
        );
        server.close();
      });
    } else {
      const samples = [];
      const message = Buffer.alloc(size, 1);
      let got = 0;
      let t = performance.now();
      const cpu0 = process.cpuUsage();
      socket.on("data", (data) => {
        got += data.length;
        while (got >= size) {
          got -= size;
          samples.push((performance.now() - t) * 1000);
          if (samples.length === count) {
            // The last 90%, in order, as the C and Deno round trips print.
            const cpu = process.cpuUsage(cpu0);
            console.log(
              JSON.stringify({
                cpuUs: cpu.user + cpu.system,
                samplesUs: samples.slice(Math.floor(count / 10)),
              }),
            );
            socket.destroy();
            child.kill();
            server.close();
            return;
          }
          t = performance.now();
          socket.write(message);
        }
      });
      t = performance.now();
      socket.write(message);
    }
  });
  let child;
  server.listen(path, () => {
    const peer = mode === "throughput" ? "peer-write" : "peer-echo";
    child = spawn(process.execPath, [
      new URL(import.meta.url).pathname,
      peer,
      path,
      a,
      b,
    ], { stdio: "inherit" });
  });
}
