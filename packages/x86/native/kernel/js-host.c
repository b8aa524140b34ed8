/* js-host.c: the QuickJS host. Creates the runtime, installs the native bindings (globalThis.__uos),
 * runs the service's bytecode, then drives the event loop: drain promise jobs, let the kernel's JS loop
 * hook run due timers and deferred interrupt handlers, and halt until the next interrupt or deadline.
 * Uncaught exceptions and unhandled rejections end the service with a report whose stack is mapped
 * back to TypeScript file:line through the line map `uos build` embeds. */
#include <string.h>

#include "cpu.h"
#include "heap.h"
#include "js-bindings.h"
#include "quickjs.h"
#include "uos.h"

#define JS_STACK_LIMIT (200 * 1024) /* of the 256 KiB main stack: the rest is for native frames */
#define MAX_REJECTIONS 16

static JSRuntime *rt;
static JSContext *ctx;
static JSValue loop_hook;
static JSValue panic_hook;          /* the kernel's dispatcher for os.onPanic hooks */
static volatile int js_depth;       /* > 0 while JS frames are on the stack */
static uint64_t halted_cycles, wakeups;

/* Calls into JS keep count, so a CPU exception knows whether a JS stack is worth printing. */
static JSValue call_js(JSValueConst f, int argc, JSValueConst *argv) {
  js_depth++;
  JSValue r = JS_Call(ctx, f, JS_UNDEFINED, argc, argv);
  js_depth--;
  return r;
}
static struct { JSValue promise, reason; } rejections[MAX_REJECTIONS];
static int rejection_count;

/* ---------- line map (payload section 3) ---------- */
struct line_map {
  const uint8_t *base;
  uint32_t length, source_count, line_count;
  const char *generated_name;
  const uint32_t *sources;
  const uint8_t *lines, *end;
};

static int line_map_open(struct line_map *m) {
  struct payload_view v = payload_section(PAYLOAD_LINE_MAP);
  if (v.length < 24) return 0;
  const uint32_t *h = (const uint32_t *)v.data;
  if (h[0] != 1 || h[1] >= v.length || h[4] >= v.length || h[5] > v.length) return 0;
  m->base = v.data;
  m->length = v.length;
  m->generated_name = (const char *)v.data + h[1];
  m->source_count = h[2];
  m->line_count = h[3];
  m->sources = (const uint32_t *)(v.data + h[4]);
  m->lines = v.data + h[5];
  m->end = v.data + v.length;
  return 1;
}

static int64_t read_varint(const uint8_t **p, const uint8_t *end) {
  uint64_t v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
  }
  return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); /* zigzag */
}

/* Maps a line of the bundle to (source file, line). Returns the source name or 0 when unmapped. */
static const char *line_map_lookup(const struct line_map *m, int line, int *out_line) {
  if (line < 1 || (uint32_t)line > m->line_count) return 0;
  const uint8_t *p = m->lines;
  int64_t source = 0, original = 0;
  for (int i = 1; i <= line; i++) {
    source += read_varint(&p, m->end);
    original += read_varint(&p, m->end);
  }
  if (source <= 0 || (uint64_t)source > m->source_count) return 0;
  uint32_t name = m->sources[source - 1];
  if (name >= m->length) return 0;
  *out_line = (int)original;
  return (const char *)m->base + name;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Appends to out (bounded); returns the length the full text would have. */
static size_t append(char *out, size_t out_size, size_t n, const char *text, size_t length) {
  for (size_t i = 0; i < length; i++, n++)
    if (n + 1 < out_size) out[n] = text[i];
  return n;
}

/* Rewrites every "<bundle>:<line>" in a stack as "<source.ts>:<line>" using the payload's line map.
 * Frames of the generated entry (sources named "<…>") and the bundle's top-level frame are dropped:
 * they are the same in every service and say nothing. */
size_t js_map_stack(const char *in, char *out, size_t out_size) {
  struct line_map m = { 0 };
  int have_map = line_map_open(&m);
  size_t name_length = have_map ? strlen(m.generated_name) : 0;
  size_t n = 0;
  char line_buffer[512];
  for (const char *p = in; *p;) {
    const char *end = strchr(p, '\n');
    size_t length = end ? (size_t)(end - p) + 1 : strlen(p);
    size_t ln = 0;
    int hidden = 0;
    for (const char *q = p; q < p + length;) {
      int line = 0, mapped = 0;
      const char *source = 0, *r = q + name_length;
      if (have_map && name_length && r <= p + length && !strncmp(q, m.generated_name, name_length) && *r == ':' && is_digit(r[1])) {
        r++;
        while (is_digit(*r)) line = line * 10 + (*r++ - '0');
        source = line_map_lookup(&m, line, &mapped);
        if (!source && q >= p + 7 && !strncmp(q - 8, "<eval> (", 8)) hidden = 1;
      }
      if (source) {
        if (source[0] == '<') hidden = 1;
        ln += (size_t)ksnprintf(line_buffer + (ln < sizeof line_buffer ? ln : sizeof line_buffer),
                                ln < sizeof line_buffer ? sizeof line_buffer - ln : 0, "%s:%d", source, mapped);
        q = r;
      } else {
        if (ln + 1 < sizeof line_buffer) line_buffer[ln] = *q;
        ln++;
        q++;
      }
    }
    /* A frame in the bundle without a line (generated wrapper code) is hidden too. */
    if (have_map && name_length && length > name_length + 2 && p[length - 1] == '\n' && p[length - 2] == ')' &&
        !strncmp(p + length - 2 - name_length, m.generated_name, name_length) && p[length - 3 - name_length] == '(')
      hidden = 1;
    if (!(hidden && !strncmp(p, "    at ", 7))) {
      if (ln < sizeof line_buffer) n = append(out, out_size, n, line_buffer, ln);
      else n = append(out, out_size, n, p, length); /* a very long line: keep it unmapped */
    }
    p += length;
  }
  if (out_size) out[n < out_size ? n : out_size - 1] = 0;
  return n;
}

/* ---------- reports ---------- */
static void print_mapped(const char *text) {
  static char mapped[16384];
  js_map_stack(text, mapped, sizeof mapped);
  kputs(mapped);
}

static void print_value(JSContext *c, JSValueConst v) {
  const char *s = JS_ToCString(c, v);
  if (s) { print_mapped(s); JS_FreeCString(c, s); }
  else { kputs("<value that cannot be converted to a string>"); JS_FreeValue(c, JS_GetException(c)); }
}

static int is_out_of_memory(JSContext *c, JSValueConst error) {
  if (!JS_IsObject(error)) return 0;
  JSValue message = JS_GetPropertyStr(c, error, "message");
  const char *text = JS_ToCString(c, message);
  int oom = text && !strcmp(text, "out of memory");
  if (text) JS_FreeCString(c, text);
  JS_FreeValue(c, message);
  return oom;
}

static void run_panic_hook(const char *kind, const char *reason, int status) {
  if (!ctx || JS_IsUndefined(panic_hook)) return;
  JSValue info = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, info, "kind", JS_NewString(ctx, kind));
  JS_SetPropertyStr(ctx, info, "reason", JS_NewString(ctx, reason));
  JS_SetPropertyStr(ctx, info, "status", JS_NewInt32(ctx, status));
  JSValue r = call_js(panic_hook, 1, &info);
  if (JS_IsException(r)) JS_FreeValue(ctx, JS_GetException(ctx)); /* a failing hook does not stop the others' report */
  JS_FreeValue(ctx, r);
  JS_FreeValue(ctx, info);
}

/* panic_js_hook: after a native report (CPU exception, kernel panic, out of memory). */
static void native_panic_hook(const char *kind, const char *reason, int status) {
  if (js_depth > 0 && ctx) {
    /* The Error constructor records the stack of the JS that was running (JS_NewError would not). */
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue constructor = JS_GetPropertyStr(ctx, global, "Error");
    JSValue e = JS_CallConstructor(ctx, constructor, 0, 0);
    JS_FreeValue(ctx, constructor);
    JS_FreeValue(ctx, global);
    JSValue stack = JS_GetPropertyStr(ctx, e, "stack");
    if (JS_IsString(stack)) {
      kputs("JS stack (innermost first):\n");
      print_value(ctx, stack);
    }
    JS_FreeValue(ctx, stack);
    JS_FreeValue(ctx, e);
  }
  run_panic_hook(kind, reason, status);
}

static NORETURN void report_and_exit(JSContext *c, const char *what, JSValueConst error) {
  static int reporting;
  if (reporting++ || in_panic) { kputs("\nuos: error while reporting an error\n"); power_exit(EXIT_JS_PANIC); }
  int oom = is_out_of_memory(c, error);
  if (oom) heap_release_reserve();
  panic_banner();
  kprintf("%s\n", what);
  print_value(c, error);
  kputs("\n");
  if (JS_IsObject(error)) {
    JSValue stack = JS_GetPropertyStr(c, error, "stack");
    if (JS_IsString(stack)) print_value(c, stack);
    JS_FreeValue(c, stack);
  }
  int status = oom ? EXIT_OUT_OF_MEMORY : EXIT_JS_PANIC;
  if (oom) {
    struct heap_stats h;
    heap_get_stats(&h);
    kprintf("Heap: %lu KiB in %lu live blocks (peak %lu KiB), %lu KiB in slabs, %lu KiB in large blocks, %lu refused\n",
            h.used_bytes / 1024, h.blocks, h.peak_used_bytes / 1024, h.slab_pages * 4, h.large_pages * 4, h.failed);
  }
  in_panic = 1;
  run_panic_hook(oom ? "out-of-memory" : "exception", what, status);
  panic_finish(status);
}

static NORETURN void report_pending_exception(JSContext *c, const char *what) {
  JSValue e = JS_GetException(c);
  report_and_exit(c, what, e);
}

static void rejection_tracker(JSContext *c, JSValueConst promise, JSValueConst reason, JS_BOOL handled, void *opaque) {
  (void)opaque;
  if (!handled) {
    if (rejection_count < MAX_REJECTIONS) {
      rejections[rejection_count].promise = JS_DupValue(c, promise);
      rejections[rejection_count].reason = JS_DupValue(c, reason);
      rejection_count++;
    }
    return;
  }
  for (int i = 0; i < rejection_count; i++) {
    if (JS_VALUE_GET_PTR(rejections[i].promise) != JS_VALUE_GET_PTR(promise)) continue;
    JS_FreeValue(c, rejections[i].promise);
    JS_FreeValue(c, rejections[i].reason);
    rejections[i] = rejections[--rejection_count];
    return;
  }
}

static void drain_jobs(void) {
  JSContext *c;
  for (;;) {
    js_depth++;
    int r = JS_ExecutePendingJob(rt, &c);
    js_depth--;
    if (r == 0) break;
    if (r < 0) report_pending_exception(c, "Uncaught exception in a promise job:");
  }
  if (rejection_count) report_and_exit(ctx, "Unhandled promise rejection:", rejections[0].reason);
}

/* ---------- natives ---------- */
static JSValue js_write(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  for (int i = 0; i < argc; i++) {
    size_t n;
    const char *s = JS_ToCStringLen(c, &n, argv[i]);
    if (!s) return JS_EXCEPTION;
    serial_write(s, n);
    JS_FreeCString(c, s);
  }
  return JS_UNDEFINED;
}

static JSValue js_exit(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  int32_t status = 0;
  if (argc > 0 && JS_ToInt32(c, &status, argv[0])) return JS_EXCEPTION;
  power_exit(status);
}

static int port_argument(JSContext *c, JSValueConst v, uint16_t *port) {
  uint32_t p;
  if (JS_ToUint32(c, &p, v)) return -1;
  if (p > 0xFFFF) { JS_ThrowRangeError(c, "I/O port %u is out of range (0..0xffff)", p); return -1; }
  *port = (uint16_t)p;
  return 0;
}

enum { IO_8, IO_16, IO_32 };

static JSValue js_port_in(JSContext *c, JSValueConst this, int argc, JSValueConst *argv, int width) {
  (void)this; (void)argc;
  uint16_t port;
  if (port_argument(c, argv[0], &port)) return JS_EXCEPTION;
  switch (width) {
    case IO_8: return JS_NewUint32(c, inb(port));
    case IO_16: return JS_NewUint32(c, inw(port));
    default: return JS_NewUint32(c, inl(port));
  }
}

static JSValue js_port_out(JSContext *c, JSValueConst this, int argc, JSValueConst *argv, int width) {
  (void)this; (void)argc;
  uint16_t port;
  uint32_t value;
  if (port_argument(c, argv[0], &port) || JS_ToUint32(c, &value, argv[1])) return JS_EXCEPTION;
  switch (width) {
    case IO_8: outb(port, (uint8_t)value); break;
    case IO_16: outw(port, (uint16_t)value); break;
    default: outl(port, value); break;
  }
  return JS_UNDEFINED;
}

static JSValue js_cpuid(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  uint32_t leaf = 0, sub = 0, r[4];
  if (argc > 0 && JS_ToUint32(c, &leaf, argv[0])) return JS_EXCEPTION;
  if (argc > 1 && JS_ToUint32(c, &sub, argv[1])) return JS_EXCEPTION;
  cpuid(leaf, sub, r);
  JSValue a = JS_NewArray(c);
  for (uint32_t i = 0; i < 4; i++) JS_SetPropertyUint32(c, a, i, JS_NewUint32(c, r[i]));
  return a;
}

static JSValue js_rdtsc(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  return JS_NewBigUint64(c, rdtsc());
}

static JSValue js_monotonic_ns(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  return JS_NewFloat64(c, (double)monotonic_ns());
}

static JSValue js_wall_clock_ms(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  return JS_NewFloat64(c, (double)(wall_clock_ns() / 1000000ull));
}

static JSValue js_tsc_hz(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  return JS_NewFloat64(c, (double)tsc_hz());
}

static JSValue js_set_event_loop(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  if (argc < 1 || !JS_IsFunction(c, argv[0])) return JS_ThrowTypeError(c, "setEventLoop expects a function");
  JS_FreeValue(c, loop_hook);
  loop_hook = JS_DupValue(c, argv[0]);
  return JS_UNDEFINED;
}

static JSValue js_run_microtasks(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)c; (void)this; (void)argc; (void)argv;
  drain_jobs();
  return JS_UNDEFINED;
}

static JSValue js_take_interrupts(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  uint8_t vectors[256];
  int n = irq_take_pending(vectors);
  JSValue a = JS_NewArray(c);
  for (int i = 0; i < n; i++) JS_SetPropertyUint32(c, a, (uint32_t)i, JS_NewUint32(c, vectors[i]));
  return a;
}

static JSValue js_map_stack_native(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  if (argc < 1) return JS_UNDEFINED;
  const char *s = JS_ToCString(c, argv[0]);
  if (!s) return JS_EXCEPTION;
  size_t need = js_map_stack(s, 0, 0) + 1;
  char *out = js_malloc(c, need);
  if (!out) { JS_FreeCString(c, s); return JS_EXCEPTION; }
  js_map_stack(s, out, need);
  JS_FreeCString(c, s);
  JSValue r = JS_NewString(c, out);
  js_free(c, out);
  return r;
}

static JSValue js_panic(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  const char *what = argc > 0 ? JS_ToCString(c, argv[0]) : 0;
  report_and_exit(c, what ? what : "panic", argc > 1 ? argv[1] : JS_UNDEFINED);
}

static const char *service_cmdline(void) {
  const char *s = boot_info.cmdline;
  if (boot_info.protocol == BOOT_MULTIBOOT) { /* QEMU puts the kernel's path first */
    while (*s && *s != ' ') s++;
    while (*s == ' ') s++;
  }
  return s;
}

int trigger_fault(const char *kind);

static JSValue js_fault(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  const char *kind = argc > 0 ? JS_ToCString(c, argv[0]) : 0;
  if (!kind) return JS_EXCEPTION;
  trigger_fault(kind);
  JSValue error = JS_ThrowRangeError(c, "unknown fault kind '%s'", kind);
  JS_FreeCString(c, kind);
  return error;
}

static JSValue js_boot_info(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  JSValue o = JS_NewObject(c);
  JS_SetPropertyStr(c, o, "protocol", JS_NewString(c, boot_info.protocol == BOOT_PVH ? "pvh" : "multiboot"));
  JS_SetPropertyStr(c, o, "cmdline", JS_NewString(c, service_cmdline()));
  JS_SetPropertyStr(c, o, "version", JS_NewString(c, UOS_VERSION));
  JS_SetPropertyStr(c, o, "eval", JS_NewBool(c, UOS_EVAL));
  const char *names[MAX_BOOT_MARKS];
  uint64_t ns[MAX_BOOT_MARKS];
  unsigned n = boot_marks(names, ns, MAX_BOOT_MARKS);
  JSValue timeline = JS_NewArray(c);
  for (unsigned i = 0; i < n; i++) {
    JSValue entry = JS_NewArray(c);
    JS_SetPropertyUint32(c, entry, 0, JS_NewString(c, names[i]));
    JS_SetPropertyUint32(c, entry, 1, JS_NewFloat64(c, (double)ns[i] / 1e6));
    JS_SetPropertyUint32(c, timeline, i, entry);
  }
  JS_SetPropertyStr(c, o, "timeline", timeline);
  struct payload_view info = payload_section(PAYLOAD_INFO);
  JS_SetPropertyStr(c, o, "build", info.length ? JS_NewStringLen(c, (const char *)info.data, info.length) : JS_NewString(c, "{}"));
  return o;
}

static JSValue js_memory_usage(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  if (argc > 0 && JS_ToBool(c, argv[0])) JS_RunGC(rt); /* collect: free unreachable cycles first */
  struct memory_stats s;
  memory_stats(&s);
  JSMemoryUsage u;
  JS_ComputeMemoryUsage(rt, &u);
  JSValue o = JS_NewObject(c);
  JS_SetPropertyStr(c, o, "totalBytes", JS_NewFloat64(c, (double)(s.total_pages * PAGE_SIZE)));
  JS_SetPropertyStr(c, o, "freeBytes", JS_NewFloat64(c, (double)(s.free_pages * PAGE_SIZE)));
  JS_SetPropertyStr(c, o, "peakUsedBytes", JS_NewFloat64(c, (double)(s.peak_used_pages * PAGE_SIZE)));
  JS_SetPropertyStr(c, o, "kernelBytes", JS_NewFloat64(c, (double)s.kernel_bytes));
  JS_SetPropertyStr(c, o, "payloadBytes", JS_NewFloat64(c, (double)s.payload_bytes));
  JS_SetPropertyStr(c, o, "jsHeapBytes", JS_NewFloat64(c, (double)u.malloc_size));
  JS_SetPropertyStr(c, o, "jsObjects", JS_NewFloat64(c, (double)u.obj_count));
  struct heap_stats h;
  heap_get_stats(&h);
  JS_SetPropertyStr(c, o, "heapUsedBytes", JS_NewFloat64(c, (double)h.used_bytes));
  JS_SetPropertyStr(c, o, "heapPeakBytes", JS_NewFloat64(c, (double)h.peak_used_bytes));
  JS_SetPropertyStr(c, o, "heapBlocks", JS_NewFloat64(c, (double)h.blocks));
  JS_SetPropertyStr(c, o, "heapPages", JS_NewFloat64(c, (double)(h.slab_pages + h.large_pages)));
  return o;
}

static JSValue js_irq_route_isa(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  uint32_t irq;
  if (JS_ToUint32(c, &irq, argv[0])) return JS_EXCEPTION;
  return JS_NewInt32(c, irq_route_isa(irq));
}

static JSValue js_irq_route_gsi(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  uint32_t gsi;
  if (JS_ToUint32(c, &gsi, argv[0])) return JS_EXCEPTION;
  return JS_NewInt32(c, irq_route_gsi(gsi, JS_ToBool(c, argv[1]), JS_ToBool(c, argv[2])));
}

static JSValue js_irq_allocate(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  uint32_t count;
  if (JS_ToUint32(c, &count, argv[0])) return JS_EXCEPTION;
  if (count < 1 || count > 32) return JS_ThrowRangeError(c, "can allocate 1..32 vectors at a time, not %u", count);
  return JS_NewInt32(c, irq_allocate_vectors(count));
}

static JSValue js_irq_free(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  uint32_t first, count;
  if (JS_ToUint32(c, &first, argv[0]) || JS_ToUint32(c, &count, argv[1])) return JS_EXCEPTION;
  irq_free_vectors(first, count);
  return JS_UNDEFINED;
}

static JSValue js_irq_done(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  uint32_t vector;
  if (JS_ToUint32(c, &vector, argv[0])) return JS_EXCEPTION;
  irq_done(vector);
  return JS_UNDEFINED;
}

static JSValue js_irq_counts(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  JSValue a = JS_NewArray(c);
  for (uint32_t v = 0; v < 256; v++) JS_SetPropertyUint32(c, a, v, JS_NewFloat64(c, (double)irq_count(v)));
  return a;
}

static JSValue js_cpu_stats(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  JSValue o = JS_NewObject(c);
  JS_SetPropertyStr(c, o, "haltedCycles", JS_NewFloat64(c, (double)halted_cycles));
  JS_SetPropertyStr(c, o, "totalCycles", JS_NewFloat64(c, (double)(monotonic_ns() * (tsc_hz() / 1e9))));
  JS_SetPropertyStr(c, o, "wakeups", JS_NewFloat64(c, (double)wakeups));
  JS_SetPropertyStr(c, o, "tscHz", JS_NewFloat64(c, (double)tsc_hz()));
  JS_SetPropertyStr(c, o, "timer", JS_NewString(c, timer_uses_tsc_deadline() ? "tsc-deadline" : "lapic-oneshot"));
  JS_SetPropertyStr(c, o, "lapicId", JS_NewUint32(c, lapic_id()));
  return o;
}

static JSValue js_random_fill(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  size_t length;
  uint8_t *bytes = js_view_bytes(c, argv[0], &length);
  if (!bytes) return JS_EXCEPTION;
  rng_fill(bytes, length);
  return JS_DupValue(c, argv[0]);
}

static JSValue js_random_source(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  return JS_NewString(c, rng_source());
}

static JSValue js_set_panic_action(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  const char *a = JS_ToCString(c, argv[0]);
  if (!a) return JS_EXCEPTION;
  int known = 1;
  if (!strcmp(a, "exit")) panic_set_action(PANIC_EXIT);
  else if (!strcmp(a, "halt")) panic_set_action(PANIC_HALT);
  else if (!strcmp(a, "reboot")) panic_set_action(PANIC_REBOOT);
  else known = 0;
  JSValue r = known ? JS_UNDEFINED : JS_ThrowRangeError(c, "unknown panic action '%s' (exit, halt or reboot)", a);
  JS_FreeCString(c, a);
  return r;
}

static JSValue js_set_panic_hook(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  if (argc < 1 || !JS_IsFunction(c, argv[0])) return JS_ThrowTypeError(c, "setPanicHook expects a function");
  JS_FreeValue(c, panic_hook);
  panic_hook = JS_DupValue(c, argv[0]);
  return JS_UNDEFINED;
}

static void add_region(JSContext *c, JSValue list, uint32_t *n, const char *name, const char *kind, uint64_t start, uint64_t end, const char *access) {
  if (end <= start) return;
  JSValue o = JS_NewObject(c);
  JS_SetPropertyStr(c, o, "name", JS_NewString(c, name));
  JS_SetPropertyStr(c, o, "kind", JS_NewString(c, kind));
  JS_SetPropertyStr(c, o, "start", JS_NewFloat64(c, (double)start));
  JS_SetPropertyStr(c, o, "end", JS_NewFloat64(c, (double)end));
  JS_SetPropertyStr(c, o, "access", JS_NewString(c, access));
  JS_SetPropertyUint32(c, list, (*n)++, o);
}

static JSValue js_memory_map(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  JSValue list = JS_NewArray(c);
  uint32_t n = 0;
  static const char *const types[] = { "", "available", "reserved", "acpi reclaimable", "acpi nvs", "bad" };
  for (unsigned i = 0; i < boot_info.region_count; i++) {
    const struct memory_region *r = &boot_info.regions[i];
    add_region(c, list, &n, types[r->type <= 5 ? r->type : 2], r->type == MEM_AVAILABLE ? "ram" : "firmware",
               r->base, r->base + r->length, r->type == MEM_AVAILABLE ? "rw-" : "---");
  }
  add_region(c, list, &n, "page 0 (null guard)", "guard", 0, PAGE_SIZE, "---");
  add_region(c, list, &n, "kernel text", "text", (uint64_t)__kernel_start, (uint64_t)__text_end, "r-x");
  add_region(c, list, &n, "kernel rodata", "rodata", (uint64_t)__text_end, (uint64_t)__rodata_end, "r--");
  add_region(c, list, &n, "kernel data and bss", "data", (uint64_t)__data_start, (uint64_t)__stacks_start, "rw-");
  add_region(c, list, &n, "kernel stacks (guard pages unmapped)", "stacks", (uint64_t)__stacks_start, (uint64_t)__stacks_end, "rw-");
  add_region(c, list, &n, "service payload", "payload", (uint64_t)__payload_start, payload_end(), "r--");
  struct memory_stats s;
  memory_stats(&s);
  struct heap_stats h;
  heap_get_stats(&h);
  JSValue result = JS_NewObject(c);
  JS_SetPropertyStr(c, result, "regions", list);
  JS_SetPropertyStr(c, result, "ramTop", JS_NewFloat64(c, (double)s.ram_top));
  JS_SetPropertyStr(c, result, "freePages", JS_NewFloat64(c, (double)s.free_pages));
  JS_SetPropertyStr(c, result, "totalPages", JS_NewFloat64(c, (double)s.total_pages));
  JS_SetPropertyStr(c, result, "nx", JS_NewBool(c, nx_supported()));
  return result;
}

static const JSCFunctionListEntry native_functions[] = {
    JS_CFUNC_DEF("write", 1, js_write),
    JS_CFUNC_DEF("exit", 1, js_exit),
    JS_CFUNC_MAGIC_DEF("in8", 1, js_port_in, IO_8),
    JS_CFUNC_MAGIC_DEF("in16", 1, js_port_in, IO_16),
    JS_CFUNC_MAGIC_DEF("in32", 1, js_port_in, IO_32),
    JS_CFUNC_MAGIC_DEF("out8", 2, js_port_out, IO_8),
    JS_CFUNC_MAGIC_DEF("out16", 2, js_port_out, IO_16),
    JS_CFUNC_MAGIC_DEF("out32", 2, js_port_out, IO_32),
    JS_CFUNC_DEF("cpuid", 2, js_cpuid),
    JS_CFUNC_DEF("rdtsc", 0, js_rdtsc),
    JS_CFUNC_DEF("monotonicNs", 0, js_monotonic_ns),
    JS_CFUNC_DEF("wallClockMs", 0, js_wall_clock_ms),
    JS_CFUNC_DEF("tscHz", 0, js_tsc_hz),
    JS_CFUNC_DEF("setEventLoop", 1, js_set_event_loop),
    JS_CFUNC_DEF("runMicrotasks", 0, js_run_microtasks),
    JS_CFUNC_DEF("takeInterrupts", 0, js_take_interrupts),
    JS_CFUNC_DEF("mapStack", 1, js_map_stack_native),
    JS_CFUNC_DEF("panic", 2, js_panic),
    JS_CFUNC_DEF("bootInfo", 0, js_boot_info),
    JS_CFUNC_DEF("memoryUsage", 0, js_memory_usage),
    JS_CFUNC_DEF("fault", 1, js_fault),
    JS_CFUNC_DEF("irqRouteIsa", 1, js_irq_route_isa),
    JS_CFUNC_DEF("irqRouteGsi", 3, js_irq_route_gsi),
    JS_CFUNC_DEF("irqAllocate", 1, js_irq_allocate),
    JS_CFUNC_DEF("irqFree", 2, js_irq_free),
    JS_CFUNC_DEF("irqDone", 1, js_irq_done),
    JS_CFUNC_DEF("irqCounts", 0, js_irq_counts),
    JS_CFUNC_DEF("cpuStats", 0, js_cpu_stats),
    JS_CFUNC_DEF("randomFill", 1, js_random_fill),
    JS_CFUNC_DEF("randomSource", 0, js_random_source),
    JS_CFUNC_DEF("setPanicAction", 1, js_set_panic_action),
    JS_CFUNC_DEF("setPanicHook", 1, js_set_panic_hook),
    JS_CFUNC_DEF("memoryMap", 0, js_memory_map),
};

/* The compact engine leaves out code generation from strings (eval, new Function): nothing then refers
 * to the parser, and the linker drops it (~75 KB). `uos build` picks the full engine when the bundle
 * mentions eval or Function, or when asked to. */
static JSContext *new_context(JSRuntime *r) {
#if UOS_EVAL
  return JS_NewContext(r);
#else
  JSContext *c = JS_NewContextRaw(r);
  if (!c) return 0;
  JS_AddIntrinsicBaseObjects(c);
  JS_AddIntrinsicDate(c);
  JS_AddIntrinsicStringNormalize(c);
  JS_AddIntrinsicRegExp(c);
  JS_AddIntrinsicJSON(c);
  JS_AddIntrinsicProxy(c);
  JS_AddIntrinsicMapSet(c);
  JS_AddIntrinsicTypedArrays(c);
  JS_AddIntrinsicPromise(c);
  JS_AddIntrinsicBigInt(c);
  return c;
#endif
}

/* ---------- the engine's allocator: kernel/heap.c, with QuickJS's own accounting ---------- */
#define BLOCK_OVERHEAD 8 /* what QuickJS's memory reports add per block */

/* Out of memory: a small request that fails means the machine is full, which no service recovers from,
 * so it panics with the heap's statistics. A large one (an ArrayBuffer, a big string) fails as a
 * catchable "out of memory" error. */
#define SMALL_REQUEST (64 * 1024)

static void *engine_malloc(JSMallocState *s, size_t size) {
  if (s->malloc_size + size > s->malloc_limit) return 0;
  void *p = heap_malloc(size);
  if (!p && size < SMALL_REQUEST) panic_out_of_memory(size);
  if (!p) return 0;
  s->malloc_count++;
  s->malloc_size += heap_usable_size(p) + BLOCK_OVERHEAD;
  return p;
}

static void engine_free(JSMallocState *s, void *p) {
  if (!p) return;
  s->malloc_count--;
  s->malloc_size -= heap_usable_size(p) + BLOCK_OVERHEAD;
  heap_free(p);
}

static void *engine_realloc(JSMallocState *s, void *p, size_t size) {
  if (!p) return size ? engine_malloc(s, size) : 0;
  size_t old = heap_usable_size(p);
  if (!size) { engine_free(s, p); return 0; }
  if (s->malloc_size + size - old > s->malloc_limit) return 0;
  void *q = heap_realloc(p, size);
  if (!q && size < SMALL_REQUEST) panic_out_of_memory(size);
  if (!q) return 0;
  s->malloc_size += heap_usable_size(q) - old;
  return q;
}

static const JSMallocFunctions engine_allocator = { engine_malloc, engine_free, engine_realloc, heap_usable_size };

/* ---------- the loop ---------- */
static NORETURN void no_service(void) {
  /* Also the KVM probe: prove SSE works in this VM before reporting. */
  volatile double x = 1.5;
  x = x * 3.0;
  kprintf("uos: this image carries no service (SSE check %s); build one with `uos build`\n",
          x == 4.5 ? "passed" : "FAILED");
  power_exit(EXIT_NO_SERVICE);
}

static void wait_for_event(double deadline_ns) {
  cli();
  if (!irq_pending_any) {
    if (deadline_ns >= 0) {
      if (deadline_ns <= (double)monotonic_ns()) { sti(); return; }
      timer_arm_ns((uint64_t)deadline_ns);
    } else {
      timer_arm_ns(0);
    }
    uint64_t t0 = rdtsc();
    sti_hlt();
    halted_cycles += rdtsc() - t0;
    wakeups++;
  }
  sti();
}

void js_run(void) {
  struct payload_view bytecode = payload_section(PAYLOAD_BYTECODE);
  if (!bytecode.length) no_service();

  boot_mark("libc ready");
  rt = JS_NewRuntime2(&engine_allocator, 0);
  if (!rt) panic_with_status(EXIT_OUT_OF_MEMORY, "cannot create the JS runtime");
  JS_SetMaxStackSize(rt, JS_STACK_LIMIT);
  JS_SetHostPromiseRejectionTracker(rt, rejection_tracker, 0);
  ctx = new_context(rt);
  if (!ctx) panic_with_status(EXIT_OUT_OF_MEMORY, "cannot create the JS context");
  loop_hook = JS_UNDEFINED;
  panic_hook = JS_UNDEFINED;
  panic_js_hook = native_panic_hook;
  heap_keep_reserve();
  boot_mark("js context");

  JSValue global = JS_GetGlobalObject(ctx);
  JSValue native = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, native, native_functions, (int)ARRAY_LEN(native_functions));
  JS_SetPropertyFunctionList(ctx, native, utf8_functions, utf8_function_count);
  JS_SetPropertyFunctionList(ctx, native, hw_functions, hw_function_count);
  JS_DefinePropertyValueStr(ctx, global, "__uos", native, JS_PROP_CONFIGURABLE);
  JS_FreeValue(ctx, global);

  JSValue program = JS_ReadObject(ctx, bytecode.data, bytecode.length, JS_READ_OBJ_BYTECODE);
  if (JS_IsException(program)) report_pending_exception(ctx, "The service bytecode cannot be loaded (built for another QuickJS?):");
  boot_mark("bytecode loaded");
  js_depth++;
  JSValue result = JS_EvalFunction(ctx, program);
  js_depth--;
  if (JS_IsException(result)) report_pending_exception(ctx, "Uncaught exception while starting the service:");
  JS_FreeValue(ctx, result);

  for (;;) {
    drain_jobs();
    if (JS_IsUndefined(loop_hook)) power_exit(EXIT_OK); /* a plain script without the kernel's loop */
    JSValue next = call_js(loop_hook, 0, 0);
    if (JS_IsException(next)) report_pending_exception(ctx, "Uncaught exception in the event loop:");
    double deadline = -1;
    JS_ToFloat64(ctx, &deadline, next);
    JS_FreeValue(ctx, next);
    drain_jobs();
    if (JS_IsJobPending(rt)) continue;
    wait_for_event(deadline);
  }
}
