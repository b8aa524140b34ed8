/* heap-test: drives kernel/heap.c on the host with random allocations, frees and reallocs over a fake
 * physical memory, and checks its invariants: 16-byte alignment, usable size >= requested, no overlap,
 * contents kept across realloc, statistics that add up, and every page back once all is freed.
 *   heap-test [seed] [operations]   exits 0 when every check holds */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "heap.h"

#define ARENA_BASE 0x10000000ull
#define ARENA_PAGES (16384ull) /* 64 MiB */
static unsigned char used_page[ARENA_PAGES];
static uint64_t pages_in_use;

static uint64_t fake_page_alloc(size_t n) {
  for (uint64_t i = 0; i + n <= ARENA_PAGES; i++) {
    uint64_t j = 0;
    while (j < n && !used_page[i + j]) j++;
    if (j == n) {
      memset(used_page + i, 1, n);
      pages_in_use += n;
      /* Poison: the heap must not rely on fresh pages being zero. */
      memset((void *)(uintptr_t)(ARENA_BASE + i * 4096), 0xA5, n * 4096);
      return ARENA_BASE + i * 4096;
    }
    i += j;
  }
  return 0;
}

static void fake_page_free(uint64_t address, size_t n) {
  uint64_t first = (address - ARENA_BASE) / 4096;
  for (size_t i = 0; i < n; i++) {
    if (!used_page[first + i]) { fprintf(stderr, "FAIL: page freed twice at %llx\n", (unsigned long long)address); exit(1); }
    used_page[first + i] = 0;
  }
  pages_in_use -= n;
}

void heap_corrupted(const char *what, const void *p) {
  fprintf(stderr, "FAIL: heap_corrupted: %s (%p)\n", what, p);
  exit(1);
}

static uint64_t rng_state;
static uint64_t next_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

struct live { unsigned char *p; size_t size; unsigned char tag; };
#define MAX_LIVE 4096
static struct live live[MAX_LIVE];
static size_t live_count;

static void fail(const char *message, size_t i) {
  fprintf(stderr, "FAIL: %s (block %zu of %zu, %p, %zu bytes)\n", message, i, live_count, (void *)live[i].p, live[i].size);
  exit(1);
}

static size_t random_size(void) {
  uint64_t r = next_random() % 100;
  if (r < 70) return 1 + next_random() % 128;
  if (r < 92) return 1 + next_random() % 2048;
  if (r < 99) return 2049 + next_random() % 30000;
  return 32768 + next_random() % 300000;
}

static void check_block(size_t i) {
  struct live *b = &live[i];
  if ((uintptr_t)b->p % 16) fail("block not 16-byte aligned", i);
  if (heap_usable_size(b->p) < b->size) fail("usable size below the requested size", i);
  for (size_t k = 0; k < b->size; k++)
    if (b->p[k] != (unsigned char)(b->tag + k)) fail("block contents changed", i);
}

static int by_address(const void *a, const void *b) {
  const struct live *x = a, *y = b;
  return x->p < y->p ? -1 : x->p > y->p;
}

static void *zero_block; /* from malloc(0), kept to the end */

static void check_all(void) {
  uint64_t expected_bytes = heap_usable_size(zero_block);
  for (size_t i = 0; i < live_count; i++) {
    check_block(i);
    expected_bytes += heap_usable_size(live[i].p);
  }
  struct heap_stats s;
  heap_get_stats(&s);
  if (s.blocks != live_count + 1) { fprintf(stderr, "FAIL: stats.blocks %llu, live %zu\n", (unsigned long long)s.blocks, live_count); exit(1); }
  if (s.used_bytes != expected_bytes) { fprintf(stderr, "FAIL: stats.used_bytes %llu, expected %llu\n", (unsigned long long)s.used_bytes, (unsigned long long)expected_bytes); exit(1); }
  if (s.slab_pages + s.large_pages + s.map_bytes / 4096 != pages_in_use) {
    fprintf(stderr, "FAIL: pages: slabs %llu + large %llu + map %llu != in use %llu\n", (unsigned long long)s.slab_pages,
            (unsigned long long)s.large_pages, (unsigned long long)(s.map_bytes / 4096), (unsigned long long)pages_in_use);
    exit(1);
  }
  struct live sorted[MAX_LIVE];
  memcpy(sorted, live, live_count * sizeof *live);
  qsort(sorted, live_count, sizeof *sorted, by_address);
  for (size_t i = 1; i < live_count; i++)
    if (sorted[i - 1].p + heap_usable_size(sorted[i - 1].p) > sorted[i].p) { fprintf(stderr, "FAIL: blocks overlap\n"); exit(1); }
}

static void fill(struct live *b) {
  for (size_t k = 0; k < b->size; k++) b->p[k] = (unsigned char)(b->tag + k);
}

int main(int argc, char **argv) {
  rng_state = argc > 1 ? strtoull(argv[1], 0, 0) : 88172645463325252ull;
  if (!rng_state) rng_state = 1;
  long operations = argc > 2 ? atol(argv[2]) : 200000;
  if (mmap((void *)ARENA_BASE, ARENA_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)ARENA_BASE) {
    perror("mmap");
    return 2;
  }
  if (heap_init(ARENA_BASE + ARENA_PAGES * 4096, fake_page_alloc, fake_page_free)) { fprintf(stderr, "FAIL: heap_init\n"); return 1; }
  if (!(zero_block = heap_malloc(0))) { fprintf(stderr, "FAIL: malloc(0) returned NULL\n"); return 1; }
  for (long op = 0; op < operations; op++) {
    uint64_t r = next_random() % 100;
    if ((r < 55 || live_count == 0) && live_count < MAX_LIVE) {
      struct live b = { 0, random_size(), (unsigned char)next_random() };
      b.p = heap_malloc(b.size);
      if (!b.p) continue; /* out of fake memory: allowed */
      fill(&b);
      live[live_count++] = b;
    } else if (r < 85) {
      size_t i = next_random() % live_count;
      check_block(i);
      heap_free(live[i].p);
      live[i] = live[--live_count];
    } else {
      size_t i = next_random() % live_count;
      size_t size = random_size();
      unsigned char *q = heap_realloc(live[i].p, size);
      if (!q) continue;
      size_t kept = size < live[i].size ? size : live[i].size;
      for (size_t k = 0; k < kept; k++)
        if (q[k] != (unsigned char)(live[i].tag + k)) fail("realloc lost contents", i);
      live[i].p = q;
      live[i].size = size;
      fill(&live[i]);
    }
    if (op % 997 == 0) check_all();
  }
  check_all();
  struct heap_stats before;
  heap_get_stats(&before);
  while (live_count) { heap_free(live[live_count - 1].p); live_count--; }
  struct heap_stats after;
  heap_get_stats(&after);
  /* The malloc(0) block stays; at most one slab per class may stay behind. */
  if (after.blocks != 1 || after.large_pages != 0 || after.slab_pages > 28 * 4) {
    fprintf(stderr, "FAIL: after freeing everything: blocks %llu, large pages %llu, slab pages %llu\n",
            (unsigned long long)after.blocks, (unsigned long long)after.large_pages, (unsigned long long)after.slab_pages);
    return 1;
  }
  printf("ok: %ld operations, peak %llu bytes in %llu blocks before the final free, %llu slab pages left\n", operations,
         (unsigned long long)before.peak_used_bytes, (unsigned long long)before.blocks, (unsigned long long)after.slab_pages);
  return 0;
}
