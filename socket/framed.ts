// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkInteger,
  DEFAULT_MAX_MESSAGE_SIZE,
  describe,
  FRAME_SIZE_MAX,
} from "../_check/mod.ts";

export { DEFAULT_MAX_MESSAGE_SIZE };

/**
 * Options of {@linkcode framed}.
 *
 * @example A tighter message limit
 * ```ts
 * import { framed, type FramedOptions } from "@posix/ipc/socket";
 * import { assertRejects } from "@std/assert";
 *
 * const options: FramedOptions = { maxMessageSize: 1024 };
 * const bytes = ReadableStream.from([new Uint8Array([0, 0, 8, 0])]); // announces 2048 bytes
 * await assertRejects(() => Array.fromAsync(framed({ readable: bytes }, options).readable), RangeError);
 * ```
 */
export interface FramedOptions {
  /**
   * Largest message accepted, in bytes, in either direction. A received
   * length above it errors the readable without allocating anything; a
   * larger message written is a `RangeError`. Default 16 MiB; at most
   * 4 GiB − 1 (the wire format's limit).
   */
  maxMessageSize?: number;
}

/**
 * A byte stream `framed()` can carry messages over: one side or both.
 *
 * @example Any object with byte streams
 * ```ts
 * import { type ByteChannel, framed } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const sender: ByteChannel = { writable };
 * const receiver: ByteChannel = { readable };
 * const received = Array.fromAsync(framed(receiver).readable);
 * const w = framed(sender).writable.getWriter();
 * await w.write(new Uint8Array([1, 2]));
 * await w.close();
 * assertEquals(await received, [new Uint8Array([1, 2])]);
 * ```
 */
export interface ByteChannel {
  /** Where messages are read from. */
  readonly readable?: ReadableStream<Uint8Array>;
  /** Where messages are written to. */
  readonly writable?: WritableStream<Uint8Array>;
  /**
   * Reads into a buffer (Deno.Conn, Deno.FsFile). Preferred over `readable`
   * when present: `Deno.Conn` closes itself when its `readable` ends, which
   * would make a reply after the end of the requests impossible.
   */
  read?(buffer: Uint8Array): Promise<number | null>;
  /**
   * Writes bytes, resolving with how many were written (Deno.Conn, our
   * handles). Preferred over `writable` when present.
   */
  write?(data: Uint8Array): Promise<number>;
  /** Half-close, when the channel has it (Deno.Conn, SocketEnd). */
  closeWrite?(): void | Promise<void>;
  /** Closed by `framed()` once its readable has ended and its writable (if used) is closed. */
  close?(): void;
}

/**
 * Whole messages over a byte stream, from {@linkcode framed}.
 *
 * @example The two message streams
 * ```ts
 * import { type Framed, framed, socketPair } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = socketPair();
 * const left: Framed = framed(a);
 * const right: Framed = framed(b);
 * const w = left.writable.getWriter();
 * await w.write(new TextEncoder().encode("one message"));
 * await w.close();
 * const [message] = await Array.fromAsync(right.readable);
 * assertEquals(new TextDecoder().decode(message), "one message");
 * a.close();
 * ```
 */
export interface Framed {
  /** Received messages, one chunk per message. */
  readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;
  /** Messages to send, one chunk per message. Closing it half-closes the channel. */
  readonly writable: WritableStream<Uint8Array>;
}

const HEADER = 4;
/**
 * Messages up to this size are copied behind their header and written once;
 * larger ones are written as header then body, without a copy.
 */
const COALESCE_LIMIT = 4 * 1024;
const BUFFER_SIZE = 256 * 1024;

/**
 * Whole messages over any byte stream — a socket, a socket pair, a pipe, a
 * FIFO, a shared-memory channel — with a wire format any language can speak:
 *
 * ```text
 * ┌──────────────────────────────┬──────────────────────┐
 * │ length: uint32, big-endian   │ length bytes         │
 * └──────────────────────────────┴──────────────────────┘
 * ```
 *
 * Empty messages are allowed (a zero length). In Python:
 * `sock.sendall(struct.pack(">I", len(m)) + m)`; to read, `recv` exactly 4
 * bytes, unpack `">I"`, then `recv` exactly that many.
 *
 * Closing the `writable` half-closes the channel (`closeWrite()` when it has
 * one, else it closes the underlying writable), so the peer sees the end of
 * the requests while the reply can still be read: a request/response
 * exchange needs no end-of-request marker. A length above `maxMessageSize`
 * errors the `readable` with a message naming the limit, before anything of
 * that size is allocated; a stream that ends inside a message errors it too.
 *
 * Large messages are read straight into their own buffer when the
 * underlying stream supports BYOB reads (all streams of this package and
 * `Deno.Conn` do), and written without copying.
 *
 * @param channel An object with `readable` and/or `writable` byte streams.
 * @param options The message size limit.
 * @returns Message streams (each getter throws `TypeError` when the channel lacks that side).
 * @throws {RangeError} If `maxMessageSize` is not an integer from 0 to 2³² − 1.
 *
 * @example A request/response over a socket pair
 * ```ts
 * import { framed, socketPair } from "@posix/ipc/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const [client, server] = socketPair();
 * const c = framed(client);
 * const s = framed(server);
 * const requests = c.writable.getWriter();
 * await requests.write(new TextEncoder().encode("2+2"));
 * await requests.write(new Uint8Array(0)); // empty messages are fine
 * await requests.close(); // half-close: the server sees the end
 *
 * const replies = s.writable.getWriter();
 * for await (const m of s.readable) await replies.write(new TextEncoder().encode(`got ${m.length}`));
 * await replies.close();
 *
 * const answers = await Array.fromAsync(c.readable, (m) => new TextDecoder().decode(m));
 * assertEquals(answers, ["got 3", "got 0"]);
 * ```
 */
export function framed(
  channel: ByteChannel,
  options: FramedOptions = {},
): Framed {
  if (typeof channel !== "object" || channel === null) {
    throw new TypeError(
      `framed(): the channel must be an object with readable and/or writable streams, got ${
        describe(channel)
      }`,
    );
  }
  const { maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE } = options ?? {};
  checkInteger(maxMessageSize, "maxMessageSize", "framed()", 0, FRAME_SIZE_MAX);
  let readable: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;
  let writable: WritableStream<Uint8Array> | undefined;
  let readDone = false;
  let writeDone = false;
  // Close the channel once reading is over and writing (if used) is too.
  const settle = () => {
    if (readDone && (writeDone || !writable)) {
      try {
        channel.close?.();
      } catch {
        // Closed already.
      }
    }
  };
  return {
    get readable() {
      if (!channel.readable && typeof channel.read !== "function") {
        throw new TypeError("framed(): the channel has no readable side");
      }
      return readable ??= decode(channel, maxMessageSize, () => {
        readDone = true;
        settle();
      });
    },
    get writable() {
      if (!channel.writable && typeof channel.write !== "function") {
        throw new TypeError("framed(): the channel has no writable side");
      }
      return writable ??= encode(
        channel,
        maxMessageSize,
        () => {
          writeDone = true;
          settle();
        },
      );
    },
  };
}

/**
 * Reads from the channel: with its `read()` method when it has one, else
 * from its readable with BYOB when it can, else with a default reader.
 */
class Source {
  #read: ((buffer: Uint8Array) => Promise<number | null>) | undefined;
  #byob: ReadableStreamBYOBReader | undefined;
  #plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Bytes a plain read returned beyond what was asked. */
  #spill: Uint8Array | undefined;

  constructor(channel: ByteChannel) {
    if (typeof channel.read === "function") {
      this.#read = channel.read.bind(channel);
      return;
    }
    const stream = channel.readable!;
    try {
      this.#byob = stream.getReader({ mode: "byob" });
    } catch {
      this.#plain = stream.getReader();
    }
  }

  /**
   * Reads at least one byte into `view` (at most its length). Returns the
   * view holding the bytes (its buffer may be a new, transferred one), or
   * null at end of stream.
   */
  async read(view: Uint8Array): Promise<Uint8Array | null> {
    if (this.#read) {
      const n = await this.#read(view);
      return n === null ? null : view.subarray(0, n);
    }
    if (this.#byob) {
      const { value, done } = await this.#byob.read(view);
      if (done || !value) return null;
      return value;
    }
    let chunk = this.#spill;
    this.#spill = undefined;
    while (!chunk || chunk.length === 0) {
      const { value, done } = await this.#plain!.read();
      if (done) return null;
      chunk = value;
    }
    const n = Math.min(chunk.length, view.length);
    view.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#spill = chunk.subarray(n);
    return view.subarray(0, n);
  }

  async cancel(reason?: unknown): Promise<void> {
    await (this.#byob ?? this.#plain)?.cancel(reason);
  }

  release(): void {
    (this.#byob ?? this.#plain)?.releaseLock();
  }
}

function decode(
  channel: ByteChannel,
  max: number,
  done: () => void,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  let source: Source | undefined;
  // Buffered bytes live in buffer[start, end).
  let buffer = new Uint8Array(BUFFER_SIZE);
  let start = 0;
  let end = 0;

  /** Reads more into the buffer; false at end of stream. */
  const fill = async (): Promise<boolean> => {
    if (start > 0 && start === end) start = end = 0;
    if (end === buffer.length) {
      buffer.copyWithin(0, start, end);
      end -= start;
      start = 0;
    }
    const got = await source!.read(buffer.subarray(end));
    if (!got) return false;
    buffer = new Uint8Array(got.buffer as ArrayBuffer); // BYOB transfers the buffer
    end += got.length;
    return true;
  };

  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    start() {
      source = new Source(channel);
    },
    async pull(controller) {
      try {
        await next(controller);
      } catch (error) {
        done();
        throw error;
      }
    },
    async cancel(reason) {
      await source?.cancel(reason);
      done();
    },
  }, { highWaterMark: 0 });

  async function next(
    controller: ReadableStreamDefaultController<Uint8Array<ArrayBuffer>>,
  ) {
    while (end - start < HEADER) {
      if (!(await fill())) {
        if (end === start) {
          controller.close();
          source!.release();
          done();
          return;
        }
        throw new Deno.errors.UnexpectedEof(
          `framed(): the stream ended inside a message header (${
            end - start
          } of 4 bytes)`,
        );
      }
    }
    const length = new DataView(
      buffer.buffer,
      buffer.byteOffset + start,
      HEADER,
    ).getUint32(0);
    if (length > max) {
      const error = new RangeError(
        `framed(): received a message of ${length} bytes, over maxMessageSize (${max} bytes)`,
      );
      await source!.cancel(error).catch(() => {});
      throw error;
    }
    start += HEADER;
    const have = Math.min(length, end - start);
    let message = new Uint8Array(length);
    message.set(buffer.subarray(start, start + have));
    start += have;
    let filled = have;
    while (filled < length) {
      // Read the rest straight into the message.
      const got = await source!.read(message.subarray(filled));
      if (!got) {
        throw new Deno.errors.UnexpectedEof(
          `framed(): the stream ended inside a message (${filled} of ${length} bytes)`,
        );
      }
      message = new Uint8Array(got.buffer as ArrayBuffer);
      filled += got.length;
    }
    controller.enqueue(message);
  }
}

function encode(
  channel: ByteChannel,
  max: number,
  done: () => void,
): WritableStream<Uint8Array> {
  // A channel's own write() (Deno.Conn, our handles) skips a stream layer;
  // it may write less than asked (Deno.Conn), so loop.
  const direct = typeof channel.write === "function"
    ? channel.write.bind(channel)
    : undefined;
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  const put = async (bytes: Uint8Array) => {
    if (!direct) return await writer!.write(bytes);
    for (let off = 0; off < bytes.length;) {
      off += await direct(off ? bytes.subarray(off) : bytes);
    }
  };
  return new WritableStream<Uint8Array>({
    start() {
      if (!direct) writer = channel.writable!.getWriter();
    },
    async write(message) {
      if (!(message instanceof Uint8Array)) {
        throw new TypeError(
          `framed(): messages must be Uint8Array, got ${describe(message)}`,
        );
      }
      if (message.length > max) {
        throw new RangeError(
          `framed(): cannot send a message of ${message.length} bytes, over maxMessageSize (${max} bytes)`,
        );
      }
      if (message.length <= COALESCE_LIMIT) {
        const frame = new Uint8Array(HEADER + message.length);
        new DataView(frame.buffer).setUint32(0, message.length);
        frame.set(message, HEADER);
        await put(frame);
      } else {
        const header = new Uint8Array(HEADER);
        new DataView(header.buffer).setUint32(0, message.length);
        await put(header);
        await put(message);
      }
    },
    async close() {
      try {
        if (typeof channel.closeWrite === "function") {
          if (writer) {
            await writer.ready;
            writer.releaseLock();
          }
          await channel.closeWrite();
        } else if (writer) {
          await writer.close();
        } else {
          channel.close?.();
        }
      } catch (error) {
        // The connection is already closed (e.g. the peer reset it): the
        // peer sees the end of our messages either way.
        if (!(error instanceof Deno.errors.BadResource)) throw error;
      } finally {
        done();
      }
    },
    async abort(reason) {
      try {
        if (writer) await writer.abort(reason);
        else if (typeof channel.closeWrite === "function") {
          await channel.closeWrite();
        } else channel.close?.();
      } finally {
        done();
      }
    },
  });
}
