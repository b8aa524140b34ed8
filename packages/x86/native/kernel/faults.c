/* faults.c: deliberate CPU exceptions, so tests can prove that every class of crash is reported.
 * Reached from JS through __uos.fault(kind) (@uos/x86's `faults.trigger`). */
#include <stdint.h>

#include "uos.h"

void break_page_fault_stack(void);

static volatile int zero;
static volatile uint8_t data_page_code[16] __attribute__((aligned(16))) = { 0xC3 }; /* ret, in NX data */

__attribute__((noinline)) static uint64_t recurse(uint64_t depth) {
  volatile uint8_t frame[512];
  frame[0] = (uint8_t)depth;
  if (depth > (1ull << 40)) return 0; /* never reached: the guard page stops it first */
  return recurse(depth + 1) + frame[0];
}

/* Returns only for an unknown kind. */
__attribute__((noipa)) int trigger_fault(const char *kind) {
  if (!__builtin_strcmp(kind, "divide-error")) {
    /* In asm: the compiler rewrites 1 / x as a comparison and never divides. */
    uint32_t divisor = (uint32_t)zero, high = 0, low = 1;
    __asm__ volatile("divl %2" : "+a"(low), "+d"(high) : "r"(divisor));
  } else if (!__builtin_strcmp(kind, "null-pointer")) {
    *(volatile int *)(uintptr_t)zero = 1;
  } else if (!__builtin_strcmp(kind, "invalid-opcode")) {
    __asm__ volatile("ud2");
  } else if (!__builtin_strcmp(kind, "general-protection")) {
    *(volatile uint64_t *)0x8000000000000000ull = 1; /* non-canonical address */
  } else if (!__builtin_strcmp(kind, "breakpoint")) {
    __asm__ volatile("int3");
  } else if (!__builtin_strcmp(kind, "write-text")) {
    *(volatile uint8_t *)(uintptr_t)&trigger_fault = 0xCC;
  } else if (!__builtin_strcmp(kind, "execute-data")) {
    ((void (*)(void))(uintptr_t)data_page_code)();
  } else if (!__builtin_strcmp(kind, "stack-overflow")) {
    recurse(0);
  } else if (!__builtin_strcmp(kind, "double-fault")) {
    break_page_fault_stack();
    *(volatile int *)(uintptr_t)zero = 1;
  } else if (!__builtin_strcmp(kind, "kernel-panic")) {
    panic("a panic requested by the service");
  } else {
    return -1;
  }
  return 0;
}
