// Copyright 2026 the posix-ipc authors. MIT license.
// Objects that live as files in /dev/shm (Linux): shared memory segments,
// ShmChannel rings and named semaphores (`sem.NAME`), created and opened the
// same way, which is also how glibc's shm_open and sem_open do it — so C and
// Python peers see the same objects.
//
// - Create is atomic and exclusive: the object is made under a hidden
//   temporary name, sized (space reserved, so a full /dev/shm fails here and
//   not later with SIGBUS) and initialized, then linked to its name
//   (`linkat` fails with EEXIST if the name exists). No opener ever sees a
//   half-made object.
// - Open goes through a directory fd with O_NOFOLLOW and checks what it got
//   (a regular file of an acceptable size) before anything is mapped.

import { C, IS_LINUX } from "../_ffi/constants.ts";
import { lastError, openError } from "../_ffi/errors.ts";
import {
  closeFd,
  formatBytes,
  fstat,
  openDirectory,
  reserveSpace,
  type StatInfo,
} from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { cString } from "../_check/mod.ts";
import type { Identity, Place } from "./lifecycle.ts";

/** Where glibc keeps POSIX shared memory and named semaphores. */
export const SHM_DIR = "/dev/shm";

/** The place of `/dev/shm/<file>` for the lifecycle. */
export function shmPlace(file: string): Place {
  return { dir: SHM_DIR, file };
}

let tmpCounter = 0;

/** What to check of an object found under a name. */
export interface Expect {
  /** Smallest acceptable size in bytes. */
  minSize: number;
  /** Exact size, when the kind has one (a semaphore). */
  exactSize?: number;
  /** The kind, for messages: "semaphore". */
  kind: string;
}

/**
 * Checks that an opened object is a regular file of an acceptable size, so
 * nothing is mapped past its end (which would kill the process with SIGBUS).
 *
 * @throws {Deno.errors.InvalidData} Naming what was found and what was expected.
 */
export function checkObject(
  info: StatInfo,
  expect: Expect,
  call: string,
  label: string,
): void {
  if (info.kind !== "file") {
    throw new Deno.errors.InvalidData(
      `${call}: ${label} is a ${info.kind}, not a ${expect.kind}`,
    );
  }
  if (expect.exactSize !== undefined && info.size !== expect.exactSize) {
    throw new Deno.errors.InvalidData(
      `${call}: ${label} has ${
        formatBytes(info.size)
      }, not the ${expect.exactSize} bytes of a ${expect.kind}; it is not one (or was damaged)`,
    );
  }
  if (info.size < expect.minSize) {
    throw new Deno.errors.InvalidData(
      info.size === 0
        ? `${call}: ${label} is empty (0 bytes), not a ${expect.kind}`
        : `${call}: ${label} has ${formatBytes(info.size)}, fewer than the ${
          formatBytes(expect.minSize)
        } expected`,
    );
  }
}

/**
 * Opens `/dev/shm/<file>` (no symlink followed) and checks it. Returns the
 * fd (close-on-exec) and its stat.
 *
 * @throws {Deno.errors.NotFound} If nothing has the name.
 * @throws {Deno.errors.InvalidData} If it is not a regular file of an acceptable size.
 */
export function openShmFile(
  file: string,
  readOnly: boolean,
  expect: Expect,
  call: string,
  label: string,
): { fd: number; info: StatInfo } {
  const lib = libc();
  const dirfd = openDirectory(SHM_DIR, call);
  let fd: number;
  try {
    fd = lib.openat(
      dirfd,
      cString(file, call, "name"),
      (readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_NOFOLLOW | C.O_CLOEXEC |
        C.O_NONBLOCK,
      0,
    );
  } finally {
    closeFd(dirfd);
  }
  if (fd === -1) throw openError(errno(), call, label);
  try {
    const info = fstat(fd, call, label);
    checkObject(info, expect, call, label);
    return { fd, info };
  } catch (error) {
    closeFd(fd);
    throw error;
  }
}

/**
 * Creates `/dev/shm/<file>` exclusively and atomically: made, sized and
 * initialized under a temporary name, then linked to `file`.
 *
 * @param init Initializes the new object through its fd before it gets its name.
 * @returns The fd (close-on-exec, read-write) and the object's identity.
 * @throws {Deno.errors.AlreadyExists} If the name exists.
 * @throws {Deno.errors.*} ENOSPC naming the size and the free space.
 */
export function createShmFile(
  file: string,
  mode: number,
  size: number,
  call: string,
  label: string,
  init?: (fd: number) => void,
): { fd: number; identity: Identity } {
  const lib = libc();
  const dirfd = openDirectory(SHM_DIR, call);
  const tmp = cString(
    `.pipc-${Deno.pid}-${++tmpCounter}-${
      crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36)
    }`,
  );
  let fd = -1;
  try {
    fd = lib.openat(
      dirfd,
      tmp,
      C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_CLOEXEC,
      mode,
    );
    if (fd === -1) throw lastError(call, `cannot create ${label}`);
    try {
      // openat applied the umask; the mode asked for is applied exactly.
      if (lib.fchmod(fd, mode) === -1) {
        throw lastError(call, `cannot set the mode of ${label}`);
      }
      reserveSpace(fd, size, call, label);
      init?.(fd);
      if (
        lib.linkat(dirfd, tmp, dirfd, cString(file, call, "name"), 0) === -1
      ) {
        throw lastError(call, `cannot create ${label}`);
      }
      const info = fstat(fd, call, label);
      return { fd, identity: { dev: info.dev, ino: info.ino } };
    } catch (error) {
      closeFd(fd);
      throw error;
    } finally {
      lib.unlinkat(dirfd, tmp, 0);
    }
  } finally {
    closeFd(dirfd);
  }
}

/** Whether objects are created through /dev/shm (Linux) or the libc calls (elsewhere). */
export const HAS_SHM_DIR: boolean = IS_LINUX;
