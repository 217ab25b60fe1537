// Copyright 2026 the posix-ipc authors. MIT license.

import { checkMode, checkOptions, checkPath, cString } from "../_check/mod.ts";
import { lastError } from "../_ffi/errors.ts";
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
  const cpath = cString(path, call, "path");
  let rc: number;
  if (mode === undefined) {
    rc = lib.mkfifo(cpath, 0o666);
  } else {
    // The umask is narrowed around mkfifo so the FIFO is born with its mode
    // (a chmod afterwards would follow a symlink swapped in meanwhile).
    const old = lib.umask(0o777 & ~mode);
    rc = lib.mkfifo(cpath, mode);
    lib.umask(old);
  }
  if (rc === -1) {
    throw lastError(call, `cannot create FIFO ${JSON.stringify(path)}`);
  }
}

/**
 * Creates a named pipe (FIFO) at `path`: a pipe with a name in the
 * filesystem, so unrelated processes can meet there. Open it with
 * `openFifo()`, or from any program (`cat path`, `echo hi > path`). Remove it
 * with `Deno.remove` when done (or create it through
 * `openFifo(path, { create: true, unlinkOnClose: true })`).
 *
 * System calls: `umask`, `mkfifo`.
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
