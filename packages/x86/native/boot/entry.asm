; entry.asm: the 32-bit entry points (multiboot and PVH) and the switch to long mode.
;
; Both loaders enter in 32-bit protected mode with paging off. We build a temporary identity map of the
; first GiB with 2 MiB pages, enable PAE, long mode, NX (when the CPU has it), SYSCALL, SSE and x87, then
; jump to 64-bit code, which calls kernel_entry(protocol, info) in C. The C side replaces these page tables.

bits 32

MULTIBOOT_LOADER_MAGIC equ 0x2BADB002
PROTOCOL_MULTIBOOT     equ 1
PROTOCOL_PVH           equ 2

section .boot.text progbits alloc exec nowrite align=16

global multiboot_entry
global pvh_entry
extern kernel_entry
extern main_stack_top

multiboot_entry:
    cmp eax, MULTIBOOT_LOADER_MAGIC
    jne .bad_loader
    mov edi, PROTOCOL_MULTIBOOT
    mov esi, ebx
    jmp common32
.bad_loader:
    hlt
    jmp .bad_loader

pvh_entry:
    mov edi, PROTOCOL_PVH
    mov esi, ebx
    ; fall through

common32:
    cli
    cld
    mov esp, boot_stack_top

    mov [boot_protocol], edi        ; cpuid and the loops below clobber registers
    mov [boot_info_address], esi

    ; Temporary page tables: PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] -> i * 2 MiB (present, writable, large).
    mov edi, boot_pml4
    mov ecx, 3 * 4096 / 4
    xor eax, eax
    rep stosd
    mov dword [boot_pml4], boot_pdpt + 3
    mov dword [boot_pdpt], boot_pd + 3
    mov edi, boot_pd
    mov eax, 0x83
    mov ecx, 512
.fill_pd:
    mov [edi], eax
    add eax, 0x200000
    add edi, 8
    loop .fill_pd

    ; CR4: PAE (5), OSFXSR (9), OSXMMEXCPT (10)
    mov eax, cr4
    or eax, (1 << 5) | (1 << 9) | (1 << 10)
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax

    ; EFER: SCE (0), LME (8), and NXE (11) when CPUID 0x80000001:EDX[20] says NX exists.
    mov eax, 0x80000001
    cpuid
    xor edi, edi
    test edx, 1 << 20
    jz .no_nx
    mov edi, 1 << 11
.no_nx:
    mov ecx, 0xC0000080
    rdmsr
    or eax, (1 << 0) | (1 << 8)
    or eax, edi
    wrmsr

    ; CR0: PG (31), WP (16), NE (5), MP (1), PE (0); clear EM (2) and TS (3) so SSE and x87 work.
    mov eax, cr0
    and eax, ~((1 << 2) | (1 << 3))
    or eax, (1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1
    mov cr0, eax

    lgdt [boot_gdt_pointer]
    jmp 0x08:long_mode_entry

bits 64
long_mode_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, main_stack_top
    fninit
    ldmxcsr [default_mxcsr]
    xor ebp, ebp
    mov edi, [boot_protocol]
    mov esi, [boot_info_address]
    call kernel_entry
.hang:
    cli
    hlt
    jmp .hang

section .boot.rodata progbits alloc noexec nowrite align=16
default_mxcsr:
    dd 0x1F80
align 16
boot_gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 0x08: 64-bit code
    dq 0x00CF92000000FFFF           ; 0x10: data
boot_gdt_end:
boot_gdt_pointer:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt

section .bss nobits alloc noexec write align=4096
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd:   resb 4096
boot_protocol: resd 1
boot_info_address: resd 1
alignb 16
boot_stack: resb 4096
boot_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
