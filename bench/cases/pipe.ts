// Copyright 2026 the posix-ipc authors. MIT license.
// Pipe throughput between two processes, and a child's stdout through
// spawn() vs Deno.Command (and Node's child_process when node is here).

import { mkfifo, openFifo } from "../../fifo/mod.ts";
import { pipe, spawn } from "../../pipe/mod.ts";
import { cProgram, drain, type Measure, runJson } from "../_lib.ts";

const PIPE_SIZE = 1 << 20;
const workload =
  new URL("../workloads/pipe_writer.ts", import.meta.url).pathname;

/** Deno writer child → this process, through pipe(). */
async function usPipe(chunk: number, total: number): Promise<number> {
  const { reader, writer } = pipe({ size: PIPE_SIZE });
  const child = spawn(Deno.execPath(), {
    args: ["run", "-A", "--quiet", workload, String(chunk), String(total)],
    fds: { 3: writer },
  });
  const { bytes, seconds } = await drain(reader.readable, chunk);
  const status = await child.status;
  if (!status.success || bytes !== total) {
    throw new Error(`pipe writer failed: ${bytes} bytes, exit ${status.code}`);
  }
  return bytes / seconds / 1e9;
}

/** Deno writer child → this process, through a FIFO. */
async function usFifo(chunk: number, total: number): Promise<number> {
  const dir = Deno.makeTempDirSync({ prefix: "pipc-bench-" });
  const path = `${dir}/fifo`;
  try {
    await mkfifo(path);
    const child = spawn(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        workload,
        String(chunk),
        String(total),
        path,
      ],
    });
    const fifo = await openFifo(path, { read: true, size: PIPE_SIZE });
    const { bytes, seconds } = await drain(fifo.readable, chunk);
    const status = await child.status;
    if (!status.success || bytes !== total) {
      throw new Error(
        `FIFO writer failed: ${bytes} bytes, exit ${status.code}`,
      );
    }
    return bytes / seconds / 1e9;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** FIFO throughput, C vs posix-ipc. */
export async function fifoMeasures(
  options: { total: number },
): Promise<Measure[]> {
  const { total } = options;
  const cPipe = await cProgram("pipe_throughput");
  const chunk = 64 << 10;
  const w = "FIFO 64 KiB writes";
  return [
    {
      workload: w,
      mechanism: "fifo",
      impl: "C",
      unit: "GB/s",
      run: async () => {
        const dir = Deno.makeTempDirSync({ prefix: "pipc-bench-" });
        try {
          return (await runJson(cPipe, [
            String(chunk),
            String(total),
            String(PIPE_SIZE),
            `${dir}/fifo`,
          ])).gbps!;
        } finally {
          Deno.removeSync(dir, { recursive: true });
        }
      },
    },
    {
      workload: w,
      mechanism: "fifo",
      impl: "posix-ipc openFifo()",
      unit: "GB/s",
      target: ">= 0.9",
      run: () => usFifo(chunk, total),
    },
  ];
}

export async function pipeMeasures(
  options: { total: number },
): Promise<Measure[]> {
  const { total } = options;
  const cPipe = await cProgram("pipe_throughput");
  const cWriter = await cProgram("writer");
  const measures: Measure[] = [];
  for (
    const [chunk, label] of [[64 << 10, "64 KiB"], [1 << 20, "1 MiB"]] as const
  ) {
    const w = `pipe ${label} writes`;
    measures.push(
      {
        workload: w,
        mechanism: "pipe",
        impl: "C",
        unit: "GB/s",
        run: async () =>
          (await runJson(cPipe, [
            String(chunk),
            String(total),
            String(PIPE_SIZE),
          ])).gbps!,
      },
      {
        workload: w,
        mechanism: "pipe",
        impl: "posix-ipc pipe()",
        unit: "GB/s",
        target: ">= 0.9",
        run: () => usPipe(chunk, total),
      },
    );
  }
  // A child's stdout: C writer → this process.
  const stdoutWorkload = "child stdout 64 KiB";
  const args = [String(64 << 10), String(total)];
  measures.push(
    {
      workload: stdoutWorkload,
      mechanism: "pipe",
      impl: "Deno.Command",
      unit: "GB/s",
      run: async () => {
        const child = new Deno.Command(cWriter, { args, stdout: "piped" })
          .spawn();
        const { bytes, seconds } = await drain(child.stdout, 64 << 10);
        await child.status;
        return bytes / seconds / 1e9;
      },
    },
    {
      workload: stdoutWorkload,
      mechanism: "pipe",
      impl: "posix-ipc spawn()",
      unit: "GB/s",
      run: async () => {
        const child = spawn(cWriter, { args, stdout: "piped" });
        const { bytes, seconds } = await drain(child.stdout, 64 << 10);
        await child.status;
        return bytes / seconds / 1e9;
      },
    },
  );
  return measures;
}
