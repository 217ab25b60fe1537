// Copyright 2026 the posix-ipc authors. MIT license.
// Addresses and foreign memory through libc calls. Deno gates its pointer
// API (UnsafePointer, UnsafePointerView) behind an unscoped --allow-ffi;
// calls into the library are allowed by the narrow --allow-ffi=<libc path>.
// So addresses are plain bigints here, learned and read through libc, and
// only a view of a mapping as an ArrayBuffer (mmap.ts) needs Deno's API.

import { libc } from "./libc.ts";

const scratch = new Uint8Array(0);

/**
 * The address of a buffer's first byte (`memmove(buf, buf, 0)` returns it).
 *
 * The address stays valid only while the buffer is alive and does not move.
 * Its backing store is made an ArrayBuffer of its own first (reading
 * `.buffer` takes a small typed array off V8's heap, where the garbage
 * collector moves objects). Keeping it alive is the caller's part: hold it
 * in a field for as long as the address is used, or take it with
 * {@linkcode pin} for the duration of one call.
 */
export function addressOf(buffer: ArrayBufferView): bigint {
  void buffer.buffer;
  return BigInt(
    libc().address_of(buffer as BufferSource, scratch, 0n) as number | bigint,
  );
}

/**
 * Buffers whose addresses a system call about to be made will use (written
 * into a struct: an iovec, a msghdr, an argv). Nothing else may refer to
 * them — an optimizing compiler drops a local after its last use — and a
 * garbage collection triggered by any allocation before the call would then
 * free one, leaving the kernel a dangling address (EFAULT, or worse: a
 * receive writing into freed memory). Reachable from here, they survive
 * until {@linkcode unpinAll}.
 */
const pinned: ArrayBufferView[] = [];

/** The address of `buffer`, which stays alive until {@linkcode unpinAll}. */
export function pin(buffer: ArrayBufferView): bigint {
  pinned.push(buffer);
  return addressOf(buffer);
}

/** Lets the buffers of {@linkcode pin} go, once the call that used them returned. */
export function unpinAll(): void {
  pinned.length = 0;
}

/** Copies `n` bytes at `address` into a new buffer. */
export function readBytes(address: bigint, n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  if (n > 0) libc().copy_from(out, address, BigInt(n));
  return out;
}

/** The 64-bit word at `address` (a pointer or a long). */
export function readU64(address: bigint): bigint {
  const word = new BigUint64Array(1);
  libc().copy_from(word, address, 8n);
  return word[0]!;
}

/** The NUL-terminated string at `address` (at most `max` bytes), or "" for 0. */
export function readCString(address: bigint, max = 4096): string {
  if (address === 0n) return "";
  const n = Number(libc().strnlen(address, BigInt(max)));
  return new TextDecoder().decode(readBytes(address, n));
}
