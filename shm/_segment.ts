// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: creating and opening named POSIX segments as mappings.

import { C, E } from "../_ffi/constants.ts";
import { lastError } from "../_ffi/errno.ts";
import { closeFd, fstat } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { Mapping } from "../_ffi/mmap.ts";

/**
 * `shm_open(O_CREAT)` + `fchmod` + `ftruncate` + `mmap`. Unless `exclusive`,
 * an existing segment is opened and resized to `size`. A failure after the
 * object was created removes it again.
 */
export function createSegment(
  cname: Uint8Array,
  name: string,
  size: number,
  mode: number,
  exclusive: boolean,
): Mapping {
  const lib = libc();
  const action = `Cannot create shared memory ${JSON.stringify(name)}`;
  let created = true;
  let fd = lib.shm_open(
    cname,
    C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_CLOEXEC,
    mode,
  );
  if (fd === -1 && errno() === E.EEXIST && !exclusive) {
    created = false;
    fd = lib.shm_open(cname, C.O_RDWR | C.O_CLOEXEC, 0);
  }
  if (fd === -1) throw lastError(action);
  try {
    // shm_open applied the umask; the mode asked for is applied exactly.
    if (created && lib.fchmod(fd, mode) === -1) throw lastError(action);
    if (
      fstat(fd, action).size !== size && lib.ftruncate(fd, BigInt(size)) === -1
    ) {
      throw lastError(`${action}: cannot set its size to ${size} bytes`);
    }
    return new Mapping(fd, size, true, `${action}: cannot map ${size} bytes`);
  } catch (error) {
    closeFd(fd);
    if (created) lib.shm_unlink(cname);
    throw error;
  }
}

/** `shm_open` + `fstat` + `mmap` of the whole existing segment. */
export function openSegment(
  cname: Uint8Array,
  name: string,
  readOnly: boolean,
): Mapping {
  const lib = libc();
  const action = `Cannot open shared memory ${JSON.stringify(name)}`;
  const fd = lib.shm_open(
    cname,
    (readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_CLOEXEC,
    0,
  );
  if (fd === -1) throw lastError(action);
  try {
    const size = fstat(fd, action).size;
    if (size === 0) {
      throw new Deno.errors.InvalidData(
        `${action}: it has size 0 (not sized by its creator yet)`,
      );
    }
    return new Mapping(fd, size, !readOnly, `${action}: cannot map it`);
  } catch (error) {
    closeFd(fd);
    throw error;
  }
}
