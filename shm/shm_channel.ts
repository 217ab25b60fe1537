// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkBoolean,
  checkBytes,
  checkCreateOnly,
  checkMode,
  checkName,
  checkOptions,
  checkSize,
  CREATE_ONLY,
  MAX_CAPACITY,
} from "../_check/mod.ts";
import { IS_LINUX } from "../_ffi/constants.ts";
import { closedError, invalidDataError } from "../_ffi/errors.ts";
import { libc } from "../_ffi/libc.ts";
import type { Mapping } from "../_ffi/mmap.ts";
import type { Lifecycle } from "../_object/lifecycle.ts";
import type { UnlinkOptions } from "../_object/options.ts";
import {
  futexSource,
  futexWake,
  type FutexWord,
  Owner,
  retry,
  type Source,
  type WaitUntil,
} from "../_wait/engine.ts";
import { FOREVER, untilOf, type WaitOptions } from "../_wait/options.ts";
import { processAlive, ProcessWatch } from "../_wait/process.ts";
import { byteReadable } from "../_streams/byte_source.ts";
import {
  createSegment,
  openOrCreateSegment,
  openSegment,
  type Segment,
  segmentLabel,
} from "./_segment.ts";

export { MAX_CAPACITY };

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
//   68 headSeq         +1 after every head store, on writer attach and close
//   72 readerWaiting   1 while the reader may sleep on headSeq
//   128 tail           read position (only the reader stores it)
//   132 tailSeq        +1 after every tail store, on reader attach and close
//   136 writerWaiting  1 while the writer may sleep on tailSeq
//
// The sequence words are unsigned 32-bit counters that wrap around (2^32
// operations take about 70 minutes at 1 µs each, and they keep going).
//
// Writer: copy bytes, store head, add 1 to headSeq, and FUTEX_WAKE headSeq
// if readerWaiting. Reader: symmetric with tail/tailSeq/writerWaiting. A side
// that finds nothing to do sets its waiting word, re-checks, and waits
// (futex, shared, not private) on the other side's seq word.
//
// A side records its pid when it attaches (create/open of its end) and bumps
// its own seq word, so that a peer already waiting notices it.
// Every position read from the ring is checked before use: the segment is
// writable by whoever may open it, so it is input, not trusted state.
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

type Role = "reader" | "writer";

/**
 * Options of {@linkcode ShmChannelWriter.create} and
 * {@linkcode ShmChannelReader.create}.
 *
 * @example A 4 MiB ring, removed at exit
 * ```ts
 * import { ShmChannelWriter, type ShmChannelCreateOptions } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: ShmChannelCreateOptions = { capacity: 4 << 20, mode: 0o600, unlinkOnClose: true };
 * using writer = ShmChannelWriter.create(name, options);
 * assertEquals(writer.capacity, 4 << 20);
 * ```
 */
export interface ShmChannelCreateOptions extends UnlinkOptions {
  /** Bytes the ring buffers (1 to 2^30). Larger rings mean fewer waits. */
  capacity: number;
  /** Permission bits of the segment, applied exactly. Default `0o600`. */
  mode?: number;
}

/**
 * Options of {@linkcode ShmChannelWriter.open} and
 * {@linkcode ShmChannelReader.open}.
 *
 * @example Open-or-create, whichever side starts first
 * ```ts
 * import { ShmChannelReader, ShmChannelWriter, type ShmChannelOpenOptions } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: ShmChannelOpenOptions = { create: true, capacity: 4096, unlinkOnClose: true };
 * using reader = ShmChannelReader.open(name, options);
 * using writer = ShmChannelWriter.open(name, options);
 * assertEquals([reader.created, writer.created], [true, false]);
 * ```
 */
export interface ShmChannelOpenOptions extends UnlinkOptions {
  /** Create the channel if it does not exist (needs `capacity`). Default false. */
  create?: boolean;
  /** With `create`: the capacity of a new channel. */
  capacity?: number;
  /** With `create`: permission bits of a new segment. Default `0o600`. */
  mode?: number;
}

/** Ends of this process, by segment identity and role: one of each. */
const attached = new Set<string>();

/** One end of a channel: the ring, its role, its peer and its waits. */
class Ring {
  readonly name: string;
  readonly role: Role;
  readonly capacity: number;
  readonly owner: Owner;
  readonly lifecycle: Lifecycle;
  #mapping: Mapping;
  #words: Int32Array;
  #data: Uint8Array;
  #wrap: number;
  #key: string;
  #peer: ProcessWatch | null = null;
  #closed = false;
  // Words of this end: the seq it bumps and the seq, waiting flag and pid
  // word of its peer.
  #ownSeq: number;
  #ownPos: number;
  #peerSeq: number;
  #peerPos: number;
  #waitingWord: number;
  #peerPidWord: number;
  #ownPidWord: number;

  constructor(segment: Segment, name: string, role: Role, call: string) {
    this.#mapping = segment.mapping;
    this.lifecycle = segment.lifecycle;
    this.name = name;
    this.role = role;
    this.owner = new Owner(
      `${segmentLabel("ShmChannel", name)} (${role} end)`,
    );
    const buffer = segment.mapping.buffer!;
    this.#words = new Int32Array(buffer, 0, DATA_OFFSET / 4);
    // Validated by the caller; read once, never again from shared memory.
    this.capacity = this.#words[W.capacity]!;
    this.#wrap = 2 * this.capacity;
    this.#data = new Uint8Array(buffer, DATA_OFFSET, this.capacity);
    const writer = role === "writer";
    this.#ownSeq = writer ? W.headSeq : W.tailSeq;
    this.#ownPos = writer ? W.head : W.tail;
    this.#peerSeq = writer ? W.tailSeq : W.headSeq;
    this.#peerPos = writer ? W.tail : W.head;
    this.#waitingWord = writer ? W.writerWaiting : W.readerWaiting;
    this.#ownPidWord = writer ? W.writerPid : W.readerPid;
    this.#peerPidWord = writer ? W.readerPid : W.writerPid;
    const id = segment.lifecycle.identity;
    this.#key = `${id.dev}:${id.ino}:${role}`;
    this.#attach(call);
  }

  /** Claims this end's role: one live process per role, one handle per process. */
  #attach(call: string): void {
    if (attached.has(this.#key)) {
      throw new Deno.errors.Busy(
        `${call}: this process already has the ${this.role} end of ${
          segmentLabel("ShmChannel", this.name)
        }`,
      );
    }
    const w = this.#words;
    const word = this.#ownPidWord;
    for (;;) {
      const current = Atomics.load(w, word);
      if (current !== 0 && current !== Deno.pid && processAlive(current)) {
        throw new Deno.errors.Busy(
          `${call}: ${
            segmentLabel("ShmChannel", this.name)
          } already has a ${this.role} (pid ${current})`,
        );
      }
      if (Atomics.compareExchange(w, word, current, Deno.pid) === current) {
        break;
      }
    }
    attached.add(this.#key);
    // Wake a peer that waits without knowing of us yet.
    this.#bump(this.#ownSeq);
  }

  #bump(seqWord: number): void {
    Atomics.add(this.#words, seqWord, 1);
    futexWake(this.#word(seqWord));
  }

  #word(index: number): FutexWord {
    return {
      view: this.#words,
      index,
      address: this.#mapping.at(index * 4),
    };
  }

  #use(call: string): void {
    if (this.#closed) throw closedError(call, this.owner.label);
  }

  /** The ring's state read from shared memory, bounds-checked. */
  #positions(call: string): { own: number; peer: number; used: number } {
    const w = this.#words;
    const own = Atomics.load(w, this.#ownPos);
    const peer = Atomics.load(w, this.#peerPos);
    const head = this.role === "writer" ? own : peer;
    const tail = this.role === "writer" ? peer : own;
    if (
      !(head >= 0 && head < this.#wrap && tail >= 0 && tail < this.#wrap)
    ) {
      throw this.#corrupt(call, `positions ${head} and ${tail}`);
    }
    let used = head - tail;
    if (used < 0) used += this.#wrap;
    if (used > this.capacity) {
      throw this.#corrupt(call, `${used} bytes used of ${this.capacity}`);
    }
    return { own, peer, used };
  }

  #corrupt(call: string, what: string): Error {
    return invalidDataError(
      call,
      `${this.owner.label} has a corrupt ring (${what}); another process wrote its header`,
    );
  }

  /** Copies what is there; null at EOF, undefined when empty and still open. */
  tryRead(buffer: Uint8Array, call: string): number | null | undefined {
    this.#use(call);
    const w = this.#words;
    const { own: tail, used } = this.#positions(call);
    if (used === 0) {
      if (Atomics.load(w, W.flags) & WRITER_CLOSED) {
        // The writer stores head before the flag: re-check for late bytes.
        if (this.#positions(call).used === 0) return null;
        return this.tryRead(buffer, call);
      }
      return undefined;
    }
    const n = Math.min(used, buffer.length);
    const cap = this.capacity;
    const at = tail < cap ? tail : tail - cap;
    const first = Math.min(n, cap - at);
    buffer.set(this.#data.subarray(at, at + first));
    if (first < n) buffer.set(this.#data.subarray(0, n - first), first);
    let next = tail + n;
    if (next >= this.#wrap) next -= this.#wrap;
    Atomics.store(w, W.tail, next);
    Atomics.add(w, W.tailSeq, 1);
    if (Atomics.load(w, W.writerWaiting)) futexWake(this.#word(W.tailSeq));
    return n;
  }

  /** Copies what fits from `bytes[offset…]`; returns how many it copied (0: full). */
  tryWrite(bytes: Uint8Array, offset: number, call: string): number {
    this.#use(call);
    const w = this.#words;
    if (Atomics.load(w, W.flags) & READER_CLOSED) {
      throw new Deno.errors.BrokenPipe(
        `${call}: the reader closed ${segmentLabel("ShmChannel", this.name)}`,
      );
    }
    const { own: head, used } = this.#positions(call);
    const free = this.capacity - used;
    if (free === 0) return 0;
    const n = Math.min(free, bytes.length - offset);
    const cap = this.capacity;
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
    if (Atomics.load(w, W.readerWaiting)) futexWake(this.#word(W.headSeq));
    return n;
  }

  /**
   * The sources a wait of this end watches: the peer's seq word moving (a
   * peer that attaches bumps it, so one appearing is seen there too: no
   * polling while none is attached) and the peer process ending.
   */
  #sources(seq: number): Source[] {
    const sources: Source[] = [futexSource(this.#word(this.#peerSeq), seq)];
    const pid = Atomics.load(this.#words, this.#peerPidWord);
    if (pid !== 0 && pid !== Deno.pid) {
      if (this.#peer?.pid !== pid) {
        this.#peer?.close();
        this.#peer = new ProcessWatch(pid);
      }
      sources.push(this.#peer.source);
    }
    return sources;
  }

  /**
   * Whether process `pid` has ended — through its pidfd, the same test as
   * the wait's source: `kill(pid, 0)` still finds a process that ended but
   * is not reaped yet (a zombie), and a wait whose source fires while this
   * says "alive" would spin until it is reaped.
   */
  #ended(pid: number): boolean {
    if (this.#peer?.pid === pid) return this.#peer.ended;
    return !processAlive(pid);
  }

  /** Throws when the peer died without closing (after its bytes were read). */
  #checkPeer(call: string): void {
    const pid = Atomics.load(this.#words, this.#peerPidWord);
    if (pid === 0 || pid === Deno.pid || !this.#ended(pid)) return;
    const flags = Atomics.load(this.#words, W.flags);
    if (this.role === "reader") {
      if (flags & WRITER_CLOSED) return;
      throw new Deno.errors.UnexpectedEof(
        `${call}: the writer of ${
          segmentLabel("ShmChannel", this.name)
        } (pid ${pid}) died without closing it`,
      );
    }
    throw new Deno.errors.BrokenPipe(
      `${call}: the reader of ${
        segmentLabel("ShmChannel", this.name)
      } (pid ${pid}) died`,
    );
  }

  /** Reads at least one byte, waiting; null at EOF. */
  read(
    buffer: Uint8Array,
    call: string,
    until: WaitUntil,
  ): Promise<number | null> {
    return this.#slow(call, "stayed empty", until, () => {
      const n = this.tryRead(buffer, call);
      return n === undefined ? undefined : { n };
    }).then((r) => r.n);
  }

  /** Writes all of `bytes` from `offset`, waiting for room. */
  async write(
    bytes: Uint8Array,
    offset: number,
    call: string,
    until: WaitUntil,
  ): Promise<void> {
    while (offset < bytes.length) {
      offset += await this.#slow(call, "stayed full", until, () => {
        const n = this.tryWrite(bytes, offset, call);
        return n === 0 ? undefined : n;
      });
    }
  }

  /**
   * The slow path: this end's waiting flag is set (so the peer wakes it),
   * then `attempt` runs until it succeeds, each failure followed by a wait
   * for the peer's seq word to move (its value taken before the attempt),
   * the peer to end, or a peer to appear.
   */
  async #slow<T>(
    call: string,
    state: string,
    until: WaitUntil,
    attempt: () => T | undefined,
  ): Promise<T> {
    const w = this.#words;
    Atomics.store(w, this.#waitingWord, 1);
    try {
      return await retry(
        this.owner,
        call,
        state,
        () => {
          this.#use(call);
          return this.#sources(Atomics.load(w, this.#peerSeq));
        },
        until,
        () => {
          const result = attempt();
          if (result === undefined) this.#checkPeer(call);
          return result;
        },
      );
    } finally {
      if (!this.#closed) Atomics.store(w, this.#waitingWord, 0);
    }
  }

  /** Ends this side: a writer's EOF, a reader's refusal of further writes. Idempotent. */
  close(call: string): void {
    if (this.#closed) return;
    const w = this.#words;
    try {
      Atomics.or(
        w,
        W.flags,
        this.role === "writer" ? WRITER_CLOSED : READER_CLOSED,
      );
      this.#bump(this.#ownSeq);
      Atomics.store(w, this.#waitingWord, 0);
    } finally {
      this.#closed = true;
      this.owner.close();
      attached.delete(this.#key);
      this.#peer?.close();
      this.#peer = null;
      try {
        this.#mapping.unmap();
      } finally {
        this.lifecycle.close(call);
      }
    }
  }

  get closed(): boolean {
    return this.#closed;
  }
}

function checkFutex(call: string): void {
  const lib = libc();
  if (!IS_LINUX || !lib.futex_wake) {
    throw new Deno.errors.NotSupported(
      `${call}: ShmChannel needs futex(2) (Linux)`,
    );
  }
}

/** Checks the header of an opened segment before anything else touches it. */
function checkHeader(segment: Segment, call: string, label: string): void {
  const size = segment.mapping.size;
  const words = new Int32Array(segment.mapping.buffer!, 0, DATA_OFFSET / 4);
  const fail = (why: string) =>
    new Deno.errors.InvalidData(`${call}: ${label} ${why}`);
  if (Atomics.load(words, W.magic) !== MAGIC) {
    throw fail("is not a ShmChannel (no ring header)");
  }
  if (words[W.version] !== VERSION) {
    throw fail(`has ring version ${words[W.version]}, not ${VERSION}`);
  }
  const capacity = words[W.capacity]!;
  if (
    words[W.dataOffset] !== DATA_OFFSET || capacity < 1 ||
    capacity > MAX_CAPACITY || DATA_OFFSET + capacity > size
  ) {
    throw fail(
      `has a corrupt ring header (capacity ${capacity} in ${size} bytes)`,
    );
  }
}

function initHeader(mapping: Mapping, capacity: number): void {
  const words = new Int32Array(mapping.buffer!, 0, DATA_OFFSET / 4);
  words[W.version] = VERSION;
  words[W.capacity] = capacity;
  words[W.dataOffset] = DATA_OFFSET;
  Atomics.store(words, W.magic, MAGIC);
}

/** Creates, opens, or opens-or-creates a channel's segment and attaches one end. */
function openRing(
  name: string,
  role: Role,
  how: "create" | "open",
  options: ShmChannelCreateOptions | ShmChannelOpenOptions | undefined,
  call: string,
): Ring {
  const cname = checkName(name, call, "shm");
  if (how === "create" && options === undefined) {
    throw new TypeError(`${call}: options must be an object with a capacity`);
  }
  const o = checkOptions<ShmChannelOpenOptions>(options, call);
  const create = how === "create" ||
    (checkBoolean(o.create, "create", call) ?? false);
  checkBoolean(o.unlinkOnClose, "unlinkOnClose", call);
  checkBoolean(o.unlinkOnExit, "unlinkOnExit", call);
  const mode = checkMode(o.mode, call) ?? 0o600;
  checkCreateOnly(o, CREATE_ONLY, create, call, "channel", " (and a capacity)");
  const capacity = create || o.capacity !== undefined
    ? checkSize(o.capacity, "capacity", call, MAX_CAPACITY)
    : 0;
  checkFutex(call);
  const label = segmentLabel("ShmChannel", name);
  const expect = { kind: "ShmChannel", minSize: DATA_OFFSET + 1 };
  const spec = {
    size: DATA_OFFSET + capacity,
    mode,
    unlinkOnClose: o.unlinkOnClose,
    unlinkOnExit: o.unlinkOnExit,
    init: (mapping: Mapping) => initHeader(mapping, capacity),
  };
  const segment = how === "create"
    ? createSegment(name, cname, spec, call, label)
    : create
    ? openOrCreateSegment(name, cname, false, expect, spec, call, label)
    : openSegment(name, cname, false, expect, call, label);
  try {
    if (!segment.lifecycle.created) checkHeader(segment, call, label);
    return new Ring(segment, name, role, call);
  } catch (error) {
    segment.mapping.unmap();
    if (segment.lifecycle.created) segment.lifecycle.removeIfOurs(call);
    segment.lifecycle.close(call);
    throw error;
  }
}

let newWriter: (ring: Ring) => ShmChannelWriter;
let newReader: (ring: Ring) => ShmChannelReader;

/**
 * The writing end of a one-way byte stream between two processes over a
 * ring buffer in shared memory ("a ShmChannel"): one writer, one reader, no
 * system call per message and one copy on each side — like a pipe, but
 * named and in shared memory. Its counterpart is {@linkcode ShmChannelReader}.
 *
 * The writer waits when the ring is full; the reader sees EOF when the
 * writer closes. Waits spin briefly only while the peer answers within
 * microseconds, then sleep in `futex(2)` (never a timer poll), so an idle
 * channel costs no CPU.
 *
 * **A dead peer is detected**: each end records its process when it is
 * created or opened, and a wait also watches the peer's exit (a pidfd), so a
 * reader whose writer was killed (even by SIGKILL, even before it wrote)
 * gets `UnexpectedEof` after the bytes that arrived, and a writer whose
 * reader died gets `BrokenPipe`, at once.
 *
 * The header layout is documented in the source (shm/shm_channel.ts), so a
 * C program can be either end.
 *
 * @example A producer and a consumer (here in one process)
 * ```ts
 * import { ShmChannelReader, ShmChannelWriter } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using producer = ShmChannelWriter.create(name, { capacity: 1 << 16, unlinkOnClose: true });
 * using consumer = ShmChannelReader.open(name);
 * const writer = producer.writable.getWriter();
 * await writer.write(new TextEncoder().encode("through shared memory"));
 * await writer.close();
 * assertEquals(await new Response(consumer.readable).text(), "through shared memory");
 * ```
 */
export class ShmChannelWriter implements Disposable {
  #ring: Ring;
  #writable: WritableStream<Uint8Array> | undefined;

  static {
    newWriter = (ring) => new ShmChannelWriter(ring);
  }

  private constructor(ring: Ring) {
    this.#ring = ring;
  }

  /**
   * Creates a channel (exclusively) and becomes its writer.
   *
   * @param name A POSIX name (`/` then up to 255 bytes without `/`).
   * @param options The ring's capacity, the segment's mode, cleanup.
   * @returns The writer end.
   * @throws {TypeError} If the name is not a valid POSIX name.
   * @throws {RangeError} If `capacity` is not an integer from 1 to 2^30.
   * @throws {Deno.errors.AlreadyExists} If the name exists.
   *
   * @example Create, write, close
   * ```ts
   * import { ShmChannelWriter } from "@posix/ipc/shm";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using writer = ShmChannelWriter.create(name, { capacity: 4096, unlinkOnClose: true });
   * assertEquals(await writer.write(new Uint8Array(100)), 100); // fits: no reader needed yet
   * ```
   */
  static create(
    name: string,
    options: ShmChannelCreateOptions,
  ): ShmChannelWriter {
    return newWriter(
      openRing(name, "writer", "create", options, "ShmChannelWriter.create()"),
    );
  }

  /**
   * Opens an existing channel (or, with `create: true`, creates it if it does
   * not exist) and becomes its writer.
   *
   * @param name The POSIX name.
   * @param options `create` with `capacity` for open-or-create.
   * @returns The writer end.
   * @throws {Deno.errors.NotFound} If no channel has that name (and `create` is not set).
   * @throws {Deno.errors.InvalidData} If the segment is not a channel of this version, or is damaged.
   * @throws {Deno.errors.Busy} If another live process (or another handle here) is its writer.
   *
   * @example The reader creates, the writer opens
   * ```ts
   * import { ShmChannelReader, ShmChannelWriter } from "@posix/ipc/shm";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using reader = ShmChannelReader.create(name, { capacity: 4096, unlinkOnClose: true });
   * using writer = ShmChannelWriter.open(name);
   * await writer.write(new Uint8Array([1, 2, 3]));
   * writer.close();
   * assertEquals(new Uint8Array(await new Response(reader.readable).arrayBuffer()), new Uint8Array([1, 2, 3]));
   * ```
   */
  static open(
    name: string,
    options?: ShmChannelOpenOptions,
  ): ShmChannelWriter {
    return newWriter(
      openRing(name, "writer", "open", options, "ShmChannelWriter.open()"),
    );
  }

  /** The channel's POSIX name. */
  get name(): string {
    return this.#ring.name;
  }

  /** Bytes the ring holds. */
  get capacity(): number {
    return this.#ring.capacity;
  }

  /** Whether this handle created the channel. */
  get created(): boolean {
    return this.#ring.lifecycle.created;
  }

  /** Whether `close()` was called (or the writable closed). */
  get closed(): boolean {
    return this.#ring.closed;
  }

  /**
   * Writes all of `data`, waiting while the ring is full: the low-level path
   * under {@linkcode ShmChannelWriter.writable} (use one or the other).
   *
   * @param data The bytes.
   * @param options An abort signal and a timeout for the whole write.
   * @returns The number of bytes written (all of them).
   * @throws {Deno.errors.BrokenPipe} If the reader closed or died.
   * @throws {Deno.errors.BadResource} If this end is (or gets) closed.
   *
   * @example Write with a deadline
   * ```ts
   * import { ShmChannelWriter } from "@posix/ipc/shm";
   * import { assertRejects } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using writer = ShmChannelWriter.create(name, { capacity: 16, unlinkOnClose: true });
   * await writer.write(new Uint8Array(16)); // fills the ring
   * await assertRejects(() => writer.write(new Uint8Array(1), { timeout: 10 }), Deno.errors.TimedOut);
   * ```
   */
  write(data: Uint8Array, options?: WaitOptions): Promise<number> {
    const call = "ShmChannelWriter.write()";
    let offset: number;
    let until: WaitUntil;
    try {
      checkBytes(data, call);
      until = untilOf(options, call);
      offset = this.#ring.tryWrite(data, 0, call);
      if (offset === data.length) return Promise.resolve(data.length);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#ring.write(data, offset, call, until).then(() => data.length);
  }

  /**
   * A stream into the channel. Closing it closes this end (the reader sees
   * EOF after the bytes sent); aborting it too.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk).then(() => {}),
      close: () => this.close(),
      abort: () => this.close(),
    });
  }

  /**
   * Closes this end: the reader sees EOF after the bytes already written.
   * Pending writes fail with `BadResource`. Unmaps the ring; removes the name
   * if this handle created it with `unlinkOnClose`. Idempotent.
   */
  close(): void {
    this.#ring.close("ShmChannelWriter.close()");
  }

  /**
   * Removes the channel's name if it still refers to this channel; attached
   * processes keep working.
   *
   * @throws {Deno.errors.NotFound} If the name is gone or names another object.
   */
  unlink(): void {
    this.#ring.lifecycle.unlink("ShmChannelWriter.unlink()");
  }

  /** Same as {@linkcode ShmChannelWriter.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The reading end of a channel (see {@linkcode ShmChannelWriter}).
 *
 * @example Read what another process writes
 * ```ts
 * import { ShmChannelReader, ShmChannelWriter } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using reader = ShmChannelReader.create(name, { capacity: 1024, unlinkOnClose: true });
 * using writer = ShmChannelWriter.open(name); // another process, usually
 * await writer.write(new TextEncoder().encode("hi"));
 * writer.close();
 * assertEquals(await new Response(reader.readable).text(), "hi");
 * ```
 */
export class ShmChannelReader implements Disposable {
  #ring: Ring;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;

  static {
    newReader = (ring) => new ShmChannelReader(ring);
  }

  private constructor(ring: Ring) {
    this.#ring = ring;
  }

  /**
   * Creates a channel (exclusively) and becomes its reader.
   *
   * @param name A POSIX name.
   * @param options The ring's capacity, the segment's mode, cleanup.
   * @returns The reader end.
   * @throws {Deno.errors.AlreadyExists} If the name exists.
   *
   * @example The reader waits for a writer
   * ```ts
   * import { ShmChannelReader } from "@posix/ipc/shm";
   * import { assertRejects } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using reader = ShmChannelReader.create(name, { capacity: 1024, unlinkOnClose: true });
   * await assertRejects(() => reader.read(new Uint8Array(8), { timeout: 10 }), Deno.errors.TimedOut);
   * ```
   */
  static create(
    name: string,
    options: ShmChannelCreateOptions,
  ): ShmChannelReader {
    return newReader(
      openRing(name, "reader", "create", options, "ShmChannelReader.create()"),
    );
  }

  /**
   * Opens an existing channel (or, with `create: true`, creates it) and
   * becomes its reader.
   *
   * @param name The POSIX name.
   * @param options `create` with `capacity` for open-or-create.
   * @returns The reader end.
   * @throws {Deno.errors.NotFound} If no channel has that name.
   * @throws {Deno.errors.InvalidData} If the segment is not a channel of this version, or is damaged.
   * @throws {Deno.errors.Busy} If another live process (or another handle here) is its reader.
   *
   * @example Open the channel a writer created
   * ```ts
   * import { ShmChannelReader, ShmChannelWriter } from "@posix/ipc/shm";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using writer = ShmChannelWriter.create(name, { capacity: 1024, unlinkOnClose: true });
   * using reader = ShmChannelReader.open(name);
   * await writer.write(new Uint8Array([7]));
   * const buffer = new Uint8Array(8);
   * assertEquals(await reader.read(buffer), 1);
   * ```
   */
  static open(
    name: string,
    options?: ShmChannelOpenOptions,
  ): ShmChannelReader {
    return newReader(
      openRing(name, "reader", "open", options, "ShmChannelReader.open()"),
    );
  }

  /** The channel's POSIX name. */
  get name(): string {
    return this.#ring.name;
  }

  /** Bytes the ring holds. */
  get capacity(): number {
    return this.#ring.capacity;
  }

  /** Whether this handle created the channel. */
  get created(): boolean {
    return this.#ring.lifecycle.created;
  }

  /** Whether `close()` was called (or the readable finished). */
  get closed(): boolean {
    return this.#ring.closed;
  }

  /**
   * Reads available bytes into `buffer` (at least one, at most its length),
   * waiting when the ring is empty: the low-level path under
   * {@linkcode ShmChannelReader.readable} (use one or the other).
   *
   * @param buffer Where to put the bytes.
   * @param options An abort signal and a timeout.
   * @returns The byte count, or null at end of stream (the writer closed).
   * @throws {Deno.errors.UnexpectedEof} If the writer died without closing.
   * @throws {Deno.errors.BadResource} If this end is (or gets) closed.
   *
   * @example Read into a reused buffer
   * ```ts
   * import { ShmChannelReader, ShmChannelWriter } from "@posix/ipc/shm";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using writer = ShmChannelWriter.create(name, { capacity: 64, unlinkOnClose: true });
   * using reader = ShmChannelReader.open(name);
   * await writer.write(new Uint8Array([1, 2, 3]));
   * writer.close();
   * const buffer = new Uint8Array(16);
   * assertEquals(await reader.read(buffer), 3);
   * assertEquals(await reader.read(buffer), null);
   * ```
   */
  read(
    buffer: Uint8Array,
    options?: WaitOptions,
  ): Promise<number | null> {
    const call = "ShmChannelReader.read()";
    let until: WaitUntil;
    try {
      checkBytes(buffer, call, "buffer");
      until = untilOf(options, call);
      if (buffer.length === 0) return Promise.resolve(0);
      const n = this.#ring.tryRead(buffer, call);
      if (n !== undefined) return Promise.resolve(n);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#ring.read(buffer, call, until);
  }

  /**
   * The bytes written by the other process, as a `"bytes"` stream with BYOB
   * support; it ends when the writer closes. Reaching the end, cancelling or
   * an error closes this end.
   */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    const call = "ShmChannelReader.readable";
    return this.#readable ??= byteReadable({
      tryRead: (bytes) =>
        this.#ring.closed ? undefined : this.#ring.tryRead(bytes, call),
      read: (bytes) => this.#ring.read(bytes, call, FOREVER),
      done: () => this.close(),
    });
  }

  /**
   * Closes this end: further writes fail with `BrokenPipe`; pending reads
   * fail with `BadResource`. Unmaps the ring; removes the name if this handle
   * created it with `unlinkOnClose`. Idempotent.
   */
  close(): void {
    this.#ring.close("ShmChannelReader.close()");
  }

  /**
   * Removes the channel's name if it still refers to this channel.
   *
   * @throws {Deno.errors.NotFound} If the name is gone or names another object.
   */
  unlink(): void {
    this.#ring.lifecycle.unlink("ShmChannelReader.unlink()");
  }

  /** Same as {@linkcode ShmChannelReader.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
