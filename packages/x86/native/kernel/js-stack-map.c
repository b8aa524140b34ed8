/* js-stack-map.c: the JS line map (payload section 3, written by `uos build`): bundle line -> TypeScript
 * source and line. Rewrites the stacks of uncaught errors and panics, and names the functions of the
 * stack sampler's reports. Reads the payload only: no allocation, no engine calls. */
#include <string.h>

#include "js-bindings.h"
#include "uos.h"

struct line_map {
  const uint8_t *base;
  uint32_t length, source_count, line_count;
  const char *generated_name;
  const uint32_t *sources;
  const uint8_t *lines, *end;
};

static int line_map_open(struct line_map *m) {
  struct payload_view v = payload_section(PAYLOAD_LINE_MAP);
  if (v.length < 24) return 0;
  const uint32_t *h = (const uint32_t *)v.data;
  if (h[0] != 1 || h[1] >= v.length || h[4] >= v.length || h[5] > v.length) return 0;
  m->base = v.data;
  m->length = v.length;
  m->generated_name = (const char *)v.data + h[1];
  m->source_count = h[2];
  m->line_count = h[3];
  m->sources = (const uint32_t *)(v.data + h[4]);
  m->lines = v.data + h[5];
  m->end = v.data + v.length;
  return 1;
}

static int64_t read_varint(const uint8_t **p, const uint8_t *end) {
  uint64_t v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
  }
  return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); /* zigzag */
}

/* Maps a line of the bundle to (source file, line). Returns the source name or 0 when unmapped. */
static const char *line_map_lookup(const struct line_map *m, int line, int *out_line) {
  if (line < 1 || (uint32_t)line > m->line_count) return 0;
  const uint8_t *p = m->lines;
  int64_t source = 0, original = 0;
  for (int i = 1; i <= line; i++) {
    source += read_varint(&p, m->end);
    original += read_varint(&p, m->end);
  }
  if (source <= 0 || (uint64_t)source > m->source_count) return 0;
  uint32_t name = m->sources[source - 1];
  if (name >= m->length) return 0;
  *out_line = (int)original;
  return (const char *)m->base + name;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Appends to out (bounded); returns the length the full text would have. */
static size_t append(char *out, size_t out_size, size_t n, const char *text, size_t length) {
  for (size_t i = 0; i < length; i++, n++)
    if (n + 1 < out_size) out[n] = text[i];
  return n;
}

/* Rewrites every "<bundle>:<line>" in a stack as "<source.ts>:<line>" using the payload's line map.
 * Frames of the generated entry (sources named "<…>") and the bundle's top-level frame are dropped:
 * they are the same in every service and say nothing. */
size_t js_map_stack(const char *in, char *out, size_t out_size) {
  struct line_map m = { 0 };
  int have_map = line_map_open(&m);
  size_t name_length = have_map ? strlen(m.generated_name) : 0;
  size_t n = 0;
  char line_buffer[512];
  for (const char *p = in; *p;) {
    const char *end = strchr(p, '\n');
    size_t length = end ? (size_t)(end - p) + 1 : strlen(p);
    size_t ln = 0;
    int hidden = 0;
    for (const char *q = p; q < p + length;) {
      int line = 0, mapped = 0;
      const char *source = 0, *r = q + name_length;
      if (have_map && name_length && r <= p + length && !strncmp(q, m.generated_name, name_length) && *r == ':' && is_digit(r[1])) {
        r++;
        while (is_digit(*r)) line = line * 10 + (*r++ - '0');
        source = line_map_lookup(&m, line, &mapped);
        if (!source && q >= p + 7 && !strncmp(q - 8, "<eval> (", 8)) hidden = 1;
      }
      if (source) {
        if (source[0] == '<') hidden = 1;
        ln += (size_t)ksnprintf(line_buffer + (ln < sizeof line_buffer ? ln : sizeof line_buffer),
                                ln < sizeof line_buffer ? sizeof line_buffer - ln : 0, "%s:%d", source, mapped);
        q = r;
      } else {
        if (ln + 1 < sizeof line_buffer) line_buffer[ln] = *q;
        ln++;
        q++;
      }
    }
    /* A frame in the bundle without a line (generated wrapper code) is hidden too. */
    if (have_map && name_length && length > name_length + 2 && p[length - 1] == '\n' && p[length - 2] == ')' &&
        !strncmp(p + length - 2 - name_length, m.generated_name, name_length) && p[length - 3 - name_length] == '(')
      hidden = 1;
    if (!(hidden && !strncmp(p, "    at ", 7))) {
      if (ln < sizeof line_buffer) n = append(out, out_size, n, line_buffer, ln);
      else n = append(out, out_size, n, p, length); /* a very long line: keep it unmapped */
    }
    p += length;
  }
  if (out_size) out[n < out_size ? n : out_size - 1] = 0;
  return n;
}

const char *js_map_bundle_line(int line, int *mapped_line) {
  struct line_map m = { 0 };
  return line_map_open(&m) ? line_map_lookup(&m, line, mapped_line) : 0;
}
