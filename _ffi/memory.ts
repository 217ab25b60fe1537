// Copyright 2026 the posix-ipc authors. MIT license.
// Addresses and foreign memory through libc calls. Deno gates its pointer
// API (UnsafePointer, UnsafePointerView) behind an unscoped --allow-ffi;
// calls into the library are allowed by the narrow --allow-ffi=<libc path>.
// So addresses are plain bigints here, learned and read through libc, and
// only a view of a mapping as an ArrayBuffer (mmap.ts) needs Deno's API.

import { libc } from "./libc.ts";

const scratch = new Uint8Array(0);

/** The address of a buffer's first byte (`memmove(buf, buf, 0)` returns it). */
export function addressOf(buffer: ArrayBufferView): bigint {
  return BigInt(
    libc().address_of(buffer as BufferSource, scratch, 0n) as number | bigint,
  );
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
