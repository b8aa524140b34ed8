/* js-errors.c: how the service's failures are reported. An uncaught exception or an unhandled rejection
 * prints the error with its stack mapped to TypeScript file:line, runs the service's panic hooks
 * (os.onPanic) and ends the VM with status 64 (65 when the engine ran out of memory); after a native
 * report (CPU exception, kernel panic) the JS stack that was running is printed too. */
#include <string.h>

#include "heap.h"
#include "js-bindings.h"
#include "quickjs.h"
#include "uos.h"

#define MAX_REJECTIONS 16

JSValue js_panic_hook; /* the kernel's dispatcher for os.onPanic hooks */
static struct { JSValue promise, reason; } rejections[MAX_REJECTIONS];
static int rejection_count;

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
  if (!js_ctx || JS_IsUndefined(js_panic_hook)) return;
  JSValue info = JS_NewObject(js_ctx);
  JS_SetPropertyStr(js_ctx, info, "kind", JS_NewString(js_ctx, kind));
  JS_SetPropertyStr(js_ctx, info, "reason", JS_NewString(js_ctx, reason));
  JS_SetPropertyStr(js_ctx, info, "status", JS_NewInt32(js_ctx, status));
  JSValue r = js_call(js_panic_hook, 1, &info);
  if (JS_IsException(r)) JS_FreeValue(js_ctx, JS_GetException(js_ctx)); /* a failing hook does not stop the others' report */
  JS_FreeValue(js_ctx, r);
  JS_FreeValue(js_ctx, info);
}

/* panic_js_hook: after a native report (CPU exception, kernel panic, out of memory). */
void js_native_panic_hook(const char *kind, const char *reason, int status) {
  if (js_depth > 0 && js_ctx) {
    /* The Error constructor records the stack of the JS that was running (JS_NewError would not). */
    JSValue global = JS_GetGlobalObject(js_ctx);
    JSValue constructor = JS_GetPropertyStr(js_ctx, global, "Error");
    JSValue e = JS_CallConstructor(js_ctx, constructor, 0, 0);
    JS_FreeValue(js_ctx, constructor);
    JS_FreeValue(js_ctx, global);
    JSValue stack = JS_GetPropertyStr(js_ctx, e, "stack");
    if (JS_IsString(stack)) {
      kputs("JS stack (innermost first):\n");
      print_value(js_ctx, stack);
    }
    JS_FreeValue(js_ctx, stack);
    JS_FreeValue(js_ctx, e);
  }
  run_panic_hook(kind, reason, status);
}

NORETURN void js_report_and_exit(JSContext *c, const char *what, JSValueConst error) {
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
  js_profiler_flush();
  run_panic_hook(oom ? "out-of-memory" : "exception", what, status);
  panic_finish(status);
}

NORETURN void js_report_pending_exception(JSContext *c, const char *what) {
  JSValue e = JS_GetException(c);
  js_report_and_exit(c, what, e);
}

void js_rejection_tracker(JSContext *c, JSValueConst promise, JSValueConst reason, JS_BOOL handled, void *opaque) {
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

/* The first unhandled rejection left after the jobs ran ends the service. */
void js_check_rejections(void) {
  if (rejection_count) js_report_and_exit(js_ctx, "Unhandled promise rejection:", rejections[0].reason);
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
  js_report_and_exit(c, what ? what : "panic", argc > 1 ? argv[1] : JS_UNDEFINED);
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
  JS_FreeValue(c, js_panic_hook);
  js_panic_hook = JS_DupValue(c, argv[0]);
  return JS_UNDEFINED;
}

const JSCFunctionListEntry error_functions[] = {
    JS_CFUNC_DEF("mapStack", 1, js_map_stack_native),
    JS_CFUNC_DEF("panic", 2, js_panic),
    JS_CFUNC_DEF("setPanicAction", 1, js_set_panic_action),
    JS_CFUNC_DEF("setPanicHook", 1, js_set_panic_hook),
};
const int error_function_count = sizeof error_functions / sizeof error_functions[0];
