import { native } from '@uos/x86';

/**
 * What @uos/hw needs from the machine. The default is the native platform; unit tests install a fake
 * (`setHwPlatform`) with an emulated configuration space and memory.
 */
export interface HwPlatform {
  configRead(bus: number, device: number, fn: number, offset: number, width: 1 | 2 | 4): number;
  configWrite(bus: number, device: number, fn: number, offset: number, width: 1 | 2 | 4, value: number): void;
  mmioMap(address: number, size: number): void;
  mmioRead(address: number, width: 1 | 2 | 4): number;
  mmioWrite(address: number, width: 1 | 2 | 4, value: number): void;
  portRead(port: number, width: 1 | 2 | 4): number;
  portWrite(port: number, width: 1 | 2 | 4, value: number): void;
  /** Zeroed, physically contiguous, page-aligned memory. */
  dmaAllocate(size: number): ArrayBuffer;
  dmaAddress(buffer: ArrayBuffer | ArrayBufferView): number;
  lapicId(): number;
}

function nativePlatform(): HwPlatform {
  const n = native();
  return {
    configRead: (b, d, f, o, w) => n.pciConfigRead(b, d, f, o, w),
    configWrite: (b, d, f, o, w, v) => n.pciConfigWrite(b, d, f, o, w, v),
    mmioMap: (a, s) => n.mmioMap(a, s),
    mmioRead: (a, w) => (w === 4 ? n.mmioRead32(a) : w === 2 ? n.mmioRead16(a) : n.mmioRead8(a)),
    mmioWrite: (a, w, v) => (w === 4 ? n.mmioWrite32(a, v) : w === 2 ? n.mmioWrite16(a, v) : n.mmioWrite8(a, v)),
    portRead: (p, w) => (w === 4 ? n.in32(p) : w === 2 ? n.in16(p) : n.in8(p)),
    portWrite: (p, w, v) => (w === 4 ? n.out32(p, v) : w === 2 ? n.out16(p, v) : n.out8(p, v)),
    dmaAllocate: (s) => n.dmaAllocate(s),
    dmaAddress: (b) => n.dmaAddress(b),
    lapicId: () => n.lapicId(),
  };
}

let current: HwPlatform | undefined;

export function hwPlatform(): HwPlatform {
  current ??= nativePlatform();
  return current;
}

/** Replaces the platform (tests); returns the previous one. */
export function setHwPlatform(platform: HwPlatform | undefined): HwPlatform | undefined {
  const previous = current;
  current = platform;
  return previous;
}
