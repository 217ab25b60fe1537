// Copyright 2026 the posix-ipc authors. MIT license.
// framed() under fuzzing and as a property: random byte streams never crash
// the decoder or yield a message over maxMessageSize; random message
// sequences round-trip through every transport.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLess,
} from "@std/assert";
import { mkfifo, openFifo } from "../../fifo/mod.ts";
import { pipe } from "../../pipe/mod.ts";
import { ShmChannelReader, ShmChannelWriter } from "../../shm/mod.ts";
import {
  type ByteChannel,
  connect,
  framed,
  listen,
  socketPair,
} from "../../socket/mod.ts";
import { randomName, sha256, tempDir, within } from "../_helpers.ts";
import { FUZZ_CASES, MESSAGES } from "./_size.ts";

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(random: () => number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (random() * 256) | 0;
  return out;
}

/** Splits bytes into random pieces (0 to 300 bytes each). */
function pieces(random: () => number, bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < bytes.length;) {
    const n = Math.floor(random() * 300);
    out.push(bytes.slice(off, off + n));
    off += n;
  }
  return out;
}

Deno.test(`framed() fuzz: ${FUZZ_CASES} random streams never crash or exceed maxMessageSize`, async () => {
  const seed = Date.now() >>> 0;
  const random = prng(seed);
  let messages = 0;
  const outcomes = { clean: 0, oversized: 0, truncated: 0 };
  for (let c = 0; c < FUZZ_CASES; c++) {
    const max = Math.floor(random() * 2048);
    // Mostly garbage, sometimes valid frames followed by garbage.
    const parts: Uint8Array[] = [];
    for (let k = Math.floor(random() * 4); k > 0; k--) {
      const size = Math.floor(random() * (max + 1));
      const frame = new Uint8Array(4 + size);
      new DataView(frame.buffer).setUint32(0, size);
      frame.set(randomBytes(random, size), 4);
      parts.push(frame);
    }
    parts.push(randomBytes(random, Math.floor(random() * 64)));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) all.set(p, (off += p.length) - p.length);
    const stream = ReadableStream.from(pieces(random, all));
    try {
      for await (
        const message of framed({ readable: stream }, { maxMessageSize: max })
          .readable
      ) {
        assert(
          message.length <= max,
          `seed ${seed} case ${c}: a ${message.length}-byte message over ${max}`,
        );
        messages++;
      }
      outcomes.clean++;
    } catch (error) {
      if (error instanceof RangeError) outcomes.oversized++;
      else if (error instanceof Deno.errors.UnexpectedEof) outcomes.truncated++;
      else throw new Error(`seed ${seed} case ${c}: unexpected ${error}`);
    }
  }
  assert(
    messages > 0 && outcomes.oversized > 0 && outcomes.truncated > 0,
    JSON.stringify(outcomes),
  );
});

Deno.test("framed() never allocates an announced size over the limit", async () => {
  // Announce 4 GiB − 1 a hundred times; with the default 16 MiB limit the
  // decoder must refuse each one without touching memory of that size.
  const before = Deno.memoryUsage().rss;
  for (let i = 0; i < 100; i++) {
    const stream = ReadableStream.from([
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
    ]);
    const error = await Array.fromAsync(framed({ readable: stream }).readable)
      .catch((e) => e);
    assertInstanceOf(error, RangeError);
  }
  assertLess(
    Deno.memoryUsage().rss - before,
    256 << 20,
    "resident memory grew by more than 256 MiB",
  );
});

/** A random message sequence: mostly small, some large, some empty. */
function messagesFor(random: () => number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    if (i % 29 === 0) return new Uint8Array(0);
    const r = random();
    const size = r < 0.8
      ? Math.floor(random() * 512)
      : r < 0.98
      ? Math.floor(random() * 70_000)
      : 300_000;
    return randomBytes(random, size);
  });
}

async function roundTrip(
  sender: ByteChannel,
  receiver: ByteChannel,
  messages: Uint8Array[],
  what: string,
) {
  const writer = framed(sender).writable.getWriter();
  const sending = (async () => {
    for (const m of messages) await writer.write(m);
    await writer.close();
  })();
  const got = await within(
    Array.fromAsync(framed(receiver).readable),
    60_000,
    `${what} round trip`,
  );
  await sending;
  assertEquals(got.map((m) => m.length), messages.map((m) => m.length), what);
  const join = (list: Uint8Array[]) => {
    const out = new Uint8Array(list.reduce((n, m) => n + m.length, 0));
    let off = 0;
    for (const m of list) out.set(m, (off += m.length) - m.length);
    return out;
  };
  assertEquals(await sha256(join(got)), await sha256(join(messages)), what);
}

Deno.test(`framed() property: ${MESSAGES} random messages round-trip through every transport`, async (t) => {
  const seed = Date.now() >>> 0;
  const random = prng(seed);
  const transports: [
    string,
    () => Promise<[ByteChannel, ByteChannel, () => void]>,
  ][] = [
    ["in-memory stream", () => {
      const { readable, writable } = new TransformStream<
        Uint8Array,
        Uint8Array
      >();
      return Promise.resolve([{ writable }, { readable }, () => {}]);
    }],
    ["pipe", () => {
      const { reader, writer } = pipe();
      return Promise.resolve([writer, reader, () => {}]);
    }],
    ["FIFO", async () => {
      const dir = Deno.makeTempDirSync();
      await mkfifo(`${dir}/f`);
      const [w, r] = await Promise.all([
        openFifo(`${dir}/f`, { write: true }),
        openFifo(`${dir}/f`, { read: true }),
      ]);
      return [w, r, () => Deno.removeSync(dir, { recursive: true })];
    }],
    ["socket pair", () => {
      const [a, b] = socketPair();
      return Promise.resolve([a, b, () => {}]);
    }],
    ["Unix socket (SocketEnd)", async () => {
      const dir = tempDir();
      const listener = listen({ path: `${dir.path}/s` });
      const [client, server] = await Promise.all([
        connect({ path: `${dir.path}/s` }),
        listener.accept(),
      ]);
      return [client, server, () => {
        listener.close();
        dir[Symbol.dispose]();
      }];
    }],
    ["TCP (SocketEnd)", async () => {
      const listener = listen({ port: 0, hostname: "127.0.0.1" });
      const port = (listener.addr as Deno.NetAddr).port;
      const [client, server] = await Promise.all([
        connect({ port }),
        listener.accept(),
      ]);
      return [client, server, () => listener.close()];
    }],
    ["ShmChannel", () => {
      const name = `/${randomName("pipc-frame")}`;
      const w = ShmChannelWriter.create(name, { capacity: 1 << 16 });
      const r = ShmChannelReader.open(name);
      w.unlink();
      return Promise.resolve([{ writable: w.writable }, {
        readable: r.readable,
      }, () => {
        w.close();
        r.close();
      }]);
    }],
  ];
  for (const [name, make] of transports) {
    await t.step(name, async () => {
      const [sender, receiver, done] = await make();
      try {
        await roundTrip(
          sender,
          receiver,
          messagesFor(random, MESSAGES),
          `${name} (seed ${seed})`,
        );
      } finally {
        done();
      }
    });
  }
});
