/* serial.c: COM1 (16550 UART at 0x3F8), the console. Polled writes; output is never dropped. */
#include "cpu.h"
#include "uos.h"

#define COM1 0x3F8

static int serial_ready;

void serial_init(void) {
  outb(COM1 + 1, 0x00); /* no UART interrupts */
  outb(COM1 + 3, 0x80); /* DLAB on */
  outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03); /* 8N1, DLAB off */
  outb(COM1 + 2, 0xC7); /* FIFO on, cleared, 14-byte threshold */
  outb(COM1 + 4, 0x03); /* DTR, RTS */
  serial_ready = 1;
}

static void serial_putc(char c) {
  /* Wait for the transmit holding register to be empty; QEMU's UART is always ready at once. Bound the
   * wait so a missing UART cannot hang the kernel. */
  for (int spins = 0; spins < 100000 && !(inb(COM1 + 5) & 0x20); spins++) pause();
  outb(COM1, (uint8_t)c);
}

void serial_write(const char *s, size_t n) {
  if (!serial_ready) serial_init();
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\n') serial_putc('\r');
    serial_putc(s[i]);
  }
}

void kputs(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  serial_write(s, n);
}
