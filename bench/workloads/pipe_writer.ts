// Copyright 2026 the posix-ipc authors. MIT license.
// Bench workload: adopt fd 3 as a pipe (or open a FIFO) and write TOTAL bytes
// in CHUNK-byte writes through the WritableStream.
// usage: pipe_writer.ts CHUNK TOTAL
import { PipeWriter } from "../../pipe/mod.ts";

const [chunk, total] = Deno.args.map(Number) as [number, number];
const writer = PipeWriter.fromFd(3).writable.getWriter();
const buffer = new Uint8Array(chunk).fill(7);
for (let sent = 0; sent < total; sent += chunk) await writer.write(buffer);
await writer.close();
