/* interrupts.h: the frame every interrupt stub builds (boot/interrupts.asm). */
#ifndef UOS_INTERRUPTS_H
#define UOS_INTERRUPTS_H
#include <stdint.h>
struct interrupt_frame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error_code;
  uint64_t rip, cs, rflags, rsp, ss;
};
#endif
