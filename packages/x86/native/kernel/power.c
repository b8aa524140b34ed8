/* power.c: ending the VM. The exit status leaves through QEMU's isa-debug-exit device (port 0xF4, QEMU
 * exits with status * 2 + 1); where that device is absent the VM powers off through ACPI (S5), and where
 * even that fails it halts. The status is printed first whenever it is not 0, so it is never lost. */
#include "cpu.h"
#include "uos.h"

#define DEBUG_EXIT_PORT 0xF4

struct acpi_header {
  char signature[4];
  uint32_t length;
  uint8_t revision, checksum;
  char oem[6], oem_table[8];
  uint32_t oem_revision, creator, creator_revision;
} __attribute__((packed));

struct generic_address { uint8_t space, bit_width, bit_offset, access_size; uint64_t address; } __attribute__((packed));

static int bytes_equal(const void *a, const char *b, size_t n) {
  const char *x = a;
  for (size_t i = 0; i < n; i++) if (x[i] != b[i]) return 0;
  return 1;
}

static uint64_t find_rsdp(void) {
  if (boot_info.rsdp) return boot_info.rsdp;
  /* The BIOS area (the EBDA pointer lives in page 0, which stays unmapped; QEMU's firmware puts the RSDP here). */
  for (uint64_t a = 0xE0000; a < 0x100000; a += 16)
    if (bytes_equal((const void *)(uintptr_t)a, "RSD PTR ", 8)) return a;
  return 0;
}

static const struct acpi_header *table(uint64_t address) {
  if (!address) return 0;
  map_physical(address, sizeof(struct acpi_header));
  const struct acpi_header *h = (const void *)(uintptr_t)address;
  map_physical(address, h->length);
  return h;
}

static const struct acpi_header *find_table(const char *signature) {
  uint64_t rsdp = find_rsdp();
  if (!rsdp) return 0;
  map_physical(rsdp, 36);
  const uint8_t *r = (const void *)(uintptr_t)rsdp;
  uint8_t revision = r[15];
  uint64_t xsdt = revision >= 2 ? *(const uint64_t *)(r + 24) : 0;
  const struct acpi_header *root = table(xsdt ? xsdt : *(const uint32_t *)(r + 16));
  if (!root) return 0;
  size_t entry_size = xsdt ? 8 : 4;
  size_t count = (root->length - sizeof *root) / entry_size;
  const uint8_t *entries = (const uint8_t *)(root + 1);
  for (size_t i = 0; i < count; i++) {
    uint64_t a = entry_size == 8 ? *(const uint64_t *)(entries + i * 8) : *(const uint32_t *)(entries + i * 4);
    const struct acpi_header *t = table(a);
    if (t && bytes_equal(t->signature, signature, 4)) return t;
  }
  return 0;
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
  const struct acpi_header *fadt = find_table("FACP");
  if (!fadt) return;
  const uint8_t *f = (const uint8_t *)fadt;
  uint64_t dsdt_address = fadt->length >= 148 && *(const uint64_t *)(f + 140) ? *(const uint64_t *)(f + 140)
                                                                               : *(const uint32_t *)(f + 40);
  const struct acpi_header *dsdt = table(dsdt_address);
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

void power_exit(int status) {
  cli();
  if (status != 0) kprintf("\nuos: exit status %d\n", status);
  outl(DEBUG_EXIT_PORT, (uint32_t)status & 0x7F);
  acpi_power_off();
  for (volatile int i = 0; i < 1000000; i++) pause();
  kputs("uos: could not power off; halted\n");
  for (;;) __asm__ volatile("cli; hlt");
}
