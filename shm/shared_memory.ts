// Copyright 2026 the posix-ipc authors. MIT license.

import { C, IS_LINUX } from "../_ffi/constants.ts";
import { cString, describe, toPath } from "../_ffi/cstring.ts";
import { lastError } from "../_ffi/errno.ts";
import { closeFd, fstat, inspectFd, setCloseOnExec } from "../_ffi/fd.ts";
import { libc } from "../_ffi/libc.ts";
import { Mapping } from "../_ffi/mmap.ts";
import { checkModeBits, checkSize, posixName } from "../_ffi/names.ts";
import { unlinkAtExit } from "../_ffi/shutdown.ts";
import { createSegment, openSegment } from "./_segment.ts";

/**
 * Options of {@linkcode SharedMemory.create}.
 *
 * @example An exclusive, group-readable segment
 * ```ts
 * import { SharedMemory, type SharedMemoryCreateOptions } from "@posix/ipc/shm";
 * import { assertEquals } from "@std/assert";
 *
 * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
 * const options: SharedMemoryCreateOptions = { size: 4096, mode: 0o640, exclusive: true, unlinkOnClose: true };
 * using shm = SharedMemory.create(name, options);
 * assertEquals(Deno.statSync(`/dev/shm${name}`).mode! & 0o777, 0o640);
 * ```
 */
export interface SharedMemoryCreateOptions {
  /** Size in bytes (a positive integer). */
  size: number;
  /** Permission bits, applied exactly (not reduced by the umask). Default `0o600`. */
  mode?: number;
  /** Fail with `AlreadyExists` if the name exists. Default false: open it and resize it to `size`. */
  exclusive?: boolean;
  /** `close()` (and `using`) also unlinks the name. Default false. */
  unlinkOnClose?: boolean;
  /**
   * Unlink the name when this process exits — normally, or on SIGINT/SIGTERM
   * (which then run this cleanup and exit with 128 + the signal number, as
   * `onShutdown` does) — unless it was unlinked already. A process killed
   * with SIGKILL cannot clean up: `ipc rm --stale` finds what it left.
   * Default false.
   */
  unlinkOnExit?: boolean;
}

/**
 * Options of {@linkcode SharedMemory.open}.
 *
 * @example Map another process's segment read-only
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
export interface SharedMemoryOpenOptions {
  /**
   * Map for reading only. The mapping is then private copy-on-write: a write
   * through `buffer` changes only this process's copy (it does not crash the
   * process, as a write to read-only memory would); until a page is written,
   * it shows the segment's current contents.
   */
  readOnly?: boolean;
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
  /** Size to map; the file is extended (never shrunk) to it. Default: the file's size. */
  size?: number;
  /** Create the file if missing (needs `size`). Default false. */
  create?: boolean;
  /** Map for reading only (private copy-on-write, see `SharedMemoryOpenOptions`). */
  readOnly?: boolean;
  /** Permission bits of a created file. Default `0o600`. */
  mode?: number;
}

let newShm: (
  mapping: Mapping,
  name: string,
  kind: "posix" | "file" | "anonymous",
  unlinkOnClose: boolean,
) => SharedMemory;

/**
 * A segment of memory shared between processes and seen here as a
 * zero-copy `ArrayBuffer`: a write in one process is visible to every other
 * that maps it, with no system call and no copy.
 *
 * There is no built-in synchronization: coordinate with `Atomics` on the
 * buffer (they work across processes on Linux), a `Semaphore`, or use
 * `ShmChannel` for streams.
 *
 * **After `close()` the buffer is detached**: every typed array over it
 * reads as empty (length 0) rather than touching unmapped memory, which
 * would crash the process. Keep no copies of `buffer.transfer()`ed buffers.
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
  #kind: "posix" | "file" | "anonymous";
  #unlinkOnClose: boolean;
  #forgetExit: (() => void) | undefined;
  /** The POSIX name (`/foo`), the file path, or `"memfd"` for an anonymous segment. */
  readonly name: string;
  /** Size of the mapping in bytes. */
  readonly size: number;

  static {
    newShm = (mapping, name, kind, unlinkOnClose) =>
      new SharedMemory(mapping, name, kind, unlinkOnClose);
  }

  private constructor(
    mapping: Mapping,
    name: string,
    kind: "posix" | "file" | "anonymous",
    unlinkOnClose: boolean,
  ) {
    this.#mapping = mapping;
    this.#kind = kind;
    this.#unlinkOnClose = unlinkOnClose;
    this.name = name;
    this.size = mapping.size;
  }

  /**
   * Creates (or, unless `exclusive`, opens and resizes) a named segment and
   * maps it. A failure after the object was created removes it again.
   *
   * System calls: `shm_open(O_CREAT)`, `fchmod`, `ftruncate`, `mmap(MAP_SHARED)`.
   *
   * @param name A POSIX name: `/` then up to 254 bytes without `/`.
   * @param options Size, mode, exclusivity.
   * @returns The mapped segment.
   * @throws {TypeError} If the name is not a valid POSIX name.
   * @throws {RangeError} If `size` is not a positive integer, or `mode` is out of range.
   * @throws {Deno.errors.AlreadyExists} If `exclusive` and the name exists.
   * @throws {Deno.errors.PermissionDenied} If the existing segment's mode forbids it.
   *
   * @example Create, fill, unlink
   * ```ts
   * import { SharedMemory } from "@posix/ipc/shm";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * const shm = SharedMemory.create(name, { size: 1 << 20, exclusive: true });
   * new Uint8Array(shm.buffer).fill(7);
   * assertEquals(shm.size, 1 << 20);
   * shm.close();
   * SharedMemory.unlink(name);
   * ```
   */
  static create(
    name: string,
    options: SharedMemoryCreateOptions,
  ): SharedMemory {
    const call = "SharedMemory.create()";
    const cname = posixName(name, call);
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `${call}: options must be an object with a size, got ${
          describe(options)
        }`,
      );
    }
    const size = checkSize(options.size, "size", call);
    const mode = checkModeBits(options.mode, call) ?? 0o600;
    const mapping = createSegment(
      cname,
      name,
      size,
      mode,
      options.exclusive === true,
    );
    const shm = newShm(mapping, name, "posix", options.unlinkOnClose === true);
    if (options.unlinkOnExit) {
      shm.#forgetExit = unlinkAtExit(
        IS_LINUX ? `/dev/shm${name}` : null,
        () => libc().shm_unlink(cname),
      );
    }
    return shm;
  }

  /**
   * Opens an existing named segment and maps all of it (its size comes from
   * `fstat`).
   *
   * System calls: `shm_open`, `fstat`, `mmap`.
   *
   * @param name The POSIX name.
   * @param options `readOnly` to map without write access.
   * @returns The mapped segment.
   * @throws {Deno.errors.NotFound} If no segment has that name.
   * @throws {Deno.errors.InvalidData} If the segment is empty (its creator has not sized it yet).
   *
   * @example Open read-only
   * ```ts
   * import { SharedMemory } from "@posix/ipc/shm";
   * import { assertEquals } from "@std/assert";
   *
   * const name = `/doc-${crypto.randomUUID().slice(0, 8)}`;
   * using owner = SharedMemory.create(name, { size: 8, unlinkOnClose: true });
   * new Uint8Array(owner.buffer)[0] = 9;
   * using reader = SharedMemory.open(name, { readOnly: true });
   * assertEquals(new Uint8Array(reader.buffer)[0], 9);
   * ```
   */
  static open(
    name: string,
    options: SharedMemoryOpenOptions = {},
  ): SharedMemory {
    const call = "SharedMemory.open()";
    const cname = posixName(name, call);
    const readOnly = options?.readOnly === true;
    return newShm(openSegment(cname, name, readOnly), name, "posix", false);
  }

  /**
   * Removes a named segment from the system. Processes that have it mapped
   * keep their mapping; the memory is freed when the last one unmaps it.
   * Unlink once, from one process.
   *
   * @param name The POSIX name.
   * @throws {Deno.errors.NotFound} If no segment has that name.
   */
  static unlink(name: string): void {
    const call = "SharedMemory.unlink()";
    const cname = posixName(name, call);
    if (libc().shm_unlink(cname) === -1) {
      throw lastError(`Cannot unlink shared memory ${JSON.stringify(name)}`);
    }
  }

  /**
   * Maps a regular file ("mapped memory"): processes that map the same file
   * share its pages, and the data persists in the file.
   *
   * System calls: `open`, `fstat`, `ftruncate` (to grow), `mmap`.
   *
   * @param path The file.
   * @param options Size, creation, read-only.
   * @returns The mapped file.
   * @throws {Deno.errors.NotFound} If the file is missing and `create` is not set.
   * @throws {TypeError} If the path is not a regular file.
   * @throws {Deno.errors.InvalidData} If the file is empty and no `size` is given.
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
    options: SharedMemoryFileOptions = {},
  ): SharedMemory {
    const call = "SharedMemory.fromFile()";
    const p = toPath(path, call);
    const readOnly = options.readOnly === true;
    const size = options.size === undefined
      ? undefined
      : checkSize(options.size, "size", call);
    const mode = checkModeBits(options.mode, call) ?? 0o600;
    if (options.create && size === undefined) {
      throw new TypeError(`${call}: create needs a size`);
    }
    if (options.create && readOnly) {
      throw new TypeError(`${call}: create and readOnly exclude each other`);
    }
    const lib = libc();
    const action = `Cannot map file ${JSON.stringify(p)}`;
    const flags = (readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_CLOEXEC |
      (options.create ? C.O_CREAT : 0);
    const fd = lib.open(cString(p, "path"), flags, mode);
    if (fd === -1) throw lastError(action);
    try {
      const info = fstat(fd, action);
      if (info.kind !== "file") {
        throw new TypeError(
          `${call}: ${JSON.stringify(p)} is a ${info.kind}, not a regular file`,
        );
      }
      let length = size ?? info.size;
      if (length === 0) {
        throw new Deno.errors.InvalidData(
          `${action}: the file is empty; give a size`,
        );
      }
      if (size !== undefined && info.size < size) {
        if (readOnly) {
          throw new RangeError(
            `${call}: the file has ${info.size} bytes, fewer than size (${size}), and is opened read-only`,
          );
        }
        if (lib.ftruncate(fd, BigInt(size)) === -1) {
          throw lastError(`${action}: cannot grow it to ${size} bytes`);
        }
      }
      length = size ?? info.size;
      return newShm(
        new Mapping(fd, length, !readOnly, `${action}: cannot map it`),
        p,
        "file",
        false,
      );
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }

  /**
   * Creates an anonymous segment (`memfd_create`, Linux): no name, freed when
   * the last process closes it. Share it by handing its `fd` to a child
   * (`spawn(…, { fds: { 3: shm } })`, where the child calls
   * `SharedMemory.fromFd(3)`) or by passing it over a socket (`sendFds`).
   *
   * @param size Size in bytes.
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
    const fd = lib.memfd_create(cString("posix-ipc"), C.MFD_CLOEXEC);
    if (fd === -1) throw lastError(`${call}: cannot create a memfd`);
    try {
      if (lib.ftruncate(fd, BigInt(size)) === -1) {
        throw lastError(`${call}: cannot size it to ${size} bytes`);
      }
      return newShm(
        new Mapping(fd, size, true, `${call}: cannot map ${size} bytes`),
        "memfd",
        "anonymous",
        false,
      );
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }

  /**
   * Adopts an inherited descriptor of shared memory — a memfd, a POSIX
   * segment's fd or a regular file, e.g. fd 3 placed by a parent's `spawn` or
   * received with `receiveFds()` — and maps all of it. The fd is checked with
   * `fstat`, made close-on-exec, and owned (closed) by the returned handle.
   *
   * @param fd The descriptor.
   * @param options `readOnly` to map without write access.
   * @returns The mapped segment.
   * @throws {TypeError} If `fd` is not shared memory or a regular file (the message says what it is).
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
    options: SharedMemoryOpenOptions = {},
  ): SharedMemory {
    const call = "SharedMemory.fromFd()";
    const info = inspectFd(fd, call);
    if (info.kind !== "file") {
      throw new TypeError(
        `${call}: fd ${fd} is a ${info.kind}, not shared memory or a regular file`,
      );
    }
    if (info.size === 0) {
      throw new Deno.errors.InvalidData(`${call}: fd ${fd} has size 0`);
    }
    const readOnly = options.readOnly === true;
    const accmode = libc().fcntl(fd, C.F_GETFL, 0) & 3;
    if (!readOnly && accmode === C.O_RDONLY) {
      throw new TypeError(
        `${call}: fd ${fd} is open read-only; pass { readOnly: true }`,
      );
    }
    setCloseOnExec(fd);
    return newShm(
      new Mapping(fd, info.size, !readOnly, `${call}: cannot map fd ${fd}`),
      `fd ${fd}`,
      "file",
      false,
    );
  }

  /**
   * The mapped memory, zero-copy. Detached (length 0) once closed.
   *
   * @throws {Deno.errors.BadResource} If the segment is closed.
   */
  get buffer(): ArrayBuffer {
    const buffer = this.#mapping.buffer;
    if (!buffer) {
      throw new Deno.errors.BadResource(
        `SharedMemory ${JSON.stringify(this.name)} is closed`,
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
    return this.#mapping.buffer === null;
  }

  /**
   * Unmaps the memory and closes the descriptor; `buffer` and every view of
   * it become empty. Also unlinks the name when created with
   * `unlinkOnClose`. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.#mapping.unmap();
    if (this.#unlinkOnClose && this.#kind === "posix") {
      libc().shm_unlink(posixName(this.name, "SharedMemory.close()"));
      this.#forgetExit?.();
    }
  }

  /**
   * Removes this segment's name (see {@linkcode SharedMemory.unlink}); the
   * mapping stays usable until `close()`.
   *
   * @throws {Deno.errors.NotFound} If the name is already gone.
   * @throws {TypeError} For file-backed and anonymous segments.
   */
  unlink(): void {
    if (this.#kind !== "posix") {
      throw new TypeError(
        `SharedMemory.unlink(): ${this.name} is not a named POSIX segment`,
      );
    }
    SharedMemory.unlink(this.name);
    this.#forgetExit?.();
  }

  /** Same as {@linkcode SharedMemory.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
