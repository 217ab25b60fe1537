// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkBoolean,
  checkBytes,
  checkCreateOnly,
  checkInteger,
  checkMode,
  checkName,
  checkOptions,
  checkSize,
  CREATE_ONLY,
  describe,
} from "../_check/mod.ts";
import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { lastError, osError } from "../_ffi/errors.ts";
import { closeFd, fstat, readSmallFile } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { type Identity, Lifecycle, type Place } from "../_object/lifecycle.ts";
import type { UnlinkOptions } from "../_object/options.ts";
import { FdHandle } from "../_wait/fd_handle.ts";
import { untilOf, type WaitOptions } from "../_wait/options.ts";

export type { UnlinkOptions, WaitOptions };

/**
 * Options of {@linkcode MessageQueue.create}.
 *
 * @example A small queue for sending
 * ```ts
 * import { MessageQueue, type MessageQueueCreateOptions } from "@posix/ipc/mq";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: MessageQueueCreateOptions = { maxMessages: 4, messageSize: 128, write: true, unlinkOnClose: true };
 * using queue = MessageQueue.create(name, options);
 * assertEquals(queue.attributes.messageSize, 128);
 * ```
 */
export interface MessageQueueCreateOptions extends UnlinkOptions {
  /** Most messages the queue holds. Default: `/proc/sys/fs/mqueue/msg_default`. */
  maxMessages?: number;
  /** Largest message in bytes. Default: `/proc/sys/fs/mqueue/msgsize_default`. */
  messageSize?: number;
  /** Permission bits, applied exactly. Default `0o600`. */
  mode?: number;
  /** Open for receiving. Default true unless only `write` is given. */
  read?: boolean;
  /** Open for sending. Default true unless only `read` is given. */
  write?: boolean;
}

/**
 * Options of {@linkcode MessageQueue.open}.
 *
 * @example Open an existing queue for receiving only
 * ```ts
 * import { MessageQueue, type MessageQueueOpenOptions } from "@posix/ipc/mq";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using owner = MessageQueue.create(name, { maxMessages: 4, messageSize: 64, unlinkOnClose: true });
 * const options: MessageQueueOpenOptions = { read: true };
 * using consumer = MessageQueue.open(name, options);
 * ```
 */
export interface MessageQueueOpenOptions extends MessageQueueCreateOptions {
  /**
   * Create the queue if it does not exist (open-or-create). An existing
   * queue is opened as it is: sizes and mode apply only to a new one, and
   * `unlinkOnClose`/`unlinkOnExit` only if this call created it.
   */
  create?: boolean;
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
 * using queue = MessageQueue.create(name, { maxMessages: 4, messageSize: 64, unlinkOnClose: true });
 * const options: MessageQueueSendOptions = { priority: 10, timeout: 1000 };
 * await queue.send(new Uint8Array([1]), options);
 * assertEquals((await queue.receive()).priority, 10);
 * ```
 */
export interface MessageQueueSendOptions extends WaitOptions {
  /** Priority from 0 to 32767; higher is received first. Default 0. */
  priority?: number;
}

/**
 * Options of {@linkcode MessageQueue.receive}: the `signal` and `timeout`
 * of every wait. An aborted or timed-out receive consumes nothing.
 *
 * @example Wait at most 10 ms
 * ```ts
 * import { MessageQueue, type MessageQueueReceiveOptions } from "@posix/ipc/mq";
 * import { assertRejects } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using queue = MessageQueue.create(name, { maxMessages: 4, messageSize: 64, unlinkOnClose: true });
 * const options: MessageQueueReceiveOptions = { timeout: 10 };
 * await assertRejects(() => queue.receive(options), Deno.errors.TimedOut);
 * ```
 */
export type MessageQueueReceiveOptions = WaitOptions;

/**
 * A message and its priority: what {@linkcode MessageQueue.receive} and the
 * queue's `readable` give, and what its `writable` takes.
 *
 * @example Data and priority
 * ```ts
 * import { MessageQueue, type QueueMessage } from "@posix/ipc/mq";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using queue = MessageQueue.create(name, { maxMessages: 4, messageSize: 64, unlinkOnClose: true });
 * await queue.send(new TextEncoder().encode("job"), { priority: 3 });
 * const message: QueueMessage = await queue.receive();
 * assertEquals([new TextDecoder().decode(message.data), message.priority], ["job", 3]);
 * ```
 */
export interface QueueMessage {
  /** The bytes, exactly as sent. */
  data: Uint8Array<ArrayBuffer>;
  /** Its priority (0 to 32767). */
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
 * using queue = MessageQueue.create(name, { maxMessages: 4, messageSize: 64, unlinkOnClose: true });
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
/**
 * A deadline long past (struct timespec 0, 0): mq_timedsend/mq_timedreceive
 * with it never wait, even if another process holding the queue's
 * description cleared O_NONBLOCK (mq_setattr), which would make mq_send and
 * mq_receive wait on the JavaScript thread.
 */
const EXPIRED = new Uint8Array(16);
const MQUEUE_DIR = "/dev/mqueue";

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

function mqueueMounted(): boolean {
  return readSmallFile("/proc/self/mounts", 1 << 20)?.includes(
    ` ${MQUEUE_DIR} mqueue `,
  ) ?? false;
}

function place(name: string, cname: Uint8Array): Place {
  if (mqueueMounted()) return { dir: MQUEUE_DIR, file: name.slice(1) };
  // No file to check: open the name again and compare identities.
  return {
    file: name.slice(1),
    byName: {
      identity(): Identity | null {
        const lib = libc();
        for (const access of [C.O_RDONLY, C.O_WRONLY]) {
          const fd = lib.mq_open!(
            cname,
            access | C.O_CLOEXEC | C.O_NONBLOCK,
            0,
            null,
          );
          if (fd === -1) continue;
          try {
            const info = fstat(fd, "unlink()");
            return { dev: info.dev, ino: info.ino };
          } finally {
            closeFd(fd);
          }
        }
        return null;
      },
      remove: () => void libc().mq_unlink!(cname),
    },
  };
}

let newQueue: (
  handle: FdHandle,
  name: string,
  read: boolean,
  write: boolean,
  messageSize: number,
  lifecycle: Lifecycle,
) => MessageQueue;

/**
 * A POSIX message queue: messages keep their boundaries and carry a
 * priority; the kernel keeps them (in `/dev/mqueue` when mounted) until
 * received, even with no process attached, and hands out the highest
 * priority first (oldest first within a priority).
 *
 * Waiting never blocks the event loop: the queue descriptor is an fd on
 * Linux, opened `O_NONBLOCK`, and waits go through the package's wait
 * engine (epoll), so an idle receive costs nothing and an aborted or
 * timed-out receive never consumes a message. Concurrent receives on one
 * handle each get their own message.
 *
 * @example A priority queue between two handles
 * ```ts
 * import { MessageQueue } from "@posix/ipc/mq";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using q = MessageQueue.create(name, { maxMessages: 8, messageSize: 128, unlinkOnClose: true });
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
  #lifecycle: Lifecycle;
  #buffer: Uint8Array | undefined;
  #readable: ReadableStream<QueueMessage> | undefined;
  #writable: WritableStream<QueueMessage | Uint8Array> | undefined;
  /** The POSIX name. */
  readonly name: string;

  static {
    newQueue = (handle, name, read, write, messageSize, lifecycle) =>
      new MessageQueue(handle, name, read, write, messageSize, lifecycle);
  }

  private constructor(
    handle: FdHandle,
    name: string,
    read: boolean,
    write: boolean,
    messageSize: number,
    lifecycle: Lifecycle,
  ) {
    this.#handle = handle;
    this.name = name;
    this.#read = read;
    this.#write = write;
    this.#messageSize = messageSize;
    this.#lifecycle = lifecycle;
  }

  /**
   * Creates a message queue — exclusively: an existing name is an error.
   *
   * System calls: `mq_open(O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC)`,
   * `fchmod`, `fstat`, `mq_getattr`.
   *
   * @param name A POSIX name: `/` then up to 255 bytes without `/`.
   * @param options Size limits, mode, direction, cleanup.
   * @returns The queue.
   * @throws {TypeError} If the name is invalid, or neither direction is asked.
   * @throws {RangeError} If a size is not a positive integer, or above the system limit (the message names the limit file).
   * @throws {Deno.errors.AlreadyExists} If the name exists.
   * @throws {Deno.errors.NotSupported} On systems without POSIX message queues (macOS).
   *
   * @example Create a job queue
   * ```ts
   * import { MessageQueue } from "@posix/ipc/mq";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using jobs = MessageQueue.create(name, { maxMessages: 10, messageSize: 256, unlinkOnClose: true });
   * assertEquals(jobs.attributes.maxMessages, 10);
   * ```
   */
  static create(
    name: string,
    options?: MessageQueueCreateOptions,
  ): MessageQueue {
    const call = "MessageQueue.create()";
    return open(name, checkOptions(options, call), "create", call);
  }

  /**
   * Opens an existing message queue; with `create: true`, creates it if it
   * does not exist (open-or-create).
   *
   * @param name The POSIX name.
   * @param options Direction; `create` with sizes for open-or-create.
   * @returns The queue.
   * @throws {Deno.errors.NotFound} If it does not exist (and `create` is not set).
   * @throws {TypeError} If sizes, mode or a cleanup option is given without `create`.
   *
   * @example Open a queue another process created
   * ```ts
   * import { MessageQueue } from "@posix/ipc/mq";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using owner = MessageQueue.create(name, { maxMessages: 4, messageSize: 64, unlinkOnClose: true });
   * using other = MessageQueue.open(name, { write: true });
   * await other.send(new Uint8Array([1]));
   * assertEquals(owner.attributes.currentMessages, 1);
   * ```
   */
  static open(name: string, options?: MessageQueueOpenOptions): MessageQueue {
    const call = "MessageQueue.open()";
    const o = checkOptions(options, call);
    const create = checkBoolean(o.create, "create", call) ?? false;
    checkCreateOnly(
      o,
      ["maxMessages", "messageSize", ...CREATE_ONLY],
      create,
      call,
      "queue",
    );
    return open(name, o, create ? "open-or-create" : "open", call);
  }

  /** The queue descriptor (an fd on Linux), or -1 once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  /** Whether this handle created the queue. */
  get created(): boolean {
    return this.#lifecycle.created;
  }

  /** The queue's attributes, read now (`mq_getattr`). */
  get attributes(): MessageQueueAttributes {
    return attributesOf(
      this.#handle.use("MessageQueue.attributes"),
      "MessageQueue.attributes",
      this.#handle.label,
    );
  }

  /**
   * Sends one message, waiting while the queue is full.
   *
   * @param data The message (at most `messageSize` bytes; may be empty).
   * @param options Priority, abort signal, timeout.
   * @throws {RangeError} If the message is larger than `messageSize` (both sizes named) or the priority is out of range.
   * @throws {Deno.errors.TimedOut} If the queue stayed full for `timeout` (nothing sent).
   * @throws {TypeError} If the queue was not opened for writing.
   *
   * @example Send with a priority
   * ```ts
   * import { MessageQueue } from "@posix/ipc/mq";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using q = MessageQueue.create(name, { maxMessages: 2, messageSize: 32, unlinkOnClose: true });
   * await q.send(new TextEncoder().encode("hello"), { priority: 5 });
   * ```
   */
  async send(
    data: Uint8Array,
    options?: MessageQueueSendOptions,
  ): Promise<void> {
    const call = "MessageQueue.send()";
    if (!this.#write) {
      throw new TypeError(
        `${call}: ${this.#handle.label} is not open for writing`,
      );
    }
    checkBytes(data, call);
    const o = checkOptions(options, call);
    const priority = o.priority === undefined
      ? 0
      : checkInteger(o.priority, "priority", call, 0, C.MQ_PRIO_MAX - 1);
    if (data.byteLength > this.#messageSize) {
      throw new RangeError(
        `${call}: a message of ${data.byteLength} bytes is larger than the messageSize of ${this.#handle.label} (${this.#messageSize} bytes)`,
      );
    }
    const until = untilOf(o, call);
    const lib = libc();
    const size = BigInt(data.byteLength);
    const handle = this.#handle;
    await handle.retry(
      call,
      "stayed full",
      C.POLLOUT,
      until,
      () => {
        const fd = handle.use(call);
        if (
          (lib.mq_timedsend
            ? lib.mq_timedsend(fd, data, size, priority, EXPIRED)
            : lib.mq_send!(fd, data, size, priority)) === 0
        ) {
          return true;
        }
        return this.#wouldBlock(call, "send to");
      },
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
   *
   * @example Receive the next job
   * ```ts
   * import { MessageQueue } from "@posix/ipc/mq";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using q = MessageQueue.create(name, { maxMessages: 2, messageSize: 32, unlinkOnClose: true });
   * await q.send(new Uint8Array([42]));
   * assertEquals((await q.receive({ timeout: 1000 })).data, new Uint8Array([42]));
   * ```
   */
  async receive(options?: MessageQueueReceiveOptions): Promise<QueueMessage> {
    const call = "MessageQueue.receive()";
    if (!this.#read) {
      throw new TypeError(
        `${call}: ${this.#handle.label} is not open for reading`,
      );
    }
    return await this.#handle.retry(
      call,
      "stayed empty",
      C.POLLIN,
      untilOf(options, call),
      () => this.#tryReceive(call),
    );
  }

  /**
   * One mq_receive without waiting. The message is copied out before this
   * returns, so concurrent receives on one handle never share a buffer.
   */
  #tryReceive(call: string): QueueMessage | undefined {
    const buffer = this.#buffer ??= new Uint8Array(this.#messageSize);
    const prio = new Uint32Array(1);
    const lib = libc();
    const fd = this.#handle.use(call);
    const size = BigInt(buffer.length);
    const n = Number(
      lib.mq_timedreceive
        ? lib.mq_timedreceive(fd, buffer, size, prio, EXPIRED)
        : lib.mq_receive!(fd, buffer, size, prio),
    );
    if (n < 0) return this.#wouldBlock(call, "receive from");
    return { data: buffer.slice(0, n), priority: prio[0]! };
  }

  #wouldBlock(call: string, what: string): undefined {
    const code = errno();
    if (code === E.EAGAIN || code === E.EINTR || code === E.ETIMEDOUT) {
      return undefined;
    }
    throw osError(code, call, `cannot ${what} ${this.#handle.label}`);
  }

  /**
   * Received messages with their priorities (highest first). The stream ends
   * when the queue is closed; cancelling it leaves the queue open.
   *
   * @throws {TypeError} If the queue was not opened for reading.
   */
  get readable(): ReadableStream<QueueMessage> {
    if (!this.#read) {
      throw new TypeError(
        `MessageQueue.readable: ${this.#handle.label} is not open for reading`,
      );
    }
    return this.#readable ??= new ReadableStream<QueueMessage>({
      pull: async (controller) => {
        try {
          controller.enqueue(await this.receive());
        } catch (error) {
          if (this.#handle.closed) controller.close();
          else throw error;
        }
      },
    }, { highWaterMark: 0 });
  }

  /**
   * Messages to send: a `QueueMessage` (data and priority), or bytes (sent
   * with priority 0).
   *
   * @throws {TypeError} If the queue was not opened for writing.
   */
  get writable(): WritableStream<QueueMessage | Uint8Array> {
    if (!this.#write) {
      throw new TypeError(
        `MessageQueue.writable: ${this.#handle.label} is not open for writing`,
      );
    }
    return this.#writable ??= new WritableStream<QueueMessage | Uint8Array>({
      write: (message) => {
        if (message instanceof Uint8Array) return this.send(message);
        if (typeof message !== "object" || message === null) {
          throw new TypeError(
            `MessageQueue.writable: chunks must be Uint8Array or { data, priority }, got ${
              describe(message)
            }`,
          );
        }
        return this.send(message.data, { priority: message.priority });
      },
    });
  }

  /**
   * Closes this process's descriptor; pending waits fail with
   * `BadResource`. Messages stay in the queue. Removes the name when this
   * handle created the queue with `unlinkOnClose` (and the name still refers
   * to it). Idempotent.
   */
  close(): void {
    if (this.#handle.closed) return;
    try {
      this.#handle.close();
    } finally {
      this.#lifecycle.close("MessageQueue.close()");
    }
  }

  /**
   * Removes this queue's name if it still refers to this queue; messages
   * stay for processes that have it open until the last one closes it.
   *
   * @throws {Deno.errors.NotFound} If the name is gone or names another queue.
   */
  unlink(): void {
    this.#lifecycle.unlink("MessageQueue.unlink()");
  }

  /** Same as {@linkcode MessageQueue.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function attributesOf(
  fd: number,
  call: string,
  label: string,
): MessageQueueAttributes {
  const attr = new Uint8Array(C.SIZEOF_MQ_ATTR);
  if (libc().mq_getattr!(fd, attr) === -1) {
    throw lastError(call, `cannot read the attributes of ${label}`);
  }
  const v = new DataView(attr.buffer);
  return {
    maxMessages: Number(v.getBigInt64(8, true)),
    messageSize: Number(v.getBigInt64(16, true)),
    currentMessages: Number(v.getBigInt64(24, true)),
  };
}

function open(
  name: string,
  o: MessageQueueOpenOptions,
  how: "create" | "open" | "open-or-create",
  call: string,
): MessageQueue {
  const cname = checkName(name, call, "mq");
  const lib = libc();
  if (!IS_LINUX || !lib.mq_open) notSupported(call);
  const readOpt = checkBoolean(o.read, "read", call);
  const writeOpt = checkBoolean(o.write, "write", call);
  const read = readOpt ?? writeOpt !== true;
  const write = writeOpt ?? readOpt !== true;
  if (!read && !write) {
    throw new TypeError(`${call}: at least one of read and write must be true`);
  }
  const mode = checkMode(o.mode, call) ?? 0o600;
  checkBoolean(o.unlinkOnClose, "unlinkOnClose", call);
  checkBoolean(o.unlinkOnExit, "unlinkOnExit", call);
  const maxMessages = o.maxMessages === undefined
    ? limit("msg_default") ?? 10
    : checkSize(o.maxMessages, "maxMessages", call);
  const messageSize = o.messageSize === undefined
    ? limit("msgsize_default") ?? 8192
    : checkSize(o.messageSize, "messageSize", call);
  const label = `message queue ${JSON.stringify(name)}`;
  const access = read && write ? C.O_RDWR : read ? C.O_RDONLY : C.O_WRONLY;
  const flags = access | C.O_NONBLOCK | C.O_CLOEXEC;
  let fd = -1;
  let created = false;
  for (let attempt = 0; fd === -1; attempt++) {
    if (how !== "open") {
      const attr = new BigInt64Array(C.SIZEOF_MQ_ATTR / 8);
      attr[1] = BigInt(maxMessages);
      attr[2] = BigInt(messageSize);
      fd = lib.mq_open(cname, flags | C.O_CREAT | C.O_EXCL, mode, attr);
      if (fd !== -1) {
        created = true;
        break;
      }
      const code = errno();
      if (how === "create" || code !== E.EEXIST || attempt > 100) {
        throw openError(
          code,
          call,
          `cannot create ${label}`,
          maxMessages,
          messageSize,
        );
      }
    }
    fd = lib.mq_open(cname, flags, 0, null);
    if (fd === -1) {
      const code = errno();
      if (how === "open" || code !== E.ENOENT) {
        throw openError(
          code,
          call,
          `cannot open ${label}`,
          maxMessages,
          messageSize,
        );
      }
    }
  }
  let handle: FdHandle | undefined;
  try {
    // mq_open applied the umask; the mode asked for is applied exactly.
    if (created && lib.fchmod(fd, mode) === -1) {
      throw lastError(call, `cannot set the mode of ${label}`);
    }
    const info = fstat(fd, call, label);
    const size = attributesOf(fd, call, label).messageSize;
    handle = new FdHandle(fd, label);
    const lifecycle = new Lifecycle(
      label,
      place(name, cname),
      { dev: info.dev, ino: info.ino },
      created,
      { unlinkOnClose: o.unlinkOnClose, unlinkOnExit: o.unlinkOnExit },
    );
    return newQueue(handle, name, read, write, size, lifecycle);
  } catch (error) {
    if (handle) handle.close();
    else closeFd(fd);
    if (created) lib.mq_unlink!(cname);
    throw error;
  }
}

/** mq_open errors, with the limit file named when a size is over a limit. */
function openError(
  code: number,
  call: string,
  action: string,
  maxMessages: number,
  messageSize: number,
): Error {
  const cause = osError(code, call, action);
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
      return new RangeError(`${call}: ${action}: ${over.join("; ")}`, {
        cause,
      });
    }
  }
  if (code === E.ENOSPC) {
    return new RangeError(
      `${call}: ${action}: the system limit on queues is reached (${LIMITS}/queues_max is ${
        limit("queues_max")
      })`,
      { cause },
    );
  }
  if (code === E.EMFILE) {
    return osError(
      code,
      call,
      `${action} (per-process fd limit, or the per-user RLIMIT_MSGQUEUE byte limit)`,
    );
  }
  return cause;
}

/**
 * Removes a message queue by name, whoever created it: what `mq_unlink`
 * does. Messages stay for processes that have it open until the last one
 * closes it. To remove only the queue a handle created, use that handle's
 * `unlink()` (it checks identity first).
 *
 * @param name The POSIX name.
 * @throws {Deno.errors.NotFound} If it does not exist.
 * @throws {Deno.errors.NotSupported} On systems without POSIX message queues.
 *
 * @example Clean up after a crashed run
 * ```ts
 * import { MessageQueue, unlinkMessageQueue } from "@posix/ipc/mq";
 * import { assertThrows } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * MessageQueue.create(name, { maxMessages: 1, messageSize: 8 }).close();
 * unlinkMessageQueue(name);
 * assertThrows(() => MessageQueue.open(name), Deno.errors.NotFound);
 * ```
 */
export function unlinkMessageQueue(name: string): void {
  const call = "unlinkMessageQueue()";
  const cname = checkName(name, call, "mq");
  const lib = libc();
  if (!IS_LINUX || !lib.mq_unlink) notSupported(call);
  if (lib.mq_unlink(cname) === -1) {
    throw lastError(
      call,
      `cannot remove message queue ${JSON.stringify(name)}`,
    );
  }
}
