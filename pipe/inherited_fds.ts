// Copyright 2026 the posix-ipc authors. MIT license.

import { C } from "../_ffi/constants.ts";
import { fdLink, fstat, openFdsFrom } from "../_ffi/fd.ts";
import { libc } from "../_ffi/libc.ts";
import { getIntOption } from "../_ffi/socket.ts";

/**
 * What an inherited descriptor is.
 *
 * @example Pick the pipes
 * ```ts
 * import { inheritedFds, type InheritedFdKind } from "@posix/ipc/pipe";
 *
 * const wanted: InheritedFdKind = "pipe";
 * const pipes = inheritedFds().filter((f) => f.kind === wanted);
 * console.log(pipes.map((f) => f.fd));
 * ```
 */
export type InheritedFdKind =
  | "pipe"
  | "fifo"
  | "socket"
  | "memfd"
  | "shm"
  | "file"
  | "directory"
  | "character-device"
  | "other";

/**
 * Socket details of an inherited socket.
 *
 * @example Find inherited listening sockets
 * ```ts
 * import { inheritedFds, type InheritedSocket } from "@posix/ipc/pipe";
 *
 * const isListening = (s: InheritedSocket | undefined) => s?.listening === true;
 * console.log(inheritedFds().filter((f) => isListening(f.socket)).map((f) => f.fd));
 * ```
 */
export interface InheritedSocket {
  /** `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`. */
  type: "stream" | "datagram" | "seqpacket" | "other";
  /** Address family. */
  domain: "unix" | "inet" | "inet6" | "other";
  /** A listening socket (accepts connections). */
  listening: boolean;
}

/**
 * One descriptor from {@linkcode inheritedFds}.
 *
 * @example What each descriptor is
 * ```ts
 * import { type InheritedFd, inheritedFds } from "@posix/ipc/pipe";
 *
 * const list: InheritedFd[] = inheritedFds();
 * for (const f of list) console.log(f.fd, f.kind, f.readable ? "r" : "-", f.writable ? "w" : "-", f.target);
 * ```
 */
export interface InheritedFd {
  /** The descriptor number. */
  fd: number;
  /** What it is. */
  kind: InheritedFdKind;
  /** Open for reading (from the access mode). */
  readable: boolean;
  /** Open for writing (from the access mode). */
  writable: boolean;
  /** What /proc/self/fd shows for it: a path, `pipe:[…]`, `socket:[…]`, `/memfd:…`. */
  target: string | null;
  /** Socket details, for sockets. */
  socket?: InheritedSocket;
}

function socketDetails(fd: number): InheritedSocket {
  const action = `inheritedFds(): cannot inspect socket fd ${fd}`;
  const type = getIntOption(fd, C.SOL_SOCKET, C.SO_TYPE, action);
  const domain = C.SO_DOMAIN >= 0
    ? getIntOption(fd, C.SOL_SOCKET, C.SO_DOMAIN, action)
    : -1;
  return {
    type: type === C.SOCK_STREAM
      ? "stream"
      : type === C.SOCK_DGRAM
      ? "datagram"
      : type === C.SOCK_SEQPACKET
      ? "seqpacket"
      : "other",
    domain: domain === C.AF_UNIX
      ? "unix"
      : domain === C.AF_INET
      ? "inet"
      : domain === C.AF_INET6
      ? "inet6"
      : "other",
    listening: getIntOption(fd, C.SOL_SOCKET, C.SO_ACCEPTCONN, action) !== 0,
  };
}

/**
 * The descriptors a parent passed to this process and nothing has adopted
 * yet: every open fd from 3 up **without** close-on-exec. (Everything Deno
 * and this package open is close-on-exec, and `fromFd()` sets it on what it
 * adopts, so those are not listed.) Each comes with its kind, found with
 * `fstat`, `getsockopt` and the /proc/self/fd link — no `--allow-read`
 * needed.
 *
 * Adopt what you find with the owning module: `PipeReader.fromFd` /
 * `PipeWriter.fromFd` (pipes, FIFOs), `SocketEnd.fromFd` (connected stream
 * sockets), `UnixDatagram.fromFd`, `SharedMemory.fromFd` (memfd, shm, files).
 *
 * @returns The inherited descriptors, by number.
 *
 * @example List what the parent passed
 * ```ts
 * import { inheritedFds, pipe, spawn } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const { reader, writer } = pipe();
 * const child = spawn(Deno.execPath(), {
 *   args: ["eval", "import { inheritedFds } from '@posix/ipc/pipe'; console.log(inheritedFds().map((f) => `${f.fd}:${f.kind}`).join())"],
 *   fds: { 3: reader },
 *   stdout: "piped",
 * });
 * writer.close();
 * const out = new TextDecoder().decode((await child.output()).stdout).trim();
 * assertEquals(out, "3:pipe");
 * ```
 */
export function inheritedFds(): InheritedFd[] {
  const lib = libc();
  const out: InheritedFd[] = [];
  for (const fd of openFdsFrom(3)) {
    const fdFlags = lib.fcntl(fd, C.F_GETFD, 0);
    if (fdFlags === -1 || (fdFlags & C.FD_CLOEXEC) !== 0) continue;
    let info;
    try {
      info = fstat(fd, "inheritedFds()");
    } catch {
      continue; // closed meanwhile
    }
    const target = fdLink(fd);
    const access = lib.fcntl(fd, C.F_GETFL, 0) & 3;
    let kind: InheritedFdKind;
    switch (info.kind) {
      case "fifo":
        kind = target?.startsWith("pipe:") ? "pipe" : "fifo";
        break;
      case "socket":
        kind = "socket";
        break;
      case "file":
        kind = target?.startsWith("/memfd:")
          ? "memfd"
          : target?.startsWith("/dev/shm/")
          ? "shm"
          : "file";
        break;
      case "directory":
      case "character-device":
        kind = info.kind;
        break;
      default:
        kind = "other";
    }
    const entry: InheritedFd = {
      fd,
      kind,
      readable: access === C.O_RDONLY || access === C.O_RDWR,
      writable: access === C.O_WRONLY || access === C.O_RDWR,
      target,
    };
    if (kind === "socket") entry.socket = socketDetails(fd);
    out.push(entry);
  }
  return out;
}
