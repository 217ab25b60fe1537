// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: small stream helpers of the benchmark.

/** Fills `buffer` completely with a BYOB reader; returns it (transferred). */
export async function readExactly(
  reader: ReadableStreamBYOBReader,
  buffer: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  let filled = 0;
  let backing = buffer.buffer as ArrayBuffer;
  const size = buffer.length;
  while (filled < size) {
    const { value, done } = await reader.read(
      new Uint8Array(backing, filled, size - filled),
    );
    if (done || !value) {
      throw new Deno.errors.UnexpectedEof(
        `stream ended after ${filled} of ${size} bytes`,
      );
    }
    backing = value.buffer as ArrayBuffer;
    filled += value.length;
  }
  return new Uint8Array(backing, 0, size);
}

/** Reads a byte stream to its end with BYOB reads; bytes and seconds from the first byte. */
export async function drain(
  stream: ReadableStream<Uint8Array>,
  bufferSize: number,
): Promise<{ bytes: number; seconds: number }> {
  const reader = stream.getReader({ mode: "byob" });
  let buffer = new Uint8Array(bufferSize);
  let bytes = 0;
  let start = 0;
  for (;;) {
    const { value, done } = await reader.read(buffer);
    if (done) break;
    if (start === 0) start = performance.now();
    bytes += value.byteLength;
    buffer = new Uint8Array(value.buffer as ArrayBuffer);
  }
  return { bytes, seconds: (performance.now() - start) / 1000 };
}

/** Median of samples. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-quantile (0…1) of samples. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}
