// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for review items 9-12 (the `ipc` command, run as root)
// and two extra findings of the review. Each failed on the original code
// (7e2be44); see the report of the port.
//
// `ipc rm` runs as root here, so every scenario is built inside a fresh
// temporary directory, with its "victim" files there, and every
// `rm --stale` is given `--kind fifo` or `--kind unix` plus a `--dir` inside
// that directory. The one test of `rm --stale` over /dev/shm and /dev/mqueue
// runs in its own mount and IPC namespaces, on an empty /dev/shm and
// /dev/mqueue of its own. Objects in /dev/shm have random names.
//
// The `ipc` under test is ../../cli/main.ts; PIPC_CLI=/path/to/cli/main.ts
// runs these tests against another checkout (e.g. /work/orig).

import { assert, assertEquals } from "@std/assert";
import { SharedMemory, unlinkSharedMemory } from "../../shm/mod.ts";
import { Semaphore, unlinkSemaphore } from "../../sem/mod.ts";
import { needs } from "../_harness.ts";
import {
  exists,
  inIpcSandbox,
  LineChild,
  PYTHON,
  randomName,
  removeQuietly,
  run,
  type RunResult,
  tempDir,
} from "../_helpers.ts";

// The live sockets and odd names are made by Python peers.
const python3 = needs("python3");
// A mount and IPC namespace of its own (its own /dev/shm and /dev/mqueue);
// Python makes the queue inside.
const sandboxPython = needs("unshare", "python3");

const CLI = Deno.env.get("PIPC_CLI") ??
  new URL("../../cli/main.ts", import.meta.url).pathname;
const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const UNIX_PEER = `${FIXTURES}cli_unix_peer.py`;
const BYTES_NAMES = `${FIXTURES}cli_bytes_names.py`;
const SWAP_ON_OPEN = `${FIXTURES}cli_swap_on_open.py`;
const MEASURE = Deno.env.get("PIPC_MEASURE") === "1";

// ---------------------------------------------------------------------------
// Helpers

/** Runs the `ipc` command under test (as root, like the review). */
function ipc(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return run(
    Deno.execPath(),
    ["run", "--allow-all", "--quiet", "--no-lock", CLI, ...args],
    options,
  );
}

/** A live Unix socket (stream: listening) held by a Python process started in `cwd`. */
async function liveSocket(
  path: string,
  cwd: string,
  kind: "stream" | "dgram" = "stream",
): Promise<LineChild> {
  const peer = new LineChild(
    `python ${kind} socket at ${path}`,
    PYTHON,
    [UNIX_PEER, kind, path],
    { cwd },
  );
  try {
    await peer.expect("ready");
  } catch (error) {
    await peer[Symbol.asyncDispose]();
    throw error;
  }
  return peer;
}

/** Whether a stream socket file accepts a connection (its listener is alive). */
async function accepts(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

interface Row {
  kind: string;
  name: string;
  path: string | null;
  size: number | null;
  state?: string;
  pids: number[];
}

function removedLines(...outputs: string[]): string[] {
  return outputs.join("\n").split("\n").filter((l) => l.startsWith("removed"));
}

/** The two ways the socket states are found: sock_diag, and the /proc/net/unix fallback. */
const SOCKET_SOURCES: { name: string; env: Record<string, string> }[] = [
  { name: "sock_diag", env: {} },
  { name: "/proc/net/unix fallback", env: { POSIX_IPC_NO_SOCK_DIAG: "1" } },
];

// ---------------------------------------------------------------------------
// Review item 9

/**
 * Three live sockets whose files `ipc` must recognise however they were
 * bound: in `DIR/a`, a listener bound by a relative path (from `DIR/a`) and
 * one by an absolute path, both scanned with `--dir .` from `DIR/a`; in
 * `DIR/b`, a datagram socket bound through a symlinked directory
 * (`DIR/b/link` → `DIR/b/real`), scanned with `--dir DIR/b/real`.
 */
async function liveSockets(dir: string) {
  Deno.mkdirSync(`${dir}/a`);
  Deno.mkdirSync(`${dir}/b/real`, { recursive: true });
  Deno.symlinkSync(`${dir}/b/real`, `${dir}/b/link`);
  const relative = await liveSocket("rel.sock", `${dir}/a`);
  const absolute = await liveSocket(`${dir}/a/abs.sock`, "/");
  const viaLink = await liveSocket(`${dir}/b/link/via-link.sock`, "/");
  return {
    files: {
      relative: `${dir}/a/rel.sock`,
      absolute: `${dir}/a/abs.sock`,
      viaLink: `${dir}/b/real/via-link.sock`,
    },
    /** Runs `ipc` the two ways (cwd `DIR/a` with `--dir .`; `--dir DIR/b/real`). */
    scan: (args: string[], env: Record<string, string>) =>
      Promise.all([
        ipc([...args, "--dir", "."], { cwd: `${dir}/a`, env }),
        ipc([...args, "--dir", `${dir}/b/real`], { cwd: dir, env }),
      ]),
    async [Symbol.asyncDispose]() {
      for (const peer of [relative, viaLink, absolute]) {
        await peer[Symbol.asyncDispose]();
      }
    },
  };
}

// Review item 9
python3.test("ipc rm --stale never removes the socket file of a live listener, however it was bound or named", async (t) => {
  for (const source of SOCKET_SOURCES) {
    await t.step(source.name, async () => {
      using dir = tempDir();
      await using live = await liveSockets(dir.path);
      const [here, real] = await live.scan(
        ["rm", "--stale", "--yes", "--kind", "unix"],
        source.env,
      );
      const outcome = async (file: string, stream: boolean) => ({
        fileStays: exists(file),
        reachable: stream ? await accepts(file) : exists(file),
      });
      const alive = { fileStays: true, reachable: true };
      assertEquals(
        {
          relative: await outcome(live.files.relative, true),
          absolute: await outcome(live.files.absolute, true),
          viaLink: await outcome(live.files.viaLink, false),
          removedLines: removedLines(here.stdout, real.stdout),
          codes: [here.code, real.code],
        },
        {
          relative: alive,
          absolute: alive,
          viaLink: alive,
          removedLines: [],
          codes: [0, 0],
        },
        here.stderr + real.stderr,
      );
    });
  }
});

// Review item 9
python3.test("ipc ls never calls a live listener's socket file stale", async (t) => {
  for (const source of SOCKET_SOURCES) {
    await t.step(source.name, async () => {
      using dir = tempDir();
      await using live = await liveSockets(dir.path);
      // A socket file nobody is bound to any more, next to them: stale.
      await run(PYTHON, [
        "-c",
        "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
        `${dir.path}/a/dead.sock`,
      ]);
      const [here, real] = await live.scan(
        ["ls", "--kind", "unix", "--json"],
        source.env,
      );
      assertEquals([here.code, real.code], [0, 0], here.stderr + real.stderr);
      const rows = [
        ...JSON.parse(here.stdout) as Row[],
        ...JSON.parse(real.stdout) as Row[],
      ];
      const stale = rows.filter((r) => r.state === "stale").map((r) => r.path);
      assertEquals(stale, ["./dead.sock"], "socket files listed as stale");
    });
  }
});

// ---------------------------------------------------------------------------
// Review item 10

// Review item 10
python3.test("ipc rm never removes a regular file", async () => {
  using dir = tempDir();
  const name = `${randomName("notes")}.txt`;
  Deno.mkdirSync(`${dir.path}/elsewhere`);
  Deno.mkdirSync(`${dir.path}/here`);
  // Some process binds a socket by the relative path `name` in another
  // directory; the kernel then lists "name" with no directory.
  await using binder = await liveSocket(name, `${dir.path}/elsewhere`);
  void binder;
  const victim = `${dir.path}/here/${name}`;
  Deno.writeTextFileSync(victim, "my notes\n");
  // And the same for a symlink and a directory: never removed either.
  Deno.symlinkSync(victim, `${dir.path}/here/link.sock`);
  Deno.mkdirSync(`${dir.path}/here/dir.sock`);
  const rm = await ipc(["rm", name, "link.sock", "dir.sock"], {
    cwd: `${dir.path}/here`,
  });
  assertEquals(
    {
      regularFileStays: exists(victim) &&
        Deno.readTextFileSync(victim) === "my notes\n",
      symlinkStays: exists(`${dir.path}/here/link.sock`),
      directoryStays: exists(`${dir.path}/here/dir.sock`),
      code: rm.code,
      removedLines: removedLines(rm.stdout),
    },
    {
      regularFileStays: true,
      symlinkStays: true,
      directoryStays: true,
      code: 1,
      removedLines: [],
    },
    `ipc rm ${name} (from ${dir.path}/here): stdout ${
      JSON.stringify(rm.stdout)
    } stderr ${JSON.stringify(rm.stderr)}`,
  );
});

// ---------------------------------------------------------------------------
// Review item 11

const ATTEMPTS_11 = Number(Deno.env.get("PIPC_ATTEMPTS_11") ?? 5);

// Review item 11
python3.test("ipc rm --stale never deletes outside --dir when a directory is swapped for a symlink mid-run", async () => {
  using dir = tempDir();
  // A big directory that `ipc rm` scans after D: when it starts on BIG/d0,
  // its scan of D is over, and the helper swaps D/sub for a symlink to a
  // directory outside D while `ipc rm` is still busy with BIG, so before
  // any removal.
  const big = `${dir.path}/big`;
  Deno.mkdirSync(big);
  for (let d = 0; d < 20; d++) {
    Deno.mkdirSync(`${big}/d${d}`);
    for (let f = 0; f < 250; f++) {
      Deno.writeFileSync(`${big}/d${d}/f${f}`, new Uint8Array(0));
    }
  }
  const results: {
    attempt: number;
    swapped: boolean;
    /** The scan saw D/sub/x.fifo (the swap came after the scan of D). */
    raced: boolean;
    victimDeleted: boolean;
    stdout: string;
  }[] = [];
  for (let attempt = 0; attempt < ATTEMPTS_11; attempt++) {
    const d = `${dir.path}/D${attempt}`;
    const outside = `${dir.path}/outside${attempt}`;
    Deno.mkdirSync(`${d}/sub`, { recursive: true });
    Deno.mkdirSync(outside);
    // The stale FIFO `ipc rm --stale --kind fifo --dir D` is meant to remove…
    await run("mkfifo", [`${d}/sub/x.fifo`]);
    // …and a regular file by the same name outside D.
    const victim = `${outside}/x.fifo`;
    Deno.writeTextFileSync(victim, "precious\n");
    await using swapper = new LineChild(
      "inotify swapper",
      PYTHON,
      [SWAP_ON_OPEN, `${big}/d0`, `${d}/sub`, outside],
    );
    await swapper.expect("ready");
    const rm = await ipc([
      "rm",
      "--stale",
      "--yes",
      "--kind",
      "fifo",
      "--dir",
      d,
      "--dir",
      big,
    ]);
    const swapped = (await swapper.next("swapped", 10_000)) === "swapped";
    const victimDeleted = !exists(victim);
    results.push({
      attempt,
      swapped,
      raced: rm.stdout.includes(`${d}/sub/x.fifo`),
      victimDeleted,
      stdout: (rm.stdout + rm.stderr).trim(),
    });
    if (victimDeleted && !MEASURE) break;
  }
  if (MEASURE) {
    console.log(
      `item 11: victim deleted in ${
        results.filter((r) => r.victimDeleted).length
      } of ${results.length} attempts (swap after the scan of D in ${
        results.filter((r) => r.swapped && r.raced).length
      })`,
    );
  }
  assertEquals(
    results.filter((r) => r.victimDeleted),
    [],
    "attempts in which a regular file outside --dir was deleted",
  );
  assert(
    results.some((r) => r.swapped && r.raced),
    `the swap never landed between the scan and the removal: ${
      JSON.stringify(results)
    }`,
  );
});

// ---------------------------------------------------------------------------
// Review item 12

// Review item 12
Deno.test("ipc ls escapes control characters in names: no forged rows, no escape sequences", async () => {
  const tag = crypto.randomUUID().slice(0, 8);
  const forged = `FORGED-${tag}`;
  // A name cannot hold "/", but it can hold a newline and ESC: the second
  // line forges a row of its own, the ESC sequences clear the admin's screen
  // and set the terminal's title; U+009B is CSI for some terminals, U+202E
  // turns text around.
  const name =
    `pipc-rb-${tag}\nsem   ${forged}  32  root  0600  1\x1b[2J\x1b]0;owned\x07\u009b\u202e`;
  const path = `/dev/shm/${name}`;
  // Held open, so that no `rm --stale` elsewhere takes it meanwhile.
  using file = Deno.openSync(path, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  void file;
  try {
    const ls = await ipc(["ls", "--kind", "shm,sem"]);
    assertEquals(ls.code, 0, ls.stderr);
    const lines = ls.stdout.split("\n");
    assertEquals(
      {
        controlCharacters: [...ls.stdout].filter((c) =>
          c < " " && c !== "\n" || c >= "\x7f" && c <= "\x9f" ||
          c === "\u202e"
        ).map((c) => c.charCodeAt(0)),
        // A row of its own that carries the forged text (escaped, it stays
        // on the real row, next to pipc-rb-TAG).
        forgedRows: lines.filter((l) =>
          l.includes(forged) && !l.includes(`pipc-rb-${tag}`)
        ),
        rowOfTheName: lines.filter((l) => l.includes(`pipc-rb-${tag}`)).length,
      },
      { controlCharacters: [], forgedRows: [], rowOfTheName: 1 },
      `ipc ls output:\n${
        JSON.stringify(ls.stdout.split("\n").filter((l) => l.includes(tag)))
      }`,
    );
  } finally {
    removeQuietly(path);
  }
});

// Review item 12
python3.test("ipc ls and ipc rm --stale see names that are not UTF-8", async () => {
  using dir = tempDir();
  const tag = randomName("pipc-rb");
  await run(PYTHON, [BYTES_NAMES, "file", `/dev/shm/${tag}-`]);
  await run(PYTHON, [BYTES_NAMES, "fifo", `${dir.path}/${tag}-`]);
  try {
    const shm = await ipc(["ls", "--kind", "shm", "--json"]);
    const fifo = await ipc([
      "ls",
      "--kind",
      "fifo",
      "--dir",
      dir.path,
      "--json",
    ]);
    const names = (out: string) =>
      (JSON.parse(out) as Row[]).filter((r) => r.name.includes(tag)).length;
    const rm = await ipc([
      "rm",
      "--stale",
      "--yes",
      "--kind",
      "fifo",
      "--dir",
      dir.path,
    ]);
    const left = await run(PYTHON, [BYTES_NAMES, "ls", dir.path, tag]);
    assertEquals(
      {
        shmListed: names(shm.stdout),
        fifoListed: names(fifo.stdout),
        staleFifoLeftAfterRm: left.stdout.trim().split("\n").filter(Boolean),
      },
      { shmListed: 1, fifoListed: 1, staleFifoLeftAfterRm: [] },
      `rm --stale said: ${JSON.stringify(rm.stdout + rm.stderr)}`,
    );
  } finally {
    await run(PYTHON, [BYTES_NAMES, "rm", "/dev/shm", tag]);
    await run(PYTHON, [BYTES_NAMES, "rm", dir.path, tag]);
  }
});

// Review item 12
Deno.test("ipc ls classifies sem.* by size: a 4,096-byte segment named sem.x is shared memory", async () => {
  const tag = randomName("pipc-rb");
  const fake = `/dev/shm/sem.${tag}-fake`;
  const real = `/${tag}-real`;
  // Held open, so that no `rm --stale` elsewhere takes it meanwhile.
  using file = Deno.openSync(fake, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  file.writeSync(new Uint8Array(4096));
  using sem = Semaphore.open(real, { create: true, initial: 1 });
  try {
    const ls = await ipc(["ls", "--kind", "shm,sem", "--json"]);
    assertEquals(ls.code, 0, ls.stderr);
    const rows = (JSON.parse(ls.stdout) as Row[])
      .filter((r) => r.name.includes(tag))
      .map((r) => ({ kind: r.kind, name: r.name }));
    assertEquals(
      {
        fourKiBFile: rows.filter((r) => r.name.endsWith("-fake")),
        realSemaphore: rows.filter((r) => r.name.endsWith("-real")),
      },
      {
        fourKiBFile: [{ kind: "shm", name: `/sem.${tag}-fake` }],
        realSemaphore: [{ kind: "sem", name: real }],
      },
    );
  } finally {
    removeQuietly(fake);
    sem.close();
    try {
      unlinkSemaphore(real);
    } catch {
      // gone
    }
  }
});

// ---------------------------------------------------------------------------
// Extra findings of the review

// Review item 9-12, extra finding 3: the README promises status 1 when an object could not be removed
Deno.test("ipc rm --stale NAME exits 1 when the object is in use, and keeps it", async () => {
  const name = `/${randomName("pipc-rb")}`;
  using shm = SharedMemory.create(name, { size: 4096 });
  try {
    const rm = await ipc(["rm", "--stale", "--kind", "shm", name]);
    assertEquals(
      {
        code: rm.code,
        kept: exists(`/dev/shm${name}`),
        inUse: /in use by .*\b\d+\b/.test(rm.stderr),
      },
      { code: 1, kept: true, inUse: true },
      rm.stdout + rm.stderr,
    );
  } finally {
    shm.close();
    try {
      unlinkSharedMemory(name);
    } catch {
      // gone
    }
  }
});

// Review item 9-12, extra finding 4: `rm --stale` with no --kind removed every unheld segment, semaphore and queue
sandboxPython.test("ipc rm --stale without --kind removes no shared memory, semaphore or message queue", async () => {
  using dir = tempDir();
  await run("mkfifo", [`${dir.path}/old.fifo`]);
  const out = await inIpcSandbox(
    `head -c 4096 /dev/zero > /dev/shm/jobs
head -c 32 /dev/zero > /dev/shm/sem.jobs
"$PY" -c 'import ctypes, os
rt = ctypes.CDLL("librt.so.1", use_errno=True)
q = rt.mq_open(b"/jobs", os.O_CREAT | os.O_WRONLY, 0o600, None)
assert q >= 0 and rt.mq_send(q, b"pending job", 11, 0) == 0'
echo "before: $(ls /dev/shm /dev/mqueue | tr '\\n' ' ')"
"$DENO" run --allow-all --quiet --no-lock "$CLI" rm --stale --yes --dir "$DIR" || echo "status $?"
echo "after: $(ls /dev/shm /dev/mqueue | tr '\\n' ' ')"`,
    {
      PY: PYTHON,
      DENO: Deno.execPath(),
      CLI,
      DIR: dir.path,
    },
  );
  const line = (prefix: string) =>
    out.stdout.split("\n").find((l) => l.startsWith(prefix))?.trim();
  assertEquals(
    {
      before: line("before:"),
      after: line("after:"),
      fifoRemoved: !exists(`${dir.path}/old.fifo`),
    },
    {
      before: "before: /dev/mqueue: jobs  /dev/shm: jobs sem.jobs",
      after: "after: /dev/mqueue: jobs  /dev/shm: jobs sem.jobs",
      fifoRemoved: true,
    },
    out.stdout + out.stderr,
  );
});
