/* boot-info.c: read the loader's hand-over (Multiboot 1 info or the PVH hvm_start_info) into boot_info,
 * before the page allocator may reuse the memory those structures live in. */
#include "uos.h"

struct boot_info boot_info;

#define PVH_MAGIC 0x336ec578u

struct multiboot_info {
  uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
  uint32_t syms[4];
  uint32_t mmap_length, mmap_addr;
} __attribute__((packed));
struct multiboot_mmap_entry { uint32_t size; uint64_t addr, len; uint32_t type; } __attribute__((packed));

struct pvh_start_info {
  uint32_t magic, version, flags, nr_modules;
  uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
  uint32_t memmap_entries, reserved;
} __attribute__((packed));
struct pvh_memmap_entry { uint64_t addr, size; uint32_t type, reserved; } __attribute__((packed));

static void copy_cmdline(uint64_t address) {
  if (!address) return;
  const char *s = (const char *)(uintptr_t)address;
  size_t i = 0;
  for (; i + 1 < MAX_CMDLINE && s[i]; i++) boot_info.cmdline[i] = s[i];
  boot_info.cmdline[i] = 0;
}

static void add_region(uint64_t base, uint64_t length, uint32_t type) {
  if (boot_info.region_count >= MAX_MEMORY_REGIONS || !length) return;
  struct memory_region *r = &boot_info.regions[boot_info.region_count++];
  r->base = base;
  r->length = length;
  r->type = (type >= 1 && type <= 5) ? type : MEM_RESERVED;
}

void boot_info_parse(uint32_t protocol, uint32_t info_addr) {
  boot_info.protocol = (enum boot_protocol)protocol;
  if (protocol == BOOT_MULTIBOOT) {
    const struct multiboot_info *mb = (const void *)(uintptr_t)info_addr;
    if (mb->flags & (1u << 2)) copy_cmdline(mb->cmdline);
    if (mb->flags & (1u << 6)) {
      uint64_t p = mb->mmap_addr, end = (uint64_t)mb->mmap_addr + mb->mmap_length;
      while (p < end) {
        const struct multiboot_mmap_entry *e = (const void *)(uintptr_t)p;
        add_region(e->addr, e->len, e->type);
        p += e->size + 4;
      }
    } else if (mb->flags & 1u) {
      add_region(0, (uint64_t)mb->mem_lower * 1024, MEM_AVAILABLE);
      add_region(0x100000, (uint64_t)mb->mem_upper * 1024, MEM_AVAILABLE);
    }
  } else if (protocol == BOOT_PVH) {
    const struct pvh_start_info *si = (const void *)(uintptr_t)info_addr;
    if (si->magic != PVH_MAGIC) panic("PVH start info has a bad magic %x", si->magic);
    copy_cmdline(si->cmdline_paddr);
    boot_info.rsdp = si->rsdp_paddr;
    if (si->version >= 1 && si->memmap_paddr) {
      const struct pvh_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
      for (uint32_t i = 0; i < si->memmap_entries; i++) add_region(e[i].addr, e[i].size, e[i].type);
    }
  } else {
    panic("unknown boot protocol %u", protocol);
  }
  if (!boot_info.region_count) panic("the boot loader gave no memory map");
}
