// Copyright 2026 the posix-ipc authors. MIT license.
// The classic race: four processes each add 1 to a counter in shared memory
// 200 times. Without a lock, increments are lost (read… write races); with a
// named semaphore as a mutex, the total is exact.
import { Semaphore } from "../sem/mod.ts";
import { SharedMemory } from "../shm/mod.ts";
import { spawn } from "../pipe/mod.ts";

const [role, shmName, semName] = Deno.args;
const ROUNDS = 200;
const WORKERS = 4;

if (role === "worker") {
  using shm = SharedMemory.open(shmName!);
  const counter = new Int32Array(shm.buffer);
  const mutex = semName ? Semaphore.open(semName) : null;
  for (let i = 0; i < ROUNDS; i++) {
    using _lock = mutex ? await mutex.acquire() : null;
    const seen = counter[0]!; // read…
    await new Promise((r) => setTimeout(r, 0)); // …something else runs…
    counter[0] = seen + 1; // …write back
  }
  mutex?.close();
} else {
  const self = new URL(import.meta.url).pathname;
  const run = async (useLock: boolean) => {
    const shmName = `/example-counter-${Deno.pid}`;
    const semName = `/example-mutex-${Deno.pid}`;
    using shm = SharedMemory.create(shmName, {
      size: 4096,
      unlinkOnClose: true,
    });
    using _mutex = useLock
      ? Semaphore.create(semName, { initial: 1, unlinkOnClose: true })
      : null;
    const args = [
      "run",
      "-A",
      "--quiet",
      self,
      "worker",
      shmName,
      ...(useLock ? [semName] : []),
    ];
    await Promise.all(
      Array.from(
        { length: WORKERS },
        () => spawn(Deno.execPath(), { args }).status,
      ),
    );
    return new Int32Array(shm.buffer)[0]!;
  };
  const expected = WORKERS * ROUNDS;
  const racy = await run(false);
  console.log(
    `without a lock: counter = ${racy} of ${expected} (${
      expected - racy
    } increments lost)`,
  );
  const exact = await run(true);
  console.log(`with Semaphore.acquire(): counter = ${exact} of ${expected}`);
  if (exact !== expected) Deno.exit(1);
}
