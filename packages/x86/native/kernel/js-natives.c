/* js-natives.c: the platform's natives for the kernel (globalThis.__uos): the serial console, exit, I/O
 * ports, CPUID and the clocks, boot facts, memory figures and the memory map, interrupt routing, CPU
 * statistics, random bytes and deliberate faults. Drivers' natives are in js-hw.c, text codecs' in
 * js-utf8.c, the error reports' in js-errors.c, the loop's in js-host.c. */
#include <string.h>

#include "cpu.h"
#include "heap.h"
#include "js-bindings.h"
#include "quickjs.h"
#include "uos.h"

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
  js_profiler_flush();
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

static JSValue js_take_interrupts(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  uint8_t vectors[256];
  int n = irq_take_pending(vectors);
  JSValue a = JS_NewArray(c);
  for (int i = 0; i < n; i++) JS_SetPropertyUint32(c, a, (uint32_t)i, JS_NewUint32(c, vectors[i]));
  return a;
}

static const char *service_cmdline(void) {
  const char *s = boot_info.cmdline;
  if (boot_info.protocol == BOOT_MULTIBOOT) { /* QEMU puts the kernel's path first */
    while (*s && *s != ' ') s++;
    while (*s == ' ') s++;
  }
  while (!__builtin_strncmp(s, "uos.", 4)) { /* the kernel's own options (uos.profile=) */
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

static JSValue js_cmdline(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  return JS_NewString(c, service_cmdline());
}

static JSValue js_boot_info(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  JSValue o = JS_NewObject(c);
  JS_SetPropertyStr(c, o, "protocol", JS_NewString(c, boot_info.protocol == BOOT_PVH ? "pvh" : "multiboot"));
  JS_SetPropertyStr(c, o, "cmdline", JS_NewString(c, service_cmdline()));
  JS_SetPropertyStr(c, o, "version", JS_NewString(c, UOS_VERSION));
  JS_SetPropertyStr(c, o, "eval", JS_NewBool(c, js_engine_has_eval));
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
  JS_SetPropertyStr(c, o, "entryMs", JS_NewFloat64(c, (double)boot_entry_ns() / 1e6));
  struct payload_view info = payload_section(PAYLOAD_INFO);
  JS_SetPropertyStr(c, o, "build", info.length ? JS_NewStringLen(c, (const char *)info.data, info.length) : JS_NewString(c, "{}"));
  return o;
}

static JSValue js_memory_usage(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  if (argc > 0 && JS_ToBool(c, argv[0])) JS_RunGC(js_rt); /* collect: free unreachable cycles first */
  struct memory_stats s;
  memory_stats(&s);
  JSMemoryUsage u;
  JS_ComputeMemoryUsage(js_rt, &u);
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
  JS_SetPropertyStr(c, o, "haltedCycles", JS_NewFloat64(c, (double)js_halted_cycles));
  JS_SetPropertyStr(c, o, "totalCycles", JS_NewFloat64(c, (double)(monotonic_ns() * (tsc_hz() / 1e9))));
  JS_SetPropertyStr(c, o, "wakeups", JS_NewFloat64(c, (double)js_wakeups));
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

const JSCFunctionListEntry system_functions[] = {
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
    JS_CFUNC_DEF("takeInterrupts", 0, js_take_interrupts),
    JS_CFUNC_DEF("bootInfo", 0, js_boot_info),
    JS_CFUNC_DEF("cmdline", 0, js_cmdline),
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
    JS_CFUNC_DEF("memoryMap", 0, js_memory_map),
};
const int system_function_count = sizeof system_functions / sizeof system_functions[0];
