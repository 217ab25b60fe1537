// Copyright 2026 the posix-ipc authors. MIT license.
// The one named-object lifecycle: every handle of an object that has a name
// (a shared memory segment, a ShmChannel, a semaphore, a message queue, a
// socket file, a FIFO, a lock file) keeps one of these. The words mean the
// same for every kind:
//
// - `create` is exclusive (AlreadyExists); open-or-create is an explicit
//   option; an open never resizes, truncates or re-initializes anything.
// - The object's identity (device + inode) is recorded when it is created or
//   opened. Every removal — unlinkOnClose, unlinkOnExit, unlink(), `ipc rm` —
//   first checks that the name still refers to that object, so a newer object
//   that took the name is never removed.
// - close() removes nothing this handle did not create; what it created it
//   removes only where asked (unlinkOnClose, unlinkOnExit) or where that is
//   the kind's documented default (a listening socket's own file).
// - An adopted handle (fromFd, listenFds(), inherited) removes nothing.

import { lastError } from "../_ffi/errors.ts";
import { closeFd, openDirectory, statAt, unlinkIfSame } from "../_ffi/fd.ts";
import { addExitHook } from "./exit.ts";
import { C } from "../_ffi/constants.ts";
import { cString } from "../_check/mod.ts";
import { libc } from "../_ffi/libc.ts";

/** Device and inode: what makes an object itself, whatever its name. */
export interface Identity {
  dev: bigint;
  ino: bigint;
}

/**
 * Where an object's name lives in the file system: a directory (by path, or
 * an O_PATH fd kept by the handle) and the entry's name in it. For message
 * queues without a mounted /dev/mqueue, `byName` checks and removes through
 * the kind's own calls instead.
 */
export interface Place {
  /** Absolute path of the directory (e.g. "/dev/shm"). */
  dir?: string;
  /** An fd of the directory (O_PATH), owned by the lifecycle: closed with it. */
  dirFd?: number;
  /** The entry's name in the directory ("sem.jobs", "api.sock"). */
  file: string;
  /** No file to check: what the name refers to now, and how to remove it. */
  byName?: {
    identity(): Identity | null;
    remove(): void;
  };
}

/** Options a created object may take. */
export interface RemovalOptions {
  /** Remove the name when this handle is closed (only if it created it). */
  unlinkOnClose?: boolean | undefined;
  /** Remove the name when this process exits (only if it created it). */
  unlinkOnExit?: boolean | undefined;
}

/** The lifecycle of one handle of a named object. */
export class Lifecycle {
  /** What the object is, for messages: `shared memory "/jobs"`. */
  readonly label: string;
  readonly identity: Identity;
  /** Whether this handle created the object (else it opened or adopted it). */
  readonly created: boolean;
  #place: Place;
  #unlinkOnClose: boolean;
  #forgetExit: (() => void) | undefined;
  #closed = false;

  constructor(
    label: string,
    place: Place,
    identity: Identity,
    created: boolean,
    options: RemovalOptions = {},
  ) {
    this.label = label;
    this.#place = place;
    this.identity = identity;
    this.created = created;
    this.#unlinkOnClose = created && options.unlinkOnClose === true;
    if (created && options.unlinkOnExit === true) {
      this.#forgetExit = addExitHook(() => this.removeIfOurs());
    }
  }

  /**
   * Removes the name if it still refers to this object. Returns whether it
   * did; never throws for a name that is gone or taken by a newer object.
   */
  removeIfOurs(call = "unlink()"): boolean {
    const place = this.#place;
    if (place.byName) {
      const now = place.byName.identity();
      if (
        !now || now.dev !== this.identity.dev || now.ino !== this.identity.ino
      ) {
        return false;
      }
      place.byName.remove();
      return true;
    }
    if (place.dirFd !== undefined) {
      return unlinkIfSame(place.dirFd, place.file, this.identity, call);
    }
    const dirfd = openDirectory(place.dir!, call);
    try {
      return unlinkIfSame(dirfd, place.file, this.identity, call);
    } finally {
      closeFd(dirfd);
    }
  }

  /**
   * Whether the name still refers to this object (false when it is gone or
   * another object took it).
   */
  isStillNamed(call: string): boolean {
    const place = this.#place;
    if (place.byName) {
      const now = place.byName.identity();
      return !!now && now.dev === this.identity.dev &&
        now.ino === this.identity.ino;
    }
    const dirfd = place.dirFd ?? openDirectory(place.dir!, call);
    try {
      const now = statAt(dirfd, place.file, call);
      return now !== null && now.dev === this.identity.dev &&
        now.ino === this.identity.ino;
    } finally {
      if (place.dirFd === undefined) closeFd(dirfd);
    }
  }

  /**
   * The explicit `unlink()` of a handle: removes the name if it is still
   * this object's.
   *
   * @throws {Deno.errors.NotFound} If the name is gone, or now names another object.
   */
  unlink(call: string): void {
    if (!this.removeIfOurs(call)) {
      throw new Deno.errors.NotFound(
        `${call}: ${this.label} no longer has its name (it was removed, or the name now belongs to another object)`,
      );
    }
    this.#unlinkOnClose = false;
    this.#forgetExit?.();
    this.#forgetExit = undefined;
  }

  /** The handle is closing: remove the name if asked, drop the exit hook. Idempotent. */
  close(call = "close()"): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#unlinkOnClose) this.removeIfOurs(call);
    } finally {
      this.#forgetExit?.();
      this.#forgetExit = undefined;
      if (this.#place.dirFd !== undefined) closeFd(this.#place.dirFd);
    }
  }
}

/**
 * An O_PATH fd of the directory of `path` and the entry's name, to remove a
 * socket file or FIFO later even if the process changed its working
 * directory or the directory was renamed.
 */
export function placeOfPath(path: string, call: string): Place {
  const slash = path.lastIndexOf("/");
  const dir = slash === -1 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const file = path.slice(slash + 1);
  const fd = libc().open(
    cString(dir, call, "directory"),
    C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC,
    0,
  );
  if (fd === -1) {
    throw lastError(call, `cannot open the directory ${JSON.stringify(dir)}`);
  }
  return { dirFd: fd, file };
}
