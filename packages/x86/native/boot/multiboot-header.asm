; multiboot-header.asm: the Multiboot 1 header, linked only into the multiboot image variant.
; QEMU's -kernel loader (pc, q35) finds it in the first 8 KiB and loads the ELF32 program headers.
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ (1 << 0) | (1 << 1)   ; page-align modules, provide the memory map
section .multiboot progbits alloc noexec nowrite align=4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .note.GNU-stack noalloc noexec nowrite progbits
