/* Copyright 2026 the posix-ipc authors. MIT license.
 * The C reader of the sporadic, fan-in, burst and idle scenarios, started
 * by feeder.c: what a C program does to wait for messages — a blocking
 * read/sem_wait/mq_receive/futex per handle, or one epoll_wait over many
 * fds.
 *
 * usage: reader MODE N WARMUP_MS WINDOW_MS [NAME] [burst]
 * MODE: pipe socketpair (read ends at fds 3 … 3+N-1), sem mq ring (NAME-i)
 * One fd: a blocking read(2) loop. Several fds: one thread in epoll_wait.
 * Several semaphores, queues or rings: a thread blocked on each.
 *
 * Prints "ready", then after WARMUP_MS measures WINDOW_MS and prints
 * {"cpuUs", "wallUs", "msgs", "latUs": […]}: user+system CPU time of this
 * process (getrusage RUSAGE_SELF, every thread), wall time and messages of
 * the window, and the delivery latency of each message of the window (now
 * minus the send time in the message). Semaphores carry no send time:
 * "recvUs" (every post received, in order) and "windowUs" instead.
 * burst (fds only): prints "ready", registers all N fds with epoll, prints
 * "pending", and prints {"issueMs", "rssPerRead", "completeMs", "latUs"} once each fd
 * delivered one message: the time to register, the RSS growth per
 * registered fd (/proc/self/statm), and the time from the earliest send
 * to the last delivery. */
#include "common.h"
#include "ring.h"
#include <errno.h>
#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/epoll.h>

enum { PIPE, SOCKETPAIR, SEM, MQ, RING };
static const char *MODES[] = {"pipe", "socketpair", "sem", "mq", "ring"};

static int mode, n, epfd;
static atomic_int phase; /* 0 warm-up, 1 window, 2 done */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double *lat, *recv_us, first_sent = 1e300;
static long lat_n, lat_cap, recv_n, recv_cap, msgs, delivered;
static sem_t **sems;
static mqd_t *queues;
static struct ring **rings;

static void push(double **v, long *len, long *cap, double x) {
  if (*len == *cap) *v = realloc(*v, sizeof(double) * (*cap = *cap * 2 + 4096));
  (*v)[(*len)++] = x;
}

/* One message arrived (`msg` holds its send time, or null for a post). */
static void got(const unsigned char *msg) {
  double now = now_us();
  pthread_mutex_lock(&lock);
  int in_window = atomic_load(&phase) == 1;
  if (msg) {
    double sent;
    memcpy(&sent, msg, 8);
    if (sent < first_sent) first_sent = sent;
    if (in_window) push(&lat, &lat_n, &lat_cap, now - sent);
  } else {
    push(&recv_us, &recv_n, &recv_cap, now);
  }
  msgs += in_window;
  delivered++;
  pthread_mutex_unlock(&lock);
}

static int read64(int fd, unsigned char *buf) {
  for (int got = 0; got < 64;) {
    ssize_t r = read(fd, buf + got, 64 - got);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) return 0;
    got += r;
  }
  return 1;
}

static void *wait_one(void *arg) {
  long i = (long)arg;
  unsigned char buf[64];
  for (;;) {
    if (mode == PIPE || mode == SOCKETPAIR) {
      if (!read64(3 + i, buf)) return 0;
      got(buf);
    } else if (mode == SEM) {
      if (sem_wait(sems[i]) == 0) got(0);
    } else if (mode == MQ) {
      unsigned prio;
      if (mq_receive(queues[i], (char *)buf, 64, &prio) == 64) got(buf);
    } else {
      ring_get(rings[i], buf);
      got(buf);
    }
  }
}

static void *wait_epoll(void *arg) {
  (void)arg;
  struct epoll_event ev[256];
  unsigned char buf[64];
  for (;;) {
    int k = epoll_wait(epfd, ev, 256, -1);
    for (int j = 0; j < k; j++) {
      if (read64(ev[j].data.fd, buf)) got(buf);
      else epoll_ctl(epfd, EPOLL_CTL_DEL, ev[j].data.fd, 0);
    }
  }
  return 0;
}

static long rss_bytes(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  if (f) fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

static void sleep_ms(double ms) {
  struct timespec t = { (time_t)(ms / 1000), (long)((ms - (long)(ms / 1000) * 1000) * 1e6) };
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: reader MODE N WARMUP_MS WINDOW_MS [NAME] [burst]\n");
    return 2;
  }
  mode = -1;
  for (int i = 0; i < 5; i++) if (!strcmp(argv[1], MODES[i])) mode = i;
  n = atoi(argv[2]);
  double warmup = atof(argv[3]), window = atof(argv[4]);
  const char *name = argc > 5 ? argv[5] : 0;
  int burst = argc > 6 && !strcmp(argv[6], "burst");
  if (mode < 0 || n < 1 || (mode >= SEM && !name)) return 2;
  sems = calloc(n, sizeof *sems);
  queues = calloc(n, sizeof *queues);
  rings = calloc(n, sizeof *rings);
  char buf[256];
  for (int i = 0; i < n; i++) {
    snprintf(buf, sizeof buf, "%s-%d", name ? name : "", i);
    if (mode == SEM && (sems[i] = sem_open(buf, 0)) == SEM_FAILED) { perror(buf); return 2; }
    if (mode == MQ && (queues[i] = mq_open(buf, O_RDONLY | O_CLOEXEC)) == (mqd_t)-1) { perror(buf); return 2; }
    if (mode == RING) rings[i] = ring_map(buf, 0);
  }
  int fds = mode == PIPE || mode == SOCKETPAIR;
  pthread_t t;
  if (burst) {
    if (!fds) return 2;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    puts("ready");
    fflush(stdout);
    long rss0 = rss_bytes();
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
      struct epoll_event ev = { .events = EPOLLIN, .data.fd = 3 + i };
      epoll_ctl(epfd, EPOLL_CTL_ADD, 3 + i, &ev);
    }
    double issue_ms = (now_us() - t0) / 1000;
    long rss1 = rss_bytes();
    puts("pending");
    fflush(stdout);
    atomic_store(&phase, 1);
    pthread_create(&t, 0, wait_epoll, 0);
    for (;;) {
      pthread_mutex_lock(&lock);
      long done = delivered;
      pthread_mutex_unlock(&lock);
      if (done >= n) break;
      sleep_ms(1);
    }
    double last = now_us();
    pthread_mutex_lock(&lock);
    printf("{\"issueMs\": %.3f, \"rssPerRead\": %.1f, \"completeMs\": %.3f, ", issue_ms,
           (double)(rss1 - rss0) / n, (last - first_sent) / 1000);
    print_array(stdout, "latUs", lat, lat_n);
    puts("}");
    fflush(stdout);
    _exit(0);
  }
  if (fds && n > 1) {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < n; i++) {
      struct epoll_event ev = { .events = EPOLLIN, .data.fd = 3 + i };
      epoll_ctl(epfd, EPOLL_CTL_ADD, 3 + i, &ev);
    }
    pthread_create(&t, 0, wait_epoll, 0);
  } else {
    for (long i = 0; i < n; i++) {
      pthread_attr_t attr;
      pthread_attr_init(&attr);
      pthread_attr_setstacksize(&attr, 64 << 10);
      pthread_create(&t, &attr, wait_one, (void *)i);
    }
  }
  puts("ready");
  fflush(stdout);
  sleep_ms(warmup);
  pthread_mutex_lock(&lock);
  double cpu0 = cpu_us(), t0 = now_us();
  atomic_store(&phase, 1);
  pthread_mutex_unlock(&lock);
  sleep_ms(window);
  pthread_mutex_lock(&lock);
  double cpu1 = cpu_us(), t1 = now_us();
  atomic_store(&phase, 2);
  printf("{\"cpuUs\": %.0f, \"wallUs\": %.0f, \"msgs\": %ld, ", cpu1 - cpu0, t1 - t0, msgs);
  if (mode == SEM) {
    print_array(stdout, "recvUs", recv_us, recv_n);
    printf(", \"windowUs\": [%.3f, %.3f]}\n", t0, t1);
  } else {
    print_array(stdout, "latUs", lat, lat_n);
    puts("}");
  }
  fflush(stdout);
  _exit(0);
}
