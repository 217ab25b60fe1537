// Copyright 2026 the posix-ipc authors. MIT license.
// Memory mappings exposed as zero-copy ArrayBuffers. A mapping never extends
// past the object's size as it was checked by the caller (fstat), and is
// detached before it is unmapped, so a stale view reads as empty instead of
// crashing the process.
//
// The mapping itself is made and released through libc; only its view as an
// ArrayBuffer needs Deno's pointer API, and so an unscoped --allow-ffi.

import { C } from "./constants.ts";
import { lastError } from "./errors.ts";
import { closeFd } from "./fd.ts";
import { libc } from "./libc.ts";

const MAP_FAILED = 0xffffffffffffffffn;

interface Held {
  address: bigint;
  size: number;
  fd: number;
}

// Backstop only: unmaps a mapping whose ArrayBuffer (and every view of it)
// was garbage-collected without close(). Registered on the buffer itself, so
// it can never unmap memory a live view still points into.
const registry = new FinalizationRegistry<Held>((held) => {
  libc().munmap(held.address, BigInt(held.size));
  closeFd(held.fd);
});

function failed(address: bigint): boolean {
  return address === 0n || address === MAP_FAILED;
}

/** A mapping of `size` bytes of `fd`. */
export class Mapping {
  /** The mapping's address. */
  readonly address: bigint;
  readonly size: number;
  #buffer: ArrayBuffer | null = null;
  #unmapped = false;
  #held: Held;
  #call: string;
  #object: string;

  /**
   * Maps `size` bytes of `fd` (owned by the mapping from now on: closed with
   * it, or at once when `keepFd` is false). Shared and writable, or — for
   * read-only handles — private and copy-on-write, so that a stray write from
   * JavaScript changes only this process's copy instead of crashing it.
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
    const address = BigInt(
      libc().mmap(
        0n,
        BigInt(size),
        C.PROT_READ | C.PROT_WRITE,
        writable ? C.MAP_SHARED : C.MAP_PRIVATE,
        fd,
        0n,
      ),
    );
    if (failed(address)) {
      throw lastError(call, `cannot map ${size} bytes of ${object}`);
    }
    if (!keepFd) closeFd(fd);
    this.address = address;
    this.size = size;
    this.#call = call;
    this.#object = object;
    this.#held = { address, size, fd: keepFd ? fd : -1 };
  }

  /** The fd kept with the mapping, or -1 once unmapped (or not kept). */
  get fd(): number {
    return this.#unmapped ? -1 : this.#held.fd;
  }

  /** Whether `unmap()` was called. */
  get unmapped(): boolean {
    return this.#unmapped;
  }

  /**
   * The zero-copy buffer, made on first use; null once unmapped. Detached
   * when someone transferred it (e.g. a BYOB read into a view of it).
   *
   * @throws {Deno.errors.NotCapable} Without an unscoped --allow-ffi: Deno
   * gates views of foreign memory behind it.
   */
  get buffer(): ArrayBuffer | null {
    return this.view(this.#call);
  }

  /** {@linkcode Mapping.buffer}, with `call` naming the user's call in errors. */
  view(call: string): ArrayBuffer | null {
    if (this.#unmapped) return null;
    if (!this.#buffer) {
      try {
        this.#buffer = Deno.UnsafePointerView.getArrayBuffer(
          Deno.UnsafePointer.create(this.address)!,
          this.size,
        );
      } catch (error) {
        if (error instanceof Deno.errors.NotCapable) {
          throw new Deno.errors.NotCapable(
            `${call}: viewing ${this.#object} as an ArrayBuffer needs --allow-ffi without a path (Deno grants views of foreign memory only with it)`,
            { cause: error },
          );
        }
        throw error;
      }
      registry.register(this.#buffer, this.#held, this);
    }
    return this.#buffer;
  }

  /** Whether the memory can be viewed as an ArrayBuffer under the current permissions. */
  get viewable(): boolean {
    try {
      return this.buffer !== null;
    } catch {
      return false;
    }
  }

  /** The address `offset` bytes into the mapping. */
  at(offset: number): bigint {
    return this.address + BigInt(offset);
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
    if (this.#unmapped) return;
    this.#unmapped = true;
    const buffer = this.#buffer;
    this.#buffer = null;
    registry.unregister(this);
    const lib = libc();
    try {
      if (!buffer || !buffer.detached) {
        (buffer as ArrayBuffer & { transfer(n: number): ArrayBuffer } | null)
          ?.transfer(0);
        lib.munmap(this.address, BigInt(this.size));
      } else {
        const address = BigInt(lib.mmap(
          this.address,
          BigInt(this.size),
          C.PROT_READ | C.PROT_WRITE,
          C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_FIXED,
          -1,
          0n,
        ));
        if (failed(address)) lib.munmap(this.address, BigInt(this.size));
      }
    } finally {
      closeFd(this.#held.fd);
    }
  }
}
