/* js-gc.c: runs QuickJS's cycle collector on request. Reference counting frees most objects at once;
 * objects in cycles wait for the collector, which QuickJS starts only when the heap grows past 1.5 times
 * what was live at the last collection. Tests that compare heap figures before and after call this first.
 *   gc() -> undefined */
#include "js-bindings.h"
#include "quickjs.h"

static JSValue js_gc(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  JS_RunGC(JS_GetRuntime(c));
  return JS_UNDEFINED;
}

const JSCFunctionListEntry gc_functions[] = {
    JS_CFUNC_DEF("gc", 0, js_gc),
};
const int gc_function_count = sizeof gc_functions / sizeof gc_functions[0];
