// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: finding POSIX IPC objects on this machine and the processes that
// hold them (Linux: /dev/shm, /dev/mqueue, sock_diag or /proc/net/unix,
// /proc/*/fd, /proc/*/maps), and removing them by identity.
//
// Every object found keeps where it was found: the fd of a directory opened
// for the whole command, the names of the directories below it (with their
// device and inode), the entry's name as bytes and its identity. Removal
// walks there again through those fds with O_NOFOLLOW, checks every
// directory's and the entry's identity, and calls `unlinkat` on the
// directory's fd.

import { C } from "../_ffi/constants.ts";
import { splitPath } from "../_ffi/fd.ts";
import { libc } from "../_ffi/libc.ts";
import {
  closeFd,
  DirectoryError,
  type Identity,
  openFileAt,
  openLinkedDirectory,
  openSubdirectory,
  openSystemDirectory,
  openUserDirectory,
  probeSocket,
  readLinkBytes,
  readNames,
  readText,
  removeEntry,
  sameObject,
  statEntry,
  statFd,
  type StatInfo,
} from "./_fs.ts";
import { escapeName, jsonName, toBytes } from "./_names.ts";
import {
  fileKey,
  makedev,
  type UnixSocket,
  unixSocketsFromKernel,
  unixSocketsFromProc,
} from "./_sock_diag.ts";

export { DirectoryError };

/** The kinds `ipc ls` knows. */
export const KINDS = ["shm", "sem", "mq", "fifo", "unix"] as const;
/** One of {@linkcode KINDS}. */
export type Kind = typeof KINDS[number];
/** The kinds that live in /dev/shm and /dev/mqueue (POSIX names). */
export const NAMED_KINDS: readonly Kind[] = ["shm", "sem", "mq"];
/** The kinds that are files found under --dir. */
export const FILE_KINDS: readonly Kind[] = ["fifo", "unix"];

/**
 * A Unix socket's state: `listening`, `bound` (a datagram socket, or a stream
 * socket not listening), `connected` (only accepted connections still refer
 * to the file; its listener is closed), `stale` (a socket file no socket is
 * bound to: the kernel refuses connections to it) or `unknown` (it could not
 * be told).
 */
export type SocketState =
  | "listening"
  | "bound"
  | "connected"
  | "stale"
  | "unknown";

/** One object found: a row of `ipc ls --json`. */
export interface IpcObject {
  kind: Kind;
  /**
   * As a program passes it: `/foo` for shm, sem, mq; the path or bound name
   * for fifo and unix (abstract socket names start with "\0"). When the name
   * is not UTF-8, its escaped form (`\xff`, `\\`) and `utf8: false`.
   */
  name: string;
  /** Where it is in the file system (null for abstract sockets, or when unknown). */
  path: string | null;
  /** Bytes (shm, sem; mq: bytes queued); null when unknown (fifo, unix). */
  size: number | null;
  mode: number | null;
  uid: number | null;
  owner: string | null;
  /** Processes that have it open or mapped (other users' only when root). */
  pids: number[];
  /** mq: messages in the queue. */
  messages?: number;
  /** unix: see {@linkcode SocketState}. */
  state?: SocketState;
  /** Present (false) when `name` or `path` is shown escaped because it is not UTF-8. */
  utf8?: false;
}

/** A directory opened for the whole command, everything found below it is reached from. */
interface Root {
  fd: number;
  /** As the user typed it, for display ("." stays "."). */
  path: Uint8Array;
  /** Its absolute path now (from /proc/self/fd), for the fallback's path matching. */
  absolute: Uint8Array | null;
}

function openedRoot(fd: number, path: string): Root {
  return {
    fd,
    path: toBytes(path),
    absolute: readLinkBytes(`/proc/self/fd/${fd}`),
  };
}

/** Where an object's name is: below `root`, through `dirs`, the entry `entry`. */
interface Location {
  root: Root;
  dirs: { name: Uint8Array; dev: bigint; ino: bigint }[];
  entry: Uint8Array;
  identity: Identity & { kind: StatInfo["kind"] };
}

/** An object found, with what it takes to print and remove it. */
export interface Found {
  object: IpcObject;
  /** The name's bytes (compared byte for byte with a NAME given to `rm`). */
  name: Uint8Array;
  /** What a table shows: the name (shm, sem, mq); the path when known, else the name (fifo, unix). */
  display: Uint8Array;
  /** Where its name is in the file system; null when it has none (abstract socket) or it is unknown. */
  location: Location | null;
}

/** Who holds what: dev:ino → pids, and socket inode → pids. */
interface Holders {
  byFile: Map<string, Set<number>>;
  bySocket: Map<number, Set<number>>;
}

function add<K>(map: Map<K, Set<number>>, key: K, pid: number): void {
  let set = map.get(key);
  if (!set) map.set(key, set = new Set());
  set.add(pid);
}

function userMakedev(major: number, minor: number): bigint {
  return makedev(BigInt(major), BigInt(minor));
}

/** Reads /proc/PID/fd and /proc/PID/maps of every process we may inspect. */
function holders(): Holders {
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
        add(byFile, `${userMakedev(major!, minor!)}:${parts[4]}`, pid);
      }
    } catch {
      // gone, or not permitted
    }
  }
  return { byFile, bySocket };
}

const owners = new Map<number, string>();
function ownerName(uid: number): string {
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

/** The Unix sockets, indexed by socket file (sock_diag) or by name (fallback). */
interface SocketIndex {
  /** Whether the sockets came from sock_diag (with file identities). */
  fromKernel: boolean;
  /** Bound sockets grouped: by file identity, or (abstract names, fallback) by name. */
  groups: Map<string, UnixSocket[]>;
}

function socketIndex(): SocketIndex {
  const kernel = unixSocketsFromKernel();
  const groups = new Map<string, UnixSocket[]>();
  for (const socket of kernel ?? unixSocketsFromProc()) {
    if (socket.name === null) continue;
    const key = socket.file
      ? fileKey(socket.file.dev, socket.file.ino32)
      : `name:${[...socket.name].join(",")}`;
    const list = groups.get(key);
    if (list) list.push(socket);
    else groups.set(key, [socket]);
  }
  return { fromKernel: kernel !== null, groups };
}

function socketState(sockets: UnixSocket[]): SocketState {
  if (sockets.some((s) => s.state === C.TCP_LISTEN)) return "listening";
  // A datagram socket is bound whatever its state (the kernel marks it
  // established when another socket connects to it).
  if (
    sockets.some((s) => s.state === C.TCP_CLOSE || s.type === C.SOCK_DGRAM)
  ) {
    return "bound";
  }
  return "connected";
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const SLASH = toBytes("/");
const SEM_PREFIX = toBytes("sem.");
/** sizeof(sem_t) on 64-bit glibc and musl: the size of /dev/shm/sem.NAME. */
const SEM_SIZE = 32;

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length &&
    prefix.every((b, i) => bytes[i] === b);
}

/** `root/dir/…/entry` as bytes, for display. */
function joinPath(root: Uint8Array, names: Uint8Array[]): Uint8Array {
  let base = root;
  while (base.length > 1 && base[base.length - 1] === 0x2f) {
    base = base.subarray(0, base.length - 1);
  }
  const parts: Uint8Array[] = [base];
  for (const n of names) {
    if (parts.length > 1 || base.length !== 1 || base[0] !== 0x2f) {
      parts.push(SLASH);
    }
    parts.push(n);
  }
  return concat(...parts);
}

function describeKind(kind: StatInfo["kind"]): string {
  switch (kind) {
    case "file":
      return "a regular file";
    case "directory":
      return "a directory";
    case "symlink":
      return "a symbolic link";
    case "character-device":
      return "a character device";
    case "block-device":
      return "a block device";
    case "fifo":
      return "a FIFO";
    case "socket":
      return "a socket file";
    default:
      return "not a socket file or FIFO";
  }
}

/**
 * Finds and removes objects. Opens /dev/shm, /dev/mqueue and each --dir once
 * (closed on dispose); reads holders and sockets on {@linkcode refresh}.
 */
export class Scanner implements Disposable {
  #shm: Root | null;
  #mq: Root | null;
  #roots: Root[] = [];
  #extra: Root[] = [];
  #held: Holders = { byFile: new Map(), bySocket: new Map() };
  #sockets: SocketIndex = { fromKernel: false, groups: new Map() };

  /**
   * @throws {DirectoryError} If a --dir is missing or not a directory.
   */
  constructor(dirs: readonly string[]) {
    if (Deno.build.os !== "linux") {
      throw new Deno.errors.NotSupported(
        "ipc ls and ipc rm need Linux (/proc, /dev/shm, /dev/mqueue)",
      );
    }
    const shm = openSystemDirectory("/dev/shm");
    this.#shm = shm === null ? null : openedRoot(shm, "/dev/shm");
    const mq = openSystemDirectory("/dev/mqueue");
    this.#mq = mq === null ? null : openedRoot(mq, "/dev/mqueue");
    try {
      for (const dir of dirs) {
        this.#roots.push(openedRoot(openUserDirectory(dir), dir));
      }
    } catch (error) {
      this[Symbol.dispose]();
      throw error;
    }
    this.refresh();
  }

  /** Reads who holds what, and which sockets are bound, again. */
  refresh(): void {
    this.#held = holders();
    this.#sockets = socketIndex();
  }

  /** Whether the socket states came from sock_diag (else /proc/net/unix). */
  get socketsFromKernel(): boolean {
    return this.#sockets.fromKernel;
  }

  #pids(info: Identity): number[] {
    return [...(this.#held.byFile.get(`${info.dev}:${info.ino}`) ?? [])]
      .sort((a, b) => a - b);
  }

  #object(
    kind: Kind,
    name: Uint8Array,
    path: Uint8Array | null,
    info: StatInfo | null,
    location: Location | null,
  ): Found {
    const n = jsonName(name);
    const p = path === null ? null : jsonName(path);
    const object: IpcObject = {
      kind,
      name: n.text,
      path: p?.text ?? null,
      size: info && (kind === "shm" || kind === "sem") ? info.size : null,
      mode: info?.mode ?? null,
      uid: info?.uid ?? null,
      owner: info ? ownerName(info.uid) : null,
      pids: info ? this.#pids(info) : [],
    };
    if (!n.utf8 || (p !== null && !p.utf8)) object.utf8 = false;
    const display = kind === "fifo" || kind === "unix" ? path ?? name : name;
    return { object, name, display, location };
  }

  /** Shared memory segments and semaphores in /dev/shm (regular files only). */
  shm(kinds: ReadonlySet<Kind>): Found[] {
    const root = this.#shm;
    if (!root || !(kinds.has("shm") || kinds.has("sem"))) return [];
    const out: Found[] = [];
    for (const entry of readNamesOf(root.fd)) {
      const info = statEntry(root.fd, entry);
      // shm_open and sem_open make regular files; anything else is not theirs.
      if (info === null || info.kind !== "file") continue;
      const sem = startsWith(entry, SEM_PREFIX) &&
        entry.length > SEM_PREFIX.length && info.size === SEM_SIZE;
      const kind: Kind = sem ? "sem" : "shm";
      if (!kinds.has(kind)) continue;
      const name = concat(
        SLASH,
        sem ? entry.subarray(SEM_PREFIX.length) : entry,
      );
      out.push(
        this.#object(kind, name, joinPath(root.path, [entry]), info, {
          root,
          dirs: [],
          entry,
          identity: info,
        }),
      );
    }
    return out;
  }

  /** Message queues in /dev/mqueue, with their queued bytes and messages. */
  mq(kinds: ReadonlySet<Kind>): Found[] {
    const root = this.#mq;
    if (!root || !kinds.has("mq")) return [];
    const out: Found[] = [];
    for (const entry of readNamesOf(root.fd)) {
      const info = statEntry(root.fd, entry);
      if (info === null || info.kind !== "file") continue;
      const found = this.#object(
        "mq",
        concat(SLASH, entry),
        joinPath(root.path, [entry]),
        info,
        { root, dirs: [], entry, identity: info },
      );
      // An fd of a /dev/mqueue file is a message queue descriptor on Linux.
      const fd = openFileAt(root.fd, entry);
      if (fd !== null) {
        try {
          if (sameObject(statFd(fd), info)) {
            // "QSIZE:12 NOTIFY:0 SIGNO:0 NOTIFY_PID:0"
            const qsize = /QSIZE:(\d+)/.exec(readText(fd) ?? "");
            if (qsize) found.object.size = Number(qsize[1]);
            const attr = new BigInt64Array(8);
            const lib = libc();
            if (
              lib.mq_getattr &&
              lib.mq_getattr(fd, new Uint8Array(attr.buffer)) === 0
            ) {
              found.object.messages = Number(attr[3]);
            }
          }
        } finally {
          closeFd(fd);
        }
      }
      out.push(found);
    }
    return out;
  }

  /**
   * FIFOs and socket files under each --dir (3 levels deep, never through a
   * symlink). Socket files of live sockets are returned in `live`, keyed by
   * their socket group, to give those sockets a path.
   */
  #walk(kinds: ReadonlySet<Kind>): {
    files: Found[];
    live: Map<string, Found>;
  } {
    const files: Found[] = [];
    const live = new Map<string, Found>();
    if (!kinds.has("fifo") && !kinds.has("unix")) return { files, live };
    const visit = (
      root: Root,
      dirfd: number,
      dirs: Location["dirs"],
      depth: number,
    ) => {
      let names: Uint8Array[];
      try {
        names = readNamesOf(dirfd);
      } catch {
        return;
      }
      for (const entry of names) {
        const info = statEntry(dirfd, entry);
        if (info === null || info.kind === "symlink") continue;
        if (info.kind === "directory") {
          if (depth === 0) continue;
          const sub = openSubdirectory(dirfd, entry);
          if (sub === null) continue;
          try {
            // The directory opened must be the one inspected.
            const now = statFd(sub);
            if (!sameObject(now, info)) continue;
            visit(root, sub, [...dirs, {
              name: entry,
              dev: info.dev,
              ino: info.ino,
            }], depth - 1);
          } finally {
            closeFd(sub);
          }
          continue;
        }
        const below = [...dirs.map((d) => d.name), entry];
        const path = joinPath(root.path, below);
        const location: Location = { root, dirs, entry, identity: info };
        if (info.kind === "fifo" && kinds.has("fifo")) {
          files.push(this.#object("fifo", path, path, info, location));
        } else if (info.kind === "socket" && kinds.has("unix")) {
          const key = this.#groupKey(
            info,
            root.absolute && joinPath(root.absolute, below),
          );
          const group = this.#sockets.groups.get(key);
          const found = this.#object(
            "unix",
            group?.[0]?.name ?? path,
            path,
            info,
            location,
          );
          if (group) {
            found.object.state = socketState(group);
            found.object.pids = this.#socketPids(group);
            live.set(key, found);
          } else {
            found.object.state = this.#fileState(dirfd, entry, info);
            files.push(found);
          }
        }
      }
    };
    for (const root of this.#roots) visit(root, root.fd, [], 3);
    return { files, live };
  }

  /**
   * The key of the socket group a socket file belongs to: its identity
   * (sock_diag); in the fallback, its path if that is absolute (a socket
   * bound by that very path string), else a key no group has.
   */
  #groupKey(info: Identity, path: Uint8Array | null): string {
    if (this.#sockets.fromKernel) return fileKey(info.dev, info.ino);
    return path?.[0] === 0x2f ? `name:${[...path].join(",")}` : "none";
  }

  /**
   * The state of a socket file no known socket refers to: a probe of the
   * inode decides (it also sees sockets of other network namespaces, which
   * sock_diag does not). Without sock_diag, a path match is all the
   * fallback has, and no path match can prove a file stale: the probe is
   * what does.
   */
  #fileState(
    dirfd: number,
    entry: Uint8Array,
    info: StatInfo,
  ): SocketState {
    switch (probeSocket(dirfd, entry, info)) {
      case "dead":
        return "stale";
      case "live":
        return "bound";
      default:
        return "unknown";
    }
  }

  #socketPids(group: UnixSocket[]): number[] {
    const pids = new Set<number>();
    for (const s of group) {
      for (const pid of this.#held.bySocket.get(s.ino) ?? []) pids.add(pid);
    }
    return [...pids].sort((a, b) => a - b);
  }

  /**
   * Where a bound socket's file is: its name if absolute, or a holder's
   * working directory and its relative name — if what is there is this
   * socket's very file (sock_diag), or at least a socket file (fallback).
   */
  #locate(
    group: UnixSocket[],
    pids: number[],
  ): { path: Uint8Array; info: StatInfo } | null {
    const socket = group[0]!;
    const name = socket.name!;
    const file = socket.file;
    if (name[0] === 0) return null;
    const matches = (info: StatInfo | null): info is StatInfo =>
      info !== null && info.kind === "socket" && (file === null ||
        (info.dev === file.dev && (info.ino & 0xffffffffn) === file.ino32));
    if (name[0] === 0x2f) {
      const [dir, entry] = splitPathBytes(name);
      const fd = openLinkedDirectory(dir);
      if (fd === null) return null;
      try {
        const info = statEntry(fd, entry);
        return matches(info) ? { path: name, info } : null;
      } finally {
        closeFd(fd);
      }
    }
    if (file === null) return null;
    for (const pid of pids) {
      const fd = openLinkedDirectory(`/proc/${pid}/cwd`);
      if (fd === null) continue;
      try {
        const info = statEntry(fd, name);
        if (!matches(info)) continue;
        const cwd = readLinkBytes(`/proc/${pid}/cwd`);
        return cwd === null ? null : { path: joinPath(cwd, [name]), info };
      } finally {
        closeFd(fd);
      }
    }
    return null;
  }

  /** Bound Unix sockets (sock_diag or /proc/net/unix) and socket files and FIFOs under --dir. */
  files(kinds: ReadonlySet<Kind>): Found[] {
    const { files, live } = this.#walk(kinds);
    const out: Found[] = [];
    if (kinds.has("unix")) {
      for (const [key, group] of this.#sockets.groups) {
        const walked = live.get(key);
        if (walked) {
          out.push(walked);
          continue;
        }
        const pids = this.#socketPids(group);
        const name = group[0]!.name!;
        const located = this.#locate(group, pids);
        const found = this.#object(
          "unix",
          name,
          located?.path ?? null,
          located?.info ?? null,
          null,
        );
        found.object.pids = pids;
        found.object.state = socketState(group);
        out.push(found);
      }
    }
    return [...out, ...files];
  }

  /** Everything of `kinds`: /dev/shm, /dev/mqueue, sockets, and under each --dir. */
  scan(kinds: ReadonlySet<Kind>): Found[] {
    return [...this.shm(kinds), ...this.mq(kinds), ...this.files(kinds)];
  }

  /**
   * The socket file or FIFO at `path` (resolved from the current directory;
   * the last component is never followed), or why there is none.
   */
  lookupPath(path: string): Found | string {
    const [dir, entryText] = splitPath(path);
    const entry = toBytes(entryText);
    if (entry.length === 0) return "not a socket file or FIFO";
    let fd: number;
    try {
      fd = openUserDirectory(dir);
    } catch (error) {
      if (error instanceof DirectoryError) return error.message;
      throw error;
    }
    const parent = openedRoot(fd, dir);
    this.#extra.push(parent);
    const info = statEntry(fd, entry);
    if (info === null) return "no such file";
    const location: Location = {
      root: parent,
      dirs: [],
      entry,
      identity: info,
    };
    const display = toBytes(path);
    if (info.kind === "fifo") {
      return this.#object("fifo", display, display, info, location);
    }
    if (info.kind !== "socket") {
      return `${describeKind(info.kind)}, not a socket file or FIFO`;
    }
    const found = this.#object("unix", display, display, info, location);
    const group = this.#sockets.groups.get(
      this.#groupKey(
        info,
        parent.absolute && joinPath(parent.absolute, [entry]),
      ),
    );
    if (group) {
      found.object.state = socketState(group);
      found.object.pids = this.#socketPids(group);
    } else {
      found.object.state = this.#fileState(fd, entry, info);
    }
    return found;
  }

  /** The socket group a found socket file belongs to now, if any. */
  #groupOf(location: Location): UnixSocket[] | undefined {
    const { root, dirs, entry, identity } = location;
    return this.#sockets.groups.get(
      this.#groupKey(
        identity,
        root.absolute &&
          joinPath(root.absolute, [...dirs.map((d) => d.name), entry]),
      ),
    );
  }

  /** The processes holding the object, as of the last refresh. */
  currentPids(found: Found): number[] {
    const location = found.location;
    if (location === null) return found.object.pids;
    if (found.object.kind === "unix") {
      const group = this.#groupOf(location);
      return group ? this.#socketPids(group) : [];
    }
    return this.#pids(location.identity);
  }

  /**
   * Whether no live process holds the object (what `rm --stale` removes):
   * shm, sem, mq and FIFOs no process has open or mapped; socket files no
   * socket is bound to (no socket of sock_diag refers to the file, and the
   * kernel refused a connection to it). Uses the holders and sockets of the
   * last refresh.
   */
  isStale(found: Found): boolean {
    const location = found.location;
    if (location === null) return false;
    if (found.object.kind === "unix") {
      return this.#groupOf(location) === undefined &&
        found.object.state === "stale";
    }
    return this.#pids(location.identity).length === 0;
  }

  /**
   * Removes the object's name if it is still the object found: walks to its
   * directory again (O_NOFOLLOW, every directory's identity checked), checks
   * the entry, and for `stale` checks again that nothing holds it (for a
   * socket file: that the kernel refuses connections to that inode).
   * Returns null when removed, else why not.
   */
  remove(found: Found, stale: boolean): string | null {
    const location = found.location;
    if (location === null) {
      return found.object.kind === "unix"
        ? "an abstract or unlocated socket has no file to remove"
        : "its location is unknown";
    }
    if (stale && !this.isStale(found)) {
      const pids = this.currentPids(found);
      return `it is in use${pids.length ? ` by ${pids.join(", ")}` : ""}`;
    }
    const opened: number[] = [];
    try {
      let dirfd = location.root.fd;
      for (const dir of location.dirs) {
        const sub = openSubdirectory(dirfd, dir.name);
        if (sub === null) {
          return `the directory ${
            escapeName(dir.name)
          } changed (moved, or replaced by a symlink)`;
        }
        opened.push(sub);
        if (!sameObject(statFd(sub), dir)) {
          return `the directory ${
            escapeName(dir.name)
          } changed (moved or replaced)`;
        }
        dirfd = sub;
      }
      if (stale && found.object.kind === "unix") {
        const liveness = probeSocket(dirfd, location.entry, location.identity);
        if (liveness === "live") return "a socket is bound to it now";
        if (liveness === "gone") return "it changed since it was inspected";
        if (liveness === "unknown") {
          return "cannot tell whether a socket is bound to it";
        }
      }
      return removeEntry(dirfd, location.entry, location.identity);
    } finally {
      for (const fd of opened) closeFd(fd);
    }
  }

  [Symbol.dispose](): void {
    for (const root of [this.#shm, this.#mq, ...this.#roots, ...this.#extra]) {
      if (root) closeFd(root.fd);
    }
    this.#shm = this.#mq = null;
    this.#roots = [];
    this.#extra = [];
  }
}

/** Names of a directory through a fresh fd of it, so that `dirfd`'s position is untouched. */
function readNamesOf(dirfd: number): Uint8Array[] {
  const fd = openSubdirectory(dirfd, toBytes("."));
  if (fd === null) return [];
  try {
    return readNames(fd);
  } finally {
    closeFd(fd);
  }
}

/** `splitPath` for an absolute path in bytes: [directory as a string, entry as bytes]. */
function splitPathBytes(path: Uint8Array): [string, Uint8Array] {
  const slash = path.lastIndexOf(0x2f);
  const dir = slash <= 0
    ? "/"
    : new TextDecoder().decode(path.subarray(0, slash));
  return [dir, path.subarray(slash + 1)];
}
