/* js-profiler.c: the stack sampler's thread half (kernel/sampler.c takes the samples). It starts and
 * stops sampling, serves profiler.top() from the table of self counts, and, when the command line holds
 * `uos.profile=<hz>[:<nonce>]` (`uos boot --profile`), samples from boot to exit into a buffer in RAM that
 * the host reads back after the VM ends, naming each JS function the samples met there (a function
 * record per bytecode: name and first bundle line) once per loop turn and before exit. */
#include "cpu.h"
#include "js-bindings.h"
#include "quickjs.h"
#include "sampler.h"
#include "uos.h"

#define DEFAULT_HZ 997 /* about 1 kHz; a prime, so it does not beat with millisecond timers */
#define MAX_HZ 20000
#define MAX_BUFFER (64ull << 20)
#define MIN_BUFFER (256ull << 10)
#define MAX_NAME 255

static int whole_run;            /* sampling for the host, from boot to exit */
static uint64_t named_keys;      /* new_keys when the table was last scanned for functions to name */

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The value of a `name=` kernel option: the uos.* words the command line starts with (after the kernel's
 * path under multiboot); the service's words follow them. */
static const char *kernel_option(const char *name) {
  size_t n = __builtin_strlen(name);
  const char *p = boot_info.cmdline;
  if (boot_info.protocol == BOOT_MULTIBOOT)
    while (*p && *p++ != ' ') continue;
  for (;;) {
    while (*p == ' ') p++;
    if (__builtin_strncmp(p, "uos.", 4)) return 0;
    if (!__builtin_strncmp(p, name, n)) return p + n;
    while (*p && *p != ' ') p++;
  }
}

void js_profiler_boot(void) {
  const char *option = kernel_option("uos.profile=");
  if (!option) return;
  uint32_t hz = 0;
  uint64_t nonce = 0;
  while (*option >= '0' && *option <= '9' && hz <= MAX_HZ) hz = hz * 10 + (uint32_t)(*option++ - '0');
  if (*option == ':') for (option++; hex_digit(*option) >= 0; option++) nonce = nonce << 4 | (uint64_t)hex_digit(*option);
  if (!hz || hz > MAX_HZ) hz = DEFAULT_HZ;
  struct memory_stats m;
  memory_stats(&m);
  uint64_t bytes = ALIGN_DOWN(m.free_pages * PAGE_SIZE / 4, PAGE_SIZE);
  if (bytes > MAX_BUFFER) bytes = MAX_BUFFER;
  struct profile_header *h = bytes >= MIN_BUFFER ? (struct profile_header *)(uintptr_t)page_alloc(bytes / PAGE_SIZE) : 0;
  if (!h || !sampler_init(js_rt)) {
    kputs("uos: profiler: not enough memory for the sample buffer; not sampling\n");
    return;
  }
  *h = (struct profile_header){ PROFILE_MAGIC, nonce, PROFILE_VERSION, PAGE_SIZE, bytes - PAGE_SIZE, 0, tsc_hz(),
                                tsc_for_monotonic_ns(0), hz, 0, 0, 0 };
  sampler_set_buffer(h);
  whole_run = 1;
  sampler_start(hz);
}

/* Names the JS functions samples met since the last call (a record each in the host's buffer). */
void js_profiler_flush(void) {
  if (!whole_run) return;
  struct sampler_stats s;
  sampler_stats(&s);
  if (s.new_keys == named_keys) return;
  named_keys = s.new_keys;
  uint32_t count;
  struct sampler_entry *e = sampler_entries(&count);
  struct { uint8_t type, zero; uint16_t name_length; uint32_t line; uint64_t key; char name[MAX_NAME + 1 + 8]; } r;
  char buffer[MAX_NAME + 1];
  for (uint32_t i = 0; i < count; i++) {
    if (!e[i].key || e[i].described) continue;
    int line = 0;
    const char *name = js_bytecode_describe(js_rt, SAMPLE_KEY_ADDRESS(e[i].key), e[i].object, buffer, sizeof buffer, &line);
    e[i].described = 1;
    if (!name) continue;
    size_t n = __builtin_strlen(name);
    if (n > MAX_NAME) n = MAX_NAME;
    r.type = RECORD_FUNCTION;
    r.zero = 0;
    r.name_length = (uint16_t)n;
    r.line = (uint32_t)line;
    r.key = e[i].key;
    __builtin_memset(r.name, 0, sizeof r.name);
    __builtin_memcpy(r.name, name, n);
    if (!sampler_append(&r, (uint32_t)(16 + ALIGN_UP(n, 8)))) return;
  }
}

static void window_mark(uint8_t type) {
  struct { uint8_t type, zero[7]; uint64_t tsc; } r = { type, { 0 }, rdtsc() };
  sampler_append(&r, sizeof r);
}

/* profilerStart(hz): counts for top() start again; sampling starts unless the host's run already samples. */
static JSValue js_profiler_start(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this;
  uint32_t hz = DEFAULT_HZ;
  if (argc > 0 && !JS_IsUndefined(argv[0]) && JS_ToUint32(c, &hz, argv[0])) return JS_EXCEPTION;
  if (hz < 1 || hz > MAX_HZ) return JS_ThrowRangeError(c, "the sampling rate must be 1..%u Hz, not %u", MAX_HZ, hz);
  if (!sampler_init(js_rt)) return JS_ThrowRangeError(c, "no memory for the sampler's tables");
  struct sampler_stats s;
  sampler_stats(&s);
  sampler_reset_counts();
  sampler_counting = 1;
  if (whole_run) window_mark(RECORD_WINDOW_START);
  else if (!s.running) sampler_start(hz);
  return JS_UNDEFINED;
}

static JSValue js_profiler_stop(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)c; (void)this; (void)argc; (void)argv;
  if (whole_run) {
    sampler_counting = 0; /* top() reports the window; the host's profile goes on */
    window_mark(RECORD_WINDOW_STOP);
    js_profiler_flush();
  } else {
    sampler_stop();
  }
  return JS_UNDEFINED;
}

/* Appends [name, kind, url, line] of a key to list. */
static uint32_t describe(JSContext *c, JSValue list, uint32_t at, const struct sampler_entry *e) {
  uint64_t key = e->key;
  char buffer[MAX_NAME + 1];
  const char *name = 0, *kind = "native", *url = 0;
  int line = 0, mapped = 0;
  uint64_t offset;
  switch (SAMPLE_KEY_KIND(key)) {
    case KEY_IDLE: name = "(idle)"; kind = "idle"; break;
    case KEY_JS:
      kind = "js";
      name = js_bytecode_describe(js_rt, SAMPLE_KEY_ADDRESS(key), e->object, buffer, sizeof buffer, &line);
      if (name && !*name) name = "(anonymous)";
      url = line > 0 ? js_map_bundle_line(line, &mapped) : 0;
      break;
    default: name = SAMPLE_KEY_ADDRESS(key) ? symbol_lookup(SAMPLE_KEY_ADDRESS(key), &offset) : 0;
  }
  const char *text[3] = { name ? name : "(unknown)", kind, url ? url : "" };
  for (int i = 0; i < 3; i++) JS_SetPropertyUint32(c, list, at++, JS_NewString(c, text[i]));
  JS_SetPropertyUint32(c, list, at++, JS_NewInt32(c, url ? mapped : 0));
  return at;
}

/* profilerTop(n): [samples, lost, hz, running, whole run, µs spent sampling, then per entry: name, kind,
 * url, line, self samples], the n entries with the most samples of their own, most first. */
static JSValue js_profiler_top(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  uint32_t n, count;
  if (JS_ToUint32(c, &n, argv[0])) return JS_EXCEPTION;
  struct sampler_stats s;
  sampler_stats(&s);
  struct sampler_entry *e = sampler_entries(&count);
  JSValue list = JS_NewArray(c);
  double head[6] = { (double)s.samples, (double)(s.dropped + s.table_full), s.hz, s.running, whole_run,
                     (double)s.tick_cycles * 1e6 / (double)tsc_hz() };
  uint32_t at = 0;
  for (; at < 6; at++) JS_SetPropertyUint32(c, list, at, JS_NewFloat64(c, head[at]));
  uint64_t last_key = 0;
  uint32_t last_self = UINT32_MAX;
  /* Selection by (self descending, key ascending): n passes over the table, no allocation. */
  for (uint32_t listed = 0; listed < n; listed++) {
    struct sampler_entry *best = 0;
    for (uint32_t i = 0; i < count; i++) {
      if (!e[i].key || !e[i].self) continue;
      int after_last = e[i].self < last_self || (e[i].self == last_self && e[i].key > last_key);
      if (after_last && (!best || e[i].self > best->self || (e[i].self == best->self && e[i].key < best->key))) best = &e[i];
    }
    if (!best) break;
    last_key = best->key;
    last_self = best->self;
    at = describe(c, list, at, best);
    JS_SetPropertyUint32(c, list, at++, JS_NewUint32(c, best->self));
  }
  return list;
}

const JSCFunctionListEntry profiler_functions[] = {
    JS_CFUNC_DEF("profilerStart", 1, js_profiler_start),
    JS_CFUNC_DEF("profilerStop", 0, js_profiler_stop),
    JS_CFUNC_DEF("profilerTop", 1, js_profiler_top),
};
const int profiler_function_count = sizeof profiler_functions / sizeof profiler_functions[0];
