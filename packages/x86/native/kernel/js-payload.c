/* js-payload.c: payload sections a service reads at run time, as ArrayBuffers over the image itself.
 *
 * payloadSection(kind) -> an ArrayBuffer over section `kind` of the payload, or undefined when the image
 * has none. No copy: the buffer aliases the payload's pages, which are mapped read-only, so a write
 * through it is a page fault (reported as a write to the read-only payload). @uos/assets reads the
 * embedded file set (kind 5) this way and hands out copies where callers may write. */
#include "js-bindings.h"
#include "uos.h"

static JSValue js_payload_section(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  uint32_t kind;
  if (JS_ToUint32(c, &kind, argv[0])) return JS_EXCEPTION;
  /* Only the sections meant for the service: the bytecode, symbols and line map stay the kernel's. */
  if (kind != PAYLOAD_INFO && kind != PAYLOAD_ASSETS) return JS_ThrowRangeError(c, "payload section %u is not readable by the service", kind);
  struct payload_view v = payload_section((enum payload_kind)kind);
  if (!v.data) return JS_UNDEFINED;
  return JS_NewArrayBuffer(c, (uint8_t *)(uintptr_t)v.data, v.length, NULL, NULL, 0);
}

const JSCFunctionListEntry payload_functions[] = {
    JS_CFUNC_DEF("payloadSection", 1, js_payload_section),
};
const int payload_function_count = sizeof payload_functions / sizeof payload_functions[0];
