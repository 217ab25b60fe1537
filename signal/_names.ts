// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: keeping the process alive while something waits for a signal.

/**
 * Keeps the event loop alive while something waits for a signal (Deno's
 * signal listeners do not), with a long no-op interval. Returns a stopper.
 */
export function keepAlive(): () => void {
  const id = setInterval(() => {}, 0x7fffffff);
  return () => clearInterval(id);
}
