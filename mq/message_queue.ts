// Copyright 2026 the posix-ipc authors. MIT license.

import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { describe } from "../_ffi/cstring.ts";
import { lastError, osError } from "../_ffi/errno.ts";
import { readSmallFile } from "../_ffi/fd.ts";
import { FdHandle } from "../_ffi/handle.ts";
import { errno, libc } from "../_ffi/libc.ts";
import type { WaitOptions } from "../_ffi/poll.ts";
import {
  checkModeBits,
  checkSize,
  checkTimeout,
  posixName,
} from "../_ffi/names.ts";
import { unlinkAtExit } from "../_ffi/shutdown.ts";
import { checkChunk } from "../_streams/writable.ts";
import { deadlineOf } from "../_ffi/poll.ts";

/**
 * Options of {@linkcode MessageQueue.open}.
 *
 * @example A small queue for sending
 * ```ts
 * import { MessageQueue, type MessageQueueOpenOptions } from "@posix/ipc/mq";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: MessageQueueOpenOptions = { create: true, write: true, maxMessages: 4, messageSize: 128, unlinkOnClose: true };
 * using queue = MessageQueue.open(name, options);
 * assertEquals(queue.attributes.messageSize, 128);
 * ```
 */
export interface MessageQueueOpenOptions {
  /** Create the queue if it does not exist. Default false. */
  create?: boolean;
  /** With `create`: fail with `AlreadyExists` if it exists. Default false. */
  exclusive?: boolean;
  /** Permission bits of a created queue, applied exactly. Default `0o600`. */
  mode?: number;
  /** Most messages the queue holds (created queues). Default: `/proc/sys/fs/mqueue/msg_default`. */
  maxMessages?: number;
  /** Largest message in bytes (created queues). Default: `/proc/sys/fs/mqueue/msgsize_default`. */
  messageSize?: number;
  /** Open for receiving. Default true unless only `write` is given. */
  read?: boolean;
  /** Open for sending. Default true unless only `read` is given. */
  write?: boolean;
  /** `close()` (and `using`) also unlinks the name. Default false. */
  unlinkOnClose?: boolean;
  /**
   * With `create`: unlink the name when this process exits — normally, or on SIGINT/SIGTERM
   * (which then run this cleanup and exit with 128 + the signal number, as
   * `onShutdown` does) — unless it was unlinked already. A process killed
   * with SIGKILL cannot clean up: `ipc rm --stale` finds what it left.
   * Default false.
   */
  unlinkOnExit?: boolean;
}

/**
 * Options of {@linkcode MessageQueue.send}.
 *
 * @example An urgent message
 * ```ts
 * import { MessageQueue, type MessageQueueSendOptions } from "@posix/ipc/mq";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using queue = MessageQueue.open(name, { create: true, maxMessages: 4, messageSize: 64, unlinkOnClose: true });
 * const options: MessageQueueSendOptions = { priority: 10, timeout: 1000 };
 * await queue.send(new Uint8Array([1]), options);
 * assertEquals((await queue.receive()).priority, 10);
 * ```
 */
export interface MessageQueueSendOptions {
  /** Priority from 0 to 32767; higher is received first. Default 0. */
  priority?: number;
  /** Aborting stops waiting for room; nothing is sent. */
  signal?: AbortSignal;
  /** Milliseconds to wait for room; then `Deno.errors.TimedOut`, nothing sent. */
  timeout?: number;
}

/**
 * Options of {@linkcode MessageQueue.receive}.
 *
 * @example Wait at most 10 ms
 * ```ts
 * import { MessageQueue, type MessageQueueReceiveOptions } from "@posix/ipc/mq";
 * import { assertRejects } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using queue = MessageQueue.open(name, { create: true, maxMessages: 4, messageSize: 64, unlinkOnClose: true });
 * const options: MessageQueueReceiveOptions = { timeout: 10 };
 * await assertRejects(() => queue.receive(options), Deno.errors.TimedOut);
 * ```
 */
export interface MessageQueueReceiveOptions {
  /** Aborting stops waiting; no message is consumed. */
  signal?: AbortSignal;
  /** Milliseconds to wait; then `Deno.errors.TimedOut`, nothing consumed. */
  timeout?: number;
}

/**
 * A message received by {@linkcode MessageQueue.receive}.
 *
 * @example Data and priority
 * ```ts
 * import { MessageQueue, type QueueMessage } from "@posix/ipc/mq";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using queue = MessageQueue.open(name, { create: true, maxMessages: 4, messageSize: 64, unlinkOnClose: true });
 * await queue.send(new TextEncoder().encode("job"), { priority: 3 });
 * const message: QueueMessage = await queue.receive();
 * assertEquals([new TextDecoder().decode(message.data), message.priority], ["job", 3]);
 * ```
 */
export interface QueueMessage {
  /** The bytes, exactly as sent. */
  data: Uint8Array;
  /** Its priority. */
  priority: number;
}

/**
 * A queue's attributes (`mq_getattr`).
 *
 * @example How full is the queue?
 * ```ts
 * import { MessageQueue, type MessageQueueAttributes } from "@posix/ipc/mq";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using queue = MessageQueue.open(name, { create: true, maxMessages: 4, messageSize: 64, unlinkOnClose: true });
 * await queue.send(new Uint8Array(1));
 * const attributes: MessageQueueAttributes = queue.attributes;
 * assertEquals(attributes, { maxMessages: 4, messageSize: 64, currentMessages: 1 });
 * ```
 */
export interface MessageQueueAttributes {
  /** Most messages the queue holds. */
  maxMessages: number;
  /** Largest message in bytes. */
  messageSize: number;
  /** Messages in the queue right now. */
  currentMessages: number;
}

const LIMITS = "/proc/sys/fs/mqueue";

function limit(file: string): number | null {
  const text = readSmallFile(`${LIMITS}/${file}`);
  return text === null ? null : Number(text.trim());
}

function notSupported(call: string): never {
  throw new Deno.errors.NotSupported(
    `${call}: POSIX message queues are not available on ${Deno.build.os}${
      Deno.build.os === "darwin" ? " (macOS has none)" : ""
    }`,
  );
}

let newQueue: (
  fd: number,
  name: string,
  read: boolean,
  write: boolean,
  messageSize: number,
  unlinkOnClose: boolean,
) => MessageQueue;

/**
 * A POSIX message queue: messages keep their boundaries and carry a
 * priority; the kernel keeps them (in `/dev/mqueue` when mounted) until
 * received, even with no process attached, and hands out the highest
 * priority first (oldest first within a priority).
 *
 * Waiting never blocks the event loop: the queue descriptor is an fd on
 * Linux, opened `O_NONBLOCK`, and waits are readiness waits, so an aborted
 * or timed-out receive never consumes a message.
 *
 * @example A priority queue between two handles
 * ```ts
 * import { MessageQueue } from "@posix/ipc/mq";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using q = MessageQueue.open(name, { create: true, maxMessages: 8, messageSize: 128, unlinkOnClose: true });
 * await q.send(new TextEncoder().encode("routine"), { priority: 1 });
 * await q.send(new TextEncoder().encode("urgent"), { priority: 9 });
 * const first = await q.receive();
 * assertEquals([new TextDecoder().decode(first.data), first.priority], ["urgent", 9]);
 * ```
 */
export class MessageQueue implements Disposable {
  #handle: FdHandle;
  #read: boolean;
  #write: boolean;
  #messageSize: number;
  #unlinkOnClose: boolean;
  #buffer: Uint8Array | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #forgetExit: (() => void) | undefined;
  /** The POSIX name. */
  readonly name: string;

  static {
    newQueue = (fd, name, read, write, messageSize, unlinkOnClose) =>
      new MessageQueue(fd, name, read, write, messageSize, unlinkOnClose);
  }

  private constructor(
    fd: number,
    name: string,
    read: boolean,
    write: boolean,
    messageSize: number,
    unlinkOnClose: boolean,
  ) {
    this.#handle = new FdHandle(fd, `message queue ${JSON.stringify(name)}`);
    this.name = name;
    this.#read = read;
    this.#write = write;
    this.#messageSize = messageSize;
    this.#unlinkOnClose = unlinkOnClose;
  }

  /**
   * Opens (or creates) a message queue.
   *
   * System calls: `mq_open(O_NONBLOCK | O_CLOEXEC)`, `fchmod`, `mq_getattr`.
   *
   * @param name A POSIX name: `/` then up to 254 bytes without `/`.
   * @param options Creation, size limits, direction.
   * @returns The queue.
   * @throws {TypeError} If the name is invalid, or neither direction is asked.
   * @throws {RangeError} If a size is not a positive integer, or above the system limit (the message names the limit file).
   * @throws {Deno.errors.NotFound} If it does not exist and `create` is not set.
   * @throws {Deno.errors.AlreadyExists} If `exclusive` and it exists.
   * @throws {Deno.errors.NotSupported} On systems without POSIX message queues (macOS).
   */
  static open(
    name: string,
    options: MessageQueueOpenOptions = {},
  ): MessageQueue {
    const call = "MessageQueue.open()";
    const cname = posixName(name, call);
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `${call}: options must be an object, got ${describe(options)}`,
      );
    }
    const lib = libc();
    if (!IS_LINUX || !lib.mq_open) notSupported(call);
    const { create = false, exclusive = false } = options;
    const read = options.read ?? options.write !== true;
    const write = options.write ?? options.read !== true;
    if (!read && !write) {
      throw new TypeError(
        `${call}: at least one of read and write must be true`,
      );
    }
    if (exclusive && !create) {
      throw new TypeError(`${call}: exclusive needs create`);
    }
    const mode = checkModeBits(options.mode, call) ?? 0o600;
    let attr: Uint8Array | null = null;
    const sized = options.maxMessages !== undefined ||
      options.messageSize !== undefined;
    const maxMessages = options.maxMessages === undefined
      ? limit("msg_default") ?? 10
      : checkSize(options.maxMessages, "maxMessages", call);
    const messageSize = options.messageSize === undefined
      ? limit("msgsize_default") ?? 8192
      : checkSize(options.messageSize, "messageSize", call);
    if (sized) {
      if (!create) {
        throw new TypeError(
          `${call}: maxMessages and messageSize apply to a queue being created; add create: true`,
        );
      }
      attr = new Uint8Array(C.SIZEOF_MQ_ATTR);
      const v = new DataView(attr.buffer);
      v.setBigInt64(8, BigInt(maxMessages), true);
      v.setBigInt64(16, BigInt(messageSize), true);
    }
    const access = read && write ? C.O_RDWR : read ? C.O_RDONLY : C.O_WRONLY;
    const flags = access | C.O_NONBLOCK | C.O_CLOEXEC;
    const action = `Cannot open message queue ${JSON.stringify(name)}`;
    const attrPtr = attr
      ? Deno.UnsafePointer.of(attr as Uint8Array<ArrayBuffer>)
      : null;
    let created = false;
    let fd = -1;
    if (create) {
      fd = lib.mq_open(cname, flags | C.O_CREAT | C.O_EXCL, mode, attrPtr);
      created = fd >= 0;
      if (!created && (exclusive || errno() !== E.EEXIST)) {
        throw openError(errno(), action, maxMessages, messageSize);
      }
    }
    if (!created) {
      fd = lib.mq_open!(cname, flags, 0, null);
      if (fd === -1) throw openError(errno(), action, maxMessages, messageSize);
    }
    void attr;
    // mq_open applied the umask; the mode asked for is applied exactly.
    if (created) lib.fchmod(fd, mode);
    const queue = newQueue(
      fd,
      name,
      read,
      write,
      0,
      options.unlinkOnClose === true,
    );
    queue.#messageSize = queue.attributes.messageSize;
    if (create && options.unlinkOnExit) {
      const mounted =
        readSmallFile("/proc/self/mounts")?.includes(" /dev/mqueue mqueue ") ??
          false;
      queue.#forgetExit = unlinkAtExit(
        mounted ? `/dev/mqueue${name}` : null,
        () => lib.mq_unlink!(cname),
      );
    }
    return queue;
  }

  /**
   * Removes a queue's name; messages stay for processes that have it open
   * until the last one closes it. Unlink once.
   *
   * @param name The POSIX name.
   * @throws {Deno.errors.NotFound} If it does not exist.
   */
  static unlink(name: string): void {
    const call = "MessageQueue.unlink()";
    const cname = posixName(name, call);
    const lib = libc();
    if (!IS_LINUX || !lib.mq_unlink) notSupported(call);
    if (lib.mq_unlink(cname) === -1) {
      throw lastError(`Cannot unlink message queue ${JSON.stringify(name)}`);
    }
  }

  /** The queue descriptor (an fd on Linux), or -1 once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /** The queue's attributes, read now (`mq_getattr`). */
  get attributes(): MessageQueueAttributes {
    const fd = this.#handle.use("MessageQueue.attributes");
    const attr = new Uint8Array(C.SIZEOF_MQ_ATTR);
    if (libc().mq_getattr!(fd, attr) === -1) {
      throw lastError(`Cannot read the attributes of ${this.#handle.label}`);
    }
    const v = new DataView(attr.buffer);
    return {
      maxMessages: Number(v.getBigInt64(8, true)),
      messageSize: Number(v.getBigInt64(16, true)),
      currentMessages: Number(v.getBigInt64(24, true)),
    };
  }

  /**
   * Sends one message, waiting while the queue is full.
   *
   * @param data The message (at most `messageSize` bytes; may be empty).
   * @param options Priority, abort signal, timeout.
   * @throws {RangeError} If the message is larger than `messageSize` (both sizes named) or the priority is out of range.
   * @throws {Deno.errors.TimedOut} If the queue stayed full for `timeout`.
   * @throws {TypeError} If the queue was not opened for writing.
   */
  async send(
    data: Uint8Array,
    options: MessageQueueSendOptions = {},
  ): Promise<void> {
    const call = "MessageQueue.send()";
    if (!this.#write) {
      throw new TypeError(
        `${call}: ${JSON.stringify(this.name)} is not open for writing`,
      );
    }
    checkChunk(data, call);
    const { priority = 0, signal, timeout } = options;
    if (
      !Number.isInteger(priority) || priority < 0 || priority >= C.MQ_PRIO_MAX
    ) {
      throw new RangeError(
        `${call}: priority must be an integer from 0 to ${
          C.MQ_PRIO_MAX - 1
        }, got ${describe(priority)}`,
      );
    }
    if (data.byteLength > this.#messageSize) {
      throw new RangeError(
        `${call}: a message of ${data.byteLength} bytes is larger than the messageSize of ${
          JSON.stringify(this.name)
        } (${this.#messageSize} bytes)`,
      );
    }
    checkTimeout(timeout, call);
    signal?.throwIfAborted();
    const lib = libc();
    const size = BigInt(data.byteLength);
    await this.#retry(
      C.POLLOUT,
      call,
      "stayed full",
      options,
      (fd) => lib.mq_send!(fd, data, size, priority),
    );
  }

  /**
   * Receives the oldest message of the highest priority, waiting while the
   * queue is empty. An aborted or timed-out receive consumes nothing.
   *
   * @param options Abort signal, timeout.
   * @returns The message and its priority.
   * @throws {Deno.errors.TimedOut} If nothing arrived within `timeout`.
   * @throws {TypeError} If the queue was not opened for reading.
   */
  async receive(
    options: MessageQueueReceiveOptions = {},
  ): Promise<QueueMessage> {
    const call = "MessageQueue.receive()";
    if (!this.#read) {
      throw new TypeError(
        `${call}: ${JSON.stringify(this.name)} is not open for reading`,
      );
    }
    const { signal, timeout } = options;
    checkTimeout(timeout, call);
    signal?.throwIfAborted();
    const lib = libc();
    const buffer = this.#buffer ??= new Uint8Array(this.#messageSize);
    const prio = new Uint32Array(1);
    const size = BigInt(buffer.length);
    const n = await this.#retry(
      C.POLLIN,
      call,
      "stayed empty",
      options,
      (fd) => Number(lib.mq_receive!(fd, buffer, size, prio)),
    );
    return { data: buffer.slice(0, n), priority: prio[0]! };
  }

  /**
   * Calls `attempt` on the non-blocking descriptor until it succeeds (returns
   * 0 or more), waiting for `events` between tries, within `timeout`.
   */
  async #retry(
    events: number,
    call: string,
    state: string,
    { signal, timeout }: { signal?: AbortSignal; timeout?: number },
    attempt: (fd: number) => number,
  ): Promise<number> {
    const deadline = deadlineOf(timeout);
    for (;;) {
      const result = attempt(this.#handle.use(call));
      if (result >= 0) return result;
      const code = errno();
      if (code !== E.EAGAIN && code !== E.EINTR) {
        throw osError(code, `${call}: ${JSON.stringify(this.name)}`);
      }
      const wait: WaitOptions = { signal };
      if (deadline !== Infinity) {
        const left = deadline - performance.now();
        if (left <= 0) {
          throw new Deno.errors.TimedOut(
            `${call}: ${JSON.stringify(this.name)} ${state} for ${timeout} ms`,
          );
        }
        wait.timeout = left;
      }
      await this.#handle.wait(events, call, wait);
    }
  }

  /**
   * Received messages (highest priority first), one chunk per message. The
   * stream ends when the queue is closed; cancelling it leaves the queue open.
   *
   * @throws {TypeError} If the queue was not opened for reading.
   */
  get readable(): ReadableStream<Uint8Array> {
    if (!this.#read) {
      throw new TypeError(
        `MessageQueue: ${JSON.stringify(this.name)} is not open for reading`,
      );
    }
    return this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          controller.enqueue((await this.receive()).data);
        } catch (error) {
          if (this.#handle.closed) controller.close();
          else throw error;
        }
      },
    }, { highWaterMark: 0 });
  }

  /**
   * Messages to send (priority 0), one chunk per message.
   *
   * @throws {TypeError} If the queue was not opened for writing.
   */
  get writable(): WritableStream<Uint8Array> {
    if (!this.#write) {
      throw new TypeError(
        `MessageQueue: ${JSON.stringify(this.name)} is not open for writing`,
      );
    }
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (message) => this.send(message),
    });
  }

  /**
   * Closes this process's descriptor; pending waits fail with
   * `BadResource`. Messages stay in the queue. Also unlinks the name when
   * opened with `unlinkOnClose`. Idempotent.
   */
  close(): void {
    if (this.#handle.closed) return;
    this.#handle.close();
    if (this.#unlinkOnClose) {
      libc().mq_unlink!(posixName(this.name, "MessageQueue.close()"));
      this.#forgetExit?.();
    }
  }

  /**
   * Removes this queue's name (see {@linkcode MessageQueue.unlink}).
   *
   * @throws {Deno.errors.NotFound} If the name is already gone.
   */
  unlink(): void {
    MessageQueue.unlink(this.name);
    this.#forgetExit?.();
  }

  /** Same as {@linkcode MessageQueue.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** mq_open errors, with the limit file named when a size is over a limit. */
function openError(
  code: number,
  action: string,
  maxMessages: number,
  messageSize: number,
): Error {
  if (code === E.EINVAL) {
    const msgMax = limit("msg_max");
    const sizeMax = limit("msgsize_max");
    const over: string[] = [];
    if (msgMax !== null && maxMessages > msgMax) {
      over.push(
        `maxMessages (${maxMessages}) is above ${LIMITS}/msg_max (${msgMax}; ${C.MQ_HARD_MSGMAX} with CAP_SYS_RESOURCE)`,
      );
    }
    if (sizeMax !== null && messageSize > sizeMax) {
      over.push(
        `messageSize (${messageSize}) is above ${LIMITS}/msgsize_max (${sizeMax}; ${C.MQ_HARD_MSGSIZEMAX} with CAP_SYS_RESOURCE)`,
      );
    }
    if (over.length) {
      return new RangeError(`${action}: ${over.join("; ")}`, {
        cause: osError(code, action),
      });
    }
  }
  if (code === E.ENOSPC) {
    return new RangeError(
      `${action}: the system limit on queues is reached (${LIMITS}/queues_max is ${
        limit("queues_max")
      })`,
      {
        cause: osError(code, action),
      },
    );
  }
  if (code === E.EMFILE) {
    return osError(
      code,
      `${action} (per-process fd limit, or the per-user RLIMIT_MSGQUEUE byte limit)`,
    );
  }
  return osError(code, action);
}
