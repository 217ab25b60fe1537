// Copyright 2026 the posix-ipc authors. MIT license.
// Bench workload: write TOTAL bytes in CHUNK-byte writes through the
// WritableStream of a pipe end adopted at fd 3, or of a FIFO opened by path.
// usage: pipe_writer.ts CHUNK TOTAL [FIFO_PATH]
import { openFifo } from "../../fifo/mod.ts";
import { PipeWriter } from "../../pipe/mod.ts";

const [chunk, total] = Deno.args.map(Number) as [number, number];
const fifo = Deno.args[2];
const writable = fifo
  ? (await openFifo(fifo, { write: true, size: 1 << 20 })).writable
  : PipeWriter.fromFd(3).writable;
const writer = writable.getWriter();
const buffer = new Uint8Array(chunk).fill(7);
for (let sent = 0; sent < total; sent += chunk) await writer.write(buffer);
await writer.close();
