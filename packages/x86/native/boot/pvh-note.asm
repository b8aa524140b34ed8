; pvh-note.asm: the Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), linked only into the PVH image variant.
; QEMU (microvm, and pc/q35 when no multiboot header is present) enters pvh_entry in 32-bit protected mode
; with EBX pointing at the hvm_start_info structure.
extern pvh_entry
section .note.pvh note alloc noexec nowrite align=4
    dd 4                            ; name size ("Xen\0")
    dd 8                            ; descriptor size
    dd 18                           ; XEN_ELFNOTE_PHYS32_ENTRY
    db "Xen", 0
    dq pvh_entry

section .note.GNU-stack noalloc noexec nowrite progbits
