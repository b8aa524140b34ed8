/* sampler.h: the stack sampler. kernel/sampler.c takes samples in the timer interrupt (no allocation, no
 * engine calls: it reads QuickJS's frame list through the offsets below); kernel/js-profiler.c starts and
 * stops it, names what it saw and serves profiler.top(); engine/quickjs-frames.c, compiled with QuickJS's
 * own source, provides the offsets and reads function names. */
#ifndef UOS_SAMPLER_H
#define UOS_SAMPLER_H
#include <stdint.h>

struct interrupt_frame;

/* Where QuickJS keeps what the sampler reads (byte offsets into its private structures). */
struct js_frame_layout {
  uint32_t runtime_frame;     /* JSRuntime.current_stack_frame */
  uint32_t frame_previous;    /* JSStackFrame.prev_frame */
  uint32_t frame_function;    /* JSStackFrame.cur_func (a JSValue: pointer, then tag) */
  uint32_t value_tag;         /* JSValue.tag */
  uint32_t object_class;      /* JSObject.class_id (u16) */
  uint32_t object_bytecode;   /* JSObject.u.func.function_bytecode */
  uint32_t object_c_function; /* JSObject.u.cfunc.c_function */
  int32_t tag_object;
  uint16_t class_c_function, class_bytecode[4];
};
void js_frame_layout(struct js_frame_layout *out);
/* The name of the function a bytecode key stands for (into buffer, or the engine's own ASCII copy; ""
 * when it has none) and its first line in the bundle; 0 when that memory no longer holds a function's
 * bytecode. `object` is a function object seen running it, for names QuickJS sets at run time (methods,
 * arrow functions), 0 when unknown. Thread context only. */
const char *js_bytecode_describe(void *runtime, uint64_t bytecode, uint64_t object, char *buffer, int size, int *line);

/* What a sample's frames and profiler.top()'s entries are: a kind in the top byte, an address below. */
#define SAMPLE_KEY_KIND(key) ((unsigned)((key) >> 56))
#define SAMPLE_KEY_ADDRESS(key) ((key) & ((1ull << 56) - 1))
enum sample_key_kind {
  KEY_JS = 1,     /* a JS function: its JSFunctionBytecode */
  KEY_C = 2,      /* a C function JS called (its address): push, JSON.parse, a native of __uos */
  KEY_NATIVE = 3, /* native code outside the interpreter: the start of its symbol */
  KEY_IDLE = 4,   /* halted, waiting for an interrupt */
};
#define SAMPLE_KEY(kind, address) (((uint64_t)(kind) << 56) | (address))

/* The shared buffer `uos boot --profile` reads back from the guest's RAM (packages/vmrunner/src/profile/
 * guest-buffer.ts decodes it). A page-aligned header, then records, each 8-byte aligned:
 *   sample    u8 type = 1, u8 flags, u8 native_count, u8 js_count, u32 0, u64 tsc,
 *             u32 native[native_count] (the interrupted RIP, then return addresses; padded to 8),
 *             u64 js[js_count] (keys, innermost first)
 *   function  u8 type = 2, u8 0, u16 name_length, u32 bundle_line, u64 key, name bytes (padded to 8)
 *   window    u8 type = 3 (profiler.start) or 4 (profiler.stop), 7 bytes 0, u64 tsc */
#define PROFILE_MAGIC 0x31464f5250534f55ull /* "UOSPROF1" */
#define PROFILE_VERSION 1
enum { RECORD_SAMPLE = 1, RECORD_FUNCTION = 2, RECORD_WINDOW_START = 3, RECORD_WINDOW_STOP = 4 };
enum { SAMPLE_IDLE = 1, SAMPLE_TRUNCATED = 2 };
#define SAMPLE_MAX_NATIVE 16
#define SAMPLE_MAX_JS 64
struct profile_header {
  uint64_t magic, nonce; /* the nonce comes from the command line: stale bytes never match */
  uint32_t version, header_size;
  uint64_t capacity;            /* bytes for records after the header */
  volatile uint64_t used;       /* bytes of complete records */
  uint64_t tsc_hz, tsc_at_boot; /* TSC ticks per second; the TSC at monotonic time 0 */
  uint32_t hz, reserved;
  volatile uint64_t samples, dropped; /* taken; lost to a full buffer */
};

/* kernel/sampler.c */
extern volatile int cpu_idle; /* set around the loop's hlt: samples taken then count as idle */
extern int sampler_running;
extern int sampler_counting; /* whether ticks count for profiler.top() */
struct sampler_stats {
  uint64_t samples, dropped, table_full, new_keys;
  uint64_t tick_cycles; /* TSC cycles spent taking samples (in the interrupt, after its entry) */
  uint32_t hz;
  int running;
};
int sampler_readable(uint64_t address, uint64_t size); /* RAM that is mapped: safe to read */
int sampler_init(void *runtime);                       /* 0 when there is no memory for its tables */
void sampler_set_buffer(struct profile_header *buffer);
void sampler_start(uint32_t hz);
void sampler_stop(void);
void sampler_tick(const struct interrupt_frame *f); /* from the timer interrupt */
void sampler_stats(struct sampler_stats *out);
void sampler_reset_counts(void);
/* The key table (thread context reads it): per function its self samples, whether js-profiler.c named
 * it for the host yet, and the last function object seen running it (JS functions). */
struct sampler_entry { uint64_t key, object; uint32_t self, described; };
struct sampler_entry *sampler_entries(uint32_t *count);
int sampler_append(const void *record, uint32_t size); /* thread context; 0 when the buffer is full */
uint64_t symbol_start(uint64_t address);               /* the start of the symbol holding address, or 0 */

/* apic.c: the one-shot timer, shared between the loop's deadline and the sampler's period */
void timer_sampler(uint64_t period_ns); /* 0 stops */
void timer_interrupt(const struct interrupt_frame *f);
#endif
