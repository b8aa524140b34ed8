/* acpi.h: the ACPI tables the kernel reads (FADT for power-off, MADT for interrupt routing). */
#ifndef UOS_ACPI_H
#define UOS_ACPI_H
#include <stdint.h>

struct acpi_header {
  char signature[4];
  uint32_t length;
  uint8_t revision, checksum;
  char oem[6], oem_table[8];
  uint32_t oem_revision, creator, creator_revision;
} __attribute__((packed));

/* The table with this signature, mapped; 0 when absent. */
const struct acpi_header *acpi_find_table(const char *signature);

#define MAX_IOAPICS 4
#define MAX_OVERRIDES 16
struct madt_info {
  uint64_t lapic_address;
  unsigned ioapic_count;
  struct { uint8_t id; uint32_t address, gsi_base; } ioapics[MAX_IOAPICS];
  unsigned override_count;
  struct { uint8_t source; uint32_t gsi; uint16_t flags; } overrides[MAX_OVERRIDES];
  int from_firmware; /* 0: the defaults of a PC, no MADT found */
};
/* Reads the MADT, or fills in a PC's defaults when there is none. */
void acpi_read_madt(struct madt_info *out);
#endif
