/* syscall.c: the ring-0 system call layer under musl. musl's `syscall` instructions land here (see
 * syscall_entry in boot/interrupts.asm); this file implements what musl and QuickJS need. Anything else
 * panics with the syscall number, so a missing piece is never silent. Runs with interrupts off and is
 * compiled without SSE: the caller's vector registers must survive. */
#include "cpu.h"
#include "uos.h"

struct syscall_frame { uint64_t rax, r9, r8, r10, rdx, rsi, rdi, rbx, rcx, r11; };

enum {
  SYS_read = 0, SYS_write = 1, SYS_open = 2, SYS_close = 3, SYS_fstat = 5, SYS_poll = 7, SYS_lseek = 8,
  SYS_mmap = 9, SYS_mprotect = 10, SYS_munmap = 11, SYS_brk = 12, SYS_rt_sigaction = 13,
  SYS_rt_sigprocmask = 14, SYS_ioctl = 16, SYS_readv = 19, SYS_writev = 20, SYS_sched_yield = 24,
  SYS_mremap = 25, SYS_madvise = 28, SYS_getpid = 39, SYS_exit = 60, SYS_kill = 62, SYS_uname = 63,
  SYS_fcntl = 72, SYS_gettimeofday = 96, SYS_getuid = 102, SYS_getgid = 104, SYS_geteuid = 107,
  SYS_getegid = 108, SYS_arch_prctl = 158, SYS_gettid = 186, SYS_tkill = 200, SYS_time = 201,
  SYS_futex = 202, SYS_set_tid_address = 218, SYS_clock_gettime = 228, SYS_clock_getres = 229,
  SYS_exit_group = 231, SYS_tgkill = 234, SYS_openat = 257, SYS_newfstatat = 262, SYS_getrandom = 318,
};

#define E_PERM 1
#define E_NOENT 2
#define E_BADF 9
#define E_NOMEM 12
#define E_INVAL 22
#define E_NOTTY 25
#define E_SPIPE 29
#define E_NOSYS 38

#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE 128

struct iovec { const void *base; size_t length; };
struct timespec { int64_t seconds, nanoseconds; };
struct timeval { int64_t seconds, microseconds; };

static uint64_t mmap_bytes;

static void zero_pages(uint64_t address, uint64_t bytes) {
  uint64_t count = bytes / 8;
  __asm__ volatile("rep stosq" : "+D"(address), "+c"(count) : "a"(0ull) : "memory");
}

static void fill_time(int clock, struct timespec *ts) {
  uint64_t ns = (clock == 0 || clock == 5 || clock == 8) ? wall_clock_ns() : monotonic_ns();
  ts->seconds = (int64_t)(ns / 1000000000ull);
  ts->nanoseconds = (int64_t)(ns % 1000000000ull);
}

static const char *signal_name(uint64_t sig) {
  switch (sig) {
    case 6: return "SIGABRT (abort)";
    case 8: return "SIGFPE";
    case 11: return "SIGSEGV";
    default: return "a signal";
  }
}

static int64_t do_mmap(uint64_t hint, uint64_t length, uint64_t flags, int64_t fd) {
  (void)hint;
  if (!(flags & MAP_ANONYMOUS) || fd != -1) return -E_NOSYS;
  if (flags & MAP_FIXED) return -E_INVAL;
  if (!length) return -E_INVAL;
  uint64_t pages = ALIGN_UP(length, PAGE_SIZE) / PAGE_SIZE;
  uint64_t address = page_alloc(pages);
  if (!address) return -E_NOMEM;
  zero_pages(address, pages * PAGE_SIZE);
  mmap_bytes += pages * PAGE_SIZE;
  return (int64_t)address;
}

int64_t syscall_dispatch(struct syscall_frame *f) {
  uint64_t nr = f->rax, a1 = f->rdi, a2 = f->rsi, a3 = f->rdx, a4 = f->r10;
  switch (nr) {
    case SYS_write:
      if (a1 != 1 && a1 != 2) return -E_BADF;
      serial_write((const char *)a2, a3);
      return (int64_t)a3;
    case SYS_writev: {
      if (a1 != 1 && a1 != 2) return -E_BADF;
      const struct iovec *iov = (const struct iovec *)a2;
      int64_t total = 0;
      for (uint64_t i = 0; i < a3; i++) {
        serial_write(iov[i].base, iov[i].length);
        total += (int64_t)iov[i].length;
      }
      return total;
    }
    case SYS_read: case SYS_readv: return a1 == 0 ? 0 : -E_BADF;
    case SYS_open: case SYS_openat: return -E_NOENT; /* no file system: /etc/localtime is absent, so UTC */
    case SYS_close: return a1 <= 2 ? 0 : -E_BADF;
    case SYS_fstat: case SYS_newfstatat: return -E_BADF;
    case SYS_lseek: return -E_SPIPE;
    case SYS_ioctl: return -E_NOTTY;
    case SYS_fcntl: return a1 <= 2 ? 0 : -E_BADF;
    case SYS_poll: return 0;
    case SYS_mmap: return do_mmap(a1, a2, f->r10, (int64_t)f->r8);
    case SYS_munmap:
      if (a1 & (PAGE_SIZE - 1)) return -E_INVAL;
      page_free(a1, ALIGN_UP(a2, PAGE_SIZE) / PAGE_SIZE);
      mmap_bytes -= ALIGN_UP(a2, PAGE_SIZE);
      return 0;
    case SYS_mremap: return -E_NOMEM; /* musl then allocates, copies and frees */
    case SYS_mprotect: case SYS_madvise: return 0;
    case SYS_brk: return 0; /* no program break: musl's allocator uses mmap */
    case SYS_rt_sigaction: case SYS_rt_sigprocmask: return 0;
    case SYS_sched_yield: return 0;
    case SYS_getpid: case SYS_gettid: case SYS_set_tid_address: return 1;
    case SYS_getuid: case SYS_getgid: case SYS_geteuid: case SYS_getegid: return 0;
    case SYS_arch_prctl:
      if (a1 == ARCH_SET_FS) { wrmsr(MSR_FS_BASE, a2); return 0; }
      if (a1 == ARCH_GET_FS) { *(uint64_t *)a2 = rdmsr(MSR_FS_BASE); return 0; }
      return -E_INVAL;
    case SYS_clock_gettime: fill_time((int)a1, (struct timespec *)a2); return 0;
    case SYS_clock_getres: if (a2) { ((struct timespec *)a2)->seconds = 0; ((struct timespec *)a2)->nanoseconds = 1; } return 0;
    case SYS_gettimeofday: {
      uint64_t ns = wall_clock_ns();
      struct timeval *tv = (struct timeval *)a1;
      if (tv) { tv->seconds = (int64_t)(ns / 1000000000ull); tv->microseconds = (int64_t)(ns % 1000000000ull / 1000); }
      return 0;
    }
    case SYS_time: {
      int64_t seconds = (int64_t)(wall_clock_ns() / 1000000000ull);
      if (a1) *(int64_t *)a1 = seconds;
      return seconds;
    }
    case SYS_futex:
      /* One thread: a wake finds no waiter; a wait could never end. */
      if ((a2 & ~(uint64_t)FUTEX_PRIVATE) == FUTEX_WAKE) return 0;
      panic_with_status(EXIT_KERNEL_PANIC, "futex wait (op %lu) would block forever: uOS runs one thread", a2);
    case SYS_kill: case SYS_tkill: case SYS_tgkill: {
      uint64_t sig = nr == SYS_tgkill ? a3 : a2;
      panic_with_status(EXIT_KERNEL_PANIC, "the service raised %s (signal %lu) from native code", signal_name(sig), sig);
    }
    case SYS_exit: case SYS_exit_group: power_exit((int)a1);
    case SYS_getrandom: rng_fill((void *)a1, a2); return (int64_t)a2;
    case SYS_uname: return -E_NOSYS;
    default:
      (void)a4;
      panic_with_status(EXIT_KERNEL_PANIC, "unimplemented system call %lu (args %lx %lx %lx) from %lx", nr, a1, a2, a3, f->rcx);
  }
}

uint64_t syscall_mmap_bytes(void) { return mmap_bytes; }

extern void syscall_entry(void);

void syscall_init(void) {
  /* STAR[47:32]: CS for SYSCALL (0x08), SS = CS + 8 (0x10). SYSRET is never used. */
  wrmsr(MSR_STAR, (uint64_t)0x08 << 32);
  wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
  wrmsr(MSR_FMASK, 0x200 | 0x400 | 0x100 | 0x40000); /* IF, DF, TF, AC cleared in the handler */
}
