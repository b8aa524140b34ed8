/* js-digest.c: SHA-1 and SHA-256 (FIPS 180-4) for crypto.subtle.digest in @uos/http (ETags, basic-auth
 * comparisons). In the interpreter a hash costs about a millisecond per 64-byte block under TCG; here it is
 * a few microseconds.
 *   digest(name, bytes) -> ArrayBuffer   name is "SHA-1" or "SHA-256"; anything else throws a TypeError. */
#include <stdint.h>
#include <string.h>

#include "js-bindings.h"
#include "quickjs.h"

static uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static uint32_t load_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void sha1_block(uint32_t h[5], const uint8_t *block) {
  uint32_t w[80];
  for (int i = 0; i < 16; i++) w[i] = load_be32(block + 4 * i);
  for (int i = 16; i < 80; i++) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
    else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
    else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
    else { f = b ^ c ^ d; k = 0xca62c1d6; }
    uint32_t t = rotl(a, 5) + f + e + k + w[i];
    e = d; d = c; c = rotl(b, 30); b = a; a = t;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static void sha256_block(uint32_t h[8], const uint8_t *block) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = load_be32(block + 4 * i);
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* Runs `block` over the message with the padding both hashes share (0x80, zeros, 64-bit bit length). */
static void hash(void (*block)(uint32_t *, const uint8_t *), uint32_t *h, const uint8_t *data, size_t n) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) block(h, data + i);
  uint8_t tail[128];
  size_t rest = n - i;
  memset(tail, 0, sizeof tail);
  memcpy(tail, data + i, rest);
  tail[rest] = 0x80;
  size_t blocks = rest + 9 <= 64 ? 1 : 2;
  uint64_t bits = (uint64_t)n * 8;
  for (int k = 0; k < 8; k++) tail[blocks * 64 - 1 - k] = (uint8_t)(bits >> (8 * k));
  for (size_t k = 0; k < blocks; k++) block(h, tail + 64 * k);
}

static JSValue js_digest(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
  (void)this; (void)argc;
  const char *name = JS_ToCString(c, argv[0]);
  if (!name) return JS_EXCEPTION;
  int sha1 = !strcmp(name, "SHA-1"), sha256 = !strcmp(name, "SHA-256");
  JS_FreeCString(c, name);
  if (!sha1 && !sha256) return JS_ThrowTypeError(c, "digest: only SHA-1 and SHA-256 are built in");
  size_t n = 0;
  const uint8_t *data = js_view_bytes(c, argv[1], &n); /* the JS caller passes a Uint8Array */
  if (!data && n) return JS_EXCEPTION;
  if (!data) data = (const uint8_t *)""; /* an empty array may have no storage */
  uint8_t out[32];
  if (sha1) {
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    hash(sha1_block, h, data, n);
    for (int i = 0; i < 5; i++) store_be32(out + 4 * i, h[i]);
    return JS_NewArrayBufferCopy(c, out, 20);
  }
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  hash(sha256_block, h, data, n);
  for (int i = 0; i < 8; i++) store_be32(out + 4 * i, h[i]);
  return JS_NewArrayBufferCopy(c, out, 32);
}

const JSCFunctionListEntry digest_functions[] = {
    JS_CFUNC_DEF("digest", 2, js_digest),
};
const int digest_function_count = sizeof digest_functions / sizeof digest_functions[0];
