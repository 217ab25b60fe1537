// Copyright 2026 the posix-ipc authors. MIT license.

/**
 * The `ipc` command: list POSIX IPC objects on this machine and who holds
 * them, remove leaked ones, and measure every mechanism.
 *
 * ```sh
 * deno task ipc ls [--kind shm|sem|mq|fifo|unix] [--dir DIR] [--json]
 * deno task ipc rm NAME… [--kind KIND] [--stale]
 * deno task ipc rm --stale [--kind KIND] [--dir DIR] [--yes]
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
import { formatBytes } from "../_ffi/fd.ts";
import { GONE } from "./_fs.ts";
import { bench, BENCH_HELP } from "./_bench/run.ts";
import { escapeName, safeJson, toBytes } from "./_names.ts";
import {
  DirectoryError,
  FILE_KINDS,
  type Found,
  type Kind,
  KINDS,
  NAMED_KINDS,
  Scanner,
} from "./_scan.ts";

const USAGE = `usage: ipc <command> [options]

commands:
  ls      list POSIX IPC objects and the processes holding them
  rm      remove objects: shared memory, semaphores, message queues by
          POSIX name; socket files and FIFOs by path (never anything else)
  bench   measure every mechanism on this machine

Run "ipc <command> --help" for a command's options.`;

const LS_HELP =
  `usage: ipc ls [--kind shm|sem|mq|fifo|unix] [--dir DIR]… [--json]

Lists shared memory segments and named semaphores (/dev/shm), message
queues (/dev/mqueue, with their message counts), bound Unix sockets (from
the kernel's sock_diag, with their state: listening, bound, connected) and,
under each --dir, FIFOs and socket files; a socket file that no socket is
bound to is "stale". PIDS are the processes that have an object open or
mapped (from /proc/*/fd and /proc/*/maps; other users' processes are seen
only by root). Sizes are in KiB, MiB, … (bytes with --json).

Names are shown escaped: control characters as \\n, \\t, \\e, \\xNN, bytes
that are not UTF-8 as \\xNN, a backslash as \\\\ (any user can create a
name in /dev/shm or /tmp; none can change what a row says).

  --kind KIND   only this kind (repeatable, or comma-separated)
  --dir DIR     also search DIR, 3 levels deep and never through a symlink,
                for FIFOs and socket files (exit 1 if DIR is missing)
  --json        one JSON array of objects: kind, name, path, size (bytes),
                mode, uid, owner, pids, messages (mq), state (unix), and
                utf8: false when name or path is not UTF-8 (then shown
                escaped as above)`;

const RM_HELP = `usage: ipc rm NAME… [--kind KIND] [--stale]
       ipc rm --stale [--kind KIND]… [--dir DIR]… [--yes]

Removes POSIX IPC objects, and nothing else:

  /NAME   the shared memory segment (/dev/shm/NAME), semaphore
          (/dev/shm/sem.NAME) or message queue (/dev/mqueue/NAME) of that
          POSIX name; use --kind when more than one kind has it
  PATH    the socket file or FIFO at PATH (relative to the current
          directory; the last component is never followed). A regular
          file, a directory, a symlink or a device at PATH is never
          removed: ipc rm says what it is and exits 1

  --stale       remove only what nothing uses: a segment, semaphore, queue
                or FIFO that no process has open or mapped; a socket file
                that no socket is bound to (the kernel refuses connections
                to that very file). A NAME in use is kept, with status 1.
                With no NAME, every such object found:
                  - under each --dir (3 levels deep, never through a
                    symlink): FIFOs and socket files (--kind fifo,unix);
                  - in /dev/shm and /dev/mqueue only with --kind shm, sem
                    or mq: POSIX objects outlive their processes by design
                    (a queue of pending jobs has no holder between jobs),
                    so no segment, semaphore or queue is removed unless its
                    kind is named.
                What will be removed is listed first; without --yes,
                ipc rm then asks (and refuses when stdin is not a terminal)
  --kind KIND   only objects of this kind (repeatable, or comma-separated)
  --dir DIR     with --stale and no NAME: where to look for FIFOs and
                socket files
  --yes         do not ask before removing (--stale with no NAME)

Each removal is an unlinkat(2) on an fd of the object's directory, right
after checking that the name still refers to the object inspected (device
and inode, and every directory on the way): an object that took the name
since, or a directory swapped for a symlink, is never removed or followed.
Not removed, ever: regular files, directories, symlinks, devices; abstract
sockets (they have no file); anything outside /dev/shm, /dev/mqueue, the
PATHs named and the --dirs.

Exit status: 0 when everything asked for was removed; 1 when something was
not (missing, in use with --stale, not a socket file or FIFO, changed);
2 for bad usage.`;

class UsageError extends Error {}

interface Flags {
  _: string[];
  help: boolean;
  json: boolean;
  stale: boolean;
  yes: boolean;
  kind: string[];
  dir: string[];
}

function parse(
  args: string[],
  booleans: readonly string[],
  help: string,
): Flags {
  const raw: Record<string, unknown> = parseArgs(args, {
    boolean: ["help", ...booleans],
    string: ["kind", "dir"],
    collect: ["kind", "dir"],
    unknown: (arg: string) => {
      if (arg.startsWith("-")) {
        throw new UsageError(`unknown option ${arg}\n\n${help}`);
      }
      return true;
    },
  });
  const strings = (value: unknown) =>
    (Array.isArray(value) ? value : value === undefined ? [] : [value])
      .map(String);
  return {
    _: strings(raw["_"]),
    help: raw["help"] === true,
    json: raw["json"] === true,
    stale: raw["stale"] === true,
    yes: raw["yes"] === true,
    kind: strings(raw["kind"]),
    dir: strings(raw["dir"]),
  };
}

/** The kinds named with --kind, or null when none was. */
function kindsOf(values: string[]): Set<Kind> | null {
  const list = values.flatMap((v) => v.split(",")).filter(Boolean);
  for (const k of list) {
    if (!(KINDS as readonly string[]).includes(k)) {
      throw new UsageError(
        `unknown kind "${escapeName(k)}"; kinds: ${KINDS.join(", ")}`,
      );
    }
  }
  return list.length ? new Set(list as Kind[]) : null;
}

function info(found: Found): string {
  const o = found.object;
  if (o.kind === "mq" && o.messages !== undefined) {
    return `${o.messages} message${o.messages === 1 ? "" : "s"}`;
  }
  return o.state ?? (o.pids.length === 0 ? "unused" : "");
}

function table(found: Found[]): string {
  const rows = [["KIND", "NAME", "SIZE", "OWNER", "MODE", "PIDS", "INFO"]];
  for (const f of found) {
    const o = f.object;
    rows.push([
      o.kind,
      escapeName(f.display),
      o.size === null ? "-" : formatBytes(o.size),
      o.owner === null ? "-" : escapeName(o.owner),
      o.mode === null ? "-" : o.mode.toString(8).padStart(4, "0"),
      o.pids.length ? o.pids.join(",") : "-",
      info(f),
    ]);
  }
  const widths = rows[0]!.map((_, c) =>
    Math.max(...rows.map((r) => r[c]!.length))
  );
  return rows.map((r) =>
    r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()
  ).join("\n");
}

/** Opens the scanner, turning a bad --dir into a message and status 1. */
function open(command: string, dirs: string[]): Scanner | number {
  try {
    return new Scanner(dirs);
  } catch (error) {
    if (error instanceof DirectoryError) {
      console.error(`ipc ${command}: --dir ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function ls(args: string[]): number {
  const flags = parse(args, ["json"], LS_HELP);
  if (flags.help) return print(LS_HELP);
  if (flags._.length) {
    throw new UsageError(
      `ls takes no arguments, got "${escapeName(flags._[0]!)}"\n\n${LS_HELP}`,
    );
  }
  const kinds = kindsOf(flags.kind) ?? new Set(KINDS);
  const scanner = open("ls", flags.dir);
  if (typeof scanner === "number") return scanner;
  using _ = scanner;
  const found = scanner.scan(kinds);
  if (flags.json) console.log(safeJson(found.map((f) => f.object)));
  else if (found.length === 0) console.log("no POSIX IPC objects found");
  else console.log(table(found));
  return 0;
}

/** Whether a NAME is a POSIX name (/foo) rather than a path. */
function isPosixName(name: string, kinds: Set<Kind> | null): boolean {
  if (kinds && !NAMED_KINDS.some((k) => kinds.has(k))) return false;
  return name.startsWith("/") && name.indexOf("/", 1) === -1 &&
    name.length > 1;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What `rm NAME…` is to remove; reports what it cannot find (status 1). */
function named(
  scanner: Scanner,
  names: string[],
  kinds: Set<Kind> | null,
  stale: boolean,
): { targets: Found[]; status: number } {
  const targets: Found[] = [];
  let status = 0;
  const fail = (name: string, why: string) => {
    console.error(`ipc rm: ${escapeName(name)}: ${why}`);
    status = 1;
  };
  let posix: Found[] | undefined;
  for (const name of names) {
    let match: Found;
    if (isPosixName(name, kinds)) {
      const wanted = new Set(NAMED_KINDS.filter((k) => !kinds || kinds.has(k)));
      posix ??= [...scanner.shm(wanted), ...scanner.mq(wanted)];
      const bytes = toBytes(name);
      const matches = posix.filter((f) => sameBytes(f.name, bytes));
      if (matches.length === 0) {
        fail(name, `no such ${[...wanted].join("/")} object`);
        continue;
      }
      if (matches.length > 1) {
        fail(
          name,
          `more than one object has this name (${
            matches.map((m) => m.object.kind).join(", ")
          }); choose with --kind`,
        );
        continue;
      }
      match = matches[0]!;
    } else {
      const found = scanner.lookupPath(name);
      if (typeof found === "string") {
        fail(name, `${found}; not removed`);
        continue;
      }
      if (kinds && !kinds.has(found.object.kind)) {
        fail(
          name,
          `is a ${
            found.object.kind === "fifo" ? "FIFO" : "socket file"
          }, not --kind ${[...kinds].join(",")}; not removed`,
        );
        continue;
      }
      match = found;
    }
    if (stale && !scanner.isStale(match)) {
      const pids = scanner.currentPids(match);
      fail(
        name,
        match.object.state === "unknown"
          ? "cannot tell whether a socket is bound to it; not removed (--stale)"
          : `in use${
            pids.length ? ` by ${pids.join(", ")}` : ""
          }; not removed (--stale)`,
      );
      continue;
    }
    targets.push(match);
  }
  return { targets, status };
}

function rm(args: string[]): number {
  const flags = parse(args, ["stale", "yes"], RM_HELP);
  if (flags.help) return print(RM_HELP);
  const explicit = kindsOf(flags.kind);
  const names = flags._;
  const stale = flags.stale;
  if (names.length === 0 && !stale) {
    throw new UsageError(
      `rm needs at least one NAME, or --stale\n\n${RM_HELP}`,
    );
  }
  if (names.length > 0 && flags.dir.length > 0) {
    throw new UsageError(
      `--dir is for --stale without NAME; give paths as NAMEs\n\n${RM_HELP}`,
    );
  }
  // --stale with no NAME: files under --dir by default; POSIX objects only
  // when their kind is named.
  const kinds = explicit ?? new Set(FILE_KINDS);
  if (
    names.length === 0 && flags.dir.length === 0 &&
    !NAMED_KINDS.some((k) => kinds.has(k))
  ) {
    throw new UsageError(
      `rm --stale needs --dir DIR (FIFOs and socket files are looked for only there) or --kind shm, sem or mq\n\n${RM_HELP}`,
    );
  }
  const scanner = open("rm", flags.dir);
  if (typeof scanner === "number") return scanner;
  using _ = scanner;
  let targets: Found[];
  let status = 0;
  if (names.length > 0) {
    ({ targets, status } = named(scanner, names, explicit, stale));
  } else {
    const found = scanner.scan(kinds);
    for (const f of found) {
      if (f.object.kind === "unix" && f.object.state === "unknown") {
        console.error(
          `ipc rm: ${
            escapeName(f.display)
          }: cannot tell whether a socket is bound to it; left in place`,
        );
      }
    }
    targets = found.filter((f) => scanner.isStale(f));
    if (targets.length === 0) {
      console.log("no stale objects");
      return status;
    }
    console.log(
      `${targets.length} stale object${
        targets.length === 1 ? "" : "s"
      } to remove:\n${table(targets)}`,
    );
    if (!flags.yes) {
      if (!Deno.stdin.isTerminal()) {
        console.error(
          `ipc rm: refusing to remove ${targets.length} object(s) without --yes (not a terminal)`,
        );
        return 1;
      }
      if (!confirm(`Remove these ${targets.length} stale object(s)?`)) return 1;
    }
  }
  // Who holds what may have changed while we looked (or asked).
  if (stale) scanner.refresh();
  for (const target of targets) {
    const why = scanner.remove(target, stale);
    if (why === null) {
      console.log(
        `removed ${target.object.kind} ${escapeName(target.display)}`,
      );
    } else if (why === GONE) {
      // Its owner removed it meanwhile: what was asked for is done.
      console.log(
        `already gone: ${target.object.kind} ${escapeName(target.display)}`,
      );
    } else {
      console.error(
        `ipc rm: ${escapeName(target.display)}: not removed: ${why}`,
      );
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
        if (rest.includes("--help") || rest.includes("-h")) {
          return print(BENCH_HELP);
        }
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
