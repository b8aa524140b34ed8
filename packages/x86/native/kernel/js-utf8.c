/* js-utf8.c: UTF-8 for TextEncoder/TextDecoder, natively (the data path decodes headers and payloads; in
 * the interpreter this would be tens of times slower). Follows the WHATWG Encoding standard:
 *   encode: lone surrogates become U+FFFD (QuickJS writes them as 3-byte ED A0..BF sequences);
 *   decode: maximal subparts of an invalid sequence each become one U+FFFD, or a TypeError when fatal; in
 *           streaming mode an incomplete sequence at the end is left for the next call.
 * The decoder writes repaired UTF-8 and lets QuickJS build the string from it. */
#include <string.h>

#include "js-bindings.h"
#include "quickjs.h"
#include "uos.h"

static size_t repair_surrogates(uint8_t *p, size_t n) {
  for (size_t i = 0; i + 2 < n; i++) {
    if (p[i] == 0xED && p[i + 1] >= 0xA0) { p[i] = 0xEF; p[i + 1] = 0xBF; p[i + 2] = 0xBD; i += 2; }
    else if (p[i] >= 0xF0) i += 3;
    else if (p[i] >= 0xE0) i += 2;
    else if (p[i] >= 0xC0) i += 1;
  }
  return n;
}

/* The string as WHATWG UTF-8, in a buffer the caller frees with js_free. */
static uint8_t *encode(JSContext *c, JSValueConst value, size_t *length) {
  size_t n;
  const char *s = JS_ToCStringLen2(c, &n, value, 0);
  if (!s) return 0;
  uint8_t *copy = js_malloc(c, n + 1);
  if (copy) { memcpy(copy, s, n); repair_surrogates(copy, n); }
  JS_FreeCString(c, s);
  *length = n;
  return copy;
}

/* utf8Encode(string) -> ArrayBuffer */
static JSValue js_utf8_encode(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  size_t n;
  uint8_t *bytes = encode(c, argv[0], &n);
  if (!bytes) return JS_EXCEPTION;
  JSValue buffer = JS_NewArrayBufferCopy(c, bytes, n);
  js_free(c, bytes);
  return buffer;
}

uint8_t *js_view_bytes(JSContext *c, JSValueConst view, size_t *length) {
  size_t offset, element;
  JSValue buffer = JS_GetTypedArrayBuffer(c, view, &offset, length, &element);
  if (JS_IsException(buffer)) return 0;
  size_t size;
  uint8_t *base = JS_GetArrayBuffer(c, &size, buffer);
  JS_FreeValue(c, buffer);
  return base ? base + offset : 0;
}

/* utf8EncodeInto(string, Uint8Array) -> [read UTF-16 units, written bytes]; never splits a code point. */
static JSValue js_utf8_encode_into(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  size_t room;
  uint8_t *destination = js_view_bytes(c, argv[1], &room);
  if (!destination) return JS_EXCEPTION;
  size_t n;
  uint8_t *bytes = encode(c, argv[0], &n);
  if (!bytes) return JS_EXCEPTION;
  size_t written = 0, read = 0;
  while (written < n) {
    uint8_t lead = bytes[written];
    size_t size = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (written + size > room) break;
    memcpy(destination + written, bytes + written, size);
    written += size;
    read += size == 4 ? 2 : 1;
  }
  js_free(c, bytes);
  JSValue result = JS_NewArray(c);
  JS_SetPropertyUint32(c, result, 0, JS_NewInt64(c, (int64_t)read));
  JS_SetPropertyUint32(c, result, 1, JS_NewInt64(c, (int64_t)written));
  return result;
}

/* utf8Decode(Uint8Array, fatal, stream) -> [string, bytes consumed] */
static JSValue js_utf8_decode(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  size_t n;
  const uint8_t *in = js_view_bytes(c, argv[0], &n);
  if (!in) return JS_EXCEPTION;
  int fatal = JS_ToBool(c, argv[1]), stream = JS_ToBool(c, argv[2]);
  uint8_t *out = js_malloc(c, n * 3 + 1);
  if (!out) return JS_EXCEPTION;
  size_t o = 0, i = 0, start = 0, consumed = n;
  unsigned needed = 0, seen = 0;
  uint8_t lower = 0x80, upper = 0xBF;
  int advance = 1; /* whether the error consumes the byte at i */
  while (i < n) {
    uint8_t b = in[i];
    if (!needed) {
      start = i;
      if (b < 0x80) { out[o++] = b; i++; continue; }
      if (b >= 0xC2 && b <= 0xDF) needed = 1;
      else if (b >= 0xE0 && b <= 0xEF) { needed = 2; if (b == 0xE0) lower = 0xA0; if (b == 0xED) upper = 0x9F; }
      else if (b >= 0xF0 && b <= 0xF4) { needed = 3; if (b == 0xF0) lower = 0x90; if (b == 0xF4) upper = 0x8F; }
      else { advance = 1; goto invalid; } /* the byte itself is the maximal subpart */
      i++;
      continue;
    }
    if (b < lower || b > upper) { /* the sequence so far is one error; b starts over */
      needed = seen = 0;
      lower = 0x80; upper = 0xBF;
      advance = 0;
      goto invalid;
    }
    lower = 0x80; upper = 0xBF;
    i++;
    if (++seen == needed) {
      memcpy(out + o, in + start, i - start);
      o += i - start;
      needed = seen = 0;
    }
    continue;
  invalid:
    if (fatal) { js_free(c, out); return JS_ThrowTypeError(c, "The encoded data was not valid for encoding utf-8"); }
    out[o++] = 0xEF; out[o++] = 0xBF; out[o++] = 0xBD;
    i += (size_t)advance;
  }
  if (needed) { /* an incomplete sequence at the end */
    if (stream) consumed = start;
    else if (fatal) { js_free(c, out); return JS_ThrowTypeError(c, "The encoded data was not valid for encoding utf-8"); }
    else { out[o++] = 0xEF; out[o++] = 0xBF; out[o++] = 0xBD; }
  }
  JSValue text = JS_NewStringLen(c, (const char *)out, o);
  js_free(c, out);
  if (JS_IsException(text)) return text;
  JSValue result = JS_NewArray(c);
  JS_SetPropertyUint32(c, result, 0, text);
  JS_SetPropertyUint32(c, result, 1, JS_NewInt64(c, (int64_t)consumed));
  return result;
}

const JSCFunctionListEntry utf8_functions[] = {
    JS_CFUNC_DEF("utf8Encode", 1, js_utf8_encode),
    JS_CFUNC_DEF("utf8EncodeInto", 2, js_utf8_encode_into),
    JS_CFUNC_DEF("utf8Decode", 3, js_utf8_decode),
};
const int utf8_function_count = sizeof utf8_functions / sizeof utf8_functions[0];
