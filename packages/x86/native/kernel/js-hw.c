/* js-hw.c: natives for drivers (@uos/hw): the PCI functions found at boot, how configuration space is reached,
 * DMA memory (physically contiguous, zeroed, identity-mapped: an ArrayBuffer whose address is its physical
 * address) and uncached MMIO access. */
#include "cpu.h"
#include "js-bindings.h"
#include "quickjs.h"
#include "uos.h"

static JSValue js_pci_functions(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  JSValue list = JS_NewArray(c);
  for (unsigned i = 0; i < pci_function_count; i++) {
    const struct pci_function *f = &pci_functions[i];
    JSValue o = JS_NewObject(c);
    JS_SetPropertyStr(c, o, "bus", JS_NewInt32(c, f->bus));
    JS_SetPropertyStr(c, o, "device", JS_NewInt32(c, f->device));
    JS_SetPropertyStr(c, o, "function", JS_NewInt32(c, f->function));
    JS_SetPropertyStr(c, o, "vendorId", JS_NewInt32(c, f->vendor_id));
    JS_SetPropertyStr(c, o, "deviceId", JS_NewInt32(c, f->device_id));
    JS_SetPropertyStr(c, o, "classCode", JS_NewInt32(c, f->class_code));
    JS_SetPropertyStr(c, o, "subclass", JS_NewInt32(c, f->subclass));
    JS_SetPropertyStr(c, o, "progIf", JS_NewInt32(c, f->prog_if));
    JS_SetPropertyStr(c, o, "revision", JS_NewInt32(c, f->revision));
    JS_SetPropertyStr(c, o, "headerType", JS_NewInt32(c, f->header_type));
    JS_SetPropertyStr(c, o, "interruptLine", JS_NewInt32(c, f->interrupt_line));
    JS_SetPropertyStr(c, o, "interruptPin", JS_NewInt32(c, f->interrupt_pin));
    JS_SetPropertyUint32(c, list, i, o);
  }
  return list;
}

/* pciHost() -> how configuration space is reached: { mechanism: 'ports' | 'ecam' | 'none', source, and for
 * ECAM ecamBase, busStart, busEnd }. @uos/hw does its configuration accesses itself, through the same
 * mechanism (ports, or ECAM through mmioMap/mmioRead/mmioWrite). */
static JSValue js_pci_host(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  JSValue o = JS_NewObject(c);
  const char *mechanism = pci_host.mechanism == PCI_PORTS ? "ports" : pci_host.mechanism == PCI_ECAM ? "ecam" : "none";
  JS_SetPropertyStr(c, o, "mechanism", JS_NewString(c, mechanism));
  JS_SetPropertyStr(c, o, "source", JS_NewString(c, pci_host.source ? pci_host.source : "none"));
  if (pci_host.mechanism == PCI_ECAM) {
    JS_SetPropertyStr(c, o, "ecamBase", JS_NewFloat64(c, (double)pci_host.ecam_base));
    JS_SetPropertyStr(c, o, "busStart", JS_NewInt32(c, pci_host.bus_start));
    JS_SetPropertyStr(c, o, "busEnd", JS_NewInt32(c, pci_host.bus_end));
  }
  return o;
}

static void free_dma(JSRuntime *rt, void *opaque, void *pointer) {
  (void)rt;
  page_free((uint64_t)(uintptr_t)pointer, (size_t)(uintptr_t)opaque);
}

/* dmaAllocate(size) -> ArrayBuffer over zeroed, physically contiguous, page-aligned memory; its address
 * comes from dmaAddress(buffer). The pages go back when the ArrayBuffer is collected. */
static JSValue js_dma_allocate(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  uint32_t size;
  if (JS_ToUint32(c, &size, argv[0])) return JS_EXCEPTION;
  if (size == 0 || size > (64u << 20)) return JS_ThrowRangeError(c, "DMA buffers are 1 byte to 64 MiB, not %u", size);
  size_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
  uint64_t address = page_alloc(pages);
  if (!address) return JS_ThrowRangeError(c, "no %u bytes of contiguous memory left for DMA", size);
  uint64_t *words = (uint64_t *)(uintptr_t)address;
  for (size_t i = 0; i < pages * PAGE_SIZE / 8; i++) words[i] = 0;
  return JS_NewArrayBuffer(c, (uint8_t *)(uintptr_t)address, size, free_dma, (void *)(uintptr_t)pages, 0);
}

/* dmaAddress(ArrayBuffer | view) -> the physical address of its first byte */
static JSValue js_dma_address(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  size_t size, offset = 0, length, element;
  uint8_t *bytes = JS_GetArrayBuffer(c, &size, argv[0]);
  if (!bytes) {
    JS_FreeValue(c, JS_GetException(c));
    JSValue buffer = JS_GetTypedArrayBuffer(c, argv[0], &offset, &length, &element);
    if (JS_IsException(buffer)) return JS_EXCEPTION;
    bytes = JS_GetArrayBuffer(c, &size, buffer);
    JS_FreeValue(c, buffer);
    if (!bytes) return JS_EXCEPTION;
  }
  return JS_NewFloat64(c, (double)((uint64_t)(uintptr_t)bytes + offset));
}

static JSValue js_mmio_map(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  double address, size;
  if (JS_ToFloat64(c, &address, argv[0]) || JS_ToFloat64(c, &size, argv[1])) return JS_EXCEPTION;
  if (address < 0x100000 || size <= 0 || size > (1ull << 32) || address + size > (double)(1ull << 46)) {
    return JS_ThrowRangeError(c, "cannot map MMIO at 0x%llx (+%llu bytes)", (unsigned long long)address, (unsigned long long)size);
  }
  map_mmio((uint64_t)address, (uint64_t)size);
  return JS_UNDEFINED;
}

enum { WIDTH_8, WIDTH_16, WIDTH_32 };

static JSValue js_mmio_read(JSContext *c, JSValueConst this, int argc, JSValueConst *argv, int width) {
  (void)this; (void)argc;
  double address;
  if (JS_ToFloat64(c, &address, argv[0])) return JS_EXCEPTION;
  uintptr_t a = (uintptr_t)(uint64_t)address;
  switch (width) {
    case WIDTH_8: return JS_NewUint32(c, *(volatile uint8_t *)a);
    case WIDTH_16: return JS_NewUint32(c, *(volatile uint16_t *)a);
    default: return JS_NewUint32(c, *(volatile uint32_t *)a);
  }
}

static JSValue js_mmio_write(JSContext *c, JSValueConst this, int argc, JSValueConst *argv, int width) {
  (void)this; (void)argc;
  double address;
  uint32_t value;
  if (JS_ToFloat64(c, &address, argv[0]) || JS_ToUint32(c, &value, argv[1])) return JS_EXCEPTION;
  uintptr_t a = (uintptr_t)(uint64_t)address;
  switch (width) {
    case WIDTH_8: *(volatile uint8_t *)a = (uint8_t)value; break;
    case WIDTH_16: *(volatile uint16_t *)a = (uint16_t)value; break;
    default: *(volatile uint32_t *)a = value; break;
  }
  return JS_UNDEFINED;
}

static JSValue js_lapic_id(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc; (void)argv;
  return JS_NewUint32(c, lapic_id());
}

/* checksumSum(bytes: Uint8Array, start, end, initial) -> the RFC 1071 sum of bytes[start..end) as
 * big-endian 16-bit words (a lone last byte is the high half of a word) plus `initial`, folded to 16 bits
 * but not complemented: @uos/net's checksumSum, in C, because it runs over every byte of every packet. */
static JSValue js_checksum_sum(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  size_t length;
  const uint8_t *bytes = js_view_bytes(c, argv[0], &length);
  if (!bytes) return JS_EXCEPTION;
  uint32_t start, end;
  double initial;
  if (JS_ToUint32(c, &start, argv[1]) || JS_ToUint32(c, &end, argv[2]) || JS_ToFloat64(c, &initial, argv[3])) return JS_EXCEPTION;
  if (start > end || end > length) return JS_ThrowRangeError(c, "checksum range %u..%u is outside 0..%u", start, end, (unsigned)length);
  if (!(initial >= 0 && initial < 9007199254740992.0)) return JS_ThrowRangeError(c, "checksum initial sum must be a non-negative integer");
  const uint8_t *p = bytes + start;
  size_t n = end - start;
  uint64_t sum = (uint64_t)initial;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    sum += ((uint32_t)p[i] << 8 | p[i + 1]) + ((uint32_t)p[i + 2] << 8 | p[i + 3]) +
           ((uint32_t)p[i + 4] << 8 | p[i + 5]) + ((uint32_t)p[i + 6] << 8 | p[i + 7]);
  }
  for (; i + 2 <= n; i += 2) sum += (uint32_t)p[i] << 8 | p[i + 1];
  if (i < n) sum += (uint32_t)p[i] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return JS_NewUint32(c, (uint32_t)sum);
}

const JSCFunctionListEntry hw_functions[] = {
    JS_CFUNC_DEF("checksumSum", 4, js_checksum_sum),
    JS_CFUNC_DEF("pciFunctions", 0, js_pci_functions),
    JS_CFUNC_DEF("pciHost", 0, js_pci_host),
    JS_CFUNC_DEF("dmaAllocate", 1, js_dma_allocate),
    JS_CFUNC_DEF("dmaAddress", 1, js_dma_address),
    JS_CFUNC_DEF("mmioMap", 2, js_mmio_map),
    JS_CFUNC_MAGIC_DEF("mmioRead8", 1, js_mmio_read, WIDTH_8),
    JS_CFUNC_MAGIC_DEF("mmioRead16", 1, js_mmio_read, WIDTH_16),
    JS_CFUNC_MAGIC_DEF("mmioRead32", 1, js_mmio_read, WIDTH_32),
    JS_CFUNC_MAGIC_DEF("mmioWrite8", 2, js_mmio_write, WIDTH_8),
    JS_CFUNC_MAGIC_DEF("mmioWrite16", 2, js_mmio_write, WIDTH_16),
    JS_CFUNC_MAGIC_DEF("mmioWrite32", 2, js_mmio_write, WIDTH_32),
    JS_CFUNC_DEF("lapicId", 0, js_lapic_id),
};
const int hw_function_count = sizeof hw_functions / sizeof hw_functions[0];
