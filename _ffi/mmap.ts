// Copyright 2026 the posix-ipc authors. MIT license.
// Memory mappings exposed as zero-copy ArrayBuffers. A mapping never extends
// past the object's size as it was checked by the caller (fstat), and is
// detached before it is unmapped, so a stale view reads as empty instead of
// crashing the process.

import { C } from "./constants.ts";
import { lastError } from "./errors.ts";
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

function failed(p: Deno.PointerValue): boolean {
  return p === null || BigInt(Deno.UnsafePointer.value(p)) === MAP_FAILED;
}

/** A mapping of `size` bytes of `fd`. */
export class Mapping {
  readonly pointer: Deno.PointerObject;
  readonly size: number;
  #buffer: ArrayBuffer | null;
  #held: Held;

  /**
   * Maps `size` bytes of `fd` (owned by the mapping from now on: closed with
   * it, or at once when `keepFd` is false). Shared and writable, or — for read-only handles — private and
   * copy-on-write, so that a stray write from JavaScript changes only this
   * process's copy instead of crashing it.
   *
   * The caller has checked (fstat) that the object has at least `size` bytes.
   */
  constructor(
    fd: number,
    size: number,
    writable: boolean,
    call: string,
    object: string,
    keepFd = true,
  ) {
    const p = libc().mmap(
      null,
      BigInt(size),
      C.PROT_READ | C.PROT_WRITE,
      writable ? C.MAP_SHARED : C.MAP_PRIVATE,
      fd,
      0n,
    );
    if (failed(p)) {
      throw lastError(call, `cannot map ${size} bytes of ${object}`);
    }
    this.pointer = p!;
    this.size = size;
    this.#buffer = Deno.UnsafePointerView.getArrayBuffer(p!, size);
    if (!keepFd) closeFd(fd);
    this.#held = { pointer: p!, size, fd: keepFd ? fd : -1 };
    registry.register(this.#buffer, this.#held, this);
  }

  /** The fd kept with the mapping, or -1 once unmapped. */
  get fd(): number {
    return this.#buffer ? this.#held.fd : -1;
  }

  /**
   * The zero-copy buffer; null once unmapped. Detached when someone
   * transferred it (e.g. a BYOB read into a view of it).
   */
  get buffer(): ArrayBuffer | null {
    return this.#buffer;
  }

  /** A pointer `offset` bytes into the mapping. */
  at(offset: number): Deno.PointerObject {
    return Deno.UnsafePointer.offset(this.pointer, offset)!;
  }

  /**
   * Releases the mapping and closes the fd. Idempotent, never throws.
   *
   * The buffer is detached first, so every view of it becomes empty. If it
   * was already transferred away (a BYOB read moves an ArrayBuffer's memory
   * into a new ArrayBuffer this code cannot detach), the range is replaced
   * with private zero pages instead of being unmapped: the shared memory is
   * released, and the stray view reads zeros instead of faulting.
   */
  unmap(): void {
    const buffer = this.#buffer;
    if (!buffer) return;
    this.#buffer = null;
    registry.unregister(this);
    const lib = libc();
    try {
      if (!buffer.detached) {
        (buffer as ArrayBuffer & { transfer(n: number): ArrayBuffer })
          .transfer(0);
        lib.munmap(this.pointer, BigInt(this.size));
      } else {
        const p = lib.mmap(
          this.pointer,
          BigInt(this.size),
          C.PROT_READ | C.PROT_WRITE,
          C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_FIXED,
          -1,
          0n,
        );
        if (failed(p)) lib.munmap(this.pointer, BigInt(this.size));
      }
    } finally {
      closeFd(this.#held.fd);
    }
  }
}
