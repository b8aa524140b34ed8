/* sampler.c: the stack sampler's interrupt half. While it runs, the one-shot timer also fires at the
 * sampling rate (apic.c shares it with the loop's deadline), and each tick records where the CPU was:
 * idle in the loop's hlt, or the interrupted RIP, the native return addresses up the frame-pointer chain
 * and the JS functions on QuickJS's frame list (innermost first). Nothing here allocates or calls the
 * engine: the frame list is read through offsets the engine gave at start (engine/quickjs-frames.c), and
 * every pointer is checked to lie in mapped RAM before it is read, so a frame half built when the tick
 * came costs a wrong sample at worst, never a fault. Samples go to a fixed table of self counts per
 * function (profiler.top) and, for `uos boot --profile`, to a buffer in RAM the host reads back; a full
 * buffer or table is counted, never fatal. A sample's own ("self") function in the table is the innermost
 * JS function (the interpreter and the engine's helpers working for it count as its time), else the
 * native function the CPU was in, else idle. Names are resolved later, in thread context (js-profiler.c)
 * or on the host. */
#include "cpu.h"
#include "interrupts.h"
#include "sampler.h"
#include "stacks.h"
#include "uos.h"

#define TABLE_SLOTS 4096 /* a power of two */
#define TABLE_PROBES 32
#define READABLE_CACHE 16
#define MAX_LIST_WALK 256

volatile int cpu_idle;
static struct js_frame_layout layout;
static uint64_t runtime; /* the JSRuntime, 0 before sampler_init */
static uint32_t *symbol_addresses, symbol_count;
static struct sampler_entry *table;
static struct profile_header *buffer;
static uint64_t samples, table_full, new_keys, tick_cycles;
static uint32_t rate_hz;
int sampler_running;
int sampler_counting = 1; /* self counts for top(); off between windows of a whole-run profile */
static uint64_t readable_pages[READABLE_CACHE];

struct sample_head { uint8_t type, flags, native_count, js_count; uint32_t zero; uint64_t tsc; };

static int in_ram(uint64_t a) {
  for (unsigned i = 0; i < boot_info.region_count; i++) {
    const struct memory_region *r = &boot_info.regions[i];
    if (r->type == MEM_AVAILABLE && a >= r->base && a - r->base < r->length) return 1;
  }
  return 0;
}

/* RAM the firmware calls available and the page tables map: never a guard page, page 0 or device memory. */
__attribute__((noinline)) int sampler_readable(uint64_t address, uint64_t size) {
  if (address < PAGE_SIZE || !size || address + size < address) return 0;
  for (uint64_t page = address >> 12; page <= (address + size - 1) >> 12; page++) {
    uint64_t *seen = &readable_pages[page % READABLE_CACHE];
    if (*seen == page) continue;
    if (!in_ram(page << 12) || !is_mapped(page << 12)) return 0;
    *seen = page;
  }
  return 1;
}

static uint64_t read64(uint64_t address) { return *(const volatile uint64_t *)address; }

uint64_t symbol_start(uint64_t address) {
  if (!symbol_count || address < symbol_addresses[0] || address >= (uint64_t)__text_end) return 0;
  uint32_t low = 0, high = symbol_count; /* the last entry <= address */
  while (high - low > 1) {
    uint32_t mid = (low + high) / 2;
    if (symbol_addresses[mid] <= address) low = mid;
    else high = mid;
  }
  return symbol_addresses[low];
}

static struct sampler_entry *table_find(uint64_t key) {
  uint32_t h = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 40);
  for (uint32_t i = 0; i < TABLE_PROBES; i++) {
    struct sampler_entry *e = &table[(h + i) & (TABLE_SLOTS - 1)];
    if (e->key == key) return e;
    if (!e->key) {
      e->key = key;
      e->object = 0;
      e->self = 0;
      e->described = SAMPLE_KEY_KIND(key) != KEY_JS; /* only JS functions need naming in the guest */
      if (!e->described) new_keys++;
      return e;
    }
  }
  table_full++;
  return 0;
}

/* The JS frames, innermost first, as keys (at most max; *truncated when there were more). */
static unsigned js_frames(uint64_t *out, unsigned max, int *truncated) {
  if (!runtime) return 0;
  uint64_t at = runtime + layout.runtime_frame;
  if (!sampler_readable(at, 8)) return 0;
  uint64_t frame = read64(at);
  unsigned n = 0;
  for (int walked = 0; frame && walked < MAX_LIST_WALK; walked++) {
    if ((frame & 7) || !sampler_readable(frame, layout.frame_function + 16) ||
        !sampler_readable(frame + layout.frame_previous, 8))
      break;
    uint64_t object = read64(frame + layout.frame_function);
    int64_t tag = (int64_t)read64(frame + layout.frame_function + layout.value_tag);
    if (tag == layout.tag_object && !(object & 7) && sampler_readable(object + layout.object_class, 2)) {
      uint16_t cls = *(const volatile uint16_t *)(object + layout.object_class);
      uint64_t key = 0;
      if (cls == layout.class_c_function && sampler_readable(object + layout.object_c_function, 8)) {
        key = SAMPLE_KEY(KEY_C, SAMPLE_KEY_ADDRESS(read64(object + layout.object_c_function)));
      } else if ((cls == layout.class_bytecode[0] || cls == layout.class_bytecode[1] || cls == layout.class_bytecode[2] ||
                  cls == layout.class_bytecode[3]) &&
                 sampler_readable(object + layout.object_bytecode, 8)) {
        uint64_t bytecode = read64(object + layout.object_bytecode);
        if (bytecode && !(bytecode & 7)) {
          key = SAMPLE_KEY(KEY_JS, SAMPLE_KEY_ADDRESS(bytecode));
          struct sampler_entry *e = n < max ? table_find(key) : 0;
          if (e) e->object = object; /* for its name, if the bytecode has none */
        }
      }
      if (key) {
        if (n == max) { *truncated = 1; break; }
        out[n++] = key;
      }
    }
    frame = read64(frame + layout.frame_previous);
  }
  return n;
}

/* The interrupted RIP, then return addresses while the frame-pointer chain stays on the main stack. */
static unsigned native_frames(const struct interrupt_frame *f, uint32_t *out, unsigned max) {
  const struct stack_range *s = &stack_table[STACK_MAIN];
  out[0] = (uint32_t)f->rip;
  unsigned n = 1;
  if (f->rsp < s->bottom || f->rsp > s->top) return n;
  for (uint64_t rbp = f->rbp; n < max && !(rbp & 7) && rbp >= s->bottom && rbp + 16 <= s->top;) {
    uint64_t next = read64(rbp), ret = read64(rbp + 8);
    if (!ret || ret >= (uint64_t)__text_end) break;
    out[n++] = (uint32_t)ret;
    if (next <= rbp) break;
    rbp = next;
  }
  return n;
}

void sampler_tick(const struct interrupt_frame *f) {
  uint64_t started = rdtsc();
  samples += (uint64_t)sampler_counting;
  struct sample_head *head = 0;
  if (buffer) {
    buffer->samples++;
    uint64_t worst = sizeof *head + 4 * SAMPLE_MAX_NATIVE + 8 * SAMPLE_MAX_JS;
    if (buffer->used + worst <= buffer->capacity) head = (struct sample_head *)((uint8_t *)buffer + buffer->header_size + buffer->used);
    else buffer->dropped++;
  }
  uint64_t leaf;
  if (cpu_idle) {
    leaf = SAMPLE_KEY(KEY_IDLE, 0);
    if (head) *head = (struct sample_head){ RECORD_SAMPLE, SAMPLE_IDLE, 0, 0, 0, rdtsc() };
  } else {
    uint32_t rip_only[1];
    uint64_t innermost[1];
    uint32_t *natives = head ? (uint32_t *)(head + 1) : rip_only;
    unsigned native_count = head ? native_frames(f, natives, SAMPLE_MAX_NATIVE) : (rip_only[0] = (uint32_t)f->rip, 1);
    uint64_t *js = head ? (uint64_t *)((uint8_t *)natives + ALIGN_UP(4 * native_count, 8)) : innermost;
    int truncated = 0;
    unsigned js_count = js_frames(js, head ? SAMPLE_MAX_JS : 1, &truncated);
    leaf = js_count ? js[0] : SAMPLE_KEY(KEY_NATIVE, symbol_start(f->rip));
    if (head) {
      *head = (struct sample_head){ RECORD_SAMPLE, (uint8_t)(truncated ? SAMPLE_TRUNCATED : 0), (uint8_t)native_count,
                                    (uint8_t)js_count, 0, rdtsc() };
    }
  }
  struct sampler_entry *e = sampler_counting ? table_find(leaf) : 0;
  if (e) e->self++;
  if (head) {
    __asm__ volatile("" ::: "memory"); /* the record before its length */
    buffer->used += sizeof *head + ALIGN_UP(4 * head->native_count, 8) + 8 * head->js_count;
  }
  tick_cycles += rdtsc() - started;
}

static int collect_symbol(uint64_t address, const char *name, void *capacity) {
  (void)name;
  if (symbol_count >= *(uint32_t *)capacity) return 1;
  symbol_addresses[symbol_count++] = (uint32_t)address;
  return 0;
}

static void *zeroed_pages(uint64_t bytes) {
  size_t pages = (size_t)(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
  uint64_t *p = (uint64_t *)(uintptr_t)page_alloc(pages);
  if (p) for (uint64_t i = 0; i < pages * PAGE_SIZE / 8; i++) p[i] = 0;
  return p;
}

int sampler_init(void *js_runtime) {
  if (!table) {
    struct payload_view symbols = payload_section(PAYLOAD_SYMBOLS);
    uint32_t capacity = symbols.length >= 4 ? *(const uint32_t *)symbols.data : 0;
    table = zeroed_pages(TABLE_SLOTS * sizeof *table);
    symbol_addresses = capacity ? zeroed_pages(capacity * 4ull) : 0;
    if (!table || (capacity && !symbol_addresses)) return 0;
    if (capacity) symbols_each(collect_symbol, &capacity);
    js_frame_layout(&layout);
  }
  runtime = (uint64_t)(uintptr_t)js_runtime;
  return 1;
}

void sampler_set_buffer(struct profile_header *b) { buffer = b; }

/* Interrupts are first enabled by the loop's first wait; the service's start() runs before it, so the
 * sampler enables them itself (every handler only marks its vector pending, at any time). */
void sampler_start(uint32_t hz) {
  rate_hz = hz;
  sampler_running = 1;
  timer_sampler(1000000000ull / hz);
  sti();
}

void sampler_stop(void) {
  timer_sampler(0);
  sampler_running = 0;
}

void sampler_stats(struct sampler_stats *out) {
  *out = (struct sampler_stats){ samples, buffer ? buffer->dropped : 0, table_full, new_keys, tick_cycles, rate_hz, sampler_running };
}

void sampler_reset_counts(void) {
  uint64_t flags = read_rflags();
  cli();
  for (uint32_t i = 0; table && i < TABLE_SLOTS; i++) table[i].self = 0;
  samples = tick_cycles = 0;
  if (flags & 0x200) sti();
}

struct sampler_entry *sampler_entries(uint32_t *count) {
  *count = table ? TABLE_SLOTS : 0;
  return table;
}

int sampler_append(const void *record, uint32_t size) {
  if (!buffer) return 0;
  uint64_t flags = read_rflags();
  cli();
  int fits = buffer->used + size <= buffer->capacity;
  if (fits) {
    uint8_t *to = (uint8_t *)buffer + buffer->header_size + buffer->used;
    for (uint32_t i = 0; i < size; i++) to[i] = ((const uint8_t *)record)[i];
    buffer->used += size;
  }
  if (flags & 0x200) sti();
  return fits;
}
