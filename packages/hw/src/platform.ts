import { type NativePciHost, native } from '@uos/x86';
import { type MmioBus, type PciConfigAccess, type PortBus, ecamConfigAccess, noConfigAccess, portConfigAccess } from './pci-config.js';

/**
 * What @uos/hw needs from the machine. The default is the native platform, whose configuration accesses
 * go through the mechanism the boot code found (`configAccessFor`: ports or ECAM); unit tests install a
 * fake (`setHwPlatform`) with an emulated configuration space and memory.
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

/** How the native platform reaches configuration space: what the boot code chose (`native().pciHost()`). */
export function configAccessFor(host: NativePciHost, machine: PortBus & MmioBus): PciConfigAccess {
  if (host.mechanism === 'ports') return portConfigAccess(machine);
  if (host.mechanism === 'ecam') return ecamConfigAccess({ base: host.ecamBase, busStart: host.busStart, busEnd: host.busEnd }, machine);
  return noConfigAccess;
}

/** `platform` with its configuration accesses going through `access` instead (the ECAM path in tests). */
export function withConfigAccess(platform: HwPlatform, access: PciConfigAccess): HwPlatform {
  return {
    configRead: (b, d, f, o, w) => access.read(b, d, f, o, w),
    configWrite: (b, d, f, o, w, v) => access.write(b, d, f, o, w, v),
    mmioMap: (a, s) => platform.mmioMap(a, s),
    mmioRead: (a, w) => platform.mmioRead(a, w),
    mmioWrite: (a, w, v) => platform.mmioWrite(a, w, v),
    portRead: (p, w) => platform.portRead(p, w),
    portWrite: (p, w, v) => platform.portWrite(p, w, v),
    dmaAllocate: (s) => platform.dmaAllocate(s),
    dmaAddress: (b) => platform.dmaAddress(b),
    lapicId: () => platform.lapicId(),
  };
}

function nativePlatform(): HwPlatform {
  const n = native();
  const machine: Omit<HwPlatform, 'configRead' | 'configWrite'> = {
    mmioMap: (a, s) => n.mmioMap(a, s),
    mmioRead: (a, w) => (w === 4 ? n.mmioRead32(a) : w === 2 ? n.mmioRead16(a) : n.mmioRead8(a)),
    mmioWrite: (a, w, v) => (w === 4 ? n.mmioWrite32(a, v) : w === 2 ? n.mmioWrite16(a, v) : n.mmioWrite8(a, v)),
    portRead: (p, w) => (w === 4 ? n.in32(p) : w === 2 ? n.in16(p) : n.in8(p)),
    portWrite: (p, w, v) => (w === 4 ? n.out32(p, v) : w === 2 ? n.out16(p, v) : n.out8(p, v)),
    dmaAllocate: (s) => n.dmaAllocate(s),
    dmaAddress: (b) => n.dmaAddress(b),
    lapicId: () => n.lapicId(),
  };
  const access = configAccessFor(n.pciHost(), machine);
  return {
    ...machine,
    configRead: (b, d, f, o, w) => access.read(b, d, f, o, w),
    configWrite: (b, d, f, o, w, v) => access.write(b, d, f, o, w, v),
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
