import { PciCapability, type PciDevice, type RegisterWindow } from '@uos/hw';
import type { Virtqueue } from './virtqueue.js';
import { VirtioNetError } from './errors.js';

/** Device status bits (virtio 1.x §2.1). */
export const DeviceStatus = { acknowledge: 1, driver: 2, driverOk: 4, featuresOk: 8, needsReset: 64, failed: 128 } as const;
/** "No MSI-X vector" in the vector registers. */
export const NO_VECTOR = 0xffff;

/**
 * How the driver talks to a virtio PCI device: the modern interface (virtio 1.x capabilities over MMIO)
 * or the legacy one (an I/O BAR), behind the same calls.
 */
export interface VirtioTransport {
  readonly kind: 'modern' | 'legacy';
  reset(): void;
  status(): number;
  addStatus(bits: number): void;
  deviceFeatures(): bigint;
  setDriverFeatures(features: bigint): void;
  /** The device's (maximum) size for queue `index`; 0 when the queue does not exist. */
  queueSize(index: number): number;
  /** Whether the size can be lowered (modern) or must be the device's (legacy). */
  readonly queueSizeFixed: boolean;
  /** Tells the device where the queue is, with its MSI-X entry (NO_VECTOR for none); returns whether the vector took. */
  setupQueue(queue: Virtqueue, msixEntry: number): boolean;
  /** Sets the configuration-change MSI-X entry; returns whether it took. */
  setConfigVector(msixEntry: number): boolean;
  notify(index: number): void;
  /** Reads and clears the interrupt status (INTx): bit 0 queue, bit 1 configuration. */
  interruptStatus(): number;
  configRead8(offset: number): number;
  configRead16(offset: number): number;
}

interface VirtioCapability {
  type: number;
  bar: number;
  offset: number;
  length: number;
  capabilityOffset: number;
}

const CapabilityType = { common: 1, notify: 2, isr: 3, device: 4 } as const;

function vendorCapabilities(device: PciDevice): VirtioCapability[] {
  return device.capabilities
    .filter((c) => c.id === PciCapability.vendor)
    .map((c) => ({
      type: device.read8(c.offset + 3),
      bar: device.read8(c.offset + 4),
      offset: device.read32(c.offset + 8),
      length: device.read32(c.offset + 12),
      capabilityOffset: c.offset,
    }));
}

/** A window onto part of a BAR. */
function subWindow(window: RegisterWindow, offset: number): RegisterWindow {
  return {
    kind: window.kind,
    base: window.base + offset,
    size: window.size - offset,
    read8: (o) => window.read8(offset + o),
    read16: (o) => window.read16(offset + o),
    read32: (o) => window.read32(offset + o),
    write8: (o, v) => window.write8(offset + o, v),
    write16: (o, v) => window.write16(offset + o, v),
    write32: (o, v) => window.write32(offset + o, v),
  };
}

/** virtio_pci_common_cfg */
const Common = {
  deviceFeatureSelect: 0x00,
  deviceFeature: 0x04,
  driverFeatureSelect: 0x08,
  driverFeature: 0x0c,
  msixConfig: 0x10,
  numQueues: 0x12,
  deviceStatus: 0x14,
  configGeneration: 0x15,
  queueSelect: 0x16,
  queueSize: 0x18,
  queueMsixVector: 0x1a,
  queueEnable: 0x1c,
  queueNotifyOff: 0x1e,
  queueDesc: 0x20,
  queueDriver: 0x28,
  queueDevice: 0x30,
} as const;

class ModernTransport implements VirtioTransport {
  readonly kind = 'modern' as const;
  readonly queueSizeFixed = false;
  private readonly notifyOffsets = new Map<number, number>();

  constructor(
    private readonly common: RegisterWindow,
    private readonly notifyWindow: RegisterWindow,
    private readonly notifyMultiplier: number,
    private readonly isr: RegisterWindow,
    private readonly deviceConfig: RegisterWindow,
  ) {}

  reset(): void {
    this.common.write8(Common.deviceStatus, 0);
    // The device has reset when the status reads 0 again.
    for (let i = 0; i < 1_000_000 && this.common.read8(Common.deviceStatus) !== 0; i++);
  }

  status(): number {
    return this.common.read8(Common.deviceStatus);
  }
  addStatus(bits: number): void {
    this.common.write8(Common.deviceStatus, this.status() | bits);
  }

  deviceFeatures(): bigint {
    this.common.write32(Common.deviceFeatureSelect, 0);
    const low = this.common.read32(Common.deviceFeature);
    this.common.write32(Common.deviceFeatureSelect, 1);
    const high = this.common.read32(Common.deviceFeature);
    return (BigInt(high) << 32n) | BigInt(low);
  }

  setDriverFeatures(features: bigint): void {
    this.common.write32(Common.driverFeatureSelect, 0);
    this.common.write32(Common.driverFeature, Number(features & 0xffffffffn));
    this.common.write32(Common.driverFeatureSelect, 1);
    this.common.write32(Common.driverFeature, Number(features >> 32n));
  }

  queueSize(index: number): number {
    if (index >= this.common.read16(Common.numQueues)) return 0;
    this.common.write16(Common.queueSelect, index);
    return this.common.read16(Common.queueSize);
  }

  setupQueue(queue: Virtqueue, msixEntry: number): boolean {
    const c = this.common;
    c.write16(Common.queueSelect, queue.index);
    c.write16(Common.queueSize, queue.size);
    const write64 = (offset: number, value: number) => {
      c.write32(offset, value % 2 ** 32);
      c.write32(offset + 4, Math.floor(value / 2 ** 32));
    };
    write64(Common.queueDesc, queue.descriptorAddress);
    write64(Common.queueDriver, queue.availableAddress);
    write64(Common.queueDevice, queue.usedAddress);
    c.write16(Common.queueMsixVector, msixEntry);
    const took = c.read16(Common.queueMsixVector) === msixEntry;
    this.notifyOffsets.set(queue.index, c.read16(Common.queueNotifyOff) * this.notifyMultiplier);
    c.write16(Common.queueEnable, 1);
    return took;
  }

  setConfigVector(msixEntry: number): boolean {
    this.common.write16(Common.msixConfig, msixEntry);
    return this.common.read16(Common.msixConfig) === msixEntry;
  }

  notify(index: number): void {
    this.notifyWindow.write16(this.notifyOffsets.get(index) ?? 0, index);
  }

  interruptStatus(): number {
    return this.isr.read8(0);
  }
  configRead8(offset: number): number {
    return this.deviceConfig.read8(offset);
  }
  configRead16(offset: number): number {
    return this.deviceConfig.read16(offset);
  }
}

/** The legacy I/O BAR (virtio 0.9.5 / 1.x §4.1.4.8). */
const Legacy = {
  deviceFeatures: 0x00,
  driverFeatures: 0x04,
  queueAddress: 0x08,
  queueSize: 0x0c,
  queueSelect: 0x0e,
  queueNotify: 0x10,
  deviceStatus: 0x12,
  isr: 0x13,
  configVector: 0x14,
  queueVector: 0x16,
} as const;

class LegacyTransport implements VirtioTransport {
  readonly kind = 'legacy' as const;
  readonly queueSizeFixed = true;
  /** Device configuration starts after the MSI-X vector registers once MSI-X is on. */
  msixEnabled = false;

  constructor(private readonly io: RegisterWindow) {}

  reset(): void {
    this.io.write8(Legacy.deviceStatus, 0);
  }
  status(): number {
    return this.io.read8(Legacy.deviceStatus);
  }
  addStatus(bits: number): void {
    this.io.write8(Legacy.deviceStatus, this.status() | bits);
  }
  deviceFeatures(): bigint {
    return BigInt(this.io.read32(Legacy.deviceFeatures));
  }
  setDriverFeatures(features: bigint): void {
    this.io.write32(Legacy.driverFeatures, Number(features & 0xffffffffn));
  }

  queueSize(index: number): number {
    this.io.write16(Legacy.queueSelect, index);
    return this.io.read16(Legacy.queueSize);
  }

  setupQueue(queue: Virtqueue, msixEntry: number): boolean {
    this.io.write16(Legacy.queueSelect, queue.index);
    let took = true;
    if (this.msixEnabled) {
      this.io.write16(Legacy.queueVector, msixEntry);
      took = this.io.read16(Legacy.queueVector) === msixEntry;
    }
    this.io.write32(Legacy.queueAddress, queue.pageFrame);
    return took;
  }

  setConfigVector(msixEntry: number): boolean {
    if (!this.msixEnabled) return msixEntry === NO_VECTOR;
    this.io.write16(Legacy.configVector, msixEntry);
    return this.io.read16(Legacy.configVector) === msixEntry;
  }

  notify(index: number): void {
    this.io.write16(Legacy.queueNotify, index);
  }
  interruptStatus(): number {
    return this.io.read8(Legacy.isr);
  }
  private get configBase(): number {
    return this.msixEnabled ? 0x18 : 0x14;
  }
  configRead8(offset: number): number {
    return this.io.read8(this.configBase + offset);
  }
  configRead16(offset: number): number {
    return this.io.read16(this.configBase + offset);
  }
}

/** The modern interface when the device offers its capabilities, else the legacy I/O BAR. */
export function openTransport(device: PciDevice, options: { preferLegacy?: boolean } = {}): VirtioTransport & { msixEnabled?: boolean } {
  const capabilities = vendorCapabilities(device);
  const find = (type: number) => capabilities.find((c) => c.type === type);
  const common = find(CapabilityType.common);
  const notify = find(CapabilityType.notify);
  const isr = find(CapabilityType.isr);
  const config = find(CapabilityType.device);
  if (common && notify && isr && config && !options.preferLegacy) {
    const windows = new Map<number, RegisterWindow>();
    const windowFor = (c: VirtioCapability) => {
      let w = windows.get(c.bar);
      if (!w) windows.set(c.bar, (w = device.barWindow(c.bar)));
      return subWindow(w, c.offset);
    };
    const multiplier = device.read32(notify.capabilityOffset + 16);
    return new ModernTransport(windowFor(common), windowFor(notify), multiplier, windowFor(isr), windowFor(config));
  }
  const bar0 = device.bars[0];
  if (bar0?.kind !== 'io') {
    throw new VirtioNetError('virtio-no-transport', `${device} offers neither virtio 1.x capabilities nor a legacy I/O BAR`);
  }
  return new LegacyTransport(device.barWindow(0));
}
