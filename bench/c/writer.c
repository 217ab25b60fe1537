/* Copyright 2026 the posix-ipc authors. MIT license.
 * Writes TOTAL bytes in CHUNK-byte writes to FD (default 1), then exits.
 * usage: writer CHUNK TOTAL [FD] */
#include "common.h"
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  size_t chunk = atol(argv[1]), total = atol(argv[2]);
  int fd = argc > 3 ? atoi(argv[3]) : 1;
  char *buf = malloc(chunk);
  memset(buf, 7, chunk);
  for (size_t done = 0; done < total;) {
    ssize_t n = write(fd, buf, total - done < chunk ? total - done : chunk);
    if (n <= 0) return 1;
    done += n;
  }
  return 0;
}
