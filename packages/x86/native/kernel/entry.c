/* entry.c: kernel_entry, called in long mode by boot/entry.asm. Sets up the CPU tables, memory, paging,
 * system calls, interrupt controllers and clocks, then starts musl the way its crt1 would, whose main
 * runs the service. */
#include "cpu.h"
#include "heap.h"
#include "uos.h"

void time_calibration_begin(void);
extern int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv, void (*init)(void),
                             void (*fini)(void), void (*ldso_fini)(void));

static int service_main(int argc, char **argv, char **envp) {
  (void)argc; (void)argv; (void)envp;
  js_run();
}

#define AT_NULL 0
#define AT_PAGESZ 6
#define AT_RANDOM 25

static uint8_t random_bytes[16];
static char program_name[] = "uos";

static NORETURN void start_libc(void) {
  uint64_t t = rdtsc();
  for (int i = 0; i < 16; i++) random_bytes[i] = (uint8_t)((t >> ((i % 8) * 8)) ^ (i * 131));
  /* argv, envp and the auxiliary vector, as the Linux loader would leave them. */
  static uint64_t vector[] = { (uint64_t)program_name, 0, /* argv */ 0, /* envp */
                               AT_PAGESZ, PAGE_SIZE, AT_RANDOM, 0, AT_NULL, 0 };
  vector[6] = (uint64_t)random_bytes;
  __libc_start_main(service_main, 1, (char **)vector, 0, 0, 0);
  panic("musl returned from __libc_start_main");
}

void kernel_entry(uint32_t protocol, uint32_t info) {
  boot_mark("kernel entry");
  time_calibration_begin();
  serial_init();
  boot_info_parse(protocol, info);
  gdt_init();
  idt_init();
  uint64_t image_end = payload_end();
  memory_init(image_end);
  paging_init(image_end);
  struct memory_stats memory;
  memory_stats(&memory);
  if (heap_init(memory.ram_top, page_alloc, page_free)) panic("no memory for the heap's page map");
  syscall_init();
  apic_init();
  rng_init();
  pci_scan();
  boot_mark("platform ready");
  /* The clocks' calibration finishes when something first reads a clock (time.c). */
  start_libc();
}
