// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * POSIX inter-process communication for Deno: pipes and fork-free spawning,
 * named pipes, sockets, shared memory, semaphores, signals and message
 * queues, each as its own module, all speaking Web Streams with
 * `using`-disposable handles.
 *
 * Import a mechanism's module (`@posix/ipc/pipe`, …) or everything from here.
 *
 * @example Pipe bytes through a child process
 * ```ts
 * import { spawn } from "@posix/ipc";
 * import { assertEquals } from "@std/assert";
 *
 * const child = spawn("cat", { stdin: "piped", stdout: "piped" });
 * const w = child.stdin.getWriter();
 * await w.write(new TextEncoder().encode("round trip"));
 * await w.close();
 * assertEquals(new TextDecoder().decode((await child.output()).stdout), "round trip");
 * ```
 *
 * @module
 */

export * from "./pipe/mod.ts";
export * from "./fifo/mod.ts";
export * from "./socket/mod.ts";
export * from "./shm/mod.ts";
export * from "./sem/mod.ts";
export * from "./signal/mod.ts";
export * from "./mq/mod.ts";
