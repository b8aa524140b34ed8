import { type DmaBuffer, type FrameInfo, GsoType, allocateDma } from '@uos/hw';
import { DescriptorFlag, type Virtqueue } from './virtqueue.js';

/** Bytes of each receive buffer. */
export const RECEIVE_BUFFER_SIZE = 2048;
const ETHERNET_HEADER = 14;
/** A coalesced segment is at most 64 KiB plus headers: 33 buffers of 2 KiB; a frame naming more is refused. */
const MAX_PARTS = 48;
/** virtio_net_hdr flags. */
const NEEDS_CSUM = 1;
const DATA_VALID = 2;
/** virtio_net_hdr gso_type without its ECN bit. */
const GSO_TYPE_MASK = 0x7f;

/** Why a frame was dropped, for the driver's counters. */
export type ReceiveDrop = 'too-long' | 'too-short' | 'bad-count';

/**
 * The receive half of a virtio-net device: the buffers, all in one DMA region (descriptor i is always
 * buffer i at i × 2 KiB, so buffers with consecutive numbers are adjacent in memory), kept offered; and
 * frames taken from the used ring, in one pass per interrupt.
 *
 * With mergeable buffers a frame larger than one buffer (a coalesced TCP segment) spans several: the
 * device fills each completely before the next and takes them in the order they were offered. The
 * buffers are offered again in the order they were used, so a frame's buffers are consecutive and
 * adjacent and it is handed on as one view of the region, without a copy; only a frame that wraps from
 * the last buffer to the first is copied (into one reused scratch buffer).
 */
export class ReceiveRing {
  private readonly region: DmaBuffer;
  private readonly scratch: Uint8Array;
  /** Buffers of the frame being gathered (its header in the first). */
  private readonly parts: Uint16Array = new Uint16Array(MAX_PARTS);
  private readonly lengths: Uint16Array = new Uint16Array(MAX_PARTS);
  private partCount = 0;
  /** Buffers the frame being gathered still needs (0: none is being gathered). */
  private partsLeft = 0;
  /** The frame being gathered is dropped once all its buffers are in. */
  private discarding = false;

  constructor(
    private readonly queue: Virtqueue,
    private readonly headerSize: number,
    private readonly mergeable: boolean,
    private readonly maxFrame: number,
  ) {
    this.region = allocateDma(queue.size * RECEIVE_BUFFER_SIZE);
    this.scratch = mergeable ? new Uint8Array(MAX_PARTS * RECEIVE_BUFFER_SIZE) : new Uint8Array(0);
    for (let id = 0; id < queue.size; id++) {
      queue.takeDescriptor();
      queue.setDescriptor(id, this.region.address + id * RECEIVE_BUFFER_SIZE, RECEIVE_BUFFER_SIZE, DescriptorFlag.write);
      queue.offer(id);
    }
  }

  /**
   * Hands every complete frame the device returned to `deliver` (the view and `info` valid during the
   * call), gives the buffers back (not yet published) and returns how many frames were delivered. A frame
   * still missing buffers stays gathered for the next call.
   */
  take(info: FrameInfo, deliver: (frame: Uint8Array, info: FrameInfo) => void, dropped: (why: ReceiveDrop) => void): number {
    const queue = this.queue;
    const bytes = this.region.bytes;
    let frames = 0;
    for (;;) {
      const id = queue.nextUsed();
      if (id < 0) return frames;
      const length = queue.usedLength;
      if (this.partsLeft === 0) {
        const at = id * RECEIVE_BUFFER_SIZE;
        if (length > RECEIVE_BUFFER_SIZE) {
          dropped('too-long');
          queue.offer(id);
          continue;
        }
        if (length < this.headerSize + ETHERNET_HEADER) {
          dropped('too-short');
          queue.offer(id);
          continue;
        }
        const count = this.mergeable ? bytes[at + 10]! | (bytes[at + 11]! << 8) : 1;
        this.readHeader(at, info);
        if (count <= 1) {
          deliver(bytes.subarray(at + this.headerSize, at + length), info);
          frames++;
          queue.offer(id);
          continue;
        }
        this.discarding = count > MAX_PARTS;
        if (this.discarding) dropped('bad-count');
        this.partCount = 0;
        this.partsLeft = count;
      }
      if (length > RECEIVE_BUFFER_SIZE && !this.discarding) {
        dropped('too-long');
        this.discarding = true;
      }
      if (this.partCount < MAX_PARTS) {
        this.parts[this.partCount] = id;
        this.lengths[this.partCount] = length;
      }
      this.partCount++;
      if (--this.partsLeft > 0) continue;
      if (!this.discarding && this.deliverGathered(info, deliver)) frames++;
      const kept = Math.min(this.partCount, MAX_PARTS);
      for (let i = 0; i < kept; i++) queue.offer(this.parts[i]!);
      this.discarding = false;
      this.partCount = 0;
    }
  }

  /** The frame in `parts`: one view when its buffers are adjacent and full, else a copy into `scratch`. */
  private deliverGathered(info: FrameInfo, deliver: (frame: Uint8Array, info: FrameInfo) => void): boolean {
    const bytes = this.region.bytes;
    const count = this.partCount;
    const first = this.parts[0]!;
    let total = -this.headerSize;
    let adjacent = true;
    for (let i = 0; i < count; i++) {
      total += this.lengths[i]!;
      if (i < count - 1 && this.lengths[i] !== RECEIVE_BUFFER_SIZE) adjacent = false;
      if (this.parts[i] !== first + i) adjacent = false;
    }
    this.readHeader(first * RECEIVE_BUFFER_SIZE, info);
    if (total < ETHERNET_HEADER || total > this.maxFrame) return false;
    if (adjacent) {
      const start = first * RECEIVE_BUFFER_SIZE + this.headerSize;
      deliver(bytes.subarray(start, start + total), info);
      return true;
    }
    let at = 0;
    for (let i = 0; i < count; i++) {
      const from = this.parts[i]! * RECEIVE_BUFFER_SIZE + (i === 0 ? this.headerSize : 0);
      const to = this.parts[i]! * RECEIVE_BUFFER_SIZE + this.lengths[i]!;
      this.scratch.set(bytes.subarray(from, to), at);
      at += to - from;
    }
    deliver(this.scratch.subarray(0, total), info);
    return true;
  }

  /** The offload fields of the virtio_net_hdr at `at` into `info`. */
  private readHeader(at: number, info: FrameInfo): void {
    const b = this.region.bytes;
    const flags = b[at]!;
    const gso = b[at + 1]! & GSO_TYPE_MASK;
    if (flags === 0 && gso === 0) {
      // Nothing offloaded (ICMP, ARP, a device without offloads): the other fields are not read.
      info.checksumValid = false;
      info.checksumStart = -1;
      info.checksumOffset = 0;
      info.gsoType = GsoType.none;
      info.gsoSize = 0;
      info.headerLength = 0;
      return;
    }
    info.checksumValid = (flags & (NEEDS_CSUM | DATA_VALID)) !== 0;
    info.checksumStart = flags & NEEDS_CSUM ? b[at + 6]! | (b[at + 7]! << 8) : -1;
    info.checksumOffset = flags & NEEDS_CSUM ? b[at + 8]! | (b[at + 9]! << 8) : 0;
    info.gsoType = gso === GsoType.tcp4 || gso === GsoType.tcp6 ? gso : GsoType.none;
    info.gsoSize = info.gsoType ? b[at + 4]! | (b[at + 5]! << 8) : 0;
    info.headerLength = info.gsoType ? b[at + 2]! | (b[at + 3]! << 8) : 0;
  }
}
