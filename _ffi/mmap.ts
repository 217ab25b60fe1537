// Copyright 2026 the posix-ipc authors. MIT license.
// Memory mappings exposed as zero-copy ArrayBuffers, and detached before they
// are unmapped, so a stale view reads as empty instead of crashing.

import { C } from "./constants.ts";
import { lastError } from "./errno.ts";
import { closeFd } from "./fd.ts";
import { libc } from "./libc.ts";

const MAP_FAILED = 0xffffffffffffffffn;

interface Held {
  pointer: Deno.PointerObject;
  size: number;
  fd: number;
}

// Backstop only: unmaps a mapping whose ArrayBuffer (and every view of it)
// was garbage-collected without close(). Registered on the buffer itself, so
// it can never unmap memory a live view still points into.
const registry = new FinalizationRegistry<Held>((held) => {
  libc().munmap(held.pointer, BigInt(held.size));
  closeFd(held.fd);
});

/** A mapping of `size` bytes of `fd`. */
export class Mapping {
  readonly pointer: Deno.PointerObject;
  readonly size: number;
  #buffer: ArrayBuffer | null;
  #held: Held;

  /**
   * Maps `size` bytes of `fd` (owned by the mapping from now on: closed with
   * it). Shared and writable, or — for read-only handles — private and
   * copy-on-write, so that a stray write from JavaScript changes only this
   * process's copy instead of crashing it.
   */
  constructor(fd: number, size: number, writable: boolean, action: string) {
    const lib = libc();
    const p = writable
      ? lib.mmap(
        null,
        BigInt(size),
        C.PROT_READ | C.PROT_WRITE,
        C.MAP_SHARED,
        fd,
        0n,
      )
      : lib.mmap(
        null,
        BigInt(size),
        C.PROT_READ | C.PROT_WRITE,
        C.MAP_PRIVATE,
        fd,
        0n,
      );
    if (p === null || BigInt(Deno.UnsafePointer.value(p)) === MAP_FAILED) {
      throw lastError(action);
    }
    this.pointer = p;
    this.size = size;
    this.#buffer = Deno.UnsafePointerView.getArrayBuffer(p, size);
    this.#held = { pointer: p, size, fd };
    registry.register(this.#buffer, this.#held, this);
  }

  /** The fd kept with the mapping, or -1 once unmapped. */
  get fd(): number {
    return this.#buffer ? this.#held.fd : -1;
  }

  /** The zero-copy buffer; null once unmapped. */
  get buffer(): ArrayBuffer | null {
    return this.#buffer;
  }

  /** A pointer `offset` bytes into the mapping. */
  at(offset: number): Deno.PointerObject {
    return Deno.UnsafePointer.offset(this.pointer, offset)!;
  }

  /**
   * Detaches the buffer (every view of it becomes empty), then unmaps and
   * closes the fd. Idempotent.
   */
  unmap(): void {
    if (!this.#buffer) return;
    registry.unregister(this);
    // transfer(0) detaches without keeping any reference to the memory.
    (this.#buffer as ArrayBuffer & { transfer(n: number): ArrayBuffer })
      .transfer(0);
    this.#buffer = null;
    libc().munmap(this.pointer, BigInt(this.size));
    closeFd(this.#held.fd);
  }
}
