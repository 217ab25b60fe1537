// Copyright 2026 the posix-ipc authors. MIT license.

import { cString, describe, toPath } from "../_ffi/cstring.ts";
import { lastError } from "../_ffi/errno.ts";
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
   * Permission bits of the FIFO. When given, they are applied exactly (with
   * `chmod` after creation, so the process umask does not clear any). When
   * omitted, the FIFO gets `0o666` minus the umask, as the shell's `mkfifo`
   * gives it.
   */
  mode?: number;
}

/**
 * Creates a named pipe (FIFO) at `path`: a pipe with a name in the
 * filesystem, so unrelated processes can meet there. Open it with
 * `openFifo()`, or from any program (`cat path`, `echo hi > path`). Remove it
 * with `Deno.remove` when done.
 *
 * System calls: `mkfifo`, `chmod` (when `mode` is given).
 *
 * @param path Where to create the FIFO.
 * @param options The permission bits.
 * @throws {Deno.errors.AlreadyExists} If something exists at `path`.
 * @throws {Deno.errors.NotFound} If the parent directory does not exist.
 * @throws {Deno.errors.PermissionDenied} If the directory is not writable.
 * @throws {RangeError} If `mode` is not an integer from 0 to 0o7777.
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
  options: MkfifoOptions = {},
): Promise<void> {
  try {
    const p = toPath(path, "mkfifo()");
    const { mode } = options ?? {};
    if (
      mode !== undefined &&
      (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
    ) {
      throw new RangeError(
        `mkfifo(): mode must be an integer from 0 to 0o7777, got ${
          describe(mode)
        }`,
      );
    }
    const lib = libc();
    const cpath = cString(p, "path");
    if (lib.mkfifo(cpath, mode ?? 0o666) === -1) {
      throw lastError(`Cannot create FIFO ${JSON.stringify(p)}`);
    }
    if (mode !== undefined && lib.chmod(cpath, mode) === -1) {
      const error = lastError(
        `Cannot set the mode of FIFO ${JSON.stringify(p)}`,
      );
      lib.unlink(cpath);
      throw error;
    }
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}
