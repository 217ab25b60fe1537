/* Copyright 2026 the posix-ipc authors. MIT license.
 * The sending side of the sporadic, fan-in, burst and idle scenarios, and
 * the parent of the process they measure (the reader, C or Deno).
 *
 * usage: feeder -m MODE -n N [-p PERIOD_US] [-d DELAY_MS] [-c COUNT]
 *               [-t LIMIT_MS] [-s NAME|PATH] [-g LINE] -- READER ARGS…
 * MODE: pipe socketpair (the reader gets the read ends at fds 3 … 3+N-1)
 *       unix (the reader listens on PATH and prints "listening"; N connects)
 *       sem mq ring (named objects NAME-0 … NAME-(N-1), created here,
 *       unlinked once the reader has opened them; ring: see ring.h)
 *
 * Starts READER with its stdout piped here and waits for its "ready" line
 * (and then for LINE, with -g: the reader says when it wants the messages).
 * Then each channel gets one 64-byte message per PERIOD_US (0: none, for
 * idle waiters), the channels staggered evenly, the first DELAY_MS after
 * "ready"; with N channels the sends are batched on a max(PERIOD/N, 1 ms)
 * grid. Bytes 0-7 of a message are its send time (CLOCK_MONOTONIC, µs, a
 * little-endian double) taken just before the write; a semaphore post
 * carries nothing, so its send times are printed instead. Sending stops at
 * COUNT messages per channel (0: no limit), LIMIT_MS after "ready", or when
 * the reader prints its result, whichever comes first. The reader's output
 * after "ready" is relayed to stdout, followed by this process's own line:
 * {"sent": n, "dropped": n[, "sentUs": […]]} (dropped: the channel was full).
 * Exits with the reader's status. */
#include "common.h"
#include "ring.h"
#include <errno.h>
#include <mqueue.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

enum { PIPE, SOCKETPAIR, UNIX, SEM, MQ, RING };
static const char *MODES[] = {"pipe", "socketpair", "unix", "sem", "mq", "ring"};

static char *out;
static size_t out_len, out_cap, out_seen;
static int out_fd;

/* Reads what the reader printed; returns 0 at EOF. */
static int pump(void) {
  if (out_cap - out_len < 65536) out = realloc(out, out_cap = out_cap * 2 + 65536);
  ssize_t n = read(out_fd, out + out_len, out_cap - out_len);
  if (n < 0 && errno == EINTR) return 1;
  if (n <= 0) return 0;
  out_len += n;
  return 1;
}

/* Waits for the line `want`; everything after it stays unread. */
static void expect(const char *want) {
  size_t len = strlen(want);
  for (;;) {
    char *nl;
    while (out_seen < out_len && (nl = memchr(out + out_seen, '\n', out_len - out_seen))) {
      size_t line = nl - (out + out_seen);
      int match = line == len && !memcmp(out + out_seen, want, len);
      out_seen += line + 1;
      if (match) return;
    }
    if (!pump()) {
      fprintf(stderr, "feeder: the reader ended before printing \"%s\"\n", want);
      exit(3);
    }
  }
}

static pid_t child;
static int names_mode = -1, names_n;
static const char *names_prefix;
static void unlink_all(int mode, const char *prefix, int n);

/* SIGTERM/SIGINT (the benchmark's watchdog): take the reader and the names along. */
static void on_term(int sig) {
  if (child > 0) kill(child, SIGKILL);
  unlink_all(names_mode, names_prefix, names_n);
  _exit(128 + sig);
}

static char name_buf[256];
static const char *name_of(const char *prefix, int i) {
  snprintf(name_buf, sizeof name_buf, "%s-%d", prefix, i);
  return name_buf;
}

static void unlink_all(int mode, const char *prefix, int n) {
  for (int i = 0; i < n && prefix; i++) {
    if (mode == SEM) sem_unlink(name_of(prefix, i));
    if (mode == MQ) mq_unlink(name_of(prefix, i));
    if (mode == RING) shm_unlink(name_of(prefix, i));
  }
}

int main(int argc, char **argv) {
  int mode = -1, n = 1, opt;
  long count = 0;
  double period = 0, delay_ms = 0, limit_ms = 0;
  const char *name = 0, *go = 0;
  while ((opt = getopt(argc, argv, "m:n:p:d:c:t:s:g:")) != -1) {
    switch (opt) {
      case 'm':
        for (int i = 0; i < 6; i++) if (!strcmp(optarg, MODES[i])) mode = i;
        break;
      case 'n': n = atoi(optarg); break;
      case 'p': period = atof(optarg); break;
      case 'd': delay_ms = atof(optarg); break;
      case 'c': count = atol(optarg); break;
      case 't': limit_ms = atof(optarg); break;
      case 's': name = optarg; break;
      case 'g': go = optarg; break;
      default: return 2;
    }
  }
  if (mode < 0 || n < 1 || optind >= argc || (mode >= UNIX && !name)) {
    fprintf(stderr, "usage: feeder -m MODE -n N [-p PERIOD_US] [-d DELAY_MS] [-c COUNT] [-t LIMIT_MS] [-s NAME] [-g LINE] -- READER ARGS…\n");
    return 2;
  }
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  int *wr = calloc(n, sizeof *wr), *rd = calloc(n, sizeof *rd);
  sem_t **sems = calloc(n, sizeof *sems);
  mqd_t *queues = calloc(n, sizeof *queues);
  struct ring **rings = calloc(n, sizeof *rings);
  for (int i = 0; i < n; i++) {
    int fds[2];
    if (mode == PIPE) {
      if (pipe2(fds, O_CLOEXEC) != 0) { perror("pipe2"); return 2; }
      rd[i] = fds[0];
      wr[i] = fds[1];
    } else if (mode == SOCKETPAIR) {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) { perror("socketpair"); return 2; }
      rd[i] = fds[0];
      wr[i] = fds[1];
    } else if (mode == SEM) {
      sems[i] = sem_open(name_of(name, i), O_CREAT | O_EXCL, 0600, 0);
      if (sems[i] == SEM_FAILED) { perror(name_buf); unlink_all(mode, name, i); return 2; }
    } else if (mode == MQ) {
      /* Deep enough that a reader stalled for tens of ms loses nothing, where
       * the system allows more than the usual limit of 10 (root does). */
      struct mq_attr at = { .mq_maxmsg = n == 1 ? 256 : 10, .mq_msgsize = 64 };
      queues[i] = mq_open(name_of(name, i), O_CREAT | O_EXCL | O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0600, &at);
      if (queues[i] == (mqd_t)-1 && errno == EINVAL && at.mq_maxmsg > 10) {
        at.mq_maxmsg = 10;
        queues[i] = mq_open(name_buf, O_CREAT | O_EXCL | O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0600, &at);
      }
      if (queues[i] == (mqd_t)-1) { perror(name_buf); unlink_all(mode, name, i); return 2; }
    } else if (mode == RING) {
      rings[i] = ring_map(name_of(name, i), 1);
    }
  }

  names_mode = mode;
  names_prefix = name;
  names_n = n;
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  int outp[2];
  if (pipe2(outp, O_CLOEXEC) != 0) { perror("pipe2"); return 2; }
  child = fork();
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the feeder */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    dup2(outp[1], 1);
    if (mode == PIPE || mode == SOCKETPAIR) {
      /* Read ends to 3 … 3+n-1: first above that range, then into it. */
      for (int i = 0; i < n; i++) rd[i] = fcntl(rd[i], F_DUPFD, 3 + n);
      for (int i = 0; i < n; i++) dup2(rd[i], 3 + i);
      for (int fd = 3 + n; fd < (int)lim.rlim_cur && fd < 3 + 4 * n + 64; fd++) close(fd);
    }
    execvp(argv[optind], argv + optind);
    perror(argv[optind]);
    _exit(127);
  }
  close(outp[1]);
  out_fd = outp[0];
  for (int i = 0; i < n && (mode == PIPE || mode == SOCKETPAIR); i++) {
    close(rd[i]);
    fcntl(wr[i], F_SETFL, O_NONBLOCK);
  }
  if (mode == UNIX) {
    expect("listening");
    for (int i = 0; i < n; i++) {
      struct sockaddr_un to = { .sun_family = AF_UNIX };
      strncpy(to.sun_path, name, sizeof to.sun_path - 1);
      wr[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (connect(wr[i], (void *)&to, sizeof to) != 0) { perror("connect"); kill(child, 9); return 2; }
      fcntl(wr[i], F_SETFL, O_NONBLOCK);
    }
  }
  expect("ready");
  unlink_all(mode, name, n);
  if (go) expect(go);

  double start = now_us();
  double t0 = start + delay_ms * 1000;
  double step = period > 0 ? period / n : 0;
  double grid = step > 1000 ? step : 1000;
  if (period > 0 && grid > period) grid = period;
  long total = count > 0 ? count * n : -1, m = 0, dropped = 0;
  long sent_cap = mode == SEM ? 1 << 16 : 0, sent_n = 0;
  double *sent_us = sent_cap ? malloc(sizeof(double) * sent_cap) : 0;
  unsigned char msg[64] = {0};
  int sending = period > 0;
  for (;;) {
    double now = now_us();
    if (limit_ms > 0 && now - start >= limit_ms * 1000) sending = 0;
    while (sending && (total < 0 || m < total) && t0 + m * step <= now) {
      int i = (int)(m % n);
      double stamp = now_us();
      memcpy(msg, &stamp, 8);
      memcpy(msg + 8, &m, 8);
      int ok = 1;
      if (mode == PIPE || mode == SOCKETPAIR || mode == UNIX) ok = write(wr[i], msg, 64) == 64;
      else if (mode == SEM) {
        sem_post(sems[i]);
        if (sent_n < sent_cap) sent_us[sent_n++] = stamp;
      } else if (mode == MQ) ok = mq_send(queues[i], (char *)msg, 64, 0) == 0;
      else ok = ring_put(rings[i], msg);
      dropped += !ok;
      m++;
    }
    if (total >= 0 && m >= total) sending = 0;
    struct timespec ts, *timeout = 0;
    if (sending) {
      double next = t0 + m * step;
      double wake = t0 + grid * (long)((next - t0 + grid - 1e-3) / grid);
      double left = wake - now_us();
      if (left < 0) left = 0;
      if (limit_ms > 0 && left > limit_ms * 1000 - (now - start)) left = limit_ms * 1000 - (now - start);
      ts.tv_sec = (time_t)(left / 1e6);
      ts.tv_nsec = (long)((left - ts.tv_sec * 1e6) * 1e3);
      timeout = &ts;
    } /* else nothing more to send: wait for the result */
    struct pollfd p = { .fd = out_fd, .events = POLLIN };
    int r = ppoll(&p, 1, timeout, 0);
    if (r > 0) break; /* the reader is printing its result (or died) */
  }
  while (pump()) {}
  int status = 0;
  waitpid(child, &status, 0);
  fwrite(out + out_seen, 1, out_len - out_seen, stdout);
  printf("{\"sent\": %ld, \"dropped\": %ld", mode == SEM ? sent_n : m, dropped);
  if (sent_us) {
    printf(", ");
    print_array(stdout, "sentUs", sent_us, sent_n);
  }
  printf("}\n");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
