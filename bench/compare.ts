// Copyright 2026 the posix-ipc authors. MIT license.
// `deno task bench`: every workload measured in the same run on the same
// machine — C (compiled now from bench/c/ into a temporary directory), what
// Deno and Node users use today, and posix-ipc — with the implementations
// alternating within each repetition. Prints one table per kind of workload
// and writes every result as JSON to --out FILE (default: a new temporary
// file, named at the end). Nothing in the repository is written.
//
//   deno task bench [--quick] [--json] [--only GROUPS] [--reps N] [--out FILE]
//
// GROUPS is a comma-separated list; a workload runs when one entry is one of
// its tags — throughput, roundtrip, sporadic, fanin, gap, burst, idle — or
// part of its name ("shared memory", "N = 1000").
//
// Every call into posix-ipc goes through bench/_lib.ts (the throughput and
// back-to-back rows also through cli/_bench/, the `ipc bench` command's own
// code). The programs each scenario runs are described in their files:
// c/feeder.c, c/reader.c, c/pingpong.c, _reader.ts, _shm_feeder.ts,
// _round_trip.ts.

import { parseArgs } from "@std/cli/parse-args";
import process from "node:process";
import {
  pipeRawThroughput,
  roundTrips,
  shmRawRoundTrips,
  shmRawThroughput,
  socketPairIterThroughput,
  socketPairThroughput,
  throughput,
} from "../cli/_bench/cases.ts";
import { drain, median } from "../cli/_bench/_io.ts";
import { spawnPiped } from "./_lib.ts";

const HELP =
  `usage: deno task bench [--quick] [--json] [--only GROUPS] [--reps N] [--out FILE]

  --quick      smaller sizes, shorter windows, one repetition
  --json       print the results as JSON instead of tables
  --only LIST  comma-separated tags or parts of workload names; tags:
               throughput roundtrip sporadic fanin gap burst idle
  --reps N     repetitions (default 5, --quick 1; round trips and the
               scenarios of sporadic, fanin, gap and burst use at most 3,
               idle 1)
  --out FILE   write the JSON results to FILE (default: a temporary file)`;

const flags = parseArgs(Deno.args, {
  boolean: ["quick", "json", "help"],
  string: ["only", "reps", "out"],
});
if (flags.help) {
  console.log(HELP);
  Deno.exit(0);
}
const quick = flags.quick === true;
const TOTAL = quick ? 256 << 20 : 1 << 30;
const REPS = Number(flags.reps ?? (quick ? 1 : 5));
const TRIPS = quick ? 5000 : 20000;
const only = flags.only
  ? String(flags.only).toLowerCase().split(",").map((o) => o.trim()).filter(
    Boolean,
  )
  : null;
const KiB64 = 64 << 10;
const MiB = 1 << 20;

/** Sizes of the scenarios (ms unless named otherwise). */
const S = quick
  ? {
    warmup: 300,
    window1: 1000, // sporadic, 1 message per ms
    window10: 2000, // sporadic, 1 message per 10 ms
    fanWindow: 1000,
    gapTrips: 500,
    idleWindow: 1500,
  }
  : {
    warmup: 500,
    window1: 3000,
    window10: 5000,
    fanWindow: 3000,
    gapTrips: 2000,
    idleWindow: 5000,
  };
const FAN_IN = [1, 10, 100, 1000];
const BURST = 5000;
const IDLE = 100;
const GAP_US = 2000;

// --- building blocks --------------------------------------------------------

const HERE = new URL(".", import.meta.url).pathname;
const C_DIR = `${HERE}c/`;
const NODE = `${HERE}node/`;
const DENO = Deno.execPath();
const BUILD = Deno.makeTempDirSync({ prefix: "pipc-bench-build-" });
const decoder = new TextDecoder();

const built = new Map<string, Promise<string>>();
function c(name: string): Promise<string> {
  let exe = built.get(name);
  if (!exe) {
    exe = (async () => {
      const path = `${BUILD}/${name}`;
      const out = await new Deno.Command("gcc", {
        args: ["-O2", "-o", path, `${C_DIR}${name}.c`, "-lrt", "-pthread"],
        stderr: "piped",
      }).output();
      if (!out.success) {
        throw new Error(`gcc ${name}.c:\n${decoder.decode(out.stderr)}`);
      }
      return path;
    })();
    built.set(name, exe);
  }
  return exe;
}

/** A JSON object printed by one of the programs. */
// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** Longest a measurement program may take before it is killed (SIGTERM). */
const WATCHDOG_MS = 180_000;

/** Runs a command; returns the JSON objects it printed, one per line. */
async function run(cmd: (string | number)[]): Promise<Json[]> {
  const [command, ...args] = cmd.map(String);
  const watchdog = AbortSignal.timeout(WATCHDOG_MS);
  const out = await new Deno.Command(command!, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: watchdog,
  }).output();
  const text = decoder.decode(out.stdout);
  if (watchdog.aborted) {
    throw new Error(
      `${command!.split("/").at(-1)} ran over ${
        WATCHDOG_MS / 1000
      } s and was stopped`,
    );
  }
  if (!out.success) {
    const err = decoder.decode(out.stderr).trim().split("\n").slice(-3);
    throw new Error(
      `${command!.split("/").at(-1)} exited with ${out.code}: ${
        err.join(" / ")
      }`,
    );
  }
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) =>
    JSON.parse(l)
  );
}

const deno = (script: string, args: (string | number)[], v8 = "") => [
  DENO,
  "run",
  "--allow-all",
  "--quiet",
  ...(v8 ? [`--v8-flags=${v8}`] : []),
  `${HERE}${script}`,
  ...args,
];

const hasNode = await new Deno.Command("node", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output()
  .then((o) => o.success, () => false);

function temp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = Deno.makeTempDirSync({ prefix: "pipc-bench-" });
  return fn(dir).finally(() => Deno.removeSync(dir, { recursive: true }));
}
const uniqueName = () => `/pipc-bench-${crypto.randomUUID().slice(0, 8)}`;

// --- rows -------------------------------------------------------------------

type Kind = "throughput" | "latency" | "sporadic" | "fanin" | "burst" | "idle";

/** What one repetition of a row measured. */
interface Rep {
  gbps?: number;
  /** Round-trip or delivery latencies, µs. */
  samplesUs?: number[];
  cpuUs?: number;
  wallUs?: number;
  msgs?: number;
  /** Event-loop probe: message delays, and timer lateness. */
  lagMs?: number[];
  lateMs?: number[];
  issueMs?: number;
  rssPerRead?: number;
  heapPerRead?: number;
  completeMs?: number;
  dropped?: number;
}

type Metric =
  | "gbps"
  | "p50"
  | "p999"
  | "cpuPct"
  | "lagP99"
  | "stallMs"
  | "rssPerRead";
const METRIC: Record<Metric, [name: string, unit: string]> = {
  gbps: ["throughput", "GB/s"],
  p50: ["p50", "µs"],
  p999: ["p99.9", "µs"],
  cpuPct: ["CPU", "%"],
  lagP99: ["lag p99", "ms"],
  stallMs: ["longest stall", "ms"],
  rssPerRead: ["RSS per pending read", "B"],
};

/**
 * A target: `metric op bound`, or `metric op bound × the row keyed ref` of
 * the same workload, or with `plus`, `metric op ref's + bound`.
 */
interface Check {
  metric: Metric;
  op: "<=" | ">=";
  bound: number;
  ref?: string;
  plus?: boolean;
  note?: string;
}

interface Row {
  group: string;
  tags: readonly string[];
  kind: Kind;
  impl: string;
  /** Names the row for ratios and checks of its group. */
  key?: string;
  /** How targets that compare with this row name it. */
  short?: string;
  run: () => Promise<Rep>;
  checks?: Check[];
  reps?: number;
}

const rows: Row[] = [];
function add(
  group: string,
  tags: readonly string[],
  kind: Kind,
  list: Omit<Row, "group" | "tags" | "kind">[],
): void {
  const name = group.toLowerCase();
  if (only && !only.some((o) => tags.includes(o) || name.includes(o))) return;
  for (const r of list) rows.push({ group, tags, kind, ...r });
}

// --- throughput (one-way, between two processes) ----------------------------

const gb = (f: () => Promise<number>) => async (): Promise<Rep> => ({
  gbps: await f(),
});
const cGbps = async (name: string, args: (string | number)[]) =>
  (await run([await c(name), ...args]))[0]!.gbps as number;
const TP = ["throughput"];

for (const [chunk, label] of [[KiB64, "64 KiB"], [MiB, "1 MiB"]] as const) {
  add(`pipe, ${label} writes`, TP, "throughput", [
    {
      impl: "C (1 MiB pipe)",
      key: "baseline",
      run: gb(() => cGbps("pipe_throughput", [chunk, TOTAL, MiB])),
    },
    {
      impl: "posix-ipc pipe() streams",
      checks: [{ metric: "gbps", op: ">=", bound: 0.9, ref: "baseline" }],
      run: gb(() => throughput("pipe", chunk, TOTAL)),
    },
    {
      impl: "posix-ipc pipe() read()/write()",
      checks: [{ metric: "gbps", op: ">=", bound: 0.9, ref: "baseline" }],
      run: gb(() => pipeRawThroughput(chunk, TOTAL)),
    },
  ]);
}
add("child stdout, 64 KiB writes", TP, "throughput", [
  {
    impl: "C (64 KiB pipe)",
    key: "baseline",
    run: gb(() => cGbps("pipe_throughput", [KiB64, TOTAL, 0])),
  },
  {
    impl: "Deno.Command",
    run: gb(async () => {
      const child = new Deno.Command(await c("writer"), {
        args: [String(KiB64), String(TOTAL)],
        stdout: "piped",
      }).spawn();
      const { bytes, seconds } = await drain(child.stdout, KiB64);
      await child.status;
      return bytes / seconds / 1e9;
    }),
  },
  {
    impl: "posix-ipc spawn()",
    run: gb(async () => {
      const child = spawnPiped(await c("writer"), [
        String(KiB64),
        String(TOTAL),
      ]);
      const { bytes, seconds } = await drain(child.stdout, KiB64);
      await child.exited;
      return bytes / seconds / 1e9;
    }),
  },
  ...(hasNode
    ? [{
      impl: "Node child_process",
      run: gb(async () =>
        (await run([
          "node",
          `${NODE}child_stdout.mjs`,
          await c("writer"),
          KiB64,
          TOTAL,
        ]))[0]!.gbps
      ),
    }]
    : []),
]);
add("FIFO, 64 KiB writes", TP, "throughput", [
  {
    impl: "C",
    key: "baseline",
    run: gb(() =>
      temp((d) => cGbps("pipe_throughput", [KiB64, TOTAL, MiB, `${d}/f`]))
    ),
  },
  {
    impl: "posix-ipc openFifo()",
    checks: [{ metric: "gbps", op: ">=", bound: 0.9, ref: "baseline" }],
    run: gb(() => throughput("fifo", KiB64, TOTAL)),
  },
]);
for (const [chunk, label] of [[KiB64, "64 KiB"], [MiB, "1 MiB"]] as const) {
  add(`Unix stream, ${label} writes`, TP, "throughput", [
    {
      impl: "C socketpair",
      key: "baseline",
      run: gb(() => cGbps("stream_throughput", ["unix", chunk, TOTAL])),
    },
    {
      impl: "posix-ipc socketPair()",
      checks: [{ metric: "gbps", op: ">=", bound: 0.7, ref: "baseline" }],
      run: gb(() => socketPairThroughput(chunk, TOTAL)),
    },
    {
      impl: "Deno.listen/connect (posix-ipc listen)",
      checks: [{ metric: "gbps", op: ">=", bound: 0.7, ref: "baseline" }],
      run: gb(() => throughput("unix", chunk, TOTAL)),
    },
    ...(hasNode && chunk === KiB64
      ? [{
        impl: "Node net",
        run: gb(() =>
          temp(async (d) =>
            (await run([
              "node",
              `${NODE}net_unix.mjs`,
              "throughput",
              `${d}/n.sock`,
              chunk,
              TOTAL,
            ]))[0]!.gbps
          )
        ),
      }]
      : []),
  ]);
}
add("TCP loopback, 64 KiB writes", TP, "throughput", [
  {
    impl: "C",
    key: "baseline",
    run: gb(() => cGbps("stream_throughput", ["tcp", KiB64, TOTAL])),
  },
  {
    impl: "Deno.listen/connect (posix-ipc listen)",
    run: gb(() => throughput("tcp", KiB64, TOTAL)),
  },
]);
add("framed(), 64 KiB messages", TP, "throughput", [
  {
    impl: "raw socketPair() stream, BYOB into one buffer",
    key: "baseline",
    run: gb(() => socketPairThroughput(KiB64, TOTAL)),
  },
  {
    impl: "raw socketPair() stream, for await (a new buffer per chunk)",
    run: gb(() => socketPairIterThroughput(KiB64, TOTAL)),
  },
  {
    impl: "posix-ipc framed()",
    checks: [{ metric: "gbps", op: ">=", bound: 0.8, ref: "baseline" }],
    run: gb(() => throughput("framed", KiB64, TOTAL)),
  },
]);
for (const [chunk, label] of [[KiB64, "64 KiB"], [MiB, "1 MiB"]] as const) {
  const shmTotal = TOTAL * 4;
  add(`shared memory, ${label} writes`, TP, "throughput", [
    {
      impl: "C ring (spin)",
      key: "baseline",
      run: gb(() => cGbps("shm_ring", ["spin", chunk, shmTotal])),
    },
    {
      impl: "C ring (futex)",
      run: gb(() => cGbps("shm_ring", ["futex", chunk, shmTotal])),
    },
    {
      impl: "C memcpy (the limit)",
      run: gb(() => cGbps("shm_ring", ["memcpy", chunk, shmTotal])),
    },
    {
      impl: "posix-ipc ShmChannel streams",
      checks: [
        { metric: "gbps", op: ">=", bound: 0.5, ref: "baseline" },
        { metric: "gbps", op: ">=", bound: 3 },
      ],
      run: gb(() => throughput("shm", chunk, shmTotal)),
    },
    {
      impl: "posix-ipc ShmChannel read()/write()",
      run: gb(() => shmRawThroughput(chunk, shmTotal)),
    },
  ]);
}

// --- round trips ---------------------------------------------------------------

/** C's two placements: both processes on CPU 0, or on CPUs 0 and 1. */
const PLACEMENTS = [
  { key: "c-same", label: "both on CPU 0", cpus: [0, 0] },
  { key: "c-cross", label: "on CPUs 0 and 1", cpus: [0, 1] },
] as const;

/** C pingpong rows for both placements. */
function cTrips(
  mode: string,
  count: number,
  gapUs: number,
  name = "C",
  keys: readonly string[] = ["c-same", "c-cross"],
): Omit<Row, "group" | "tags" | "kind">[] {
  return PLACEMENTS.filter((p) => keys.includes(p.key)).map((p) => ({
    impl: `${name}, ${p.label}`,
    key: `${p.key}${name === "C" ? "" : `-${name}`}`,
    short: `${name} (CPUs ${p.cpus.join("/")})`,
    run: async () =>
      trips(
        await run([await c("pingpong"), mode, count, 64, gapUs, ...p.cpus]),
        count,
      ),
  }));
}
/** A repetition from a program's {cpuUs, samplesUs} line. */
const trips = ([line]: Json[], count: number): Rep => ({
  samplesUs: line!.samplesUs,
  cpuUs: line!.cpuUs,
  msgs: count,
});
/**
 * Round trips run in this process by the `ipc bench` code, the first 10%
 * dropped as warm-up; CPU time from before the peer starts to its end.
 */
const inProcess = (measure: () => Promise<number[]>) => async () => {
  const cpu0 = process.cpuUsage();
  const samples = await measure();
  const cpu = process.cpuUsage(cpu0);
  return {
    samplesUs: samples.slice(Math.floor(samples.length / 10)),
    cpuUs: cpu.user + cpu.system,
    msgs: samples.length,
  };
};
const cliTrips = (m: Parameters<typeof roundTrips>[0]) =>
  inProcess(() => roundTrips(m, 64, TRIPS));
/** Round trips of _round_trip.ts: posix-ipc read()/write() or Deno.Conn. */
const denoTrips = (mode: string, count: number, gapUs: number) => async () =>
  trips(await run(deno("_round_trip.ts", [mode, count, gapUs])), count);
/** The back-to-back targets: p50 and p99.9 at most C's (CPUs 0 and 1). */
const b2b = (ref = "c-cross"): Check[] => [
  { metric: "p50", op: "<=", bound: 1, ref },
  { metric: "p999", op: "<=", bound: 1, ref },
];
const RT = ["roundtrip"];

add("round trip, pipe", RT, "latency", [
  ...cTrips("pipe", TRIPS, 0),
  { impl: "posix-ipc pipe() streams", checks: b2b(), run: cliTrips("pipe") },
]);
add("round trip, FIFO", RT, "latency", [
  ...cTrips("fifo", TRIPS, 0),
  { impl: "posix-ipc openFifo()", run: cliTrips("fifo") },
]);
add("round trip, Unix stream", RT, "latency", [
  ...cTrips("unix", TRIPS, 0, "C socketpair"),
  {
    impl: "Deno.listen/connect (posix-ipc listen)",
    run: cliTrips("unix"),
  },
  {
    impl: "posix-ipc socketPair() read()/write()",
    checks: b2b("c-cross-C socketpair"),
    run: denoTrips("socketpair", TRIPS, 0),
  },
  { impl: "posix-ipc framed() on socketPair()", run: cliTrips("framed") },
  ...(hasNode
    ? [{
      impl: "Node net",
      run: () =>
        temp(async (d) =>
          trips(
            await run([
              "node",
              `${NODE}net_unix.mjs`,
              "roundtrip",
              `${d}/r.sock`,
              64,
              TRIPS,
            ]),
            TRIPS,
          )
        ),
    }]
    : []),
]);
add("round trip, TCP loopback", RT, "latency", [
  ...cTrips("tcp", TRIPS, 0),
  { impl: "Deno.listen/connect (posix-ipc listen)", run: cliTrips("tcp") },
]);
add("round trip, Unix datagram", RT, "latency", [
  ...cTrips("dgram", TRIPS, 0),
  { impl: "posix-ipc UnixDatagram", run: cliTrips("unix-dgram") },
]);
add("round trip, shared memory", RT, "latency", [
  // Two spinners on one CPU only spin until preempted: cross-CPU only.
  ...cTrips("shm-spin", TRIPS, 0, "C spin", ["c-cross"]),
  ...cTrips("shm-futex", TRIPS, 0, "C futex"),
  {
    impl: "posix-ipc ShmChannel streams",
    checks: [
      { metric: "p50", op: "<=", bound: 5 },
      { metric: "p999", op: "<=", bound: 1, ref: "c-cross-C futex" },
    ],
    run: cliTrips("shm"),
  },
  {
    impl: "posix-ipc ShmChannel read()/write()",
    checks: [{ metric: "p50", op: "<=", bound: 2 }],
    run: inProcess(() => shmRawRoundTrips(64, TRIPS)),
  },
]);
add("round trip, semaphore", RT, "latency", [
  ...cTrips("sem", TRIPS, 0),
  { impl: "posix-ipc Semaphore", checks: b2b(), run: cliTrips("sem") },
]);
add("round trip, message queue", RT, "latency", [
  ...cTrips("mq", TRIPS, 0),
  { impl: "posix-ipc MessageQueue", checks: b2b(), run: cliTrips("mq") },
]);
add("round trip, signal", RT, "latency", [
  ...cTrips("signal", TRIPS, 0),
  { impl: "posix-ipc signals()", run: cliTrips("signal") },
]);

// Round trips with a 2 ms gap: both sides idle between messages.
const GAP = ["gap"];
const gapTrips = S.gapTrips;
add("round trip, 2 ms gap, pipe", GAP, "latency", [
  ...cTrips("pipe", gapTrips, GAP_US),
  { impl: "posix-ipc pipe() read()", run: denoTrips("pipe", gapTrips, GAP_US) },
]);
add("round trip, 2 ms gap, Unix stream", GAP, "latency", [
  ...cTrips("unix", gapTrips, GAP_US, "C socketpair"),
  { impl: "Deno.Conn", key: "conn", run: denoTrips("conn", gapTrips, GAP_US) },
  {
    impl: "posix-ipc socketPair() read()",
    run: denoTrips("socketpair", gapTrips, GAP_US),
  },
]);
add("round trip, 2 ms gap, shared memory", GAP, "latency", [
  ...cTrips("shm-futex", gapTrips, GAP_US, "C futex"),
  {
    impl: "posix-ipc ShmChannel read()",
    run: denoTrips("shm", gapTrips, GAP_US),
  },
]);
add("round trip, 2 ms gap, semaphore", GAP, "latency", [
  ...cTrips("sem", gapTrips, GAP_US),
  { impl: "posix-ipc Semaphore", run: denoTrips("sem", gapTrips, GAP_US) },
]);
add("round trip, 2 ms gap, message queue", GAP, "latency", [
  ...cTrips("mq", gapTrips, GAP_US),
  { impl: "posix-ipc MessageQueue", run: denoTrips("mq", gapTrips, GAP_US) },
]);

// --- readers fed by another process ----------------------------------------------

/** A mechanism as c/feeder.c, c/reader.c and _reader.ts name it. */
interface Mech {
  /** c/feeder.c and c/reader.c mode of the C baseline. */
  c: string;
  /** _reader.ts mode of posix-ipc. */
  lib: string;
  /** The C baseline with one handle, and with many in one process. */
  cImpl: string;
  cMany: string;
  libImpl: string;
}
const MECHS: Mech[] = [
  {
    c: "pipe",
    lib: "pipe",
    cImpl: "C pipe, read()",
    cMany: "C pipes, one epoll_wait()",
    libImpl: "posix-ipc pipe() read()",
  },
  {
    c: "socketpair",
    lib: "socketpair",
    cImpl: "C socketpair, read()",
    cMany: "C socketpairs, one epoll_wait()",
    libImpl: "posix-ipc socketPair() read()",
  },
  {
    c: "ring",
    lib: "shm",
    cImpl: "C shm ring, spin + futex",
    cMany: "C shm rings, a thread in futex each",
    libImpl: "posix-ipc ShmChannel read()",
  },
  {
    c: "sem",
    lib: "sem",
    cImpl: "C sem_wait()",
    cMany: "C sem_wait(), a thread each",
    libImpl: "posix-ipc Semaphore wait()",
  },
  {
    c: "mq",
    lib: "mq",
    cImpl: "C mq_receive()",
    cMany: "C mq_receive(), a thread each",
    libImpl: "posix-ipc MessageQueue receive()",
  },
];

interface Feed {
  n: number;
  /** µs between two messages of one channel; 0: none (idle). */
  period: number;
  warmup: number;
  window: number;
  lag?: boolean;
  burst?: boolean;
}

/**
 * A reader (C, Deno.Conn or posix-ipc) fed by c/feeder.c or _shm_feeder.ts;
 * "floor": a Deno reader with no handles and no feeder.
 */
function fed(who: "c" | "conn" | "lib" | "floor", mech: Mech, feed: Feed) {
  return async (): Promise<Rep> => {
    const name = uniqueName();
    const limit = feed.warmup + feed.window + 3000;
    const burst = feed.burst
      ? ["-p", 1, "-c", 1, "-g", "pending"]
      : ["-p", feed.period, "-t", limit];
    const feeder = async (mode: string, where = name) => [
      await c("feeder"),
      "-m",
      mode,
      "-n",
      feed.n,
      "-s",
      where,
      ...burst,
    ];
    const denoReader = (mode: string, where = name) =>
      deno(
        "_reader.ts",
        [
          "--mode",
          mode,
          "--n",
          feed.n,
          "--warmup",
          feed.warmup,
          "--window",
          feed.window,
          "--name",
          where,
          ...(feed.lag || feed.burst ? ["--lag"] : []),
          ...(feed.burst ? ["--burst"] : []),
        ],
        feed.burst ? "--expose-gc" : "",
      );
    let lines: Json[];
    if (who === "floor") {
      lines = [...await run(denoReader("none")), {}];
    } else if (who === "c") {
      lines = await run([
        ...await feeder(mech.c),
        "--",
        await c("reader"),
        mech.c,
        feed.n,
        feed.warmup,
        feed.window,
        name,
        ...(feed.burst ? ["burst"] : []),
      ]);
    } else if (who === "conn") {
      lines = await temp(async (dir) =>
        run([
          ...await feeder("unix", `${dir}/s`),
          "--",
          ...denoReader("conn", `${dir}/s`),
        ])
      );
    } else if (mech.lib === "shm") {
      lines = await run([
        ...deno("_shm_feeder.ts", [
          "-n",
          feed.n,
          "-p",
          feed.period,
          "-t",
          feed.warmup + feed.window + 500,
          "-s",
          name,
        ]),
        "--",
        ...denoReader("shm"),
      ]);
    } else {
      lines = await run([
        ...await feeder(mech.c),
        "--",
        ...denoReader(mech.lib),
      ]);
    }
    const r = lines[0]!;
    const f = lines.at(-1)!;
    const rep: Rep = { dropped: f.dropped };
    if (r.cpuUs !== undefined) {
      rep.cpuUs = r.cpuUs;
      rep.wallUs = r.wallUs;
      rep.msgs = r.msgs;
    }
    if (r.recvUs) {
      // A semaphore post carries nothing: pair the k-th wake-up with the k-th post.
      const sent: number[] = f.sentUs;
      const [from, to] = r.windowUs as [number, number];
      rep.samplesUs = (r.recvUs as number[]).flatMap((t, k) =>
        t >= from && t <= to && sent[k] !== undefined ? [t - sent[k]!] : []
      );
    } else if (r.latUs) rep.samplesUs = r.latUs;
    if (r.lagMs) rep.lagMs = r.lagMs;
    if (r.lateMs) rep.lateMs = r.lateMs;
    for (const k of ["issueMs", "rssPerRead", "heapPerRead", "completeMs"]) {
      if (r[k] !== undefined) (rep as Record<string, unknown>)[k] = r[k];
    }
    return rep;
  };
}

const CONN: Mech = {
  c: "unix",
  lib: "conn",
  cImpl: "",
  cMany: "",
  libImpl: "Deno.Conn (Unix socket), conn.read()",
};

for (
  const [period, label, window] of [
    [1000, "1 msg/ms", S.window1],
    [10000, "1 msg/10 ms", S.window10],
  ] as const
) {
  const feed = { n: 1, period, warmup: S.warmup, window };
  const list: Omit<Row, "group" | "tags" | "kind">[] = [];
  for (const [i, m] of MECHS.entries()) {
    list.push({
      impl: m.cImpl,
      key: `c-${m.c}`,
      short: "C",
      run: fed("c", m, feed),
    });
    list.push({
      impl: m.libImpl,
      // The issue's targets are for one message per ms.
      ...(period === 1000 && {
        checks: [
          { metric: "cpuPct", op: "<=", bound: 1, ref: "conn" },
          {
            metric: "cpuPct",
            op: "<=",
            bound: 2,
            ref: `c-${m.c}`,
            note: "moonshot",
          },
          { metric: "p50", op: "<=", bound: 1, ref: "conn" },
        ],
      }),
      run: fed("lib", m, feed),
    });
    if (i === 1) {
      list.push({
        impl: CONN.libImpl,
        key: "conn",
        short: "Deno.Conn",
        run: fed("conn", CONN, feed),
      });
    }
  }
  add(`sporadic reader, 64 B at ${label}`, ["sporadic"], "sporadic", list);
}

for (const n of FAN_IN) {
  const feed = {
    n,
    period: 10000,
    warmup: S.warmup,
    window: S.fanWindow,
    lag: true,
  };
  const targets = (more: Check[]): { checks?: Check[] } =>
    n === 1000
      ? { checks: [{ metric: "lagP99", op: "<=", bound: 2 }, ...more] }
      : {};
  add(`fan-in, N = ${n}, 64 B per 10 ms to each`, ["fanin"], "fanin", [
    {
      impl: n === 1 ? MECHS[0]!.cImpl : MECHS[0]!.cMany,
      run: fed("c", MECHS[0]!, feed),
    },
    {
      impl: CONN.libImpl,
      key: "conn",
      short: "Deno.Conn",
      ...targets([]),
      run: fed("conn", CONN, feed),
    },
    ...MECHS.slice(0, 2).map((m) => ({
      impl: m.libImpl,
      ...targets([
        { metric: "p50", op: "<=", bound: 2, ref: "conn" },
        { metric: "cpuPct", op: "<=", bound: 1, ref: "conn" },
      ]),
      run: fed("lib", m, feed),
    })),
  ]);
}

{
  const feed = { n: BURST, period: 0, warmup: 0, window: 0, burst: true };
  const checks: Check[] = [
    { metric: "stallMs", op: "<=", bound: 50 },
    { metric: "rssPerRead", op: "<=", bound: 1, ref: "conn" },
  ];
  add(
    `${BURST.toLocaleString("en")} reads issued at once`,
    ["burst"],
    "burst",
    [
      { impl: "C pipes, epoll_ctl() each", run: fed("c", MECHS[0]!, feed) },
      {
        impl: CONN.libImpl,
        key: "conn",
        short: "Deno.Conn",
        checks: checks.slice(0, 1),
        run: fed("conn", CONN, feed),
      },
      ...MECHS.slice(0, 2).map((m) => ({
        impl: m.libImpl,
        checks,
        run: fed("lib", m, feed),
      })),
    ],
  );
}

{
  const feed = { n: IDLE, period: 0, warmup: S.warmup, window: S.idleWindow };
  // An idle Deno process is not quite at 0: the floor row measures it, and
  // "no CPU use" means no more than 0.1 % of a CPU above it.
  const idle: Check[] = [
    { metric: "cpuPct", op: "<=", bound: 0.1, ref: "floor", plus: true },
  ];
  const list: Omit<Row, "group" | "tags" | "kind">[] = [{
    impl: "Deno, no handles (the runtime's floor)",
    key: "floor",
    short: "the floor",
    reps: 1,
    run: fed("floor", CONN, { ...feed, n: 0 }),
  }];
  for (const [i, m] of MECHS.entries()) {
    list.push({ impl: m.cMany, reps: 1, run: fed("c", m, feed) });
    list.push({
      impl: m.libImpl,
      reps: 1,
      checks: idle,
      run: fed("lib", m, feed),
    });
    if (i === 1) {
      list.push({
        impl: CONN.libImpl,
        reps: 1,
        checks: idle,
        run: fed("conn", CONN, feed),
      });
    }
  }
  add(`idle waiters, ${IDLE} of a kind, nothing sent`, ["idle"], "idle", list);
}

// --- running ----------------------------------------------------------------

interface Result {
  group: string;
  kind: Kind;
  impl: string;
  key?: string;
  short?: string;
  reps: number;
  error?: string;
  gbps?: number;
  gbpsMin?: number;
  gbpsMax?: number;
  samples?: number;
  p50?: number;
  p99?: number;
  p999?: number;
  cpuPct?: number;
  cpuUsPerMsg?: number;
  cpuMs?: number;
  msgs?: number;
  lagP50?: number;
  lagP99?: number;
  issueMs?: number;
  stallMs?: number;
  rssPerRead?: number;
  heapPerRead?: number;
  completeMs?: number;
  dropped?: number;
  checks?: { target: string; value: number; met: boolean }[];
}

const reps = (r: Row) =>
  r.reps ?? (r.kind === "throughput" ? REPS : Math.max(1, Math.min(REPS, 3)));
const loadavg = () =>
  Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const loadBefore = Deno.build.os === "linux" ? loadavg() : "";
const encoder = new TextEncoder();
const terminal = Deno.stderr.isTerminal();
const measured = rows.map(() => [] as Rep[]);
const errors = rows.map(() => undefined as string | undefined);
const started = performance.now();
const totalRuns = rows.reduce((n, r) => n + reps(r), 0);
const maxReps = Math.max(0, ...rows.map(reps));
let done = 0;
try {
  // Repetition-major: every row of every group once, then again — so the
  // implementations of a workload alternate instead of running in blocks.
  for (let rep = 0; rep < maxReps; rep++) {
    for (const [i, row] of rows.entries()) {
      if (rep >= reps(row) || errors[i]) continue;
      const text = `[${++done}/${totalRuns} ${
        ((performance.now() - started) / 1000).toFixed(0)
      }s] ${row.group} · ${row.impl}`;
      if (terminal) Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text}`));
      else if (!flags.json) console.error(text);
      try {
        measured[i]!.push(await row.run());
      } catch (error) {
        errors[i] = error instanceof Error ? error.message : String(error);
        if (!terminal && !flags.json) console.error(`  failed: ${errors[i]}`);
      }
    }
  }
} finally {
  Deno.removeSync(BUILD, { recursive: true });
}
if (terminal) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
const loadAfter = Deno.build.os === "linux" ? loadavg() : "";

const sorted = (xs: number[]) => Float64Array.from(xs).sort();
const at = (s: Float64Array, p: number) =>
  s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
const sum = (xs: (number | undefined)[]) =>
  xs.reduce<number>((a, b) => a + (b ?? 0), 0);

const results: Result[] = rows.map((row, i) => {
  const list = measured[i]!;
  const r: Result = {
    group: row.group,
    kind: row.kind,
    impl: row.impl,
    reps: list.length,
  };
  if (row.key) r.key = row.key;
  if (row.short) r.short = row.short;
  if (errors[i]) r.error = errors[i];
  if (!list.length) return r;
  const gbps = list.flatMap((m) => m.gbps ?? []);
  if (gbps.length) {
    r.gbps = median(gbps);
    r.gbpsMin = Math.min(...gbps);
    r.gbpsMax = Math.max(...gbps);
  }
  const samples = sorted(list.flatMap((m) => m.samplesUs ?? []));
  if (samples.length) {
    r.samples = samples.length;
    r.p50 = at(samples, 0.5);
    r.p99 = at(samples, 0.99);
    r.p999 = at(samples, 0.999);
  }
  if (list[0]!.cpuUs !== undefined) {
    const cpu = sum(list.map((m) => m.cpuUs));
    const wall = sum(list.map((m) => m.wallUs));
    r.msgs = sum(list.map((m) => m.msgs));
    if (wall) r.cpuPct = (100 * cpu) / wall;
    r.cpuMs = cpu / 1000 / list.length;
    if (r.msgs) r.cpuUsPerMsg = cpu / r.msgs;
  }
  const lag = sorted(list.flatMap((m) => m.lagMs ?? []));
  if (lag.length) {
    r.lagP50 = at(lag, 0.5);
    r.lagP99 = at(lag, 0.99);
    const late = list.flatMap((m) => m.lateMs ?? []);
    r.stallMs = Math.max(lag[lag.length - 1]!, ...late);
  }
  if (list[0]!.issueMs !== undefined) {
    r.issueMs = median(list.map((m) => m.issueMs!));
    r.rssPerRead = median(list.map((m) => m.rssPerRead!));
    if (list[0]!.heapPerRead !== undefined) {
      r.heapPerRead = median(list.map((m) => m.heapPerRead!));
    }
    r.completeMs = median(list.map((m) => m.completeMs!));
  }
  const dropped = sum(list.map((m) => m.dropped));
  if (dropped) r.dropped = dropped;
  return r;
});

const metric = (r: Result | undefined, m: Metric) =>
  r?.[m] as number | undefined;
for (const [i, r] of results.entries()) {
  const checks = rows[i]!.checks;
  if (!checks || r.error) continue;
  r.checks = [];
  for (const check of checks) {
    const [name, unit] = METRIC[check.metric];
    const v = metric(r, check.metric);
    const ref = check.ref
      ? results.find((b) => b.group === r.group && b.key === check.ref)
      : undefined;
    const refValue = metric(ref, check.metric);
    let value: number | undefined = v;
    let bound = `${check.bound} ${unit}`;
    if (check.ref) {
      const refName = ref?.short ?? ref?.impl ?? check.ref;
      if (check.plus) {
        value = v !== undefined && refValue !== undefined
          ? v - refValue
          : undefined;
        bound = `${refName} + ${check.bound} ${unit}`;
      } else {
        value = v !== undefined && refValue ? v / refValue : undefined;
        bound = `${check.bound}× ${refName}`;
      }
    }
    if (value === undefined) continue;
    const op = check.op === "<=" ? "≤" : "≥";
    r.checks.push({
      target: `${check.note ? `${check.note}: ` : ""}${name} ${op} ${bound}`,
      value,
      met: check.op === "<=" ? value <= check.bound : value >= check.bound,
    });
  }
}

const info = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  node: hasNode
    ? decoder.decode(
      (await new Deno.Command("node", { args: ["--version"], stdout: "piped" })
        .output()).stdout,
    ).trim()
    : null,
  os: `${Deno.build.os} ${Deno.build.arch}`,
  cpus: navigator.hardwareConcurrency,
  loadBefore,
  loadAfter,
  quick,
  reps: REPS,
  throughputBytes: TOTAL,
  roundTrips: TRIPS,
  scenarios: S,
};
const json = JSON.stringify({ info, results }, null, 2) + "\n";
const outPath = flags.out ??
  Deno.makeTempFileSync({ prefix: "pipc-bench-", suffix: ".json" });
Deno.writeTextFileSync(outPath, json);

// --- printing ---------------------------------------------------------------

const us = (v?: number) =>
  v === undefined
    ? ""
    : v < 10
    ? `${v.toFixed(2)} µs`
    : v < 1000
    ? `${v.toFixed(1)} µs`
    : `${(v / 1000).toFixed(2)} ms`;
const ms = (v?: number) =>
  v === undefined ? "" : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`;
const pct = (v?: number) =>
  v === undefined ? "" : v < 1 ? `${v.toFixed(2)} %` : `${v.toFixed(1)} %`;
const bytes = (v?: number) =>
  v === undefined
    ? ""
    : v < 1024
    ? `${v.toFixed(0)} B`
    : `${(v / 1024).toFixed(1)} KiB`;
const gbs = (v?: number) => (v === undefined ? "" : `${v.toFixed(2)} GB/s`);
const times = (
  v?: number,
) => (v === undefined || !isFinite(v) ? "" : `${v.toFixed(2)}×`);
const ratioTo = (r: Result, key: string, m: Metric) => {
  const ref = results.find((b) => b.group === r.group && b.key === key);
  const a = metric(r, m);
  const b = metric(ref, m);
  return ref && ref !== r && a !== undefined && b ? times(a / b) : "";
};
const targets = (r: Result) =>
  (r.checks ?? []).map((c) => {
    const value = c.target.includes("×")
      ? times(c.value)
      : c.target.includes(" + ")
      ? `${Number(c.value.toFixed(2)) < 0 ? "−" : "+"}${
        Math.abs(c.value).toFixed(2)
      }`
      : c.value.toFixed(2);
    return `${c.target}: ${value} ${c.met ? "met" : "missed"}`;
  }).join("; ");

type Column = [header: string, cell: (r: Result) => string];
const COLUMNS: Record<Kind, Column[]> = {
  throughput: [
    ["median", (r) => gbs(r.gbps)],
    [
      "spread (min–max)",
      (r) => r.reps > 1 ? `${gbs(r.gbpsMin)} – ${gbs(r.gbpsMax)}` : "",
    ],
    [
      "ratio",
      (r) => r.key === "baseline" ? "baseline" : ratioTo(r, "baseline", "gbps"),
    ],
  ],
  latency: [
    ["p50", (r) => us(r.p50)],
    ["p99", (r) => us(r.p99)],
    ["p99.9", (r) => us(r.p999)],
    ["CPU per trip", (r) => us(r.cpuUsPerMsg)],
    [
      "p50 × C one CPU",
      (r) =>
        ratioTo(r, "c-same", "p50") ||
        ratioTo(r, "c-same-C socketpair", "p50") ||
        ratioTo(r, "c-same-C futex", "p50"),
    ],
    [
      "p50 × C two CPUs",
      (r) =>
        ratioTo(r, "c-cross", "p50") ||
        ratioTo(r, "c-cross-C socketpair", "p50") ||
        ratioTo(r, "c-cross-C futex", "p50"),
    ],
  ],
  sporadic: [
    ["CPU", (r) => pct(r.cpuPct)],
    ["CPU per msg", (r) => us(r.cpuUsPerMsg)],
    ["msgs", (r) => String(r.msgs ?? "")],
    ["delivery p50", (r) => us(r.p50)],
    ["p99", (r) => us(r.p99)],
    ["p99.9", (r) => us(r.p999)],
    ["CPU × Deno.Conn", (r) => ratioTo(r, "conn", "cpuPct")],
  ],
  fanin: [
    ["CPU", (r) => pct(r.cpuPct)],
    ["CPU per msg", (r) => us(r.cpuUsPerMsg)],
    ["delivery p50", (r) => us(r.p50)],
    ["p99", (r) => us(r.p99)],
    ["p99.9", (r) => us(r.p999)],
    ["lag p50", (r) => ms(r.lagP50)],
    ["lag p99", (r) => ms(r.lagP99)],
    ["longest stall", (r) => ms(r.stallMs)],
  ],
  burst: [
    ["issuing loop", (r) => ms(r.issueMs)],
    ["longest stall", (r) => ms(r.stallMs)],
    ["RSS per pending read", (r) => bytes(r.rssPerRead)],
    ["heap per pending read", (r) => bytes(r.heapPerRead)],
    ["all delivered after", (r) => ms(r.completeMs)],
  ],
  idle: [
    ["CPU", (r) => pct(r.cpuPct)],
    ["CPU time per window", (r) => ms(r.cpuMs)],
  ],
};

const NOTES: Record<Kind, string> = {
  throughput: `One-way, between two processes, ${
    TOTAL >> 20
  } MiB per run (shared memory: ×4); median of the repetitions. Ratio: to the workload's baseline row.`,
  latency:
    `64-byte round trips between two processes (a post each way for semaphores, a signal each way for signals), timed by the initiating side; percentiles over every round trip of every repetition after the first 10% of each. Back to back: ${TRIPS} per repetition; "2 ms gap": ${S.gapTrips}, each followed by a 2 ms sleep (nanosleep in C, setTimeout in Deno). C runs pinned (sched_setaffinity, as taskset -c would): both processes on CPU 0, or one on CPU 0 and one on CPU 1; Deno and Node are not pinned. Targets compare with C on CPUs 0 and 1. CPU per trip: user+system time of the timing process (getrusage in C, process.cpuUsage() in Deno and Node: every thread) over all its round trips, divided by their number; for the rows run by cli/_bench/ in the benchmark's own process, from before it starts the peer process to the peer's exit.`,
  sporadic:
    `One reader, one 64-byte message per period from c/feeder.c (posix-ipc ShmChannel: from _shm_feeder.ts, the library's writer); ${S.warmup} ms warm-up, then a window of ${S.window1} ms (1 msg/ms) or ${S.window10} ms (1 msg/10 ms) per repetition. CPU: user+system time of the reading process over the window — getrusage(RUSAGE_SELF) in C, process.cpuUsage() of node:process (the same call) in Deno: every thread of the process — as % of one CPU, and per message received. Delivery: from just before the sender's write (CLOCK_MONOTONIC, carried in the message; a semaphore post is paired with the k-th wake-up) to the reader holding the message.`,
  fanin:
    `N handles in one reading process, each receiving one 64-byte message per 10 ms (N × 100 messages/s in all, sent by c/feeder.c in batches on a 1 ms grid). CPU and delivery as for the sporadic reader; ${S.warmup} ms warm-up, ${S.fanWindow} ms window. Event-loop probe in the reading process (a C reader has no event loop): every 10 ms (a chain of setTimeout()s) it posts a message to itself through a MessageChannel; lag is how long that message waits to be handled. Longest stall: the largest of those waits and of the timers' own lateness (which includes their granularity, about 1 ms).`,
  burst:
    `${BURST} handles in one process; a read is issued on each in one synchronous loop, then c/feeder.c sends one 64-byte message to each. Issuing loop: the time that loop held the event loop (C: registering the fds with epoll). Longest stall: the event-loop probe of the fan-in workload (the largest message wait or timer lateness), from before the loop to after the last delivery. RSS / heap per pending read: growth of the resident set / of the V8 heap plus external memory from before the loop to 200 ms after it (after a GC), divided by ${BURST}. All delivered after: from the earliest send to the last delivery.`,
  idle:
    `${IDLE} waits of one kind pending in one process, nothing sent; CPU of that process over ${S.idleWindow} ms after a ${S.warmup} ms warm-up (getrusage / process.cpuUsage(), every thread). C: one thread blocked per handle (pipes and socket pairs: one epoll_wait()).`,
};
const TITLES: Record<Kind, string> = {
  throughput: "Throughput",
  latency: "Round trips",
  sporadic: "Sporadic reader",
  fanin: "Fan-in: many handles in one process",
  burst: "Many reads issued at once",
  idle: "Idle waiters",
};

function table(kind: Kind, list: Result[]): string {
  const columns = COLUMNS[kind];
  const lines = [[
    "workload",
    "implementation",
    ...columns.map((c) => c[0]),
    "targets",
  ]];
  for (const r of list) {
    lines.push([
      r.group,
      r.impl,
      ...columns.map(([, cell], j) =>
        j === 0 && r.error ? `failed: ${r.error.slice(0, 120)}` : cell(r)
      ),
      targets(r),
    ]);
  }
  const widths = lines[0]!.map((_, c) =>
    Math.max(...lines.map((l) => l[c]!.length))
  );
  const row = (l: string[]) =>
    `| ${l.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [
    row(lines[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...lines.slice(1).map(row),
  ].join("\n");
}

if (flags.json) {
  console.log(json.trimEnd());
} else {
  console.log(
    `posix-ipc bench — ${info.date.slice(0, 16)} — Deno ${info.deno}${
      info.node ? `, Node ${info.node}` : ""
    }, ${info.os}, ${info.cpus} CPUs, ${REPS} rep(s)${
      quick ? ", --quick" : ""
    }${
      loadBefore
        ? ` — load average ${loadBefore} at the start, ${loadAfter} at the end`
        : ""
    }`,
  );
  for (const kind of Object.keys(COLUMNS) as Kind[]) {
    const list = results.filter((r) => r.kind === kind);
    if (!list.length) continue;
    console.log(`\n## ${TITLES[kind]}\n\n${NOTES[kind]}\n`);
    console.log(table(kind, list));
  }
  const dropped = results.filter((r) => r.dropped);
  if (dropped.length) {
    console.log(
      `\nMessages dropped by the sender because the channel was full: ${
        dropped.map((r) => `${r.group} · ${r.impl}: ${r.dropped}`).join("; ")
      }`,
    );
  }
  console.log(`\nResults (JSON): ${outPath}`);
}
