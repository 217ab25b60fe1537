// Copyright 2026 the posix-ipc authors. MIT license.
// The lazy libc loader.

import { type Libc, SYMBOLS } from "./symbols.ts";

/** Environment variable that overrides the path of the C library. */
export const LIBC_PATH_ENV = "POSIX_IPC_LIBC";

let loaded: Libc | undefined;
let errnoAddress = 0n;
const errnoValue = new Int32Array(1);

/** The path the user set in POSIX_IPC_LIBC, if it may be read. */
function override(): string | undefined {
  try {
    const state = Deno.permissions.querySync({
      name: "env",
      variable: LIBC_PATH_ENV,
    }).state;
    if (state === "granted") return Deno.env.get(LIBC_PATH_ENV) || undefined;
  } catch {
    // No permission API: the defaults only.
  }
  return undefined;
}

/** Where distributions keep libc: tried first when --allow-ffi names one of them. */
const KNOWN_PATHS = [
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/aarch64-linux-gnu/libc.so.6",
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/usr/lib/aarch64-linux-gnu/libc.so.6",
  "/lib64/libc.so.6",
  "/usr/lib64/libc.so.6",
  "/usr/lib/libc.so.6",
  "/lib/libc.musl-x86_64.so.1",
  "/lib/ld-musl-aarch64.so.1",
];

function defaults(): string[] {
  switch (Deno.build.os) {
    case "linux":
      return [
        // A narrow --allow-ffi=<absolute libc path> is honoured as is.
        ...KNOWN_PATHS.filter((path) => ffiState(path) === "granted"),
        "libc.so.6",
        "libc.musl-x86_64.so.1",
        "libc.so",
      ];
    case "darwin":
      return ["/usr/lib/libSystem.B.dylib"];
    default:
      return [];
  }
}

function ffiState(path: string): Deno.PermissionState {
  try {
    return Deno.permissions.querySync({ name: "ffi", path }).state;
  } catch {
    return "prompt";
  }
}

/** The narrow permission that works, for messages. */
function narrowHint(): string {
  const path = Deno.build.os === "darwin"
    ? "/usr/lib/libSystem.B.dylib"
    : "/lib/x86_64-linux-gnu/libc.so.6";
  return `Either grant --allow-ffi (which, in practice, grants everything), ` +
    `or the narrow form --allow-ffi=${path}` +
    (Deno.build.os === "linux"
      ? ` (your libc's path: ldconfig -p | grep libc.so.6; for a path of your own, ` +
        `also set ${LIBC_PATH_ENV} to it and grant --allow-env=${LIBC_PATH_ENV})`
      : "");
}

/**
 * Returns the loaded libc symbols, opening the library on first use.
 *
 * The path can be overridden with the `POSIX_IPC_LIBC` environment variable
 * (read only when `--allow-env` covers it). Each candidate is tried only if
 * the FFI permission allows it (one prompt at most); when permission is what
 * stops every candidate, the error says which narrow grant works.
 */
export function libc(): Libc {
  if (loaded) return loaded;
  if (Deno.build.os !== "linux" && Deno.build.os !== "darwin") {
    throw new Deno.errors.NotSupported(
      `posix-ipc needs a POSIX system, this is "${Deno.build.os}"`,
    );
  }
  const chosen = override();
  const candidates = chosen ? [chosen] : defaults();
  const tried: string[] = [];
  let permissionError: unknown;
  let lastError: unknown;
  let prompted = false;
  for (const path of candidates) {
    const state = ffiState(path);
    if (state === "denied" || (state === "prompt" && prompted)) {
      tried.push(`${path} (no --allow-ffi for it)`);
      permissionError ??= new Deno.errors.NotCapable(
        `Requires ffi access to "${path}"`,
      );
      continue;
    }
    if (state === "prompt") prompted = true;
    try {
      loaded = Deno.dlopen(path, SYMBOLS).symbols;
      break;
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable ||
        error instanceof Deno.errors.PermissionDenied
      ) {
        permissionError = error;
        tried.push(`${path} (no --allow-ffi for it)`);
      } else {
        tried.push(`${path} (${(error as Error).message})`);
        lastError = error;
      }
    }
  }
  if (!loaded) {
    if (permissionError) {
      throw new Deno.errors.NotCapable(
        `posix-ipc cannot load the C library: tried ${
          tried.join(", ")
        }. ${narrowHint()}`,
        { cause: permissionError },
      );
    }
    throw new Deno.errors.NotFound(
      `posix-ipc cannot load the C library; tried: ${tried.join(", ")}. ` +
        `Set ${LIBC_PATH_ENV} to its path (and allow reading it: --allow-env=${LIBC_PATH_ENV})`,
      { cause: lastError },
    );
  }
  const location = loaded.__errno_location ?? loaded.__error;
  const address = location ? BigInt(location()) : 0n;
  if (address === 0n) {
    throw new Deno.errors.NotSupported(
      "posix-ipc: cannot locate errno in the loaded C library",
    );
  }
  errnoAddress = address;
  return loaded;
}

/**
 * The calling thread's `errno`, read right after a failed synchronous call.
 * Never meaningful after a `nonblocking: true` call (that ran on another
 * thread).
 */
export function errno(): number {
  const lib = libc();
  // Read through libc (not Deno's pointer API, which needs an unscoped
  // --allow-ffi); the copy itself never changes errno.
  lib.copy_from(errnoValue, errnoAddress, 4n);
  return errnoValue[0]!;
}
