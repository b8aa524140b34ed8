/* uos-jsc.wasm: uos-jsc (uos-jsc.c) as a WebAssembly module, so `uos build` compiles bytecode wherever Node
 * runs, without a native binary. The same QuickJS sources and defines as the image's engine, built for
 * wasm32-wasi (wasi/ fills what wasi-libc lacks); a test proves its bytecode byte-identical to the native
 * uos-jsc's for every service in the repository.
 *
 * A WASI reactor with no files: the host copies the source in (uos_jsc_alloc), calls uos_jsc_compile, and
 * reads the bytecode or the error text from uos_jsc_result/uos_jsc_result_length. It imports five WASI
 * calls, of which only clock_time_get and fd_write (stderr) are ever made (@uos/x86-platform provides
 * them). */
#include <stdlib.h>
#include <string.h>

#include "quickjs.h"

#define EXPORT(name) __attribute__((export_name(#name)))

static uint8_t *result;
static size_t result_length;

EXPORT(uos_jsc_alloc) void *uos_jsc_alloc(size_t size) { return malloc(size); }
EXPORT(uos_jsc_free) void uos_jsc_free(void *pointer) { free(pointer); }
EXPORT(uos_jsc_result) const uint8_t *uos_jsc_result(void) { return result; }
EXPORT(uos_jsc_result_length) size_t uos_jsc_result_length(void) { return result_length; }

static int keep(const void *bytes, size_t length) {
  result = malloc(length ? length : 1);
  if (!result) return -1;
  memcpy(result, bytes, length);
  result_length = length;
  return 0;
}

/* The text uos-jsc prints for a compile error: the message, a newline, the stack. */
static void keep_error(const char *message, const char *where) {
  size_t m = strlen(message), w = strlen(where);
  result = malloc(m + 1 + w);
  if (!result) return;
  memcpy(result, message, m);
  result[m] = '\n';
  memcpy(result + m + 1, where, w);
  result_length = m + 1 + w;
}

/* Compiles source[0..length) (source[length] must be 0) as a script, or a module when `module` is set.
 * Returns 0 with the bytecode as the result, 1 with the error text as the result, 2 out of memory. */
EXPORT(uos_jsc_compile) int uos_jsc_compile(const char *source, size_t length, const char *filename, int module) {
  free(result);
  result = NULL;
  result_length = 0;
  JSRuntime *rt = JS_NewRuntime();
  if (!rt) return 2;
  JSContext *ctx = JS_NewContext(rt);
  if (!ctx) { JS_FreeRuntime(rt); return 2; }
  int flags = (module ? JS_EVAL_TYPE_MODULE : JS_EVAL_TYPE_GLOBAL) | JS_EVAL_FLAG_COMPILE_ONLY;
  JSValue obj = JS_Eval(ctx, source, length, filename, flags);
  int status = 0;
  if (JS_IsException(obj)) {
    JSValue e = JS_GetException(ctx);
    const char *message = JS_ToCString(ctx, e);
    JSValue stack = JS_GetPropertyStr(ctx, e, "stack");
    const char *where = JS_IsString(stack) ? JS_ToCString(ctx, stack) : NULL;
    keep_error(message ? message : "compile error", where ? where : "");
    if (where) JS_FreeCString(ctx, where);
    if (message) JS_FreeCString(ctx, message);
    JS_FreeValue(ctx, stack);
    JS_FreeValue(ctx, e);
    status = result ? 1 : 2;
  } else {
    size_t size;
    uint8_t *bytes = JS_WriteObject(ctx, &size, obj, JS_WRITE_OBJ_BYTECODE);
    if (!bytes) {
      keep_error("cannot serialise the bytecode", "");
      status = result ? 1 : 2;
    } else {
      status = keep(bytes, size) ? 2 : 0;
      js_free(ctx, bytes);
    }
    JS_FreeValue(ctx, obj);
  }
  JS_FreeContext(ctx);
  JS_FreeRuntime(rt);
  return status;
}
