// Copyright 2026 the posix-ipc authors. MIT license.
// A worker that reloads its configuration on SIGHUP and shuts down cleanly on
// SIGTERM, driven by its parent with kill().
import { kill, onShutdown, signals } from "../signal/mod.ts";

const [role, configPath] = Deno.args;
const say = (line: string) => console.log(`  [worker ${Deno.pid}] ${line}`);

if (role === "worker") {
  let config = Deno.readTextFileSync(configPath!).trim();
  // Listen first, then announce: a SIGHUP before the listener would kill us.
  const hangups = signals("SIGHUP");
  say(`started with config "${config}"`);
  const pidFile = `${configPath}.pid`;
  Deno.writeTextFileSync(pidFile, String(Deno.pid));
  // On SIGTERM (or SIGINT): remove the pid file, then exit with 143 (or 130).
  onShutdown(async (signal) => {
    say(`${signal}: cleaning up`);
    Deno.removeSync(pidFile);
    await new Promise((r) => setTimeout(r, 20)); // e.g. flush, close connections
  });
  // SIGHUP: reload. The stream keeps the worker alive while it waits.
  for await (const _ of hangups) {
    config = Deno.readTextFileSync(configPath!).trim();
    say(`SIGHUP: reloaded config "${config}"`);
    console.log("reloaded"); // the acknowledgment the parent waits for
  }
} else {
  const dir = Deno.makeTempDirSync({ prefix: "signal-example-" });
  const config = `${dir}/worker.conf`;
  Deno.writeTextFileSync(config, "version 1");
  const worker = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      new URL(import.meta.url).pathname,
      "worker",
      config,
    ],
    stdout: "piped",
  }).spawn();
  const lines = worker.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  const waitFor = async (text: string) => {
    while (!pending.includes(text)) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`worker ended before "${text}"`);
      pending += value;
    }
    const end = pending.indexOf(text) + text.length;
    Deno.stdout.writeSync(
      new TextEncoder().encode(
        pending.slice(0, end).replaceAll(/^reloaded\n/gm, ""),
      ),
    );
    pending = pending.slice(end);
  };
  await waitFor("started");
  await waitFor("\n");
  for (const version of [2, 3]) {
    Deno.writeTextFileSync(config, `version ${version}`);
    console.log(`parent: kill(${worker.pid}, "SIGHUP")`);
    kill(worker.pid, "SIGHUP");
    await waitFor("reloaded\n");
  }
  console.log(`parent: kill(${worker.pid}, "SIGTERM")`);
  kill(worker.pid, "SIGTERM");
  for (;;) {
    const { value, done } = await lines.read();
    if (done) break;
    Deno.stdout.writeSync(new TextEncoder().encode(value));
  }
  const status = await worker.status;
  const pidFileGone = !(() => {
    try {
      return Deno.statSync(`${config}.pid`);
    } catch {
      return null;
    }
  })();
  console.log(
    `parent: worker exited with ${status.code} (128 + 15); pid file removed: ${pidFileGone}`,
  );
  Deno.removeSync(dir, { recursive: true });
  if (status.code !== 143 || !pidFileGone) Deno.exit(1);
}
