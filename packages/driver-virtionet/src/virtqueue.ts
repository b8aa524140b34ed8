import { type DmaBuffer, allocateDma } from '@uos/hw';

/** Descriptor flags. */
export const DescriptorFlag = { next: 1, write: 2 } as const;
/** Ring flags: the driver asks for no interrupts (avail), the device for no notifications (used). */
const AVAIL_NO_INTERRUPT = 1;
const USED_NO_NOTIFY = 1;

const DESCRIPTOR = 16;

/**
 * Stores `value` at `array[index]` with a full barrier after it, where the engine has Atomics: with
 * event indices the driver publishes an index and then reads the device's, and that load must not pass
 * the store (x86 reorders a load before an earlier store to another address).
 */
const storeFenced: (array: Uint16Array, index: number, value: number) => void =
  typeof Atomics === 'object'
    ? (array, index, value) => {
        Atomics.store(array, index, value);
      }
    : (array, index, value) => {
        array[index] = value;
      };

/**
 * A split virtqueue (virtio 1.x §2.7) in one page-aligned DMA region, laid out as the legacy interface
 * requires (descriptors, then the available ring, then the used ring at the next 4 KiB boundary), which
 * also satisfies the modern interface. Descriptor i is owned by the driver or by the device; the driver
 * tracks which by the callers' bookkeeping (a free list here).
 *
 * With VIRTIO_RING_F_EVENT_IDX (`eventIndex`), notifications and interrupts are suppressed by indices
 * instead of flags: the device is told which used entry should interrupt (`interruptAt`), and the driver
 * notifies only when the device's available-event index was crossed (`publish`).
 */
export class Virtqueue {
  readonly memory: DmaBuffer;
  readonly descriptorAddress: number;
  readonly availableAddress: number;
  readonly usedAddress: number;
  /** Event indices negotiated (VIRTIO_RING_F_EVENT_IDX); set before the queue is used. */
  eventIndex = false;
  /** Length of the chain `nextUsed` returned last. */
  usedLength = 0;
  /** Used entries naming a chain the device did not hold (device errors), since the queue was made. */
  invalidEntries = 0;
  private readonly availableOffset: number;
  private readonly usedOffset: number;
  /** Typed views of the ring memory (x86 is little-endian, as virtio's rings are). */
  private readonly descriptors32: Uint32Array;
  private readonly descriptors16: Uint16Array;
  /** flags, idx, ring[size], used_event. */
  private readonly available: Uint16Array;
  /** flags, idx. */
  private readonly used16: Uint16Array;
  private readonly used32: Uint32Array;
  /** avail_event, after the used ring's entries. */
  private readonly availableEvent: Uint16Array;
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
    this.availableEvent = new Uint16Array(buffer, base + this.usedOffset + 4 + 8 * size, 1);
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

  /** Returns every descriptor of the chain starting at `head` to the free list (the chain's links as last set). */
  returnChain(head: number): void {
    let id = head;
    for (let hops = 0; hops < this.size; hops++) {
      this.freeDescriptors.push(id);
      if (!(this.descriptors16[id * 8 + 6]! & DescriptorFlag.next)) return;
      id = this.descriptors16[id * 8 + 7]!;
    }
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

  /** Changes the length of descriptor `id` (its buffer stays) and links it to `next`, or ends the chain there (-1). */
  setDescriptorLink(id: number, length: number, next: number): void {
    this.descriptors32[id * 4 + 2] = length;
    const last = next < 0;
    this.descriptors16[id * 8 + 6] = last ? 0 : DescriptorFlag.next;
    this.descriptors16[id * 8 + 7] = last ? 0 : next;
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
    const old = (this.availableIndex - this.pending) & 0xffff;
    this.pending = 0;
    // x86 keeps stores in order, so the ring entries land before the index the device reads.
    if (!this.eventIndex) {
      this.available[1] = this.availableIndex;
      return !(this.used16[0]! & USED_NO_NOTIFY);
    }
    storeFenced(this.available, 1, this.availableIndex);
    // vring_need_event: notify when the device's event index lies in (old, new].
    const event = this.availableEvent[0]!;
    return ((this.availableIndex - event - 1) & 0xffff) < ((this.availableIndex - old) & 0xffff);
  }

  /**
   * The next chain the device returned, or -1 when there is none; its length is in `usedLength`. A used
   * entry naming a chain the device does not hold (out of range, or returned already) is a device error:
   * it is counted in `invalidEntries` and skipped, so a confused device can never hand one buffer out twice.
   */
  nextUsed(): number {
    for (;;) {
      if (this.used16[1] === this.lastUsed) return -1;
      const at = (this.lastUsed & (this.size - 1)) * 2;
      const id = this.used32[at]!;
      this.usedLength = this.used32[at + 1]!;
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
      if (id >= this.size || !this.withDevice[id]) {
        this.invalidEntries++;
        continue;
      }
      this.withDevice[id] = 0;
      return id;
    }
  }

  /**
   * Calls `each(id, length)` for every chain the device returned since the last call; returns how many.
   * Invalid entries (see `nextUsed`) go to `invalid` instead.
   */
  drainUsed(each: (id: number, length: number) => void, invalid: (id: number) => void = () => {}): number {
    let count = 0;
    for (;;) {
      const before = this.invalidEntries;
      const id = this.nextUsed();
      for (let i = before; i < this.invalidEntries; i++) invalid(-1);
      if (id < 0) return count;
      count++;
      each(id, this.usedLength);
    }
  }

  /** Whether the device has returned chains not drained yet. */
  get hasUsed(): boolean {
    return this.used16[1] !== this.lastUsed;
  }

  /** Asks the device not to interrupt for this queue (or to interrupt again); without event indices. */
  setInterrupts(enabled: boolean): void {
    this.available[0] = enabled ? 0 : AVAIL_NO_INTERRUPT;
  }

  /**
   * With event indices: asks for an interrupt once `ahead` more chains than drained so far were returned
   * (1: at the next one). Returns whether chains came back meanwhile (drain them: their interrupt may
   * have been suppressed). Without event indices it only reports that.
   */
  interruptAfter(ahead: number): boolean {
    if (this.eventIndex) storeFenced(this.available, 2 + this.size, (this.lastUsed + ahead - 1) & 0xffff);
    return this.hasUsed;
  }
}
