import { type DmaBuffer, allocateDma } from '@uos/hw';

/** Descriptor flags. */
export const DescriptorFlag = { next: 1, write: 2 } as const;
/** Ring flags: the driver asks for no interrupts (avail), the device for no notifications (used). */
const AVAIL_NO_INTERRUPT = 1;
const USED_NO_NOTIFY = 1;

const DESCRIPTOR = 16;

/**
 * A split virtqueue (virtio 1.x §2.7) in one page-aligned DMA region, laid out as the legacy interface
 * requires (descriptors, then the available ring, then the used ring at the next 4 KiB boundary), which
 * also satisfies the modern interface. Descriptor i is owned by the driver or by the device; the driver
 * tracks which by the callers' bookkeeping (a free list here).
 */
export class Virtqueue {
  readonly memory: DmaBuffer;
  readonly descriptorAddress: number;
  readonly availableAddress: number;
  readonly usedAddress: number;
  private readonly availableOffset: number;
  private readonly usedOffset: number;
  private readonly view: DataView;
  private availableIndex = 0;
  private lastUsed = 0;
  private readonly freeDescriptors: number[] = [];
  /** Entries added since the last notify. */
  private pending = 0;

  constructor(readonly index: number, readonly size: number) {
    if (size < 1 || size > 32768 || size & (size - 1)) throw new RangeError(`virtqueue size ${size} is not a power of two up to 32768`);
    this.availableOffset = size * DESCRIPTOR;
    const availableEnd = this.availableOffset + 6 + 2 * size;
    this.usedOffset = Math.ceil(availableEnd / 4096) * 4096;
    const total = this.usedOffset + Math.ceil((6 + 8 * size) / 4096) * 4096;
    this.memory = allocateDma(total);
    this.view = this.memory.view;
    this.descriptorAddress = this.memory.address;
    this.availableAddress = this.memory.address + this.availableOffset;
    this.usedAddress = this.memory.address + this.usedOffset;
    for (let i = size - 1; i >= 0; i--) this.freeDescriptors.push(i);
  }

  /** Legacy interface: the queue's page frame number. */
  get pageFrame(): number {
    return this.memory.address / 4096;
  }

  get freeCount(): number {
    return this.freeDescriptors.length;
  }

  /** Takes a free descriptor, or undefined when the device holds them all. */
  takeDescriptor(): number | undefined {
    return this.freeDescriptors.pop();
  }

  returnDescriptor(id: number): void {
    this.freeDescriptors.push(id);
  }

  /** Fills descriptor `id` with one buffer. */
  setDescriptor(id: number, address: number, length: number, flags: number, next = 0): void {
    const at = id * DESCRIPTOR;
    this.view.setUint32(at, address % 2 ** 32, true);
    this.view.setUint32(at + 4, Math.floor(address / 2 ** 32), true);
    this.view.setUint32(at + 8, length, true);
    this.view.setUint16(at + 12, flags, true);
    this.view.setUint16(at + 14, next, true);
  }

  /** Offers descriptor chain `head` to the device (visible at the next `publish`). */
  offer(head: number): void {
    this.view.setUint16(this.availableOffset + 4 + 2 * (this.availableIndex % this.size), head, true);
    this.availableIndex = (this.availableIndex + 1) & 0xffff;
    this.pending++;
  }

  /** Makes offered chains visible to the device; returns whether it wants a notification. */
  publish(): boolean {
    if (!this.pending) return false;
    // x86 keeps stores in order, so the ring entries land before the index the device reads.
    this.view.setUint16(this.availableOffset + 2, this.availableIndex, true);
    this.pending = 0;
    return !(this.view.getUint16(this.usedOffset, true) & USED_NO_NOTIFY);
  }

  /** Calls `each(id, length)` for every chain the device returned since the last call; returns how many. */
  drainUsed(each: (id: number, length: number) => void): number {
    let count = 0;
    for (;;) {
      const deviceIndex = this.view.getUint16(this.usedOffset + 2, true);
      if (deviceIndex === this.lastUsed) return count;
      while (this.lastUsed !== deviceIndex) {
        const at = this.usedOffset + 4 + 8 * (this.lastUsed % this.size);
        const id = this.view.getUint32(at, true);
        const length = this.view.getUint32(at + 4, true);
        this.lastUsed = (this.lastUsed + 1) & 0xffff;
        count++;
        each(id, length);
      }
    }
  }

  /** Whether the device has returned chains not drained yet. */
  get hasUsed(): boolean {
    return this.view.getUint16(this.usedOffset + 2, true) !== this.lastUsed;
  }

  /** Asks the device not to interrupt for this queue (or to interrupt again). */
  setInterrupts(enabled: boolean): void {
    this.view.setUint16(this.availableOffset, enabled ? 0 : AVAIL_NO_INTERRUPT, true);
  }
}
