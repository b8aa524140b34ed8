/* format.c: a small printf for the kernel (integers, strings, pointers; no floating point), safe to use
 * from interrupt, exception and syscall context. */
#include "uos.h"

struct out { char *buf; size_t size, len; };

static void put(struct out *o, char c) {
  if (o->len + 1 < o->size) o->buf[o->len] = c;
  o->len++;
}

static void put_number(struct out *o, uint64_t v, unsigned base, int negative, int width, char pad, int upper, int left) {
  char tmp[24];
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  int n = 0;
  do { tmp[n++] = digits[v % base]; v /= base; } while (v);
  int total = n + (negative ? 1 : 0);
  if (left) {
    if (negative) put(o, '-');
    while (n) put(o, tmp[--n]);
    for (; total < width; total++) put(o, ' ');
    return;
  }
  if (negative && pad == '0') put(o, '-');
  for (; total < width; total++) put(o, pad);
  if (negative && pad != '0') put(o, '-');
  while (n) put(o, tmp[--n]);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  struct out o = { buf, size, 0 };
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') { put(&o, *p); continue; }
    p++;
    char pad = ' ';
    int width = 0, left = 0, longs = 0;
    if (*p == '-') { left = 1; p++; }
    if (*p == '0') { pad = '0'; p++; }
    if (*p == '*') { width = va_arg(ap, int); p++; }
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    while (*p == 'l' || *p == 'z') { longs++; p++; }
    switch (*p) {
      case 'd': case 'i': {
        int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
        put_number(&o, v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v, 10, v < 0, width, pad, 0, left);
        break;
      }
      case 'u': put_number(&o, longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, 0, width, pad, 0, left); break;
      case 'x': case 'X': put_number(&o, longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, 0, width, pad, *p == 'X', left); break;
      case 'p': put(&o, '0'); put(&o, 'x'); put_number(&o, (uint64_t)va_arg(ap, void *), 16, 0, 16, '0', 0, 0); break;
      case 'c': put(&o, (char)va_arg(ap, int)); break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (!s) s = "(null)";
        size_t n = 0;
        while (s[n]) n++;
        if (!left) for (size_t i = n; (int)i < width; i++) put(&o, ' ');
        for (size_t i = 0; i < n; i++) put(&o, s[i]);
        if (left) for (size_t i = n; (int)i < width; i++) put(&o, ' ');
        break;
      }
      case '%': put(&o, '%'); break;
      case 0: p--; break;
      default: put(&o, '%'); put(&o, *p); break;
    }
  }
  if (size) buf[o.len < size ? o.len : size - 1] = 0;
  return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = kvsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

void kprintf(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = kvsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  serial_write(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}
