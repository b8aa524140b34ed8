/* power.c: ending the VM. The exit status leaves through QEMU's isa-debug-exit device (port 0xF4, QEMU
 * exits with status * 2 + 1); where that device is absent the VM powers off through ACPI (S5), and where
 * even that fails it halts. The status is printed first whenever it is not 0, so it is never lost. */
#include "acpi.h"
#include "cpu.h"
#include "uos.h"

#define DEBUG_EXIT_PORT 0xF4

struct generic_address { uint8_t space, bit_width, bit_offset, access_size; uint64_t address; } __attribute__((packed));

static int bytes_equal(const void *a, const char *b, size_t n) {
  const char *x = a;
  for (size_t i = 0; i < n; i++) if (x[i] != b[i]) return 0;
  return 1;
}

/* SLP_TYPa for S5 from the DSDT's \_S5_ package (a Name whose value is a Package of integers). */
static int s5_sleep_type(const struct acpi_header *dsdt) {
  const uint8_t *p = (const uint8_t *)dsdt, *end = p + dsdt->length;
  for (; p + 8 < end; p++) {
    if (!bytes_equal(p, "_S5_", 4) || p[4] != 0x12) continue; /* PackageOp */
    const uint8_t *q = p + 5;
    q += ((q[0] >> 6) & 3) + 1; /* PkgLength */
    q++;                        /* NumElements */
    if (q[0] == 0x0A) return q[1]; /* BytePrefix */
    if (q[0] == 0x00 || q[0] == 0x01) return q[0]; /* ZeroOp, OneOp */
    return -1;
  }
  return -1;
}

static void acpi_power_off(void) {
  const struct acpi_header *fadt = acpi_find_table("FACP");
  if (!fadt) return;
  const uint8_t *f = (const uint8_t *)fadt;
  uint64_t dsdt_address = fadt->length >= 148 && *(const uint64_t *)(f + 140) ? *(const uint64_t *)(f + 140)
                                                                               : *(const uint32_t *)(f + 40);
  const struct acpi_header *dsdt = 0;
  if (dsdt_address) {
    map_physical(dsdt_address, sizeof *dsdt);
    dsdt = (const struct acpi_header *)(uintptr_t)dsdt_address;
    map_physical(dsdt_address, dsdt->length);
  }
  int type = dsdt ? s5_sleep_type(dsdt) : -1;
  if (type < 0) type = 0;
  uint32_t flags = fadt->length >= 116 ? *(const uint32_t *)(f + 112) : 0;
  if ((flags & (1u << 20)) && fadt->length >= 256) {
    /* Hardware-reduced ACPI (microvm): the sleep control register. */
    const struct generic_address *g = (const void *)(f + 244);
    uint8_t value = (uint8_t)(((type & 7) << 2) | (1 << 5));
    if (g->space == 1) outb((uint16_t)g->address, value);
    else if (g->space == 0 && g->address) { map_mmio(g->address, 1); *(volatile uint8_t *)(uintptr_t)g->address = value; }
    return;
  }
  uint32_t pm1a = *(const uint32_t *)(f + 64), pm1b = *(const uint32_t *)(f + 68);
  uint16_t value = (uint16_t)(((type & 7) << 10) | (1 << 13));
  if (pm1a) outw((uint16_t)pm1a, value);
  if (pm1b) outw((uint16_t)pm1b, value);
}

void power_reboot(void) {
  cli();
  outb(0x64, 0xFE); /* the keyboard controller's reset line (pc, q35) */
  const struct acpi_header *fadt = acpi_find_table("FACP");
  if (fadt && fadt->length >= 129) { /* the FADT's reset register */
    const uint8_t *f = (const uint8_t *)fadt;
    const struct generic_address *g = (const void *)(f + 116);
    if (g->space == 1) outb((uint16_t)g->address, f[128]);
  }
  /* Last resort: a triple fault. */
  struct { uint16_t limit; uint64_t base; } __attribute__((packed)) empty = { 0, 0 };
  __asm__ volatile("lidt %0; int3" ::"m"(empty));
  for (;;) __asm__ volatile("hlt");
}

void power_exit(int status) {
  cli();
  if (status != 0) kprintf("\nuos: exit status %d\n", status);
  outl(DEBUG_EXIT_PORT, (uint32_t)status & 0x7F);
  acpi_power_off();
  for (volatile int i = 0; i < 1000000; i++) pause();
  kputs("uos: could not power off; halted\n");
  for (;;) __asm__ volatile("cli; hlt");
}
