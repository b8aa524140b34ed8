/* uos.h: the kernel's shared declarations (boot info, memory, console, panic, time, power). */
#ifndef UOS_H
#define UOS_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define UOS_VERSION "0.1.0"
#define PAGE_SIZE 4096u
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NORETURN __attribute__((noreturn))

/* Exit statuses shared with the host runner (packages/x86/src/exit-status.ts mirrors them). */
enum exit_status {
  EXIT_OK = 0,
  EXIT_JS_PANIC = 64,     /* uncaught exception or unhandled rejection in the service */
  EXIT_OUT_OF_MEMORY = 65,
  EXIT_KERNEL_PANIC = 67, /* kernel assertion, unimplemented syscall, abort() */
  EXIT_NO_SERVICE = 69,   /* the image carries no service (the platform booted alone) */
  EXIT_CPU_EXCEPTION_BASE = 80, /* 80 + vector for CPU exceptions 0..31 */
};

/* ---- boot information, copied out of the firmware's structures before memory is reused ---- */
enum boot_protocol { BOOT_MULTIBOOT = 1, BOOT_PVH = 2 };
enum memory_type { MEM_AVAILABLE = 1, MEM_RESERVED = 2, MEM_ACPI_RECLAIMABLE = 3, MEM_ACPI_NVS = 4, MEM_BAD = 5 };
struct memory_region { uint64_t base, length; uint32_t type; };
#define MAX_MEMORY_REGIONS 64
#define MAX_CMDLINE 2048
struct boot_info {
  enum boot_protocol protocol;
  char cmdline[MAX_CMDLINE];
  struct memory_region regions[MAX_MEMORY_REGIONS];
  unsigned region_count;
  uint64_t rsdp; /* 0 when the loader did not say */
};
extern struct boot_info boot_info;
void boot_info_parse(uint32_t protocol, uint32_t info_addr);

/* ---- linker-provided layout ---- */
extern char __kernel_start[], __text_end[], __rodata_end[], __data_start[], __kernel_end[];
extern char __stacks_start[], __stacks_end[];
extern char __payload_start[];

/* ---- console ---- */
void serial_init(void);
void serial_write(const char *s, size_t n);
void kputs(const char *s);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- panic ---- */
struct interrupt_frame;
NORETURN void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
NORETURN void panic_with_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void panic_banner(void);
void print_backtrace(uint64_t rbp, uint64_t rip, int rip_is_return_address);
const char *symbol_lookup(uint64_t addr, uint64_t *offset); /* a static buffer, or 0 */
/* Calls visit for every native symbol in address order until it returns nonzero. */
void symbols_each(int (*visit)(uint64_t address, const char *name, void *arg), void *arg);
/* Called on a CPU exception; prints the report and ends the VM. */
NORETURN void exception_report(struct interrupt_frame *f);
extern volatile int in_panic;

/* ---- memory ---- */
void memory_init(uint64_t reserved_end);
uint64_t page_alloc(size_t pages);      /* physical address (identity-mapped) or 0 */
void page_free(uint64_t addr, size_t pages);
struct memory_stats { uint64_t total_pages, free_pages, ram_top, kernel_bytes, payload_bytes, peak_used_pages; };
void memory_stats(struct memory_stats *out);
void paging_init(uint64_t payload_end);
void map_mmio(uint64_t phys, uint64_t size);     /* uncached, writable, not executable */
void map_physical(uint64_t phys, uint64_t size); /* read-only view of firmware tables */
int is_mapped(uint64_t address);
int nx_supported(void);

/* ---- cpu tables ---- */
void gdt_init(void);
void idt_init(void);
void syscall_init(void);

/* ---- interrupts and timers ---- */
#define VECTOR_IRQ_BASE 32   /* ISA IRQ n arrives on 32 + n */
#define VECTOR_TIMER 48
#define VECTOR_SPURIOUS 255
void apic_init(void);
void apic_eoi(void);
void timer_arm_ns(uint64_t deadline_ns); /* absolute monotonic deadline; 0 disarms */
int timer_uses_tsc_deadline(void);
int irq_take_pending(uint8_t out[256]);  /* returns the number of vectors moved to out and clears them */
extern volatile uint64_t irq_pending_any;
uint64_t irq_count(unsigned vector);
uint32_t lapic_id(void);
int irq_route_isa(unsigned irq);                          /* vector, or -1 */
int irq_route_gsi(uint32_t gsi, int level, int active_low); /* vector, or -1 */
int irq_allocate_vectors(unsigned count);                 /* first of an aligned block, or -1 */
void irq_free_vectors(unsigned first, unsigned count);
void irq_mask_if_level(unsigned vector);
void irq_done(unsigned vector);

/* ---- time ---- */
void time_init(void);
uint64_t monotonic_ns(void);
uint64_t wall_clock_ns(void);
uint64_t tsc_hz(void);
uint64_t tsc_for_monotonic_ns(uint64_t ns);
extern uint64_t lapic_timer_hz;
/* Boot timeline: named TSC stamps from kernel entry on, reported by bootInfo() and `pnpm bench`. */
#define MAX_BOOT_MARKS 16
void boot_mark(const char *name);
unsigned boot_marks(const char **names, uint64_t *ns_since_entry, unsigned max);
/* Nanoseconds from the CPU's reset to kernel entry (firmware and loader). */
uint64_t boot_entry_ns(void);

/* ---- PCI ---- */
#define MAX_PCI_FUNCTIONS 128
struct pci_function {
  uint8_t bus, device, function;
  uint16_t vendor_id, device_id;
  uint8_t class_code, subclass, prog_if, revision, header_type, interrupt_line, interrupt_pin;
};
extern struct pci_function pci_functions[MAX_PCI_FUNCTIONS];
extern unsigned pci_function_count;
/* How configuration space is reached (pci.c picks it at boot: ports, else the MCFG table, else microvm's
 * fixed layout) and, where the firmware left BARs unassigned, the window pci.c assigns them from. */
enum pci_mechanism { PCI_NONE = 0, PCI_PORTS = 1, PCI_ECAM = 2 };
struct pci_host {
  enum pci_mechanism mechanism;
  uint64_t ecam_base;
  uint8_t bus_start, bus_end;
  uint64_t mmio_base, mmio_size; /* 0 when the firmware assigns BARs */
  const char *source;            /* "ports", "acpi-mcfg", "microvm" or "none" */
};
extern struct pci_host pci_host;
void pci_scan(void);
uint32_t pci_config_read(unsigned bus, unsigned device, unsigned function, unsigned offset, unsigned width);
void pci_config_write(unsigned bus, unsigned device, unsigned function, unsigned offset, unsigned width, uint32_t value);

/* ---- random numbers ---- */
void rng_init(void);
void rng_fill(void *buffer, size_t length);
const char *rng_source(void);

/* ---- panic policy ---- */
enum panic_action { PANIC_EXIT = 0, PANIC_HALT = 1, PANIC_REBOOT = 2 };
void panic_set_action(enum panic_action action);
/* Set by the JS host: prints the JS stack (when JS was running) and runs the service's panic hooks. */
extern void (*panic_js_hook)(const char *kind, const char *reason, int status);
NORETURN void panic_finish(int status);
NORETURN void panic_out_of_memory(uint64_t size);

/* ---- power ---- */
NORETURN void power_exit(int status);
NORETURN void power_reboot(void);

/* ---- payload (the service joined to the image by `uos build`) ---- */
enum payload_kind { PAYLOAD_BYTECODE = 1, PAYLOAD_SYMBOLS = 2, PAYLOAD_LINE_MAP = 3, PAYLOAD_INFO = 4, PAYLOAD_ASSETS = 5 };
struct payload_view { const uint8_t *data; uint32_t length; };
int payload_present(void);
uint64_t payload_end(void);
struct payload_view payload_section(enum payload_kind kind);

/* ---- the JS engine host ---- */
NORETURN void js_run(void);
/* The TypeScript source of a line of the bundle (0 when unmapped), its line in *mapped_line. */
const char *js_map_bundle_line(int line, int *mapped_line);
size_t js_map_stack(const char *in, char *out, size_t out_size);

#endif
