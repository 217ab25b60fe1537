// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * Signals: deliveries as Web Streams, `kill()` with clear errors, and an
 * orderly-shutdown helper.
 *
 * A signal carries no data, only a notification: SIGTERM asks a process to
 * stop, SIGHUP to reload, SIGUSR1/SIGUSR2 mean what the program says. Every
 * daemon handles at least SIGTERM and SIGHUP. This module builds on
 * `Deno.addSignalListener` and `Deno.kill`:
 *
 * - {@linkcode signals}: a `ReadableStream` of deliveries; cancelling it
 *   removes the listeners so the process can exit by itself.
 * - {@linkcode nextSignal}: await one delivery, with `signal`/`timeout`.
 * - {@linkcode kill}: `NotFound`/`PermissionDenied` naming the target;
 *   process groups with negative pids.
 * - {@linkcode onShutdown}: run cleanup once on SIGINT/SIGTERM, then exit
 *   with 128 + the signal number.
 *
 * The kernel coalesces a standard signal sent again before it was handled,
 * so count deliveries as "at least once", and acknowledge when it matters.
 * SIGKILL and SIGSTOP cannot be caught; Deno also reserves SIGSEGV, SIGILL
 * and SIGFPE.
 *
 * When not to use: to carry data, use a pipe, a socket or a queue.
 *
 * System calls: `sigaction` (through Deno's signal handling), `kill`.
 *
 * Linux vs macOS: signal numbers differ (e.g. SIGUSR1 is 10 on Linux, 30 on
 * macOS); use names, as this module does.
 *
 * Permissions: `--allow-run` for `kill()`.
 *
 * @example Count three SIGUSR1 deliveries, acknowledging each
 * ```ts
 * import { signals } from "@posix/ipc/signal";
 * import { assertEquals } from "@std/assert";
 *
 * let count = 0;
 * const send = () => Deno.kill(Deno.pid, "SIGUSR1");
 * setTimeout(send, 10);
 * for await (const _ of signals("SIGUSR1")) {
 *   if (++count === 3) break;
 *   setTimeout(send, 10); // the "acknowledgment" lets the sender send again
 * }
 * assertEquals(count, 3);
 * ```
 *
 * @module
 */

export * from "./signals.ts";
export * from "./next_signal.ts";
export * from "./kill.ts";
export * from "./on_shutdown.ts";
