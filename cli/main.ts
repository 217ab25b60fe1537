// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * The `ipc` command: list POSIX IPC objects on this machine and who holds
 * them, remove leaked ones, and measure every mechanism.
 *
 * ```sh
 * deno task ipc ls [--kind shm|sem|mq|fifo|unix] [--dir DIR] [--json]
 * deno task ipc rm NAME… [--kind KIND] [--stale] [--yes] [--dir DIR]
 * deno task ipc bench [--quick] [--json] [--only pipe,shm,…]
 * ```
 *
 * Exit status: 0 on success, 1 when an object could not be removed (the
 * others still are), 2 for bad usage (unknown subcommand or flag).
 *
 * @example Run it from code
 * ```ts ignore
 * import { main } from "@posix/ipc/cli";
 *
 * const status = await main(["ls", "--json"]);
 * ```
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { unlinkMessageQueue } from "../mq/mod.ts";
import { unlinkSemaphore } from "../sem/mod.ts";
import { unlinkSharedMemory } from "../shm/mod.ts";
import { type IpcObject, isStale, type Kind, KINDS, scan } from "./_scan.ts";
import { bench } from "./_bench/run.ts";

const USAGE = `usage: ipc <command> [options]

commands:
  ls      list POSIX IPC objects and the processes holding them
  rm      remove objects (shm_unlink, sem_unlink, mq_unlink, unlink)
  bench   measure every mechanism on this machine

Run "ipc <command> --help" for a command's options.`;

const LS_HELP =
  `usage: ipc ls [--kind shm|sem|mq|fifo|unix] [--dir DIR]… [--json]

Lists shared memory segments and named semaphores (/dev/shm), message
queues (/dev/mqueue, with their message counts), bound Unix sockets
(/proc/net/unix, with their listening state) and — under each --dir —
FIFOs and stale socket files. PIDS are the processes that have an object
open or mapped (from /proc/*/fd and /proc/*/maps; processes of other users
are seen only by root).

  --kind KIND   only this kind (repeatable, or comma-separated)
  --dir DIR     also search DIR (3 levels deep) for FIFOs and socket files
  --json        one JSON array of objects: kind, name, size, mode, uid, owner, pids, …`;

const RM_HELP =
  `usage: ipc rm NAME… [--kind KIND] [--stale] [--yes] [--dir DIR]…

Removes objects by name: "/foo" is looked up as a shared memory segment,
a semaphore and a message queue (use --kind when more than one exists);
a path is removed if it is a socket file or a FIFO (never a regular file).

  --kind KIND   only objects of this kind
  --stale       remove only objects that no live process holds; with no
                NAME, every such object (of --kind, and under each --dir)
  --yes         do not ask for confirmation (needed when not on a terminal)
  --dir DIR     with --stale and no NAME: also FIFOs and socket files in DIR`;

class UsageError extends Error {}

function parse(
  args: string[],
  spec: { boolean?: string[]; string?: string[]; collect?: string[] },
  help: string,
): Record<string, unknown> & { _: (string | number)[] } {
  return parseArgs(args, {
    boolean: ["help", ...(spec.boolean ?? [])],
    string: spec.string ?? [],
    collect: spec.collect ?? [],
    unknown: (arg: string) => {
      if (arg.startsWith("-")) {
        throw new UsageError(`unknown option ${arg}\n\n${help}`);
      }
      return true;
    },
  });
}

function kindsOf(values: unknown): Set<Kind> {
  const list =
    (Array.isArray(values) ? values : values === undefined ? [] : [values])
      .flatMap((v) => String(v).split(","))
      .filter(Boolean);
  for (const k of list) {
    if (!(KINDS as readonly string[]).includes(k)) {
      throw new UsageError(`unknown kind "${k}"; kinds: ${KINDS.join(", ")}`);
    }
  }
  return new Set((list.length ? list : KINDS) as Kind[]);
}

function table(objects: IpcObject[]): string {
  const rows = [["KIND", "NAME", "SIZE", "OWNER", "MODE", "PIDS", "INFO"]];
  for (const o of objects) {
    rows.push([
      o.kind,
      o.name,
      o.size === null ? "-" : String(o.size),
      o.owner ?? "-",
      o.mode === null ? "-" : o.mode.toString(8).padStart(4, "0"),
      o.pids.length ? o.pids.join(",") : "-",
      o.kind === "mq" && o.messages !== undefined
        ? `${o.messages} messages`
        : o.state ?? (o.pids.length === 0 ? "unused" : ""),
    ]);
  }
  const widths = rows[0]!.map((_, c) =>
    Math.max(...rows.map((r) => r[c]!.length))
  );
  return rows.map((r) =>
    r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()
  ).join("\n");
}

function ls(args: string[]): number {
  const flags = parse(args, {
    boolean: ["json"],
    collect: ["kind", "dir"],
    string: ["kind", "dir"],
  }, LS_HELP);
  if (flags.help) return print(LS_HELP);
  if (flags._.length) {
    throw new UsageError(
      `ls takes no arguments, got "${flags._[0]}"\n\n${LS_HELP}`,
    );
  }
  const objects = scan(kindsOf(flags.kind), (flags.dir as string[]) ?? []);
  if (flags.json) console.log(JSON.stringify(objects, null, 2));
  else if (objects.length === 0) console.log("no POSIX IPC objects found");
  else console.log(table(objects));
  return 0;
}

function remove(object: IpcObject): void {
  switch (object.kind) {
    case "shm":
      return unlinkSharedMemory(object.name);
    case "sem":
      return unlinkSemaphore(object.name);
    case "mq":
      return unlinkMessageQueue(object.name);
    default:
      return Deno.removeSync(object.path!);
  }
}

function rm(args: string[]): number {
  const flags = parse(
    args,
    {
      boolean: ["stale", "yes", "json"],
      collect: ["kind", "dir"],
      string: ["kind", "dir"],
    },
    RM_HELP,
  );
  if (flags.help) return print(RM_HELP);
  const kinds = kindsOf(flags.kind);
  const names = flags._.map(String);
  const stale = flags.stale === true;
  if (names.length === 0 && !stale) {
    throw new UsageError(
      `rm needs at least one NAME, or --stale\n\n${RM_HELP}`,
    );
  }
  const dirs = (flags.dir as string[]) ?? [];
  // Paths (not POSIX names) are looked up in their own directory.
  const pathDirs = names.filter((n) =>
    n.lastIndexOf("/") > 0 || !n.startsWith("/")
  ).map((n) => n.includes("/") ? n.slice(0, n.lastIndexOf("/")) || "/" : ".");
  const found = scan(kinds, [...new Set([...dirs, ...pathDirs])]);
  let targets: IpcObject[];
  let status = 0;
  if (names.length === 0) {
    targets = found.filter(isStale);
  } else {
    targets = [];
    for (const name of names) {
      const absolute = name.startsWith("/") ? name : `${Deno.cwd()}/${name}`;
      const matches = found.filter((o) =>
        o.name === name || o.path === absolute
      );
      if (matches.length === 0) {
        console.error(
          `ipc rm: ${name}: no such ${[...kinds].join("/")} object`,
        );
        status = 1;
      } else if (matches.length > 1) {
        console.error(
          `ipc rm: ${name}: more than one object has this name (${
            matches.map((m) => m.kind).join(", ")
          }); choose with --kind`,
        );
        status = 1;
      } else if (stale && !isStale(matches[0]!)) {
        console.error(
          `ipc rm: ${name}: in use by ${
            matches[0]!.pids.join(", ")
          }; not removed (--stale)`,
        );
      } else {
        targets.push(matches[0]!);
      }
    }
  }
  if (targets.length === 0) {
    if (names.length === 0) console.log("no stale objects");
    return status;
  }
  if (names.length === 0 && !flags.yes) {
    console.log(table(targets));
    if (!Deno.stdin.isTerminal()) {
      console.error(
        `ipc rm: refusing to remove ${targets.length} object(s) without --yes (not a terminal)`,
      );
      return 1;
    }
    if (!confirm(`Remove these ${targets.length} stale object(s)?`)) return 1;
  }
  for (const object of targets) {
    try {
      remove(object);
      console.log(`removed ${object.kind} ${object.name}`);
    } catch (error) {
      console.error(`ipc rm: ${object.name}: ${(error as Error).message}`);
      status = 1;
    }
  }
  return status;
}

function print(text: string): number {
  console.log(text);
  return 0;
}

/**
 * Runs the `ipc` command with `args` and returns its exit status.
 *
 * @param args The arguments after the command name.
 * @returns 0, 1 (an object could not be removed) or 2 (bad usage).
 *
 * @example List objects as JSON
 * ```ts ignore
 * import { main } from "@posix/ipc/cli";
 *
 * Deno.exit(await main(["ls", "--kind", "shm", "--json"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "ls":
        return ls(rest);
      case "rm":
        return rm(rest);
      case "bench":
        return await bench(rest);
      case "help":
      case "--help":
      case "-h":
        return print(USAGE);
      case undefined:
        console.error(USAGE);
        return 2;
      default:
        throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`ipc: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
