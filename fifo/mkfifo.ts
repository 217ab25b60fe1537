// Copyright 2026 the posix-ipc authors. MIT license.

import { checkMode, checkOptions, checkPath, cString } from "../_check/mod.ts";
import { C } from "../_ffi/constants.ts";
import { lastError } from "../_ffi/errors.ts";
import { setExactMode, splitPath, statAt, unlinkIfSame } from "../_ffi/fd.ts";
import { libc } from "../_ffi/libc.ts";

/**
 * Options of {@linkcode mkfifo}.
 *
 * @example An owner-only FIFO
 * ```ts
 * import { mkfifo, type MkfifoOptions } from "@posix/ipc/fifo";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const options: MkfifoOptions = { mode: 0o600 };
 * await mkfifo(`${dir}/private`, options);
 * assertEquals(Deno.statSync(`${dir}/private`).mode! & 0o777, 0o600);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface MkfifoOptions {
  /**
   * Permission bits of the FIFO (0 to 0o777). When given, the FIFO is
   * created with exactly these, whatever the umask. When omitted, it gets
   * `0o666` minus the umask, as the shell's `mkfifo` gives it.
   */
  mode?: number;
}

/** Creates the FIFO; exclusive (EEXIST), with the exact mode when given. */
export function createFifo(
  path: string,
  mode: number | undefined,
  call: string,
): void {
  const lib = libc();
  const what = `FIFO ${JSON.stringify(path)}`;
  const [dir, file] = splitPath(path);
  const dirfd = lib.open(
    cString(dir, call, "path"),
    C.O_RDONLY | C.O_DIRECTORY | C.O_CLOEXEC,
    0,
  );
  if (dirfd === -1) throw lastError(call, `cannot create ${what}`);
  try {
    // Born with `mode` minus the umask: never more open than asked. The
    // bits the umask removed are then added through an O_PATH fd; the
    // umask itself is never changed (it is the whole process's).
    const cfile = cString(file, call, "path");
    if (lib.mkfifoat(dirfd, cfile, mode ?? 0o666) === -1) {
      throw lastError(call, `cannot create ${what}`);
    }
    if (mode === undefined) return;
    try {
      setExactMode(dirfd, file, mode, "fifo", call, what);
    } catch (error) {
      const info = statAt(dirfd, file, call);
      if (info?.kind === "fifo" && info.uid === lib.geteuid()) {
        unlinkIfSame(dirfd, file, info, call);
      }
      throw error;
    }
  } finally {
    lib.close(dirfd);
  }
}

/**
 * Creates a named pipe (FIFO) at `path`: a pipe with a name in the
 * filesystem, so unrelated processes can meet there. Open it with
 * `openFifo()`, or from any program (`cat path`, `echo hi > path`). Remove it
 * with `Deno.remove` when done (or create it through
 * `openFifo(path, { create: true, unlinkOnClose: true })`).
 *
 * System calls: `mkfifoat`, and `chmod` through an `O_PATH` fd when the
 * umask removed bits of `mode`.
 *
 * @param path Where to create the FIFO.
 * @param options The permission bits.
 * @throws {Deno.errors.AlreadyExists} If something exists at `path`.
 * @throws {Deno.errors.NotFound} If the parent directory does not exist.
 * @throws {Deno.errors.PermissionDenied} If the directory is not writable.
 * @throws {RangeError} If `mode` is not an integer from 0 to 0o777.
 *
 * @example Create a FIFO with exact permissions
 * ```ts
 * import { mkfifo } from "@posix/ipc/fifo";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * await mkfifo(`${dir}/fifo`, { mode: 0o600 });
 * const info = Deno.statSync(`${dir}/fifo`);
 * assertEquals(info.isFifo, true);
 * assertEquals(info.mode! & 0o777, 0o600);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function mkfifo(
  path: string | URL,
  options?: MkfifoOptions,
): Promise<void> {
  try {
    const call = "mkfifo()";
    const p = checkPath(path, call);
    const mode = checkMode(checkOptions(options, call).mode, call);
    createFifo(p, mode, call);
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}
