/* What the JS host files (js-host.c, js-natives.c, js-errors.c, js-stack-map.c, js-hw.c, js-utf8.c,
 * js-profiler.c, js-digest.c, js-gc.c, js-payload.c) share: the engine's runtime and context, the calls into JS, the
 * error reports and the tables of natives installed as globalThis.__uos. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "quickjs.h"

extern JSRuntime *js_rt;
extern JSContext *js_ctx;
extern volatile int js_depth;          /* > 0 while JS frames are on the stack */
extern uint64_t js_halted_cycles, js_wakeups;
extern const int js_engine_has_eval;  /* 1 in the full engine (eval, new Function) */
extern JSValue js_panic_hook;          /* the kernel's dispatcher for os.onPanic hooks */

/* Calls f (counted in js_depth, so a CPU exception knows JS was running). */
JSValue js_call(JSValueConst f, int argc, JSValueConst *argv);
/* Runs pending promise jobs; an uncaught exception or unhandled rejection ends the service. */
void js_drain_jobs(void);

/* js-errors.c */
__attribute__((noreturn)) void js_report_and_exit(JSContext *c, const char *what, JSValueConst error);
__attribute__((noreturn)) void js_report_pending_exception(JSContext *c, const char *what);
void js_rejection_tracker(JSContext *c, JSValueConst promise, JSValueConst reason, JS_BOOL handled, void *opaque);
void js_check_rejections(void);
void js_native_panic_hook(const char *kind, const char *reason, int status);

/* The bytes a typed array (or DataView) views and their count in `*length`; 0, with the engine's
 * exception pending, when `view` is none. */
uint8_t *js_view_bytes(JSContext *c, JSValueConst view, size_t *length);

extern const JSCFunctionListEntry system_functions[];
extern const int system_function_count;
extern const JSCFunctionListEntry error_functions[];
extern const int error_function_count;
/* js-profiler.c */
void js_profiler_boot(void);  /* starts sampling for `uos boot --profile` (uos.profile= on the command line) */
void js_profiler_flush(void); /* names the functions new samples met, for the host */

extern const JSCFunctionListEntry profiler_functions[];
extern const int profiler_function_count;
extern const JSCFunctionListEntry utf8_functions[];
extern const int utf8_function_count;
extern const JSCFunctionListEntry hw_functions[];
extern const int hw_function_count;
extern const JSCFunctionListEntry digest_functions[];
extern const int digest_function_count;
extern const JSCFunctionListEntry payload_functions[];
extern const int payload_function_count;
extern const JSCFunctionListEntry gc_functions[];
extern const int gc_function_count;
