/* pci.c: the PCI bus through the configuration ports (0xCF8/0xCFC), which every machine QEMU models with
 * PCI has (pc, q35; microvm has no PCI unless asked). Scanned once at boot, bridges followed; the JS side
 * (@uos/hw) reads the rest of each device's configuration space through pci_config_read/write. */
#include "cpu.h"
#include "uos.h"

#define CONFIG_ADDRESS 0xCF8
#define CONFIG_DATA 0xCFC

struct pci_function pci_functions[MAX_PCI_FUNCTIONS];
unsigned pci_function_count;

static uint32_t address_of(unsigned bus, unsigned device, unsigned function, unsigned offset) {
  return 0x80000000u | (bus << 16) | (device << 11) | (function << 8) | (offset & 0xFC);
}

uint32_t pci_config_read(unsigned bus, unsigned device, unsigned function, unsigned offset, unsigned width) {
  outl(CONFIG_ADDRESS, address_of(bus, device, function, offset));
  uint32_t v = inl(CONFIG_DATA) >> ((offset & 3) * 8);
  return width == 1 ? v & 0xFF : width == 2 ? v & 0xFFFF : v;
}

void pci_config_write(unsigned bus, unsigned device, unsigned function, unsigned offset, unsigned width, uint32_t value) {
  outl(CONFIG_ADDRESS, address_of(bus, device, function, offset));
  if (width == 4) { outl(CONFIG_DATA, value); return; }
  if (width == 2) { outw((uint16_t)(CONFIG_DATA + (offset & 2)), (uint16_t)value); return; }
  outb((uint16_t)(CONFIG_DATA + (offset & 3)), (uint8_t)value);
}

static void scan_bus(unsigned bus, unsigned depth);

static void add_function(unsigned bus, unsigned device, unsigned function, unsigned depth) {
  uint32_t id = pci_config_read(bus, device, function, 0x00, 4);
  if ((id & 0xFFFF) == 0xFFFF) return;
  uint32_t class_word = pci_config_read(bus, device, function, 0x08, 4);
  uint8_t header = (uint8_t)pci_config_read(bus, device, function, 0x0E, 1);
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
  /* A PCI-to-PCI bridge: its secondary bus is scanned too. */
  if ((header & 0x7F) == 1 && depth < 8) {
    unsigned secondary = pci_config_read(bus, device, function, 0x19, 1);
    if (secondary > bus) scan_bus(secondary, depth + 1);
  }
}

static void scan_bus(unsigned bus, unsigned depth) {
  for (unsigned device = 0; device < 32; device++) {
    uint32_t id = pci_config_read(bus, device, 0, 0x00, 4);
    if ((id & 0xFFFF) == 0xFFFF) continue;
    add_function(bus, device, 0, depth);
    if (pci_config_read(bus, device, 0, 0x0E, 1) & 0x80)
      for (unsigned function = 1; function < 8; function++) add_function(bus, device, function, depth);
  }
}

void pci_scan(void) {
  scan_bus(0, 0); /* without PCI (microvm) every read floats to all ones: nothing is found */
  /* A host bridge with several functions means several root buses. */
  if (pci_config_read(0, 0, 0, 0x0E, 1) & 0x80)
    for (unsigned function = 1; function < 8; function++)
      if ((pci_config_read(0, 0, function, 0, 4) & 0xFFFF) != 0xFFFF) scan_bus(function, 0);
}
