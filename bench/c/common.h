/* Copyright 2026 the posix-ipc authors. MIT license.
 * Shared helpers of the C baselines: a monotonic clock, JSON output, and
 * pinning to a CPU. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* CLOCK_MONOTONIC in µs: the clock every process of the benchmark stamps
 * messages with (the Deno side reads the same clock). */
static inline double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* User+system CPU time of this process so far, µs (getrusage). */
static inline double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_sec * 1e6 + u.ru_stime.tv_usec;
}

static inline void print_gbps(double bytes, double seconds) {
  printf("{\"gbps\": %.6f}\n", bytes / seconds / 1e9);
}

/* Prints `"key": [v, v, …]` (µs, 3 decimals), no trailing comma. */
static inline void print_array(FILE *out, const char *key, const double *v, long n) {
  fprintf(out, "\"%s\": [", key);
  for (long i = 0; i < n; i++) fprintf(out, i ? ",%.3f" : "%.3f", v[i]);
  fputc(']', out);
}

/* Prints {"cpuUs": …, "samplesUs": […]}: CPU time (µs) and n round-trip
 * samples (seconds) in µs. */
static inline void print_latency(double cpu_us, double *samples, int n) {
  for (int i = 0; i < n; i++) samples[i] *= 1e6;
  printf("{\"cpuUs\": %.0f, ", cpu_us);
  print_array(stdout, "samplesUs", samples, n);
  puts("}");
}

/* Pins the calling thread (and what it forks later) to one CPU; -1: no-op. */
static inline void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) { perror("sched_setaffinity"); exit(2); }
}
