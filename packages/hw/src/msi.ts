import { irq } from '@uos/kernel';
import { type PciDevice, PciCapability } from './pci.js';
import { hwPlatform } from './platform.js';

const CONTROL = 2;
const ADDRESS = 4;
const ENABLE = 1 << 0;
const MULTIPLE_MESSAGE_ENABLE = 7 << 4;
const ADDRESS_64 = 1 << 7;

/**
 * A device's MSI capability, used for one message: the device writes `vector` to this CPU's local APIC
 * (address 0xFEE00000 | LAPIC ID << 12). For devices without MSI-X, or drivers that want one vector.
 * `MsiCapability.open` returns undefined for a device without MSI.
 */
export class MsiCapability {
  private constructor(
    private readonly device: PciDevice,
    private readonly offset: number,
    /** Whether the message address has a high half. */
    readonly is64: boolean,
  ) {}

  static open(device: PciDevice): MsiCapability | undefined {
    const capability = device.findCapability(PciCapability.msi);
    if (!capability) return undefined;
    return new MsiCapability(device, capability.offset, Boolean(device.read16(capability.offset + CONTROL) & ADDRESS_64));
  }

  /** Points the (single) message at `vector` on this CPU's local APIC; MSI stays as enabled as it was. */
  route(vector: number): void {
    const at = this.offset;
    this.device.write32(at + ADDRESS, (0xfee00000 | (hwPlatform().lapicId() << 12)) >>> 0);
    if (this.is64) this.device.write32(at + ADDRESS + 4, 0);
    this.device.write16(at + (this.is64 ? 12 : 8), vector);
  }

  /** Turns MSI on with one message (INTx is then not used). */
  enable(): void {
    const control = this.device.read16(this.offset + CONTROL);
    this.device.write16(this.offset + CONTROL, (control & ~MULTIPLE_MESSAGE_ENABLE) | ENABLE);
  }

  disable(): void {
    this.device.write16(this.offset + CONTROL, this.device.read16(this.offset + CONTROL) & ~ENABLE);
  }

  get enabled(): boolean {
    return Boolean(this.device.read16(this.offset + CONTROL) & ENABLE);
  }

  /** Allocates a vector, routes the message to it and enables MSI; returns the vector. */
  enableVector(): number {
    const vector = irq.allocate(1);
    this.route(vector);
    this.enable();
    return vector;
  }
}
