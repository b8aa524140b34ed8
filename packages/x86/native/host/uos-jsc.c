/* uos-jsc: compiles a JavaScript bundle to QuickJS bytecode on the host, with the very engine build the
 * image runs (same version, same CONFIG_BIGNUM), so the bytecode loads in the guest.
 *   uos-jsc <input.js> <output.bin> [--filename NAME] [--module]
 * Prints syntax errors as "file:line: message" and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quickjs.h"

static char *read_file(const char *path, size_t *length) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  if (buf) { buf[n] = 0; *length = (size_t)n; }
  return buf;
}

int main(int argc, char **argv) {
  const char *input = NULL, *output = NULL, *filename = NULL;
  int flags = JS_EVAL_TYPE_GLOBAL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--filename") && i + 1 < argc) filename = argv[++i];
    else if (!strcmp(argv[i], "--module")) flags = JS_EVAL_TYPE_MODULE;
    else if (!strcmp(argv[i], "--version")) { printf("uos-jsc quickjs-2021-03-27 bignum\n"); return 0; }
    else if (!input) input = argv[i];
    else if (!output) output = argv[i];
  }
  if (!input || !output) {
    fprintf(stderr, "usage: uos-jsc <input.js> <output.bin> [--filename NAME] [--module]\n");
    return 2;
  }
  size_t length;
  char *source = read_file(input, &length);
  if (!source) { perror(input); return 1; }
  JSRuntime *rt = JS_NewRuntime();
  JSContext *ctx = JS_NewContext(rt);
  JSValue obj = JS_Eval(ctx, source, length, filename ? filename : input, flags | JS_EVAL_FLAG_COMPILE_ONLY);
  if (JS_IsException(obj)) {
    JSValue e = JS_GetException(ctx);
    const char *message = JS_ToCString(ctx, e);
    JSValue stack = JS_GetPropertyStr(ctx, e, "stack");
    const char *where = JS_IsString(stack) ? JS_ToCString(ctx, stack) : NULL;
    fprintf(stderr, "%s\n%s", message ? message : "compile error", where ? where : "");
    return 1;
  }
  size_t size;
  uint8_t *bytes = JS_WriteObject(ctx, &size, obj, JS_WRITE_OBJ_BYTECODE);
  if (!bytes) { fprintf(stderr, "cannot serialise the bytecode\n"); return 1; }
  FILE *f = fopen(output, "wb");
  if (!f || fwrite(bytes, 1, size, f) != size || fclose(f)) { perror(output); return 1; }
  return 0;
}
