// Copyright 2026 the posix-ipc authors. MIT license.
// Internal to the benchmark: c/feeder.c for posix-ipc ShmChannel readers,
// whose ring format only the library writes. Same options and protocol as
// the C feeder in its named modes (see c/feeder.c):
//
//   deno run -A _shm_feeder.ts -n N -p PERIOD_US -t LIMIT_MS [-d DELAY_MS]
//                              [-c COUNT] -s NAME -- READER ARGS…
//
// Creates the channels NAME-0 … NAME-(N-1) (this process is their writer),
// starts READER, waits for "ready", unlinks the names, then writes one
// 64-byte message per PERIOD_US to each channel (staggered, on the same
// max(PERIOD/N, 1 ms) grid), bytes 0-7 the send time. Between sends it
// sleeps in Atomics.wait, which blocks this process's event loop, so it
// stops at LIMIT_MS after "ready" (or COUNT per channel) rather than when
// the reader prints; then it relays the reader's output and its own line.

import { parseArgs } from "@std/cli/parse-args";
import { monotonicUs } from "./_clock.ts";
import { type ByteWriter, createShmWriter } from "./_lib.ts";

const flags = parseArgs(Deno.args, {
  string: ["n", "p", "d", "c", "t", "s"],
  stopEarly: true,
  "--": true,
});
const n = Number(flags.n ?? 1);
const period = Number(flags.p ?? 0);
const delayMs = Number(flags.d ?? 0);
const count = Number(flags.c ?? 0);
const limitMs = Number(flags.t ?? 0);
const name = flags.s!;
const command = flags["--"] as string[];
if (!name || !command.length || !(limitMs > 0 || period === 0)) {
  console.error(
    "usage: _shm_feeder.ts -n N -p PERIOD_US -t LIMIT_MS [-d DELAY_MS] [-c COUNT] -s NAME -- READER ARGS…",
  );
  Deno.exit(2);
}

const writers: (ByteWriter & { unlink(): void })[] = [];
let unlinked = false;
const unlinkAll = () => {
  if (unlinked) return;
  unlinked = true;
  for (const w of writers) w.unlink();
};
try {
  for (let i = 0; i < n; i++) {
    writers.push(createShmWriter(`${name}-${i}`, 64 << 10));
  }
  const child = new Deno.Command(command[0]!, {
    args: command.slice(1),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // The benchmark's watchdog sends SIGTERM: take the reader and the names along.
  const onTerm = () => {
    child.kill("SIGKILL");
    unlinkAll();
    Deno.exit(143);
  };
  Deno.addSignalListener("SIGTERM", onTerm);
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.startsWith("ready\n") && !text.includes("\nready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the reader ended before printing ready");
    text += decoder.decode(value, { stream: true });
  }
  text = text.slice(text.indexOf("ready\n") + 6);
  unlinkAll();

  const start = monotonicUs();
  const t0 = start + delayMs * 1000;
  const step = period > 0 ? period / n : 0;
  const grid = Math.min(period, Math.max(step, 1000));
  const total = count > 0 ? count * n : Infinity;
  const message = new Uint8Array(64);
  const view = new DataView(message.buffer);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let m = 0;
  while (period > 0 && m < total) {
    const now = monotonicUs();
    if (now - start >= limitMs * 1000) break;
    while (m < total && t0 + m * step <= now) {
      view.setFloat64(0, monotonicUs(), true);
      view.setFloat64(8, m, true);
      await writers[m % n]!.write(message);
      m++;
    }
    const next = t0 + m * step;
    const wake = t0 + grid * Math.ceil((next - t0 - 1e-3) / grid);
    const left = Math.min(wake, start + limitMs * 1000) - monotonicUs();
    if (left > 0) Atomics.wait(sleeper, 0, 0, left / 1000);
  }
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  const status = await child.status;
  Deno.removeSignalListener("SIGTERM", onTerm);
  for (const w of writers) w.close();
  await Deno.stdout.write(new TextEncoder().encode(text));
  console.log(JSON.stringify({ sent: m, dropped: 0 }));
  Deno.exit(status.code);
} finally {
  unlinkAll();
}
