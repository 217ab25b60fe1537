// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * Anonymous pipes, fork-free process spawning and native pipelines.
 *
 * A pipe is a one-way kernel byte channel with no name: it connects a process
 * to the children it starts. {@linkcode pipe} makes one whose ends are Web
 * Streams; {@linkcode spawn} starts a program with `posix_spawnp` (no fork of
 * the Deno process) and connects its stdio and extra fds (3, 4, …) to pipe
 * ends, sockets or raw fds; {@linkcode pipeline} connects programs to each
 * other with kernel pipes so bytes between stages never enter JavaScript.
 *
 * When not to use: between unrelated processes use a FIFO or a Unix socket;
 * for request/response in both directions use a socket pair.
 *
 * Children start with default signal dispositions and an empty signal mask
 * (Deno ignores SIGPIPE, and `posix_spawn` would pass that on), so `yes | head`
 * ends with `yes` killed by SIGPIPE, as in a shell.
 *
 * System calls: `pipe2`, `fcntl` (`F_SETPIPE_SZ`, `F_DUPFD_CLOEXEC`),
 * `read`/`write` on `O_NONBLOCK` fds with `poll` for readiness,
 * `posix_spawnp`, `pidfd_open`, `waitpid`, `pidfd_send_signal`.
 *
 * Linux vs macOS: `F_SETPIPE_SZ`, `pipe2` and pidfds are Linux-only; on macOS
 * the pipe size option is ignored, `pipe` + `fcntl` replace `pipe2`, and child
 * exit is polled with `waitpid(WNOHANG)`.
 *
 * Permissions: `--allow-ffi` (which, in practice, grants everything).
 *
 * @example Run a shell-style pipeline and read its output
 * ```ts
 * import { pipeline } from "@posix/ipc/pipe";
 * import { assertEquals } from "@std/assert";
 *
 * const p = pipeline([["echo", "hello"], ["tr", "a-z", "A-Z"]], { stdout: "piped" });
 * assertEquals(await new Response(p.stdout).text(), "HELLO\n");
 * await p.status;
 * ```
 *
 * @module
 */

export * from "./pipe.ts";
export {
  ChildProcess,
  type ChildStatus,
  type FdSource,
  type FileTarget,
  type KillOptions,
  type ListenFd,
  spawn,
  type SpawnOptions,
  type SpawnOutput,
  type StdioOption,
  type SubprocessReadable,
} from "./spawn.ts";
export * from "./pipeline.ts";
export * from "./inherited_fds.ts";
