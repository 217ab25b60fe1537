// Copyright 2026 the posix-ipc authors. MIT license.

import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { describe } from "../_ffi/cstring.ts";
import { lastError } from "../_ffi/errno.ts";
import { errno, libc } from "../_ffi/libc.ts";
import type { Mapping } from "../_ffi/mmap.ts";
import { checkModeBits, checkSize, posixName } from "../_ffi/names.ts";
import { byteReadable } from "../_streams/byte_source.ts";
import { checkChunk } from "../_streams/writable.ts";
import { unlinkAtExit } from "../_ffi/shutdown.ts";
import { createSegment, openSegment } from "./_segment.ts";

// ---------------------------------------------------------------------------
// Ring header, version 1. All fields are little-endian 32-bit words at the
// byte offsets below; the data area follows at DATA_OFFSET. Positions
// (head, tail) count bytes modulo 2 × capacity, so that a full ring
// (head − tail = capacity) differs from an empty one (head = tail) for any
// capacity; a position p is at data[p < capacity ? p : p − capacity].
//
//   0  magic           0x43504950 ("PIPC" as bytes) — stored last on create
//   4  version         1
//   8  capacity        bytes in the data area (1 … 2^30)
//   12 dataOffset      256
//   16 flags           bit 0: writer closed, bit 1: reader closed
//   20 writerPid       pid of the attached writer, 0 if none
//   24 readerPid       pid of the attached reader, 0 if none
//   64 head            written position (only the writer stores it)
//   68 headSeq         +1 after every head store and on writer close (futex word)
//   72 readerWaiting   1 while the reader may sleep on headSeq
//   128 tail           read position (only the reader stores it)
//   132 tailSeq        +1 after every tail store and on reader close (futex word)
//   136 writerWaiting  1 while the writer may sleep on tailSeq
//
// Writer: copy bytes, store head, add 1 to headSeq, and FUTEX_WAKE headSeq
// if readerWaiting. Reader: symmetric with tail/tailSeq/writerWaiting. A side
// that finds nothing to do spins briefly, then sets its waiting word,
// re-checks, and FUTEX_WAITs (shared, not private) on the other side's seq.
// ---------------------------------------------------------------------------
const MAGIC = 0x43504950;
const VERSION = 1;
const DATA_OFFSET = 256;
const W = {
  magic: 0,
  version: 1,
  capacity: 2,
  dataOffset: 3,
  flags: 4,
  writerPid: 5,
  readerPid: 6,
  head: 16,
  headSeq: 17,
  readerWaiting: 18,
  tail: 32,
  tailSeq: 33,
  writerWaiting: 34,
} as const;
const WRITER_CLOSED = 1;
const READER_CLOSED = 2;
/**
 * Most bytes a channel can buffer.
 *
 * @example The largest ring
 * ```ts
 * import { MAX_CAPACITY } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(MAX_CAPACITY, 1 << 30);
 * ```
 */
export const MAX_CAPACITY = 1 << 30;
/** Spin this long on the other side's progress before sleeping in futex(2). */
const SPIN_MS = 0.05;
/** Futex sleeps are sliced so that a dead peer is noticed. */
const SLICE_NS = 250_000_000n;

/**
 * Options of {@linkcode ShmChannel.create}.
 *
 * @example A 4 MiB ring, removed at exit
 * ```ts
 * import { ShmChannel, type ShmChannelCreateOptions } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: ShmChannelCreateOptions = { capacity: 4 << 20, mode: 0o600, unlinkOnExit: true };
 * using channel = ShmChannel.create(name, options);
 * assertEquals(channel.capacity, 4 << 20);
 * channel.unlink();
 * ```
 */
export interface ShmChannelCreateOptions {
  /** Bytes the ring buffers (1 to 2^30). Larger rings mean fewer waits. */
  capacity: number;
  /** Permission bits of the segment, applied exactly. Default `0o600`. */
  mode?: number;
  /**
   * Unlink the name when this process exits — normally, or on SIGINT/SIGTERM
   * (which then run this cleanup and exit with 128 + the signal number, as
   * `onShutdown` does) — unless it was unlinked already. A process killed
   * with SIGKILL cannot clean up: `ipc rm --stale` finds what it left.
   * Default false.
   */
  unlinkOnExit?: boolean;
}

/**
 * Options of the low-level {@linkcode ShmChannel.read} and {@linkcode ShmChannel.write}.
 *
 * @example Give up a read
 * ```ts
 * import { ShmChannel, type ShmChannelIoOptions } from "@posix/ipc/shm";
 * import { assertRejects } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using channel = ShmChannel.create(name, { capacity: 1024 });
 * channel.unlink();
 * const options: ShmChannelIoOptions = { signal: AbortSignal.timeout(20) };
 * await assertRejects(() => channel.read(new Uint8Array(8), options), DOMException);
 * ```
 */
export interface ShmChannelIoOptions {
  /** Aborting rejects the wait with the signal's reason. */
  signal?: AbortSignal;
}

let newChannel: (mapping: Mapping, name: string) => ShmChannel;

/**
 * A one-way byte stream between two processes over a ring buffer in shared
 * memory: a single writer and a single reader, no system call per message,
 * and one copy on each side. The writer waits when the ring is full; the
 * reader sees EOF when the writer closes. Waiting is a short spin, then
 * `futex(2)` on the ring (never a timer poll), so an idle channel costs no CPU.
 *
 * **A dead peer is detected**: each side records its pid in the ring; while
 * waiting, a side checks the other's pid every 250 ms, so a reader whose
 * writer was killed (even by SIGKILL) gets `UnexpectedEof`, and a writer whose
 * reader died gets `BrokenPipe`, within a second.
 *
 * The header layout is documented in the source (shm/shm_channel.ts) so a C
 * program can be either side.
 *
 * @example A producer and a consumer (here in one process)
 * ```ts
 * import { ShmChannel } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using producer = ShmChannel.create(name, { capacity: 1 << 16 });
 * using consumer = ShmChannel.open(name);
 * consumer.unlink(); // both are attached; the name is no longer needed
 * const writer = producer.writable.getWriter();
 * await writer.write(new TextEncoder().encode("through shared memory"));
 * await writer.close();
 * assertEquals(await new Response(consumer.readable).text(), "through shared memory");
 * ```
 */
export class ShmChannel implements Disposable {
  #mapping: Mapping;
  #words: Int32Array;
  #data: Uint8Array;
  #capacity: number;
  #wrap: number;
  #role = { reader: false, writer: false };
  #closed = false;
  #pending = 0;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #forgetExit: (() => void) | undefined;
  /** The POSIX name of the channel's segment. */
  readonly name: string;

  static {
    newChannel = (mapping, name) => new ShmChannel(mapping, name);
  }

  private constructor(mapping: Mapping, name: string) {
    this.#mapping = mapping;
    this.name = name;
    const buffer = mapping.buffer!;
    this.#words = new Int32Array(buffer, 0, DATA_OFFSET / 4);
    this.#capacity = this.#words[W.capacity]!;
    this.#wrap = 2 * this.#capacity;
    this.#data = new Uint8Array(buffer, DATA_OFFSET, this.#capacity);
  }

  /**
   * Creates a channel's segment (exclusively) and initializes its ring.
   *
   * @param name A POSIX name (`/` then up to 254 bytes without `/`).
   * @param options The ring capacity and the segment's mode.
   * @returns The channel; use its `writable` or its `readable`.
   * @throws {TypeError} If the name is not a valid POSIX name.
   * @throws {RangeError} If `capacity` is not an integer from 1 to 2^30.
   * @throws {Deno.errors.AlreadyExists} If the name exists.
   */
  static create(name: string, options: ShmChannelCreateOptions): ShmChannel {
    const call = "ShmChannel.create()";
    const cname = posixName(name, call);
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `${call}: options must be an object with a capacity, got ${
          describe(options)
        }`,
      );
    }
    const capacity = checkSize(
      options.capacity,
      "capacity",
      call,
      MAX_CAPACITY,
    );
    const mode = checkModeBits(options.mode, call) ?? 0o600;
    checkFutex(call);
    const mapping = createSegment(
      cname,
      name,
      DATA_OFFSET + capacity,
      mode,
      true,
    );
    const words = new Int32Array(mapping.buffer!, 0, DATA_OFFSET / 4);
    words[W.version] = VERSION;
    words[W.capacity] = capacity;
    words[W.dataOffset] = DATA_OFFSET;
    Atomics.store(words, W.magic, MAGIC);
    const channel = newChannel(mapping, name);
    if (options.unlinkOnExit) {
      channel.#forgetExit = unlinkAtExit(
        `/dev/shm${name}`,
        () => libc().shm_unlink(cname),
      );
    }
    return channel;
  }

  /**
   * Opens a channel created by another process (or a C program speaking the
   * header format).
   *
   * @param name The POSIX name.
   * @returns The channel.
   * @throws {Deno.errors.NotFound} If no segment has that name.
   * @throws {Deno.errors.InvalidData} If the segment is not a channel of this version.
   */
  static open(name: string): ShmChannel {
    const call = "ShmChannel.open()";
    const cname = posixName(name, call);
    checkFutex(call);
    const mapping = openSegment(cname, name, false);
    const words = new Int32Array(
      mapping.buffer!,
      0,
      Math.min(DATA_OFFSET, mapping.size) / 4,
    );
    const fail = (why: string) => {
      mapping.unmap();
      return new Deno.errors.InvalidData(
        `${call}: ${JSON.stringify(name)} ${why}`,
      );
    };
    if (mapping.size < DATA_OFFSET || Atomics.load(words, W.magic) !== MAGIC) {
      throw fail("is not a ShmChannel (no ring header)");
    }
    if (words[W.version] !== VERSION) {
      throw fail(`has ring version ${words[W.version]}, not ${VERSION}`);
    }
    const capacity = words[W.capacity]!;
    if (
      words[W.dataOffset] !== DATA_OFFSET || capacity < 1 ||
      DATA_OFFSET + capacity > mapping.size
    ) {
      throw fail("has a corrupt ring header");
    }
    return newChannel(mapping, name);
  }

  /**
   * Removes a channel's name (processes attached keep their mapping).
   *
   * @param name The POSIX name.
   * @throws {Deno.errors.NotFound} If no segment has that name.
   */
  static unlink(name: string): void {
    const cname = posixName(name, "ShmChannel.unlink()");
    if (libc().shm_unlink(cname) === -1) {
      throw lastError(`Cannot unlink ShmChannel ${JSON.stringify(name)}`);
    }
  }

  /** Bytes the ring can hold. */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Reads available bytes into `buffer` (at least one, at most its length),
   * waiting when the ring is empty. The low-level path under `readable`: one
   * copy, no stream machinery.
   *
   * @param buffer Where to put the bytes.
   * @param options An abort signal.
   * @returns The byte count, or null at end of stream (the writer closed).
   * @throws {Deno.errors.UnexpectedEof} If the writer died without closing.
   * @throws {Deno.errors.Busy} If another process is this channel's reader.
   * @throws {Deno.errors.BadResource} If the channel is closed.
   */
  read(
    buffer: Uint8Array,
    options?: ShmChannelIoOptions,
  ): Promise<number | null> {
    try {
      this.#attach("reader");
      if (!(buffer instanceof Uint8Array)) {
        throw new TypeError(
          `ShmChannel.read(): buffer must be a Uint8Array, got ${
            describe(buffer)
          }`,
        );
      }
      if (buffer.length === 0) return Promise.resolve(0);
      const n = this.#tryRead(buffer);
      if (n !== undefined) return Promise.resolve(n);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#readSlow(buffer, options?.signal);
  }

  async #readSlow(
    buffer: Uint8Array,
    signal?: AbortSignal,
  ): Promise<number | null> {
    for (;;) {
      const seq = Atomics.load(this.#words, W.headSeq);
      const n = this.#tryRead(buffer);
      if (n !== undefined) return n;
      await this.#wait(
        W.headSeq,
        seq,
        W.readerWaiting,
        W.writerPid,
        "reader",
        signal,
      );
    }
  }

  /** Copies what is there; undefined when the ring is empty and still open. */
  #tryRead(buffer: Uint8Array): number | null | undefined {
    this.#check("ShmChannel.read()");
    const w = this.#words;
    const head = Atomics.load(w, W.head);
    const tail = w[W.tail]!;
    let used = head - tail;
    if (used < 0) used += this.#wrap;
    if (used === 0) {
      if (Atomics.load(w, W.flags) & WRITER_CLOSED) {
        // The writer stores head before the flag: re-check for late bytes.
        if (Atomics.load(w, W.head) === tail) return null;
        return this.#tryRead(buffer);
      }
      return undefined;
    }
    const n = Math.min(used, buffer.length);
    const cap = this.#capacity;
    const at = tail < cap ? tail : tail - cap;
    const first = Math.min(n, cap - at);
    buffer.set(this.#data.subarray(at, at + first));
    if (first < n) buffer.set(this.#data.subarray(0, n - first), first);
    let next = tail + n;
    if (next >= this.#wrap) next -= this.#wrap;
    Atomics.store(w, W.tail, next);
    Atomics.add(w, W.tailSeq, 1);
    if (Atomics.load(w, W.writerWaiting)) this.#wake(W.tailSeq);
    return n;
  }

  /**
   * Writes all of `bytes`, waiting while the ring is full. The low-level
   * path under `writable`.
   *
   * @param bytes What to send.
   * @param options An abort signal.
   * @throws {Deno.errors.BrokenPipe} If the reader closed or died.
   * @throws {Deno.errors.Busy} If another process is this channel's writer.
   * @throws {Deno.errors.BadResource} If the channel is closed.
   */
  write(bytes: Uint8Array, options?: ShmChannelIoOptions): Promise<void> {
    let offset: number;
    try {
      this.#attach("writer");
      checkChunk(bytes, "ShmChannel.write()");
      offset = this.#tryWrite(bytes, 0);
      if (offset === bytes.length) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#writeSlow(bytes, offset, options?.signal);
  }

  async #writeSlow(
    bytes: Uint8Array,
    offset: number,
    signal?: AbortSignal,
  ): Promise<void> {
    while (offset < bytes.length) {
      const seq = Atomics.load(this.#words, W.tailSeq);
      const next = this.#tryWrite(bytes, offset);
      if (next !== offset) {
        offset = next;
        continue;
      }
      await this.#wait(
        W.tailSeq,
        seq,
        W.writerWaiting,
        W.readerPid,
        "writer",
        signal,
      );
    }
  }

  /** Copies what fits; returns the new offset into `bytes`. */
  #tryWrite(bytes: Uint8Array, offset: number): number {
    this.#check("ShmChannel.write()");
    const w = this.#words;
    if (Atomics.load(w, W.flags) & READER_CLOSED) {
      throw new Deno.errors.BrokenPipe(
        `Cannot write to ShmChannel ${
          JSON.stringify(this.name)
        }: the reader closed it`,
      );
    }
    const head = w[W.head]!;
    const tail = Atomics.load(w, W.tail);
    let used = head - tail;
    if (used < 0) used += this.#wrap;
    const free = this.#capacity - used;
    if (free === 0) return offset;
    const n = Math.min(free, bytes.length - offset);
    const cap = this.#capacity;
    const at = head < cap ? head : head - cap;
    const first = Math.min(n, cap - at);
    this.#data.set(bytes.subarray(offset, offset + first), at);
    if (first < n) {
      this.#data.set(bytes.subarray(offset + first, offset + n), 0);
    }
    let next = head + n;
    if (next >= this.#wrap) next -= this.#wrap;
    Atomics.store(w, W.head, next);
    Atomics.add(w, W.headSeq, 1);
    if (Atomics.load(w, W.readerWaiting)) this.#wake(W.headSeq);
    return offset + n;
  }

  /**
   * Waits until the word `seqWord` moves past `seq`: a short spin, then
   * futex sleeps in 250 ms slices, checking the peer between slices.
   */
  async #wait(
    seqWord: number,
    seq: number,
    waitingWord: number,
    peerPidWord: number,
    role: "reader" | "writer",
    signal?: AbortSignal,
  ): Promise<void> {
    const w = this.#words;
    const until = performance.now() + SPIN_MS;
    while (performance.now() < until) {
      if (Atomics.load(w, seqWord) !== seq) return;
    }
    signal?.throwIfAborted();
    const lib = libc();
    const timeout = new BigInt64Array([0n, SLICE_NS]);
    const address = this.#mapping.at(seqWord * 4);
    const onAbort = () => this.#wake(seqWord);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#pending++;
    Atomics.store(w, waitingWord, 1);
    try {
      while (Atomics.load(w, seqWord) === seq && !this.#closed) {
        await lib.futex_wait_async!(
          BigInt(C.SYS_futex),
          address,
          C.FUTEX_WAIT,
          seq,
          timeout,
        );
        signal?.throwIfAborted();
        if (Atomics.load(w, seqWord) !== seq || this.#closed) break;
        this.#checkPeer(peerPidWord, role);
      }
    } finally {
      Atomics.store(w, waitingWord, 0);
      signal?.removeEventListener("abort", onAbort);
      if (--this.#pending === 0 && this.#closed) this.#mapping.unmap();
    }
  }

  #wake(seqWord: number): void {
    libc().futex_wake!(
      BigInt(C.SYS_futex),
      this.#mapping.at(seqWord * 4),
      C.FUTEX_WAKE,
      0x7fffffff,
    );
  }

  #checkPeer(peerPidWord: number, role: "reader" | "writer"): void {
    const pid = Atomics.load(this.#words, peerPidWord);
    if (pid === 0 || pid === Deno.pid) return;
    if (libc().kill(pid, 0) === -1 && errno() === E.ESRCH) {
      const flags = Atomics.load(this.#words, W.flags);
      if (role === "reader") {
        if (flags & WRITER_CLOSED) return;
        throw new Deno.errors.UnexpectedEof(
          `ShmChannel ${
            JSON.stringify(this.name)
          }: the writer (pid ${pid}) died without closing the channel`,
        );
      }
      throw new Deno.errors.BrokenPipe(
        `ShmChannel ${JSON.stringify(this.name)}: the reader (pid ${pid}) died`,
      );
    }
  }

  #check(action: string): void {
    if (this.#closed) {
      throw new Deno.errors.BadResource(
        `${action}: the channel ${JSON.stringify(this.name)} is closed`,
      );
    }
  }

  /** Claims the reader or writer side for this process (one of each per channel). */
  #attach(role: "reader" | "writer"): void {
    if (this.#role[role]) return;
    this.#check(`ShmChannel ${role}`);
    const word = role === "reader" ? W.readerPid : W.writerPid;
    const w = this.#words;
    for (;;) {
      const current = Atomics.load(w, word);
      if (current === Deno.pid) break;
      if (
        current !== 0 &&
        !(libc().kill(current, 0) === -1 && errno() === E.ESRCH)
      ) {
        throw new Deno.errors.Busy(
          `ShmChannel ${
            JSON.stringify(this.name)
          } already has a ${role} (pid ${current})`,
        );
      }
      if (Atomics.compareExchange(w, word, current, Deno.pid) === current) {
        break;
      }
    }
    this.#role[role] = true;
  }

  /**
   * The bytes written by the other process, as a `"bytes"` stream with BYOB
   * support; it ends when the writer closes. Using it makes this process the
   * channel's reader.
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= byteReadable({
      tryRead: (bytes) => {
        this.#attach("reader");
        return this.#tryRead(bytes);
      },
      read: (bytes) => this.#readSlow(bytes),
      done: () => this.close(),
    });
  }

  /**
   * A stream into the channel. Using it makes this process the channel's
   * writer; closing it signals EOF to the reader.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
      abort: () => this.close(),
    });
  }

  /**
   * Ends the stream for the reader (it sees EOF after the bytes sent), even
   * when nothing was written: this process becomes the writer.
   *
   * @throws {Deno.errors.Busy} If another process is this channel's writer.
   */
  closeWrite(): void {
    if (this.#closed) return;
    this.#attach("writer");
    Atomics.or(this.#words, W.flags, WRITER_CLOSED);
    Atomics.add(this.#words, W.headSeq, 1);
    this.#wake(W.headSeq);
  }

  /**
   * Detaches this process: a writer's close is EOF for the reader, a
   * reader's close makes further writes fail with `BrokenPipe`. Unmaps the
   * ring (after pending waits return). The name stays until `unlink()`.
   * Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    const w = this.#words;
    if (this.#role.writer) this.closeWrite();
    if (this.#role.reader) {
      Atomics.or(w, W.flags, READER_CLOSED);
      Atomics.add(w, W.tailSeq, 1);
      this.#wake(W.tailSeq);
    }
    this.#closed = true;
    // Wake this process's own sleepers, then unmap once they have returned.
    this.#wake(W.headSeq);
    this.#wake(W.tailSeq);
    if (this.#pending === 0) this.#mapping.unmap();
  }

  /**
   * Removes the channel's name; attached processes keep working.
   *
   * @throws {Deno.errors.NotFound} If the name is already gone.
   */
  unlink(): void {
    ShmChannel.unlink(this.name);
    this.#forgetExit?.();
  }

  /** Same as {@linkcode ShmChannel.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function checkFutex(call: string): void {
  const lib = libc();
  if (!IS_LINUX || !lib.futex_wait_async || !lib.futex_wake) {
    throw new Deno.errors.NotSupported(
      `${call}: ShmChannel needs futex(2) (Linux)`,
    );
  }
}
