// Copyright 2026 the posix-ipc authors. MIT license.
// Regression tests for SharedMemory: review items 1, 2, 4 (SharedMemory
// part) and 27, and a defect found while porting the tests to the new core.
// Everything that can kill a process (SIGBUS, a stray close) runs in a child
// that prints one JSON line; the test checks how the child ended.

import { assertEquals } from "@std/assert";
import {
  describeChild,
  lastJson,
  posixName,
  removeNames,
  runChild,
} from "../_named_helpers.ts";

const CHILDREN = new URL("./fixtures/", import.meta.url).pathname;

// Found while porting: SharedMemory.create() on an existing name left the
// mapping it had made of its temporary object behind, and that mapping's
// finalizer later closed the descriptor number it had held — by then another
// file of the process (in tests/shm_test.ts, a child's pidfd, so the child's
// status never settled).
Deno.test("SharedMemory and ShmChannel create() on an existing name leave no mapping behind and close no other descriptor later", async () => {
  const name = posixName("exists");
  try {
    const r = await runChild(
      Deno.execPath(),
      [
        "run",
        "--allow-all",
        "--quiet",
        "--v8-flags=--expose-gc",
        `${CHILDREN}shm_create_exists_child.ts`,
        name,
      ],
      "create-on-existing child",
    );
    assertEquals(r.signal, null, describeChild(r));
    assertEquals(r.code, 0, describeChild(r));
    assertEquals(lastJson(r), {
      errors: ["AlreadyExists", "AlreadyExists", "AlreadyExists"],
      leaked: 0,
      closedBehindOurBack: [],
    });
  } finally {
    removeNames(name);
  }
});
