// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * POSIX message queues: messages with boundaries and priorities, kept by the
 * kernel until received, as async calls and Web Streams.
 *
 * A queue is named like a shared-memory segment and outlives the processes
 * using it until unlinked. Receivers get the highest priority first, oldest
 * first within a priority: a natural job queue with urgent jobs first.
 * {@linkcode MessageQueue} never blocks the event loop, and an aborted or
 * timed-out receive consumes nothing.
 *
 * When not to use: queues are small by default (10 messages of 8 KiB for an
 * unprivileged process, see `/proc/sys/fs/mqueue/`); for bulk data use a
 * pipe, a socket or shared memory. Between machines, sockets.
 *
 * System calls: `mq_open(O_NONBLOCK | O_CLOEXEC)`, `mq_send`, `mq_receive`,
 * `mq_getattr`, `poll` (a queue descriptor is an fd on Linux), `fchmod`,
 * `mq_unlink`.
 *
 * Linux vs macOS: macOS has no POSIX message queues; every call throws
 * `Deno.errors.NotSupported` there (nothing crashes at import).
 *
 * Permissions: `--allow-ffi`.
 *
 * @example Producer and consumer with priorities
 * ```ts
 * import { MessageQueue } from "@posix/ipc/mq";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using producer = MessageQueue.create(name, { write: true, maxMessages: 4, messageSize: 64, unlinkOnClose: true });
 * using consumer = MessageQueue.open(name, { read: true });
 * for (const [job, priority] of [["low", 0], ["high", 5], ["mid", 2]] as const) {
 *   await producer.send(new TextEncoder().encode(job), { priority });
 * }
 * const jobs = [];
 * for (let i = 0; i < 3; i++) jobs.push(new TextDecoder().decode((await consumer.receive()).data));
 * assertEquals(jobs, ["high", "mid", "low"]);
 * ```
 *
 * @module
 */

export * from "./message_queue.ts";
