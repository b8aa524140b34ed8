/* time.c: clocks. The TSC is calibrated against PIT channel 0 (the LAPIC timer in the same window);
 * monotonic time is TSC-based nanoseconds since boot; wall-clock time is the CMOS RTC read at boot plus
 * monotonic time.
 *
 * The calibration window opens at kernel entry and is closed by the first reader of a clock (in practice
 * QuickJS seeding Math.random while the JS context is built), so the 2 ms the PIT must run overlap the
 * platform's and the engine's start instead of being waited for. Nothing reads a clock in interrupt
 * context before the loop first enables interrupts, and js_run closes the window before that at the
 * latest. */
#include "cpu.h"
#include "uos.h"

static uint64_t tsc_frequency, tsc_at_boot, wall_at_boot_ns;
static int calibrated;
static uint64_t ns_multiplier; /* ns = (ticks * ns_multiplier) >> 32 */
uint64_t lapic_timer_hz;

uint64_t lapic_calibration_start(void);
uint64_t lapic_calibration_ticks(uint64_t start);

#define PIT_HZ 1193182u
#define CALIBRATION_MS 2

void time_calibration_begin(void);

/* Calibration runs beside the rest of platform init: time_calibration_begin() starts PIT channel 0 and
 * takes a TSC stamp at kernel entry; time_init() later waits until at least CALIBRATION_MS of PIT time
 * have passed and divides. PIT channel 0 is read back with latch commands: it counts on every machine
 * QEMU models (channel 2 needs the speaker gate at port 0x61, which microvm lacks). */
static uint16_t pit_read(void) {
  outb(0x43, 0x00); /* latch channel 0 */
  uint8_t lo = inb(0x40);
  uint8_t hi = inb(0x40);
  return (uint16_t)(lo | (hi << 8));
}

static uint16_t pit_start;
static uint64_t tsc_start;
static int pit_running;

void time_calibration_begin(void) {
  outb(0x43, 0x30); /* channel 0, lo/hi byte, mode 0 (its IRQ stays masked): 55 ms until it wraps */
  outb(0x40, 0xFF);
  outb(0x40, 0xFF);
  uint16_t first = pit_read();
  for (int spins = 0; spins < 100000; spins++) { /* start on a PIT edge */
    uint16_t now = pit_read();
    if (now != first) { pit_start = now; tsc_start = rdtsc(); pit_running = 1; return; }
  }
}

/* Returns 0 when the PIT never moved (no PIT). */
static int pit_finish(uint64_t *tsc_ticks, uint32_t *pit_ticks) {
  if (!pit_running) return 0;
  uint32_t target = PIT_HZ * CALIBRATION_MS / 1000;
  for (int spins = 0; spins < 2000000; spins++) {
    uint16_t elapsed = (uint16_t)(pit_start - pit_read());
    if (elapsed >= target) {
      *tsc_ticks = rdtsc() - tsc_start;
      *pit_ticks = elapsed;
      return 1;
    }
  }
  return 0;
}

static uint8_t cmos_read(uint8_t reg) {
  outb(0x70, 0x80 | reg); /* NMI stays disabled while we talk to the CMOS */
  return inb(0x71);
}

static uint64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  uint64_t yoe = (uint64_t)(y - era * 400);
  uint64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (uint64_t)(era * 146097 + (int64_t)doe - 719468);
}

static uint64_t rtc_read_epoch_seconds(void) {
  for (int spins = 0; spins < 1000000 && (cmos_read(0x0A) & 0x80); spins++) pause();
  uint8_t sec = cmos_read(0x00), min = cmos_read(0x02), hour = cmos_read(0x04);
  uint8_t day = cmos_read(0x07), month = cmos_read(0x08), year = cmos_read(0x09), century = cmos_read(0x32);
  uint8_t status_b = cmos_read(0x0B);
  if (!(status_b & 0x04)) {
#define BCD(v) (uint8_t)(((v) & 0x0F) + ((v) >> 4) * 10)
    sec = BCD(sec); min = BCD(min); day = BCD(day); month = BCD(month); year = BCD(year);
    century = BCD(century);
    hour = (uint8_t)(BCD(hour & 0x7F) | (hour & 0x80));
#undef BCD
  }
  if (!(status_b & 0x02) && (hour & 0x80)) hour = (uint8_t)(((hour & 0x7F) + 12) % 24);
  if (month < 1 || month > 12 || day < 1 || day > 31) return 0; /* no RTC */
  int64_t full_year = (century >= 19 && century <= 30) ? century * 100 + year : 2000 + year;
  return days_from_civil(full_year, month, day) * 86400ull + hour * 3600ull + min * 60ull + sec;
}

void time_init(void) {
  if (calibrated) return;
  uint64_t tsc_ticks = 0, lapic_tsc_start = rdtsc();
  uint32_t pit_ticks = 0, r[4];
  uint64_t lapic_start = lapic_calibration_start();
  if (pit_finish(&tsc_ticks, &pit_ticks) && tsc_ticks) {
    tsc_frequency = tsc_ticks * PIT_HZ / pit_ticks;
    uint64_t lapic_ticks = lapic_calibration_ticks(lapic_start);
    uint64_t lapic_tsc = rdtsc() - lapic_tsc_start;
    lapic_timer_hz = lapic_tsc ? (uint64_t)(((unsigned __int128)lapic_ticks * tsc_frequency) / lapic_tsc) : 1000000000ull / 16;
  } else {
    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    if (max_leaf >= 0x15) {
      cpuid(0x15, 0, r);
      if (r[0] && r[1] && r[2]) tsc_frequency = (uint64_t)r[2] * r[1] / r[0];
    }
    if (!tsc_frequency) {
      tsc_frequency = 1000000000ull;
      kputs("uos: warning: no PIT to calibrate the TSC against; assuming 1 GHz\n");
    }
    lapic_timer_hz = 1000000000ull / 16; /* QEMU's APIC bus is 1 GHz; the timer divides by 16 */
  }
  ns_multiplier = (uint64_t)(((unsigned __int128)1000000000ull << 32) / tsc_frequency);
  tsc_at_boot = rdtsc();
  wall_at_boot_ns = rtc_read_epoch_seconds() * 1000000000ull;
  calibrated = 1;
  boot_mark("clocks calibrated");
}

/* Every clock reader closes the calibration window first (a predictable branch once done). */
#define CALIBRATED() \
  do { \
    if (__builtin_expect(!calibrated, 0)) time_init(); \
  } while (0)

uint64_t tsc_hz(void) {
  CALIBRATED();
  return tsc_frequency;
}

static struct { const char *name; uint64_t tsc; } marks[MAX_BOOT_MARKS];
static unsigned mark_count;

void boot_mark(const char *name) {
  if (mark_count < MAX_BOOT_MARKS) { marks[mark_count].name = name; marks[mark_count].tsc = rdtsc(); mark_count++; }
}

unsigned boot_marks(const char **names, uint64_t *ns_since_entry, unsigned max) {
  unsigned n = mark_count < max ? mark_count : max;
  for (unsigned i = 0; i < n; i++) {
    names[i] = marks[i].name;
    uint64_t ticks = marks[i].tsc - marks[0].tsc;
    ns_since_entry[i] = tsc_frequency ? (uint64_t)(((unsigned __int128)ticks * 1000000000ull) / tsc_frequency) : 0;
  }
  return n;
}

/* The TSC counts from 0 at the CPU's reset (QEMU's TCG and KVM alike), so its value at kernel entry is the
 * time the firmware and the loader took. */
uint64_t boot_entry_ns(void) {
  if (!mark_count || !tsc_frequency) return 0;
  return (uint64_t)(((unsigned __int128)marks[0].tsc * 1000000000ull) / tsc_frequency);
}

uint64_t monotonic_ns(void) {
  CALIBRATED();
  uint64_t ticks = rdtsc() - tsc_at_boot;
  return (uint64_t)(((unsigned __int128)ticks * ns_multiplier) >> 32);
}

uint64_t wall_clock_ns(void) {
  uint64_t monotonic = monotonic_ns();
  return wall_at_boot_ns + monotonic;
}

uint64_t tsc_for_monotonic_ns(uint64_t ns) {
  CALIBRATED();
  return tsc_at_boot + (uint64_t)(((unsigned __int128)ns * tsc_frequency) / 1000000000ull);
}
