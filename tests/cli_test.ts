// Copyright 2026 the posix-ipc authors. MIT license.

import { assert, assertEquals, assertMatch } from "@std/assert";
import { MECHANISMS } from "../cli/_bench/cases.ts";
import { mkfifo } from "../fifo/mod.ts";
import { spawn } from "../pipe/mod.ts";
import { listen } from "../socket/mod.ts";
import { deadline, needs, waitingFor } from "./_harness.ts";
import {
  compileC,
  heldBy,
  inIpcSandbox,
  listDir,
  randomName,
  readUntil,
  tempDir,
  within,
} from "./_helpers.ts";

const gccAndMqueue = needs("gcc", "/dev/mqueue");
const gccPython = needs("gcc", "python3");
// Mount and IPC namespaces of its own; python3 makes the queue inside.
const unsharePython = needs("unshare", "python3");

const dec = new TextDecoder();
const main = new URL("../cli/main.ts", import.meta.url).pathname;

/**
 * Runs `ipc ARGS…` to its end. It leads a process group of its own, killed
 * once it has exited: a process it started and left behind (a bench worker
 * whose parent failed) would otherwise keep its stdout open, and the test
 * would wait on that instead of seeing the failure.
 */
async function ipc(...args: string[]) {
  const child = spawn(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", main, ...args],
    processGroup: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const stdout = child.stdout.text();
  const stderr = child.stderr.text();
  const status = await waitingFor(`ipc ${args.join(" ")}`, child.status);
  child.kill("SIGKILL", { group: true });
  return {
    code: status.code,
    stdout: await waitingFor("ipc's stdout", stdout),
    stderr: await waitingFor("ipc's stderr", stderr),
  };
}

const C_MAKER = `
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
// maker SHM SEM MQ [hold]: creates one of each; with "hold", keeps the
// segment mapped and prints "ready" until stdin closes.
int main(int argc, char **argv) {
  int fd = shm_open(argv[1], O_CREAT | O_EXCL | O_RDWR, 0640);
  ftruncate(fd, 12345);
  void *p = mmap(0, 12345, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  sem_t *s = sem_open(argv[2], O_CREAT | O_EXCL, 0600, 1);
  struct mq_attr a = { .mq_maxmsg = 4, .mq_msgsize = 32 };
  mqd_t q = mq_open(argv[3], O_CREAT | O_EXCL | O_WRONLY, 0600, &a);
  mq_send(q, "one", 3, 1); mq_send(q, "two", 3, 2);
  if (fd < 0 || s == SEM_FAILED || q == (mqd_t)-1) { perror("create"); return 1; }
  if (argc > 4) {
    printf("ready\\n"); fflush(stdout);
    char c; while (read(0, &c, 1) > 0) {}
  }
  (void)p;
  return 0;
}
`;

gccAndMqueue.test("ipc ls --json sees what a C program created; ipc rm removes it", async () => {
  const maker = await compileC("ipc_maker", C_MAKER, ["-lrt", "-pthread"]);
  const shm = `/${randomName("pipc-cli")}`;
  const sem = `/${randomName("pipc-cli")}`;
  const mq = `/${randomName("pipc-cli")}`;
  // One C process keeps the segment mapped while we look.
  const holder = new Deno.Command(maker, {
    args: [shm, sem, mq, "hold"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await readUntil(reader, "ready");
  try {
    const ls = await ipc("ls", "--json");
    assertEquals(ls.code, 0, ls.stderr);
    const rows = JSON.parse(ls.stdout) as {
      kind: string;
      name: string;
      size: number;
      mode: number;
      uid: number;
      pids: number[];
      messages?: number;
    }[];
    const find = (kind: string, name: string) =>
      rows.find((r) => r.kind === kind && r.name === name);
    const seg = find("shm", shm)!;
    assert(seg, `shm ${shm} listed`);
    assertEquals(seg.size, 12345);
    assertEquals(seg.mode, 0o640);
    assertEquals(seg.uid, Deno.uid());
    assert(seg.pids.includes(holder.pid), "the C process holds the segment");
    assert(find("sem", sem), `sem ${sem} listed`);
    if (listDir("/dev/mqueue").length) {
      assertEquals(find("mq", mq)?.messages, 2);
    }

    // Sizes are human-readable in the table, bytes in JSON.
    const text = await ipc("ls", "--kind", "shm");
    const row = text.stdout.split("\n").find((l) => l.includes(shm));
    assertMatch(row ?? "", /\s12 KiB\s/);

    // Held objects are not stale; rm --stale leaves them, with status 1.
    const kept = await ipc("rm", shm, "--stale");
    assertMatch(kept.stderr, /in use by/);
    assertEquals(kept.code, 1);
    assert(listDir("/dev/shm").includes(shm.slice(1)));

    // Plain rm removes all three; a missing name is reported, exit 1, the others still removed.
    const rm = await ipc(
      "rm",
      shm,
      sem,
      "/pipc-cli-missing",
      ...(listDir("/dev/mqueue").length ? [mq] : []),
    );
    assertEquals(rm.code, 1);
    assertMatch(rm.stderr, /\/pipc-cli-missing: no such/);
    assertMatch(rm.stdout, new RegExp(`removed shm ${shm}`));
    assertMatch(rm.stdout, new RegExp(`removed sem ${sem}`));
    assert(!listDir("/dev/shm").includes(shm.slice(1)));
    assert(!listDir("/dev/shm").includes(`sem.${sem.slice(1)}`));
  } finally {
    holder.stdin.close();
    await reader.cancel();
    await holder.status;
    for (const name of [shm, sem, mq]) {
      for (
        const path of [
          `/dev/shm${name}`,
          `/dev/shm/sem.${name.slice(1)}`,
          `/dev/mqueue${name}`,
        ]
      ) {
        try {
          Deno.removeSync(path);
        } catch { /* gone */ }
      }
    }
  }
});

gccPython.test("ipc rm --stale removes only what no process holds, with --yes", async () => {
  const maker = await compileC("ipc_maker", C_MAKER, ["-lrt", "-pthread"]);
  using dir = tempDir();
  // shm, sem and mq, none of them held by any process.
  const names = [1, 2, 3].map(() => `/${randomName("pipc-stale")}`);
  assertEquals(
    (await waitingFor(
      "the C maker",
      new Deno.Command(maker, { args: names }).output(),
    )).code,
    0,
  );
  try {
    await mkfifo(`${dir.path}/old.fifo`);
    // A socket file nobody listens on (its listener died) is stale.
    await waitingFor(
      "python3 to bind dead.sock",
      new Deno.Command("python3", {
        args: [
          "-c",
          "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
          `${dir.path}/dead.sock`,
        ],
      }).output(),
    );
    using live = listen({ path: `${dir.path}/live.sock` });
    void live;
    const refused = await ipc(
      "rm",
      "--stale",
      "--kind",
      "unix",
      "--dir",
      dir.path,
    );
    assertEquals(refused.code, 1, "not a terminal and no --yes");
    assertMatch(refused.stderr, /without --yes/);
    assertMatch(refused.stdout, /dead\.sock/, "lists what it would remove");
    assert(listDir(dir.path).includes("dead.sock"));

    // Without --kind: FIFOs and socket files under --dir, and nothing of
    // /dev/shm or /dev/mqueue.
    const rm = await ipc("rm", "--stale", "--yes", "--dir", dir.path);
    assertEquals(rm.code, 0, rm.stderr);
    assertMatch(rm.stdout, /^2 stale objects to remove:/);
    assertMatch(rm.stdout, /removed unix .*dead\.sock/);
    assertMatch(rm.stdout, /removed fifo .*old\.fifo/);
    assertEquals(listDir(dir.path), ["live.sock"], "the live socket stays");
    assert(listDir("/dev/shm").includes(names[0]!.slice(1)), "shm stays");

    // By name, --stale removes unheld POSIX objects.
    const named = await ipc("rm", "--stale", ...names);
    assertEquals(named.code, 0, named.stderr);
    for (const n of names) assert(!listDir("/dev/shm").includes(n.slice(1)));
  } finally {
    for (const name of names) {
      for (
        const path of [
          `/dev/shm${name}`,
          `/dev/shm/sem.${name.slice(1)}`,
          `/dev/mqueue${name}`,
        ]
      ) {
        try {
          Deno.removeSync(path);
        } catch { /* gone */ }
      }
    }
  }
});

unsharePython.test("ipc rm --stale --kind shm,sem,mq removes every unheld object of those kinds (in a namespace of its own)", async () => {
  // In new mount and IPC namespaces, on an empty /dev/shm and /dev/mqueue:
  // nothing of the machine's own objects is in reach.
  const out = await inIpcSandbox(
    `head -c 5000 /dev/zero > /dev/shm/stale
head -c 5000 /dev/zero > /dev/shm/held
exec 3</dev/shm/held
head -c 32 /dev/zero > /dev/shm/sem.old
python3 -c 'import ctypes, os
rt = ctypes.CDLL("librt.so.1", use_errno=True)
assert rt.mq_open(b"/old", os.O_CREAT | os.O_WRONLY, 0o600, None) >= 0'
"$DENO" run --allow-all --quiet "$CLI" rm --stale --yes --kind shm,sem,mq
echo "after: $(ls /dev/shm /dev/mqueue | tr '\\n' ' ')"`,
    { DENO: Deno.execPath(), CLI: main },
    "the sweep in its namespace",
  );
  const stdout = out.stdout;
  assertEquals(out.code, 0, stdout + out.stderr);
  assertMatch(stdout, /removed shm \/stale/);
  assertMatch(stdout, /removed sem \/old/);
  assertMatch(stdout, /removed mq \/old/);
  assertEquals(
    stdout.split("\n").find((l) => l.startsWith("after:"))?.trim(),
    "after: /dev/mqueue:  /dev/shm: held",
  );
});

Deno.test("ipc ls lists Unix sockets with their state, and FIFOs under --dir", async () => {
  using dir = tempDir();
  using listener = listen({ path: `${dir.path}/api.sock` });
  void listener;
  await mkfifo(`${dir.path}/pipe.fifo`, { mode: 0o600 });
  const ls = await ipc(
    "ls",
    "--kind",
    "unix,fifo",
    "--dir",
    dir.path,
    "--json",
  );
  const rows = JSON.parse(ls.stdout) as {
    kind: string;
    name: string;
    state?: string;
    pids: number[];
    mode: number;
  }[];
  const sock = rows.find((r) => r.name === `${dir.path}/api.sock`);
  assertEquals(sock?.state, "listening");
  assert(sock?.pids.includes(Deno.pid));
  const fifo = rows.find((r) => r.kind === "fifo");
  assertEquals(fifo?.name, `${dir.path}/pipe.fifo`);
  assertEquals(fifo?.mode, 0o600);
  const text = await ipc("ls", "--kind", "fifo", "--dir", dir.path);
  assertMatch(text.stdout, /KIND\s+NAME\s+SIZE\s+OWNER\s+MODE\s+PIDS/);
});

Deno.test("ipc: bad usage exits 2 with usage on stderr; --help everywhere", async () => {
  for (
    const args of [
      ["frobnicate"],
      ["ls", "--bogus"],
      ["rm"],
      ["rm", "--stale"],
      ["rm", "--stale", "--kind", "unix"],
      ["rm", "/x", "--dir", "/tmp"],
      ["ls", "--kind", "nope"],
      ["bench", "--only", "x"],
      [],
    ]
  ) {
    const r = await ipc(...args);
    assertEquals(r.code, 2, `ipc ${args.join(" ")}`);
    assertMatch(r.stderr, /usage|unknown/);
  }
  for (
    const args of [["--help"], ["ls", "--help"], ["rm", "--help"], [
      "bench",
      "--help",
    ]]
  ) {
    const r = await ipc(...args);
    assertEquals(r.code, 0);
    assertMatch(r.stdout, /^usage: ipc/);
  }
});

Deno.test("ipc ls and ipc rm --stale --dir of a missing directory say so and exit 1", async () => {
  using dir = tempDir();
  const missing = `${dir.path}/nonexistent`;
  const ls = await ipc("ls", "--dir", missing);
  assertEquals(ls.code, 1);
  assertEquals(ls.stdout, "");
  assertEquals(ls.stderr, `ipc ls: --dir ${missing}: no such directory\n`);
  Deno.writeTextFileSync(`${dir.path}/file`, "");
  const notDir = await ipc("ls", "--dir", `${dir.path}/file`);
  assertEquals(notDir.code, 1);
  assertMatch(notDir.stderr, /not a directory/);
  const rm = await ipc("rm", "--stale", "--yes", "--dir", missing);
  assertEquals(rm.code, 1);
  assertMatch(rm.stderr, /no such directory/);
});

Deno.test("ipc --help texts: what rm removes and never removes, what bench --quick takes", async () => {
  const rm = await ipc("rm", "--help");
  assertMatch(
    rm.stdout,
    /A regular\s+file, a directory, a symlink or a device at PATH is never\s+removed/,
  );
  assertMatch(rm.stdout, /only with --kind shm, sem\s+or mq/);
  const bench = await ipc("bench", "--help");
  assertEquals(bench.code, 0);
  assertMatch(bench.stdout, /--quick\s+.*seconds/);
  assert(!bench.stdout.includes("minute"), bench.stdout);
});

Deno.test("deno doc of cli/main.ts shows only main()", async () => {
  const out = await waitingFor(
    "deno doc",
    new Deno.Command(Deno.execPath(), {
      args: ["doc", "--json", main],
      stdout: "piped",
      stderr: "piped",
    }).output(),
  );
  assertEquals(out.code, 0, dec.decode(out.stderr));
  const doc = JSON.parse(dec.decode(out.stdout)) as {
    nodes: Record<string, { symbols?: { name: string }[] }>;
  };
  const symbols = Object.values(doc.nodes).flatMap((n) =>
    (n.symbols ?? []).map((s) => s.name)
  );
  assertEquals(symbols, ["main"]);
});

Deno.test("ipc bench --quick --json returns a row for every mechanism", async () => {
  deadline(180_000);
  const before = listDir("/dev/shm"); // /dev/shm is shared: others' runs too
  const r = await within(
    ipc("bench", "--quick", "--json"),
    240_000,
    "ipc bench --quick",
  );
  assertEquals(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as {
    mechanism: string;
    throughputGBps?: number;
    latencyUs?: number;
  }[];
  assertEquals(rows.map((row) => row.mechanism), [...MECHANISMS]);
  for (const row of rows) {
    assert(
      typeof row.latencyUs === "number" && row.latencyUs > 0,
      `${row.mechanism} latency`,
    );
    if (!["sem", "mq", "signal"].includes(row.mechanism)) {
      assert(
        typeof row.throughputGBps === "number" && row.throughputGBps > 0,
        `${row.mechanism} throughput`,
      );
    }
  }
  assertEquals(
    listDir("/dev/shm").filter((n) =>
      n.includes("ipc-bench") && !before.includes(n) &&
      heldBy(`/dev/shm/${n}`).length === 0 // another bench, still running
    ),
    [],
    "bench leaves nothing behind",
  );
});

Deno.test("deno task examples: every example exits 0", async () => {
  deadline(180_000);
  const out = await within(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        new URL("../examples/run_all.ts", import.meta.url).pathname,
      ],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output(),
    240_000,
    "examples",
  );
  const text = dec.decode(out.stdout);
  assertEquals(
    out.code,
    0,
    text.slice(-2000) + dec.decode(out.stderr).slice(-2000),
  );
  assertMatch(text, /\d+ passed, 0 failed/);
});
