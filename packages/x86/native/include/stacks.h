/* stacks.h: the kernel stacks defined in boot/stacks.asm. */
#ifndef UOS_STACKS_H
#define UOS_STACKS_H
#include <stdint.h>
struct stack_range { uint64_t guard, bottom, top; };
extern const struct stack_range stack_table[];
extern const uint64_t stack_count;
enum { STACK_MAIN = 0, STACK_IST_EXCEPTION = 1, STACK_IST_DOUBLE_FAULT = 2, STACK_IST_NMI = 3,
       STACK_IST_MACHINE_CHECK = 4, STACK_IST_IRQ = 5, STACK_IST_PAGE_FAULT = 6 };
#endif
