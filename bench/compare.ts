// Copyright 2026 the posix-ipc authors. MIT license.
// `deno task bench`: every workload measured in the same run on the same
// machine — C (compiled now from bench/c/), what Deno and Node users use
// today, and posix-ipc — printed as one table of medians, spreads and ratios
// to each group's baseline, and written to bench/results/latest.json.
//
//   deno task bench [--quick] [--json] [--only pipe,shm,…] [--reps N]

import { parseArgs } from "@std/cli/parse-args";
import {
  pipeRawThroughput,
  roundTrips,
  shmRawRoundTrips,
  shmRawThroughput,
  socketPairIterThroughput,
  socketPairThroughput,
  throughput,
} from "../cli/_bench/cases.ts";
import { drain, median, percentile } from "../cli/_bench/_io.ts";
import { spawn } from "../pipe/mod.ts";

const flags = parseArgs(Deno.args, {
  boolean: ["quick", "json", "help"],
  string: ["only", "reps"],
});
if (flags.help) {
  console.log(
    "usage: deno task bench [--quick] [--json] [--only GROUPS] [--reps N]",
  );
  Deno.exit(0);
}
const quick = flags.quick === true;
const TOTAL = quick ? 256 << 20 : 1 << 30;
const REPS = Number(flags.reps ?? (quick ? 1 : 5));
const TRIPS = quick ? 5000 : 20000;
const only = flags.only ? String(flags.only).split(",") : null;
const KiB64 = 64 << 10;
const MiB = 1 << 20;

// --- building blocks --------------------------------------------------------

const C_DIR = new URL("./c/", import.meta.url).pathname;
const BUILD = new URL("./.build/", import.meta.url).pathname;
Deno.mkdirSync(BUILD, { recursive: true });
const built = new Map<string, string>();
async function c(name: string): Promise<string> {
  if (built.has(name)) return built.get(name)!;
  const exe = `${BUILD}${name}`;
  const out = await new Deno.Command("gcc", {
    args: ["-O2", "-o", exe, `${C_DIR}${name}.c`, "-lrt", "-pthread"],
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`gcc ${name}.c:\n${new TextDecoder().decode(out.stderr)}`);
  }
  built.set(name, exe);
  return exe;
}

async function json(
  cmd: string,
  args: (string | number)[],
): Promise<Record<string, number>> {
  const out = await new Deno.Command(cmd, {
    args: args.map(String),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: exit ${out.code} ${text}`);
  }
  return JSON.parse(text.split("\n").at(-1)!);
}

const hasNode = await new Deno.Command("node", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output()
  .then((o) => o.success, () => false);
const NODE = new URL("./node/", import.meta.url).pathname;

function temp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = Deno.makeTempDirSync({ prefix: "pipc-bench-" });
  return fn(dir).finally(() => Deno.removeSync(dir, { recursive: true }));
}

// --- the rows ---------------------------------------------------------------

type Unit = "GB/s" | "µs";
interface Row {
  group: string;
  impl: string;
  unit: Unit;
  /** One repetition: a throughput, or round-trip samples (µs). */
  run: () => Promise<number | number[]>;
  /** The group's baseline row (ratios are to it). */
  baseline?: boolean;
  /** Target ratio to the baseline: ">= 0.9" or "<= 1.5". */
  target?: string;
  /** Absolute target: ">= 3" (GB/s) or "<= 5" (µs). */
  absolute?: string;
}

const rows: Row[] = [];
const add = (group: string, list: Omit<Row, "group">[]) => {
  if (
    !only || only.some((o) => group.toLowerCase().includes(o.toLowerCase()))
  ) {
    for (const r of list) rows.push({ group, ...r });
  }
};
const gb = (f: () => Promise<Record<string, number>>) => async () =>
  (await f()).gbps!;

for (const [chunk, label] of [[KiB64, "64 KiB"], [MiB, "1 MiB"]] as const) {
  add(`pipe, ${label} writes`, [
    {
      impl: "C (1 MiB pipe)",
      unit: "GB/s",
      baseline: true,
      run: gb(async () =>
        json(await c("pipe_throughput"), [chunk, TOTAL, MiB])
      ),
    },
    {
      impl: "posix-ipc pipe() streams",
      unit: "GB/s",
      target: ">= 0.9",
      run: () => throughput("pipe", chunk, TOTAL),
    },
    {
      impl: "posix-ipc pipe() read()/write()",
      unit: "GB/s",
      target: ">= 0.9",
      run: () => pipeRawThroughput(chunk, TOTAL),
    },
  ]);
}
add("child stdout, 64 KiB writes", [
  {
    impl: "C (64 KiB pipe)",
    unit: "GB/s",
    baseline: true,
    run: gb(async () => json(await c("pipe_throughput"), [KiB64, TOTAL, 0])),
  },
  {
    impl: "Deno.Command",
    unit: "GB/s",
    run: async () => {
      const child = new Deno.Command(await c("writer"), {
        args: [String(KiB64), String(TOTAL)],
        stdout: "piped",
      }).spawn();
      const { bytes, seconds } = await drain(child.stdout, KiB64);
      await child.status;
      return bytes / seconds / 1e9;
    },
  },
  {
    impl: "posix-ipc spawn()",
    unit: "GB/s",
    run: async () => {
      const child = spawn(await c("writer"), {
        args: [String(KiB64), String(TOTAL)],
        stdout: "piped",
      });
      const { bytes, seconds } = await drain(child.stdout, KiB64);
      await child.status;
      return bytes / seconds / 1e9;
    },
  },
  ...(hasNode
    ? [{
      impl: "Node child_process",
      unit: "GB/s" as Unit,
      run: gb(async () =>
        json("node", [
          `${NODE}child_stdout.mjs`,
          await c("writer"),
          KiB64,
          TOTAL,
        ])
      ),
    }]
    : []),
]);
add("FIFO, 64 KiB writes", [
  {
    impl: "C",
    unit: "GB/s",
    baseline: true,
    run: gb(() =>
      temp(async (d) =>
        json(await c("pipe_throughput"), [KiB64, TOTAL, MiB, `${d}/f`])
      )
    ),
  },
  {
    impl: "posix-ipc openFifo()",
    unit: "GB/s",
    target: ">= 0.9",
    run: () => throughput("fifo", KiB64, TOTAL),
  },
]);
for (const [chunk, label] of [[KiB64, "64 KiB"], [MiB, "1 MiB"]] as const) {
  add(`Unix stream, ${label} writes`, [
    {
      impl: "C socketpair",
      unit: "GB/s",
      baseline: true,
      run: gb(async () =>
        json(await c("stream_throughput"), ["unix", chunk, TOTAL])
      ),
    },
    {
      impl: "posix-ipc socketPair()",
      unit: "GB/s",
      target: ">= 0.7",
      run: () => socketPairThroughput(chunk, TOTAL),
    },
    {
      impl: "Deno.listen/connect (posix-ipc listen)",
      unit: "GB/s",
      target: ">= 0.7",
      run: () => throughput("unix", chunk, TOTAL),
    },
    ...(hasNode && chunk === KiB64
      ? [{
        impl: "Node net",
        unit: "GB/s" as Unit,
        run: gb(() =>
          temp((d) =>
            json("node", [
              `${NODE}net_unix.mjs`,
              "throughput",
              `${d}/n.sock`,
              chunk,
              TOTAL,
            ])
          )
        ),
      }]
      : []),
  ]);
}
add("TCP loopback, 64 KiB writes", [
  {
    impl: "C",
    unit: "GB/s",
    baseline: true,
    run: gb(async () =>
      json(await c("stream_throughput"), ["tcp", KiB64, TOTAL])
    ),
  },
  {
    impl: "Deno.listen/connect (posix-ipc listen)",
    unit: "GB/s",
    run: () => throughput("tcp", KiB64, TOTAL),
  },
]);
add("framed(), 64 KiB messages", [
  {
    impl: "raw socketPair() stream, BYOB into one buffer",
    unit: "GB/s",
    baseline: true,
    run: () => socketPairThroughput(KiB64, TOTAL),
  },
  {
    impl: "raw socketPair() stream, for await (a new buffer per chunk)",
    unit: "GB/s",
    run: () => socketPairIterThroughput(KiB64, TOTAL),
  },
  {
    impl: "posix-ipc framed()",
    unit: "GB/s",
    target: ">= 0.8",
    run: () => throughput("framed", KiB64, TOTAL),
  },
]);
for (const [chunk, label] of [[KiB64, "64 KiB"], [MiB, "1 MiB"]] as const) {
  const shmTotal = TOTAL * 4;
  add(`shared memory, ${label} writes`, [
    {
      impl: "C ring (spin)",
      unit: "GB/s",
      baseline: true,
      run: gb(async () => json(await c("shm_ring"), ["spin", chunk, shmTotal])),
    },
    {
      impl: "C ring (futex)",
      unit: "GB/s",
      run: gb(async () =>
        json(await c("shm_ring"), ["futex", chunk, shmTotal])
      ),
    },
    {
      impl: "C memcpy (the limit)",
      unit: "GB/s",
      run: gb(async () =>
        json(await c("shm_ring"), ["memcpy", chunk, shmTotal])
      ),
    },
    {
      impl: "posix-ipc ShmChannel streams",
      unit: "GB/s",
      target: ">= 0.5",
      absolute: ">= 3",
      run: () => throughput("shm", chunk, shmTotal),
    },
    {
      impl: "posix-ipc ShmChannel read()/write()",
      unit: "GB/s",
      run: () => shmRawThroughput(chunk, shmTotal),
    },
  ]);
}
const ping = (mode: string) => async () => {
  const r = await json(await c("pingpong"), [mode, TRIPS, 64]);
  return [r.medianUs!]; // C reports its own median; one sample per repetition
};
const trips = (m: Parameters<typeof roundTrips>[0]) => () =>
  roundTrips(m, 64, TRIPS);
add("round trip, pipe", [
  { impl: "C", unit: "µs", baseline: true, run: ping("pipe") },
  {
    impl: "posix-ipc pipe()",
    unit: "µs",
    target: "<= 1.5",
    run: trips("pipe"),
  },
]);
add("round trip, FIFO", [
  { impl: "C", unit: "µs", baseline: true, run: ping("fifo") },
  { impl: "posix-ipc openFifo()", unit: "µs", run: trips("fifo") },
]);
add("round trip, Unix stream", [
  { impl: "C", unit: "µs", baseline: true, run: ping("unix") },
  {
    impl: "Deno.listen/connect (posix-ipc listen)",
    unit: "µs",
    run: trips("unix"),
  },
  {
    impl: "posix-ipc framed() on socketPair()",
    unit: "µs",
    run: trips("framed"),
  },
  ...(hasNode
    ? [{
      impl: "Node net",
      unit: "µs" as Unit,
      run: () =>
        temp(async (
          d,
        ) => [
          (await json("node", [
            `${NODE}net_unix.mjs`,
            "roundtrip",
            `${d}/r.sock`,
            64,
            TRIPS,
          ])).medianUs!,
        ]),
    }]
    : []),
]);
add("round trip, TCP loopback", [
  { impl: "C", unit: "µs", baseline: true, run: ping("tcp") },
  {
    impl: "Deno.listen/connect (posix-ipc listen)",
    unit: "µs",
    run: trips("tcp"),
  },
]);
add("round trip, Unix datagram", [
  { impl: "C", unit: "µs", baseline: true, run: ping("dgram") },
  { impl: "posix-ipc UnixDatagram", unit: "µs", run: trips("unix-dgram") },
]);
add("round trip, shared memory", [
  { impl: "C spin", unit: "µs", baseline: true, run: ping("shm-spin") },
  { impl: "C futex", unit: "µs", run: ping("shm-futex") },
  {
    impl: "posix-ipc ShmChannel streams",
    unit: "µs",
    absolute: "<= 5",
    run: trips("shm"),
  },
  {
    impl: "posix-ipc ShmChannel read()/write()",
    unit: "µs",
    absolute: "<= 2",
    run: () => shmRawRoundTrips(64, TRIPS),
  },
]);
add("round trip, semaphore", [
  { impl: "C", unit: "µs", baseline: true, run: ping("sem") },
  {
    impl: "posix-ipc Semaphore",
    unit: "µs",
    target: "<= 1.5",
    run: trips("sem"),
  },
]);
add("round trip, message queue", [
  { impl: "C", unit: "µs", baseline: true, run: ping("mq") },
  {
    impl: "posix-ipc MessageQueue",
    unit: "µs",
    target: "<= 1.5",
    run: trips("mq"),
  },
]);
add("round trip, signal", [
  { impl: "C", unit: "µs", baseline: true, run: ping("signal") },
  { impl: "posix-ipc signals()", unit: "µs", run: trips("signal") },
]);

// --- running ----------------------------------------------------------------

interface Result {
  group: string;
  impl: string;
  unit: Unit;
  median: number;
  min: number;
  max: number;
  p99?: number;
  reps: number;
  ratio?: number;
  target?: string;
  absolute?: string;
  met?: boolean;
}

const encoder = new TextEncoder();
const terminal = Deno.stderr.isTerminal();
const samples = rows.map(() => ({
  values: [] as number[],
  p99s: [] as number[],
}));
const started = performance.now();
const reps = (r: Row) =>
  r.unit === "µs" ? Math.max(1, Math.min(REPS, 3)) : REPS;
const totalRuns = rows.reduce((n, r) => n + reps(r), 0);
let done = 0;
for (let rep = 0; rep < REPS; rep++) {
  for (const [i, row] of rows.entries()) {
    if (rep >= reps(row)) continue;
    const text = `[${++done}/${totalRuns} ${
      ((performance.now() - started) / 1000).toFixed(0)
    }s] ${row.group} · ${row.impl}`;
    if (terminal) Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text}`));
    else if (!flags.json) console.error(text);
    const value = await row.run();
    if (Array.isArray(value)) {
      const steady = value.slice(Math.floor(value.length / 10));
      samples[i]!.values.push(median(steady));
      if (steady.length > 1) samples[i]!.p99s.push(percentile(steady, 0.99));
    } else {
      samples[i]!.values.push(value);
    }
  }
}
if (terminal) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));

const results: Result[] = rows.map((row, i) => {
  const { values, p99s } = samples[i]!;
  const r: Result = {
    group: row.group,
    impl: row.impl,
    unit: row.unit,
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    reps: values.length,
  };
  if (p99s.length) r.p99 = median(p99s);
  if (row.target) r.target = row.target;
  if (row.absolute) r.absolute = row.absolute;
  return r;
});
const compare = (value: number, spec: string) => {
  const [op, bound] = spec.split(" ") as [string, string];
  return op === ">=" ? value >= Number(bound) : value <= Number(bound);
};
for (const [i, r] of results.entries()) {
  const base = results.find((b, j) => b.group === r.group && rows[j]!.baseline);
  if (base && !rows[i]!.baseline) r.ratio = r.median / base.median;
  const checks: boolean[] = [];
  if (r.target && r.ratio !== undefined) {
    checks.push(compare(r.ratio, r.target));
  }
  if (r.absolute) checks.push(compare(r.median, r.absolute));
  if (checks.length) r.met = checks.every(Boolean);
}

const info = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  node: hasNode
    ? new TextDecoder().decode(
      (await new Deno.Command("node", { args: ["--version"], stdout: "piped" })
        .output()).stdout,
    ).trim()
    : null,
  os: `${Deno.build.os} ${Deno.build.arch}`,
  cpus: navigator.hardwareConcurrency,
  quick,
  reps: REPS,
  throughputBytes: TOTAL,
  roundTrips: TRIPS,
};
const resultsDir = new URL("./results/", import.meta.url);
Deno.mkdirSync(resultsDir, { recursive: true });
Deno.writeTextFileSync(
  new URL("latest.json", resultsDir),
  JSON.stringify({ info, results }, null, 2) + "\n",
);

const fmt = (v: number, unit: Unit) =>
  unit === "GB/s"
    ? `${v.toFixed(2)} GB/s`
    : v < 10
    ? `${v.toFixed(2)} µs`
    : `${v.toFixed(1)} µs`;
if (flags.json) {
  console.log(JSON.stringify({ info, results }, null, 2));
} else {
  const lines = [[
    "workload",
    "implementation",
    "median",
    "spread (min–max)",
    "p99",
    "ratio",
    "target",
    "",
  ]];
  for (const r of results) {
    const target = [
      r.target ? `${r.target}×` : "",
      r.absolute ? `${r.absolute} ${r.unit}` : "",
    ].filter(Boolean).join(", ");
    lines.push([
      r.group,
      r.impl,
      fmt(r.median, r.unit),
      r.reps > 1 ? `${fmt(r.min, r.unit)} – ${fmt(r.max, r.unit)}` : "",
      r.p99 !== undefined ? fmt(r.p99, r.unit) : "",
      r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : "baseline",
      target,
      r.met === undefined ? "" : r.met ? "met" : "missed",
    ]);
  }
  const widths = lines[0]!.map((_, c) =>
    Math.max(...lines.map((l) => l[c]!.length))
  );
  const row = (l: string[]) =>
    `| ${l.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  console.log(
    `posix-ipc bench — ${info.date.slice(0, 16)} — Deno ${info.deno}${
      info.node ? `, Node ${info.node}` : ""
    }, ${info.os}, ${info.cpus} CPUs, ` +
      `${REPS} rep(s), ${
        TOTAL >> 20
      } MiB per throughput run (shared memory: ×4), ${TRIPS} round trips\n`,
  );
  console.log(
    [
      row(lines[0]!),
      `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
      ...lines.slice(1).map(row),
    ].join("\n"),
  );
  console.log(
    `\nRatios are to each workload's baseline row (C unless noted). Results: bench/results/latest.json`,
  );
}
