/* cpu-tables.c: GDT with a TSS whose IST stacks serve every exception and interrupt, the IDT, and the
 * deferred interrupt model: a handler only marks its vector pending and acknowledges the APIC; the event
 * loop runs the JS subscribers later. */
#include "cpu.h"
#include "interrupts.h"
#include "sampler.h"
#include "stacks.h"
#include "uos.h"

struct tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3, iomap_base;
} __attribute__((packed));

static struct tss tss __attribute__((aligned(16)));
static uint64_t gdt[5] __attribute__((aligned(16)));

struct table_pointer { uint16_t limit; uint64_t base; } __attribute__((packed));

#define SELECTOR_CODE 0x08
#define SELECTOR_DATA 0x10
#define SELECTOR_TSS 0x18

void gdt_init(void) {
  gdt[0] = 0;
  gdt[1] = 0x00AF9A000000FFFFull; /* 64-bit code, ring 0 */
  gdt[2] = 0x00CF92000000FFFFull; /* data */
  uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
  gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xF) << 48) |
           (((base >> 24) & 0xFF) << 56);
  gdt[4] = base >> 32;
  for (int i = 1; i <= 6; i++) tss.ist[i - 1] = stack_table[i].top;
  tss.rsp[0] = stack_table[STACK_MAIN].top;
  tss.iomap_base = sizeof tss; /* no I/O bitmap */
  struct table_pointer p = { sizeof gdt - 1, (uint64_t)gdt };
  __asm__ volatile(
      "lgdt %0\n"
      "pushq %1\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      "movw %w2, %%ax\n"
      "movw %%ax, %%ds\n"
      "movw %%ax, %%es\n"
      "movw %%ax, %%ss\n"
      "ltr %w3\n"
      :
      : "m"(p), "i"(SELECTOR_CODE), "r"(SELECTOR_DATA), "r"(SELECTOR_TSS)
      : "rax", "memory");
}

/* For the double-fault test: the page-fault handler's stack becomes its own (unmapped) guard page, so
 * delivering the next page fault faults again and the CPU raises a double fault on its own IST stack. */
void break_page_fault_stack(void) {
  tss.ist[STACK_IST_PAGE_FAULT - 1] = stack_table[STACK_IST_PAGE_FAULT].guard + 64;
}

struct idt_entry {
  uint16_t offset_low, selector;
  uint8_t ist, type_attr;
  uint16_t offset_mid;
  uint32_t offset_high, reserved;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
extern const uint64_t isr_stub_table[256];

static uint8_t ist_for_vector(unsigned v) {
  switch (v) {
    case 2: return STACK_IST_NMI;
    case 8: return STACK_IST_DOUBLE_FAULT;
    case 14: return STACK_IST_PAGE_FAULT;
    case 18: return STACK_IST_MACHINE_CHECK;
    default: return v < 32 ? STACK_IST_EXCEPTION : STACK_IST_IRQ;
  }
}

void idt_init(void) {
  for (unsigned v = 0; v < 256; v++) {
    uint64_t h = isr_stub_table[v];
    idt[v] = (struct idt_entry){
        .offset_low = h & 0xFFFF, .selector = SELECTOR_CODE, .ist = ist_for_vector(v),
        .type_attr = 0x8E, /* present, ring 0, 64-bit interrupt gate (IF cleared on entry) */
        .offset_mid = (h >> 16) & 0xFFFF, .offset_high = (uint32_t)(h >> 32), .reserved = 0 };
  }
  struct table_pointer p = { sizeof idt - 1, (uint64_t)idt };
  __asm__ volatile("lidt %0" ::"m"(p));
}

/* Pending vectors, one bit each. Set with interrupts off (in the handler); taken by the event loop. */
static volatile uint64_t pending[4];
volatile uint64_t irq_pending_any;
static volatile uint64_t irq_counts[256];

void interrupt_dispatch(struct interrupt_frame *f) {
  unsigned v = (unsigned)f->vector;
  if (v < 32) exception_report(f);
  irq_counts[v]++;
  if (v == VECTOR_SPURIOUS) return; /* spurious interrupts take no EOI */
  if (v == VECTOR_TIMER) {
    timer_interrupt(f); /* wakes the loop, which then looks at the clock; may take a sample */
  } else {
    irq_mask_if_level(v);
    pending[v >> 6] |= 1ull << (v & 63);
    irq_pending_any = 1;
  }
  apic_eoi();
}

int irq_take_pending(uint8_t out[256]) {
  int n = 0;
  uint64_t flags = read_rflags();
  cli();
  for (unsigned w = 0; w < 4; w++) {
    uint64_t bits = pending[w];
    pending[w] = 0;
    while (bits) {
      unsigned b = (unsigned)__builtin_ctzll(bits);
      bits &= bits - 1;
      out[n++] = (uint8_t)(w * 64 + b);
    }
  }
  irq_pending_any = 0;
  if (flags & 0x200) sti();
  return n;
}

uint64_t irq_count(unsigned vector) { return irq_counts[vector & 255]; }
