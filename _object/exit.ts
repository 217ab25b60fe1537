// Copyright 2026 the posix-ipc authors. MIT license.
// The one place that turns the end of the process into an orderly cleanup:
// exit hooks (objects created with unlinkOnExit) run once on every exit the
// runtime lets JavaScript see — a normal exit or `Deno.exit()` ("unload"),
// an uncaught exception ("error"), an unhandled rejection
// ("unhandledrejection"), and SIGINT, SIGTERM and SIGHUP, which then exit
// with 128 + the signal number unless this process listens for that signal
// itself (through `signals()`, `nextSignal()` or `onShutdown()` of this
// package). SIGKILL cannot be seen: `ipc rm --stale` finds what it leaves.

import { SIGNALS } from "../_ffi/constants.ts";

/** A shutdown callback and the signals it answers. */
export interface ShutdownEntry {
  callback: (signal: Deno.Signal) => void | Promise<void>;
  signals: readonly Deno.Signal[];
  timeout: number | undefined;
}

/** The signals whose default action ends the process and that exit hooks answer. */
const EXIT_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const entries = new Set<ShutdownEntry>();
const exitHooks = new Set<() => void>();
const listeners = new Map<Deno.Signal, () => void>();
/** How many other listeners of this package want each signal. */
const userListeners = new Map<Deno.Signal, number>();
let shuttingDown = false;
let eventsInstalled = false;

/** Runs every exit hook once (best effort: the process is ending). */
export function runExitHooks(): void {
  for (const hook of [...exitHooks]) {
    exitHooks.delete(hook);
    try {
      hook();
    } catch {
      // The process is exiting; nothing can be reported any more.
    }
  }
}

async function shutdown(signal: Deno.Signal): Promise<void> {
  const code = 128 + (SIGNALS[signal] ?? 0);
  const chosen = [...entries].filter((e) => e.signals.includes(signal));
  if (chosen.length === 0 && (userListeners.get(signal) ?? 0) > 0) {
    return; // the program handles this signal itself
  }
  if (shuttingDown) Deno.exit(code); // a second signal: exit at once
  shuttingDown = true;
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
  if (exitHooks.size > 0) { for (const s of EXIT_SIGNALS) out.add(s); }
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

function installEvents(): void {
  if (eventsInstalled) return;
  eventsInstalled = true;
  globalThis.addEventListener("unload", runExitHooks);
  // Neither handler prevents the default: the error is still reported and
  // the process still ends with it; the hooks just run first.
  globalThis.addEventListener("error", runExitHooks);
  globalThis.addEventListener("unhandledrejection", onUnhandledRejection);
}

/** Set while a rejection is passed on to the runtime, to end the process. */
let passingOn = false;

/**
 * An unhandled rejection ends the process right after this event's
 * listeners ran, unless one of them prevents the default; nothing runs
 * after that, not even a microtask. Listeners registered after this one
 * still get to decide: this one prevents the default for the moment
 * (noting whether another listener prevents it too), and a microtask then
 * either leaves it handled or runs the exit hooks and rejects again with
 * the same reason, which the runtime reports and exits on as it would have
 * (same message, same code frame, exit status 1).
 */
function onUnhandledRejection(event: PromiseRejectionEvent): void {
  if (passingOn) {
    passingOn = false;
    return;
  }
  if (event.defaultPrevented) return; // an earlier listener handles it
  let handledElsewhere = false;
  const prevent = event.preventDefault.bind(event);
  Object.defineProperty(event, "preventDefault", {
    value: () => {
      handledElsewhere = true;
      prevent();
    },
    configurable: true,
  });
  prevent();
  queueMicrotask(() => {
    if (handledElsewhere) return;
    runExitHooks();
    passingOn = true;
    Promise.reject(event.reason);
  });
}

/** Registers a shutdown callback (`onShutdown`); returns its unregister function. */
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
 * Notes that a listener of this package (`signals()`, `nextSignal()`) wants
 * `signal`, so exit hooks do not end the process on it. Returns the undo.
 */
export function noteSignalListener(signal: Deno.Signal): () => void {
  userListeners.set(signal, (userListeners.get(signal) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    userListeners.set(signal, (userListeners.get(signal) ?? 1) - 1);
  };
}

/**
 * Registers a synchronous cleanup that runs on every exit JavaScript can
 * see. Returns its unregister function.
 */
export function addExitHook(hook: () => void): () => void {
  installEvents();
  exitHooks.add(hook);
  sync();
  return () => {
    if (exitHooks.delete(hook)) sync();
  };
}
