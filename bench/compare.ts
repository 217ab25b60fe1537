// Copyright 2026 the posix-ipc authors. MIT license.
// The comparison script of `deno task bench`: every workload measured, in the
// same run on the same machine, for C (compiled now from bench/c/), for what
// Deno and Node users use today, and for posix-ipc. Prints one table of
// medians, spreads and ratios to C, and writes bench/results/latest.json.
//
//   deno task bench [--quick] [--json] [--only pipe,spawn]

import { parseArgs } from "@std/cli/parse-args";
import { drain, type Measure, measureAll, table } from "./_lib.ts";
import { fifoMeasures, pipeMeasures } from "./cases/pipe.ts";

const flags = parseArgs(Deno.args, {
  boolean: ["quick", "json", "help"],
  string: ["only", "reps"],
});
if (flags.help) {
  console.log(
    "usage: deno task bench [--quick] [--json] [--only LIST] [--reps N]",
  );
  Deno.exit(0);
}
void drain;

const quick = flags.quick === true;
const total = quick ? 256 << 20 : 1 << 30;
const reps = Number(flags.reps ?? (quick ? 3 : 5));
const only = flags.only ? String(flags.only).split(",") : null;

const sections: [string, () => Promise<Measure[]>][] = [
  ["pipe", () => pipeMeasures({ total })],
  ["fifo", () => fifoMeasures({ total })],
];

const measures: Measure[] = [];
for (const [name, make] of sections) {
  if (only && !only.includes(name)) continue;
  measures.push(...await make());
}

const encoder = new TextEncoder();
const interactive = !flags.json && Deno.stderr.isTerminal();
const results = await measureAll(measures, reps, (done, all, label) => {
  const text = done === all ? "" : `[${done + 1}/${all}] ${label}`;
  if (interactive) Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text}`));
  else if (text && !flags.json) console.error(text);
});

const info = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  os: `${Deno.build.os} ${Deno.build.arch}`,
  cpus: navigator.hardwareConcurrency,
  quick,
  reps,
  totalBytes: total,
};
const resultsDir = new URL("./results/", import.meta.url);
Deno.mkdirSync(resultsDir, { recursive: true });
Deno.writeTextFileSync(
  new URL("latest.json", resultsDir),
  JSON.stringify({ info, results }, null, 2) + "\n",
);
if (flags.json) {
  console.log(JSON.stringify({ info, results }, null, 2));
} else {
  console.log(
    `\nposix-ipc bench — ${
      info.date.slice(0, 16)
    } — Deno ${info.deno}, ${info.os}, ${info.cpus} CPUs, ` +
      `${reps} reps, ${total >> 20} MiB per throughput run\n`,
  );
  console.log(table(results));
  console.log("\nResults written to bench/results/latest.json");
}
