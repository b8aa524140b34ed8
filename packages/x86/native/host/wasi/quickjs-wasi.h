/* Forced into every QuickJS file of the wasm32 compiler (uos-jsc.wasm) with -include: what wasi-libc lacks.
 *
 * QuickJS on wasm32 uses its 32-bit representations (NaN-boxed values, 32-bit bignum limbs), the image's
 * engine its 64-bit ones; neither reaches the bytecode, whose format is the same on every word size (BigInt
 * mantissas are written as little-endian bytes without trailing zeros). The byte-identity test against the
 * native uos-jsc holds the two to it. */
#include <stddef.h>

/* wasm has one rounding mode; QuickJS asks for others only in Number.prototype.toFixed/toPrecision, which
 * a compiler never runs (fesetround fails there and leaves round-to-nearest). */
#define FE_DOWNWARD 0x400
#define FE_UPWARD 0x800

/* In wasi-libc's malloc, but declared by none of its headers. */
size_t malloc_usable_size(void *pointer);
