/* panic.c: the crash report. CPU exceptions, kernel assertions and fatal syscalls print a banner, the
 * reason, the registers and a symbolised native backtrace on the serial console, then end the VM with a
 * distinct status. A fault inside the report itself ends the VM at once instead of looping. */
#include "cpu.h"
#include "heap.h"
#include "interrupts.h"
#include "stacks.h"
#include "uos.h"

#define MAX_SYMBOL_EXPANSION 160 /* tokens nest at most 128 deep */

volatile int in_panic;
static enum panic_action action = PANIC_EXIT;
void (*panic_js_hook)(const char *kind, const char *reason, int status);

void panic_set_action(enum panic_action a) { action = a; }

/* Runs the JS side of a panic (JS stack, the service's hooks) once, then the configured action. */
static NORETURN void finish(const char *kind, const char *reason, int status) {
  if (panic_js_hook && in_panic == 1) {
    in_panic = 2; /* a fault in the hooks stops at once */
    panic_js_hook(kind, reason, status);
  }
  panic_finish(status);
}

void panic_finish(int status) {
  cli();
  switch (action) {
    case PANIC_HALT:
      kprintf("uos: halted after a panic (exit status would be %d)\n", status);
      for (;;) __asm__ volatile("cli; hlt");
    case PANIC_REBOOT:
      kputs("uos: rebooting after a panic\n");
      power_reboot();
    default:
      power_exit(status);
  }
}

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor segment overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved (15)", "#MF x87 floating point", "#AC alignment check",
    "#MC machine check", "#XM SIMD floating point", "#VE virtualization", "#CP control protection",
    "reserved (22)", "reserved (23)", "reserved (24)", "reserved (25)", "reserved (26)", "reserved (27)",
    "#HV hypervisor injection", "#VC VMM communication", "#SX security", "reserved (31)" };

/* ---- native symbols (payload section 2), written by packages/vmrunner/src/symbols.ts:
 *   u32 count; u8 tokens; tokens x { u8 left; u8 right }   (byte 0x80 + i expands to left, right)
 *   per symbol: varint address delta, u8 bytes shared with the previous name, the rest (ASCII and
 *   tokens), NUL.
 * Read linearly: only crashes and the sampler's reports look things up. ---- */
static size_t expand_token(const uint8_t *tokens, unsigned token_count, uint8_t byte, char *name, size_t length, size_t size) {
  uint8_t stack[MAX_SYMBOL_EXPANSION];
  unsigned depth = 0;
  stack[depth++] = byte;
  while (depth) {
    uint8_t b = stack[--depth];
    if (b < 0x80) {
      if (length + 1 < size) name[length++] = (char)b;
    } else if ((unsigned)(b - 0x80) < token_count && depth + 2 <= MAX_SYMBOL_EXPANSION) {
      stack[depth++] = tokens[(b - 0x80) * 2 + 1]; /* right after left */
      stack[depth++] = tokens[(b - 0x80) * 2];
    }
  }
  return length;
}

void symbols_each(int (*visit)(uint64_t address, const char *name, void *arg), void *arg) {
  char current[256];
  struct payload_view v = payload_section(PAYLOAD_SYMBOLS);
  if (v.length < 5) return;
  uint32_t count = *(const uint32_t *)v.data;
  unsigned token_count = v.data[4];
  const uint8_t *tokens = v.data + 5;
  const uint8_t *p = tokens + token_count * 2, *end = v.data + v.length;
  uint64_t address = 0;
  size_t length = 0;
  for (uint32_t i = 0; i < count && p < end; i++) {
    uint64_t delta = 0;
    for (int shift = 0; p < end && shift < 64; shift += 7) {
      uint8_t b = *p++;
      delta |= (uint64_t)(b & 0x7F) << shift;
      if (!(b & 0x80)) break;
    }
    address += delta;
    if (p >= end) break;
    size_t shared = *p++;
    length = shared < length ? shared : length;
    while (p < end && *p) length = expand_token(tokens, token_count, *p++, current, length, sizeof current);
    p++;
    current[length] = 0;
    if (visit(address, current, arg)) break;
  }
}

struct lookup { uint64_t address, best_address; int found; char best[256]; };

static int lookup_visit(uint64_t address, const char *name, void *arg) {
  struct lookup *l = arg;
  if (address > l->address) return 1;
  l->best_address = address;
  size_t k = 0;
  for (; name[k] && k + 1 < sizeof l->best; k++) l->best[k] = name[k];
  l->best[k] = 0;
  l->found = 1;
  return 0;
}

const char *symbol_lookup(uint64_t addr, uint64_t *offset) {
  static struct lookup l;
  if (addr >= (uint64_t)__text_end) return 0;
  l.address = addr;
  l.found = 0;
  symbols_each(lookup_visit, &l);
  if (!l.found) return 0;
  *offset = addr - l.best_address;
  return l.best;
}

/* A return address is looked up one byte back: after a call to a noreturn function it points past the
 * caller's end, into the next function. */
static void print_address(uint64_t addr, int is_return_address) {
  uint64_t offset = 0;
  const char *name = symbol_lookup(addr - (is_return_address ? 1 : 0), &offset);
  if (name) kprintf("0x%lx <%s+0x%lx>", addr, name, offset + (is_return_address ? 1 : 0));
  else kprintf("0x%lx", addr);
}

static int on_some_stack(uint64_t a) {
  for (uint64_t i = 0; i < stack_count; i++)
    if (a >= stack_table[i].bottom && a + 16 <= stack_table[i].top) return 1;
  return 0;
}

void print_backtrace(uint64_t rbp, uint64_t rip, int rip_is_return_address) {
  kputs("Backtrace:\n");
  kputs("  #0  "); print_address(rip, rip_is_return_address); kputs("\n");
  for (int depth = 1; depth < 32 && rbp && !(rbp & 7) && on_some_stack(rbp); depth++) {
    uint64_t next = ((uint64_t *)rbp)[0], ret = ((uint64_t *)rbp)[1];
    if (!ret) break;
    kprintf("  #%-2d ", depth); print_address(ret, 1); kputs("\n");
    if (next <= rbp) break;
    rbp = next;
  }
}

void panic_banner(void) { kputs("\n**** PANIC ****\n"); }

static void memory_line(void) {
  struct memory_stats s;
  struct heap_stats h;
  memory_stats(&s);
  heap_get_stats(&h);
  kprintf("Memory: %lu KiB of %lu KiB pages in use (peak %lu KiB); heap %lu KiB in %lu blocks (peak %lu KiB), "
          "%lu refused\n", (s.total_pages - s.free_pages) * 4, s.total_pages * 4, s.peak_used_pages * 4,
          h.used_bytes / 1024, h.blocks, h.peak_used_bytes / 1024, h.failed);
}

void heap_corrupted(const char *what, const void *p) {
  panic("heap: %s (%p)", what, p);
}

static NORETURN void panic_v(int status, const char *fmt, va_list ap) {
  cli();
  if (in_panic++) { kprintf("\nuos: panic while panicking; stopping\n"); power_exit(status); }
  char message[512];
  kvsnprintf(message, sizeof message, fmt, ap);
  panic_banner();
  kprintf("Reason: %s\n", message);
  memory_line();
  uint64_t rbp;
  __asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
  print_backtrace(((uint64_t *)rbp)[0], ((uint64_t *)rbp)[1], 1);
  finish("kernel", message, status);
}

void panic_out_of_memory(uint64_t size) {
  cli();
  if (in_panic++) { kputs("\nuos: out of memory while panicking; stopping\n"); power_exit(EXIT_OUT_OF_MEMORY); }
  heap_release_reserve(); /* room for the report's hooks */
  struct heap_stats h;
  heap_get_stats(&h);
  panic_banner();
  kprintf("Out of memory: the heap could not give %lu bytes\n", size);
  kprintf("Heap: %lu KiB in %lu live blocks (peak %lu KiB), %lu KiB in slabs, %lu KiB in large blocks, %lu refused\n",
          h.used_bytes / 1024, h.blocks, h.peak_used_bytes / 1024, h.slab_pages * 4, h.large_pages * 4, h.failed);
  memory_line();
  finish("out-of-memory", "out of memory", EXIT_OUT_OF_MEMORY);
}

void panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  panic_v(EXIT_KERNEL_PANIC, fmt, ap);
}

void panic_with_status(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  panic_v(status, fmt, ap);
}

static void describe_page_fault(uint64_t error, uint64_t address) {
  const char *access = (error & 16) ? "instruction fetch" : (error & 2) ? "write" : "read";
  const char *cause = (error & 1) ? ((error & 8) ? "reserved bit set" : "protection violation") : "page not present";
  kprintf("Page fault: %s at 0x%lx, %s\n", access, address, cause);
  if (!(error & 1)) {
    for (uint64_t i = 0; i < stack_count; i++)
      if (address >= stack_table[i].guard && address < stack_table[i].guard + PAGE_SIZE)
        kprintf("  the address is the guard page of %s: a stack overflow\n", i == 0 ? "the main stack" : "an interrupt stack");
    if (address < PAGE_SIZE) kputs("  the address is in page 0: a null pointer dereference\n");
  } else if ((error & 2) && address >= (uint64_t)__kernel_start && address < (uint64_t)__rodata_end) {
    kputs("  the address is in read-only kernel text or data (W^X)\n");
  } else if ((error & 2) && address >= (uint64_t)__payload_start && address < payload_end()) {
    kputs("  the address is in the image's read-only payload (embedded assets: copy the bytes before changing them)\n");
  } else if (error & 16) {
    kputs("  the address is not executable (W^X)\n");
  }
}

void exception_report(struct interrupt_frame *f) {
  if (in_panic++) { kputs("\nuos: exception while panicking; stopping\n"); power_exit(EXIT_KERNEL_PANIC); }
  uint64_t cr2 = read_cr2();
  unsigned v = (unsigned)f->vector;
  panic_banner();
  kprintf("CPU exception %u: %s, error code 0x%lx\n", v, exception_names[v & 31], f->error_code);
  if (v == 14) describe_page_fault(f->error_code, cr2);
  if (v == 8) kputs("The CPU could not deliver an exception (a broken handler stack or table); CR2 may show where\n");
  kputs("RIP "); print_address(f->rip, 0); kputs("\n");
  kprintf("CR2 0x%016lx  CR3 0x%016lx  RFLAGS 0x%016lx\n", cr2, read_cr3(), f->rflags);
  kprintf("RAX 0x%016lx  RBX 0x%016lx  RCX 0x%016lx\n", f->rax, f->rbx, f->rcx);
  kprintf("RDX 0x%016lx  RSI 0x%016lx  RDI 0x%016lx\n", f->rdx, f->rsi, f->rdi);
  kprintf("RBP 0x%016lx  RSP 0x%016lx  R8  0x%016lx\n", f->rbp, f->rsp, f->r8);
  kprintf("R9  0x%016lx  R10 0x%016lx  R11 0x%016lx\n", f->r9, f->r10, f->r11);
  kprintf("R12 0x%016lx  R13 0x%016lx  R14 0x%016lx\n", f->r12, f->r13, f->r14);
  kprintf("R15 0x%016lx  CS 0x%lx  SS 0x%lx\n", f->r15, f->cs, f->ss);
  memory_line();
  print_backtrace(f->rbp, f->rip, 0);
  finish("cpu-exception", exception_names[v & 31], EXIT_CPU_EXCEPTION_BASE + (int)v);
}
