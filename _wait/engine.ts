// Copyright 2026 the posix-ipc authors. MIT license.
// The one wait engine. Every wait of the package goes through `waitFor()`:
// fd readiness (pipes, FIFOs, sockets, listeners, message queues, pidfds,
// inotify), futex words (ShmChannel rings, semaphores) and conditions that
// have no notification at all (file locks, a full datagram receiver).
//
// Design, from measurements on a 2-core VM (a nonblocking FFI call costs
// 8–29 µs of thread hop; a synchronous one 0.2 µs):
//
// - fds: ONE epoll set per process, waited on by ONE parked pool thread
//   (`epoll_wait` as a nonblocking FFI call) that returns batches of ready
//   fds, so a thread hop is paid per batch, not per message. A wait arms its
//   fd with EPOLLONESHOT (one `epoll_ctl`, synchronous); nothing is polled
//   for fds nobody waits on. The thread is parked only while some referenced
//   wait exists, so an idle process exits by itself; an eventfd in the set
//   releases it. Timeouts are JavaScript timers on the main thread: the
//   parked thread never needs to be woken to change a deadline.
// - futexes: groups of up to 127 words waited on by one pool thread each with
//   `futex_waitv` (Linux ≥ 5.16) plus a private wake word; a group is woken
//   only to change its set. Idle waits cost nothing. Older kernels: one
//   `FUTEX_WAIT` thread per wait, at most MAX_DIRECT_FUTEX_THREADS, then
//   timer polling.
// - no notification: one backoff schedule (1 ms doubling to 64 ms), kicked
//   early by hint fds (inotify) or by `kick()` from this process.
// - spin: before parking, a wait may spin on its sources' readiness, but only
//   on a handle whose recent waits ended within microseconds (its peer
//   answers fast), and failed spins are charged to one CPU budget for the
//   whole process (10% of a core). Idle and sporadic handles never spin.
//
// Every wait ends the same way: resolved when a source fires, rejected with
// the signal's reason on abort, `TimedOut` at its deadline, `BadResource`
// when its owner is closed meanwhile.

import { C, E, IS_LINUX } from "../_ffi/constants.ts";
import { closedError, lastError, timedOutError } from "../_ffi/errors.ts";
import { errno, libc } from "../_ffi/libc.ts";
import { addressOf } from "../_ffi/memory.ts";

// --- deadlines ----------------------------------------------------------------

type Timer = ReturnType<typeof setTimeout>;

/** When a wait of `timeout` ms that starts now ends (`Infinity` without a timeout). */
export function deadlineOf(timeout: number | undefined): number {
  return timeout === undefined ? Infinity : performance.now() + timeout;
}

// --- spin policy ----------------------------------------------------------------

/** Longest spin of one wait, in ms. */
const SPIN_MAX_MS = 0.05;
/** First spin after a short parked wait. */
const SPIN_START_MS = 0.004;
/** A parked wait shorter than this might have been caught by a spin. */
const SHORT_WAIT_MS = 0.25;
/** Failed spins before a handle stops spinning for a while. */
const MISSES_BEFORE_BACKOFF = 8;
/** Share of one core that failed spins may use, and the burst allowed. */
const BUDGET_SHARE = 0.1;
const BUDGET_BURST_MS = 2;

let budget = BUDGET_BURST_MS;
let budgetAt = 0;

function budgetLeft(now: number): boolean {
  budget = Math.min(BUDGET_BURST_MS, budget + (now - budgetAt) * BUDGET_SHARE);
  budgetAt = now;
  return budget > 0;
}

/**
 * Per-handle spin statistics: how long to spin before parking. It grows
 * while waits end soon after they start (the peer answers within
 * microseconds), drops to zero after a long wait (the peer is idle), and
 * backs off exponentially when spins keep failing.
 */
export class SpinPolicy {
  #limit = 0;
  #misses = 0;
  #skip = 0;
  #backoff = 16;

  /** How long the next wait may spin, in ms. */
  next(): number {
    if (this.#skip > 0) {
      this.#skip--;
      return 0;
    }
    return this.#limit;
  }

  /** Records how a wait ended: its duration, and whether a spin caught it. */
  record(duration: number, spun: boolean, caught: boolean): void {
    if (caught) {
      this.#limit = Math.min(
        SPIN_MAX_MS,
        Math.max(this.#limit, 2 * duration, SPIN_START_MS),
      );
      this.#misses = 0;
      this.#backoff = 16;
    } else if (duration < SHORT_WAIT_MS) {
      if (spun && ++this.#misses >= MISSES_BEFORE_BACKOFF) {
        this.#misses = 0;
        this.#skip = this.#backoff;
        this.#backoff = Math.min(this.#backoff * 2, 4096);
        this.#limit = SPIN_START_MS;
        return;
      }
      this.#limit = Math.min(
        SPIN_MAX_MS,
        Math.max(this.#limit * 2, SPIN_START_MS),
      );
    } else {
      this.#limit = 0;
      this.#misses = 0;
    }
  }
}

// --- owners and pending waits ---------------------------------------------------

/**
 * What waits: one per handle. It names the handle in errors, keeps its spin
 * statistics, rejects its pending waits with `BadResource` when closed, and
 * decides whether its waits keep the process alive.
 */
export class Owner {
  /** The handle, for messages: `pipe read end (fd 21)`. */
  label: string;
  readonly spin: SpinPolicy = new SpinPolicy();
  #pending = new Set<Pending>();
  #closed = false;
  #ref = true;

  constructor(label: string) {
    this.label = label;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether pending waits keep the process alive (default true). */
  get isRef(): boolean {
    return this.#ref;
  }

  /** Pending waits of this owner. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Throws `BadResource` naming `call` once closed. */
  use(call: string): void {
    if (this.#closed) throw closedError(call, this.label);
  }

  /** Lets (or stops letting) pending and future waits keep the process alive. */
  setRef(ref: boolean): void {
    if (this.#ref === ref) return;
    this.#ref = ref;
    for (const p of this.#pending) p.setRef(ref);
  }

  /** Rejects every pending wait with `BadResource`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of [...this.#pending]) {
      p.fail(closedError(p.call, this.label));
    }
  }

  /** @internal */
  add(p: Pending): void {
    this.#pending.add(p);
  }

  /** @internal */
  delete(p: Pending): void {
    this.#pending.delete(p);
  }
}

/** Something a wait can watch. */
export interface Source {
  /** Readiness now, without waiting: non-zero when ready (e.g. revents). */
  check(): number;
  /** Starts watching for `p`; calls `p.fire(this, value)` when ready. */
  arm(p: Pending): void;
  /** Stops watching for `p`. */
  disarm(p: Pending): void;
  /** `p`'s referencing changed (see `Owner.setRef`). */
  refChanged?(p: Pending, ref: boolean): void;
}

/** One wait in progress. */
export class Pending {
  readonly owner: Owner;
  readonly call: string;
  readonly sources: readonly Source[];
  ref: boolean;
  #settled = false;
  #resolve: (value: [number, number]) => void;
  #reject: (error: unknown) => void;
  #timer: Timer | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #start = 0;
  #spun = false;
  readonly promise: Promise<[number, number]>;

  constructor(owner: Owner, call: string, sources: readonly Source[]) {
    this.owner = owner;
    this.call = call;
    this.sources = sources;
    this.ref = owner.isRef;
    const { promise, resolve, reject } = Promise.withResolvers<
      [number, number]
    >();
    this.promise = promise;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Arms the sources, the deadline and the abort signal. `start` and `spun`
   * feed the owner's spin statistics when a source fires.
   */
  start(until: WaitUntil, state: string, start: number, spun: boolean): void {
    this.#start = start;
    this.#spun = spun;
    this.owner.add(this);
    const { deadline, signal } = until;
    if (deadline !== Infinity) {
      const timer = setTimeout(
        () =>
          this.fail(
            timedOutError(
              this.call,
              `${this.owner.label} ${state} for ${until.timeout ?? 0} ms`,
            ),
          ),
        Math.max(0, deadline - performance.now()),
      );
      if (!this.ref) Deno.unrefTimer(timer);
      this.#timer = timer;
    }
    if (signal) {
      this.#signal = signal;
      this.#onAbort = () => this.fail(signal.reason);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    for (const source of this.sources) {
      if (this.#settled) break;
      source.arm(this);
    }
  }

  /** A source is ready. */
  fire(source: Source, value: number): void {
    if (this.#settled) return;
    this.#settle();
    this.owner.spin.record(performance.now() - this.#start, this.#spun, false);
    this.#resolve([this.sources.indexOf(source), value]);
  }

  /** The wait ends with `error`. */
  fail(error: unknown): void {
    if (this.#settled) return;
    this.#settle();
    this.#reject(error);
  }

  /** @internal */
  setRef(ref: boolean): void {
    if (this.ref === ref || this.#settled) return;
    this.ref = ref;
    if (this.#timer !== undefined) {
      if (ref) Deno.refTimer(this.#timer);
      else Deno.unrefTimer(this.#timer);
    }
    for (const source of this.sources) source.refChanged?.(this, ref);
  }

  #settle(): void {
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#onAbort) {
      this.#signal!.removeEventListener("abort", this.#onAbort);
    }
    this.owner.delete(this);
    for (const source of this.sources) source.disarm(this);
  }
}

/** When and how a waiting call gives up. */
export interface WaitUntil {
  /** From {@linkcode deadlineOf}. */
  deadline: number;
  /** The timeout as given (for the message). */
  timeout: number | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Waits until one of `sources` is ready. Resolves with `[index, value]` of
 * the source that fired; rejects with the signal's reason, `TimedOut`
 * (`<call>: <owner> <state> for <timeout> ms`) or `BadResource` (closed).
 */
export function waitFor(
  owner: Owner,
  call: string,
  state: string,
  sources: readonly Source[],
  until: WaitUntil,
): Promise<[number, number]> {
  if (owner.closed) return Promise.reject(closedError(call, owner.label));
  const { deadline, signal } = until;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const start = performance.now();
  const limit = owner.spin.next();
  let spun = false;
  if (limit > 0 && budgetLeft(start)) {
    spun = true;
    const end = Math.min(start + limit, deadline);
    let now = start;
    do {
      for (let i = 0; i < sources.length; i++) {
        const value = sources[i]!.check();
        if (value !== 0) {
          owner.spin.record(performance.now() - start, true, true);
          return Promise.resolve([i, value]);
        }
      }
      now = performance.now();
    } while (now < end);
    budget -= now - start;
  }
  if (deadline !== Infinity && deadline <= performance.now()) {
    return Promise.reject(
      timedOutError(
        call,
        `${owner.label} ${state} for ${until.timeout ?? 0} ms`,
      ),
    );
  }
  const p = new Pending(owner, call, sources);
  p.start(until, state, start, spun);
  return p.promise;
}

/** Failed attempts in a row after a wake-up before retries slow down. */
const FAILED_WAKES_BEFORE_PAUSE = 3;

/**
 * A pause before the next wait of a call whose attempts keep failing right
 * after a wake-up. A source that stays ready while its attempt keeps
 * failing (a bug, or a peer breaking the protocol) would otherwise make the
 * call loop — on microtasks when a spin catches it, starving timers, I/O
 * and every watchdog. Each pause is a timer (1, 2, 4 … 100 ms), so the
 * process stays responsive, the CPU cost stays low, and the deadline, the
 * abort signal and closing still end the call.
 */
function backOff(
  owner: Owner,
  call: string,
  state: string,
  until: WaitUntil,
  misses: number,
): Promise<void> {
  const now = performance.now();
  if (until.deadline <= now) {
    return Promise.reject(
      timedOutError(
        call,
        `${owner.label} ${state} for ${until.timeout ?? 0} ms`,
      ),
    );
  }
  const delay = Math.min(
    2 ** Math.min(misses - FAILED_WAKES_BEFORE_PAUSE - 1, 7),
    100,
    until.deadline - now,
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (owner.closed) reject(closedError(call, owner.label));
      else if (until.signal?.aborted) reject(until.signal.reason);
      else resolve();
    }, delay);
    if (!owner.isRef) Deno.unrefTimer(timer);
  });
}

/**
 * The one "try, would block, wait" loop: calls `attempt` until it returns
 * something other than `undefined`, waiting on `sources` in between. The
 * deadline is the caller's, for the whole call. `sources` may be a function,
 * called before each attempt (to capture a futex word's value first).
 *
 * With `waitFirst`, the caller has just made a failed attempt itself, so the
 * loop starts with the wait. Only for level-triggered sources (fd
 * readiness): a futex value captured after a failed attempt could miss the
 * change that came in between.
 */
export async function retry<T>(
  owner: Owner,
  call: string,
  state: string,
  sources: readonly Source[] | (() => readonly Source[]),
  until: WaitUntil,
  attempt: () => T | undefined,
  waitFirst = false,
): Promise<T> {
  let woke = false;
  let misses = 0;
  for (let skip = waitFirst;; skip = false) {
    owner.use(call);
    const watch = typeof sources === "function" ? sources() : sources;
    if (!skip) {
      const result = attempt();
      if (result !== undefined) return result;
      if (woke && ++misses > FAILED_WAKES_BEFORE_PAUSE) {
        await backOff(owner, call, state, until, misses);
        owner.use(call);
      }
    }
    await waitFor(owner, call, state, watch, until);
    woke = true;
  }
}

// --- fd readiness ------------------------------------------------------------------

/**
 * Most ready fds one hop of the fd thread returns. Their waits resume in one
 * macrotask, so this bounds how long a burst holds the event loop (about
 * 7 µs a message: 64 is under half a millisecond); the rest come with the
 * next hop, after timers and other I/O had their turn. Measured with 1,000
 * pipes at 100 messages/ms (5 interleaved rounds): event-loop lag p99
 * 0.7–2.1 ms at 64 against 1.5–3.4 ms at 256 (socket pairs 0.9–3.0 against
 * 1.9–7.8 ms), CPU about the same (medians 64 against 66 %).
 */
const MAX_EVENTS = 64;
/** How long the fd thread stays parked after the last referenced wait. */
const RELEASE_MS = 2;

/**
 * The registration of one fd with the engine. Owned by the handle that owns
 * the fd; `forget()` before closing the fd.
 */
export class FdWatch {
  readonly fd: number;
  /** @internal */ readonly token: number;
  /** @internal */ added = false;
  /** @internal */ armed = 0;
  /** @internal */ readonly waits = new Map<Pending, number>();
  #sources = new Map<number, Source>();

  constructor(fd: number) {
    this.fd = fd;
    this.token = reactor.register(this);
  }

  /** The source "this fd is ready for `events`" (POLLIN/POLLOUT). */
  source(events: number): Source {
    let source = this.#sources.get(events);
    if (!source) {
      source = new FdSource(this, events);
      this.#sources.set(events, source);
    }
    return source;
  }

  /** @internal The kernel reported `revents`; the oneshot arming is spent. */
  fire(revents: number): void {
    this.armed = 0;
    const matching: Pending[] = [];
    for (const [p, events] of this.waits) {
      if (revents & (events | C.POLLERR | C.POLLHUP | C.POLLNVAL)) {
        matching.push(p);
      }
    }
    for (const p of matching) {
      p.fire(this.#sources.get(this.waits.get(p)!)!, revents);
    }
    if (this.waits.size > 0) reactor.update(this);
  }

  /** Removes the fd from the engine. Call before closing it. Idempotent. */
  forget(): void {
    reactor.forget(this);
  }
}

/** "An fd is ready for `events`": one per watch and kind of event. */
class FdSource implements Source {
  readonly watch: FdWatch;
  readonly events: number;

  constructor(watch: FdWatch, events: number) {
    this.watch = watch;
    this.events = events;
  }

  check(): number {
    return pollNow(this.watch.fd, this.events);
  }

  arm(p: Pending): void {
    this.watch.waits.set(p, this.events);
    if (p.ref) reactor.refs++;
    else reactor.unrefs++;
    reactor.update(this.watch);
  }

  disarm(p: Pending): void {
    if (!this.watch.waits.delete(p)) return;
    if (p.ref) reactor.dropRef();
    else reactor.unrefs--;
  }

  refChanged(p: Pending, ref: boolean): void {
    if (!this.watch.waits.has(p)) return;
    if (ref) {
      reactor.unrefs--;
      reactor.refs++;
      reactor.kick();
    } else {
      reactor.unrefs++;
      reactor.dropRef();
    }
  }
}

/** Readiness of `fd` for `events` now (`poll(fd, 0)`): revents, or 0. */
export function pollNow(fd: number, events: number): number {
  pollOne.setInt32(0, fd, true);
  pollOne.setInt16(4, events, true);
  const r = libc().poll(pollBuffer, 1n, 0);
  return r > 0 ? pollOne.getInt16(6, true) : 0;
}
const pollBuffer = new Uint8Array(8);
const pollOne = new DataView(pollBuffer.buffer);

/**
 * The fd reactor: one epoll set (Linux) or a rebuilt poll() set (elsewhere),
 * one parked thread while referenced waits exist, timer polling while only
 * unreferenced ones do.
 */
class Reactor {
  refs = 0;
  unrefs = 0;
  #watches = new Map<number, FdWatch>();
  #next = 1;
  #epfd = -2; // -2: not created yet, -1: no epoll (poll fallback)
  #wake = -1;
  #wakeWrite = -1;
  #events = new Uint8Array(MAX_EVENTS * 16);
  #syncEvents = new Uint8Array(MAX_EVENTS * 16);
  #ctl = new Uint8Array(16);
  #ctlView = new DataView(this.#ctl.buffer);
  #parked = false;
  #release: Timer | undefined;
  #pollTimer: Timer | undefined;
  #pollDelay = 1;
  #failures = 0;

  register(watch: FdWatch): number {
    this.#init();
    const token = this.#next++;
    this.#watches.set(token, watch);
    return token;
  }

  #init(): void {
    if (this.#epfd !== -2) return;
    const lib = libc();
    this.#epfd = -1;
    if (IS_LINUX && lib.epoll_create1 && lib.epoll_wait_async && lib.eventfd) {
      const epfd = lib.epoll_create1(C.EPOLL_CLOEXEC);
      if (epfd === -1) {
        throw lastError("posix-ipc", "cannot create an epoll set");
      }
      const wake = lib.eventfd(0, C.EFD_CLOEXEC | C.EFD_NONBLOCK);
      if (wake === -1) {
        lib.close(epfd);
        throw lastError("posix-ipc", "cannot create an eventfd");
      }
      this.#epfd = epfd;
      this.#wake = this.#wakeWrite = wake;
      this.#ctlEvent(C.EPOLLIN, 0);
      if (lib.epoll_ctl!(epfd, C.EPOLL_CTL_ADD, wake, this.#ctl) === -1) {
        throw lastError("posix-ipc", "cannot register the engine's eventfd");
      }
    } else {
      const fds = new Int32Array(2);
      if (lib.pipe(fds) === -1) {
        throw lastError("posix-ipc", "cannot create the engine's wake pipe");
      }
      for (const fd of fds) {
        lib.fcntl(fd, C.F_SETFD, C.FD_CLOEXEC);
        lib.fcntl(fd, C.F_SETFL, lib.fcntl(fd, C.F_GETFL, 0) | C.O_NONBLOCK);
      }
      this.#wake = fds[0]!;
      this.#wakeWrite = fds[1]!;
    }
  }

  #ctlEvent(events: number, token: number): void {
    this.#ctlView.setUint32(0, events >>> 0, true);
    this.#ctlView.setBigUint64(C.EPOLL_EVENT.data, BigInt(token), true);
  }

  /** Arms `watch` for the union of its waits' events, if not already. */
  update(watch: FdWatch): void {
    let want = 0;
    for (const events of watch.waits.values()) want |= events;
    if (want !== 0 && (want & ~watch.armed) !== 0) {
      if (this.#epfd >= 0) {
        const lib = libc();
        this.#ctlEvent(want | C.EPOLLONESHOT, watch.token);
        const op = watch.added ? C.EPOLL_CTL_MOD : C.EPOLL_CTL_ADD;
        if (lib.epoll_ctl!(this.#epfd, op, watch.fd, this.#ctl) === -1) {
          const error = lastError(
            "posix-ipc",
            `cannot watch fd ${watch.fd}`,
          );
          for (const p of [...watch.waits.keys()]) p.fail(error);
          return;
        }
        watch.added = true;
      } else if (this.#parked) {
        this.#wakeUp(); // rebuild the poll() set
      }
      watch.armed = want;
    }
    this.kick();
  }

  forget(watch: FdWatch): void {
    if (!this.#watches.delete(watch.token)) return;
    if (watch.added && this.#epfd >= 0) {
      libc().epoll_ctl!(this.#epfd, C.EPOLL_CTL_DEL, watch.fd, this.#ctl);
    }
    watch.added = false;
    watch.armed = 0;
  }

  /**
   * The last referenced wait ended. The parked thread keeps the process
   * alive, so it must be released — but not at once: a handle that waits
   * again right away (a reader's next read; a ShmChannel wait, whose peer's
   * pidfd sits here while its futex fires elsewhere) would pay a thread hop
   * to release it and another to park it again. It is released after
   * RELEASE_MS unless a referenced wait comes back first.
   */
  dropRef(): void {
    if (--this.refs === 0 && this.#parked && this.#release === undefined) {
      const timer = setTimeout(() => {
        this.#release = undefined;
        if (this.refs === 0 && this.#parked) this.#wakeUp();
      }, RELEASE_MS);
      Deno.unrefTimer(timer);
      this.#release = timer;
    }
  }

  /** Parks the thread, or schedules timer polling, as the waits need. */
  kick(): void {
    if (this.refs > 0) {
      if (this.#release !== undefined) {
        clearTimeout(this.#release);
        this.#release = undefined;
      }
      if (!this.#parked) void this.#park();
    } else if (this.unrefs > 0) {
      this.#schedulePoll();
    }
  }

  #wakeUp(): void {
    const one = new BigUint64Array([1n]);
    libc().write(this.#wakeWrite, one, 8n);
  }

  #drainWake(): void {
    const buffer = new Uint8Array(64);
    while (libc().read(this.#wake, buffer, 64n) > 0) {
      // an eventfd empties in one read; a pipe may take several
    }
  }

  async #park(): Promise<void> {
    this.#parked = true;
    let n: number;
    try {
      if (this.#epfd >= 0) {
        n = await libc().epoll_wait_async!(
          this.#epfd,
          this.#events,
          MAX_EVENTS,
          -1,
        );
      } else {
        n = await this.#pollAsync();
      }
    } finally {
      this.#parked = false;
    }
    if (n < 0) {
      // errno is lost on the pool thread; EINTR is the only failure with
      // valid arguments. Give up on the waits if it keeps failing.
      if (++this.#failures > 1000) {
        this.#failAll(
          new Error("posix-ipc: the wait engine's epoll_wait keeps failing"),
        );
      }
    } else {
      this.#failures = 0;
      if (this.#epfd >= 0) this.#dispatch(this.#events, n);
    }
    this.kick();
  }

  #dispatch(events: Uint8Array, n: number): void {
    const view = new DataView(events.buffer);
    const size = C.EPOLL_EVENT.size;
    for (let i = 0; i < n; i++) {
      const revents = view.getUint32(i * size, true);
      const token = Number(
        view.getBigUint64(i * size + C.EPOLL_EVENT.data, true),
      );
      if (token === 0) {
        this.#drainWake();
        continue;
      }
      this.#watches.get(token)?.fire(revents);
    }
  }

  #schedulePoll(): void {
    if (this.#pollTimer !== undefined || this.#parked) return;
    const timer = setTimeout(() => {
      this.#pollTimer = undefined;
      if (this.#parked || this.refs > 0) return this.kick();
      let n = 0;
      if (this.#epfd >= 0) {
        n = libc().epoll_wait!(this.#epfd, this.#syncEvents, MAX_EVENTS, 0);
        if (n > 0) this.#dispatch(this.#syncEvents, n);
      } else {
        n = this.#pollSync();
      }
      this.#pollDelay = n > 0 ? 1 : Math.min(this.#pollDelay * 2, 64);
      this.kick();
    }, this.#pollDelay);
    Deno.unrefTimer(timer);
    this.#pollTimer = timer;
  }

  #failAll(error: Error): void {
    for (const watch of this.#watches.values()) {
      for (const p of [...watch.waits.keys()]) p.fail(error);
    }
  }

  // --- poll() fallback (no epoll) ---

  #pollSet(): { pfds: Uint8Array; list: FdWatch[] } {
    const list = [...this.#watches.values()].filter((w) => w.waits.size > 0);
    const pfds = new Uint8Array(8 * (list.length + 1));
    const view = new DataView(pfds.buffer);
    list.forEach((w, i) => {
      let events = 0;
      for (const e of w.waits.values()) events |= e;
      view.setInt32(8 * i, w.fd, true);
      view.setInt16(8 * i + 4, events, true);
    });
    view.setInt32(8 * list.length, this.#wake, true);
    view.setInt16(8 * list.length + 4, C.POLLIN, true);
    return { pfds, list };
  }

  #firePollSet(pfds: Uint8Array, list: FdWatch[]): number {
    const view = new DataView(pfds.buffer);
    let fired = 0;
    list.forEach((w, i) => {
      const revents = view.getInt16(8 * i + 6, true);
      if (revents !== 0 && this.#watches.has(w.token)) {
        fired++;
        w.fire(revents);
      }
    });
    if (view.getInt16(8 * list.length + 6, true) !== 0) this.#drainWake();
    return fired;
  }

  async #pollAsync(): Promise<number> {
    const { pfds, list } = this.#pollSet();
    const r = await libc().poll_async(pfds, BigInt(list.length + 1), -1);
    return r < 0 ? r : this.#firePollSet(pfds, list);
  }

  #pollSync(): number {
    const { pfds, list } = this.#pollSet();
    return libc().poll(pfds, BigInt(list.length + 1), 0) > 0
      ? this.#firePollSet(pfds, list)
      : 0;
  }
}

const reactor = new Reactor();

// --- futexes -----------------------------------------------------------------------

/** A 32-bit word in memory shared with other processes (a mapping). */
export interface FutexWord {
  /** A view of the mapping. */
  view: Int32Array;
  /** The word's index in `view`. */
  index: number;
  /** The word's address. */
  address: bigint;
}

/** Wakes every waiter of a shared futex word (`FUTEX_WAKE`), in any process. */
export function futexWake(word: FutexWord, count = 0x7fffffff): void {
  libc().futex_wake?.(BigInt(C.SYS_futex), word.address, C.FUTEX_WAKE, count);
}

/** The source "the word no longer holds `expected`". */
export function futexSource(word: FutexWord, expected: number): Source {
  const source: FutexSource = {
    word,
    expected,
    check: () => Atomics.load(word.view, word.index) !== expected ? 1 : 0,
    arm: (p) => futexes.add(source, p),
    disarm: (p) => futexes.remove(source, p),
  };
  return source;
}

interface FutexSource extends Source {
  word: FutexWord;
  expected: number;
}

const WAITV_ENTRY = 24;
/** Futex waits that get a direct thread each where futex_waitv is missing. */
const MAX_DIRECT_FUTEX_THREADS = 8;
/** Most futex_waitv groups (threads) before waits fall back to polling. */
const MAX_FUTEX_GROUPS = 16;

interface FutexWait {
  source: FutexSource;
  pending: Pending;
}

/** One thread waiting on up to 127 futex words and its private wake word. */
class FutexGroup {
  readonly waits = new Set<FutexWait>();
  #entries = new Uint8Array(WAITV_ENTRY * C.FUTEX_WAITV_MAX);
  #wakeWord = new Int32Array(new ArrayBuffer(128));
  #wakeAddress = addressOf(this.#wakeWord);
  #parked = false;

  get full(): boolean {
    return this.waits.size >= C.FUTEX_WAITV_MAX - 1;
  }

  add(wait: FutexWait): void {
    this.waits.add(wait);
    if (this.#parked) this.#wakeUp();
    else void this.#park();
  }

  remove(wait: FutexWait): void {
    if (this.waits.delete(wait) && this.waits.size === 0 && this.#parked) {
      this.#wakeUp();
    }
  }

  #wakeUp(): void {
    Atomics.add(this.#wakeWord, 0, 1);
    libc().futex_wake?.(
      BigInt(C.SYS_futex),
      this.#wakeAddress,
      C.FUTEX_WAKE | C.FUTEX_PRIVATE_FLAG,
      1,
    );
  }

  async #park(): Promise<void> {
    const list = [...this.waits];
    const view = new DataView(this.#entries.buffer);
    list.forEach((w, i) => {
      view.setBigUint64(i * WAITV_ENTRY, BigInt(w.source.expected >>> 0), true);
      view.setBigUint64(
        i * WAITV_ENTRY + 8,
        w.source.word.address,
        true,
      );
      view.setUint32(i * WAITV_ENTRY + 16, C.FUTEX2_SIZE_U32, true);
      view.setUint32(i * WAITV_ENTRY + 20, 0, true);
    });
    const k = list.length;
    view.setBigUint64(
      k * WAITV_ENTRY,
      BigInt(Atomics.load(this.#wakeWord, 0) >>> 0),
      true,
    );
    view.setBigUint64(
      k * WAITV_ENTRY + 8,
      this.#wakeAddress,
      true,
    );
    view.setUint32(
      k * WAITV_ENTRY + 16,
      C.FUTEX2_SIZE_U32 | C.FUTEX2_PRIVATE,
      true,
    );
    view.setUint32(k * WAITV_ENTRY + 20, 0, true);
    this.#parked = true;
    try {
      await libc().futex_waitv_async!(
        BigInt(C.SYS_futex_waitv),
        this.#entries,
        k + 1,
        0,
        null,
        0,
      );
    } finally {
      this.#parked = false;
    }
    for (const w of list) {
      if (this.waits.has(w) && w.source.check() !== 0) {
        w.pending.fire(w.source, 1);
      }
    }
    if (this.waits.size > 0) void this.#park();
  }
}

/** Futex waits: futex_waitv groups, else direct threads, else polling. */
class Futexes {
  #groups: FutexGroup[] = [];
  #byPending = new Map<
    Pending,
    Map<FutexSource, { group: FutexGroup | null; wait: FutexWait }>
  >();
  #direct = 0;
  #waitv: boolean | undefined;

  #hasWaitv(): boolean {
    if (this.#waitv === undefined) {
      // futex_waitv(NULL, 0, 0, NULL, 0) fails with EINVAL where it exists
      // (ENOSYS before Linux 5.16).
      const lib = libc();
      this.#waitv = IS_LINUX && lib.futex_waitv_async !== null &&
        lib.futex_waitv !== null &&
        lib.futex_waitv(BigInt(C.SYS_futex_waitv), null, 0, 0, null, 0) ===
          -1n &&
        errno() === E.EINVAL;
    }
    return this.#waitv;
  }

  add(source: FutexSource, pending: Pending): void {
    const wait = { source, pending };
    let entry: { group: FutexGroup | null; wait: FutexWait };
    if (this.#hasWaitv()) {
      let group = this.#groups.find((g) => !g.full);
      if (!group && this.#groups.length < MAX_FUTEX_GROUPS) {
        group = new FutexGroup();
        this.#groups.push(group);
      }
      if (group) {
        entry = { group, wait };
        group.add(wait);
      } else {
        entry = { group: null, wait };
        pollFutex(wait);
      }
    } else {
      entry = { group: null, wait };
      if (this.#direct < MAX_DIRECT_FUTEX_THREADS && IS_LINUX) {
        this.#direct++;
        void directFutexWait(wait).finally(() => this.#direct--);
      } else {
        pollFutex(wait);
      }
    }
    let map = this.#byPending.get(pending);
    if (!map) this.#byPending.set(pending, map = new Map());
    map.set(source, entry);
  }

  remove(source: FutexSource, pending: Pending): void {
    const map = this.#byPending.get(pending);
    const entry = map?.get(source);
    if (!entry) return;
    map!.delete(source);
    if (map!.size === 0) this.#byPending.delete(pending);
    if (entry.group) entry.group.remove(entry.wait);
    else if (!this.#hasWaitv()) futexWake(source.word); // release a direct thread
  }
}

/** Kernels without futex_waitv: one FUTEX_WAIT on a pool thread per wait. */
async function directFutexWait(wait: FutexWait): Promise<void> {
  const { source, pending } = wait;
  // No check before the first wait: the kernel returns at once (EAGAIN)
  // when the word has changed, and firing synchronously from arm() could
  // chain a caller's retries on microtasks.
  while (!pending.settled) {
    await libc().futex_wait_async!(
      BigInt(C.SYS_futex),
      source.word.address,
      C.FUTEX_WAIT,
      source.expected >>> 0,
      null,
    );
    if (source.check() !== 0) return pending.fire(source, 1);
  }
}

/** No thread left (or no futexes at all): check the word on a backoff timer. */
function pollFutex(wait: FutexWait): void {
  let delay = 1;
  const tick = () => {
    if (wait.pending.settled) return;
    if (wait.source.check() !== 0) return wait.pending.fire(wait.source, 1);
    delay = Math.min(delay * 2, 64);
    setTimeout(tick, delay);
  };
  setTimeout(tick, delay);
}

const futexes = new Futexes();

// --- conditions without a notification ------------------------------------------------

const pollers = new Set<() => void>();

/**
 * The source "`test()` says ready": checked on a backoff schedule (1 ms
 * doubling to `maxDelay`, default 64 ms), and at once when {@linkcode kickPollers} is called
 * (e.g. a lock released by this process). Combine it with an fd source for
 * hints (an inotify fd) in the same wait.
 */
export function pollSource(test: () => boolean, maxDelay = 64): Source {
  const timers = new Map<
    Pending,
    { timer: Timer | undefined; delay: number; kick: () => void }
  >();
  const source: Source = {
    check: () => test() ? 1 : 0,
    arm(p) {
      const state: {
        timer: Timer | undefined;
        delay: number;
        kick: () => void;
      } = {
        timer: undefined,
        delay: 1,
        kick: () => {},
      };
      const tick = () => {
        if (p.settled) return;
        if (test()) return p.fire(source, 1);
        state.delay = Math.min(state.delay * 2, maxDelay);
        const timer = setTimeout(tick, state.delay);
        if (!p.ref) Deno.unrefTimer(timer);
        state.timer = timer;
      };
      state.kick = () => {
        clearTimeout(state.timer);
        state.delay = 1;
        state.timer = setTimeout(tick, 0);
      };
      const timer = setTimeout(tick, state.delay);
      if (!p.ref) Deno.unrefTimer(timer);
      state.timer = timer;
      timers.set(p, state);
      pollers.add(state.kick);
    },
    disarm(p) {
      const state = timers.get(p);
      if (!state) return;
      clearTimeout(state.timer);
      pollers.delete(state.kick);
      timers.delete(p);
    },
  };
  return source;
}

/** Re-checks every polled condition soon (something in this process changed). */
export function kickPollers(): void {
  for (const kick of [...pollers]) kick();
}
