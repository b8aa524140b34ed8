import { hwPlatform } from './platform.js';
import { type RegisterWindow, ioWindow, mmioWindow } from './registers.js';
import { HwError } from './errors.js';

/** Configuration-space offsets (type 0 header) and bits. */
export const PciConfig = {
  vendorId: 0x00,
  deviceId: 0x02,
  command: 0x04,
  status: 0x06,
  revision: 0x08,
  progIf: 0x09,
  subclass: 0x0a,
  classCode: 0x0b,
  headerType: 0x0e,
  bar0: 0x10,
  subsystemVendorId: 0x2c,
  subsystemId: 0x2e,
  capabilitiesPointer: 0x34,
  interruptLine: 0x3c,
  interruptPin: 0x3d,
} as const;
export const PciCommand = { io: 1 << 0, memory: 1 << 1, busMaster: 1 << 2, interruptDisable: 1 << 10 } as const;
const STATUS_CAPABILITIES = 1 << 4;

/** Capability IDs. */
export const PciCapability = { msi: 0x05, vendor: 0x09, pciExpress: 0x10, msix: 0x11 } as const;

export interface PciBar {
  index: number;
  kind: 'io' | 'mmio32' | 'mmio64';
  address: number;
  size: number;
  prefetchable: boolean;
}

export interface PciCapabilityEntry {
  id: number;
  offset: number;
}

/** Where a function sits on the bus. */
export interface PciLocation {
  bus: number;
  device: number;
  function: number;
}

const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, '0');

/**
 * One PCI function: typed configuration-space access, BARs (sized by probing), the capability list,
 * the command register and the legacy interrupt line.
 */
export class PciDevice implements PciLocation {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly classCode: number;
  readonly subclass: number;
  readonly progIf: number;
  readonly revision: number;
  readonly headerType: number;
  private barCache: (PciBar | undefined)[] | undefined;
  readonly bus: number;
  readonly device: number;
  readonly function: number;

  constructor(bus: number, device: number, fn: number) {
    this.bus = bus;
    this.device = device;
    this.function = fn;
    this.vendorId = this.read16(PciConfig.vendorId);
    this.deviceId = this.read16(PciConfig.deviceId);
    this.revision = this.read8(PciConfig.revision);
    this.progIf = this.read8(PciConfig.progIf);
    this.subclass = this.read8(PciConfig.subclass);
    this.classCode = this.read8(PciConfig.classCode);
    this.headerType = this.read8(PciConfig.headerType) & 0x7f;
  }

  /** "00:03.0" */
  get address(): string {
    return `${hex(this.bus, 2)}:${hex(this.device, 2)}.${this.function}`;
  }

  toString(): string {
    return `${this.address} ${hex(this.vendorId, 4)}:${hex(this.deviceId, 4)}`;
  }

  read8(offset: number): number {
    return hwPlatform().configRead(this.bus, this.device, this.function, offset, 1);
  }
  read16(offset: number): number {
    return hwPlatform().configRead(this.bus, this.device, this.function, offset, 2);
  }
  read32(offset: number): number {
    return hwPlatform().configRead(this.bus, this.device, this.function, offset, 4);
  }
  write8(offset: number, value: number): void {
    hwPlatform().configWrite(this.bus, this.device, this.function, offset, 1, value);
  }
  write16(offset: number, value: number): void {
    hwPlatform().configWrite(this.bus, this.device, this.function, offset, 2, value);
  }
  write32(offset: number, value: number): void {
    hwPlatform().configWrite(this.bus, this.device, this.function, offset, 4, value);
  }

  get subsystemVendorId(): number {
    return this.headerType === 0 ? this.read16(PciConfig.subsystemVendorId) : 0;
  }
  get subsystemId(): number {
    return this.headerType === 0 ? this.read16(PciConfig.subsystemId) : 0;
  }
  /** The legacy interrupt line the firmware assigned (an ISA/GSI number), and the pin (1 = INTA, 0 = none). */
  get interruptLine(): number {
    return this.read8(PciConfig.interruptLine);
  }
  get interruptPin(): number {
    return this.read8(PciConfig.interruptPin);
  }

  /** Sets and clears bits of the command register. */
  setCommand(set: number, clear = 0): void {
    this.write16(PciConfig.command, (this.read16(PciConfig.command) | set) & ~clear & 0xffff);
  }

  /** Lets the device decode its memory and I/O BARs and master the bus (DMA). */
  enable(options: { memory?: boolean; io?: boolean; busMaster?: boolean } = { memory: true, io: true, busMaster: true }): void {
    this.setCommand(
      (options.memory ? PciCommand.memory : 0) | (options.io ? PciCommand.io : 0) | (options.busMaster ? PciCommand.busMaster : 0),
    );
  }

  /** The six BARs of a type 0 header (two of a bridge), sized by writing all ones and reading back. */
  get bars(): readonly (PciBar | undefined)[] {
    if (this.barCache) return this.barCache;
    const count = this.headerType === 0 ? 6 : this.headerType === 1 ? 2 : 0;
    const bars: (PciBar | undefined)[] = [];
    const command = this.read16(PciConfig.command);
    // Decoding off while the BARs hold all ones, so nothing answers at a bogus address.
    this.write16(PciConfig.command, command & ~(PciCommand.io | PciCommand.memory));
    for (let index = 0; index < count; index++) {
      const offset = PciConfig.bar0 + index * 4;
      const original = this.read32(offset);
      this.write32(offset, 0xffffffff);
      const probed = this.read32(offset);
      this.write32(offset, original);
      if (original & 1) {
        const mask = probed & 0xfffffffc & 0xffff;
        bars[index] = mask
          ? { index, kind: 'io', address: original & 0xfffc, size: ((~mask & 0xffff) + 1) & 0xffff, prefetchable: false }
          : undefined;
        continue;
      }
      const type = (original >> 1) & 3;
      const prefetchable = Boolean(original & 8);
      if (type === 2 && index + 1 < count) {
        const highOffset = offset + 4;
        const highOriginal = this.read32(highOffset);
        this.write32(highOffset, 0xffffffff);
        const highProbed = this.read32(highOffset);
        this.write32(highOffset, highOriginal);
        const low = (probed & 0xfffffff0) >>> 0;
        const size = Number((~((BigInt(highProbed) << 32n) | BigInt(low)) & 0xffffffffffffffffn) + 1n);
        const address = highOriginal * 2 ** 32 + ((original & 0xfffffff0) >>> 0);
        bars[index] = low || highProbed ? { index, kind: 'mmio64', address, size, prefetchable } : undefined;
        bars[index + 1] = undefined;
        index++;
        continue;
      }
      const mask = (probed & 0xfffffff0) >>> 0;
      bars[index] = mask
        ? { index, kind: 'mmio32', address: (original & 0xfffffff0) >>> 0, size: (~mask >>> 0) + 1, prefetchable }
        : undefined;
    }
    this.write16(PciConfig.command, command);
    this.barCache = bars;
    return bars;
  }

  /** The registers behind BAR `index` (mapped uncached for memory BARs). */
  barWindow(index: number): RegisterWindow {
    const bar = this.bars[index];
    if (!bar) throw new HwError('pci-bar-missing', `${this} has no BAR ${index}`);
    return bar.kind === 'io' ? ioWindow(bar.address, bar.size) : mmioWindow(bar.address, bar.size);
  }

  /** The capability list, in order. */
  get capabilities(): PciCapabilityEntry[] {
    const list: PciCapabilityEntry[] = [];
    if (!(this.read16(PciConfig.status) & STATUS_CAPABILITIES)) return list;
    let offset = this.read8(PciConfig.capabilitiesPointer) & 0xfc;
    const seen = new Set<number>();
    while (offset >= 0x40 && !seen.has(offset) && list.length < 48) {
      seen.add(offset);
      list.push({ id: this.read8(offset), offset });
      offset = this.read8(offset + 1) & 0xfc;
    }
    return list;
  }

  findCapability(id: number): PciCapabilityEntry | undefined {
    return this.capabilities.find((c) => c.id === id);
  }
}
