import { DmaPool, type FrameInfo, GsoType } from '@uos/hw';
import type { Virtqueue } from './virtqueue.js';

/** Bytes of each transmit slot; a frame longer than one slot (a TSO segment) goes as a chain of them. */
export const TRANSMIT_SLOT_SIZE = 2048;
/** virtio_net_hdr flags. */
const NEEDS_CSUM = 1;

/**
 * The transmit half of a virtio-net device: descriptor i always points at slot i. A frame is copied
 * behind its virtio_net_hdr into as many free slots as it needs, linked into one chain; the device
 * returns the chain's head and all its slots come back. The header carries the checksum and segmentation
 * requests of the frame's `FrameInfo` (only what was negotiated: the driver checks before).
 */
export class TransmitRing {
  private readonly slots: DmaPool;

  constructor(
    private readonly queue: Virtqueue,
    /** Bytes of virtio-net header before each frame. */
    readonly headerSize: number,
  ) {
    this.slots = new DmaPool(TRANSMIT_SLOT_SIZE, queue.size);
    for (let id = 0; id < queue.size; id++) queue.setDescriptor(id, this.slots.buffer(id).address, 0, 0);
  }

  /** Slots a frame of `length` bytes needs. */
  slotsFor(length: number): number {
    return Math.ceil((this.headerSize + length) / TRANSMIT_SLOT_SIZE);
  }

  /**
   * Copies `frame` with its header into `count` free slots (`slotsFor`; the caller checked they are free)
   * and offers the chain. `info` undefined: nothing offloaded.
   */
  put(frame: Uint8Array, info: FrameInfo | undefined, count: number): void {
    const queue = this.queue;
    const head = queue.takeDescriptor()!;
    const first = this.slots.buffer(head).bytes;
    this.writeHeader(first, info);
    // One slot (every frame up to the MTU): the whole frame, no Math.min call.
    let taken = count === 1 ? frame.length : Math.min(frame.length, TRANSMIT_SLOT_SIZE - this.headerSize);
    first.set(taken === frame.length ? frame : frame.subarray(0, taken), this.headerSize);
    let id = head;
    let length = this.headerSize + taken;
    for (let i = 1; i < count; i++) {
      const next = queue.takeDescriptor()!;
      queue.setDescriptorLink(id, length, next);
      const part = Math.min(frame.length - taken, TRANSMIT_SLOT_SIZE);
      this.slots.buffer(next).bytes.set(frame.subarray(taken, taken + part), 0);
      taken += part;
      id = next;
      length = part;
    }
    queue.setDescriptorLink(id, length, -1);
    queue.offer(head);
  }

  /** Frees the chains the device is done with; returns how many. */
  reclaim(): number {
    const queue = this.queue;
    let chains = 0;
    for (;;) {
      const head = queue.nextUsed();
      if (head < 0) return chains;
      queue.returnChain(head);
      chains++;
    }
  }

  private writeHeader(slot: Uint8Array, info: FrameInfo | undefined): void {
    slot.fill(0, 0, this.headerSize);
    if (!info) return;
    if (info.checksumStart >= 0) {
      slot[0] = NEEDS_CSUM;
      slot[6] = info.checksumStart & 0xff;
      slot[7] = info.checksumStart >>> 8;
      slot[8] = info.checksumOffset & 0xff;
      slot[9] = info.checksumOffset >>> 8;
    }
    if (info.gsoType !== GsoType.none) {
      slot[1] = info.gsoType;
      slot[2] = info.headerLength & 0xff;
      slot[3] = info.headerLength >>> 8;
      slot[4] = info.gsoSize & 0xff;
      slot[5] = info.gsoSize >>> 8;
    }
  }
}
