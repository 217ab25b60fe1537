// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: finding POSIX IPC objects on this machine and the processes that
// hold them (Linux: /dev/shm, /dev/mqueue, /proc/net/unix, /proc/*/fd,
// /proc/*/maps).

import { MessageQueue } from "../mq/mod.ts";

/** The kinds `ipc ls` knows. */
export const KINDS = ["shm", "sem", "mq", "fifo", "unix"] as const;
/** One of {@linkcode KINDS}. */
export type Kind = typeof KINDS[number];

/** One object found. */
export interface IpcObject {
  kind: Kind;
  /** As a program passes it: `/foo` for shm, sem, mq; the path for fifo and unix. */
  name: string;
  /** Where it is in the filesystem (null for abstract sockets). */
  path: string | null;
  /** Bytes (shm, sem, fifo: buffered bytes unknown → 0; mq: queued bytes). */
  size: number | null;
  mode: number | null;
  uid: number | null;
  owner: string | null;
  /** Processes that have it open or mapped. */
  pids: number[];
  /** mq: messages in the queue. */
  messages?: number;
  /** unix: listening, bound, or stale (a socket file nobody is bound to). */
  state?: "listening" | "bound" | "stale";
}

function makedev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>>
    0;
}

/** Who holds what: dev:ino → pids, and socket inode → pids. */
export interface Holders {
  byFile: Map<string, Set<number>>;
  bySocket: Map<number, Set<number>>;
}

function add<K>(map: Map<K, Set<number>>, key: K, pid: number): void {
  let set = map.get(key);
  if (!set) map.set(key, set = new Set());
  set.add(pid);
}

/** Reads /proc/PID/fd and /proc/PID/maps of every process we may inspect. */
export function holders(): Holders {
  const byFile = new Map<string, Set<number>>();
  const bySocket = new Map<number, Set<number>>();
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
        try {
          const link = Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`);
          const socket = /^socket:\[(\d+)\]$/.exec(link);
          if (socket) {
            add(bySocket, Number(socket[1]), pid);
            continue;
          }
          const info = Deno.statSync(`/proc/${pid}/fd/${fd.name}`);
          add(byFile, `${info.dev}:${info.ino}`, pid);
        } catch {
          // closed meanwhile, or not ours to see
        }
      }
    } catch {
      continue;
    }
    try {
      for (
        const line of Deno.readTextFileSync(`/proc/${pid}/maps`).split("\n")
      ) {
        // address perms offset dev inode path
        const parts = line.split(/\s+/);
        if (parts.length < 6 || parts[4] === "0") continue;
        const [major, minor] = parts[3]!.split(":").map((h) => parseInt(h, 16));
        add(byFile, `${makedev(major!, minor!)}:${parts[4]}`, pid);
      }
    } catch {
      // gone, or not permitted
    }
  }
  return { byFile, bySocket };
}

const owners = new Map<number, string>();
function ownerName(uid: number | null): string | null {
  if (uid === null) return null;
  if (owners.size === 0) {
    try {
      for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
        const [name, , id] = line.split(":");
        if (name && id) owners.set(Number(id), name);
      }
    } catch {
      // no passwd: show numbers
    }
  }
  return owners.get(uid) ?? String(uid);
}

function fileObject(
  kind: Kind,
  name: string,
  path: string,
  held: Holders,
): IpcObject | null {
  try {
    const info = Deno.statSync(path);
    return {
      kind,
      name,
      path,
      size: info.size,
      mode: info.mode === null ? null : info.mode & 0o7777,
      uid: info.uid,
      owner: ownerName(info.uid),
      pids: [...(held.byFile.get(`${info.dev}:${info.ino}`) ?? [])].sort((
        a,
        b,
      ) => a - b),
    };
  } catch {
    return null;
  }
}

function listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Bound Unix sockets from /proc/net/unix, grouped by path. */
function unixSockets(
  held: Holders,
): Map<string, { listening: boolean; inodes: number[] }> {
  const out = new Map<string, { listening: boolean; inodes: number[] }>();
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/net/unix");
  } catch {
    return out;
  }
  for (const line of text.split("\n").slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const parts = line.trim().split(/\s+/);
    if (parts.length < 8) continue;
    const path = parts.slice(7).join(" ");
    const entry = out.get(path) ?? { listening: false, inodes: [] };
    if (parseInt(parts[3]!, 16) & 0x10000) entry.listening = true;
    entry.inodes.push(Number(parts[6]));
    out.set(path, entry);
  }
  void held;
  return out;
}

function walk(
  dir: string,
  depth: number,
  visit: (path: string, info: Deno.FileInfo) => void,
): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  for (const e of entries) {
    const path = `${dir.replace(/\/$/, "")}/${e.name}`;
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(path);
    } catch {
      continue;
    }
    if (info.isSymlink) continue;
    if (info.isDirectory) {
      if (depth > 0) walk(path, depth - 1, visit);
    } else {
      visit(path, info);
    }
  }
}

/** Finds the objects of `kinds`; `dirs` are searched for FIFOs and socket files. */
export function scan(
  kinds: ReadonlySet<Kind>,
  dirs: readonly string[],
): IpcObject[] {
  const held = holders();
  const out: IpcObject[] = [];
  if (kinds.has("shm") || kinds.has("sem")) {
    for (const entry of listDir("/dev/shm")) {
      const sem = entry.startsWith("sem.");
      const kind: Kind = sem ? "sem" : "shm";
      if (!kinds.has(kind)) continue;
      const object = fileObject(
        kind,
        `/${sem ? entry.slice(4) : entry}`,
        `/dev/shm/${entry}`,
        held,
      );
      if (object) out.push(object);
    }
  }
  if (kinds.has("mq")) {
    for (const entry of listDir("/dev/mqueue")) {
      const object = fileObject(
        "mq",
        `/${entry}`,
        `/dev/mqueue/${entry}`,
        held,
      );
      if (!object) continue;
      try {
        // "QSIZE:12 NOTIFY:0 SIGNO:0 NOTIFY_PID:0"
        const qsize = /QSIZE:(\d+)/.exec(Deno.readTextFileSync(object.path!));
        if (qsize) object.size = Number(qsize[1]);
        using queue = MessageQueue.open(object.name, { read: true });
        object.messages = queue.attributes.currentMessages;
      } catch {
        // not ours to open
      }
      out.push(object);
    }
  }
  const sockets = kinds.has("unix") ? unixSockets(held) : new Map();
  if (kinds.has("unix")) {
    for (const [path, entry] of sockets) {
      if (!path) continue;
      const pids = new Set<number>();
      for (const ino of entry.inodes) {
        for (const pid of held.bySocket.get(ino) ?? []) {
          pids.add(pid);
        }
      }
      const object = path.startsWith("@")
        ? null
        : fileObject("unix", path, path, held);
      out.push({
        kind: "unix",
        name: path,
        path: path.startsWith("@") ? null : path,
        size: null,
        mode: object?.mode ?? null,
        uid: object?.uid ?? null,
        owner: object?.owner ?? null,
        pids: [...pids].sort((a, b) => a - b),
        state: entry.listening ? "listening" : "bound",
      });
    }
  }
  if (kinds.has("fifo") || kinds.has("unix")) {
    for (const dir of dirs) {
      walk(dir, 3, (path, info) => {
        if (info.isFifo && kinds.has("fifo")) {
          const object = fileObject("fifo", path, path, held);
          if (object) out.push({ ...object, size: 0 });
        } else if (info.isSocket && kinds.has("unix") && !sockets.has(path)) {
          const object = fileObject("unix", path, path, held);
          if (object) out.push({ ...object, size: null, state: "stale" });
        }
      });
    }
  }
  return out;
}

/** Whether no live process holds the object (what `rm --stale` removes). */
export function isStale(object: IpcObject): boolean {
  if (object.kind === "unix") return object.state === "stale";
  return object.pids.length === 0;
}
