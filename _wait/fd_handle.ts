// Copyright 2026 the posix-ipc authors. MIT license.
// FdHandle: ownership of one fd, its waits through the engine, and its I/O
// (read/write, or recv/send with MSG_DONTWAIT for sockets, so that a socket
// shared with a child may be blocking without ever blocking this process).
//
// No I/O call of this process may wait on the JavaScript thread. O_NONBLOCK
// belongs to the open file description, which other processes may share
// and change. Sockets never depend on it (MSG_DONTWAIT), except accept();
// pipes and FIFOs get a description of their own (ownDescription) wherever
// possible. A handle whose description is shared and whose calls depend on
// O_NONBLOCK is `shared`: before each call the flag is set again if someone
// cleared it, and the call runs under the guard (_ffi/guard.ts), so that a
// process clearing the flag at the wrong moment costs at most GUARD_MS, not
// a stopped event loop.

import { C, E } from "../_ffi/constants.ts";
import { closedError, osError } from "../_ffi/errors.ts";
import { guarded } from "../_ffi/guard.ts";
import { errno, libc } from "../_ffi/libc.ts";
import {
  FdWatch,
  Owner,
  retry,
  type Source,
  waitFor,
  type WaitUntil,
} from "./engine.ts";

/** What I/O calls an fd takes. */
export type FdKind = "stream" | "socket";

/**
 * How `spawn()` gives a handle's fd to a child and then lets go of this
 * process's copy (internal: no public symbol or method is involved).
 */
export interface HandOver {
  /** Throws when the handle cannot be handed over now (closed, stream in use). */
  check(call: string): void;
  /** Gives up this process's copy, once the child has started. */
  giveUp(): void;
}

const handOvers = new WeakMap<object, HandOver>();

/** Registers how `spawn()` hands `handle` over. */
export function setHandOver(handle: object, handOver: HandOver): void {
  handOvers.set(handle, handOver);
}

/** The hand-over of a handle that `spawn()` passes to a child, if it has one. */
export function handOverOf(handle: unknown): HandOver | undefined {
  return typeof handle === "object" && handle !== null
    ? handOvers.get(handle)
    : undefined;
}

/**
 * The usual hand-over of a handle owning one fd: refused while one of its
 * streams is in use, then the fd is closed here.
 */
export function fdHandOver(
  handle: FdHandle,
  inUse: () => boolean,
): HandOver {
  return {
    check(call) {
      handle.use(call);
      if (inUse()) {
        throw new TypeError(
          `${call}: cannot hand over ${handle.label}: its stream is in use`,
        );
      }
    },
    giveUp() {
      if (!handle.closed) libc().close(handle.detach("spawn()"));
    },
  };
}

/** The fds of this process's live handles (to tell ours from foreign raw fds). */
const liveFds = new Map<number, FdHandle>();

/** The live handle that owns `fd`, if one of this package does. */
export function handleOfFd(fd: number): FdHandle | undefined {
  return liveFds.get(fd);
}

/** One owned fd. */
export class FdHandle {
  readonly owner: Owner;
  readonly kind: FdKind;
  #fd: number;
  #watch: FdWatch | null = null;
  #closed = false;
  #shared = false;

  constructor(fd: number, label: string, kind: FdKind = "stream") {
    this.#fd = fd;
    this.kind = kind;
    this.owner = new Owner(label);
    liveFds.set(fd, this);
  }

  /** The fd, or -1 once closed. */
  get fd(): number {
    return this.#closed ? -1 : this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The handle in messages: `pipe read end (fd 21)`. */
  get label(): string {
    return this.owner.label;
  }

  /** The fd for an operation; throws `BadResource` naming `call` once closed. */
  use(call: string): number {
    if (this.#closed) throw closedError(call, this.owner.label);
    return this.#fd;
  }

  /**
   * Whether other processes share this fd's open file description (and so
   * its O_NONBLOCK): an inherited or adopted fd that could not be given a
   * description of its own, or a listener handed to a child.
   */
  get shared(): boolean {
    return this.#shared;
  }

  /** Marks the description shared (see {@linkcode FdHandle.shared}). */
  markShared(): void {
    this.#shared = true;
  }

  /**
   * On a shared description, sets O_NONBLOCK again if another process
   * cleared it. Never cleared by this process (that would make the other
   * processes' calls race with ours).
   */
  #ensureNonBlocking(fd: number): void {
    const lib = libc();
    const flags = lib.fcntl(fd, C.F_GETFL, 0);
    if (flags !== -1 && (flags & C.O_NONBLOCK) === 0) {
      lib.fcntl(fd, C.F_SETFL, flags | C.O_NONBLOCK);
    }
  }

  /**
   * Accepts a connection on this listening socket without waiting: the new
   * fd (non-blocking, close-on-exec), or -1 when none is pending.
   */
  tryAccept(call: string, label: string): number {
    const fd = this.use(call);
    const lib = libc();
    const flags = C.SOCK_NONBLOCK | C.SOCK_CLOEXEC;
    let conn: number;
    let code = 0;
    if (this.#shared) {
      this.#ensureNonBlocking(fd);
      [conn, code] = guarded(() => lib.accept4!(fd, null, null, flags));
    } else {
      conn = lib.accept4!(fd, null, null, flags);
      if (conn < 0) code = errno();
    }
    if (conn >= 0) return conn;
    // EINTR: a signal, or the guard (the description was made blocking).
    // ECONNABORTED: the client left before it was accepted.
    if (code === E.EAGAIN || code === E.EINTR || code === E.ECONNABORTED) {
      return -1;
    }
    throw osError(code, call, `cannot accept on ${label}`);
  }

  /** The engine source "this fd is ready for `events`". */
  source(events: number): Source {
    this.#watch ??= new FdWatch(this.#fd);
    return this.#watch.source(events);
  }

  /**
   * Waits until the fd is ready for `events`; resolves with the revents.
   * Rejects with the signal's reason, `TimedOut` (`<label> <state> for N ms`)
   * or `BadResource` when the handle is closed meanwhile.
   */
  async wait(
    events: number,
    call: string,
    state: string,
    until: WaitUntil,
  ): Promise<number> {
    this.use(call);
    const [, revents] = await waitFor(
      this.owner,
      call,
      state,
      [this.source(events)],
      until,
    );
    return revents;
  }

  /**
   * The usual call of a handle: `attempt` until it returns something other
   * than `undefined`, waiting for readiness for `events` in between (see
   * `retry`). `state` completes the timeout message: `<label> <state> for N ms`.
   */
  retry<T>(
    call: string,
    state: string,
    events: number,
    until: WaitUntil,
    attempt: () => T | undefined,
  ): Promise<T> {
    this.use(call);
    return retry(
      this.owner,
      call,
      state,
      [this.source(events)],
      until,
      attempt,
    );
  }

  /** Reads into `view` without waiting: the count (0 at EOF), or -1 when none is there. */
  tryRead(view: Uint8Array, call: string): number {
    const fd = this.use(call);
    const lib = libc();
    if (this.#shared && this.kind === "stream") {
      this.#ensureNonBlocking(fd);
      const [n, code] = guarded(() =>
        lib.read(fd, view, BigInt(view.byteLength))
      );
      if (n >= 0) return n;
      if (code === E.EAGAIN || code === E.EINTR) return -1;
      throw osError(code, call, `cannot read from ${this.owner.label}`);
    }
    for (;;) {
      const n = Number(
        this.kind === "socket"
          ? lib.recv(fd, view, BigInt(view.byteLength), C.MSG_DONTWAIT)
          : lib.read(fd, view, BigInt(view.byteLength)),
      );
      if (n >= 0) return n;
      const code = errno();
      if (code === E.EAGAIN) return -1;
      if (code !== E.EINTR) {
        throw osError(code, call, `cannot read from ${this.owner.label}`);
      }
    }
  }

  /** Writes from `view` without waiting: the count, or -1 when there is no room. */
  tryWrite(view: Uint8Array, call: string): number {
    const fd = this.use(call);
    const lib = libc();
    if (this.#shared && this.kind === "stream") {
      this.#ensureNonBlocking(fd);
      const [n, code] = guarded(() =>
        lib.write(fd, view, BigInt(view.byteLength))
      );
      if (n >= 0) return n;
      if (code === E.EAGAIN || code === E.EINTR) return -1;
      throw osError(code, call, `cannot write to ${this.owner.label}`);
    }
    for (;;) {
      const n = Number(
        this.kind === "socket"
          ? lib.send(
            fd,
            view,
            BigInt(view.byteLength),
            C.MSG_DONTWAIT | C.MSG_NOSIGNAL,
          )
          : lib.write(fd, view, BigInt(view.byteLength)),
      );
      if (n >= 0) return n;
      const code = errno();
      if (code === E.EAGAIN) return -1;
      if (code !== E.EINTR) {
        throw osError(code, call, `cannot write to ${this.owner.label}`);
      }
    }
  }

  /** Lets (or stops letting) this handle's waits keep the process alive. */
  setRef(ref: boolean): void {
    this.owner.setRef(ref);
  }

  /**
   * Closes the fd now: pending waits are rejected with `BadResource`, the fd
   * leaves the engine, then it is closed. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.owner.close();
    this.#watch?.forget();
    this.#watch = null;
    liveFds.delete(this.#fd);
    libc().close(this.#fd);
  }

  /**
   * Gives up ownership without closing: returns the fd and marks the handle
   * closed. Throws `BadResource` when closed, `Busy` when a wait is pending.
   */
  detach(call: string): number {
    const fd = this.use(call);
    if (this.owner.pendingCount > 0) {
      throw new Deno.errors.Busy(
        `${call}: ${this.owner.label} has a pending read or write`,
      );
    }
    this.#closed = true;
    this.owner.close();
    this.#watch?.forget();
    this.#watch = null;
    liveFds.delete(fd);
    return fd;
  }
}
