// Copyright 2026 the posix-ipc authors. MIT license.
// `ipc rm` of something its owner removes meanwhile: what was asked for is
// done, so it is no failure.

import { assertEquals, assertMatch } from "@std/assert";
import { needs } from "./_harness.ts";
import { PYTHON, readUntil, run, tempDir, within } from "./_helpers.ts";

// The owner that removes the object meanwhile is a Python peer.
const python3 = needs("python3");

const CLI = new URL("../cli/main.ts", import.meta.url).pathname;
const FIXTURE =
  new URL("./fixtures/cli_remove_on_delete.py", import.meta.url).pathname;

python3.test("ipc rm --stale: an object its owner removed after the scan is 'already gone', not a failure", async () => {
  using dir = tempDir();
  // Three --dirs, scanned and removed in order: one stale FIFO in the first,
  // thousands in the second, the victim in the third. The first removal is
  // the owner's cue to remove the victim itself.
  const [first, many, last] = ["first", "many", "last"].map((d) => {
    Deno.mkdirSync(`${dir.path}/${d}`);
    return `${dir.path}/${d}`;
  }) as [string, string, string];
  const victim = `${last}/orphan.fifo`;
  const fifos = [`${first}/a.fifo`, victim];
  for (let i = 0; i < 3000; i++) fifos.push(`${many}/f${i}.fifo`);
  await within(
    new Deno.Command("mkfifo", { args: fifos }).output(),
    30_000,
    "mkfifo",
  );
  const owner = new Deno.Command(PYTHON, {
    args: [FIXTURE, first, victim],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const said = owner.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    // A line may come in two reads (python3 -u writes the newline apart).
    assertEquals(await readUntil(said, "\n"), "ready\n");
    const out = await run(Deno.execPath(), [
      "run",
      "--allow-all",
      "--quiet",
      CLI,
      "rm",
      "--stale",
      "--kind",
      "fifo",
      "--dir",
      first,
      "--dir",
      many,
      "--dir",
      last,
      "--yes",
    ], { what: "ipc rm --stale" });
    const { stdout, stderr } = out;
    assertEquals(await readUntil(said, "\n"), "removed\n");
    assertMatch(stdout, /orphan\.fifo/, "the FIFO was listed as stale");
    assertEquals({ code: out.code, stderr }, { code: 0, stderr: "" }, stdout);
    assertMatch(stdout, /already gone: fifo .*orphan\.fifo/);
  } finally {
    try {
      owner.kill("SIGKILL");
    } catch { /* exited */ }
    await owner.status;
    await said.cancel().catch(() => {});
  }
});
