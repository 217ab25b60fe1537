// Copyright 2026 the posix-ipc authors. MIT license.
// Watching another process's exit through the engine: a pidfd (Linux ≥ 5.3)
// becomes readable when the process ends, so a wait on it costs nothing
// while the process lives. Elsewhere, `kill(pid, 0)` on a slow schedule.

import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { pollNow, pollSource, type Source } from "./engine.ts";
import { FdHandle } from "./fd_handle.ts";

/**
 * Whether process `pid` is still running. A process that has ended but is
 * not reaped yet (a zombie) has ended: its pidfd is readable (Linux ≥ 5.3),
 * while `kill(pid, 0)`, the fallback elsewhere, still finds it.
 */
export function processAlive(pid: number): boolean {
  const lib = libc();
  if (IS_LINUX && lib.sys_pidfd_open) {
    const fd = Number(lib.sys_pidfd_open(BigInt(C.SYS_pidfd_open), pid, 0));
    if (fd >= 0) {
      try {
        return pollNow(fd, C.POLLIN) === 0;
      } finally {
        lib.close(fd);
      }
    }
    if (errno() === E.ESRCH) return false;
  }
  return !(lib.kill(pid, 0) === -1 && errno() === E.ESRCH);
}

/** A pidfd of `pid` (close-on-exec), or -1 where there is none. */
export function pidfdOpen(pid: number): number {
  const lib = libc();
  if (!IS_LINUX || !lib.sys_pidfd_open) return -1;
  const fd = Number(lib.sys_pidfd_open(BigInt(C.SYS_pidfd_open), pid, 0));
  return fd >= 0 ? fd : -1;
}

/** The end of one process, as a wait source. */
export class ProcessWatch {
  readonly pid: number;
  #handle: FdHandle | null;
  #fallback: Source | null = null;

  constructor(pid: number) {
    this.pid = pid;
    const fd = pidfdOpen(pid);
    this.#handle = fd >= 0 ? new FdHandle(fd, `process ${pid}`) : null;
  }

  /** Ready when the process has ended. */
  get source(): Source {
    if (this.#handle) return this.#handle.source(C.POLLIN);
    return this.#fallback ??= pollSource(() => !processAlive(this.pid), 250);
  }

  /** Whether it has ended. */
  get ended(): boolean {
    return this.source.check() !== 0;
  }

  close(): void {
    this.#handle?.close();
    this.#handle = null;
  }
}
