/* js-host.c: the QuickJS host. Creates the runtime with the kernel's heap as its allocator, installs the
 * native bindings (globalThis.__uos: js-natives.c, js-errors.c, js-hw.c, js-utf8.c and the loop's
 * below), runs the service's bytecode, then drives the event loop: drain promise jobs, let the kernel's
 * JS loop hook run due timers and deferred interrupt handlers, and halt until the next interrupt or
 * deadline. Built twice: with the full engine (eval) and the compact one (UOS_EVAL=0). */
#include <string.h>

#include "cpu.h"
#include "heap.h"
#include "js-bindings.h"
#include "quickjs.h"
#include "sampler.h"
#include "uos.h"

#define JS_STACK_LIMIT (200 * 1024) /* of the 256 KiB main stack: the rest is for native frames */

JSRuntime *js_rt;
JSContext *js_ctx;
volatile int js_depth; /* > 0 while JS frames are on the stack */
uint64_t js_halted_cycles, js_wakeups;
const int js_engine_has_eval = UOS_EVAL;
static JSValue loop_hook;

/* Calls into JS keep count, so a CPU exception knows whether a JS stack is worth printing. */
JSValue js_call(JSValueConst f, int argc, JSValueConst *argv) {
  js_depth++;
  JSValue r = JS_Call(js_ctx, f, JS_UNDEFINED, argc, argv);
  js_depth--;
  return r;
}

void js_drain_jobs(void) {
  JSContext *c;
  for (;;) {
    js_depth++;
    int r = JS_ExecutePendingJob(js_rt, &c);
    js_depth--;
    if (r == 0) break;
    if (r < 0) js_report_pending_exception(c, "Uncaught exception in a promise job:");
  }
  js_check_rejections();
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
  js_drain_jobs();
  return JS_UNDEFINED;
}

static const JSCFunctionListEntry loop_functions[] = {
    JS_CFUNC_DEF("setEventLoop", 1, js_set_event_loop),
    JS_CFUNC_DEF("runMicrotasks", 0, js_run_microtasks),
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

/* Halts until an interrupt makes work or the deadline comes (-1: none). The sampler's ticks wake the hlt
 * too; while it runs, a wake with nothing pending before the deadline halts again (counted idle). */
static void wait_for_event(double deadline_ns) {
  cli();
  int halted = 0;
  while (!irq_pending_any) {
    if (deadline_ns >= 0) {
      if (deadline_ns <= (double)monotonic_ns()) break;
      timer_arm_ns((uint64_t)deadline_ns);
    } else {
      timer_arm_ns(0);
    }
    uint64_t t0 = rdtsc();
    cpu_idle = 1;
    sti_hlt();
    cli();
    cpu_idle = 0;
    js_halted_cycles += rdtsc() - t0;
    halted = 1;
    if (!sampler_running) break;
  }
  js_wakeups += (uint64_t)halted;
  sti();
}

void js_run(void) {
  struct payload_view bytecode = payload_section(PAYLOAD_BYTECODE);
  if (!bytecode.length) no_service();

  boot_mark("libc ready");
  js_rt = JS_NewRuntime2(&engine_allocator, 0);
  if (!js_rt) panic_with_status(EXIT_OUT_OF_MEMORY, "cannot create the JS runtime");
  JS_SetMaxStackSize(js_rt, JS_STACK_LIMIT);
  JS_SetHostPromiseRejectionTracker(js_rt, js_rejection_tracker, 0);
  js_ctx = new_context(js_rt);
  if (!js_ctx) panic_with_status(EXIT_OUT_OF_MEMORY, "cannot create the JS context");
  loop_hook = JS_UNDEFINED;
  js_panic_hook = JS_UNDEFINED;
  panic_js_hook = js_native_panic_hook;
  heap_keep_reserve();
  boot_mark("js context");
  time_init(); /* closes the calibration window if nothing read a clock yet: interrupts may follow */

  JSValue global = JS_GetGlobalObject(js_ctx);
  JSValue native = JS_NewObject(js_ctx);
  JS_SetPropertyFunctionList(js_ctx, native, system_functions, system_function_count);
  JS_SetPropertyFunctionList(js_ctx, native, loop_functions, (int)ARRAY_LEN(loop_functions));
  JS_SetPropertyFunctionList(js_ctx, native, error_functions, error_function_count);
  JS_SetPropertyFunctionList(js_ctx, native, profiler_functions, profiler_function_count);
  JS_SetPropertyFunctionList(js_ctx, native, utf8_functions, utf8_function_count);
  JS_SetPropertyFunctionList(js_ctx, native, hw_functions, hw_function_count);
  JS_SetPropertyFunctionList(js_ctx, native, digest_functions, digest_function_count);
  JS_SetPropertyFunctionList(js_ctx, native, gc_functions, gc_function_count);
  JS_SetPropertyFunctionList(js_ctx, native, payload_functions, payload_function_count);
  JS_DefinePropertyValueStr(js_ctx, global, "__uos", native, JS_PROP_CONFIGURABLE);
  JS_FreeValue(js_ctx, global);
  js_profiler_boot();

  JSValue program = JS_ReadObject(js_ctx, bytecode.data, bytecode.length, JS_READ_OBJ_BYTECODE);
  if (JS_IsException(program)) js_report_pending_exception(js_ctx, "The service bytecode cannot be loaded (built for another QuickJS?):");
  boot_mark("bytecode loaded");
  js_depth++;
  JSValue result = JS_EvalFunction(js_ctx, program);
  js_depth--;
  if (JS_IsException(result)) js_report_pending_exception(js_ctx, "Uncaught exception while starting the service:");
  JS_FreeValue(js_ctx, result);

  for (;;) {
    js_drain_jobs();
    if (JS_IsUndefined(loop_hook)) power_exit(EXIT_OK); /* a plain script without the kernel's loop */
    JSValue next = js_call(loop_hook, 0, 0);
    if (JS_IsException(next)) js_report_pending_exception(js_ctx, "Uncaught exception in the event loop:");
    double deadline = -1;
    JS_ToFloat64(js_ctx, &deadline, next);
    JS_FreeValue(js_ctx, next);
    js_drain_jobs();
    if (JS_IsJobPending(js_rt)) continue;
    js_profiler_flush();
    wait_for_event(deadline);
  }
}
