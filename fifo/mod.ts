// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * Named pipes (FIFOs): a pipe with a name in the filesystem, so unrelated
 * processes — any program, not only Deno — can talk through it. Data is a
 * one-way byte stream, consumed as it is read; the FIFO file itself holds no
 * data and stays until removed.
 *
 * Opening a FIFO normally blocks until the other side opens it too, which in
 * Deno and Node has hung event loops and exhausted thread pools.
 * {@linkcode openFifo} opens with `O_NONBLOCK` and waits for the other side
 * with readiness notifications instead: timers keep firing, and an aborted
 * open leaves no thread behind.
 *
 * When not to use: for two-way traffic or many clients use a Unix socket; to
 * talk to your own child, an anonymous pipe (`@posix/ipc/pipe`) needs no name.
 *
 * System calls: `mkfifo`, `chmod`, `stat`, `open(O_NONBLOCK | O_CLOEXEC)`,
 * `fstat`, `poll`, `inotify_init1`/`inotify_add_watch`, `read`, `write`.
 *
 * Linux vs macOS: opening a FIFO for reading and writing at once is
 * Linux-only behaviour (POSIX leaves it undefined); on macOS a writer waiting
 * for a reader retries on a timer, as there is no inotify.
 *
 * Permissions: `--allow-ffi`.
 *
 * @example Talk to `cat` through two FIFOs
 * ```ts
 * import { mkfifo, openFifo } from "@posix/ipc/fifo";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = Deno.makeTempDirSync();
 * await mkfifo(`${dir}/in`);
 * await mkfifo(`${dir}/out`);
 * const cat = new Deno.Command("sh", { args: ["-c", `cat < ${dir}/in > ${dir}/out`] }).spawn();
 * const [input, out] = await Promise.all([
 *   openFifo(`${dir}/in`, { write: true }),
 *   openFifo(`${dir}/out`, { read: true }),
 * ]);
 * const writer = input.writable.getWriter();
 * await writer.write(new TextEncoder().encode("echo"));
 * await writer.close();
 * assertEquals(await new Response(out.readable).text(), "echo");
 * await cat.status;
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { mkfifo, type MkfifoOptions } from "./mkfifo.ts";
export * from "./open_fifo.ts";
