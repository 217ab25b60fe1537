// Copyright 2026 the posix-ipc authors. MIT license.
// The other process of `ipc bench`: writes for throughput runs, echoes for
// round trips. usage: worker.ts MECHANISM ROLE ARGS…
//
// Roles:  write CHUNK TOTAL     send TOTAL bytes in CHUNK-byte writes
//         echo SIZE COUNT       answer COUNT messages of SIZE bytes
// Endpoints come as extra arguments (paths, ports, names) or as fds 3 and 4.

import { openFifo } from "../../fifo/mod.ts";
import { MessageQueue } from "../../mq/mod.ts";
import { PipeReader, PipeWriter } from "../../pipe/mod.ts";
import { Semaphore } from "../../sem/mod.ts";
import { ShmChannelReader, ShmChannelWriter } from "../../shm/mod.ts";
import { connect, framed, SocketEnd, UnixDatagram } from "../../socket/mod.ts";
import { readExactly } from "./_io.ts";

const [mechanism, role, ...rest] = Deno.args;
const n = (i: number) => Number(rest[i]);

async function writeAll(
  writable: WritableStream<Uint8Array>,
  chunk: number,
  total: number,
): Promise<void> {
  const writer = writable.getWriter();
  const buffer = new Uint8Array(chunk).fill(7);
  for (let sent = 0; sent < total; sent += chunk) await writer.write(buffer);
  await writer.close();
}

async function echo(
  readable: ReadableStream<Uint8Array>,
  writable: WritableStream<Uint8Array>,
  size: number,
  count: number,
): Promise<void> {
  const reader = readable.getReader({ mode: "byob" });
  const writer = writable.getWriter();
  let buffer = new Uint8Array(size);
  for (let i = 0; i < count; i++) {
    buffer = await readExactly(reader, buffer);
    await writer.write(buffer);
  }
  await writer.close();
}

switch (`${mechanism} ${role}`) {
  case "pipe write":
    await writeAll(PipeWriter.fromFd(3).writable, n(0), n(1));
    break;
  case "pipe write-raw": {
    const writer = PipeWriter.fromFd(3);
    const buffer = new Uint8Array(n(0)).fill(7);
    for (let sent = 0; sent < n(1); sent += n(0)) await writer.write(buffer);
    writer.close();
    break;
  }
  case "pipe echo":
    await echo(
      PipeReader.fromFd(3).readable,
      PipeWriter.fromFd(4).writable,
      n(0),
      n(1),
    );
    break;
  case "fifo write":
    await writeAll(
      (await openFifo(rest[2]!, { write: true, size: 1 << 20 })).writable,
      n(0),
      n(1),
    );
    break;
  case "fifo echo": {
    const input = await openFifo(rest[2]!, { read: true });
    const output = await openFifo(rest[3]!, { write: true });
    await echo(input.readable, output.writable, n(0), n(1));
    break;
  }
  case "unix write":
  case "tcp write": {
    const conn = mechanism === "unix"
      ? await connect({ path: rest[2]! })
      : await connect({ port: Number(rest[2]) });
    await writeAll(conn.writable, n(0), n(1));
    break;
  }
  case "unix echo":
  case "tcp echo": {
    const conn = mechanism === "unix"
      ? await connect({ path: rest[2]! })
      : await connect({ port: Number(rest[2]) });
    if (mechanism === "tcp") conn.setNoDelay(true);
    await echo(conn.readable, conn.writable, n(0), n(1));
    break;
  }
  case "framed write": {
    const { writable } = framed(SocketEnd.fromFd(3));
    const writer = writable.getWriter();
    const message = new Uint8Array(n(0)).fill(7);
    for (let sent = 0; sent < n(1); sent += n(0)) await writer.write(message);
    await writer.close();
    break;
  }
  case "framed echo": {
    const { readable, writable } = framed(SocketEnd.fromFd(3));
    const writer = writable.getWriter();
    for await (const message of readable) await writer.write(message);
    await writer.close();
    break;
  }
  case "unix-dgram write": {
    using socket = UnixDatagram.unbound();
    const datagram = new Uint8Array(n(0)).fill(7);
    for (let sent = 0; sent < n(1); sent += n(0)) {
      await socket.send(datagram, rest[2]!);
    }
    await socket.send(new Uint8Array(0), rest[2]!); // the end
    break;
  }
  case "unix-dgram echo": {
    using socket = UnixDatagram.bind(rest[3]!);
    for (let i = 0; i < n(1) + 1; i++) {
      const { data } = await socket.receive();
      await socket.send(data, rest[2]!);
    }
    break;
  }
  case "shm write": {
    using channel = ShmChannelWriter.open(rest[2]!);
    await writeAll(channel.writable, n(0), n(1));
    break;
  }
  case "shm echo": {
    using input = ShmChannelReader.open(rest[2]!);
    using output = ShmChannelWriter.open(rest[3]!);
    await echo(input.readable, output.writable, n(0), n(1));
    break;
  }
  case "shm write-raw": {
    // The low-level path: ShmChannel.write() without a stream.
    using channel = ShmChannelWriter.open(rest[2]!);
    const buffer = new Uint8Array(n(0)).fill(7);
    for (let sent = 0; sent < n(1); sent += n(0)) await channel.write(buffer);
    break;
  }
  case "shm echo-raw": {
    using input = ShmChannelReader.open(rest[2]!);
    using output = ShmChannelWriter.open(rest[3]!);
    const buffer = new Uint8Array(n(0));
    for (let i = 0; i < n(1); i++) {
      for (let got = 0; got < buffer.length;) {
        got += (await input.read(buffer.subarray(got)))!;
      }
      await output.write(buffer);
    }
    break;
  }
  case "framed write-raw":
    // The baseline of framed(): the same socket pair, raw bytes.
    await writeAll(SocketEnd.fromFd(3).writable, n(0), n(1));
    break;
  case "sem echo": {
    using ping = Semaphore.open(rest[2]!);
    using pong = Semaphore.open(rest[3]!);
    for (let i = 0; i < n(1); i++) {
      await ping.wait();
      pong.post();
    }
    break;
  }
  case "mq echo": {
    using input = MessageQueue.open(rest[2]!, { read: true });
    using output = MessageQueue.open(rest[3]!, { write: true });
    for (let i = 0; i < n(1); i++) {
      await output.send((await input.receive()).data);
    }
    break;
  }
  case "signal echo": {
    const parent = Number(rest[2]);
    let left = n(1);
    const done = Promise.withResolvers<void>();
    const reply = () => {
      Deno.kill(parent, "SIGUSR2");
      if (--left === 0) done.resolve();
    };
    Deno.addSignalListener("SIGUSR1", reply);
    console.log("ready");
    const keepAlive = setInterval(() => {}, 1000);
    await done.promise;
    clearInterval(keepAlive);
    Deno.removeSignalListener("SIGUSR1", reply);
    break;
  }
  default:
    console.error(`worker: unknown mechanism/role "${mechanism} ${role}"`);
    Deno.exit(2);
}
