// Copyright 2026 the posix-ipc authors. MIT license.
// The one place that turns SIGINT/SIGTERM (or other signals) into an orderly
// exit: shutdown callbacks (signal/onShutdown) and exit hooks (objects
// created with unlinkOnExit) run once, then the process exits with 128 + the
// signal number; a second signal during cleanup exits at once. Exit hooks
// also run at a normal exit ("unload").

import { SIGNALS } from "./constants.ts";
import { cString } from "./cstring.ts";
import { statPath } from "./fd.ts";

/** A shutdown callback and the signals it answers. */
export interface ShutdownEntry {
  callback: (signal: Deno.Signal) => void | Promise<void>;
  signals: readonly Deno.Signal[];
  timeout: number | undefined;
}

const DEFAULT_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM"];
const entries = new Set<ShutdownEntry>();
const exitHooks = new Set<() => void>();
const listeners = new Map<Deno.Signal, () => void>();
let shuttingDown = false;
let unloadInstalled = false;

function runExitHooks(): void {
  for (const hook of [...exitHooks]) {
    exitHooks.delete(hook);
    try {
      hook();
    } catch {
      // Best effort: the process is exiting.
    }
  }
}

async function shutdown(signal: Deno.Signal): Promise<void> {
  const code = 128 + (SIGNALS[signal] ?? 0);
  if (shuttingDown) Deno.exit(code); // a second signal: exit at once
  shuttingDown = true;
  const chosen = [...entries].filter((e) => e.signals.includes(signal));
  await Promise.allSettled(chosen.map(async (entry) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = Promise.resolve().then(() => entry.callback(signal));
    if (entry.timeout === undefined) return await run;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, entry.timeout);
    });
    try {
      await Promise.race([run, expired]);
    } finally {
      clearTimeout(timer);
    }
  }));
  runExitHooks();
  Deno.exit(code);
}

function wanted(): Set<Deno.Signal> {
  const out = new Set<Deno.Signal>();
  for (const e of entries) for (const s of e.signals) out.add(s);
  if (exitHooks.size > 0) { for (const s of DEFAULT_SIGNALS) out.add(s); }
  return out;
}

/** Installs the listeners now needed and removes the others, so an idle process can exit. */
function sync(): void {
  const want = wanted();
  for (const [signal, listener] of listeners) {
    if (!want.has(signal)) {
      Deno.removeSignalListener(signal, listener);
      listeners.delete(signal);
    }
  }
  for (const signal of want) {
    if (!listeners.has(signal)) {
      const listener = () => void shutdown(signal);
      Deno.addSignalListener(signal, listener);
      listeners.set(signal, listener);
    }
  }
}

/** Registers a shutdown callback; returns its unregister function. */
export function addShutdown(entry: ShutdownEntry): () => void {
  entries.add(entry);
  try {
    sync();
  } catch (error) {
    entries.delete(entry);
    sync();
    throw error;
  }
  return () => {
    if (entries.delete(entry)) sync();
  };
}

/**
 * Registers a synchronous cleanup run at exit: a normal one, or one caused by
 * SIGINT/SIGTERM (which it makes orderly). Returns its unregister function.
 */
export function addExitHook(hook: () => void): () => void {
  if (!unloadInstalled) {
    unloadInstalled = true;
    globalThis.addEventListener("unload", runExitHooks);
  }
  exitHooks.add(hook);
  sync();
  return () => {
    if (exitHooks.delete(hook)) sync();
  };
}

/**
 * Registers "unlink `path`'s object at exit" for an object this process
 * created, guarded by its inode: a newer object with the same name (made
 * after ours was unlinked) is left alone. `unlink` removes the name; `path`
 * is where the object shows in the filesystem (`/dev/shm/…`, a socket path),
 * or null when it does not (then the name is unlinked unchecked).
 * Returns the unregister function.
 */
export function unlinkAtExit(
  path: string | null,
  unlink: () => void,
): () => void {
  const ino = path === null ? null : inodeOf(path);
  return addExitHook(() => {
    if (path === null || (ino !== null && inodeOf(path) === ino)) unlink();
  });
}

function inodeOf(path: string): bigint | null {
  try {
    return statPath(cString(path), "unlinkOnExit")?.ino ?? null;
  } catch {
    return null;
  }
}
