// Copyright 2026 the posix-ipc authors. MIT license.
// Bench plumbing: C baselines compiled at bench time, repeated measurements,
// medians with their spread, one table and a JSON file.

/** One measured implementation of one workload. */
export interface Measure {
  /** Group key: the workload both implementations run, e.g. "pipe 64 KiB". */
  workload: string;
  /** Mechanism as in `ipc bench --json`: pipe, fifo, unix, tcp, … */
  mechanism: string;
  /** Who runs it: "C", "posix-ipc", "Deno.Command", "node", … */
  impl: string;
  /** "GB/s" (higher is better) or "µs" (lower is better). */
  unit: "GB/s" | "µs";
  /** Runs once and returns the value (throughput or a median latency). */
  run: () => Promise<number>;
  /** Optional p99 of the last run (latency rows). */
  p99?: () => number | undefined;
  /** Target ratio vs C, e.g. ">= 0.9" or "<= 1.5". */
  target?: string;
}

/** The result of a row after all repetitions. */
export interface Result {
  workload: string;
  mechanism: string;
  impl: string;
  unit: "GB/s" | "µs";
  median: number;
  min: number;
  max: number;
  p99?: number;
  samples: number[];
  ratioToC?: number;
  target?: string;
  met?: boolean;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}

const BUILD = new URL("./.build/", import.meta.url).pathname;
const C_DIR = new URL("./c/", import.meta.url).pathname;

/** Compiles bench/c/NAME.c with gcc -O2 (once per run) and returns the binary path. */
export async function cProgram(
  name: string,
  libs: string[] = [],
): Promise<string> {
  Deno.mkdirSync(BUILD, { recursive: true });
  const exe = `${BUILD}${name}`;
  const out = await new Deno.Command("gcc", {
    args: ["-O2", "-o", exe, `${C_DIR}${name}.c`, ...libs],
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `gcc ${name}.c failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return exe;
}

/** Runs a C baseline that prints one JSON object and returns it. */
export async function runJson(
  exe: string,
  args: string[],
): Promise<Record<string, number>> {
  const out = await new Deno.Command(exe, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(
      `${exe} ${args.join(" ")} failed (${out.code}): ${text} ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return JSON.parse(text.split("\n").at(-1)!);
}

/** Runs every measure `reps` times, interleaved, and reports progress. */
export async function measureAll(
  measures: Measure[],
  reps: number,
  progress: (done: number, total: number, label: string) => void,
): Promise<Result[]> {
  const samples = measures.map(() => [] as number[]);
  const p99s = measures.map(() => [] as number[]);
  const total = measures.length * reps;
  let done = 0;
  for (let r = 0; r < reps; r++) {
    for (const [i, m] of measures.entries()) {
      progress(done, total, `${m.workload} · ${m.impl}`);
      samples[i]!.push(await m.run());
      const p = m.p99?.();
      if (p !== undefined) p99s[i]!.push(p);
      done++;
    }
  }
  progress(total, total, "");
  const results: Result[] = measures.map((m, i) => {
    const xs = samples[i]!;
    const result: Result = {
      workload: m.workload,
      mechanism: m.mechanism,
      impl: m.impl,
      unit: m.unit,
      median: median(xs),
      min: Math.min(...xs),
      max: Math.max(...xs),
      samples: xs,
    };
    if (p99s[i]!.length) result.p99 = median(p99s[i]!);
    if (m.target) result.target = m.target;
    return result;
  });
  for (const r of results) {
    const c = results.find((x) => x.workload === r.workload && x.impl === "C");
    if (!c || c === r) continue;
    r.ratioToC = r.unit === "GB/s" ? r.median / c.median : r.median / c.median;
    if (r.target) {
      const [op, value] = r.target.split(" ") as [string, string];
      r.met = op === ">="
        ? r.ratioToC >= Number(value)
        : r.ratioToC <= Number(value);
    }
  }
  return results;
}

function fmt(value: number, unit: string): string {
  if (unit === "GB/s") return `${value.toFixed(2)} GB/s`;
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} µs`;
}

/** Formats results as a Markdown table. */
export function table(results: Result[]): string {
  const rows = [
    [
      "workload",
      "implementation",
      "median",
      "spread (min–max)",
      "p99",
      "vs C",
      "target",
      "",
    ],
  ];
  for (const r of results) {
    rows.push([
      r.workload,
      r.impl,
      fmt(r.median, r.unit),
      `${fmt(r.min, r.unit)} – ${fmt(r.max, r.unit)}`,
      r.p99 !== undefined ? fmt(r.p99, r.unit) : "",
      r.ratioToC !== undefined ? `${r.ratioToC.toFixed(2)}×` : "",
      r.target ? `${r.target}×` : "",
      r.met === undefined ? "" : r.met ? "met" : "missed",
    ]);
  }
  const widths = rows[0]!.map((_, c) =>
    Math.max(...rows.map((row) => row[c]!.length))
  );
  const line = (row: string[]) =>
    `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.slice(1).map(line),
  ].join("\n");
}

/** A BYOB read loop over a byte stream: returns bytes read and seconds from the first byte. */
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
    buffer = new Uint8Array(value.buffer);
  }
  return { bytes, seconds: (performance.now() - start) / 1000 };
}
