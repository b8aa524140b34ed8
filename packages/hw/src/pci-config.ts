import { HwError } from './errors.js';

export type ConfigWidth = 1 | 2 | 4;

/**
 * How PCI configuration space is reached. Two implementations: the legacy configuration ports
 * (`portConfigAccess`, pc and q35) and ECAM, PCIe's memory-mapped configuration space
 * (`ecamConfigAccess`, microvm with pcie=on, or any machine with an ACPI MCFG table). The platform picks
 * one at boot; `PciDevice` never knows which.
 *
 * A function that is not there reads as all ones and ignores writes, whatever the mechanism.
 */
export interface PciConfigAccess {
  readonly mechanism: 'ports' | 'ecam' | 'none';
  /** Bytes of configuration space per function: 256 through the ports, 4096 through ECAM. */
  readonly size: number;
  read(bus: number, device: number, fn: number, offset: number, width: ConfigWidth): number;
  write(bus: number, device: number, fn: number, offset: number, width: ConfigWidth, value: number): void;
}

/** The I/O ports the legacy mechanism needs. */
export interface PortBus {
  portRead(port: number, width: ConfigWidth): number;
  portWrite(port: number, width: ConfigWidth, value: number): void;
}

/** The memory access ECAM needs. */
export interface MmioBus {
  mmioMap(address: number, size: number): void;
  mmioRead(address: number, width: ConfigWidth): number;
  mmioWrite(address: number, width: ConfigWidth, value: number): void;
}

/** An ECAM region: where bus `busStart`'s configuration space starts, and the buses it covers. */
export interface EcamRegion {
  base: number;
  busStart: number;
  busEnd: number;
}

const CONFIG_ADDRESS = 0xcf8;
const CONFIG_DATA = 0xcfc;
const ECAM_FUNCTION_SIZE = 4096;

const allOnes = (width: ConfigWidth): number => (width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff);

function check(bus: number, device: number, fn: number, offset: number, width: number, size: number): void {
  const ok =
    Number.isInteger(bus) &&
    bus >= 0 &&
    bus <= 255 &&
    Number.isInteger(device) &&
    device >= 0 &&
    device <= 31 &&
    Number.isInteger(fn) &&
    fn >= 0 &&
    fn <= 7 &&
    (width === 1 || width === 2 || width === 4) &&
    Number.isInteger(offset) &&
    offset >= 0 &&
    offset + width <= size &&
    offset % width === 0;
  if (!ok) {
    throw new HwError(
      'pci-config-invalid',
      `bad PCI configuration access ${bus}:${device}.${fn} offset ${offset} width ${width} (${size} bytes per function)`,
    );
  }
}

/** Configuration mechanism #1: the function's address in 0xCF8, then its data through 0xCFC..0xCFF. */
export function portConfigAccess(ports: PortBus): PciConfigAccess {
  const select = (bus: number, device: number, fn: number, offset: number): void =>
    ports.portWrite(CONFIG_ADDRESS, 4, (0x80000000 | (bus << 16) | (device << 11) | (fn << 8) | (offset & 0xfc)) >>> 0);
  return {
    mechanism: 'ports',
    size: 256,
    read(bus, device, fn, offset, width) {
      check(bus, device, fn, offset, width, 256);
      select(bus, device, fn, offset);
      return ports.portRead(CONFIG_DATA + (offset & 3), width) >>> 0;
    },
    write(bus, device, fn, offset, width, value) {
      check(bus, device, fn, offset, width, 256);
      select(bus, device, fn, offset);
      ports.portWrite(CONFIG_DATA + (offset & 3), width, value >>> 0);
    },
  };
}

/**
 * ECAM: function (bus, device, fn) owns the 4 KiB at base + (bus - busStart) << 20 | device << 15 |
 * fn << 12. Each function's page is mapped (uncached) the first time it is touched, so the 256 MiB a
 * region may span never needs page tables all at once. Buses outside the region read as all ones.
 */
export function ecamConfigAccess(region: EcamRegion, memory: MmioBus): PciConfigAccess {
  const { base, busStart, busEnd } = region;
  if (!Number.isSafeInteger(base) || base % (1 << 20) || !(busStart >= 0 && busStart <= busEnd && busEnd <= 255)) {
    throw new HwError('pci-config-invalid', `bad ECAM region at 0x${base.toString(16)} for buses ${busStart}..${busEnd}`);
  }
  const mapped = new Set<number>();
  const functionBase = (bus: number, device: number, fn: number): number | undefined => {
    if (bus < busStart || bus > busEnd) return undefined;
    const address = base + (bus - busStart) * 2 ** 20 + device * 2 ** 15 + fn * ECAM_FUNCTION_SIZE;
    if (!mapped.has(address)) {
      memory.mmioMap(address, ECAM_FUNCTION_SIZE);
      mapped.add(address);
    }
    return address;
  };
  return {
    mechanism: 'ecam',
    size: ECAM_FUNCTION_SIZE,
    read(bus, device, fn, offset, width) {
      check(bus, device, fn, offset, width, ECAM_FUNCTION_SIZE);
      const at = functionBase(bus, device, fn);
      return at === undefined ? allOnes(width) >>> 0 : memory.mmioRead(at + offset, width) >>> 0;
    },
    write(bus, device, fn, offset, width, value) {
      check(bus, device, fn, offset, width, ECAM_FUNCTION_SIZE);
      const at = functionBase(bus, device, fn);
      if (at !== undefined) memory.mmioWrite(at + offset, width, value >>> 0);
    },
  };
}

/** A machine without PCI: every function is absent. */
export const noConfigAccess: PciConfigAccess = {
  mechanism: 'none',
  size: 256,
  read: (bus, device, fn, offset, width) => {
    check(bus, device, fn, offset, width, 256);
    return allOnes(width) >>> 0;
  },
  write: (bus, device, fn, offset, width) => check(bus, device, fn, offset, width, 256),
};
