/* acpi.c: finding ACPI tables (RSDP from the PVH start info or the BIOS area, then RSDT/XSDT) and reading
 * the MADT: the local APIC address, the I/O APICs and the ISA interrupt source overrides. */
#include "acpi.h"

#include "uos.h"

static int bytes_equal(const void *a, const char *b, unsigned n) {
  const char *x = a;
  for (unsigned i = 0; i < n; i++) if (x[i] != b[i]) return 0;
  return 1;
}

static uint64_t find_rsdp(void) {
  if (boot_info.rsdp) return boot_info.rsdp;
  /* The BIOS area (the EBDA pointer lives in page 0, which stays unmapped; QEMU's firmware puts the RSDP here). */
  for (uint64_t a = 0xE0000; a < 0x100000; a += 16)
    if (bytes_equal((const void *)(uintptr_t)a, "RSD PTR ", 8)) return a;
  return 0;
}

static const struct acpi_header *map_table(uint64_t address) {
  if (!address) return 0;
  map_physical(address, sizeof(struct acpi_header));
  const struct acpi_header *h = (const void *)(uintptr_t)address;
  map_physical(address, h->length);
  return h;
}

const struct acpi_header *acpi_find_table(const char *signature) {
  uint64_t rsdp = find_rsdp();
  if (!rsdp) return 0;
  map_physical(rsdp, 36);
  const uint8_t *r = (const void *)(uintptr_t)rsdp;
  uint64_t xsdt = r[15] >= 2 ? *(const uint64_t *)(r + 24) : 0;
  const struct acpi_header *root = map_table(xsdt ? xsdt : *(const uint32_t *)(r + 16));
  if (!root) return 0;
  unsigned entry_size = xsdt ? 8 : 4;
  unsigned count = (root->length - sizeof *root) / entry_size;
  const uint8_t *entries = (const uint8_t *)(root + 1);
  for (unsigned i = 0; i < count; i++) {
    uint64_t a = entry_size == 8 ? *(const uint64_t *)(entries + i * 8) : *(const uint32_t *)(entries + i * 4);
    const struct acpi_header *t = map_table(a);
    if (t && bytes_equal(t->signature, signature, 4)) return t;
  }
  return 0;
}

void acpi_read_madt(struct madt_info *out) {
  *out = (struct madt_info){ .lapic_address = 0xFEE00000 };
  const struct acpi_header *madt = acpi_find_table("APIC");
  if (madt) {
    const uint8_t *p = (const uint8_t *)madt;
    out->lapic_address = *(const uint32_t *)(p + 36);
    for (uint32_t at = 44; at + 2 <= madt->length;) {
      uint8_t type = p[at], length = p[at + 1];
      if (length < 2 || at + length > madt->length) break;
      const uint8_t *e = p + at;
      if (type == 1 && length >= 12 && out->ioapic_count < MAX_IOAPICS) {
        out->ioapics[out->ioapic_count].id = e[2];
        out->ioapics[out->ioapic_count].address = *(const uint32_t *)(e + 4);
        out->ioapics[out->ioapic_count].gsi_base = *(const uint32_t *)(e + 8);
        out->ioapic_count++;
      } else if (type == 2 && length >= 10 && out->override_count < MAX_OVERRIDES) {
        out->overrides[out->override_count].source = e[3];
        out->overrides[out->override_count].gsi = *(const uint32_t *)(e + 4);
        out->overrides[out->override_count].flags = *(const uint16_t *)(e + 8);
        out->override_count++;
      } else if (type == 5 && length >= 12) {
        out->lapic_address = *(const uint64_t *)(e + 4);
      }
      at += length;
    }
    out->from_firmware = 1;
  }
  if (!out->ioapic_count) { /* a PC without a MADT: one I/O APIC where they always are */
    out->ioapics[0].id = 0;
    out->ioapics[0].address = 0xFEC00000;
    out->ioapics[0].gsi_base = 0;
    out->ioapic_count = 1;
    if (!out->override_count) {
      out->overrides[0].source = 0; /* the PIT's IRQ 0 arrives on pin 2 */
      out->overrides[0].gsi = 2;
      out->overrides[0].flags = 0;
      out->override_count = 1;
    }
  }
}
