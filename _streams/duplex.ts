// Copyright 2026 the posix-ipc authors. MIT license.
// The streams of one fd used in up to two directions (a FIFO opened
// read-write, a socket end): the fd is released once every direction that was
// opened is finished, and finishing the write side can half-close first.

import type { FdHandle } from "../_ffi/handle.ts";
import { fdReadable } from "./readable.ts";
import { fdWritable } from "./writable.ts";

/** Options of {@linkcode FdStreams}. */
export interface FdStreamsOptions {
  /** The fd may be read. */
  read: boolean;
  /** The fd may be written. */
  write: boolean;
  /** Called when the write side finishes, before any close (e.g. shutdown(SHUT_WR)). */
  onWriteDone?: () => void;
  /** Bytes already read from the fd, delivered first by the readable. */
  prefix?: Uint8Array;
}

/** Lazily created readable/writable of one fd, and when to close it. */
export class FdStreams {
  #handle: FdHandle;
  #options: FdStreamsOptions;
  #readDone: boolean;
  #writeDone: boolean;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  constructor(handle: FdHandle, options: FdStreamsOptions) {
    this.#handle = handle;
    this.#options = options;
    this.#readDone = !options.read;
    this.#writeDone = !options.write;
  }

  /** The readable side; `what` names the handle in the error when not readable. */
  readable(what: string): ReadableStream<Uint8Array> {
    if (!this.#options.read) {
      throw new TypeError(`${what} is not open for reading`);
    }
    return this.#readable ??= fdReadable(this.#handle, {
      ...(this.#options.prefix ? { prefix: this.takePrefix()! } : {}),
      onDone: () => {
        this.#readDone = true;
        this.#settle();
      },
    });
  }

  /** The writable side; `what` names the handle in the error when not writable. */
  writable(what: string): WritableStream<Uint8Array> {
    if (!this.#options.write) {
      throw new TypeError(`${what} is not open for writing`);
    }
    return this.#writable ??= fdWritable(this.#handle, {
      onDone: () => {
        this.#writeDone = true;
        if (!this.#handle.closed) this.#options.onWriteDone?.();
        this.#settle();
      },
    });
  }

  /**
   * Ends the write side without a writable (e.g. `closeWrite()`): runs
   * `onWriteDone` once and releases the fd if reading is done too.
   */
  endWrite(): void {
    if (this.#writeDone) return;
    this.#writeDone = true;
    if (!this.#handle.closed) this.#options.onWriteDone?.();
    this.#settle();
  }

  /**
   * Throws the `TypeError` of a direction the fd was not opened for.
   */
  check(direction: "read" | "write", what: string): void {
    if (!this.#options[direction]) {
      throw new TypeError(
        `${what} is not open for ${
          direction === "read" ? "reading" : "writing"
        }`,
      );
    }
  }

  /** Takes the bytes to deliver first (see `prefix`), leaving none. */
  takePrefix(): Uint8Array | undefined {
    const prefix = this.#options.prefix;
    delete this.#options.prefix;
    return prefix?.length ? prefix : undefined;
  }

  /** Puts back bytes not delivered yet. */
  putPrefix(prefix: Uint8Array): void {
    this.#options.prefix = prefix;
  }

  /** Whether a stream of this direction was created. */
  used(direction: "read" | "write"): boolean {
    return direction === "read"
      ? this.#readable !== undefined
      : this.#writable !== undefined;
  }

  #settle(): void {
    if (this.#readDone && this.#writeDone) this.#handle.close();
  }
}
