/* Copyright 2026 the posix-ipc authors. MIT license.
 * Shared helpers of the C baselines: a monotonic clock and JSON output. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void print_gbps(double bytes, double seconds) {
  printf("{\"gbps\": %.6f}\n", bytes / seconds / 1e9);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Prints the median and p99 of n round-trip samples (seconds) in µs. */
static void print_latency(double *samples, int n) {
  qsort(samples, n, sizeof *samples, cmp_double);
  printf("{\"medianUs\": %.3f, \"p99Us\": %.3f}\n", samples[n / 2] * 1e6,
         samples[(int)(n * 0.99)] * 1e6);
}
