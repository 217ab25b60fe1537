// Child of tests/regressions/shm_test.ts (run with --v8-flags=--expose-gc):
// creates a segment, then tries SharedMemory.create, ShmChannelWriter.create
// and ShmChannelReader.create on the same name (AlreadyExists each), opens
// files that take the descriptor numbers those attempts used and closed,
// collects garbage, and prints one JSON line: how many mappings of this
// process's temporary /dev/shm names are left beyond the live segment's, and
// which of the files' descriptors something closed behind their back.
//   create_exists_child.ts NAME
import {
  SharedMemory,
  ShmChannelReader,
  ShmChannelWriter,
} from "../../../shm/mod.ts";

const [name] = Deno.args;
const gc = (globalThis as unknown as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

const tempMappings = () =>
  Deno.readTextFileSync("/proc/self/maps").split("\n").filter((l) =>
    l.includes(`/dev/shm/.pipc-${Deno.pid}-`)
  ).length;
const target = (fd: number) => {
  try {
    return Deno.readLinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
};
const openFdNumbers = () =>
  new Set([...Deno.readDirSync("/proc/self/fd")].map((e) => Number(e.name)));

const live = SharedMemory.create(name!, { size: 4096, unlinkOnClose: true });
const before = tempMappings();
const errors: string[] = [];
const attempts = [
  () => SharedMemory.create(name!, { size: 1 << 20 }),
  () => ShmChannelWriter.create(name!, { capacity: 1 << 20 }),
  () => ShmChannelReader.create(name!, { capacity: 1 << 20 }),
];
for (const attempt of attempts) {
  (() => {
    try {
      attempt();
      errors.push("created");
    } catch (e) {
      errors.push((e as Error).name);
    }
  })();
}
const leaked = tempMappings() - before;
// Files that take the lowest free descriptor numbers, the ones just closed.
const dir = Deno.makeTempDirSync({ prefix: "pipc-exists-" });
const files: { fd: number; path: string; file: Deno.FsFile }[] = [];
for (let i = 0; i < 8; i++) {
  const path = `${dir}/f${i}`;
  const file = Deno.openSync(path, { write: true, createNew: true });
  const fd = [...openFdNumbers()].find((n) => target(n) === path) ?? -1;
  files.push({ fd, path, file });
}
for (let i = 0; i < 20; i++) {
  gc();
  await new Promise((r) => setTimeout(r, 10));
}
const closedBehindOurBack = files.filter((f) => target(f.fd) !== f.path)
  .map((f) => f.fd);
console.log(JSON.stringify({ errors, leaked, closedBehindOurBack }));
for (const f of files) {
  try {
    f.file.close();
  } catch {
    // closed behind our back
  }
}
live.close();
Deno.removeSync(dir, { recursive: true });
