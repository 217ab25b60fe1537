// Copyright 2026 the posix-ipc authors. MIT license.
// The lazy libc loader.

import { type Libc, SYMBOLS } from "./symbols.ts";

/** Environment variable that overrides the path of the C library. */
export const LIBC_PATH_ENV = "POSIX_IPC_LIBC";

let loaded: Libc | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

function candidates(): string[] {
  const list: string[] = [];
  try {
    const state = Deno.permissions.querySync({
      name: "env",
      variable: LIBC_PATH_ENV,
    }).state;
    if (state === "granted") {
      const override = Deno.env.get(LIBC_PATH_ENV);
      if (override) list.push(override);
    }
  } catch {
    // No env permission API (or denied): use the defaults only.
  }
  switch (Deno.build.os) {
    case "linux":
      list.push("libc.so.6", "libc.musl-x86_64.so.1", "libc.so");
      break;
    case "darwin":
      list.push("/usr/lib/libSystem.B.dylib");
      break;
    default:
      break;
  }
  return list;
}

/**
 * Returns the loaded libc symbols, opening the library on first use.
 *
 * The path can be overridden with the `POSIX_IPC_LIBC` environment variable
 * (read only when `--allow-env` covers it). Permission errors from
 * `Deno.dlopen` (missing `--allow-ffi`) are rethrown unchanged.
 */
export function libc(): Libc {
  if (loaded) return loaded;
  if (Deno.build.os !== "linux" && Deno.build.os !== "darwin") {
    throw new Deno.errors.NotSupported(
      `posix-ipc needs a POSIX system, this is "${Deno.build.os}"`,
    );
  }
  const tried: string[] = [];
  let lastError: unknown;
  for (const path of candidates()) {
    try {
      loaded = Deno.dlopen(path, SYMBOLS).symbols;
      break;
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable ||
        error instanceof Deno.errors.PermissionDenied
      ) {
        throw error;
      }
      tried.push(`${path} (${(error as Error).message})`);
      lastError = error;
    }
  }
  if (!loaded) {
    throw new Deno.errors.NotFound(
      `Cannot load the C library; tried: ${tried.join(", ")}. ` +
        `Set ${LIBC_PATH_ENV} to its path`,
      { cause: lastError },
    );
  }
  const location = loaded.__errno_location ?? loaded.__error;
  const pointer = location?.();
  if (!pointer) {
    throw new Deno.errors.NotSupported(
      "Cannot locate errno in the loaded C library",
    );
  }
  errnoView = new Deno.UnsafePointerView(pointer);
  return loaded;
}

/**
 * The calling thread's `errno`, read right after a failed synchronous call.
 * Never meaningful after a `nonblocking: true` call (that ran on another
 * thread).
 */
export function errno(): number {
  if (!errnoView) libc();
  return errnoView!.getInt32();
}
