/* Copyright 2026 the posix-ipc authors. MIT license.
 * The C baseline of ShmChannel for the feeder and reader: a single-producer
 * single-consumer ring of 64-byte messages in POSIX shared memory. The
 * reader spins briefly on the writer's sequence word, then sleeps in
 * FUTEX_WAIT (shared); the writer wakes it when it said it sleeps. */
#include <fcntl.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RING_CAP (64 << 10)
#define RING_MSG 64

struct ring {
  _Alignas(64) atomic_ulong head;
  atomic_uint head_seq;
  atomic_uint reader_waiting;
  _Alignas(64) atomic_ulong tail;
  _Alignas(64) unsigned char data[RING_CAP];
};

/* Maps the ring NAME, creating it (exclusively) when `create`. */
static inline struct ring *ring_map(const char *name, int create) {
  int fd = shm_open(name, create ? O_CREAT | O_EXCL | O_RDWR : O_RDWR, 0600);
  if (fd < 0) { perror(name); exit(2); }
  if (create && ftruncate(fd, sizeof(struct ring)) != 0) { perror("ftruncate"); exit(2); }
  void *p = mmap(0, sizeof(struct ring), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(2); }
  close(fd);
  return p;
}

/* Appends one message; returns 0 when the ring is full. */
static inline int ring_put(struct ring *r, const void *msg) {
  unsigned long head = atomic_load(&r->head);
  if (head - atomic_load(&r->tail) > RING_CAP - RING_MSG) return 0;
  memcpy(r->data + head % RING_CAP, msg, RING_MSG);
  atomic_store(&r->head, head + RING_MSG);
  atomic_fetch_add(&r->head_seq, 1);
  if (atomic_load(&r->reader_waiting)) syscall(SYS_futex, &r->head_seq, FUTEX_WAKE, 1, 0, 0, 0);
  return 1;
}

/* Takes one message, waiting as long as it takes. */
static inline void ring_get(struct ring *r, void *msg) {
  for (;;) {
    unsigned seen = atomic_load(&r->head_seq);
    unsigned long tail = atomic_load(&r->tail);
    if (atomic_load(&r->head) != tail) {
      memcpy(msg, r->data + tail % RING_CAP, RING_MSG);
      atomic_store(&r->tail, tail + RING_MSG);
      return;
    }
    int moved = 0;
    for (int i = 0; i < 2000 && !moved; i++) moved = atomic_load(&r->head_seq) != seen;
    if (moved) continue;
    atomic_store(&r->reader_waiting, 1);
    if (atomic_load(&r->head_seq) == seen) syscall(SYS_futex, &r->head_seq, FUTEX_WAIT, seen, 0, 0, 0);
    atomic_store(&r->reader_waiting, 0);
  }
}
