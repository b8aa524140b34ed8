/* What the JS binding files (js-host.c, js-hw.c, js-utf8.c, js-digest.c, js-gc.c, js-payload.c) share. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "quickjs.h"

/* The bytes a typed array (or DataView) views and their count in `*length`; 0, with the engine's
 * exception pending, when `view` is none. */
uint8_t *js_view_bytes(JSContext *c, JSValueConst view, size_t *length);

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
