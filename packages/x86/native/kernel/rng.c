/* rng.c: random numbers for crypto.getRandomValues and getrandom(). A ChaCha20 generator with fast key
 * erasure (every request ends by replacing the key), seeded on first use from RDSEED, else RDRAND, else a
 * pool of TSC jitter, and reseeded from the hardware source every megabyte. Without RDRAND/RDSEED the
 * boot log says so: jitter in a VM is a weak source. */
#include "cpu.h"
#include "uos.h"

enum { SOURCE_JITTER, SOURCE_RDRAND, SOURCE_RDSEED };
static int source;
static uint32_t key[8];
static uint64_t counter;
static uint64_t bytes_since_seed;
static int seeded;

#define ROTATE(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QUARTER(a, b, c, d) \
  a += b; d ^= a; d = ROTATE(d, 16); c += d; b ^= c; b = ROTATE(b, 12); \
  a += b; d ^= a; d = ROTATE(d, 8);  c += d; b ^= c; b = ROTATE(b, 7)

static void chacha_permute(uint32_t x[16]) {
  for (int round = 0; round < 10; round++) {
    QUARTER(x[0], x[4], x[8], x[12]); QUARTER(x[1], x[5], x[9], x[13]);
    QUARTER(x[2], x[6], x[10], x[14]); QUARTER(x[3], x[7], x[11], x[15]);
    QUARTER(x[0], x[5], x[10], x[15]); QUARTER(x[1], x[6], x[11], x[12]);
    QUARTER(x[2], x[7], x[8], x[13]); QUARTER(x[3], x[4], x[9], x[14]);
  }
}

/* One ChaCha20 block (RFC 8439 layout, 64-bit counter, zero nonce). */
static void chacha_block(const uint32_t k[8], uint64_t n, uint32_t out[16]) {
  uint32_t in[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
                      k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7],
                      (uint32_t)n, (uint32_t)(n >> 32), 0, 0 };
  for (int i = 0; i < 16; i++) out[i] = in[i];
  chacha_permute(out);
  for (int i = 0; i < 16; i++) out[i] += in[i];
}

static int rdrand64(uint64_t *v) {
  for (int tries = 0; tries < 10; tries++) {
    uint8_t ok;
    __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok)::"cc");
    if (ok) return 1;
  }
  return 0;
}

static int rdseed64(uint64_t *v) {
  for (int tries = 0; tries < 100; tries++) {
    uint8_t ok;
    __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok)::"cc");
    if (ok) return 1;
    pause();
  }
  return 0;
}

/* 256 bits from the jitter of timing a memory walk, folded through the ChaCha permutation. */
static void jitter_seed(uint32_t out[8]) {
  static volatile uint8_t scratch[4096];
  uint32_t state[16] = { 0 };
  uint64_t last = rdtsc();
  for (unsigned i = 0; i < 4096; i++) {
    for (unsigned j = 0; j < 64; j++) scratch[(i * 67 + j * 131) & 4095] ^= (uint8_t)(j + last);
    uint64_t now = rdtsc();
    state[i & 15] ^= (uint32_t)(now - last) ^ (uint32_t)((now - last) >> 32) * 0x9E3779B9u;
    last = now;
    if ((i & 15) == 15) chacha_permute(state);
  }
  chacha_permute(state);
  for (int i = 0; i < 8; i++) out[i] = state[i];
}

static void seed(void) {
  uint32_t fresh[8] = { 0 };
  int ok = 1;
  if (source != SOURCE_JITTER) {
    for (int i = 0; i < 4 && ok; i++) {
      uint64_t v = 0;
      ok = source == SOURCE_RDSEED ? rdseed64(&v) : rdrand64(&v);
      fresh[i * 2] = (uint32_t)v;
      fresh[i * 2 + 1] = (uint32_t)(v >> 32);
    }
  }
  if (source == SOURCE_JITTER || !ok) jitter_seed(fresh);
  for (int i = 0; i < 8; i++) key[i] ^= fresh[i];
  uint64_t t = rdtsc();
  key[0] ^= (uint32_t)t;
  key[1] ^= (uint32_t)(t >> 32);
  bytes_since_seed = 0;
  seeded = 1;
}

void rng_init(void) {
  uint32_t r[4];
  cpuid(1, 0, r);
  int rdrand = (r[2] >> 30) & 1;
  cpuid(0, 0, r);
  int rdseed = 0;
  if (r[0] >= 7) { cpuid(7, 0, r); rdseed = (r[1] >> 18) & 1; }
  source = rdseed ? SOURCE_RDSEED : rdrand ? SOURCE_RDRAND : SOURCE_JITTER;
  if (source == SOURCE_JITTER)
    kputs("uos: warning: the CPU has no RDRAND or RDSEED; random numbers come from TSC jitter, a weak source in a VM\n");
}

const char *rng_source(void) {
  return source == SOURCE_RDSEED ? "rdseed" : source == SOURCE_RDRAND ? "rdrand" : "jitter";
}

void rng_fill(void *buffer, size_t length) {
  if (!seeded || bytes_since_seed > (1u << 20)) seed();
  uint8_t *out = buffer;
  size_t requested = length;
  uint32_t block[16];
  while (length) {
    chacha_block(key, counter++, block);
    size_t n = length < 64 ? length : 64;
    const uint8_t *bytes = (const uint8_t *)block;
    for (size_t i = 0; i < n; i++) out[i] = bytes[i];
    out += n;
    length -= n;
  }
  /* Fast key erasure: what was returned cannot be recomputed from the state left behind. */
  chacha_block(key, counter++, block);
  for (int i = 0; i < 8; i++) key[i] = block[i];
  for (int i = 0; i < 16; i++) block[i] = 0;
  bytes_since_seed += requested + 64;
}
