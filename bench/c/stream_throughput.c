/* Copyright 2026 the posix-ipc authors. MIT license.
 * One-way throughput over a Unix stream socket pair or TCP loopback between
 * two processes (fork): CHUNK-byte writes, CHUNK-byte reads, timed from the
 * first byte to EOF.  usage: stream_throughput unix|tcp CHUNK TOTAL */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int tcp = !strcmp(argv[1], "tcp");
  size_t chunk = atol(argv[2]), total = atol(argv[3]);
  int fds[2], listener = -1, port = 0;
  if (tcp) {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bind(listener, (void *)&in, sizeof in); listen(listener, 1);
    socklen_t len = sizeof in; getsockname(listener, (void *)&in, &len); port = ntohs(in.sin_port);
  } else {
    socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
  }
  pid_t pid = fork();
  if (pid == 0) {
    int fd = fds[1];
    if (tcp) {
      fd = socket(AF_INET, SOCK_STREAM, 0);
      struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
      connect(fd, (void *)&to, sizeof to);
    } else close(fds[0]);
    char *buf = malloc(chunk); memset(buf, 7, chunk);
    for (size_t done = 0; done < total;) { ssize_t n = write(fd, buf, chunk); if (n <= 0) _exit(1); done += n; }
    _exit(0);
  }
  int fd = tcp ? accept(listener, 0, 0) : fds[0];
  if (!tcp) close(fds[1]);
  char *buf = malloc(chunk);
  size_t got = 0;
  ssize_t n = read(fd, buf, chunk);
  double start = now_s();
  while (n > 0) { got += n; n = read(fd, buf, chunk); }
  double seconds = now_s() - start;
  waitpid(pid, 0, 0);
  print_gbps(got, seconds);
  return got >= total ? 0 : 1;
}
