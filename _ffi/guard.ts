// Copyright 2026 the posix-ipc authors. MIT license.
// The guard: a bound on a system call that should not wait but might.
//
// O_NONBLOCK is a flag of the open file description, which every process
// holding the fd shares. For a listening socket handed to children (and an
// inherited fd that cannot be given a description of its own), another
// process may clear the flag between this process's check and its call; a
// call that then waits would stop JavaScript — timers, signals, everything —
// until something arrives, which may be never. The guard makes such a call
// return EINTR after GUARD_MS: a one-shot per-thread timer (timer_create with
// SIGEV_THREAD_ID) sends a real-time signal whose handler does nothing and is
// installed without SA_RESTART. It is armed only around calls on shared
// descriptions, and fires only when a call has really waited, so it costs
// two timer_settime calls (well under a microsecond) on those calls and
// nothing anywhere else. Where the pieces are missing (macOS, an odd libc,
// the signal already used by someone else), calls run unguarded.

import { C, IS_LINUX } from "./constants.ts";
import { errno, libc } from "./libc.ts";
import { cString } from "../_check/mod.ts";

/** How long a guarded call may wait before it is interrupted. */
export const GUARD_MS = 5;

/** The real-time signal of the guard (SIGRTMAX − 6 on Linux). */
export const GUARD_SIGNAL = 58;

const SIGEV_THREAD_ID = 4;
const SIZEOF_SIGACTION = 152; // handler, sigset_t (128), flags, restorer
const SIZEOF_SIGEVENT = 64;

let installed: boolean | undefined;
const timers = new Map<number, bigint>(); // thread id → timer_t
const arm = new BigInt64Array([0n, 0n, 0n, BigInt(GUARD_MS) * 1_000_000n]);
const armBytes = new Uint8Array(arm.buffer);
const disarmBytes = new Uint8Array(32);

/** Installs the do-nothing handler once; false where the guard cannot work. */
function install(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  const lib = libc();
  if (!IS_LINUX || !lib.timer_create || !lib.timer_settime || !lib.gettid) {
    return false;
  }
  const old = new BigUint64Array(SIZEOF_SIGACTION / 8);
  if (lib.sigaction(GUARD_SIGNAL, null, new Uint8Array(old.buffer)) !== 0) {
    return false;
  }
  // SIG_DFL is 0: anything else means the signal is someone else's.
  if (old[0] !== 0n) return false;
  // Any function that ignores its argument and touches nothing will do as a
  // handler; getpid is async-signal-safe and leaves errno alone.
  const handler = BigInt(libc().dlsym(null, cString("getpid")));
  if (handler === 0n) return false;
  const action = new BigUint64Array(SIZEOF_SIGACTION / 8);
  action[0] = handler; // empty mask, flags 0: no SA_RESTART
  if (lib.sigaction(GUARD_SIGNAL, new Uint8Array(action.buffer), null) !== 0) {
    return false;
  }
  installed = true;
  return true;
}

/** The timer that signals the calling thread, made on first use per thread. */
function timerOfThread(): bigint | null {
  const lib = libc();
  const tid = lib.gettid!();
  const known = timers.get(tid);
  if (known !== undefined) return known;
  const event = new DataView(new ArrayBuffer(SIZEOF_SIGEVENT));
  event.setInt32(8, GUARD_SIGNAL, true); // sigev_signo
  event.setInt32(12, SIGEV_THREAD_ID, true); // sigev_notify
  event.setInt32(16, tid, true); // _sigev_un._tid
  const id = new BigUint64Array(1);
  if (
    lib.timer_create!(
      C.CLOCK_MONOTONIC,
      new Uint8Array(event.buffer),
      new Uint8Array(id.buffer),
    ) !== 0
  ) {
    return null;
  }
  timers.set(tid, id[0]!);
  return id[0]!;
}

/**
 * Runs `call` (one system call that should not wait) with the guard armed,
 * and returns its result with the errno it left: if it waits longer than
 * {@linkcode GUARD_MS}, it fails with EINTR, which the caller treats as "not
 * ready". Unguarded where the guard cannot work.
 */
export function guarded(call: () => number | bigint): [number, number] {
  const timer = install() ? timerOfThread() : null;
  if (timer === null) {
    const result = Number(call());
    return [result, result < 0 ? errno() : 0];
  }
  const settime = libc().timer_settime!;
  settime(timer, 0, armBytes, null);
  let result = -1;
  let code = 0;
  try {
    result = Number(call());
    if (result < 0) code = errno();
  } finally {
    settime(timer, 0, disarmBytes, null);
  }
  return [result, code];
}
