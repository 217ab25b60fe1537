/* Copyright 2026 the posix-ipc authors. MIT license.
 * One-way throughput through a single-producer single-consumer ring in
 * shared memory between two processes (fork), the same algorithm as
 * ShmChannel: byte positions, memcpy in and out, and — in futex mode — a
 * sleep on the other side's sequence word when the ring is full or empty
 * (after a short spin). Also the memcpy bandwidth of this machine.
 * usage: shm_ring spin|futex CHUNK TOTAL [CAPACITY] | shm_ring memcpy CHUNK TOTAL */
#include "common.h"
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct ring {
  _Alignas(64) atomic_ulong head; atomic_uint head_seq; atomic_uint reader_waiting;
  _Alignas(64) atomic_ulong tail; atomic_uint tail_seq; atomic_uint writer_waiting;
  _Alignas(64) atomic_uint done;
};

static void wait_seq(atomic_uint *seq, unsigned seen, atomic_uint *waiting, int futex) {
  for (int i = 0; i < 2000; i++) if (atomic_load(seq) != seen) return;
  if (!futex) { while (atomic_load(seq) == seen) {} return; }
  atomic_store(waiting, 1);
  if (atomic_load(seq) == seen) syscall(SYS_futex, seq, FUTEX_WAIT, seen, 0, 0, 0);
  atomic_store(waiting, 0);
}
static void bump(atomic_uint *seq, atomic_uint *waiting) {
  atomic_fetch_add(seq, 1);
  if (atomic_load(waiting)) syscall(SYS_futex, seq, FUTEX_WAKE, 1, 0, 0, 0);
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  size_t chunk = atol(argv[2]), total = atol(argv[3]);
  if (!strcmp(argv[1], "memcpy")) {
    char *a = malloc(chunk), *b = malloc(chunk);
    memset(a, 1, chunk); memset(b, 2, chunk);
    double start = now_s();
    for (size_t done = 0; done < total; done += chunk) { memcpy(b, a, chunk); a[done % chunk] = b[0]; }
    print_gbps(total, now_s() - start);
    return 0;
  }
  int futex = !strcmp(argv[1], "futex");
  size_t cap = argc > 4 ? atol(argv[4]) : 4 << 20;
  struct ring *r = mmap(0, sizeof *r + cap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  char *data = (char *)(r + 1);
  pid_t pid = fork();
  if (pid == 0) {
    char *src = malloc(chunk); memset(src, 7, chunk);
    unsigned long head = 0;
    for (size_t sent = 0; sent < total;) {
      unsigned seen = atomic_load(&r->tail_seq);
      size_t used = head - atomic_load(&r->tail);
      size_t n = cap - used;
      if (n == 0) { wait_seq(&r->tail_seq, seen, &r->writer_waiting, futex); continue; }
      size_t left = chunk - (sent % chunk); if (n > left) n = left;
      size_t at = head % cap, first = n < cap - at ? n : cap - at;
      memcpy(data + at, src + (sent % chunk), first);
      memcpy(data, src + (sent % chunk) + first, n - first);
      head += n; sent += n;
      atomic_store(&r->head, head);
      bump(&r->head_seq, &r->reader_waiting);
    }
    atomic_store(&r->done, 1); bump(&r->head_seq, &r->reader_waiting);
    _exit(0);
  }
  char *dst = malloc(chunk);
  unsigned long tail = 0; size_t got = 0; double start = 0;
  for (;;) {
    unsigned seen = atomic_load(&r->head_seq);
    size_t used = atomic_load(&r->head) - tail;
    if (used == 0) {
      if (atomic_load(&r->done) && atomic_load(&r->head) == tail) break;
      wait_seq(&r->head_seq, seen, &r->reader_waiting, futex); continue;
    }
    size_t n = used < chunk ? used : chunk;
    size_t at = tail % cap, first = n < cap - at ? n : cap - at;
    memcpy(dst, data + at, first); memcpy(dst + first, data, n - first);
    if (!start) start = now_s();
    tail += n; got += n;
    atomic_store(&r->tail, tail);
    bump(&r->tail_seq, &r->writer_waiting);
  }
  double seconds = now_s() - start;
  waitpid(pid, 0, 0);
  print_gbps(got, seconds);
  return got == total ? 0 : 1;
}
