/**
 * A scriptable virtio-net device for the driver's unit tests, on @uos/hw/test's fake machine. It lays
 * out the function as QEMU's virtio-net-pci does (the legacy I/O BAR 0, the MSI-X table in BAR 1, the
 * modern capabilities in BAR 4) and implements the device side of both transports and of split
 * virtqueues: frames the driver transmits land in `sent`; `deliver(frame)` puts a frame in the next
 * receive buffer. Tests script it: hold transmit completions to fill the ring, refuse features or MSI-X
 * vectors, return bogus used entries, take a while to reset, drop the link.
 */
import type { FakeMachine } from '@uos/hw/test';
import { FakeDeviceInterrupts, type FakePciFunction } from '@uos/hw/test';

const NO_VECTOR = 0xffff;
const Status = { driverOk: 4, featuresOk: 8, failed: 128 } as const;
/**
 * Feature bits as the device model knows them, written from the virtio spec (§5.1.3) rather than imported
 * from the driver's `VirtioNetFeature`: a wrong bit number in the driver then fails the tests.
 */
export const Feature = {
  csum: 0n,
  guestCsum: 1n,
  mac: 5n,
  guestTso4: 7n,
  guestTso6: 8n,
  hostTso4: 11n,
  hostTso6: 12n,
  mergeableRxBuffers: 15n,
  status: 16n,
  eventIndex: 29n,
  version1: 32n,
} as const;
/** What QEMU's virtio-net offers over a tap with a virtio-net header: every offload and event indices. */
export const OFFLOAD_FEATURES =
  (1n << Feature.csum) |
  (1n << Feature.guestCsum) |
  (1n << Feature.guestTso4) |
  (1n << Feature.guestTso6) |
  (1n << Feature.hostTso4) |
  (1n << Feature.hostTso6) |
  (1n << Feature.eventIndex);

/** The offload fields of a virtio_net_hdr (`deliver` writes them, `sentHeaders` hold them). */
export interface NetHeader {
  flags?: number;
  gsoType?: number;
  headerLength?: number;
  gsoSize?: number;
  checksumStart?: number;
  checksumOffset?: number;
}
const bit = (n: bigint): bigint => 1n << n;
const DESCRIPTOR_NEXT = 1;
const AVAIL_NO_INTERRUPT = 1;

export const IO_BASE = 0xc000;
export const MSIX_BASE = 0xfebf1000;
export const MODERN_BASE = 0xfe000000;
const COMMON = 0x0;
const ISR = 0x1000;
const DEVICE = 0x2000;
const NOTIFY = 0x3000;
const NOTIFY_MULTIPLIER = 4;

export interface VirtioNetModelOptions {
  /** Leave out the modern capabilities (a legacy-only device). */
  legacyOnly?: boolean;
  /** Features offered; default VERSION_1, MAC, STATUS, MRG_RXBUF. */
  features?: bigint;
  /** Entries per queue (default 256). */
  queueSize?: number;
  /** MSI-X table entries (0: no MSI-X capability). Default 3. */
  msixEntries?: number;
  mac?: readonly number[];
  slot?: number;
}

interface Queue {
  size: number;
  enabled: boolean;
  descriptors: number;
  available: number;
  used: number;
  vector: number;
  lastAvailable: number;
  usedIndex: number;
}

export class VirtioNetModel {
  readonly fn: FakePciFunction;
  readonly signals: FakeDeviceInterrupts;
  /** Frames the driver transmitted (header stripped), in order. */
  readonly sent: Uint8Array[] = [];
  /** Virtio headers of the transmitted frames. */
  readonly sentHeaders: Uint8Array[] = [];
  /** Every value the driver wrote to the status register, in order. */
  readonly statusWrites: number[] = [];
  /** Notifications per queue. */
  readonly notifications = [0, 0];
  /** Interrupts the device raised per queue. */
  readonly interruptsRaised = [0, 0];
  /** Script: keep transmitted chains instead of returning them (a slow device); `completeTransmits` returns them. */
  holdTransmits = false;
  /** Script: FEATURES_OK does not stick (the device refuses the driver's features). */
  refuseFeatures = false;
  /** Script: MSI-X vectors read back as NO_VECTOR (a device out of vectors): for the queues, or for all. */
  refuseVectors: 'none' | 'queues' | 'all' = 'none';
  /** Script: reads of the status register after a reset that still see the old value. */
  resetReads = 0;
  status = 0;
  link = true;
  features: bigint;
  driverFeatures = 0n;
  readonly mac: Uint8Array;
  private readonly queues: Queue[];
  private selected = 0;
  private featureSelect = 0;
  private driverFeatureSelect = 0;
  private configVector = NO_VECTOR;
  private isr = 0;
  private staleReads = 0;
  private heldTransmits: number[] = [];

  constructor(
    private readonly machine: FakeMachine,
    options: VirtioNetModelOptions = {},
  ) {
    const queueSize = options.queueSize ?? 256;
    this.features = options.features ?? bit(Feature.version1) | bit(Feature.mac) | bit(Feature.status) | bit(Feature.mergeableRxBuffers);
    this.mac = Uint8Array.from(options.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    this.queues = [0, 1].map(() => ({
      size: queueSize,
      enabled: false,
      descriptors: 0,
      available: 0,
      used: 0,
      vector: NO_VECTOR,
      lastAvailable: 0,
      usedIndex: 0,
    }));
    const f = machine.platform
      .addFunction(
        { device: options.slot ?? 3 },
        { vendorId: 0x1af4, deviceId: 0x1000, classCode: 2, subsystemId: 1, interruptLine: 11, interruptPin: 1 },
      )
      .setBar(0, { kind: 'io', address: IO_BASE, size: 0x40 });
    const msixEntries = options.msixEntries ?? 3;
    if (msixEntries) {
      f.setBar(1, { kind: 'mmio32', address: MSIX_BASE, size: 0x1000 });
      f.addMsixCapability({ tableSize: msixEntries, tableBar: 1, tableOffset: 0, pendingBitArrayOffset: 0x800 });
    }
    if (!options.legacyOnly) {
      f.setBar(4, { kind: 'mmio64', address: MODERN_BASE, size: 0x4000, prefetchable: true });
      const capability = (type: number, offset: number, length: number, extra: number[] = []) =>
        f.addVendorCapability([type, 4, 0, 0, 0, ...le32(offset), ...le32(length), ...extra]);
      capability(1, COMMON, 0x1000);
      capability(3, ISR, 0x1000);
      capability(4, DEVICE, 0x1000);
      capability(2, NOTIFY, 0x1000, le32(NOTIFY_MULTIPLIER));
      machine.platform.attachMmio(MODERN_BASE + COMMON, 0x40, {
        read: (o) => this.commonRead(o),
        write: (o, _w, v) => this.commonWrite(o, v),
      });
      machine.platform.attachMmio(MODERN_BASE + ISR, 4, { read: () => this.takeIsr(), write: () => {} });
      machine.platform.attachMmio(MODERN_BASE + DEVICE, 0x10, { read: (o, w) => this.configRead(o, w), write: () => {} });
      machine.platform.attachMmio(MODERN_BASE + NOTIFY, 0x10, { read: () => 0, write: (o) => this.notify(o / NOTIFY_MULTIPLIER) });
    }
    machine.platform.attachPorts(IO_BASE, 0x40, { read: (o, w) => this.legacyRead(o, w), write: (o, w, v) => this.legacyWrite(o, w, v) });
    this.fn = f;
    this.signals = new FakeDeviceInterrupts(machine.platform, machine.interrupts, f);
  }

  /** Receive buffers the driver has offered and the device has not used yet. */
  get receiveBuffersAvailable(): number {
    const q = this.queues[0]!;
    return q.enabled ? (this.availableIndex(q) - q.lastAvailable) & 0xffff : 0;
  }

  /** Transmitted chains the device holds (with `holdTransmits`). */
  get heldCount(): number {
    return this.heldTransmits.length;
  }

  /**
   * Puts `frame` behind a virtio_net_hdr with `header`'s fields in the next receive buffer, or in as many
   * as it needs when mergeable buffers were negotiated (each filled completely before the next, as QEMU
   * does), and interrupts; false when the driver offered too few buffers.
   */
  deliver(frame: Uint8Array, header: NetHeader = {}): boolean {
    const q = this.queues[0]!;
    if (!this.ready || !q.enabled || this.receiveBuffersAvailable === 0) return false;
    const size = this.headerSize;
    const packet = new Uint8Array(size + frame.length);
    packet.set(
      [
        header.flags ?? 0,
        header.gsoType ?? 0,
        ...le16(header.headerLength ?? 0),
        ...le16(header.gsoSize ?? 0),
        ...le16(header.checksumStart ?? 0),
        ...le16(header.checksumOffset ?? 0),
      ],
      0,
    );
    packet.set(frame, size);
    const mergeable = (this.driverFeatures & bit(Feature.mergeableRxBuffers)) !== 0n;
    // Check there is room before taking any buffer.
    let room = 0;
    for (let i = 0, at = q.lastAvailable; i < this.receiveBuffersAvailable && room < packet.length; i++, at = (at + 1) & 0xffff) {
      room += this.descriptor(q, this.view(q.available + 4 + 2 * (at % q.size), 2).getUint16(0, true)).length;
      if (!mergeable) break;
    }
    if (room < packet.length) {
      if (!mergeable) throw new Error(`virtio-net model: a ${frame.length}-byte frame does not fit one buffer`);
      return false;
    }
    const old = q.usedIndex;
    const used: [number, number][] = [];
    for (let at = 0; at < packet.length; ) {
      const head = this.takeAvailable(q);
      const { address, length } = this.descriptor(q, head);
      const part = Math.min(length, packet.length - at);
      this.machine.platform.dma(address, part).set(packet.subarray(at, at + part));
      used.push([head, part]);
      at += part;
    }
    if (size === 12) {
      const first = this.descriptor(q, used[0]![0]);
      this.machine.platform.dma(first.address + 10, 2).set(le16(used.length)); // num_buffers
    }
    for (const [head, length] of used) this.pushUsed(q, head, length);
    this.interruptQueue(q, old);
    return true;
  }

  /** Script: returns a used entry the device made up (a bogus id or length) on queue `index`. */
  pushBogusUsed(index: number, id: number, length: number): void {
    const q = this.queues[index]!;
    const old = q.usedIndex;
    this.pushUsed(q, id, length);
    this.interruptQueue(q, old);
  }

  /** Returns `count` held transmit chains (all by default) and interrupts. */
  completeTransmits(count = this.heldTransmits.length): void {
    const q = this.queues[1]!;
    const old = q.usedIndex;
    for (const head of this.heldTransmits.splice(0, count)) this.pushUsed(q, head, 0);
    this.interruptQueue(q, old);
  }

  /** Changes the link state and signals a configuration change. */
  setLink(up: boolean): void {
    this.link = up;
    this.isr |= 2;
    if (this.signals.mode === 'msix' && this.configVector !== NO_VECTOR) this.signals.msix(this.configVector);
    else this.signals.setIntx(true);
  }

  private get ready(): boolean {
    return Boolean(this.status & Status.driverOk);
  }

  private get headerSize(): number {
    return this.driverFeatures & (bit(Feature.version1) | bit(Feature.mergeableRxBuffers)) ? 12 : 10;
  }

  private reset(): void {
    this.status = 0;
    this.driverFeatures = 0n;
    this.configVector = NO_VECTOR;
    this.isr = 0;
    this.heldTransmits = [];
    this.signals.setIntx(false);
    for (const q of this.queues) Object.assign(q, { enabled: false, vector: NO_VECTOR, lastAvailable: 0, usedIndex: 0 });
    this.staleReads = this.resetReads;
  }

  private writeStatus(value: number): void {
    this.statusWrites.push(value);
    if (value === 0) {
      const before = this.status;
      this.reset();
      if (this.staleReads) this.status = before;
      return;
    }
    this.status = value;
    if (value & Status.featuresOk && this.refuseFeatures) this.status &= ~Status.featuresOk;
  }

  private readStatus(): number {
    if (this.staleReads && --this.staleReads === 0) this.status = 0;
    return this.status;
  }

  private setVector(q: Queue, value: number): void {
    q.vector = this.refuseVectors !== 'none' && value !== NO_VECTOR ? NO_VECTOR : value;
  }

  private setConfigVector(value: number): void {
    this.configVector = this.refuseVectors === 'all' && value !== NO_VECTOR ? NO_VECTOR : value;
  }

  private commonRead(offset: number): number {
    const q = this.queues[this.selected];
    switch (offset) {
      case 0x00:
        return this.featureSelect;
      case 0x04:
        return Number((this.features >> BigInt(32 * this.featureSelect)) & 0xffffffffn);
      case 0x08:
        return this.driverFeatureSelect;
      case 0x10:
        return this.configVector;
      case 0x12:
        return this.queues.length;
      case 0x14:
        return this.readStatus();
      case 0x16:
        return this.selected;
      case 0x18:
        return q?.size ?? 0;
      case 0x1a:
        return q?.vector ?? NO_VECTOR;
      case 0x1c:
        return q?.enabled ? 1 : 0;
      case 0x1e:
        return this.selected;
      default:
        return 0;
    }
  }

  private commonWrite(offset: number, value: number): void {
    const q = this.queues[this.selected];
    const setHalf = (field: 'descriptors' | 'available' | 'used', high: boolean) => {
      if (!q) return;
      q[field] = high ? (q[field] % 2 ** 32) + value * 2 ** 32 : Math.floor(q[field] / 2 ** 32) * 2 ** 32 + value;
    };
    switch (offset) {
      case 0x00:
        this.featureSelect = value;
        break;
      case 0x08:
        this.driverFeatureSelect = value;
        break;
      case 0x0c: {
        const shift = BigInt(32 * this.driverFeatureSelect);
        this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(value) << shift);
        break;
      }
      case 0x10:
        this.setConfigVector(value);
        break;
      case 0x14:
        this.writeStatus(value);
        break;
      case 0x16:
        this.selected = value;
        break;
      case 0x18:
        if (q) q.size = value;
        break;
      case 0x1a:
        if (q) this.setVector(q, value);
        break;
      case 0x1c:
        if (q) q.enabled = value === 1;
        break;
      case 0x20:
      case 0x24:
        setHalf('descriptors', offset === 0x24);
        break;
      case 0x28:
      case 0x2c:
        setHalf('available', offset === 0x2c);
        break;
      case 0x30:
      case 0x34:
        setHalf('used', offset === 0x34);
        break;
    }
  }

  private configRead(offset: number, width: number): number {
    const bytes = [...this.mac, this.link ? 1 : 0, 0, 1, 0];
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = value * 256 + (bytes[offset + i] ?? 0);
    return value;
  }

  private legacyRead(offset: number, width: number): number {
    const msix = this.signals.mode === 'msix';
    const q = this.queues[this.selected];
    if (offset === 0x00) return Number(this.features & 0xffffffffn);
    if (offset === 0x0c) return q?.size ?? 0;
    if (offset === 0x0e) return this.selected;
    if (offset === 0x12) return this.readStatus();
    if (offset === 0x13) return this.takeIsr();
    if (msix && offset === 0x14) return this.configVector;
    if (msix && offset === 0x16) return q?.vector ?? NO_VECTOR;
    const config = msix ? 0x18 : 0x14;
    return offset >= config ? this.configRead(offset - config, width) : 0;
  }

  private legacyWrite(offset: number, _width: number, value: number): void {
    const q = this.queues[this.selected];
    if (offset === 0x04) this.driverFeatures = BigInt(value);
    else if (offset === 0x08 && q) {
      // The legacy layout: descriptors, the available ring, the used ring at the next 4 KiB boundary.
      q.descriptors = value * 4096;
      q.available = q.descriptors + 16 * q.size;
      q.used = Math.ceil((q.available + 6 + 2 * q.size) / 4096) * 4096;
      q.enabled = value !== 0;
    } else if (offset === 0x0e) this.selected = value;
    else if (offset === 0x10) this.notify(value);
    else if (offset === 0x12) this.writeStatus(value);
    else if (offset === 0x14) this.setConfigVector(value);
    else if (offset === 0x16 && q) this.setVector(q, value);
  }

  private takeIsr(): number {
    const isr = this.isr;
    this.isr = 0;
    this.signals.setIntx(false);
    return isr;
  }

  private notify(index: number): void {
    this.notifications[index] = (this.notifications[index] ?? 0) + 1;
    if (index !== 1) return;
    const q = this.queues[1]!;
    const old = q.usedIndex;
    let completed = 0;
    while (q.enabled && this.ready && ((this.availableIndex(q) - q.lastAvailable) & 0xffff) > 0) {
      const head = this.takeAvailable(q);
      const bytes: number[] = [];
      for (let id = head, hops = 0; hops < q.size; hops++) {
        const { address, length, flags, next } = this.descriptor(q, id);
        bytes.push(...this.machine.platform.dma(address, length));
        if (!(flags & DESCRIPTOR_NEXT)) break;
        id = next;
      }
      const packet = Uint8Array.from(bytes);
      this.sentHeaders.push(packet.slice(0, this.headerSize));
      this.sent.push(packet.slice(this.headerSize));
      if (this.holdTransmits) this.heldTransmits.push(head);
      else {
        this.pushUsed(q, head, 0);
        completed++;
      }
    }
    if (completed) this.interruptQueue(q, old);
  }

  private availableIndex(q: Queue): number {
    return this.view(q.available, 4).getUint16(2, true);
  }

  private takeAvailable(q: Queue): number {
    const head = this.view(q.available + 4 + 2 * (q.lastAvailable % q.size), 2).getUint16(0, true);
    q.lastAvailable = (q.lastAvailable + 1) & 0xffff;
    // With event indices: a notification is wanted once the driver offers past what was taken.
    if (this.eventIndex) this.view(q.used + 4 + 8 * q.size, 2).setUint16(0, q.lastAvailable, true);
    return head;
  }

  private get eventIndex(): boolean {
    return (this.driverFeatures & bit(Feature.eventIndex)) !== 0n;
  }

  private descriptor(q: Queue, id: number): { address: number; length: number; flags: number; next: number } {
    if (id >= q.size) throw new Error(`virtio-net model: the driver offered descriptor ${id} of ${q.size}`);
    const v = this.view(q.descriptors + 16 * id, 16);
    return {
      address: v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32,
      length: v.getUint32(8, true),
      flags: v.getUint16(12, true),
      next: v.getUint16(14, true),
    };
  }

  private pushUsed(q: Queue, id: number, length: number): void {
    const entry = this.view(q.used + 4 + 8 * (q.usedIndex % q.size), 8);
    entry.setUint32(0, id, true);
    entry.setUint32(4, length, true);
    q.usedIndex = (q.usedIndex + 1) & 0xffff;
    this.view(q.used, 4).setUint16(2, q.usedIndex, true);
  }

  /** Interrupts for the used entries pushed since `old`, unless the driver suppressed it. */
  private interruptQueue(q: Queue, old: number): void {
    if (this.eventIndex) {
      // vring_need_event: the driver's used_event lies in [old, new).
      const event = this.view(q.available + 4 + 2 * q.size, 2).getUint16(0, true);
      if (((q.usedIndex - event - 1) & 0xffff) >= ((q.usedIndex - old) & 0xffff)) return;
    } else if (this.view(q.available, 2).getUint16(0, true) & AVAIL_NO_INTERRUPT) return;
    this.interruptsRaised[this.queues.indexOf(q)]!++;
    if (this.signals.mode === 'msix') {
      if (q.vector !== NO_VECTOR) this.signals.msix(q.vector);
      return;
    }
    this.isr |= 1;
    this.signals.setIntx(true);
  }

  private view(address: number, length: number): DataView {
    const bytes = this.machine.platform.dma(address, length);
    return new DataView(bytes.buffer, bytes.byteOffset, length);
  }
}

function le16(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff];
}

function le32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}
