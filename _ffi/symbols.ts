// Copyright 2026 the posix-ipc authors. MIT license.
// The one libc symbol table of the package. Nothing outside `_ffi/` declares
// an FFI symbol. Each parameter is commented with its C type.
//
// Conventions:
// - Calls that can block are never declared blocking: fds are O_NONBLOCK and
//   readiness is awaited with `poll_async`, the only `nonblocking: true` poll.
// - Symbols that a supported libc may lack are `optional: true` (they are then
//   `null`); the code that needs them reports `Deno.errors.NotSupported`.
// - Variadic C functions (open, fcntl, sem_open, mq_open, syscall) are declared
//   with their fixed integer/pointer arguments, which is the calling convention
//   of variadic integer arguments on x86_64 and aarch64 Linux.

/** The libc symbols this package calls. */
export const SYMBOLS = {
  // --- errno -------------------------------------------------------------
  /** int *__errno_location(void) — glibc/musl (an address: see _ffi/memory.ts) */
  __errno_location: { parameters: [], result: "usize", optional: true },
  /** int *__error(void) — macOS */
  __error: { parameters: [], result: "usize", optional: true },
  /** const char *strerrorname_np(int errnum) — glibc ≥ 2.32 */
  strerrorname_np: { parameters: ["i32"], result: "usize", optional: true },
  /** char *strerror(int errnum) */
  strerror: { parameters: ["i32"], result: "usize" },

  // --- memory, through libc (Deno's pointer API needs an unscoped --allow-ffi) ---
  /** void *memmove(void *dst, const void *src, size_t 0) — returns dst: the address of a buffer */
  address_of: {
    name: "memmove",
    parameters: ["buffer", "buffer", "usize"],
    result: "usize",
  },
  /** void *memmove(void *dst, const void *src, size_t n) — copies foreign memory into a buffer */
  copy_from: {
    name: "memmove",
    parameters: ["buffer", "usize", "usize"],
    result: "usize",
  },
  /** size_t strnlen(const char *s, size_t maxlen) */
  strnlen: { parameters: ["usize", "usize"], result: "usize" },

  // --- file descriptors ----------------------------------------------------
  /** int close(int fd) */
  close: { parameters: ["i32"], result: "i32" },
  /** ssize_t read(int fd, void *buf, size_t count) */
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** ssize_t write(int fd, const void *buf, size_t count) */
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** int pipe2(int pipefd[2], int flags) — Linux */
  pipe2: { parameters: ["buffer", "i32"], result: "i32", optional: true },
  /** int pipe(int pipefd[2]) */
  pipe: { parameters: ["buffer"], result: "i32" },
  /** int fcntl(int fd, int cmd, int arg) */
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /** int fstat(int fd, struct stat *statbuf) */
  fstat: { parameters: ["i32", "buffer"], result: "i32" },
  /** int stat(const char *path, struct stat *statbuf) */
  stat: { parameters: ["buffer", "buffer"], result: "i32" },
  /** int open(const char *path, int flags, mode_t mode) */
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  /** int openat(int dirfd, const char *path, int flags, mode_t mode) */
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  /** int fstatat(int dirfd, const char *path, struct stat *statbuf, int flags) — glibc ≥ 2.33 */
  fstatat: {
    parameters: ["i32", "buffer", "buffer", "i32"],
    result: "i32",
    optional: true,
  },
  /** int unlinkat(int dirfd, const char *path, int flags) */
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  /** int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags) */
  linkat: {
    parameters: ["i32", "buffer", "i32", "buffer", "i32"],
    result: "i32",
  },
  /** int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) */
  renameat: { parameters: ["i32", "buffer", "i32", "buffer"], result: "i32" },
  /** int mkdirat(int dirfd, const char *path, mode_t mode) */
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** int fallocate(int fd, int mode, off_t offset, off_t len) — Linux */
  fallocate: {
    parameters: ["i32", "i32", "i64", "i64"],
    result: "i32",
    optional: true,
  },
  /** int posix_fallocate(int fd, off_t offset, off_t len) — returns the error number */
  posix_fallocate: { parameters: ["i32", "i64", "i64"], result: "i32" },
  /** int fstatvfs(int fd, struct statvfs *buf) */
  fstatvfs: { parameters: ["i32", "buffer"], result: "i32" },
  /** mode_t umask(mode_t mask) */
  umask: { parameters: ["u32"], result: "u32" },
  /** const char *gnu_get_libc_version(void) — glibc only */
  gnu_get_libc_version: { parameters: [], result: "pointer", optional: true },
  /** int access(const char *path, int mode) */
  access: { parameters: ["buffer", "i32"], result: "i32" },
  /** int unlink(const char *path) */
  unlink: { parameters: ["buffer"], result: "i32" },
  /** int chmod(const char *path, mode_t mode) */
  chmod: { parameters: ["buffer", "u32"], result: "i32" },
  /** int fchmod(int fd, mode_t mode) */
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  /** int mkfifo(const char *path, mode_t mode) */
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  /** int ftruncate(int fd, off_t length) */
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  /** int flock(int fd, int operation) */
  flock: { parameters: ["i32", "i32"], result: "i32" },
  /** int inotify_init1(int flags) — Linux */
  inotify_init1: { parameters: ["i32"], result: "i32", optional: true },
  /** int inotify_add_watch(int fd, const char *pathname, uint32_t mask) — Linux */
  inotify_add_watch: {
    parameters: ["i32", "buffer", "u32"],
    result: "i32",
    optional: true,
  },
  /** int eventfd(unsigned int initval, int flags) — Linux */
  eventfd: { parameters: ["u32", "i32"], result: "i32", optional: true },

  // --- shared memory -------------------------------------------------------
  /** int shm_open(const char *name, int oflag, mode_t mode) — glibc ≥ 2.34 has it in libc */
  shm_open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  /** int shm_unlink(const char *name) */
  shm_unlink: { parameters: ["buffer"], result: "i32" },
  /** void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) */
  mmap: {
    parameters: ["usize", "usize", "i32", "i32", "i32", "i64"],
    result: "usize",
  },
  /** int munmap(void *addr, size_t length) */
  munmap: { parameters: ["usize", "usize"], result: "i32" },
  /** int memfd_create(const char *name, unsigned int flags) — Linux, glibc ≥ 2.27 */
  memfd_create: {
    parameters: ["buffer", "u32"],
    result: "i32",
    optional: true,
  },
  /** long syscall(SYS_futex, uint32_t *uaddr, FUTEX_WAIT, uint32_t val, const struct timespec *timeout) — on Deno's blocking pool */
  futex_wait_async: {
    name: "syscall",
    parameters: ["i64", "usize", "i32", "u32", "buffer"],
    result: "i64",
    nonblocking: true,
    optional: true,
  },
  /** long syscall(SYS_futex, uint32_t *uaddr, FUTEX_WAKE, int count) */
  futex_wake: {
    name: "syscall",
    parameters: ["i64", "usize", "i32", "i32"],
    result: "i64",
    optional: true,
  },

  // --- semaphores ----------------------------------------------------------
  /** sem_t *sem_open(const char *name, int oflag, mode_t mode, unsigned int value) — SEM_FAILED is NULL on glibc */
  sem_open: { parameters: ["buffer", "i32", "u32", "u32"], result: "usize" },
  /** int sem_close(sem_t *sem) */
  sem_close: { parameters: ["usize"], result: "i32" },
  /** int sem_unlink(const char *name) */
  sem_unlink: { parameters: ["buffer"], result: "i32" },
  /** int sem_post(sem_t *sem) */
  sem_post: { parameters: ["usize"], result: "i32" },
  /** int sem_trywait(sem_t *sem) — a user-space CAS when the count is positive */
  sem_trywait: { parameters: ["usize"], result: "i32" },
  /** int sem_timedwait(sem_t *sem, const struct timespec *abstime) — on Deno's blocking pool; absent on macOS */
  sem_timedwait_async: {
    name: "sem_timedwait",
    parameters: ["usize", "buffer"],
    result: "i32",
    nonblocking: true,
    optional: true,
  },
  /** int sem_getvalue(sem_t *sem, int *sval) */
  sem_getvalue: { parameters: ["usize", "buffer"], result: "i32" },

  // --- message queues (Linux; none on macOS) -------------------------------
  /** mqd_t mq_open(const char *name, int oflag, mode_t mode, struct mq_attr *attr) — an fd on Linux */
  mq_open: {
    parameters: ["buffer", "i32", "u32", "buffer"],
    result: "i32",
    optional: true,
  },
  /** int mq_unlink(const char *name) */
  mq_unlink: { parameters: ["buffer"], result: "i32", optional: true },
  /** int mq_send(mqd_t mqdes, const char *msg_ptr, size_t msg_len, unsigned int msg_prio) */
  mq_send: {
    parameters: ["i32", "buffer", "usize", "u32"],
    result: "i32",
    optional: true,
  },
  /** ssize_t mq_receive(mqd_t mqdes, char *msg_ptr, size_t msg_len, unsigned int *msg_prio) */
  mq_receive: {
    parameters: ["i32", "buffer", "usize", "buffer"],
    result: "isize",
    optional: true,
  },
  /** int mq_timedsend(mqd_t, const char *msg, size_t len, unsigned prio, const struct timespec *abs) — with an expired deadline: never waits, whatever O_NONBLOCK says */
  mq_timedsend: {
    parameters: ["i32", "buffer", "usize", "u32", "buffer"],
    result: "i32",
    optional: true,
  },
  /** ssize_t mq_timedreceive(mqd_t, char *msg, size_t len, unsigned *prio, const struct timespec *abs) — likewise */
  mq_timedreceive: {
    parameters: ["i32", "buffer", "usize", "buffer", "buffer"],
    result: "isize",
    optional: true,
  },
  /** int mq_getattr(mqd_t mqdes, struct mq_attr *attr) */
  mq_getattr: { parameters: ["i32", "buffer"], result: "i32", optional: true },

  // --- sockets -------------------------------------------------------------
  /** int socket(int domain, int type, int protocol) */
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /** int socketpair(int domain, int type, int protocol, int sv[2]) */
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  /** int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen) */
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** int listen(int sockfd, int backlog) */
  listen: { parameters: ["i32", "i32"], result: "i32" },
  /** int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags) — Linux */
  accept4: {
    parameters: ["i32", "buffer", "buffer", "i32"],
    result: "i32",
    optional: true,
  },
  /** int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen) */
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** int shutdown(int sockfd, int how) */
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  /** ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags) */
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  /** ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags) */
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  /** ssize_t sendto(int sockfd, const void *buf, size_t len, int flags, const struct sockaddr *dest, socklen_t addrlen) */
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  /** ssize_t recv(int sockfd, void *buf, size_t len, int flags) */
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  /** ssize_t send(int sockfd, const void *buf, size_t len, int flags) */
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  /** int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen) */
  getsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  /** int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen) */
  setsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "u32"],
    result: "i32",
  },
  /** int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen) */
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  /** int getpeername(int sockfd, struct sockaddr *addr, socklen_t *addrlen) */
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },

  /** int inet_pton(int af, const char *src, void *dst) */
  inet_pton: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  /** int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) — on Deno's blocking pool (DNS) */
  getaddrinfo_async: {
    name: "getaddrinfo",
    parameters: ["buffer", "pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /** int getaddrinfo(…) — synchronous, for listen() (host names from /etc/hosts) */
  getaddrinfo: {
    parameters: ["buffer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  /** void freeaddrinfo(struct addrinfo *res) */
  freeaddrinfo: { parameters: ["usize"], result: "void" },
  /** const char *gai_strerror(int errcode) */
  gai_strerror: { parameters: ["i32"], result: "usize" },
  /** ssize_t readlink(const char *path, char *buf, size_t bufsiz) */
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  /** int getrlimit(int resource, struct rlimit *rlim) */
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },

  // --- readiness -----------------------------------------------------------
  /** int epoll_create1(int flags) — Linux */
  epoll_create1: { parameters: ["i32"], result: "i32", optional: true },
  /** int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event) — Linux */
  epoll_ctl: {
    parameters: ["i32", "i32", "i32", "buffer"],
    result: "i32",
    optional: true,
  },
  /** int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout) — with timeout 0 only */
  epoll_wait: {
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    optional: true,
  },
  /** int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout) — the engine's parked thread */
  epoll_wait_async: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
    optional: true,
  },
  /** long syscall(SYS_futex_waitv, …) — synchronous, only to probe for the call (Linux ≥ 5.16) */
  futex_waitv: {
    name: "syscall",
    parameters: ["i64", "buffer", "u32", "u32", "pointer", "i32"],
    result: "i64",
    optional: true,
  },
  /** long syscall(SYS_futex_waitv, struct futex_waitv *waiters, unsigned int nr, unsigned int flags, struct timespec *timeout, clockid_t clockid) — Linux ≥ 5.16, on Deno's blocking pool */
  futex_waitv_async: {
    name: "syscall",
    parameters: ["i64", "buffer", "u32", "u32", "pointer", "i32"],
    result: "i64",
    nonblocking: true,
    optional: true,
  },
  /** int poll(struct pollfd *fds, nfds_t nfds, int timeout) — never blocks the caller when timeout is 0 */
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  /** int poll(struct pollfd *fds, nfds_t nfds, int timeout) — on Deno's blocking pool */
  poll_async: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },

  // --- processes -----------------------------------------------------------
  /** pid_t getpid(void) */
  getpid: { parameters: [], result: "i32" },
  /** uid_t geteuid(void) */
  geteuid: { parameters: [], result: "u32" },
  /** int fchmodat(int dirfd, const char *path, mode_t mode, int flags) */
  fchmodat: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  /** int mkfifoat(int dirfd, const char *path, mode_t mode) */
  mkfifoat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** uid_t getuid(void) */
  getuid: { parameters: [], result: "u32" },
  /** int kill(pid_t pid, int sig) */
  kill: { parameters: ["i32", "i32"], result: "i32" },
  /** pid_t waitpid(pid_t pid, int *wstatus, int options) */
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  /** int dup3(int oldfd, int newfd, int flags) — Linux */
  dup3: { parameters: ["i32", "i32", "i32"], result: "i32", optional: true },
  /** int sigaction(int sig, const struct sigaction *act, struct sigaction *old) — the guard's signal (see _ffi/guard.ts) */
  sigaction: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  /** int timer_create(clockid_t clock, struct sigevent *sev, timer_t *id) — Linux */
  timer_create: {
    parameters: ["i32", "buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  /** int timer_settime(timer_t id, int flags, const struct itimerspec *new, struct itimerspec *old) */
  timer_settime: {
    parameters: ["usize", "i32", "buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  /** pid_t gettid(void) — glibc ≥ 2.30 */
  gettid: { parameters: [], result: "i32", optional: true },
  /** void *dlsym(void *handle, const char *symbol) — used to read `environ` */
  dlsym: { parameters: ["pointer", "buffer"], result: "usize" },
  /** long syscall(SYS_pidfd_open, pid_t pid, unsigned int flags) — Linux ≥ 5.3 */
  sys_pidfd_open: {
    name: "syscall",
    parameters: ["i64", "i32", "u32"],
    result: "i64",
    optional: true,
  },
  /** long syscall(SYS_pidfd_send_signal, int pidfd, int sig, siginfo_t *info, unsigned int flags) */
  sys_pidfd_send_signal: {
    name: "syscall",
    parameters: ["i64", "i32", "i32", "pointer", "u32"],
    result: "i64",
    optional: true,
  },
  /** int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) */
  posix_spawnp: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "usize"],
    result: "i32",
  },
  /** int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa) */
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  /** int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa) */
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  /** int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd) */
  posix_spawn_file_actions_adddup2: {
    parameters: ["buffer", "i32", "i32"],
    result: "i32",
  },
  /** int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd, const char *path, int oflag, mode_t mode) */
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  /** int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd) */
  posix_spawn_file_actions_addclose: {
    parameters: ["buffer", "i32"],
    result: "i32",
  },
  /** int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa, const char *path) — glibc ≥ 2.29, macOS ≥ 10.15 */
  posix_spawn_file_actions_addchdir_np: {
    parameters: ["buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  /** int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *fa, int from) — glibc ≥ 2.34 */
  posix_spawn_file_actions_addclosefrom_np: {
    parameters: ["buffer", "i32"],
    result: "i32",
    optional: true,
  },
  /** int posix_spawnattr_init(posix_spawnattr_t *attr) */
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  /** int posix_spawnattr_destroy(posix_spawnattr_t *attr) */
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  /** int posix_spawnattr_setflags(posix_spawnattr_t *attr, short flags) */
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  /** int posix_spawnattr_setsigdefault(posix_spawnattr_t *attr, const sigset_t *sigdefault) */
  posix_spawnattr_setsigdefault: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  /** int posix_spawnattr_setsigmask(posix_spawnattr_t *attr, const sigset_t *sigmask) */
  posix_spawnattr_setsigmask: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  /** int posix_spawnattr_setpgroup(posix_spawnattr_t *attr, pid_t pgroup) */
  posix_spawnattr_setpgroup: { parameters: ["buffer", "i32"], result: "i32" },
  /** int sigemptyset(sigset_t *set) */
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  /** int sigaddset(sigset_t *set, int signum) */
  sigaddset: { parameters: ["buffer", "i32"], result: "i32" },

  // --- directories ---------------------------------------------------------
  /** long syscall(SYS_getdents64, unsigned int fd, struct linux_dirent64 *dirp, size_t count) — Linux; names as bytes */
  sys_getdents64: {
    name: "syscall",
    parameters: ["i64", "i32", "buffer", "usize"],
    result: "i64",
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The callable symbols of the loaded libc. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
