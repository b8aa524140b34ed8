import { hwPlatform } from './platform.js';

/**
 * A window of device registers: memory-mapped (uncached) or I/O ports, read and written by offset with
 * an explicit width. Drivers use the same calls for both, so a transport can pick at run time.
 */
export interface RegisterWindow {
  readonly kind: 'mmio' | 'io';
  readonly base: number;
  readonly size: number;
  read8(offset: number): number;
  read16(offset: number): number;
  read32(offset: number): number;
  write8(offset: number, value: number): void;
  write16(offset: number, value: number): void;
  write32(offset: number, value: number): void;
}

/** Memory-mapped registers at physical `base` (mapped uncached on creation). */
export function mmioWindow(base: number, size: number): RegisterWindow {
  const p = hwPlatform();
  p.mmioMap(base, size);
  return {
    kind: 'mmio',
    base,
    size,
    read8: (o) => p.mmioRead(base + o, 1),
    read16: (o) => p.mmioRead(base + o, 2),
    read32: (o) => p.mmioRead(base + o, 4),
    write8: (o, v) => p.mmioWrite(base + o, 1, v),
    write16: (o, v) => p.mmioWrite(base + o, 2, v),
    write32: (o, v) => p.mmioWrite(base + o, 4, v),
  };
}

/** I/O port registers starting at `base`. */
export function ioWindow(base: number, size: number): RegisterWindow {
  const p = hwPlatform();
  return {
    kind: 'io',
    base,
    size,
    read8: (o) => p.portRead(base + o, 1),
    read16: (o) => p.portRead(base + o, 2),
    read32: (o) => p.portRead(base + o, 4),
    write8: (o, v) => p.portWrite(base + o, 1, v),
    write16: (o, v) => p.portWrite(base + o, 2, v),
    write32: (o, v) => p.portWrite(base + o, 4, v),
  };
}
