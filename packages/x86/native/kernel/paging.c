/* paging.c: the kernel's final page tables. Identity mapping of all RAM; 4 KiB pages over the image so
 * protection is exact: page 0 absent, text read-only and executable, rodata read-only, data, bss, heap
 * and payload not executable, and a guard page under every stack. The rest of RAM uses 2 MiB pages. */
#include "cpu.h"
#include "stacks.h"
#include "uos.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_LARGE (1ull << 7)
#define PTE_GLOBAL (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDRESS 0x000FFFFFFFFFF000ull

static uint64_t *pml4;
static int nx_enabled;
static uint64_t nx_bit;

int nx_supported(void) { return nx_enabled; }

static uint64_t *table_alloc(void) {
  uint64_t p = page_alloc(1);
  if (!p) panic("out of memory for page tables");
  uint64_t *t = (uint64_t *)(uintptr_t)p;
  for (int i = 0; i < 512; i++) t[i] = 0;
  return t;
}

static uint64_t *next_table(uint64_t *table, unsigned index) {
  uint64_t e = table[index];
  if (e & PTE_PRESENT) {
    if (e & PTE_LARGE) panic("paging: a large page is in the way at index %u", index);
    return (uint64_t *)(uintptr_t)(e & PTE_ADDRESS);
  }
  uint64_t *t = table_alloc();
  table[index] = (uint64_t)t | PTE_PRESENT | PTE_WRITE;
  return t;
}

static void map_4k(uint64_t address, uint64_t flags) {
  uint64_t *pdpt = next_table(pml4, (address >> 39) & 511);
  uint64_t *pd = next_table(pdpt, (address >> 30) & 511);
  uint64_t *pt = next_table(pd, (address >> 21) & 511);
  pt[(address >> 12) & 511] = (flags & PTE_PRESENT) ? (address | flags) : 0;
}

static void map_2m(uint64_t address, uint64_t flags) {
  uint64_t *pdpt = next_table(pml4, (address >> 39) & 511);
  uint64_t *pd = next_table(pdpt, (address >> 30) & 511);
  pd[(address >> 21) & 511] = address | flags | PTE_LARGE;
}

/* Returns the entry that maps address (a 4 KiB PTE or a 2 MiB PDE), or 0 when nothing maps it. */
static uint64_t lookup(uint64_t address) {
  uint64_t *t = pml4;
  for (int shift = 39; shift >= 12; shift -= 9) {
    uint64_t e = t[(address >> shift) & 511];
    if (!(e & PTE_PRESENT)) return 0;
    if (shift == 12 || (e & PTE_LARGE)) return e;
    t = (uint64_t *)(uintptr_t)(e & PTE_ADDRESS);
  }
  return 0;
}

static int is_ram(uint32_t type) {
  return type == MEM_AVAILABLE || type == MEM_ACPI_RECLAIMABLE || type == MEM_ACPI_NVS;
}

/* Is [a, a + size) inside memory regions the firmware calls RAM? */
static int ram_covers(uint64_t a, uint64_t size) {
  uint64_t end = a + size;
  for (int progress = 1; progress && a < end;) {
    progress = 0;
    for (unsigned i = 0; i < boot_info.region_count; i++) {
      const struct memory_region *r = &boot_info.regions[i];
      if (is_ram(r->type) && r->base <= a && a < r->base + r->length) {
        a = r->base + r->length;
        progress = 1;
      }
    }
  }
  return a >= end;
}

static uint64_t flags_for(uint64_t a, uint64_t payload_end) {
  uint64_t data = PTE_PRESENT | PTE_WRITE | nx_bit;
  if (a < PAGE_SIZE) return 0;                                             /* page 0: null pointers fault */
  if (a >= (uint64_t)__kernel_start && a < (uint64_t)__text_end) return PTE_PRESENT; /* text: RX */
  if (a >= (uint64_t)__text_end && a < (uint64_t)__rodata_end) return PTE_PRESENT | nx_bit;
  if (a >= (uint64_t)__payload_start && a < payload_end) return PTE_PRESENT | nx_bit;
  for (uint64_t i = 0; i < stack_count; i++)
    if (a == stack_table[i].guard) return 0;
  return data;
}

void paging_init(uint64_t payload_end) {
  nx_enabled = (rdmsr(MSR_EFER) >> 11) & 1;
  nx_bit = nx_enabled ? PTE_NX : 0;
  pml4 = table_alloc();
  struct memory_stats s;
  memory_stats(&s);
  uint64_t fine_end = ALIGN_UP(payload_end, 0x200000);
  uint64_t top = ALIGN_UP(s.ram_top, 0x200000);
  if (top < fine_end) top = fine_end;
  for (uint64_t a = 0; a < fine_end; a += PAGE_SIZE) map_4k(a, flags_for(a, payload_end));
  /* Above the image: RAM only (never the PCI hole), in 2 MiB pages where a whole one is RAM. */
  for (uint64_t a = fine_end; a < top; a += 0x200000) {
    if (ram_covers(a, 0x200000)) { map_2m(a, PTE_PRESENT | PTE_WRITE | nx_bit); continue; }
    for (uint64_t b = a; b < a + 0x200000; b += PAGE_SIZE)
      if (ram_covers(b, PAGE_SIZE)) map_4k(b, PTE_PRESENT | PTE_WRITE | nx_bit);
  }
  write_cr3((uint64_t)pml4);
}

void map_physical(uint64_t phys, uint64_t size) {
  for (uint64_t a = ALIGN_DOWN(phys, PAGE_SIZE); a < phys + size; a += PAGE_SIZE)
    if (!lookup(a)) { map_4k(a, PTE_PRESENT | nx_bit); invlpg(a); }
}

int is_mapped(uint64_t address) { return lookup(address) != 0; }

void map_mmio(uint64_t phys, uint64_t size) {
  for (uint64_t a = ALIGN_DOWN(phys, PAGE_SIZE); a < phys + size; a += PAGE_SIZE) {
    uint64_t e = lookup(a);
    if (e & PTE_LARGE) panic("map_mmio: %lx lies in RAM mapped with a large page", a);
    map_4k(a, PTE_PRESENT | PTE_WRITE | PTE_PCD | PTE_PWT | nx_bit);
    invlpg(a);
  }
}
