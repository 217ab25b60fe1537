// Copyright 2026 the posix-ipc authors. MIT license.
// Whole messages through shared memory, each checked end to end: a
// producer process writes framed messages into a ShmChannel (a ring buffer
// in a POSIX shared-memory segment); every frame carries its sequence
// number and the SHA-256 of its payload, and the consumer verifies each one
// (order and digest). A second, short transfer flips one bit of one payload
// on purpose, after its digest was taken, to show the check catching it.
//
//   frame = [u32 sequence, big-endian][32-byte SHA-256 of the payload][payload]
//   (inside framed()'s own [u32 length] framing)
//
// Mechanisms: ShmChannelReader.create (the consumer owns the segment,
// removed when it closes), ShmChannelWriter.open in a spawn()ed producer,
// framed() over both ends, crypto.subtle.digest.
//
//   deno run -A examples/shm_frames.ts
import { ShmChannelReader, ShmChannelWriter } from "../shm/mod.ts";
import { framed } from "../socket/mod.ts";
import { spawn } from "../pipe/mod.ts";

const self = new URL(import.meta.url).pathname;
const HEADER = 4 + 32;
const MAX_PAYLOAD = 64 * 1024;

/** The payload size of frame `seq`: empty, tiny and up to 64 KiB. */
function sizeOf(seq: number): number {
  if (seq % 10 === 0) return 0;
  return (Math.imul(seq, 2654435761) >>> 0) % (MAX_PAYLOAD + 1);
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// ─── the producer (a child process) ─────────────────────────────────────────

async function produce(name: string, frames: number, corrupt: number) {
  using channel = ShmChannelWriter.open(name);
  const writer = framed(channel, { maxMessageSize: HEADER + MAX_PAYLOAD })
    .writable.getWriter();
  // Payloads are slices of 1 MiB of random bytes, at varying offsets.
  const pool = new Uint8Array((1 << 20) + MAX_PAYLOAD);
  for (let i = 0; i < pool.length; i += 65536) {
    crypto.getRandomValues(pool.subarray(i, i + 65536));
  }
  for (let seq = 0; seq < frames; seq++) {
    const size = sizeOf(seq);
    const offset = (Math.imul(seq, 7919) >>> 0) % (1 << 20);
    const payload = pool.subarray(offset, offset + size);
    const frame = new Uint8Array(HEADER + size);
    new DataView(frame.buffer).setUint32(0, seq);
    frame.set(await sha256(payload), 4);
    frame.set(payload, HEADER);
    if (seq === corrupt) frame[HEADER + (size >> 1)]! ^= 0x10; // after the digest
    await writer.write(frame); // waits while the ring is full
  }
  await writer.close(); // closes this end: the consumer sees EOF
}

// ─── the consumer ───────────────────────────────────────────────────────────

async function transfer(frames: number, corrupt = -1): Promise<boolean> {
  const name = `/shm-frames-${Deno.pid}-${frames}`;
  // 256 KiB ring: smaller than the data, so the two processes take turns.
  using channel = ShmChannelReader.create(name, {
    capacity: 256 * 1024,
    unlinkOnClose: true, // the name goes when this end closes
  });
  const producer = spawn(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      self,
      "produce",
      name,
      String(frames),
      String(corrupt),
    ],
  });
  let started = 0; // the clock starts at the first frame, not at the child's start-up
  let verified = 0;
  let bytes = 0;
  let expected = 0;
  const rejected: string[] = [];
  const messages = framed(channel, { maxMessageSize: HEADER + MAX_PAYLOAD });
  for await (const frame of messages.readable) {
    started ||= performance.now();
    const seq = new DataView(frame.buffer, frame.byteOffset).getUint32(0);
    const payload = frame.subarray(HEADER);
    const digest = await sha256(payload);
    bytes += payload.length;
    if (seq !== expected) {
      rejected.push(`frame ${seq} arrived where ${expected} was due`);
    } else if (!digest.every((b, i) => b === frame[4 + i])) {
      rejected.push(`frame ${seq} (${payload.length} bytes): SHA-256 mismatch`);
    } else {
      verified++;
    }
    expected = seq + 1;
  }
  const seconds = (performance.now() - started) / 1000;
  const status = await producer.status;
  console.log(
    `${name}: ${verified} frames verified, ${rejected.length} rejected (${
      (bytes / 1e6).toFixed(1)
    } MB of payload)`,
  );
  if (frames >= 1000) {
    console.log(
      `  throughput: ${(bytes / 1e6 / seconds).toFixed(0)} MB/s, ${
        (frames / seconds).toFixed(0)
      } frames/s (one SHA-256 per frame on each side included)`,
    );
  }
  for (const problem of rejected) console.log(`  rejected: ${problem}`);
  return status.success && verified + rejected.length === frames &&
    (corrupt < 0 ? rejected.length === 0 : rejected.length === 1);
}

const [mode = "demo", ...rest] = Deno.args;
if (mode === "produce") {
  await produce(rest[0]!, Number(rest[1]), Number(rest[2]));
} else {
  const clean = await transfer(2000);
  console.log("again, with one bit of frame 7 flipped after its digest:");
  const caught = await transfer(10, 7);
  // Nothing left behind: the segments were removed with the reader ends.
  const left = [...Deno.readDirSync("/dev/shm")].filter((e) =>
    e.name.includes(`shm-frames-${Deno.pid}-`)
  );
  console.log(
    `left in /dev/shm: ${
      left.length ? left.map((e) => e.name).join(", ") : "nothing"
    }`,
  );
  if (!clean || !caught || left.length > 0) Deno.exit(1);
}
