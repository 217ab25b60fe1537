// Copyright 2026 the posix-ipc authors. MIT license.
// The harness itself (tests/_harness.ts, tests/_run_bounded.ts): deliberately
// hung tests are ended by the watchdog and reported as failed at their
// deadline, naming what they waited for; a run past the whole-run bound is
// killed with everything it started. Both run as child processes, so their
// failures prove the point without failing this suite.

import { assert, assertEquals, assertLess, assertMatch } from "@std/assert";
import { waitUntil } from "./_harness.ts";
import { ROOT, scriptFile, tempDir, within } from "./_helpers.ts";

const dec = new TextDecoder();
const config = new URL("../deno.json", import.meta.url).pathname;
const runner = new URL("./_run_bounded.ts", import.meta.url).pathname;

/** Whether `pid` is gone (or a zombie waiting to be reaped). */
function ended(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** The duration `deno test` printed for a test, in milliseconds. */
function duration(output: string, name: string): number {
  const m = output.match(
    new RegExp(`${name} \\.\\.\\. FAILED \\((\\d+)(ms|s)\\)`),
  );
  if (!m) throw new Error(`no FAILED line for "${name}" in:\n${output}`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

const HUNG = `
import { deadline, waitForever } from "${ROOT}tests/_harness.ts";

Deno.test("hung: waits for a peer's reply", async () => {
  deadline(1000);
  const peer = new Deno.Command("sleep", { args: ["1000"] }).spawn();
  console.log("peer pid " + peer.pid);
  await waitForever("a reply from the peer that never answers");
});

Deno.test("hung: waits for a child that never exits", async () => {
  deadline(1000);
  await new Deno.Command("sh", { args: ["-c", "sleep 1000; :"] }).output();
});

Deno.test("hung: stuck where the watchdog cannot reach", async () => {
  deadline(1000);
  await new Promise(() => setInterval(() => {}, 60_000));
});

Deno.test("hung: the test after it", () => {});
`;

Deno.test("watchdog: a hung test is killed at its deadline and fails naming what it waited for", async () => {
  using dir = tempDir();
  const file = scriptFile(dir.path, "hung_test.ts", HUNG);
  const out = await within(
    new Deno.Command(Deno.execPath(), {
      args: ["test", "--allow-all", "--no-check", "--config", config, file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output(),
    60_000,
    "the hung test file's run",
  );
  const text = dec.decode(out.stdout) + dec.decode(out.stderr);
  assertEquals(out.code, 1, text);

  // A wait it labelled: rejected at the 1 s deadline, the peer killed.
  const peer = Number(text.match(/peer pid (\d+)/)?.[1]);
  assert(peer > 0, text);
  // Reported at its 1 s deadline: seconds, not the 1000 s the peer sleeps
  // (the slack is for a loaded machine, where timers fire late).
  assertLess(duration(text, "hung: waits for a peer's reply"), 6000);
  assertMatch(
    text,
    new RegExp(
      `hung: waits for a peer's reply => .*\\nerror: Error: Watchdog: test did not finish within 1000 ms; ` +
        `it was waiting for a reply from the peer that never answers; killed ${peer} \\(\\S*sleep 1000\\)`,
    ),
  );
  // SIGKILLed (a dying process may take a moment to be gone, so wait for it;
  // unkilled, it would sleep 1000 s and the watchdog would fail this test).
  await waitUntil(() => ended(peer), `the peer ${peer} to die`);

  // A child that never exits: killed at the deadline, which ends the wait.
  assertLess(duration(text, "hung: waits for a child that never exits"), 6000);
  assertMatch(
    text,
    /hung: waits for a child that never exits => .*\nerror: Error: Watchdog: test did not finish within 1000 ms; it was waiting for something not labelled; killed \d+ \(\S*sh -c sleep 1000; :\), \d+ \(sleep 1000\)/,
  );

  // Stuck where nothing can end it: the file is abandoned 2 s later and the
  // runner goes on.
  assertMatch(
    text,
    /Watchdog: test did not finish within 1000 ms; it was waiting for something not labelled; no child process was running; the test was still stuck 2000 ms later, so the rest of this file is abandoned/,
  );
  assertMatch(text, /hung: the test after it \.\.\. cancelled/);
  assertMatch(text, /FAILED \| 0 passed/);
});

Deno.test("watchdog: a run past the whole-run bound is killed with what it started", async () => {
  using dir = tempDir();
  const script = scriptFile(
    dir.path,
    "stuck.ts",
    `const c = new Deno.Command("sleep", { args: ["1000"] }).spawn();
     console.log("sleep pid " + c.pid);
     await c.status;`,
  );
  const started = performance.now();
  const out = await within(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", runner, "2", "run", "--allow-all", script],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output(),
    60_000,
    "the bounded run",
  );
  const elapsed = performance.now() - started;
  const stdout = dec.decode(out.stdout);
  const stderr = dec.decode(out.stderr);
  assertEquals(out.code, 124, stdout + stderr);
  const sleep = Number(stdout.match(/sleep pid (\d+)/)?.[1]);
  assert(sleep > 0, stdout);
  assertMatch(
    stderr,
    new RegExp(
      `error: the run did not finish within 2 s \\(the bound of deno task test\\); killed \\d+ \\(deno run --allow-all .*stuck\\.ts\\), ${sleep} \\(\\S*sleep 1000\\)`,
    ),
  );
  await waitUntil(() => ended(sleep), `the sleep ${sleep} to die`);
  assertLess(elapsed, 30_000);
});

Deno.test("watchdog: every test file gets it (imports the harness)", () => {
  // The watchdog is installed by importing tests/_harness.ts (directly or
  // through _helpers.ts); a test file that imports neither has none.
  const root = new URL("./", import.meta.url).pathname;
  const missing: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory && entry.name !== "fixtures") walk(path);
      else if (entry.name.endsWith("_test.ts")) {
        const text = Deno.readTextFileSync(path);
        if (!/from "(\.\.?\/)+(tests\/)?_(helpers|harness)\.ts"/.test(text)) {
          missing.push(path.slice(root.length));
        }
      }
    }
  };
  walk(root.replace(/\/$/, ""));
  assertEquals(missing, [], "test files without the watchdog");
});
