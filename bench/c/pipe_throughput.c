/* Copyright 2026 the posix-ipc authors. MIT license.
 * One-way throughput through a pipe (or a FIFO when a path is given) between
 * two processes: the child writes `total` bytes in `chunk`-byte writes, the
 * parent reads with `chunk`-byte reads, timed from the first byte to EOF.
 * usage: pipe_throughput CHUNK TOTAL PIPE_SIZE [FIFO_PATH] */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  size_t chunk = atol(argv[1]), total = atol(argv[2]);
  int pipe_size = atoi(argv[3]);
  const char *fifo = argc > 4 ? argv[4] : NULL;
  int rfd, wfd;
  if (fifo) {
    unlink(fifo);
    if (mkfifo(fifo, 0600) != 0) { perror("mkfifo"); return 1; }
  } else {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    rfd = fds[0];
    wfd = fds[1];
  }
  pid_t pid = fork();
  if (pid == 0) {
    if (fifo) wfd = open(fifo, O_WRONLY);
    else close(rfd);
    if (pipe_size) fcntl(wfd, F_SETPIPE_SZ, pipe_size);
    char *buf = malloc(chunk);
    memset(buf, 7, chunk);
    for (size_t done = 0; done < total;) {
      ssize_t n = write(wfd, buf, chunk);
      if (n <= 0) _exit(1);
      done += n;
    }
    _exit(0);
  }
  if (fifo) rfd = open(fifo, O_RDONLY);
  else close(wfd);
  if (pipe_size) fcntl(rfd, F_SETPIPE_SZ, pipe_size);
  char *buf = malloc(chunk);
  size_t got = 0;
  ssize_t n = read(rfd, buf, chunk);
  double start = now_s();
  while (n > 0) {
    got += n;
    n = read(rfd, buf, chunk);
  }
  double seconds = now_s() - start;
  waitpid(pid, NULL, 0);
  if (fifo) unlink(fifo);
  print_gbps(got, seconds);
  return got == total ? 0 : 1;
}
