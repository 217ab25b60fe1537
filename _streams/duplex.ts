// Copyright 2026 the posix-ipc authors. MIT license.
// The streams of one fd used in up to two directions (a FIFO opened
// read-write, a socket end): the fd is released once every direction that was
// opened is finished, and finishing the write side can half-close first.

import { byteReadable, type ByteSource } from "./byte_source.ts";
import type { FdHandle } from "../_wait/fd_handle.ts";
import { fdByteSource } from "./readable.ts";
import { fdWritable } from "./writable.ts";

/** Options of {@linkcode FdStreams}. */
export interface FdStreamsOptions {
  /** The fd may be read. */
  read: boolean;
  /** The fd may be written. */
  write: boolean;
  /** Called when the write side finishes, before any close (e.g. shutdown(SHUT_WR)). */
  onWriteDone?: () => void;
  /**
   * Where the readable's bytes come from (default: the fd). A handle that has
   * bytes of its own to deliver first wraps the fd's source.
   */
  source?: (done: () => void) => ByteSource;
}

/** Lazily created readable/writable of one fd, and when to close it. */
export class FdStreams {
  #handle: FdHandle;
  #options: FdStreamsOptions;
  #readDone: boolean;
  #writeDone: boolean;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  constructor(handle: FdHandle, options: FdStreamsOptions) {
    this.#handle = handle;
    this.#options = options;
    this.#readDone = !options.read;
    this.#writeDone = !options.write;
  }

  /** The readable side; `call` names the getter in errors. */
  readable(call: string): ReadableStream<Uint8Array<ArrayBuffer>> {
    this.check("read", call);
    const done = () => {
      this.#readDone = true;
      this.#settle();
    };
    return this.#readable ??= byteReadable(
      this.#options.source?.(done) ?? fdByteSource(this.#handle, call, done),
    );
  }

  /** The writable side; `call` names the getter in errors. */
  writable(call: string): WritableStream<Uint8Array> {
    this.check("write", call);
    return this.#writable ??= fdWritable(this.#handle, call, () => {
      this.#writeDone = true;
      if (!this.#handle.closed) this.#options.onWriteDone?.();
      this.#settle();
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

  /** Throws the `TypeError` of a direction the fd was not opened for. */
  check(direction: "read" | "write", call: string): void {
    if (!this.#options[direction]) {
      throw new TypeError(
        `${call}: ${this.#handle.label} is not open for ${
          direction === "read" ? "reading" : "writing"
        }`,
      );
    }
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
