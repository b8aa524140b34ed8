/* heap.h: the slab allocator behind QuickJS (kernel/heap.c). Builds for the kernel and for the host test. */
#ifndef UOS_HEAP_H
#define UOS_HEAP_H
#include <stddef.h>
#include <stdint.h>

struct heap_stats {
  uint64_t used_bytes;      /* usable bytes of live blocks */
  uint64_t peak_used_bytes;
  uint64_t blocks;          /* live blocks */
  uint64_t slab_pages;      /* pages held by slabs (small blocks) */
  uint64_t large_pages;     /* pages held by large blocks */
  uint64_t map_bytes;       /* the page map */
  uint64_t failed;          /* allocations refused for lack of memory */
};

int heap_init(uint64_t ram_top, uint64_t (*page_alloc_fn)(size_t), void (*page_free_fn)(uint64_t, size_t));
void *heap_malloc(size_t size);
void heap_free(void *p);
void *heap_realloc(void *p, size_t size);
size_t heap_usable_size(const void *p);
void heap_get_stats(struct heap_stats *out);
void heap_keep_reserve(void);
void heap_release_reserve(void);
/* Provided by the environment: a free of a foreign pointer. Never returns. */
__attribute__((noreturn)) void heap_corrupted(const char *what, const void *p);
#endif
