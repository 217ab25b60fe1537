// Copyright 2026 the posix-ipc authors. MIT license.
// Helpers of the socket tests (tests/socket_test.ts, tests/regressions/
// socket_test.ts) that no other test needs. Peers in other processes
// (LineChild, run, PYTHON) are in _helpers.ts.

/** What `fn` threw, as `{ name, message }` (the class name), or null. */
export async function thrown(
  fn: () => unknown,
): Promise<{ name: string; message: string } | null> {
  try {
    await fn();
    return null;
  } catch (error) {
    return {
      name: (error as Error).constructor.name,
      message: (error as Error).message,
    };
  }
}
