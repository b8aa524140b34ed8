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
  /** Typed views of the ring memory (x86 is little-endian, as virtio's rings are). */
  private readonly descriptors32: Uint32Array;
  private readonly descriptors16: Uint16Array;
  private readonly available: Uint16Array;
  private readonly used16: Uint16Array;
  private readonly used32: Uint32Array;
  private availableIndex = 0;
  private lastUsed = 0;
  private readonly freeDescriptors: number[] = [];
  /** Per descriptor chain head: 1 while the device holds it (offered, not yet returned). */
  private readonly withDevice: Uint8Array;
  /** Entries added since the last notify. */
  private pending = 0;

  constructor(
    readonly index: number,
    readonly size: number,
  ) {
    if (size < 1 || size > 32768 || size & (size - 1)) throw new RangeError(`virtqueue size ${size} is not a power of two up to 32768`);
    this.availableOffset = size * DESCRIPTOR;
    const availableEnd = this.availableOffset + 6 + 2 * size;
    this.usedOffset = Math.ceil(availableEnd / 4096) * 4096;
    const total = this.usedOffset + Math.ceil((6 + 8 * size) / 4096) * 4096;
    this.memory = allocateDma(total);
    const buffer = this.memory.bytes.buffer;
    const base = this.memory.bytes.byteOffset;
    this.descriptors32 = new Uint32Array(buffer, base, size * 4);
    this.descriptors16 = new Uint16Array(buffer, base, size * 8);
    this.available = new Uint16Array(buffer, base + this.availableOffset, 3 + size);
    this.used16 = new Uint16Array(buffer, base + this.usedOffset, 2);
    this.used32 = new Uint32Array(buffer, base + this.usedOffset + 4, 2 * size);
    this.descriptorAddress = this.memory.address;
    this.availableAddress = this.memory.address + this.availableOffset;
    this.usedAddress = this.memory.address + this.usedOffset;
    for (let i = size - 1; i >= 0; i--) this.freeDescriptors.push(i);
    this.withDevice = new Uint8Array(size);
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
    const at = id * 4;
    this.descriptors32[at] = address % 4294967296;
    this.descriptors32[at + 1] = address > 4294967295 ? Math.floor(address / 4294967296) : 0;
    this.descriptors32[at + 2] = length;
    this.descriptors16[at * 2 + 6] = flags;
    this.descriptors16[at * 2 + 7] = next;
  }

  /** Changes only the length of descriptor `id` (its buffer and flags stay). */
  setDescriptorLength(id: number, length: number): void {
    this.descriptors32[id * 4 + 2] = length;
  }

  /** Offers descriptor chain `head` to the device (visible at the next `publish`). */
  offer(head: number): void {
    this.withDevice[head] = 1;
    this.available[2 + (this.availableIndex & (this.size - 1))] = head;
    this.availableIndex = (this.availableIndex + 1) & 0xffff;
    this.pending++;
  }

  /** Makes offered chains visible to the device; returns whether it wants a notification. */
  publish(): boolean {
    if (!this.pending) return false;
    // x86 keeps stores in order, so the ring entries land before the index the device reads.
    this.available[1] = this.availableIndex;
    this.pending = 0;
    return !(this.used16[0]! & USED_NO_NOTIFY);
  }

  /**
   * Calls `each(id, length)` for every chain the device returned since the last call; returns how many.
   * A used entry naming a chain the device does not hold (out of range, or returned already) is a device
   * error: it goes to `invalid` instead, so a confused device can never hand one buffer out twice.
   */
  drainUsed(each: (id: number, length: number) => void, invalid: (id: number) => void = () => {}): number {
    let count = 0;
    const mask = this.size - 1;
    for (;;) {
      const deviceIndex = this.used16[1]!;
      if (deviceIndex === this.lastUsed) return count;
      while (this.lastUsed !== deviceIndex) {
        const at = (this.lastUsed & mask) * 2;
        const id = this.used32[at]!;
        const length = this.used32[at + 1]!;
        this.lastUsed = (this.lastUsed + 1) & 0xffff;
        if (id >= this.size || !this.withDevice[id]) {
          invalid(id);
          continue;
        }
        this.withDevice[id] = 0;
        count++;
        each(id, length);
      }
    }
  }

  /** Whether the device has returned chains not drained yet. */
  get hasUsed(): boolean {
    return this.used16[1] !== this.lastUsed;
  }

  /** Asks the device not to interrupt for this queue (or to interrupt again). */
  setInterrupts(enabled: boolean): void {
    this.available[0] = enabled ? 0 : AVAIL_NO_INTERRUPT;
  }
}
