// Copyright 2026 the posix-ipc authors. MIT license.
// Runs every example in this folder as its own process, prints what each
// shows, and ends with a summary. Exits non-zero if any example fails.
//
//   deno task examples            # all
//   deno task examples pipe fifo  # some, by file name

const dir = new URL("./", import.meta.url);
const only = Deno.args;
const files = [...Deno.readDirSync(dir)]
  .map((e) => e.name)
  .filter((n) => n.endsWith(".ts") && n !== "run_all.ts" && !n.startsWith("_"))
  .filter((n) => only.length === 0 || only.some((o) => n.startsWith(o)))
  .sort();

const results: { name: string; ok: boolean; ms: number }[] = [];
for (const name of files) {
  console.log(`\n━━ ${name} ${"━".repeat(Math.max(0, 60 - name.length))}`);
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", new URL(name, dir).pathname],
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).spawn();
  const { success } = await child.status;
  results.push({ name, ok: success, ms: performance.now() - started });
}

console.log("\n━━ summary " + "━".repeat(52));
for (const r of results) {
  console.log(
    `${r.ok ? "ok  " : "FAIL"}  ${r.name.padEnd(28)} ${
      (r.ms / 1000).toFixed(1)
    } s`,
  );
}
const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
if (failed > 0 || results.length === 0) Deno.exit(1);
