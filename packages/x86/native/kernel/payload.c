/* payload.c: the service joined to the image. `uos build` appends it to the platform ELF and points the
 * last PT_LOAD segment at it, so the loader places it at __payload_start. The placeholder below is what
 * the platform carries alone (no service). Layout (little-endian):
 *   header  { char magic[8] = "UOSPAYLD"; u32 version = 1; u32 header_size; u32 total_size; u32 count; }
 *   entries { u32 kind; u32 offset; u32 length; u32 reserved; } [count]   (offsets from the header)
 * Kinds: 1 bytecode (QuickJS), 2 native symbols, 3 JS line map, 4 build info (JSON), 5 assets (the
 * service's embedded files, read by @uos/assets through payloadSection in js-payload.c). */
#include "uos.h"

struct payload_header { char magic[8]; uint32_t version, header_size, total_size, count; };
struct payload_entry { uint32_t kind, offset, length, reserved; };

__attribute__((section(".payload"), used)) static const struct payload_header placeholder = {
    { 'U', 'O', 'S', 'P', 'A', 'Y', 'L', 'D' }, 1, sizeof(struct payload_header), sizeof(struct payload_header), 0 };

static const struct payload_header *header(void) { return (const struct payload_header *)__payload_start; }

static int valid(void) {
  const struct payload_header *h = header();
  const char *m = "UOSPAYLD";
  for (int i = 0; i < 8; i++) if (h->magic[i] != m[i]) return 0;
  return h->version == 1;
}

int payload_present(void) { return valid() && header()->count > 0; }

uint64_t payload_end(void) {
  uint32_t size = valid() ? header()->total_size : sizeof(struct payload_header);
  return ALIGN_UP((uint64_t)__payload_start + size, PAGE_SIZE);
}

struct payload_view payload_section(enum payload_kind kind) {
  struct payload_view v = { 0, 0 };
  if (!valid()) return v;
  const struct payload_header *h = header();
  const struct payload_entry *e = (const struct payload_entry *)(__payload_start + sizeof *h);
  for (uint32_t i = 0; i < h->count; i++) {
    if (e[i].kind != kind) continue;
    if ((uint64_t)e[i].offset + e[i].length > h->total_size) panic("payload section %u lies outside the payload", kind);
    v.data = (const uint8_t *)__payload_start + e[i].offset;
    v.length = e[i].length;
    return v;
  }
  return v;
}
