// Copyright 2026 the posix-ipc authors. MIT license.
// `ipc bench`: every mechanism measured between two processes on this
// machine, printed as the reference notes' comparison table with measured
// speeds instead of "fast" and "fastest".

import { parseArgs } from "@std/cli/parse-args";
import {
  type Mechanism,
  MECHANISMS,
  roundTrips,
  TABLE,
  throughput,
} from "./cases.ts";
import { median, percentile } from "./_io.ts";

/** The help text of `ipc bench`. */
export const BENCH_HELP = `usage: ipc bench [--quick] [--json] [--only LIST]

Measures every mechanism between this process and a worker process:
one-way throughput with 64 KiB and 1 MiB writes, and 64-byte round trips
(median and p99). Prints the comparison table of the mechanisms with the
measured speeds.

  --quick       small sizes, one repetition (about ten seconds on 2 cores)
  --json        print an array of rows: mechanism, throughputGBps,
                throughput1MiBGBps, latencyUs, latencyP99Us, …
  --only LIST   comma-separated mechanisms: ${MECHANISMS.join(",")}`;

/** One measured mechanism (a row of `ipc bench --json`). */
export interface BenchRow {
  mechanism: Mechanism;
  label: string;
  direction: string;
  filesystem: string;
  syncNeeded: string;
  scope: string;
  /** One-way throughput with 64 KiB writes (median), GB/s. */
  throughputGBps?: number;
  /** One-way throughput with 1 MiB writes (median), GB/s. */
  throughput1MiBGBps?: number;
  /** 64-byte round trip, median, µs. */
  latencyUs?: number;
  /** 64-byte round trip, 99th percentile, µs. */
  latencyP99Us?: number;
}

/** Sizes of a run. */
export interface BenchSizes {
  /** Bytes per throughput run. */
  total: number;
  /** Repetitions of each throughput run (the median is reported). */
  reps: number;
  /** Round trips per latency run. */
  trips: number;
}

/** The sizes of `ipc bench` and `ipc bench --quick`. */
export function sizes(quick: boolean): BenchSizes {
  return quick
    ? { total: 256 << 20, reps: 1, trips: 5000 }
    : { total: 1 << 30, reps: 3, trips: 20000 };
}

/** Measures `mechanisms`, reporting progress; returns one row each. */
export async function measure(
  mechanisms: readonly Mechanism[],
  size: BenchSizes,
  progress: (step: string) => void = () => {},
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const mechanism of mechanisms) {
    const info = TABLE[mechanism];
    const row: BenchRow = {
      mechanism,
      label: info.label,
      direction: info.direction,
      filesystem: info.filesystem,
      syncNeeded: info.sync,
      scope: info.scope,
    };
    if (info.throughput) {
      const chunks: [
        number,
        "throughputGBps" | "throughput1MiBGBps",
        string,
      ][] = mechanism === "unix-dgram"
        ? [[64 << 10, "throughputGBps", "64 KiB"]]
        : [[64 << 10, "throughputGBps", "64 KiB"], [
          1 << 20,
          "throughput1MiBGBps",
          "1 MiB",
        ]];
      for (const [chunk, key, label] of chunks) {
        const runs: number[] = [];
        for (let r = 0; r < size.reps; r++) {
          progress(
            `${info.label}: throughput, ${label} writes${
              size.reps > 1 ? ` (${r + 1}/${size.reps})` : ""
            }`,
          );
          runs.push(await throughput(mechanism, chunk, size.total));
        }
        row[key] = median(runs);
      }
    }
    progress(`${info.label}: ${size.trips} round trips of 64 bytes`);
    const samples = await roundTrips(mechanism, 64, size.trips);
    const steady = samples.slice(Math.floor(samples.length / 10)); // drop the warm-up
    row.latencyUs = median(steady);
    row.latencyP99Us = percentile(steady, 0.99);
    rows.push(row);
  }
  return rows;
}

const gbps = (v: number | undefined) =>
  v === undefined ? "—" : `${v.toFixed(2)} GB/s`;
const us = (v: number | undefined) =>
  v === undefined ? "—" : v < 10 ? `${v.toFixed(1)} µs` : `${Math.round(v)} µs`;

/** The comparison table, as Markdown. */
export function benchTable(rows: readonly BenchRow[]): string {
  const lines = [[
    "Mechanism",
    "Direction",
    "Filesystem",
    "Sync needed",
    "Scope",
    "64 KiB writes",
    "1 MiB writes",
    "Round trip (median / p99)",
  ]];
  for (const r of rows) {
    lines.push([
      r.label,
      r.direction,
      r.filesystem,
      r.syncNeeded,
      r.scope,
      gbps(r.throughputGBps),
      gbps(r.throughput1MiBGBps),
      `${us(r.latencyUs)} / ${us(r.latencyP99Us)}`,
    ]);
  }
  const widths = lines[0]!.map((_, c) =>
    Math.max(...lines.map((l) => l[c]!.length))
  );
  const fmt = (l: string[]) =>
    `| ${l.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [
    fmt(lines[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...lines.slice(1).map(fmt),
  ].join(
    "\n",
  );
}

/** Runs `ipc bench ARGS`; returns the exit status. */
export async function bench(args: string[]): Promise<number> {
  let bad: string | undefined;
  const flags = parseArgs(args, {
    boolean: ["quick", "json", "help"],
    string: ["only"],
    unknown: (arg: string) => {
      if (arg.startsWith("-")) bad ??= arg;
      return true;
    },
  });
  if (flags.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  if (bad || flags._.length) {
    console.error(
      `ipc: ${
        bad ? `unknown option ${bad}` : `bench takes no arguments`
      }\n\n${BENCH_HELP}`,
    );
    return 2;
  }
  const only = flags.only
    ? String(flags.only).split(",").filter(Boolean)
    : [...MECHANISMS];
  for (const m of only) {
    if (!(MECHANISMS as readonly string[]).includes(m)) {
      console.error(
        `ipc: unknown mechanism "${m}"; mechanisms: ${MECHANISMS.join(", ")}`,
      );
      return 2;
    }
  }
  const size = sizes(flags.quick === true);
  const terminal = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let step = 0;
  const started = performance.now();
  const rows = await measure(only as Mechanism[], size, (text) => {
    step++;
    const elapsed = ((performance.now() - started) / 1000).toFixed(0);
    if (terminal) {
      Deno.stderr.writeSync(
        encoder.encode(
          `\r\x1b[K${frames[step % frames.length]} ${elapsed}s  ${text}`,
        ),
      );
    } else if (!flags.json) {
      console.error(`[${elapsed}s] ${text}`);
    }
  });
  if (terminal) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
  if (flags.json) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    console.log(
      `ipc bench — ${
        new Date().toISOString().slice(0, 16)
      } — Deno ${Deno.version.deno}, ${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs${
        flags.quick ? ", --quick" : ""
      }\n`,
    );
    console.log(benchTable(rows));
    console.log(
      `\nThroughput: one-way, ${
        size.total >> 20
      } MiB per run, median of ${size.reps}. Round trips: ${size.trips} of 64 bytes (a post for semaphores, a signal each way for signals).`,
    );
  }
  return 0;
}
