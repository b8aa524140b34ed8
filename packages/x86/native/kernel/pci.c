/* pci.c: the PCI bus. Configuration space is reached one of two ways, chosen once at boot:
 * - the legacy configuration ports (0xCF8/0xCFC), which pc and q35 have;
 * - ECAM (PCIe's memory-mapped configuration space, 4 KiB per function), found through the ACPI MCFG
 *   table, or, on QEMU's microvm with pcie=on (no ports, and an MCFG QEMU does not provide), at the
 *   machine's fixed layout: ECAM at 0xE0000000 (256 buses), memory BARs in 0xC0000000..0xDFFFFFFF.
 * Scanned once at boot, bridges followed. Where no firmware assigned the memory BARs (microvm's qboot
 * knows nothing of its PCIe host), they are assigned here from the host's window, so drivers find them
 * as they would on a PC, and, on microvm, the interrupt line register too. The JS side (@uos/hw) reaches
 * configuration space itself, through the same mechanism (`pciHost()` says which). */
#include "acpi.h"
#include "cpu.h"
#include "uos.h"

#define CONFIG_ADDRESS 0xCF8
#define CONFIG_DATA 0xCFC

/* QEMU's microvm (hw/i386/microvm.h): PCIE_ECAM_BASE/SIZE and PCIE_MMIO_BASE/SIZE. */
#define MICROVM_ECAM_BASE 0xE0000000ull
#define MICROVM_ECAM_BUSES 256
#define MICROVM_MMIO_BASE 0xC0000000ull
#define MICROVM_MMIO_SIZE 0x20000000ull

struct pci_function pci_functions[MAX_PCI_FUNCTIONS];
unsigned pci_function_count;
struct pci_host pci_host;

static uint32_t address_of(unsigned bus, unsigned device, unsigned function, unsigned offset) {
  return 0x80000000u | (bus << 16) | (device << 11) | (function << 8) | (offset & 0xFC);
}

/* The function's 4 KiB of ECAM, mapped (uncached) the first time it is touched; 0 outside the host's buses. */
static volatile uint8_t *ecam_function(unsigned bus, unsigned device, unsigned function) {
  if (bus < pci_host.bus_start || bus > pci_host.bus_end) return 0;
  uint64_t a = pci_host.ecam_base + ((uint64_t)(bus - pci_host.bus_start) << 20) + ((uint64_t)device << 15) +
               ((uint64_t)function << 12);
  if (!is_mapped(a)) map_mmio(a, PAGE_SIZE);
  return (volatile uint8_t *)(uintptr_t)a;
}

uint32_t pci_config_read(unsigned bus, unsigned device, unsigned function, unsigned offset, unsigned width) {
  uint32_t all_ones = width == 1 ? 0xFF : width == 2 ? 0xFFFF : 0xFFFFFFFFu;
  if (pci_host.mechanism == PCI_ECAM) {
    volatile uint8_t *f = ecam_function(bus, device, function);
    if (!f || offset + width > PAGE_SIZE) return all_ones;
    if (width == 4) return *(volatile uint32_t *)(f + offset);
    if (width == 2) return *(volatile uint16_t *)(f + offset);
    return f[offset];
  }
  if (pci_host.mechanism != PCI_PORTS || offset > 255) return all_ones;
  outl(CONFIG_ADDRESS, address_of(bus, device, function, offset));
  uint32_t v = inl(CONFIG_DATA) >> ((offset & 3) * 8);
  return v & all_ones;
}

void pci_config_write(unsigned bus, unsigned device, unsigned function, unsigned offset, unsigned width, uint32_t value) {
  if (pci_host.mechanism == PCI_ECAM) {
    volatile uint8_t *f = ecam_function(bus, device, function);
    if (!f || offset + width > PAGE_SIZE) return;
    if (width == 4) *(volatile uint32_t *)(f + offset) = value;
    else if (width == 2) *(volatile uint16_t *)(f + offset) = (uint16_t)value;
    else f[offset] = (uint8_t)value;
    return;
  }
  if (pci_host.mechanism != PCI_PORTS || offset > 255) return;
  outl(CONFIG_ADDRESS, address_of(bus, device, function, offset));
  if (width == 4) { outl(CONFIG_DATA, value); return; }
  if (width == 2) { outw((uint16_t)(CONFIG_DATA + (offset & 2)), (uint16_t)value); return; }
  outb((uint16_t)(CONFIG_DATA + (offset & 3)), (uint8_t)value);
}

static int present(unsigned bus, unsigned device, unsigned function) {
  uint32_t id = pci_config_read(bus, device, function, 0x00, 4);
  /* Nothing there: the bus floats to all ones; memory nothing decodes reads as zeros on QEMU. */
  return (id & 0xFFFF) != 0xFFFF && id != 0;
}

/* ---- BAR assignment, where the firmware left it to us ---- */

static uint64_t window_next, window_end;

static uint64_t window_allocate(uint64_t size) {
  uint64_t a = ALIGN_UP(window_next, size);
  if (a + size > window_end || a + size < a) return 0;
  window_next = a + size;
  return a;
}

/* Gives every memory BAR of a function that has none an address in the host's 32-bit window (64-bit
 * BARs too: they may sit below 4 GiB). I/O BARs stay unassigned: microvm's host decodes no ports. */
static void assign_bars(unsigned bus, unsigned device, unsigned function, unsigned header) {
  unsigned count = header == 0 ? 6 : header == 1 ? 2 : 0;
  uint16_t command = (uint16_t)pci_config_read(bus, device, function, 0x04, 2);
  pci_config_write(bus, device, function, 0x04, 2, command & ~3u); /* decoding off while BARs hold all ones */
  for (unsigned i = 0; i < count; i++) {
    unsigned offset = 0x10 + i * 4;
    uint32_t original = pci_config_read(bus, device, function, offset, 4);
    if (original & 1) continue; /* an I/O BAR */
    int is64 = ((original >> 1) & 3) == 2 && i + 1 < count;
    uint32_t high = is64 ? pci_config_read(bus, device, function, offset + 4, 4) : 0;
    if ((original & 0xFFFFFFF0u) || high) { i += is64; continue; } /* already assigned */
    pci_config_write(bus, device, function, offset, 4, 0xFFFFFFFFu);
    uint32_t mask = pci_config_read(bus, device, function, offset, 4) & 0xFFFFFFF0u;
    uint64_t size = mask ? (uint64_t)(~mask) + 1 : 0;
    if (is64) {
      pci_config_write(bus, device, function, offset + 4, 4, 0xFFFFFFFFu);
      uint32_t high_mask = pci_config_read(bus, device, function, offset + 4, 4);
      if (mask || high_mask) size = ~(((uint64_t)high_mask << 32) | mask) + 1;
    }
    uint64_t address = size && size <= (MICROVM_MMIO_SIZE) ? window_allocate(size < PAGE_SIZE ? PAGE_SIZE : size) : 0;
    pci_config_write(bus, device, function, offset, 4, (uint32_t)address);
    if (is64) pci_config_write(bus, device, function, offset + 4, 4, (uint32_t)(address >> 32));
    if (size && !address)
      kprintf("uos: pci %02x:%02x.%u: no room for BAR %u (%lu bytes) in the PCI window\n", bus, device, function, i, size);
    i += is64;
  }
  pci_config_write(bus, device, function, 0x04, 2, command);
}

/* microvm's PCIe host wires INTA..INTD of root-bus slot s to GSI base + (s + pin - 1) % 4, the base being
 * 16 with the second I/O APIC (QEMU's default with ACPI) and 12 without. No firmware writes the interrupt
 * line register there, so the scan does, as a PC's firmware would; 0 stays for functions without a pin. */
static unsigned intx_base;

static void assign_interrupt_line(unsigned bus, unsigned device, unsigned function) {
  unsigned pin = pci_config_read(bus, device, function, 0x3D, 1);
  if (!intx_base || bus != pci_host.bus_start || pin < 1 || pin > 4) return;
  pci_config_write(bus, device, function, 0x3C, 1, intx_base + (device + pin - 1) % 4);
}

/* ---- the scan ---- */

static void scan_bus(unsigned bus, unsigned depth);

static void add_function(unsigned bus, unsigned device, unsigned function, unsigned depth) {
  if (!present(bus, device, function)) return;
  uint32_t id = pci_config_read(bus, device, function, 0x00, 4);
  uint32_t class_word = pci_config_read(bus, device, function, 0x08, 4);
  uint8_t header = (uint8_t)pci_config_read(bus, device, function, 0x0E, 1);
  if (window_end) {
    assign_bars(bus, device, function, header & 0x7F);
    assign_interrupt_line(bus, device, function);
  }
  if (pci_function_count < MAX_PCI_FUNCTIONS) {
    struct pci_function *f = &pci_functions[pci_function_count++];
    f->bus = (uint8_t)bus;
    f->device = (uint8_t)device;
    f->function = (uint8_t)function;
    f->vendor_id = (uint16_t)id;
    f->device_id = (uint16_t)(id >> 16);
    f->revision = (uint8_t)class_word;
    f->prog_if = (uint8_t)(class_word >> 8);
    f->subclass = (uint8_t)(class_word >> 16);
    f->class_code = (uint8_t)(class_word >> 24);
    f->header_type = header & 0x7F;
    f->interrupt_line = (uint8_t)pci_config_read(bus, device, function, 0x3C, 1);
    f->interrupt_pin = (uint8_t)pci_config_read(bus, device, function, 0x3D, 1);
  }
  /* A PCI-to-PCI bridge: its secondary bus is scanned too (as the firmware numbered it). */
  if ((header & 0x7F) == 1 && depth < 8) {
    unsigned secondary = pci_config_read(bus, device, function, 0x19, 1);
    if (secondary > bus) scan_bus(secondary, depth + 1);
  }
}

static void scan_bus(unsigned bus, unsigned depth) {
  for (unsigned device = 0; device < 32; device++) {
    if (!present(bus, device, 0)) continue;
    add_function(bus, device, 0, depth);
    if (pci_config_read(bus, device, 0, 0x0E, 1) & 0x80)
      for (unsigned function = 1; function < 8; function++) add_function(bus, device, function, depth);
  }
}

/* ---- which mechanism ---- */

static int ports_present(void) {
  /* Configuration mechanism #1: the address register keeps what is written to it. */
  outl(CONFIG_ADDRESS, 0x80000000u);
  int answered = inl(CONFIG_ADDRESS) == 0x80000000u;
  outl(CONFIG_ADDRESS, 0);
  return answered;
}

/* The MCFG table's first segment-0 entry: base (8 bytes), segment (2), start bus, end bus, reserved (4). */
static int host_from_mcfg(void) {
  const struct acpi_header *mcfg = acpi_find_table("MCFG");
  if (!mcfg) return 0;
  const uint8_t *p = (const uint8_t *)mcfg;
  for (uint32_t at = 44; at + 16 <= mcfg->length; at += 16) {
    if (*(const uint16_t *)(p + at + 8) != 0) continue;
    pci_host.ecam_base = *(const uint64_t *)(p + at);
    pci_host.bus_start = p[at + 10];
    pci_host.bus_end = p[at + 11];
    pci_host.mechanism = PCI_ECAM;
    pci_host.source = "acpi-mcfg";
    return 1;
  }
  return 0;
}

/* Hardware-reduced ACPI (FADT flag 20) is how microvm describes itself; its ECAM answers only with pcie=on. */
static int host_from_microvm_layout(void) {
  const struct acpi_header *fadt = acpi_find_table("FACP");
  if (!fadt || fadt->length < 116 || !(*(const uint32_t *)((const uint8_t *)fadt + 112) & (1u << 20))) return 0;
  pci_host = (struct pci_host){ .mechanism = PCI_ECAM, .ecam_base = MICROVM_ECAM_BASE, .bus_start = 0,
                                .bus_end = MICROVM_ECAM_BUSES - 1, .mmio_base = MICROVM_MMIO_BASE,
                                .mmio_size = MICROVM_MMIO_SIZE, .source = "microvm" };
  if (present(0, 0, 0)) {
    struct madt_info madt;
    acpi_read_madt(&madt);
    intx_base = madt.ioapic_count > 1 ? 16 : 12;
    return 1;
  }
  pci_host = (struct pci_host){ .mechanism = PCI_NONE, .source = "none" };
  return 0;
}

void pci_scan(void) {
  pci_host = (struct pci_host){ .mechanism = PCI_NONE, .source = "none" };
  if (ports_present()) pci_host = (struct pci_host){ .mechanism = PCI_PORTS, .source = "ports" };
  else if (!host_from_mcfg()) host_from_microvm_layout();
  if (pci_host.mechanism == PCI_NONE) return;
  window_next = pci_host.mmio_base;
  window_end = pci_host.mmio_base + pci_host.mmio_size;
  scan_bus(pci_host.bus_start, 0);
  /* A host bridge with several functions means several root buses. */
  if (pci_config_read(pci_host.bus_start, 0, 0, 0x0E, 1) & 0x80)
    for (unsigned function = 1; function < 8; function++)
      if (present(pci_host.bus_start, 0, function)) scan_bus(pci_host.bus_start + function, 0);
}
