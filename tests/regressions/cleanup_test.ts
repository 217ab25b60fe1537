// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for review item 17: objects created with `unlinkOnExit`
// are gone after every exit the runtime lets JavaScript see. Each (but the
// control) failed on the original code (7e2be44).
//
// The child (fixtures/proc_exit_child.ts) creates, all with unlinkOnExit, a
// shm segment, a semaphore, a message queue, a listen() socket and a
// UnixDatagram.bind() socket, prints "ready", and, once the parent has seen
// every object and written "go", ends as asked.
//
// To run it against another checkout: see tests/regressions/process_test.ts
// (set PIPC_IMPORT_MAP too, so that the fixture gets the map).

import { assertEquals, assertMatch } from "@std/assert";
import { needs } from "../_harness.ts";
import {
  exists,
  fixtureArgs,
  LineChild,
  removeQuietly,
  tempDir,
} from "../_helpers.ts";

const FIXTURE = new URL("./fixtures/proc_exit_child.ts", import.meta.url);
// The queue shows in /dev/mqueue only where it is mounted.
const HAVE_MQUEUE = needs("/dev/mqueue").missing.length === 0;

/** Everything the child creates, by where it shows in the filesystem. */
const OBJECTS = HAVE_MQUEUE ? 5 : 4;

function objectPaths(dir: string, tag: string): string[] {
  return [
    `/dev/shm/${tag}-shm`,
    `/dev/shm/sem.${tag}-sem`,
    ...(HAVE_MQUEUE ? [`/dev/mqueue/${tag}-mq`] : []),
    `${dir}/${tag}-stream.sock`,
    `${dir}/${tag}-dgram.sock`,
  ];
}

/**
 * Runs the fixture in `mode`, checks that it created every object, lets
 * `end` finish it, and returns its exit code and what it left behind.
 */
async function leftBehind(
  mode: string,
  end: (child: LineChild) => void = () => {},
): Promise<{ lines: string[]; code: number; left: string[]; stderr: string }> {
  using dir = tempDir();
  const tag = `pipc-proc-${crypto.randomUUID().slice(0, 13)}`;
  const paths = objectPaths(dir.path, tag);
  try {
    await using child = new LineChild(
      `exit child (${mode})`,
      Deno.execPath(),
      fixtureArgs(FIXTURE, mode, dir.path, tag, ...paths),
      { stdin: "piped" },
    );
    await child.expect("ready");
    assertEquals(
      paths.filter((p) => !exists(p)),
      [],
      "objects the child should have created",
    );
    await child.write("go\n");
    end(child);
    const lines: string[] = [];
    for (let line; (line = await child.next()) !== null;) lines.push(line);
    const status = await child.status();
    return {
      lines,
      code: status.code,
      left: paths.filter(exists),
      stderr: (await child.stderr()).split("\n")[0] ?? "",
    };
  } finally {
    for (const path of paths) removeQuietly(path);
  }
}

// Review item 17 (the control: passed on the original code too)
Deno.test("control: unlinkOnExit objects are removed at a normal exit", async () => {
  const r = await leftBehind("normal");
  assertEquals({ code: r.code, left: r.left }, { code: 0, left: [] });
});

// Review item 17
Deno.test("unlinkOnExit objects are removed after an uncaught exception", async () => {
  const r = await leftBehind("throw");
  assertEquals(
    { code: r.code, left: r.left },
    { code: 1, left: [] },
    `child stderr: ${r.stderr}`,
  );
});

// Review item 17
Deno.test("unlinkOnExit objects are removed after an unhandled rejection", async () => {
  const r = await leftBehind("reject");
  assertEquals(
    { code: r.code, left: r.left },
    { code: 1, left: [] },
    `child stderr: ${r.stderr}`,
  );
  // Reported by the runtime as any unhandled rejection is.
  assertMatch(r.stderr, /Uncaught \(in promise\) Error: unhandled on purpose/);
});

Deno.test("a rejection another listener prevents the default of is no exit: unlinkOnExit objects stay until the process ends", async () => {
  const r = await leftBehind("handled");
  assertEquals(
    { lines: r.lines, code: r.code, left: r.left },
    {
      lines: ["prevented", `still there: ${OBJECTS} of ${OBJECTS}`],
      code: 0,
      left: [],
    },
    `child stderr: ${r.stderr}`,
  );
});

// Review item 17
Deno.test("unlinkOnExit objects are removed on SIGHUP, and the exit status is 129", async () => {
  const r = await leftBehind("wait", (child) => child.process.kill("SIGHUP"));
  assertEquals({ code: r.code, left: r.left }, { code: 129, left: [] });
});
