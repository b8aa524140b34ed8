/* memory.c: the physical page allocator. One bit per 4 KiB page up to the top of RAM (1 = in use),
 * first fit. Everything the firmware did not call available, page 0, the kernel image and the payload
 * stay reserved. musl's mmap/munmap and the page tables draw from here. */
#include "uos.h"

static uint64_t *bitmap;
static uint64_t bitmap_pages; /* pages covered */
static uint64_t ram_top;
static uint64_t free_pages, total_pages, peak_used;
static uint64_t search_hint;
static uint64_t reserved_end_address;

static inline int page_used(uint64_t p) { return (bitmap[p >> 6] >> (p & 63)) & 1; }
static inline void page_set(uint64_t p) { bitmap[p >> 6] |= 1ull << (p & 63); }
static inline void page_clear(uint64_t p) { bitmap[p >> 6] &= ~(1ull << (p & 63)); }

static void mark(uint64_t start, uint64_t end, int used) {
  uint64_t p = start / PAGE_SIZE, last = end / PAGE_SIZE < bitmap_pages ? end / PAGE_SIZE : bitmap_pages;
  while (p < last) {
    uint64_t word = p >> 6, bit = p & 63, n = 64 - bit;
    if (n > last - p) n = last - p;
    uint64_t mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << bit;
    uint64_t changed = used ? mask & ~bitmap[word] : mask & bitmap[word];
    uint64_t count = (uint64_t)__builtin_popcountll(changed);
    if (used) { bitmap[word] |= mask; free_pages -= count; }
    else { bitmap[word] &= ~mask; free_pages += count; }
    p += n;
  }
}

void memory_init(uint64_t reserved_end) {
  reserved_end_address = reserved_end;
  for (unsigned i = 0; i < boot_info.region_count; i++) {
    const struct memory_region *r = &boot_info.regions[i];
    if (r->type == MEM_AVAILABLE && r->base + r->length > ram_top) ram_top = r->base + r->length;
  }
  ram_top = ALIGN_DOWN(ram_top, PAGE_SIZE);
  bitmap_pages = ram_top / PAGE_SIZE;
  uint64_t bitmap_bytes = ALIGN_UP((bitmap_pages + 63) / 64 * 8, PAGE_SIZE);

  /* The bitmap goes into the first available range that can hold it outside page 0 and the image: above
   * the image when there is room (low memory then stays free for the heap), else anywhere. */
  uint64_t place = 0;
  for (int pass = 0; pass < 2 && !place; pass++) {
    for (unsigned i = 0; i < boot_info.region_count && !place; i++) {
      const struct memory_region *r = &boot_info.regions[i];
      if (r->type != MEM_AVAILABLE) continue;
      uint64_t start = ALIGN_UP(r->base > PAGE_SIZE ? r->base : PAGE_SIZE, PAGE_SIZE);
      if (pass == 0 && start < reserved_end) start = reserved_end;
      if (start < reserved_end && start + bitmap_bytes > (uint64_t)__kernel_start) start = reserved_end;
      if (start >= 0xA0000 && start < 0x100000) start = 0x100000 > reserved_end ? 0x100000 : reserved_end;
      if (start + bitmap_bytes <= r->base + r->length) place = start;
    }
  }
  if (!place) panic("no room for the page bitmap (%lu bytes)", bitmap_bytes);
  bitmap = (uint64_t *)(uintptr_t)place;
  for (uint64_t i = 0; i < bitmap_bytes / 8; i++) bitmap[i] = ~0ull;

  for (unsigned i = 0; i < boot_info.region_count; i++) {
    const struct memory_region *r = &boot_info.regions[i];
    if (r->type != MEM_AVAILABLE) continue;
    mark(ALIGN_UP(r->base, PAGE_SIZE), ALIGN_DOWN(r->base + r->length, PAGE_SIZE), 0);
  }
  /* Overlapping reserved ranges win over available ones. */
  for (unsigned i = 0; i < boot_info.region_count; i++) {
    const struct memory_region *r = &boot_info.regions[i];
    if (r->type != MEM_AVAILABLE) mark(ALIGN_DOWN(r->base, PAGE_SIZE), ALIGN_UP(r->base + r->length, PAGE_SIZE), 1);
  }
  mark(0, PAGE_SIZE, 1);
  mark(0xA0000, 0x100000, 1); /* legacy VGA, option ROMs and BIOS, whatever the map says */
  mark((uint64_t)__kernel_start, reserved_end, 1);
  mark(place, place + bitmap_bytes, 1);
  total_pages = free_pages;
  search_hint = 0;
}

uint64_t page_alloc(size_t pages) {
  if (!pages) return 0;
  uint64_t run = 0;
  for (uint64_t p = search_hint; p < bitmap_pages; p++) {
    if ((p & 63) == 0 && bitmap[p >> 6] == ~0ull && run == 0) { p += 63; continue; }
    if (page_used(p)) { run = 0; continue; }
    if (++run == pages) {
      uint64_t first = p + 1 - pages;
      for (uint64_t q = first; q <= p; q++) page_set(q);
      free_pages -= pages;
      uint64_t used = total_pages - free_pages;
      if (used > peak_used) peak_used = used;
      if (pages == 1 || first == search_hint) search_hint = p + 1;
      return first * PAGE_SIZE;
    }
  }
  return 0;
}

void page_free(uint64_t addr, size_t pages) {
  uint64_t first = addr / PAGE_SIZE;
  for (uint64_t p = first; p < first + pages && p < bitmap_pages; p++) {
    if (!page_used(p)) panic("page_free of a free page at %lx", p * PAGE_SIZE);
    page_clear(p);
    free_pages++;
  }
  if (first < search_hint) search_hint = first;
}

void memory_stats(struct memory_stats *out) {
  out->total_pages = total_pages;
  out->free_pages = free_pages;
  out->peak_used_pages = peak_used;
  out->ram_top = ram_top;
  out->kernel_bytes = (uint64_t)__kernel_end - (uint64_t)__kernel_start;
  out->payload_bytes = reserved_end_address - (uint64_t)__payload_start;
}
