// Copyright 2026 the posix-ipc authors. MIT license.
// Internal to the benchmark: CLOCK_MONOTONIC in µs, the clock the C programs
// stamp messages with, so a Deno process can compute delivery latencies.
//
// performance.now() counts on the same clock (Deno's origin is a Rust
// `Instant`, CLOCK_MONOTONIC on Linux) from an unknown origin; one
// `clock_gettime` call through FFI at load time gives the offset, so a
// timestamp afterwards costs no more than performance.now(). (A benchmark
// helper, not the library: it loads libc on its own.)

const CLOCK_MONOTONIC = 1;

function calibrate(): number {
  const lib = Deno.dlopen(
    Deno.build.os === "darwin" ? "libSystem.B.dylib" : "libc.so.6",
    { clock_gettime: { parameters: ["i32", "buffer"], result: "i32" } },
  );
  const ts = new BigInt64Array(2);
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 50; i++) {
    const a = performance.now();
    lib.symbols.clock_gettime(CLOCK_MONOTONIC, ts);
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = Number(ts[0]!) * 1e6 + Number(ts[1]!) / 1e3 - (a + b) * 500;
    }
  }
  lib.close();
  return offset;
}

const OFFSET_US = calibrate();

/** Now on CLOCK_MONOTONIC, in µs. */
export function monotonicUs(): number {
  return performance.now() * 1000 + OFFSET_US;
}
