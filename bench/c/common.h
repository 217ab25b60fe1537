/* Copyright 2026 the posix-ipc authors. MIT license.
 * Shared helpers of the C baselines: a monotonic clock, JSON output, and
 * pinning to a CPU. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
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

static inline void print_gbps(double bytes, double seconds) {
  printf("{\"gbps\": %.6f}\n", bytes / seconds / 1e9);
}

/* Prints `"key": [v, v, …]` (µs, 3 decimals), no trailing comma. */
static inline void print_array(FILE *out, const char *key, const double *v, long n) {
  fprintf(out, "\"%s\": [", key);
  for (long i = 0; i < n; i++) fprintf(out, i ? ",%.3f" : "%.3f", v[i]);
  fputc(']', out);
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Prints the median and p99 of n round-trip samples (seconds) in µs. */
static inline void print_latency(double *samples, int n) {
  qsort(samples, n, sizeof *samples, cmp_double);
  printf("{\"medianUs\": %.3f, \"p99Us\": %.3f}\n", samples[n / 2] * 1e6,
         samples[(int)(n * 0.99)] * 1e6);
}

/* Pins the calling thread (and what it forks later) to one CPU; -1: no-op. */
static inline void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) { perror("sched_setaffinity"); exit(2); }
}
