; interrupts.asm: interrupt and exception stubs, and the ring-0 SYSCALL entry used by musl.
;
; Every IDT gate uses an IST stack (see gdt.c), so the CPU never pushes onto a stack whose red zone
; belongs to interrupted code. Each stub pushes a uniform frame and calls interrupt_dispatch(frame).

bits 64
section .text

extern interrupt_dispatch
extern syscall_dispatch
global isr_stub_table
global syscall_entry

%macro ISR_NO_ERROR 1
isr_%1:
    push 0
    push %1
    jmp isr_common
%endmacro
%macro ISR_ERROR 1
isr_%1:
    push %1
    jmp isr_common
%endmacro

%assign v 0
%rep 256
%if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21 || v == 29 || v == 30
    ISR_ERROR v
%else
    ISR_NO_ERROR v
%endif
%assign v v + 1
%endrep

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    call interrupt_dispatch
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                     ; vector and error code
    iretq

; SYSCALL in ring 0: RCX = return RIP, R11 = RFLAGS, and the stack is still the caller's. musl is built
; with a red zone, so step 128 bytes below RSP before pushing anything. Return with popfq + jmp, never
; sysret (which would drop to ring 3), and move back over the red zone only after the last push/pop.
syscall_entry:
    sub rsp, 128
    push r11
    push rcx
    push rbx
    push rdi
    push rsi
    push rdx
    push r10
    push r8
    push r9
    push rax                        ; struct syscall_frame { rax, r9, r8, r10, rdx, rsi, rdi, rbx, rcx, r11 }
    mov rdi, rsp
    mov rbx, rsp
    and rsp, -16
    call syscall_dispatch
    mov rsp, rbx
    add rsp, 8
    pop r9
    pop r8
    pop r10
    pop rdx
    pop rsi
    pop rdi
    pop rbx
    pop rcx
    pop r11
    push r11
    popfq
    lea rsp, [rsp + 128]
    jmp rcx

section .rodata
align 8
isr_stub_table:
%assign v 0
%rep 256
    dq isr_ %+ v
%assign v v + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
