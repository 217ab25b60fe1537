// Copyright 2026 the posix-ipc authors. MIT license.

import {
  checkBoolean,
  checkCreateOnly,
  checkMode,
  checkName,
  checkOptions,
  checkPath,
  checkSize,
  CREATE_ONLY,
  cString,
} from "../_check/mod.ts";
import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { closedError, lastError, openError } from "../_ffi/errors.ts";
import {
  closeFd,
  fstat,
  inspectFd,
  reserveSpace,
  setCloseOnExec,
  statusFlags,
} from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { Mapping } from "../_ffi/mmap.ts";
import type { Lifecycle } from "../_object/lifecycle.ts";
import { checkObject } from "../_object/shm_dir.ts";
import type { UnlinkOptions } from "../_object/options.ts";
import {
  createSegment,
  openOrCreateSegment,
  openSegment,
  segmentLabel,
  unlinkSegmentName,
} from "./_segment.ts";

export type { UnlinkOptions };

/**
 * Options of {@linkcode SharedMemory.create}.
 *
 * @example A group-readable segment, removed when closed
 * ```ts
 * import { SharedMemory, type SharedMemoryCreateOptions } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: SharedMemoryCreateOptions = { size: 4096, mode: 0o640, unlinkOnClose: true };
 * using shm = SharedMemory.create(name, options);
 * assertEquals(Deno.statSync(`/dev/shm${name}`).mode! & 0o777, 0o640);
 * ```
 */
export interface SharedMemoryCreateOptions extends UnlinkOptions {
  /** Size in bytes (a positive integer). The space is reserved at once. */
  size: number;
  /** Permission bits, applied exactly (not reduced by the umask). Default `0o600`. */
  mode?: number;
}

/**
 * Options of {@linkcode SharedMemory.open}.
 *
 * @example Open another process's segment read-only
 * ```ts
 * import { SharedMemory, type SharedMemoryOpenOptions } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using owner = SharedMemory.create(name, { size: 16, unlinkOnClose: true });
 * new Uint8Array(owner.buffer)[0] = 7;
 * const options: SharedMemoryOpenOptions = { readOnly: true };
 * using view = SharedMemory.open(name, options);
 * assertEquals(new Uint8Array(view.buffer)[0], 7);
 * ```
 */
export interface SharedMemoryOpenOptions extends UnlinkOptions {
  /**
   * Map for reading only. The mapping is then private copy-on-write: a write
   * through `buffer` changes only this process's copy (it does not crash the
   * process, as a write to read-only memory would); until a page is written,
   * it shows the segment's current contents.
   */
  readOnly?: boolean;
  /**
   * Create the segment if it does not exist (open-or-create); `size` is then
   * required. An existing segment is opened as it is: never resized.
   * `unlinkOnClose`/`unlinkOnExit` apply only if this call created it.
   */
  create?: boolean;
  /**
   * With `create`: the size of a new segment. In every case, the smallest
   * size accepted: a smaller existing segment is refused (`InvalidData`)
   * rather than resized.
   */
  size?: number;
  /** With `create`: permission bits of a new segment. Default `0o600`. */
  mode?: number;
}

/**
 * Options of {@linkcode SharedMemory.fromFile}.
 *
 * @example Create and map a 1 MiB file
 * ```ts
 * import { SharedMemory, type SharedMemoryFileOptions } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const options: SharedMemoryFileOptions = { create: true, size: 1 << 20, mode: 0o600 };
 * const dir = Deno.makeTempDirSync();
 * using file = SharedMemory.fromFile(`${dir}/state.bin`, options);
 * assertEquals(file.size, 1 << 20);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface SharedMemoryFileOptions {
  /**
   * Bytes to map. A file created by this call gets this size (space
   * reserved); an existing file must have at least this many bytes: it is
   * never resized. Default: the file's size.
   */
  size?: number;
  /** Create the file if missing (needs `size`). Default false. */
  create?: boolean;
  /** Map for reading only (private copy-on-write, see `SharedMemoryOpenOptions`). */
  readOnly?: boolean;
  /** Permission bits of a created file. Default `0o600`. */
  mode?: number;
}

type Kind = "posix" | "file" | "anonymous";

let newShm: (
  mapping: Mapping,
  name: string,
  kind: Kind,
  lifecycle: Lifecycle | null,
) => SharedMemory;

/**
 * A segment of memory shared between processes and seen here as a
 * zero-copy `ArrayBuffer`: a write in one process is visible to every other
 * that maps it, with no system call and no copy.
 *
 * There is no built-in synchronization: coordinate with `Atomics` on the
 * buffer (they work across processes on Linux), a `Semaphore`, or use a
 * `ShmChannelWriter`/`ShmChannelReader` pair for streams.
 *
 * **After `close()` the buffer is detached**: every typed array over it
 * reads as empty (length 0) rather than touching unmapped memory, which
 * would crash the process. Do not transfer `buffer` (e.g. with a BYOB read
 * into a view of it): copy out of it instead.
 *
 * Another process that may write the segment can also shrink it; a mapping
 * then faults (SIGBUS) past the new end. Keep the default mode (`0o600`)
 * unless you trust every process that can open it.
 *
 * @example Share a counter between two opens of one segment
 * ```ts
 * import { SharedMemory } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * using a = SharedMemory.create(name, { size: 4096, unlinkOnClose: true });
 * using b = SharedMemory.open(name);
 * Atomics.add(new Int32Array(a.buffer), 0, 5);
 * assertEquals(Atomics.load(new Int32Array(b.buffer), 0), 5);
 * ```
 */
export class SharedMemory implements Disposable {
  #mapping: Mapping;
  #kind: Kind;
  #lifecycle: Lifecycle | null;
  /** The POSIX name (`/foo`), the file path, or `"memfd"` for an anonymous segment. */
  readonly name: string;
  /** Size of the mapping in bytes (the object's size when it was opened). */
  readonly size: number;

  static {
    newShm = (mapping, name, kind, lifecycle) =>
      new SharedMemory(mapping, name, kind, lifecycle);
  }

  private constructor(
    mapping: Mapping,
    name: string,
    kind: Kind,
    lifecycle: Lifecycle | null,
  ) {
    this.#mapping = mapping;
    this.#kind = kind;
    this.#lifecycle = lifecycle;
    this.name = name;
    this.size = mapping.size;
  }

  /**
   * Creates a named segment — exclusively: an existing name is an error,
   * never opened or resized — reserves its space and maps it. A failure
   * after the object was created removes it again.
   *
   * System calls: `openat(/dev/shm, O_CREAT | O_EXCL)` of a temporary name,
   * `fchmod`, `fallocate`, `mmap(MAP_SHARED)`, `linkat` to the name.
   *
   * @param name A POSIX name: `/` then up to 255 bytes without `/`.
   * @param options Size, mode, cleanup.
   * @returns The mapped segment.
   * @throws {TypeError} If the name is not a valid POSIX name.
   * @throws {RangeError} If `size` is not a positive integer, or `mode` is out of range.
   * @throws {Deno.errors.AlreadyExists} If the name exists.
   * @throws {Error} ENOSPC when `/dev/shm` has no room for `size` bytes (the message names both sizes).
   *
   * @example Create, fill, unlink
   * ```ts
   * import { SharedMemory } from "@posix/ipc/shm";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * const shm = SharedMemory.create(name, { size: 1 << 20 });
   * new Uint8Array(shm.buffer).fill(7);
   * assertEquals(shm.size, 1 << 20);
   * shm.unlink();
   * shm.close();
   * ```
   */
  static create(
    name: string,
    options: SharedMemoryCreateOptions,
  ): SharedMemory {
    const call = "SharedMemory.create()";
    const cname = checkName(name, call, "shm");
    if (options === undefined) {
      throw new TypeError(`${call}: options must be an object with a size`);
    }
    const o = checkOptions(options, call);
    const size = checkSize(o.size, "size", call);
    const mode = checkMode(o.mode, call) ?? 0o600;
    checkBoolean(o.unlinkOnClose, "unlinkOnClose", call);
    checkBoolean(o.unlinkOnExit, "unlinkOnExit", call);
    const label = segmentLabel("shared memory", name);
    const { mapping, lifecycle } = createSegment(
      name,
      cname,
      {
        size,
        mode,
        unlinkOnClose: o.unlinkOnClose,
        unlinkOnExit: o.unlinkOnExit,
      },
      call,
      label,
    );
    return newShm(mapping, name, "posix", lifecycle);
  }

  /**
   * Opens an existing named segment and maps all of it: its size as it is
   * now (`fstat`), never resized. With `create: true`, creates it if it does
   * not exist (open-or-create).
   *
   * System calls: `openat(/dev/shm, O_NOFOLLOW)`, `fstat`, `mmap`.
   *
   * @param name The POSIX name.
   * @param options `readOnly`; `create` with `size` for open-or-create.
   * @returns The mapped segment.
   * @throws {Deno.errors.NotFound} If no segment has that name (and `create` is not set).
   * @throws {Deno.errors.InvalidData} If the object is not a regular file, is empty, or is smaller than `size`.
   * @throws {TypeError} If `unlinkOnClose`/`unlinkOnExit` is given without `create` (an open removes nothing).
   *
   * @example Open-or-create: the first process creates, the others open
   * ```ts
   * import { SharedMemory } from "@posix/ipc/shm";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using first = SharedMemory.open(name, { create: true, size: 4096, unlinkOnClose: true });
   * using second = SharedMemory.open(name, { create: true, size: 4096 });
   * assertEquals([first.created, second.created], [true, false]);
   * ```
   */
  static open(
    name: string,
    options?: SharedMemoryOpenOptions,
  ): SharedMemory {
    const call = "SharedMemory.open()";
    const cname = checkName(name, call, "shm");
    const o = checkOptions(options, call);
    const readOnly = checkBoolean(o.readOnly, "readOnly", call) ?? false;
    const create = checkBoolean(o.create, "create", call) ?? false;
    checkBoolean(o.unlinkOnClose, "unlinkOnClose", call);
    checkBoolean(o.unlinkOnExit, "unlinkOnExit", call);
    const size = o.size === undefined
      ? undefined
      : checkSize(o.size, "size", call);
    const mode = checkMode(o.mode, call);
    const label = segmentLabel("shared memory", name);
    const expect = { kind: "shared memory segment", minSize: size ?? 1 };
    if (!create) {
      checkCreateOnly(o, CREATE_ONLY, create, call, "segment", " (and a size)");
      const { mapping, lifecycle } = openSegment(
        name,
        cname,
        readOnly,
        expect,
        call,
        label,
      );
      return newShm(mapping, name, "posix", lifecycle);
    }
    if (size === undefined) {
      throw new TypeError(`${call}: create needs a size`);
    }
    if (readOnly) {
      throw new TypeError(`${call}: create and readOnly exclude each other`);
    }
    const { mapping, lifecycle } = openOrCreateSegment(
      name,
      cname,
      false,
      expect,
      {
        size,
        mode: mode ?? 0o600,
        unlinkOnClose: o.unlinkOnClose,
        unlinkOnExit: o.unlinkOnExit,
      },
      call,
      label,
    );
    return newShm(mapping, name, "posix", lifecycle);
  }

  /**
   * Maps a regular file ("mapped memory"): processes that map the same file
   * share its pages, and the data persists in the file.
   *
   * System calls: `open(O_NOFOLLOW)`, `fstat`, `fallocate` (a created file),
   * `mmap`.
   *
   * @param path The file.
   * @param options Size, creation, read-only.
   * @returns The mapped file.
   * @throws {Deno.errors.NotFound} If the file is missing and `create` is not set.
   * @throws {Deno.errors.InvalidData} If the path is not a regular file, is empty, or is smaller than `size`.
   *
   * @example Map a file and write through memory
   * ```ts
   * import { SharedMemory } from "@posix/ipc/shm";
   * import { assertEquals } from "@std/assert";
   *
   * const dir = Deno.makeTempDirSync();
   * const path = `${dir}/data.bin`;
   * using file = SharedMemory.fromFile(path, { create: true, size: 16 });
   * new TextEncoder().encodeInto("mapped", new Uint8Array(file.buffer));
   * assertEquals(Deno.readTextFileSync(path).slice(0, 6), "mapped");
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  static fromFile(
    path: string | URL,
    options?: SharedMemoryFileOptions,
  ): SharedMemory {
    const call = "SharedMemory.fromFile()";
    const p = checkPath(path, call);
    const o = checkOptions(options, call);
    const readOnly = checkBoolean(o.readOnly, "readOnly", call) ?? false;
    const create = checkBoolean(o.create, "create", call) ?? false;
    const size = o.size === undefined
      ? undefined
      : checkSize(o.size, "size", call);
    const mode = checkMode(o.mode, call) ?? 0o600;
    if (create && size === undefined) {
      throw new TypeError(`${call}: create needs a size`);
    }
    if (create && readOnly) {
      throw new TypeError(`${call}: create and readOnly exclude each other`);
    }
    const lib = libc();
    const label = `file ${JSON.stringify(p)}`;
    const cpath = cString(p, call, "path");
    const access = (readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_CLOEXEC |
      C.O_NOFOLLOW | C.O_NONBLOCK;
    let created = false;
    let fd = lib.open(cpath, access, 0);
    if (fd === -1 && errno() === E.ENOENT && create) {
      fd = lib.open(cpath, access | C.O_CREAT | C.O_EXCL, mode);
      created = fd !== -1;
      if (fd === -1 && errno() === E.EEXIST) fd = lib.open(cpath, access, 0);
    }
    if (fd === -1) throw openError(errno(), call, label);
    try {
      if (created) {
        lib.fchmod(fd, mode);
        reserveSpace(fd, size!, call, label);
      }
      const info = fstat(fd, call, label);
      checkObject(
        info,
        { kind: "regular file", minSize: size ?? 1 },
        call,
        label,
      );
      return newShm(
        new Mapping(fd, size ?? info.size, !readOnly, call, label),
        p,
        "file",
        null,
      );
    } catch (error) {
      closeFd(fd);
      if (created) lib.unlink(cpath);
      throw error;
    }
  }

  /**
   * Creates an anonymous segment (`memfd_create`, Linux): no name, freed when
   * the last process closes it. It is sealed against shrinking
   * (`F_SEAL_SHRINK`), so no process it is given to can make this mapping
   * fault. Share it by handing its `fd` to a child
   * (`spawn(…, { fds: { 3: shm } })`, where the child calls
   * `SharedMemory.fromFd(3)`) or by passing it over a socket (`sendFds`).
   *
   * @param size Size in bytes (space reserved at once).
   * @returns The mapped segment; `fd` is the memfd.
   * @throws {RangeError} If `size` is not a positive integer.
   * @throws {Deno.errors.NotSupported} Where memfd_create is missing (macOS).
   *
   * @example An anonymous segment shared with a child through fd 3
   * ```ts
   * import { SharedMemory } from "@posix/ipc/shm";
   * import { spawn } from "@posix/ipc/pipe";
   * import { assertEquals } from "@std/assert";
   *
   * using shm = SharedMemory.anonymous(4096);
   * // The child writes into fd 3 at offset 0.
   * await spawn("sh", { args: ["-c", "printf hi >&3"], fds: { 3: shm } }).status;
   * assertEquals(new TextDecoder().decode(new Uint8Array(shm.buffer, 0, 2)), "hi");
   * ```
   */
  static anonymous(size: number): SharedMemory {
    const call = "SharedMemory.anonymous()";
    checkSize(size, "size", call);
    const lib = libc();
    if (!IS_LINUX || !lib.memfd_create) {
      throw new Deno.errors.NotSupported(`${call}: memfd_create is Linux-only`);
    }
    const fd = lib.memfd_create(
      cString("posix-ipc"),
      C.MFD_CLOEXEC | C.MFD_ALLOW_SEALING,
    );
    if (fd === -1) throw lastError(call, "cannot create a memfd");
    const label = `anonymous shared memory (fd ${fd})`;
    try {
      if (lib.ftruncate(fd, BigInt(size)) === -1) {
        throw lastError(call, `cannot size ${label} to ${size} bytes`);
      }
      reserveSpace(fd, size, call, label);
      // No process it is handed to can shrink it under this mapping (SIGBUS).
      if (lib.fcntl(fd, C.F_ADD_SEALS, C.F_SEAL_SHRINK) === -1) {
        throw lastError(call, `cannot seal ${label} against shrinking`);
      }
      return newShm(
        new Mapping(fd, size, true, call, label),
        "memfd",
        "anonymous",
        null,
      );
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }

  /**
   * Adopts an inherited descriptor of shared memory — a memfd, a POSIX
   * segment's fd or a regular file, e.g. fd 3 placed by a parent's `spawn` or
   * received with `receiveFds()` — and maps all of it (its size as `fstat`
   * gives it now). The fd is made close-on-exec and owned (closed) by the
   * returned handle. An adopted segment removes nothing when closed.
   *
   * @param fd The descriptor.
   * @param options `readOnly` to map without write access.
   * @returns The mapped segment.
   * @throws {TypeError} If `fd` is not shared memory or a regular file (the message says what it is), or is open read-only and `readOnly` is not set.
   * @throws {Deno.errors.InvalidData} If it is empty.
   *
   * @example Adopt fd 3 in a child
   * ```ts ignore
   * import { SharedMemory } from "@posix/ipc/shm";
   *
   * using shm = SharedMemory.fromFd(3);
   * new Uint8Array(shm.buffer)[0] = 1;
   * ```
   */
  static fromFd(
    fd: number,
    options?: Pick<SharedMemoryOpenOptions, "readOnly">,
  ): SharedMemory {
    const call = "SharedMemory.fromFd()";
    const info = inspectFd(fd, call);
    const o = checkOptions(options, call);
    const readOnly = checkBoolean(o.readOnly, "readOnly", call) ?? false;
    const label = `fd ${fd}`;
    if (info.kind !== "file") {
      throw new TypeError(
        `${call}: fd ${fd} is a ${info.kind}, not shared memory or a regular file`,
      );
    }
    checkObject(
      info,
      { kind: "shared memory segment", minSize: 1 },
      call,
      label,
    );
    if (!readOnly && (statusFlags(fd, call) & 3) === C.O_RDONLY) {
      throw new TypeError(
        `${call}: fd ${fd} is open read-only; pass { readOnly: true }`,
      );
    }
    setCloseOnExec(fd, call);
    return newShm(
      new Mapping(fd, info.size, !readOnly, call, label),
      `fd ${fd}`,
      "file",
      null,
    );
  }

  /**
   * The mapped memory, zero-copy.
   *
   * @throws {Deno.errors.BadResource} If the segment is closed, or its buffer was transferred away.
   */
  get buffer(): ArrayBuffer {
    const buffer = this.#mapping.view("SharedMemory.buffer");
    if (!buffer) throw closedError("SharedMemory.buffer", this.#label());
    if (buffer.detached) {
      throw new Deno.errors.BadResource(
        `SharedMemory.buffer: the buffer of ${this.#label()} was transferred (e.g. by a BYOB read into a view of it); copy out of it instead`,
      );
    }
    return buffer;
  }

  /**
   * The descriptor kept with the mapping (a memfd for anonymous segments),
   * to pass to a child or over a socket; -1 once closed. Passing it to
   * `spawn` does not give it up: this process keeps its mapping.
   */
  get fd(): number {
    return this.#mapping.fd;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#mapping.unmapped;
  }

  /** Whether this handle created the segment (false: opened or adopted it). */
  get created(): boolean {
    return this.#lifecycle?.created ?? false;
  }

  #label(): string {
    return this.#kind === "posix"
      ? segmentLabel("shared memory", this.name)
      : this.#kind === "anonymous"
      ? "anonymous shared memory"
      : `mapped ${this.name}`;
  }

  /**
   * Unmaps the memory and closes the descriptor; `buffer` and every view of
   * it become empty. Removes the name when this handle created the segment
   * with `unlinkOnClose` (and the name still refers to it). Idempotent;
   * always releases what it owns.
   */
  close(): void {
    if (this.closed) return;
    try {
      this.#mapping.unmap();
    } finally {
      this.#lifecycle?.close("SharedMemory.close()");
    }
  }

  /**
   * Removes this segment's name, if it still refers to this segment; the
   * mapping stays usable until `close()`. Unlink once, from one process.
   *
   * @throws {Deno.errors.NotFound} If the name is gone or now names another segment.
   * @throws {TypeError} For file-backed and anonymous segments.
   *
   * @example Remove the name while still mapped
   * ```ts
   * import { SharedMemory } from "@posix/ipc/shm";
   * import { assertThrows } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using shm = SharedMemory.create(name, { size: 64 });
   * shm.unlink();
   * assertThrows(() => SharedMemory.open(name), Deno.errors.NotFound);
   * new Uint8Array(shm.buffer)[0] = 1; // still mapped here
   * ```
   */
  unlink(): void {
    const call = "SharedMemory.unlink()";
    if (!this.#lifecycle) {
      throw new TypeError(
        `${call}: ${this.#label()} has no POSIX name to remove`,
      );
    }
    this.#lifecycle.unlink(call);
  }

  /** Same as {@linkcode SharedMemory.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Removes a named shared memory segment (or a `ShmChannel`'s segment) by
 * name, whoever created it: what `shm_unlink` does. Processes that have it
 * mapped keep their mapping; the memory is freed when the last one unmaps
 * it. Unlink once, from one process. To remove only the segment a handle
 * created, use that handle's `unlink()` (it checks identity first).
 *
 * @param name The POSIX name.
 * @throws {Deno.errors.NotFound} If no segment has that name.
 * @throws {TypeError} If the name is not a valid POSIX name.
 *
 * @example Clean up after a crashed run
 * ```ts
 * import { SharedMemory, unlinkSharedMemory } from "@posix/ipc/shm";
 * import { assertThrows } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * SharedMemory.create(name, { size: 64 }).close();
 * unlinkSharedMemory(name);
 * assertThrows(() => SharedMemory.open(name), Deno.errors.NotFound);
 * ```
 */
export function unlinkSharedMemory(name: string): void {
  const call = "unlinkSharedMemory()";
  const cname = checkName(name, call, "shm");
  unlinkSegmentName(cname, call, segmentLabel("shared memory", name));
}
