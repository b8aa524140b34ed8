/* heap.c: the allocator behind QuickJS. Blocks up to 2 KiB come from slabs of one size class (a slab is
 * one to four pages with its header in front); a page map of one byte per page leads from any pointer to
 * its slab, so small blocks carry no header. Larger blocks are runs of pages with a 16-byte header. A slab
 * that empties goes back to the page allocator when its class has another slab with room, so memory moves
 * between size classes. All blocks are 16-byte aligned. Single-threaded; never called from interrupts. */
#include "heap.h"

#include <string.h>

#define CLASS_COUNT 28
#define SMALL_LIMIT 2048
#define SLAB_HEADER 64
#define LARGE_HEADER 16
#define MAP_NONE 0
#define MAP_LARGE 0x80 /* first page of a large block; 1..4 = slab page, distance to its first page + 1 */

static const uint16_t class_size[CLASS_COUNT] = {
    16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
    320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048 };

struct free_block { struct free_block *next; };

struct slab {
  struct free_block *free; /* freed blocks */
  uint8_t *bump, *end;     /* never-used tail */
  struct slab *next, *prev; /* in its class's list of slabs with room */
  uint32_t used, capacity;
  uint8_t cls, pages, listed, reserved;
};

struct large_header { uint64_t pages, size; };

static struct slab *partial[CLASS_COUNT];
static uint8_t class_index[SMALL_LIMIT / 16 + 1];
static uint8_t *page_map;
static uint64_t map_pages;
static struct heap_stats stats;
static int ready;

static uint64_t (*alloc_pages)(size_t);
static void (*free_pages)(uint64_t, size_t);

static unsigned slab_pages_for(unsigned size) {
  unsigned bytes = size * 8 + SLAB_HEADER;
  unsigned pages = (bytes + 4095) / 4096;
  return pages > 4 ? 4 : pages;
}

int heap_init(uint64_t ram_top, uint64_t (*page_alloc_fn)(size_t), void (*page_free_fn)(uint64_t, size_t)) {
  alloc_pages = page_alloc_fn;
  free_pages = page_free_fn;
  map_pages = (ram_top + 4095) / 4096;
  uint64_t map_bytes = (map_pages + 4095) & ~4095ull;
  uint64_t map = alloc_pages(map_bytes / 4096);
  if (!map) return -1;
  page_map = (uint8_t *)(uintptr_t)map;
  memset(page_map, MAP_NONE, map_bytes);
  unsigned c = 0;
  for (unsigned i = 0; i <= SMALL_LIMIT / 16; i++) {
    while (class_size[c] < i * 16) c++;
    class_index[i] = (uint8_t)c;
  }
  stats.map_bytes = map_bytes;
  ready = 1;
  return 0;
}

static void list_add(struct slab *s) {
  s->prev = 0;
  s->next = partial[s->cls];
  if (s->next) s->next->prev = s;
  partial[s->cls] = s;
  s->listed = 1;
}

static void list_remove(struct slab *s) {
  if (s->prev) s->prev->next = s->next; else partial[s->cls] = s->next;
  if (s->next) s->next->prev = s->prev;
  s->next = s->prev = 0;
  s->listed = 0;
}

static void set_map(uint64_t address, unsigned pages, int large) {
  uint64_t first = address / 4096;
  for (unsigned i = 0; i < pages && first + i < map_pages; i++)
    page_map[first + i] = large ? (i == 0 ? MAP_LARGE : MAP_NONE) : (uint8_t)(i + 1);
}

static struct slab *slab_new(unsigned cls) {
  unsigned pages = slab_pages_for(class_size[cls]);
  uint64_t address = alloc_pages(pages);
  if (!address) return 0;
  struct slab *s = (struct slab *)(uintptr_t)address;
  s->free = 0;
  s->bump = (uint8_t *)s + SLAB_HEADER;
  s->end = (uint8_t *)s + pages * 4096;
  s->used = 0;
  s->capacity = (uint32_t)((pages * 4096 - SLAB_HEADER) / class_size[cls]);
  s->cls = (uint8_t)cls;
  s->pages = (uint8_t)pages;
  set_map(address, pages, 0);
  list_add(s);
  stats.slab_pages += pages;
  return s;
}

static struct slab *slab_of(const void *p) {
  uint64_t page = (uint64_t)(uintptr_t)p / 4096;
  if (page >= map_pages) return 0;
  uint8_t m = page_map[page];
  if (m == MAP_NONE || m == MAP_LARGE) return 0;
  return (struct slab *)(uintptr_t)((page - (m - 1)) * 4096);
}

static int is_large(const void *p) {
  uint64_t a = (uint64_t)(uintptr_t)p;
  return (a & 4095) == LARGE_HEADER && a / 4096 < map_pages && page_map[a / 4096] == MAP_LARGE;
}

void *heap_malloc(size_t size) {
  if (!ready) return 0;
  if (size == 0) size = 1;
  if (size > SMALL_LIMIT) {
    if (size > (1ull << 40)) { stats.failed++; return 0; }
    uint64_t pages = (size + LARGE_HEADER + 4095) / 4096;
    uint64_t address = alloc_pages(pages);
    if (!address) { stats.failed++; return 0; }
    struct large_header *h = (struct large_header *)(uintptr_t)address;
    h->pages = pages;
    h->size = pages * 4096 - LARGE_HEADER;
    set_map(address, (unsigned)(pages > 1 ? 1 : pages), 1);
    stats.large_pages += pages;
    stats.used_bytes += h->size;
    stats.blocks++;
    if (stats.used_bytes > stats.peak_used_bytes) stats.peak_used_bytes = stats.used_bytes;
    return (uint8_t *)h + LARGE_HEADER;
  }
  unsigned cls = class_index[(size + 15) / 16];
  struct slab *s = partial[cls];
  if (!s && !(s = slab_new(cls))) { stats.failed++; return 0; }
  void *p;
  if (s->free) {
    p = s->free;
    s->free = s->free->next;
  } else {
    p = s->bump;
    s->bump += class_size[cls];
  }
  if (++s->used == s->capacity) list_remove(s);
  stats.used_bytes += class_size[cls];
  stats.blocks++;
  if (stats.used_bytes > stats.peak_used_bytes) stats.peak_used_bytes = stats.used_bytes;
  return p;
}

size_t heap_usable_size(const void *p) {
  if (!p) return 0;
  if (is_large(p)) return ((const struct large_header *)((const uint8_t *)p - LARGE_HEADER))->size;
  struct slab *s = slab_of(p);
  return s ? class_size[s->cls] : 0;
}

void heap_free(void *p) {
  if (!p) return;
  if (is_large(p)) {
    struct large_header *h = (struct large_header *)((uint8_t *)p - LARGE_HEADER);
    uint64_t pages = h->pages;
    stats.used_bytes -= h->size;
    stats.large_pages -= pages;
    stats.blocks--;
    page_map[(uint64_t)(uintptr_t)h / 4096] = MAP_NONE;
    free_pages((uint64_t)(uintptr_t)h, pages);
    return;
  }
  struct slab *s = slab_of(p);
  if (!s) heap_corrupted("free of a pointer the heap never gave out", p);
  struct free_block *b = p;
  b->next = s->free;
  s->free = b;
  stats.used_bytes -= class_size[s->cls];
  stats.blocks--;
  s->used--;
  if (!s->listed) list_add(s);
  /* An empty slab goes back to the pages when its class keeps another slab with room. */
  if (s->used == 0 && (s->next || s->prev)) {
    list_remove(s);
    uint64_t address = (uint64_t)(uintptr_t)s;
    unsigned pages = s->pages;
    for (unsigned i = 0; i < pages; i++) page_map[address / 4096 + i] = MAP_NONE;
    stats.slab_pages -= pages;
    free_pages(address, pages);
  }
}

void *heap_realloc(void *p, size_t size) {
  if (!p) return heap_malloc(size);
  if (size == 0) { heap_free(p); return 0; }
  size_t old = heap_usable_size(p);
  /* Keep the block when it fits and is not much too big for the new size. */
  if (size <= old && (old <= SMALL_LIMIT ? size > old / 2 || old <= 16 : size + 4096 > old / 2)) return p;
  void *q = heap_malloc(size);
  if (!q) return 0;
  memcpy(q, p, size < old ? size : old);
  heap_free(p);
  return q;
}

void heap_get_stats(struct heap_stats *out) { *out = stats; }

/* 64 KiB kept back from boot on, given back when memory runs out so the panic report and the service's
 * panic hooks can still allocate. */
static void *reserve;
void heap_keep_reserve(void) { if (!reserve) reserve = heap_malloc(64 * 1024); }
void heap_release_reserve(void) { if (reserve) { heap_free(reserve); reserve = 0; } }
