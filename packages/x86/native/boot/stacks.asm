; stacks.asm: every kernel stack, each with an unmapped guard page below it (paging.c unmaps the guards),
; so running off the end of a stack faults instead of corrupting memory.
;   main: the kernel, musl and QuickJS. IST1: exceptions. IST2: double fault. IST3: NMI. IST4: machine
;   check. IST5: interrupts. IST6: page faults (so a main-stack overflow can still be reported).
MAIN_STACK_SIZE equ 256 * 1024
section .stacks nobits alloc write noexec align=4096
section .note.GNU-stack noalloc noexec nowrite progbits
section .stacks

%macro STACK 2
global %1_guard
global %1_bottom
global %1_top
%1_guard:  resb 4096
%1_bottom: resb %2
%1_top:
%endmacro

STACK main_stack, MAIN_STACK_SIZE
STACK ist1_stack, 16 * 1024
STACK ist2_stack, 8 * 1024
STACK ist3_stack, 8 * 1024
STACK ist4_stack, 8 * 1024
STACK ist5_stack, 8 * 1024
STACK ist6_stack, 16 * 1024

section .rodata
global stack_table
global stack_count
align 8
; { guard, bottom, top } for each stack, main first.
stack_table:
    dq main_stack_guard, main_stack_bottom, main_stack_top
    dq ist1_stack_guard, ist1_stack_bottom, ist1_stack_top
    dq ist2_stack_guard, ist2_stack_bottom, ist2_stack_top
    dq ist3_stack_guard, ist3_stack_bottom, ist3_stack_top
    dq ist4_stack_guard, ist4_stack_bottom, ist4_stack_top
    dq ist5_stack_guard, ist5_stack_bottom, ist5_stack_top
    dq ist6_stack_guard, ist6_stack_bottom, ist6_stack_top
stack_count:
    dq 7
