import { irq } from '@uos/kernel';
import { type PciDevice, PciCapability } from './pci.js';
import { hwPlatform } from './platform.js';
import type { RegisterWindow } from './registers.js';
import { HwError } from './errors.js';

const CONTROL = 2;
const TABLE = 4;
const ENABLE = 1 << 15;
const FUNCTION_MASK = 1 << 14;
const ENTRY = 16;
const VECTOR_MASKED = 1;

/**
 * A device's MSI-X table: entries point at vectors from the kernel's interrupt layer; entries and the
 * whole function can be masked. `MsixTable.open` returns undefined for a device without MSI-X.
 */
export class MsixTable {
  private constructor(
    private readonly device: PciDevice,
    private readonly capability: number,
    private readonly table: RegisterWindow,
    private readonly tableOffset: number,
    readonly size: number,
  ) {}

  static open(device: PciDevice): MsixTable | undefined {
    const capability = device.findCapability(PciCapability.msix);
    if (!capability) return undefined;
    const control = device.read16(capability.offset + CONTROL);
    const placement = device.read32(capability.offset + TABLE);
    const size = (control & 0x7ff) + 1;
    const bar = placement & 7;
    const offset = (placement & ~7) >>> 0;
    if (!device.bars[bar])
      throw new HwError('msix-table-invalid', `${device}: the MSI-X table is in BAR ${bar}, which the device does not have`);
    const window = device.barWindow(bar);
    if (window.kind !== 'mmio' || offset + size * ENTRY > window.size) {
      throw new HwError(
        'msix-table-invalid',
        `${device}: the MSI-X table (BAR ${bar} + 0x${offset.toString(16)}, ${size} entries) lies outside its BAR`,
      );
    }
    return new MsixTable(device, capability.offset, window, offset, size);
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new HwError('msix-entry-invalid', `MSI-X entry ${index} is not one of the ${this.size} in ${this.device}'s table`);
    }
  }

  /** Points entry `index` at `vector` (unmasked) on this CPU's local APIC. */
  route(index: number, vector: number): void {
    this.check(index);
    const at = this.tableOffset + index * ENTRY;
    this.table.write32(at + 12, VECTOR_MASKED);
    this.table.write32(at, (0xfee00000 | (hwPlatform().lapicId() << 12)) >>> 0);
    this.table.write32(at + 4, 0);
    this.table.write32(at + 8, vector);
    this.table.write32(at + 12, 0);
  }

  mask(index: number): void {
    this.check(index);
    this.table.write32(this.tableOffset + index * ENTRY + 12, VECTOR_MASKED);
  }

  unmask(index: number): void {
    this.check(index);
    this.table.write32(this.tableOffset + index * ENTRY + 12, 0);
  }

  /** Turns MSI-X on for the function (INTx off), with the function mask cleared. */
  enable(): void {
    const control = this.device.read16(this.capability + CONTROL);
    this.device.write16(this.capability + CONTROL, (control | ENABLE) & ~FUNCTION_MASK);
  }

  disable(): void {
    this.device.write16(this.capability + CONTROL, this.device.read16(this.capability + CONTROL) & ~ENABLE);
  }

  /** Allocates `count` vectors, routes entries 0..count-1 to them and enables MSI-X; returns the vectors. */
  enableVectors(count: number): number[] {
    if (!Number.isInteger(count) || count < 1 || count > this.size)
      throw new HwError('msix-entry-invalid', `${this.device} has ${this.size} MSI-X entries, not ${count}`);
    const first = irq.allocate(count);
    const vectors = Array.from({ length: count }, (_, i) => first + i);
    vectors.forEach((vector, i) => this.route(i, vector));
    this.enable();
    return vectors;
  }
}

/** Routes the device's legacy INTx line through the I/O APIC (level-triggered, as QEMU's ACPI describes it). */
export function routeIntx(device: PciDevice): number {
  if (!device.interruptPin) throw new HwError('pci-no-interrupt', `${device} has no legacy interrupt pin`);
  const line = device.interruptLine;
  if (line === 0xff || line === 0) throw new HwError('pci-no-interrupt', `${device}: the firmware assigned no interrupt line`);
  return irq.routeGsi(line, { level: true, activeLow: false });
}
