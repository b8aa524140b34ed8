/* time.c: clocks. The TSC is calibrated against PIT channel 2 (the LAPIC timer in the same window);
 * monotonic time is TSC-based nanoseconds since boot; wall-clock time is the CMOS RTC read at boot plus
 * monotonic time. */
#include "cpu.h"
#include "uos.h"

static uint64_t tsc_frequency, tsc_at_boot, wall_at_boot_ns;
static uint64_t ns_multiplier; /* ns = (ticks * ns_multiplier) >> 32 */
uint64_t lapic_timer_hz;

uint64_t lapic_calibration_start(void);
uint64_t lapic_calibration_ticks(uint64_t start);

#define PIT_HZ 1193182u
#define CALIBRATION_MS 2

/* Runs PIT channel 2 in mode 0 for `ms`; returns 0 when the PIT never fires (no PIT). */
static int pit_wait(unsigned ms, uint64_t *tsc_ticks, uint64_t *lapic_ticks) {
  uint32_t count = PIT_HZ * ms / 1000;
  outb(0x61, (uint8_t)((inb(0x61) & ~0x02) & ~0x01)); /* gate low, speaker off */
  outb(0x43, 0xB0);                                    /* channel 2, lo/hi byte, mode 0 */
  outb(0x42, count & 0xFF);
  outb(0x42, (count >> 8) & 0xFF);
  uint64_t lapic_start = lapic_calibration_start();
  outb(0x61, (uint8_t)(inb(0x61) | 0x01)); /* gate high: counting starts */
  uint64_t t0 = rdtsc();
  for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++)
    if (spins > 50000000ull) return 0;
  *tsc_ticks = rdtsc() - t0;
  *lapic_ticks = lapic_calibration_ticks(lapic_start);
  return 1;
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
  uint64_t tsc_ticks = 0, lapic_ticks = 0;
  uint32_t r[4];
  if (pit_wait(CALIBRATION_MS, &tsc_ticks, &lapic_ticks) && tsc_ticks) {
    tsc_frequency = tsc_ticks * 1000 / CALIBRATION_MS;
    lapic_timer_hz = lapic_ticks * 1000 / CALIBRATION_MS;
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
}

uint64_t tsc_hz(void) { return tsc_frequency; }

uint64_t monotonic_ns(void) {
  uint64_t ticks = rdtsc() - tsc_at_boot;
  return (uint64_t)(((unsigned __int128)ticks * ns_multiplier) >> 32);
}

uint64_t wall_clock_ns(void) { return wall_at_boot_ns + monotonic_ns(); }
