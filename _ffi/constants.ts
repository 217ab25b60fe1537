// Copyright 2026 the posix-ipc authors. MIT license.
// The constants of the running OS.

import { DARWIN, DARWIN_ERRNO, DARWIN_SIGNALS } from "./constants_darwin.ts";
import { LINUX, LINUX_ERRNO, LINUX_SIGNALS } from "./constants_linux.ts";

/** Whether the running system is Linux. */
export const IS_LINUX: boolean = Deno.build.os === "linux";

/** Constants of the running OS (Linux values elsewhere, for type checking). */
export const C: typeof LINUX | typeof DARWIN = Deno.build.os === "darwin"
  ? DARWIN
  : LINUX;

/** Errno number → name for the running OS. */
export const ERRNO_NAMES: Readonly<Record<number, string>> =
  Deno.build.os === "darwin"
    ? {
      ...Object.fromEntries(
        Object.entries(LINUX_ERRNO).filter(([n]) => Number(n) <= 34),
      ),
      ...DARWIN_ERRNO,
    }
    : LINUX_ERRNO;

const ERRNO_NUMBERS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(ERRNO_NAMES).map(([n, name]) => [name, Number(n)]),
);

function errnoNumbers<K extends string>(
  names: readonly K[],
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const name of names) out[name] = ERRNO_NUMBERS[name] ?? -1;
  return out;
}

/** The errno numbers the code compares against, for the running OS. */
export const E = errnoNumbers(
  [
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EBUSY",
    "EEXIST",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "EMFILE",
    "ENFILE",
    "ENOSPC",
    "EPIPE",
    "ENXIO",
    "ENAMETOOLONG",
    "ENOSYS",
    "ELOOP",
    "ENOTSOCK",
    "EMSGSIZE",
    "EOPNOTSUPP",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ECONNRESET",
    "ENOTCONN",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EINPROGRESS",
    "ECONNABORTED",
    "EOVERFLOW",
    "EPROTOTYPE",
    "ENODEV",
    "EDQUOT",
  ] as const,
);

/** Signal name → number for the running OS. */
export const SIGNALS: Readonly<Record<string, number>> =
  Deno.build.os === "darwin" ? DARWIN_SIGNALS : LINUX_SIGNALS;
