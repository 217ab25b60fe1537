// Copyright 2026 the posix-ipc authors. MIT license.
// Regression test for review item 16 (kill() and the pids the kernel reads
// as groups or as a broadcast). It failed on the original code (7e2be44).
//
// Why a sandbox: kill(-1, sig) from root is the kernel's broadcast to every
// process on the machine. SIGCONT would be "harmless" only for running
// processes -- it resumes anything stopped on purpose -- so it is not sent
// outside either. The fixture runs as PID 1 of a new PID namespace
// (`unshare --pid --fork --mount-proc --kill-child`) and, through `setsid`,
// as the leader of its own process group: kill(-1) then reaches only the
// processes of that namespace (the kernel skips processes it cannot see),
// kill(0) only the sandbox's own group. The victim, a `sleep` in a session
// and group of its own inside the sandbox, shows that "-1" is a broadcast
// and not "the process group 1". If this test is killed, --kill-child and
// the PID-1 semantics tear the whole namespace down.
//
// To run it against another checkout: see tests/regressions/process_test.ts
// (set PIPC_IMPORT_MAP too, so that the fixture gets the map).

import { assertEquals } from "@std/assert";
import { needs } from "../_harness.ts";
import { fixtureArgs, run } from "../_helpers.ts";

const SANDBOX = new URL("./fixtures/proc_kill_sandbox.ts", import.meta.url);

// A PID namespace of its own (unshare, as root), led by setsid.
const sandbox = needs("unshare", "setsid");

// Review item 16
sandbox.test({
  name:
    "kill() refuses pid -1 (the broadcast to every process) and 0 with a RangeError",
  async fn() {
    const r = await run(
      "unshare",
      [
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
        "setsid",
        Deno.execPath(),
        ...fixtureArgs(SANDBOX),
      ],
      { what: "the kill() sandbox", ms: 60_000 },
    );
    assertEquals(r.code, 0, `sandbox failed: ${r.stderr}`);
    const outcome = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assertEquals(outcome, {
      "kill(0, SIGCONT)": "RangeError",
      "kill(-1, SIGTERM)": "RangeError",
      victim: "still running",
    });
  },
});
