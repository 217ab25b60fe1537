/* Copyright 2026 the posix-ipc authors. MIT license.
 * Round trips between two processes (fork), SIZE bytes each way (a post for
 * semaphores, a signal each way for signals, a 32-bit word for shm).
 * usage: pingpong MODE COUNT SIZE [GAP_US [PARENT_CPU CHILD_CPU]]
 * MODE: pipe fifo unix tcp dgram sem mq signal shm-spin shm-futex
 * GAP_US: sleep this long (nanosleep) after each round trip, so both sides
 * go idle between messages (default 0: back to back).
 * PARENT_CPU, CHILD_CPU: pin each process to that CPU (-1: leave it to the
 * scheduler; the default). Same CPU: every wake-up is a context switch on
 * one core; different CPUs: a cross-core wake-up.
 * Prints {"cpuUs": …, "samplesUs": […]}: the user+system CPU time of the
 * timing (parent) process over all round trips, and the last 90% of round
 * trips, in µs. */
#include "common.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void full_write(int fd, const char *b, size_t n) {
  while (n) { ssize_t w = write(fd, b, n); if (w <= 0) _exit(3); b += w; n -= w; }
}
static void full_read(int fd, char *b, size_t n) {
  while (n) { ssize_t r = read(fd, b, n); if (r <= 0) _exit(4); b += r; n -= r; }
}
static void futex_wait(atomic_uint *w, unsigned v) { syscall(SYS_futex, w, FUTEX_WAIT, v, 0, 0, 0); }
static void futex_wake(atomic_uint *w) { syscall(SYS_futex, w, FUTEX_WAKE, 1, 0, 0, 0); }
static volatile sig_atomic_t got;
static void on_signal(int s) { (void)s; got = 1; }

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  const char *mode = argv[1];
  int count = atoi(argv[2]);
  size_t size = atol(argv[3]);
  long gap_us = argc > 4 ? atol(argv[4]) : 0;
  int parent_cpu = argc > 5 ? atoi(argv[5]) : -1;
  int child_cpu = argc > 6 ? atoi(argv[6]) : -1;
  struct timespec gap = { gap_us / 1000000, (gap_us % 1000000) * 1000 };
  char *buf = calloc(1, size + 8);
  double *samples = malloc(sizeof(double) * count);
  int a[2], b[2];              /* parent → child on a, child → parent on b */
  char path_a[64], path_b[64];
  sem_t *sa = 0, *sb = 0;
  mqd_t qa = 0, qb = 0;
  atomic_uint *shm = 0;
  int is = !strcmp(mode, "pipe") ? 1 : 0;
  snprintf(path_a, sizeof path_a, "/pingpong-a-%d", getpid());
  snprintf(path_b, sizeof path_b, "/pingpong-b-%d", getpid());
  if (is) { pipe(a); pipe(b); }
  else if (!strcmp(mode, "fifo")) {
    snprintf(path_a, sizeof path_a, "/tmp/pingpong-a-%d", getpid());
    snprintf(path_b, sizeof path_b, "/tmp/pingpong-b-%d", getpid());
    mkfifo(path_a, 0600); mkfifo(path_b, 0600);
  } else if (!strcmp(mode, "unix")) { socketpair(AF_UNIX, SOCK_STREAM, 0, a); }
  else if (!strcmp(mode, "dgram")) { socketpair(AF_UNIX, SOCK_DGRAM, 0, a); }
  else if (!strcmp(mode, "sem")) {
    sa = sem_open(path_a, O_CREAT | O_EXCL, 0600, 0); sb = sem_open(path_b, O_CREAT | O_EXCL, 0600, 0);
  } else if (!strcmp(mode, "mq")) {
    struct mq_attr at = { .mq_maxmsg = 8, .mq_msgsize = size < 64 ? 64 : size };
    qa = mq_open(path_a, O_CREAT | O_EXCL | O_RDWR, 0600, &at);
    qb = mq_open(path_b, O_CREAT | O_EXCL | O_RDWR, 0600, &at);
  } else if (!strncmp(mode, "shm", 3)) {
    shm = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  }
  int listener = -1, port = 0;
  if (!strcmp(mode, "tcp")) {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bind(listener, (void *)&in, sizeof in); listen(listener, 1);
    socklen_t len = sizeof in; getsockname(listener, (void *)&in, &len); port = ntohs(in.sin_port);
  }
  sigset_t set; sigemptyset(&set); sigaddset(&set, SIGUSR1); sigaddset(&set, SIGUSR2);
  if (!strcmp(mode, "signal")) sigprocmask(SIG_BLOCK, &set, 0);
  pid_t parent = getpid();
  pin(parent_cpu);
  pid_t pid = fork();
  if (pid == 0) {
    pin(child_cpu);
    int in = -1, out = -1;
    if (is) { in = a[0]; out = b[1]; }
    else if (!strcmp(mode, "fifo")) { in = open(path_a, O_RDONLY); out = open(path_b, O_WRONLY); }
    else if (!strcmp(mode, "unix") || !strcmp(mode, "dgram")) { in = out = a[1]; }
    else if (!strcmp(mode, "tcp")) {
      in = out = socket(AF_INET, SOCK_STREAM, 0);
      struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
      connect(in, (void *)&to, sizeof to);
      int one = 1; setsockopt(in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    for (int i = 0; i < count; i++) {
      if (in >= 0 && strcmp(mode, "dgram")) { full_read(in, buf, size); full_write(out, buf, size); }
      else if (!strcmp(mode, "dgram")) { recv(in, buf, size, 0); send(out, buf, size, 0); }
      else if (sa) { sem_wait(sa); sem_post(sb); }
      else if (qa) { unsigned p; mq_receive(qa, buf, size < 64 ? 64 : size, &p); mq_send(qb, buf, size, 0); }
      else if (shm) {
        unsigned v = (unsigned)(2 * i + 1);
        /* shm[0] holds the previous round's v - 2 (0 before the first). */
        while (atomic_load(&shm[0]) != v) { if (mode[4] == 'f') futex_wait(&shm[0], v - 2 == (unsigned)-1 ? 0 : v - 2); }
        atomic_store(&shm[16], v); if (mode[4] == 'f') futex_wake(&shm[16]);
      } else { int s; sigwait(&set, &s); kill(parent, SIGUSR2); }
    }
    _exit(0);
  }
  int in = -1, out = -1;
  if (is) { out = a[1]; in = b[0]; }
  else if (!strcmp(mode, "fifo")) { out = open(path_a, O_WRONLY); in = open(path_b, O_RDONLY); }
  else if (!strcmp(mode, "unix") || !strcmp(mode, "dgram")) { in = out = a[0]; }
  else if (!strcmp(mode, "tcp")) {
    in = out = accept(listener, 0, 0);
    int one = 1; setsockopt(in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  double cpu0 = cpu_us();
  for (int i = 0; i < count; i++) {
    double t = now_s();
    if (in >= 0 && strcmp(mode, "dgram")) { full_write(out, buf, size); full_read(in, buf, size); }
    else if (!strcmp(mode, "dgram")) { send(out, buf, size, 0); recv(in, buf, size, 0); }
    else if (sa) { sem_post(sa); sem_wait(sb); }
    else if (qa) { unsigned p; mq_send(qa, buf, size, 0); mq_receive(qb, buf, size < 64 ? 64 : size, &p); }
    else if (shm) {
      unsigned v = (unsigned)(2 * i + 1);
      atomic_store(&shm[0], v); if (mode[4] == 'f') futex_wake(&shm[0]);
      while (atomic_load(&shm[16]) != v) { if (mode[4] == 'f') futex_wait(&shm[16], v - 2 == (unsigned)-1 ? 0 : v - 2); }
    } else { int s; kill(pid, SIGUSR1); sigwait(&set, &s); }
    samples[i] = now_s() - t;
    if (gap_us > 0) nanosleep(&gap, 0);
  }
  double cpu = cpu_us() - cpu0;
  waitpid(pid, 0, 0);
  if (!strcmp(mode, "fifo")) { unlink(path_a); unlink(path_b); }
  if (sa) { sem_unlink(path_a); sem_unlink(path_b); }
  if (qa) { mq_unlink(path_a); mq_unlink(path_b); }
  int skip = count / 10;
  print_latency(cpu, samples + skip, count - skip);
  (void)got; (void)on_signal;
  return 0;
}
