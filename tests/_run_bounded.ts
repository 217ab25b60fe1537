// Copyright 2026 the posix-ipc authors. MIT license.
// The whole-run bound of `deno task test`:
//
//   deno run --allow-all tests/_run_bounded.ts SECONDS DENO_ARGS…
//
// runs `deno DENO_ARGS…` (this same deno binary) with inherited stdio and
// exits with its status. If it has not finished after SECONDS, it and every
// process it started are killed (SIGKILL) and the run fails (exit 124) with
// a line saying so. Each test also has its own watchdog (tests/_harness.ts);
// this bound catches what a watchdog cannot: a test blocked in a synchronous
// call, a hang outside any test, a process that never exits.

import { descendants } from "./_harness.ts";

const [seconds, ...args] = Deno.args;
const bound = Number(seconds);
if (!Number.isFinite(bound) || bound <= 0 || args.length === 0) {
  console.error("usage: _run_bounded.ts SECONDS DENO_ARGS…");
  Deno.exit(2);
}

const child = new Deno.Command(Deno.execPath(), { args }).spawn();
const timer = setTimeout(() => {
  const tree = [
    { pid: child.pid, command: `deno ${args.join(" ")}` },
    ...descendants(child.pid),
  ];
  for (const { pid } of tree) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  console.error(
    `\nerror: the run did not finish within ${bound} s (the bound of ` +
      `deno task test); killed ${
        tree.map((c) => `${c.pid} (${c.command})`).join(", ")
      }`,
  );
  Deno.exit(124);
}, bound * 1000);
// A SIGTERM to this runner (a CI job cancelled) ends the run too.
const forward = () => child.kill("SIGTERM");
Deno.addSignalListener("SIGTERM", forward);
const status = await child.status;
clearTimeout(timer);
Deno.removeSignalListener("SIGTERM", forward);
Deno.exit(status.code); // 128 + n when a signal ended it
