// Copyright 2026 the posix-ipc authors. MIT license.
// Internal to the benchmark: every call it makes into posix-ipc, and nothing
// else. The scenario programs (_reader.ts, _round_trip.ts, _shm_feeder.ts)
// and compare.ts see only these small functions, so an API change of the
// library is an edit here and nowhere else in bench/. (The throughput and
// back-to-back rows of compare.ts also run cli/_bench/, which is the `ipc
// bench` command's own code and changes with the API anyway.)

import { MessageQueue } from "../mq/mod.ts";
import {
  type FdSource,
  pipe,
  PipeReader,
  PipeWriter,
  spawn,
} from "../pipe/mod.ts";
import { Semaphore } from "../sem/mod.ts";
import { ShmChannelReader, ShmChannelWriter } from "../shm/mod.ts";
import { SocketEnd, socketPair } from "../socket/mod.ts";

/** Something that reads bytes: resolves with a count, or null at the end. */
export interface ByteReader {
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}

/** Something that writes all of `bytes`. */
export interface ByteWriter {
  write(bytes: Uint8Array): Promise<unknown>;
  close(): void;
}

/** A byte channel end that can also be handed to a child process. */
export interface Passable {
  readonly fd: number;
}

/** The read end of a pipe this process inherited at `fd`. */
export function adoptPipeReader(fd: number): ByteReader {
  return PipeReader.fromFd(fd);
}

/** The write end of a pipe this process inherited at `fd`. */
export function adoptPipeWriter(fd: number): ByteWriter {
  return PipeWriter.fromFd(fd);
}

/** One end of a socket pair this process inherited at `fd`. */
export function adoptSocketEnd(fd: number): ByteReader & ByteWriter {
  return SocketEnd.fromFd(fd);
}

/** A new pipe. */
export function makePipe(): {
  reader: ByteReader & Passable;
  writer: ByteWriter & Passable;
} {
  return pipe();
}

/** A new connected pair of Unix stream sockets. */
export function makeSocketPair(): [
  ByteReader & ByteWriter & Passable,
  ByteReader & ByteWriter & Passable,
] {
  return socketPair();
}

/**
 * Starts `command` with `ends` placed at the given fds (handed over: this
 * process's copies are closed once the child runs); resolves with its exit
 * code when it ends.
 */
export function spawnWith(
  command: string,
  args: string[],
  ends: Record<number, Passable>,
): { exited: Promise<number> } {
  const child = spawn(command, {
    args,
    fds: ends as Record<number, FdSource>,
  });
  return { exited: child.status.then((s) => s.code) };
}

/** A semaphore: post, and wait until positive then decrement. */
export interface Sem {
  post(): void;
  wait(): Promise<void>;
  close(): void;
}

/** Creates the semaphore `name` at 0 (it must not exist). */
export function createSemaphore(name: string): Sem & { unlink(): void } {
  return Semaphore.create(name);
}

/** Opens the existing semaphore `name`. */
export function openSemaphore(name: string): Sem {
  return Semaphore.open(name);
}

/** A message queue end. */
export interface Queue {
  send(message: Uint8Array): Promise<unknown>;
  /** The next message's bytes. */
  receive(): Promise<Uint8Array>;
  close(): void;
}

/** Creates the queue `name` for sending and receiving (it must not exist). */
export function createQueue(
  name: string,
  options: { maxMessages: number; messageSize: number },
): Queue & { unlink(): void } {
  const queue = MessageQueue.create(name, options);
  return { ...wrapQueue(queue), unlink: () => queue.unlink() };
}

/** Opens the existing queue `name` to receive from it. */
export function openQueueReader(name: string): Queue {
  return wrapQueue(MessageQueue.open(name, { read: true }));
}

/** Opens the existing queue `name` to send to it. */
export function openQueueWriter(name: string): Queue {
  return wrapQueue(MessageQueue.open(name, { write: true }));
}

function wrapQueue(queue: MessageQueue): Queue {
  return {
    send: (message) => queue.send(message),
    receive: async () => (await queue.receive()).data,
    close: () => queue.close(),
  };
}

/** Creates the shared-memory channel `name` and becomes its writer. */
export function createShmWriter(
  name: string,
  capacity: number,
): ByteWriter & { unlink(): void } {
  const channel = ShmChannelWriter.create(name, { capacity });
  return {
    write: (bytes) => channel.write(bytes),
    close: () => channel.close(),
    unlink: () => channel.unlink(),
  };
}

/** Opens the existing shared-memory channel `name` as its reader. */
export function openShmReader(name: string): ByteReader {
  const channel = ShmChannelReader.open(name);
  return {
    read: (buffer) => channel.read(buffer),
    close: () => channel.close(),
  };
}

/** Starts `command` with its stdout piped (posix-ipc spawn()). */
export function spawnPiped(
  command: string,
  args: string[],
): { stdout: ReadableStream<Uint8Array>; exited: Promise<number> } {
  const child = spawn(command, { args, stdout: "piped" });
  return { stdout: child.stdout, exited: child.status.then((s) => s.code) };
}
