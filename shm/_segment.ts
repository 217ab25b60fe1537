// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: named POSIX shared memory segments as mappings with a lifecycle,
// for SharedMemory and the ShmChannel ends. Linux goes through /dev/shm
// (atomic exclusive create with space reserved, O_NOFOLLOW opens checked with
// fstat); elsewhere through shm_open.

import { C, E } from "../_ffi/constants.ts";
import { lastError, osError } from "../_ffi/errors.ts";
import { closeFd, dupCloseOnExec, fstat, reserveSpace } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { Mapping } from "../_ffi/mmap.ts";
import {
  type Identity,
  Lifecycle,
  type Place,
  type RemovalOptions,
} from "../_object/lifecycle.ts";
import {
  checkObject,
  createShmFile,
  type Expect,
  HAS_SHM_DIR,
  openShmFile,
  shmPlace,
} from "../_object/shm_dir.ts";

/** A mapped named segment and its lifecycle. */
export interface Segment {
  mapping: Mapping;
  lifecycle: Lifecycle;
}

/** How to create a segment. */
export interface SegmentSpec extends RemovalOptions {
  size: number;
  mode: number;
  /** Fills in the new memory before the segment gets its name. */
  init?: (mapping: Mapping) => void;
}

/** The label of a segment in messages: `shared memory "/jobs"`. */
export function segmentLabel(kind: string, name: string): string {
  return `${kind} ${JSON.stringify(name)}`;
}

function place(name: string, cname: Uint8Array): Place {
  if (HAS_SHM_DIR) return shmPlace(name.slice(1));
  return {
    file: name.slice(1),
    byName: {
      identity() {
        const fd = libc().shm_open(cname, C.O_RDONLY | C.O_CLOEXEC, 0);
        if (fd === -1) return null;
        try {
          const info = fstat(fd, "unlink()");
          return { dev: info.dev, ino: info.ino };
        } finally {
          closeFd(fd);
        }
      },
      remove: () => void libc().shm_unlink(cname),
    },
  };
}

/**
 * Creates a segment exclusively, with its space reserved, initialized before
 * anyone can open it (Linux), and maps it.
 */
export function createSegment(
  name: string,
  cname: Uint8Array,
  spec: SegmentSpec,
  call: string,
  label: string,
): Segment {
  let fd: number;
  let identity: Identity;
  let mapping: Mapping | undefined;
  if (HAS_SHM_DIR) {
    try {
      ({ fd, identity } = createShmFile(
        name.slice(1),
        spec.mode,
        spec.size,
        call,
        label,
        (newFd) => {
          // The mapping owns a descriptor of its own: createShmFile closes
          // newFd itself when it fails after this (e.g. EEXIST on linking the
          // name), and a mapping left behind would close that number again
          // later (its finalizer), by then another file of this process.
          const own = dupCloseOnExec(newFd, call);
          try {
            mapping = new Mapping(own, spec.size, true, call, label);
          } catch (error) {
            closeFd(own);
            throw error;
          }
          spec.init?.(mapping);
        },
      ));
    } catch (error) {
      mapping?.unmap();
      throw error;
    }
    closeFd(fd);
  } else {
    const lib = libc();
    fd = lib.shm_open(
      cname,
      C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_CLOEXEC,
      spec.mode,
    );
    if (fd === -1) throw lastError(call, `cannot create ${label}`);
    try {
      lib.fchmod(fd, spec.mode);
      if (lib.ftruncate(fd, BigInt(spec.size)) === -1) {
        throw lastError(call, `cannot size ${label} to ${spec.size} bytes`);
      }
      reserveSpace(fd, spec.size, call, label);
      const info = fstat(fd, call, label);
      identity = { dev: info.dev, ino: info.ino };
      mapping = new Mapping(fd, spec.size, true, call, label);
      spec.init?.(mapping);
    } catch (error) {
      mapping?.unmap();
      if (!mapping) closeFd(fd);
      lib.shm_unlink(cname);
      throw error;
    }
  }
  return {
    mapping: mapping!,
    lifecycle: new Lifecycle(label, place(name, cname), identity, true, spec),
  };
}

/**
 * Opens an existing segment and maps all of it — its size as `fstat` gives
 * it now, never more — after checking it is a regular file of at least
 * `expect.minSize` bytes.
 */
export function openSegment(
  name: string,
  cname: Uint8Array,
  readOnly: boolean,
  expect: Expect,
  call: string,
  label: string,
): Segment {
  let fd: number;
  let size: number;
  let identity: Identity;
  if (HAS_SHM_DIR) {
    const opened = openShmFile(name.slice(1), readOnly, expect, call, label);
    fd = opened.fd;
    size = opened.info.size;
    identity = { dev: opened.info.dev, ino: opened.info.ino };
  } else {
    fd = libc().shm_open(
      cname,
      (readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_CLOEXEC,
      0,
    );
    if (fd === -1) throw lastError(call, `cannot open ${label}`);
    try {
      const info = fstat(fd, call, label);
      checkObject(info, expect, call, label);
      size = info.size;
      identity = { dev: info.dev, ino: info.ino };
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }
  let mapping: Mapping;
  try {
    mapping = new Mapping(fd, size, !readOnly, call, label);
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return {
    mapping,
    lifecycle: new Lifecycle(label, place(name, cname), identity, false),
  };
}

/**
 * Opens the segment, or creates it if it does not exist (the explicit
 * open-or-create). An existing segment is never resized.
 */
export function openOrCreateSegment(
  name: string,
  cname: Uint8Array,
  readOnly: boolean,
  expect: Expect,
  spec: SegmentSpec,
  call: string,
  label: string,
): Segment {
  for (let attempt = 0;; attempt++) {
    try {
      return openSegment(name, cname, readOnly, expect, call, label);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound) || attempt > 100) {
        throw error;
      }
    }
    try {
      return createSegment(name, cname, spec, call, label);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      // Another process created it in between: open theirs.
    }
  }
}

/** Removes a segment's name, unchecked (the user named it explicitly). */
export function unlinkSegmentName(
  cname: Uint8Array,
  call: string,
  label: string,
): void {
  if (libc().shm_unlink(cname) === -1) {
    const code = errno();
    throw osError(
      code === E.EINVAL ? E.ENOENT : code,
      call,
      `cannot remove ${label}`,
    );
  }
}
