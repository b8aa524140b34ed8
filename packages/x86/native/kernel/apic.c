/* apic.c: interrupt controllers. The 8259 pair is remapped away from the exception vectors and masked;
 * the local APIC takes over, with a one-shot timer armed for the next deadline only (no periodic tick). */
#include "cpu.h"
#include "uos.h"

#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3E0
#define LVT_MASKED (1u << 16)

static uintptr_t lapic;

static inline uint32_t lapic_read(uint32_t reg) { return mmio_read32(lapic + reg); }
static inline void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(lapic + reg, v); }

static void pic_disable(void) {
  outb(0x20, 0x11); outb(0xA0, 0x11); /* ICW1: init, expect ICW4 */
  outb(0x21, 0x20); outb(0xA1, 0x28); /* ICW2: vectors 0x20 and 0x28 */
  outb(0x21, 0x04); outb(0xA1, 0x02); /* ICW3: cascade on IRQ2 */
  outb(0x21, 0x01); outb(0xA1, 0x01); /* ICW4: 8086 mode */
  outb(0x21, 0xFF); outb(0xA1, 0xFF); /* mask everything */
}

void apic_init(void) {
  pic_disable();
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
}

void apic_eoi(void) { if (lapic) lapic_write(LAPIC_EOI, 0); }

uint64_t lapic_calibration_start(void) {
  lapic_write(LAPIC_TIMER_INITIAL, 0xFFFFFFFFu);
  return lapic_read(LAPIC_TIMER_CURRENT);
}

uint64_t lapic_calibration_ticks(uint64_t start) {
  uint64_t now = lapic_read(LAPIC_TIMER_CURRENT);
  lapic_write(LAPIC_TIMER_INITIAL, 0);
  return start - now;
}

void timer_arm_ns(uint64_t deadline_ns) {
  if (!deadline_ns) { lapic_write(LAPIC_TIMER_INITIAL, 0); return; }
  uint64_t now = monotonic_ns();
  uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;
  uint64_t ticks = (uint64_t)(((unsigned __int128)delta * lapic_timer_hz) / 1000000000ull);
  if (ticks == 0) ticks = 1;
  if (ticks > 0xFFFFFFFFull) ticks = 0xFFFFFFFFull; /* the loop re-arms when it wakes early */
  lapic_write(LAPIC_LVT_TIMER, VECTOR_TIMER); /* one-shot, unmasked */
  lapic_write(LAPIC_TIMER_INITIAL, (uint32_t)ticks);
}
