/* apic.c: interrupt controllers. The 8259 pair is remapped away from the exception vectors and masked;
 * the local APIC takes over, with a one-shot timer (TSC-deadline mode where the CPU has it) armed for the
 * next deadline only: no periodic tick (while the stack sampler runs, also for its next sample). I/O APIC pins are routed on request, ISA IRQs through the MADT's
 * overrides. Vectors:
 *   32..47  ISA IRQ n on 32 + n          48      the LAPIC timer
 *   64..239 allocated to drivers (MSI, MSI-X, PCI INTx)   255  spurious
 * A level-triggered pin is masked when it fires and unmasked once the event loop has run its
 * subscribers (irq_done), so a device that holds its line cannot storm the CPU before JS clears it. */
#include "acpi.h"
#include "cpu.h"
#include "sampler.h"
#include "uos.h"

#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3E0
#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)

#define IOAPIC_SELECT 0x00
#define IOAPIC_WINDOW 0x10
#define REDIRECTION_MASKED (1u << 16)
#define REDIRECTION_LEVEL (1u << 15)
#define REDIRECTION_ACTIVE_LOW (1u << 13)

static uintptr_t lapic;
static int tsc_deadline;
static struct madt_info madt;
static unsigned ioapic_pins[MAX_IOAPICS];

/* Per vector: the GSI routed to it (+1; 0 = none) and whether it is level-triggered. */
static uint32_t vector_gsi[256];
static uint8_t vector_level[256];
static uint8_t vector_used[256];

static inline uint32_t lapic_read(uint32_t reg) { return mmio_read32(lapic + reg); }
static inline void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(lapic + reg, v); }

static uint32_t ioapic_read(unsigned i, uint32_t reg) {
  mmio_write32(madt.ioapics[i].address + IOAPIC_SELECT, reg);
  return mmio_read32(madt.ioapics[i].address + IOAPIC_WINDOW);
}

static void ioapic_write(unsigned i, uint32_t reg, uint32_t v) {
  mmio_write32(madt.ioapics[i].address + IOAPIC_SELECT, reg);
  mmio_write32(madt.ioapics[i].address + IOAPIC_WINDOW, v);
}

static int ioapic_for_gsi(uint32_t gsi, unsigned *pin) {
  for (unsigned i = 0; i < madt.ioapic_count; i++) {
    uint32_t base = madt.ioapics[i].gsi_base;
    if (gsi >= base && gsi < base + ioapic_pins[i]) { *pin = gsi - base; return (int)i; }
  }
  return -1;
}

static void pic_disable(void) {
  outb(0x20, 0x11); outb(0xA0, 0x11); /* ICW1: init, expect ICW4 */
  outb(0x21, 0x20); outb(0xA1, 0x28); /* ICW2: vectors 0x20 and 0x28 */
  outb(0x21, 0x04); outb(0xA1, 0x02); /* ICW3: cascade on IRQ2 */
  outb(0x21, 0x01); outb(0xA1, 0x01); /* ICW4: 8086 mode */
  outb(0x21, 0xFF); outb(0xA1, 0xFF); /* mask everything */
}

void apic_init(void) {
  pic_disable();
  acpi_read_madt(&madt);
  uint64_t base = rdmsr(MSR_APIC_BASE);
  wrmsr(MSR_APIC_BASE, base | (1u << 11));
  lapic = (uintptr_t)(base & 0xFFFFF000u);
  map_mmio(lapic, PAGE_SIZE);
  lapic_write(LAPIC_TPR, 0);
  lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
  lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
  lapic_write(LAPIC_SVR, 0x100 | VECTOR_SPURIOUS);
  lapic_write(LAPIC_TIMER_DIVIDE, 0x3); /* divide by 16 */
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VECTOR_TIMER);
  uint32_t r[4];
  cpuid(1, 0, r);
  tsc_deadline = (r[2] >> 24) & 1;

  for (unsigned i = 0; i < madt.ioapic_count; i++) {
    map_mmio(madt.ioapics[i].address, PAGE_SIZE);
    ioapic_pins[i] = ((ioapic_read(i, 0x01) >> 16) & 0xFF) + 1;
    for (unsigned pin = 0; pin < ioapic_pins[i]; pin++) {
      ioapic_write(i, 0x10 + pin * 2, REDIRECTION_MASKED);
      ioapic_write(i, 0x11 + pin * 2, 0);
    }
  }
  for (unsigned v = 0; v < 64; v++) vector_used[v] = 1; /* exceptions, ISA, timer, reserved */
  for (unsigned v = 240; v < 256; v++) vector_used[v] = 1;
}

void apic_eoi(void) { if (lapic) lapic_write(LAPIC_EOI, 0); }

uint32_t lapic_id(void) { return lapic ? lapic_read(LAPIC_ID) >> 24 : 0; }

int timer_uses_tsc_deadline(void) { return tsc_deadline; }

uint64_t lapic_calibration_start(void) {
  lapic_write(LAPIC_TIMER_INITIAL, 0xFFFFFFFFu);
  return lapic_read(LAPIC_TIMER_CURRENT);
}

uint64_t lapic_calibration_ticks(uint64_t start) {
  uint64_t now = lapic_read(LAPIC_TIMER_CURRENT);
  lapic_write(LAPIC_TIMER_INITIAL, 0);
  return start - now;
}

/* The one-shot timer serves two clients: the loop's next deadline (armed before it halts) and, while it
 * runs, the stack sampler's period. The hardware is armed for the earlier of the two; an interrupt that
 * is the sampler's takes a sample and re-arms for what is next. The sampler off, the timer is armed only
 * for the loop, as if the sampler did not exist: no tick when idle. */
static uint64_t loop_deadline, sample_deadline, sample_period;
static int armed_for_sample; /* the hardware is armed for the sampler's deadline */

static void timer_program(uint64_t deadline_ns) {
  if (tsc_deadline) {
    lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | VECTOR_TIMER);
    wrmsr(MSR_TSC_DEADLINE, deadline_ns ? tsc_for_monotonic_ns(deadline_ns) : 0);
    return;
  }
  if (!deadline_ns) { lapic_write(LAPIC_TIMER_INITIAL, 0); return; }
  uint64_t now = monotonic_ns();
  uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;
  uint64_t ticks = (uint64_t)(((unsigned __int128)delta * lapic_timer_hz) / 1000000000ull);
  if (ticks == 0) ticks = 1;
  if (ticks > 0xFFFFFFFFull) ticks = 0xFFFFFFFFull; /* the loop re-arms when it wakes early */
  lapic_write(LAPIC_LVT_TIMER, VECTOR_TIMER); /* one-shot, unmasked */
  lapic_write(LAPIC_TIMER_INITIAL, (uint32_t)ticks);
}

static void timer_update(void) { /* interrupts off */
  uint64_t d = loop_deadline;
  armed_for_sample = sample_period && (!d || sample_deadline < d);
  if (armed_for_sample) d = sample_deadline;
  timer_program(d);
}

void timer_arm_ns(uint64_t deadline_ns) {
  loop_deadline = deadline_ns;
  timer_update();
}

void timer_sampler(uint64_t period_ns) {
  uint64_t flags = read_rflags();
  cli();
  sample_period = period_ns;
  sample_deadline = period_ns ? monotonic_ns() + period_ns : 0;
  timer_update();
  if (flags & 0x200) sti();
}

/* In the interrupt (before EOI). An interrupt the timer was armed for is the sample's even when it looks
 * early by the TSC (the LAPIC count-down's rate is calibrated against it at boot, only roughly under
 * TCG): the next deadline still moves on by one period, so the rate holds on average. Missed periods are
 * not made up: a sample stands for the time since the last one, which the host reads from the timestamps. */
void timer_interrupt(const struct interrupt_frame *f) {
  if (!sample_period) return; /* the loop's deadline: it only wakes the loop, which looks at the clock */
  uint64_t now = monotonic_ns();
  if (armed_for_sample || now >= sample_deadline) {
    sampler_tick(f);
    sample_deadline += sample_period;
    if (sample_deadline <= now) sample_deadline = now + sample_period;
  }
  if (loop_deadline && loop_deadline <= now) loop_deadline = 0; /* due: the loop wakes and re-arms */
  timer_update();
}

static int route(uint32_t gsi, unsigned vector, int level, int active_low) {
  unsigned pin;
  int i = ioapic_for_gsi(gsi, &pin);
  if (i < 0) return -1;
  uint32_t low = vector | (level ? REDIRECTION_LEVEL : 0) | (active_low ? REDIRECTION_ACTIVE_LOW : 0);
  ioapic_write((unsigned)i, 0x11 + pin * 2, lapic_id() << 24);
  ioapic_write((unsigned)i, 0x10 + pin * 2, low);
  vector_gsi[vector] = gsi + 1;
  vector_level[vector] = (uint8_t)level;
  return 0;
}

int irq_route_isa(unsigned irq) {
  if (irq >= 16) return -1;
  uint32_t gsi = irq;
  uint16_t flags = 0;
  for (unsigned i = 0; i < madt.override_count; i++)
    if (madt.overrides[i].source == irq) { gsi = madt.overrides[i].gsi; flags = madt.overrides[i].flags; }
  /* ISA defaults: edge, active high; the MADT flags may say otherwise (polarity bits 0-1, trigger 2-3). */
  int active_low = (flags & 3) == 3, level = ((flags >> 2) & 3) == 3;
  unsigned vector = VECTOR_IRQ_BASE + irq;
  return route(gsi, vector, level, active_low) ? -1 : (int)vector;
}

int irq_allocate_vectors(unsigned count) {
  unsigned align = 1;
  while (align < count) align <<= 1; /* multi-message MSI wants an aligned block */
  for (unsigned first = 64; first + count <= 240; first += align) {
    unsigned n = 0;
    while (n < count && !vector_used[first + n]) n++;
    if (n == count) {
      for (unsigned k = 0; k < count; k++) vector_used[first + k] = 1;
      return (int)first;
    }
  }
  return -1;
}

void irq_free_vectors(unsigned first, unsigned count) {
  for (unsigned v = first; v < first + count && v < 240; v++) {
    if (v < 64) continue;
    if (vector_gsi[v]) {
      unsigned pin;
      int i = ioapic_for_gsi(vector_gsi[v] - 1, &pin);
      if (i >= 0) ioapic_write((unsigned)i, 0x10 + pin * 2, REDIRECTION_MASKED);
      vector_gsi[v] = 0;
    }
    vector_used[v] = 0;
  }
}

int irq_route_gsi(uint32_t gsi, int level, int active_low) {
  int vector = irq_allocate_vectors(1);
  if (vector < 0) return -1;
  if (route(gsi, (unsigned)vector, level, active_low)) { irq_free_vectors((unsigned)vector, 1); return -1; }
  return vector;
}

static void set_masked(unsigned vector, int masked) {
  unsigned pin;
  int i = ioapic_for_gsi(vector_gsi[vector] - 1, &pin);
  if (i < 0) return;
  uint32_t low = ioapic_read((unsigned)i, 0x10 + pin * 2);
  ioapic_write((unsigned)i, 0x10 + pin * 2, masked ? low | REDIRECTION_MASKED : low & ~REDIRECTION_MASKED);
}

/* In the interrupt handler, before EOI: a level-triggered line stays masked until irq_done. */
void irq_mask_if_level(unsigned vector) {
  if (vector_level[vector] && vector_gsi[vector]) set_masked(vector, 1);
}

void irq_done(unsigned vector) {
  if (vector < 256 && vector_level[vector] && vector_gsi[vector]) set_masked(vector, 0);
}
